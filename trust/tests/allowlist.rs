//! Signed allowlists and keysets: signing, verification, freshness and key rotation.

#![expect(clippy::unwrap_used, reason = "tests")]

use aws_lc_rs::signature::Ed25519KeyPair;
use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use mcpreg_api::allowlist::{
    ALLOWLIST_DOCUMENT_TYPE, AllowedPackage, AllowlistDocument, AllowlistEntry, DocumentSignature,
    KEYSET_DOCUMENT_TYPE, KeySet, KeyStatus, SignedAllowlist, Transport,
};
use mcpreg_api::{ServerName, Status, Version};
use mcpreg_trust::{
    AllowlistError, AllowlistPublicKey, AllowlistSigningKey, canonical_json, check_fresh,
    check_subject, verify_allowlist, verify_allowlist_json, verify_keyset,
    verify_keyset_first_use_json, verify_keyset_json,
};
use serde_json::{Value, json};

const REGISTRY: &str = "https://mcp.acme.example";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn key() -> AllowlistSigningKey {
    AllowlistSigningKey::generate().unwrap()
}

fn document(version: u64) -> AllowlistDocument {
    AllowlistDocument {
        document_type: ALLOWLIST_DOCUMENT_TYPE.into(),
        allowlist: "platform".into(),
        registry: REGISTRY.into(),
        version,
        issued_at: t0(),
        expires_at: t0() + Duration::hours(24),
        entries: vec![AllowlistEntry {
            name: ServerName::parse("com.acme/github").unwrap(),
            version: Version::parse("1.4.2").unwrap(),
            status: Status::Active,
            transports: vec![Transport::Stdio],
            remotes: vec![],
            packages: vec![AllowedPackage {
                registry_type: "npm".into(),
                identifier: "@acme/github-mcp".into(),
                version: "1.4.2".into(),
                digest: None,
            }],
            signers: vec![],
            tools_pin: None,
        }],
    }
}

fn to_json(v: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn code(r: Result<impl std::fmt::Debug, AllowlistError>) -> &'static str {
    r.unwrap_err().code()
}

fn keyset(version: u64, keys: &[(&AllowlistSigningKey, KeyStatus)]) -> KeySet {
    KeySet {
        document_type: KEYSET_DOCUMENT_TYPE.into(),
        version,
        issued_at: t0(),
        keys: keys
            .iter()
            .map(|(k, s)| k.public_key().clone().with_status(*s).to_published())
            .collect(),
    }
}

#[test]
fn a_signed_document_verifies_with_its_key() {
    let k = key();
    let signed = k.sign(&document(3));
    let trusted = [k.public_key().clone()];
    assert_eq!(verify_allowlist(&signed, &trusted).unwrap(), document(3));
    assert_eq!(
        verify_allowlist_json(&to_json(&signed), &trusted).unwrap(),
        document(3)
    );
    // Key order and whitespace do not matter: the signature is over the canonical form.
    let pretty = serde_json::to_vec_pretty(&serde_json::to_value(&signed).unwrap()).unwrap();
    assert!(verify_allowlist_json(&pretty, &trusted).is_ok());
}

#[test]
fn a_tampered_entry_is_refused() {
    let k = key();
    let mut signed = k.sign(&document(3));
    signed.signed.entries[0].packages[0].version = "1.4.3".into();
    let e = verify_allowlist(&signed, &[k.public_key().clone()]).unwrap_err();
    assert_eq!(e.code(), "signature_invalid");
    assert!(e.to_string().contains("changed after it was signed"), "{e}");

    let mut later = k.sign(&document(3));
    later.signed.expires_at += Duration::days(365);
    assert_eq!(
        code(verify_allowlist(&later, &[k.public_key().clone()])),
        "signature_invalid"
    );
}

#[test]
fn a_document_signed_by_another_key_is_refused() {
    let signed = key().sign(&document(3));
    let e = verify_allowlist(&signed, &[key().public_key().clone()]).unwrap_err();
    assert_eq!(e.code(), "no_trusted_signature");
    assert!(e.to_string().contains("--key"), "{e}");
    assert_eq!(code(verify_allowlist(&signed, &[])), "no_trusted_signature");
}

#[test]
fn a_signature_by_a_retired_key_does_not_count() {
    let k = key();
    let signed = k.sign(&document(3));
    let retired = k.public_key().clone().with_status(KeyStatus::Retired);
    assert_eq!(code(verify_allowlist(&signed, &[retired])), "key_retired");
}

