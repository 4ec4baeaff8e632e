//! Key-based signatures (`application/vnd.mcpreg.signature.v1+json`) with ECDSA P-256 and Ed25519
//! keys, including keys and signatures made by OpenSSL (see `tests/fixtures/README.md`).

use crate::util::{fixture, now, staging};
use mcpreg_trust::{
    KEY_SIGNATURE_MEDIA_TYPE, KeyKind, KeySignature, PublicKey, Sha256Digest, SignatureKind,
    SignedSubject, Signer, SignerPolicy, SignerPolicyError, SigningKey, TrustRoot, VerifyError,
    server_json_digest, verify_bundle,
};

fn policy_with(keys: &[&PublicKey]) -> SignerPolicy {
    keys.iter()
        .fold(SignerPolicy::new(), |p, k| p.with_key((*k).clone()))
}

fn check(
    signature: &[u8],
    subject: SignedSubject<'_>,
    policy: &SignerPolicy,
) -> Result<mcpreg_trust::VerifiedSignature, VerifyError> {
    // Key signatures need no trust root; any root will do.
    verify_bundle(signature, subject, policy, &TrustRoot::production(), now())
}

fn openssl_key(kind: &str) -> (SigningKey, PublicKey) {
    let text = |ext: &str| {
        String::from_utf8(fixture(&format!("keys/{kind}.{ext}"))).expect("a PEM file is text")
    };
    let key = SigningKey::from_pkcs8_pem(&text("key")).expect("OpenSSL's PKCS#8 key loads");
    let public = PublicKey::from_pem(&text("pub")).expect("OpenSSL's public key loads");
    assert_eq!(
        key.public_key(),
        &public,
        "{kind}: the .pub is the key's public half"
    );
    (key, public)
}

#[test]
fn both_key_types_sign_and_verify_from_bytes_and_from_digest() {
    let artifact = b"an mcpb bundle";
    for kind in [KeyKind::EcdsaP256, KeyKind::Ed25519] {
        let key = SigningKey::generate(kind).unwrap();
        let sig = key.sign_digest(&Sha256Digest::of_bytes(artifact)).unwrap();
        assert_eq!(sig.media_type, KEY_SIGNATURE_MEDIA_TYPE);
        assert_eq!(sig.key_id, key.public_key().key_id());
        let json = sig.to_json();
        let policy = policy_with(&[key.public_key()]);
        for subject in [
            SignedSubject::Bytes(artifact),
            SignedSubject::Digest(Sha256Digest::of_bytes(artifact)),
        ] {
            let v = check(json.as_bytes(), subject, &policy).unwrap();
            assert_eq!(
                v.signer,
                Signer::Key {
                    key_id: key.public_key().key_id(),
                    algorithm: kind,
                }
            );
            assert_eq!(v.kind, SignatureKind::MessageSignature);
            assert_eq!(v.media_type, KEY_SIGNATURE_MEDIA_TYPE);
            assert_eq!(v.signed_at, None);
            assert!(v.log_entries.is_empty());
        }
    }
}

#[test]
fn openssl_keys_load_and_openssl_signatures_verify() {
    let artifact = fixture("keys/artifact.txt");
    for kind in ["p256", "ed25519"] {
        let (key, public) = openssl_key(kind);
        let policy = policy_with(&[&public]);
        // A signature made by `openssl pkeyutl` / `openssl dgst` over the documented message.
        let by_openssl = fixture(&format!("keys/artifact.txt.{kind}.openssl.sig.json"));
        let v = check(&by_openssl, SignedSubject::Bytes(&artifact), &policy).unwrap();
        assert!(matches!(v.signer, Signer::Key { ref key_id, .. } if *key_id == public.key_id()));
        // And ours, with the same key.
        let ours = key.sign_digest(&Sha256Digest::of_bytes(&artifact)).unwrap();
        check(
            ours.to_json().as_bytes(),
            SignedSubject::Bytes(&artifact),
            &policy,
        )
        .unwrap();
        // The documented key ID: SHA-256 of the DER SubjectPublicKeyInfo.
        let parsed = KeySignature::from_json(&by_openssl).unwrap();
        assert_eq!(parsed.key_id, public.key_id());
        assert_eq!(
            KeySignature::signed_message(&parsed.digest).len(),
            10 + 40 + 1 + 3 + 71
        );
    }
}

#[test]
fn signature_from_another_key_is_a_key_mismatch_naming_the_key() {
    let artifact = b"server.tgz";
    for (signer_kind, trusted_kind) in [
        (KeyKind::EcdsaP256, KeyKind::EcdsaP256),
        (KeyKind::Ed25519, KeyKind::Ed25519),
        (KeyKind::Ed25519, KeyKind::EcdsaP256),
        (KeyKind::EcdsaP256, KeyKind::Ed25519),
    ] {
        let signer = SigningKey::generate(signer_kind).unwrap();
        let trusted = SigningKey::generate(trusted_kind).unwrap();
        let sig = signer
            .sign_digest(&Sha256Digest::of_bytes(artifact))
            .unwrap();
        let err = check(
            sig.to_json().as_bytes(),
            SignedSubject::Bytes(artifact),
            &policy_with(&[trusted.public_key()]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            VerifyError::KeyMismatch {
                found_key: signer.public_key().key_id(),
                trusted_keys: vec![trusted.public_key().key_id()],
            }
        );
        assert!(err.to_string().contains("key check failed"));
        // Lying about the key ID does not help.
        let mut forged = sig.clone();
        forged.key_id = trusted.public_key().key_id();
        let err = check(
            forged.to_json().as_bytes(),
            SignedSubject::Bytes(artifact),
            &policy_with(&[trusted.public_key()]),
        )
        .unwrap_err();
        assert_eq!(err.code(), "key_mismatch");
    }
    // No trusted key at all.
    let signer = SigningKey::generate(KeyKind::Ed25519).unwrap();
    let sig = signer
        .sign_digest(&Sha256Digest::of_bytes(artifact))
        .unwrap();
    let err = check(
        sig.to_json().as_bytes(),
        SignedSubject::Bytes(artifact),
        &SignerPolicy::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("none configured"), "{err}");
}

#[test]
fn the_right_key_among_several_is_found() {
    let a = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let b = SigningKey::generate(KeyKind::Ed25519).unwrap();
    let sig = b.sign_digest(&Sha256Digest::of_bytes(b"x")).unwrap();
    let v = check(
        sig.to_json().as_bytes(),
        SignedSubject::Bytes(b"x"),
        &policy_with(&[a.public_key(), b.public_key()]),
    )
    .unwrap();
    assert!(matches!(
        v.signer,
        Signer::Key {
            algorithm: KeyKind::Ed25519,
            ..
        }
    ));
}

#[test]
fn tampered_artifact_and_forged_digest_fail() {
    let key = SigningKey::generate(KeyKind::Ed25519).unwrap();
    let policy = policy_with(&[key.public_key()]);
    let sig = key
        .sign_digest(&Sha256Digest::of_bytes(b"original"))
        .unwrap();
    let err = check(
        sig.to_json().as_bytes(),
        SignedSubject::Bytes(b"tampered"),
        &policy,
    )
    .unwrap_err();
    assert_eq!(
        err,
        VerifyError::ArtifactDigestMismatch {
            signed: Sha256Digest::of_bytes(b"original").to_string(),
            artifact: Sha256Digest::of_bytes(b"tampered"),
        }
    );
    // Pointing the signature at the tampered artifact breaks the signature instead.
    let mut forged = sig;
    forged.digest = Sha256Digest::of_bytes(b"tampered");
    let err = check(
        forged.to_json().as_bytes(),
        SignedSubject::Bytes(b"tampered"),
        &policy,
    )
    .unwrap_err();
    assert_eq!(err.code(), "key_mismatch", "{err}");
}

#[test]
fn server_json_digest_can_be_signed() {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let server_json = serde_json::json!({
        "name": "com.acme/github",
        "version": "1.4.2",
        "packages": [{"registryType": "npm", "identifier": "@acme/github-mcp", "version": "1.4.2"}],
    });
    let digest = server_json_digest(&server_json);
    let sig = key.sign_digest(&digest).unwrap();
    let policy = policy_with(&[key.public_key()]);
    check(
        sig.to_json().as_bytes(),
        SignedSubject::Digest(digest),
        &policy,
    )
    .unwrap();
    let mut changed = server_json.clone();
    changed["version"] = serde_json::json!("1.4.3");
    let err = check(
        sig.to_json().as_bytes(),
        SignedSubject::Digest(server_json_digest(&changed)),
        &policy,
    )
    .unwrap_err();
    assert_eq!(err.code(), "artifact_digest_mismatch");
}

#[test]
fn malformed_key_signatures_are_refused() {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let policy = policy_with(&[key.public_key()]);
    let good: serde_json::Value = serde_json::from_str(
        &key.sign_digest(&Sha256Digest::of_bytes(b"x"))
            .unwrap()
            .to_json(),
    )
    .unwrap();
    let mut extra = good.clone();
    extra["comment"] = serde_json::json!("unknown fields are refused");
    let mut bad_digest = good.clone();
    bad_digest["digest"] = serde_json::json!("md5:abc");
    let mut not_base64 = good.clone();
    not_base64["signature"] = serde_json::json!("!!!");
    let mut no_signature = good.clone();
    no_signature.as_object_mut().unwrap().remove("signature");
    for (doc, code) in [
        (extra, "malformed_bundle"),
        (bad_digest, "malformed_bundle"),
        (no_signature, "malformed_bundle"),
        (not_base64, "key_mismatch"),
    ] {
        let err = check(
            &serde_json::to_vec(&doc).unwrap(),
            SignedSubject::Bytes(b"x"),
            &policy,
        )
        .unwrap_err();
        assert_eq!(err.code(), code, "{doc}: {err}");
    }
}

#[test]
fn unsupported_public_keys_are_refused() {
    let p384 = std::str::from_utf8(&fixture("keys/p384.pub"))
        .unwrap()
        .to_string();
    let err = PublicKey::from_pem(&p384).unwrap_err();
    assert!(matches!(err, SignerPolicyError::BadKey { .. }));
    assert!(err.to_string().contains("not supported"), "{err}");
    // A private key is not a public key.
    let err =
        PublicKey::from_pem(std::str::from_utf8(&fixture("keys/p256.key")).unwrap()).unwrap_err();
    assert!(matches!(err, SignerPolicyError::BadKey { .. }), "{err}");
}

/// Why `mcpreg sign` does not write a sigstore bundle: sigstore-verify refuses a key-based
/// bundle that has neither a transparency log entry nor an RFC 3161 timestamp, and a site
/// without Sigstore has neither. (Logged cosign key-based bundles are accepted with the same
/// policy keys.)
#[test]
fn unlogged_key_based_sigstore_bundle_is_refused() {
    use base64::Engine as _;
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let artifact = b"artifact";
    let digest = Sha256Digest::of_bytes(artifact);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    // A real ECDSA-SHA256 signature over the artifact, as cosign sign-blob --key makes it.
    let sig = key.sign_digest(&digest).unwrap();
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": key.public_key().key_id()}, "tlogEntries": []},
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest.as_bytes())},
            "signature": sig.signature,
        },
    });
    let err = verify_bundle(
        &serde_json::to_vec(&bundle).unwrap(),
        SignedSubject::Bytes(artifact),
        &policy_with(&[key.public_key()]),
        &staging(),
        now(),
    )
    .unwrap_err();
    assert_eq!(err, VerifyError::MissingLogEntry);

    // sigstore-verify itself refuses it, even when told to skip the transparency log.
    use sigstore_verify::types::{Bundle, DerPublicKey};
    let parsed = Bundle::from_json(&bundle.to_string()).unwrap();
    let der = DerPublicKey::new(key.public_key().spki_der().to_vec());
    let root: sigstore_verify::trust_root::TrustedRoot =
        serde_json::from_slice(&fixture("trust/staging/trusted_root.json")).unwrap();
    let verifier = sigstore_verify::Verifier::new(&root).unwrap();
    for policy in [
        sigstore_verify::PublicKeyVerificationPolicy::new(der.clone()),
        sigstore_verify::PublicKeyVerificationPolicy::new(der).skip_tlog_unsafe(),
    ] {
        let err = verifier
            .verify(&artifact[..], &parsed, &policy)
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("must have an inclusion proof")
                || msg.contains("must have at least one tlog entry or timestamp"),
            "{msg}"
        );
    }
}