#[test]
fn signatures_by_unknown_keys_are_ignored() {
    let (stranger, k) = (key(), key());
    let mut signed = stranger.sign(&document(3));
    k.countersign(&mut signed);
    // And one by an unknown key that is garbage.
    signed.signatures.push(DocumentSignature {
        key_id: "sha256:unknown".into(),
        sig: "not base64 at all".into(),
    });
    assert!(verify_allowlist(&signed, &[k.public_key().clone()]).is_ok());
}

#[test]
fn malformed_or_missing_signatures_are_never_accepted() {
    let k = key();
    let trusted = [k.public_key().clone()];
    let mut signed = k.sign(&document(3));
    for bad in [
        "",
        "AAAA",
        "%%%",
        &base64::engine::general_purpose::STANDARD.encode([0u8; 64]),
    ] {
        signed.signatures[0].sig = bad.into();
        assert_eq!(
            code(verify_allowlist(&signed, &trusted)),
            "signature_invalid",
            "{bad:?}"
        );
    }
    // A bad signature by a trusted key fails even when another trusted key signed correctly.
    let other = key();
    let mut both = other.sign(&document(3));
    k.countersign(&mut both);
    both.signatures[1].sig = "AAAA".into();
    assert_eq!(
        code(verify_allowlist(
            &both,
            &[other.public_key().clone(), k.public_key().clone()]
        )),
        "signature_invalid"
    );
    // No signatures at all.
    let unsigned = SignedAllowlist {
        signed: document(3),
        signatures: vec![],
    };
    assert_eq!(
        code(verify_allowlist(&unsigned, &trusted)),
        "no_trusted_signature"
    );
    let e =
        verify_allowlist_json(br#"{"signed": {}, "signatures": "none"}"#, &trusted).unwrap_err();
    assert_eq!(e.code(), "malformed");
}

#[test]
fn fields_this_version_does_not_know_still_verify_from_json() {
    let k = key();
    let mut signed = serde_json::to_value(k.sign(&document(3))).unwrap();
    signed["signed"]["futureField"] = json!({"x": 1});
    signed["signed"]["entries"][0]["futureEntryField"] = json!(true);
    // Re-sign the changed JSON as a newer registry would.
    let pem = pem::parse(k.to_pkcs8_pem().unwrap()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pem.contents()).unwrap();
    let sig = pair.sign(&canonical_json(&signed["signed"]));
    signed["signatures"] = json!([{
        "keyId": k.key_id(),
        "sig": base64::engine::general_purpose::STANDARD.encode(sig.as_ref()),
    }]);
    let doc = verify_allowlist_json(&to_json(&signed), &[k.public_key().clone()]).unwrap();
    assert_eq!(doc.version, 3);
}

#[test]
fn another_document_type_is_refused() {
    let k = key();
    let ks = k.sign_keyset(&keyset(1, &[(&k, KeyStatus::Active)]));
    let e = verify_allowlist_json(&to_json(&ks), &[k.public_key().clone()]).unwrap_err();
    assert_eq!(e.code(), "wrong_type");
    let mut other = document(3);
    other.document_type = "mcpreg.allowlist.v2".into();
    assert_eq!(
        code(verify_allowlist(&k.sign(&other), &[k.public_key().clone()])),
        "wrong_type"
    );
}

#[test]
fn a_bad_digest_in_a_signed_document_names_its_path() {
    let k = key();
    let mut doc = document(3);
    doc.entries[0].packages[0].digest = Some("sha256:123".into());
    let e = verify_allowlist(&k.sign(&doc), &[k.public_key().clone()]).unwrap_err();
    assert_eq!(e.code(), "malformed");
    assert!(
        e.to_string()
            .contains("$.signed.entries[0].packages[0].digest"),
        "{e}"
    );
}

#[test]
fn rollback_is_refused_and_the_same_version_is_not() {
    let now = t0() + Duration::hours(1);
    assert!(check_fresh(&document(5), None, now).is_ok());
    assert!(check_fresh(&document(5), Some(5), now).is_ok());
    assert!(check_fresh(&document(6), Some(5), now).is_ok());
    let e = check_fresh(&document(4), Some(5), now).unwrap_err();
    assert_eq!(e.code(), "rollback");
    assert!(
        e.to_string().contains("version 4 is older than version 5"),
        "{e}"
    );
}

#[test]
fn an_expired_document_is_refused() {
    let doc = document(5);
    assert!(check_fresh(&doc, None, doc.expires_at - Duration::seconds(1)).is_ok());
    let e = check_fresh(&doc, None, doc.expires_at).unwrap_err();
    assert_eq!(e.code(), "expired");
    assert!(
        e.to_string().contains("mcpreg allowlist pull platform"),
        "{e}"
    );
}

#[test]
fn a_document_for_another_allowlist_or_registry_is_refused() {
    let doc = document(5);
    assert!(check_subject(&doc, "platform", Some("HTTPS://MCP.acme.example:443/")).is_ok());
    assert!(check_subject(&doc, "platform", None).is_ok());
    assert_eq!(
        code(check_subject(&doc, "security", None)),
        "wrong_allowlist"
    );
    assert_eq!(
        code(check_subject(
            &doc,
            "platform",
            Some("https://evil.example")
        )),
        "wrong_allowlist"
    );
}

#[test]
fn rotation_is_learned_from_a_keyset_signed_by_the_pinned_key() {
    let (old, new) = (key(), key());
    let pinned = vec![old.public_key().clone()];
    // v2: the new key is active, the old one retired; signed by both.
    let mut ks = new.sign_keyset(&keyset(
        2,
        &[(&old, KeyStatus::Retired), (&new, KeyStatus::Active)],
    ));
    old.countersign_keyset(&mut ks);
    let learned = verify_keyset_json(&to_json(&ks), &pinned, Some(1)).unwrap();
    assert_eq!(learned.version, 2);
    let keys = mcpreg_trust::keyset_keys(&learned).unwrap();
    assert_eq!(keys.len(), 2);
    // Documents signed with the new key now verify; the old key's no longer count.
    assert!(verify_allowlist(&new.sign(&document(9)), &keys).is_ok());
    assert_eq!(
        code(verify_allowlist(&old.sign(&document(9)), &keys)),
        "key_retired"
    );
    // The same keyset again is fine.
    assert!(verify_keyset(&ks, &keys, Some(2)).is_ok());
}

#[test]
fn a_keyset_not_signed_by_a_pinned_key_is_refused() {
    let (old, new) = (key(), key());
    let pinned = vec![old.public_key().clone()];
    let only_new = new.sign_keyset(&keyset(2, &[(&new, KeyStatus::Active)]));
    assert_eq!(
        code(verify_keyset_json(&to_json(&only_new), &pinned, Some(1))),
        "no_trusted_signature"
    );
    // Signed by the pinned key, but older than what is pinned.
    let old_ks = old.sign_keyset(&keyset(1, &[(&old, KeyStatus::Active)]));
    assert_eq!(
        code(verify_keyset(&old_ks, &pinned, Some(2))),
        "keyset_rollback"
    );
    // A pinned key that is itself retired cannot vouch for a new keyset.
    let retired = vec![old.public_key().clone().with_status(KeyStatus::Retired)];
    let ks = old.sign_keyset(&keyset(3, &[(&old, KeyStatus::Active)]));
    assert_eq!(code(verify_keyset(&ks, &retired, Some(1))), "key_retired");
}

#[test]
fn a_keyset_on_first_use_must_be_signed_by_its_own_active_key() {
    let (k, stranger) = (key(), key());
    let ks = k.sign_keyset(&keyset(1, &[(&k, KeyStatus::Active)]));
    assert_eq!(
        verify_keyset_first_use_json(&to_json(&ks)).unwrap().version,
        1
    );
    let foreign = stranger.sign_keyset(&keyset(1, &[(&k, KeyStatus::Active)]));
    assert_eq!(
        code(verify_keyset_first_use_json(&to_json(&foreign))),
        "no_trusted_signature"
    );
    // A published key whose ID is not its own is refused.
    let mut lying = keyset(1, &[(&k, KeyStatus::Active)]);
    lying.keys[0].key_id = stranger.key_id();
    let signed: Value = serde_json::to_value(k.sign_keyset(&lying)).unwrap();
    let e = verify_keyset_first_use_json(&to_json(&signed)).unwrap_err();
    assert_eq!(e.code(), "malformed");
    assert!(e.to_string().contains("$.signed.keys[0]"), "{e}");
    // A keyset with no active key.
    let none = k.sign_keyset(&keyset(1, &[(&k, KeyStatus::Retired)]));
    assert_eq!(
        code(verify_keyset_first_use_json(&to_json(&none))),
        "malformed"
    );
}

#[test]
fn every_error_has_a_stable_code() {
    let k = key();
    let e = verify_allowlist_json(b"nope", &[k.public_key().clone()]).unwrap_err();
    assert_eq!(e.code(), "malformed");
    assert_eq!(
        AllowlistPublicKey::parse("AAAA").unwrap_err().code(),
        "bad_key"
    );
}
