//! Real sigstore bundles (from sigstore-python, sigstore-js and sigstore-rs; see
//! `tests/fixtures/README.md`) verified against real trust roots: every row of the expected-results
//! table that sigstore-verify can express.

mod common;

use common::{GHA, GITHUB_OAUTH, GOOGLE, expect, fixture, now, production, root, staging};
use mcpreg_trust::{
    KeyKind, Sha256Digest, SignatureKind, Signer, SignerIdentity, SignerPolicy, SigningKey,
    Subject, TrustRoot, VerifiedSignature, VerifyError, verify_bundle, verify_bundle_any_signer,
};

const WILLIAM: &str = "william@yossarian.net";
const RFC8785_RELEASE: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const A_TXT_DIGEST: &str =
    "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

fn verify(
    bundle: &str,
    artifact: Subject<'_>,
    policy: &SignerPolicy,
    root: &TrustRoot,
) -> Result<VerifiedSignature, VerifyError> {
    verify_bundle(&fixture(bundle), artifact, policy, root, now())
}

fn signer_identity(v: &VerifiedSignature) -> (&str, &str) {
    match &v.signer {
        Signer::Certificate {
            identity, issuer, ..
        } => (identity, issuer),
        other => panic!("expected a certificate signer, got {other:?}"),
    }
}

#[track_caller]
fn assert_fails(
    result: Result<VerifiedSignature, VerifyError>,
    code: &str,
    says: &str,
) -> VerifyError {
    let err = result.expect_err("verification must fail");
    assert_eq!(err.code(), code, "unexpected failure: {err}");
    assert!(
        err.to_string().contains(says),
        "message {err:?} should say {says:?}"
    );
    err
}

// --- valid bundles verify, with the right identity -------------------------------------------

#[test]
fn bundle_v0_1_verifies_with_its_identity() {
    let artifact = fixture("sigstore-python/bundle.txt");
    let v = verify(
        "sigstore-python/bundle.txt.sigstore",
        Subject::Bytes(&artifact),
        &expect("a@tny.town", GITHUB_OAUTH),
        &staging(),
    )
    .unwrap();
    assert_eq!(signer_identity(&v), ("a@tny.town", GITHUB_OAUTH));
    assert_eq!(
        v.media_type,
        "application/vnd.dev.sigstore.bundle+json;version=0.1"
    );
    assert_eq!(v.kind, SignatureKind::MessageSignature);
    assert_eq!(v.subject, Sha256Digest::of_bytes(&artifact));
    assert_eq!(
        v.signed_at.unwrap().to_rfc3339(),
        "2023-04-26T00:21:09+00:00"
    );
    assert_eq!(v.log_entries.len(), 1);
    assert_eq!(v.log_entries[0].log_index, 7_390_977);
    assert_eq!(v.log_entries[0].kind, "hashedrekord/0.0.1");
    // The staging Rekor's log ID (SHA-256 of its key), as the staging trusted root lists it.
    assert_eq!(
        v.log_entries[0].log_id,
        "d32f30a3c32d639c2b762205a21c7bb07788e68283a4ae6f42118723a1bea496"
    );
}

#[test]
fn bundle_v0_3_verifies_from_bytes_and_from_digest() {
    let artifact = fixture("sigstore-python/bundle_v3.txt");
    let policy = expect(WILLIAM, GITHUB_OAUTH);
    for subject in [
        Subject::Bytes(&artifact),
        Subject::Digest(Sha256Digest::of_bytes(&artifact)),
    ] {
        let v = verify(
            "sigstore-python/bundle_v3.txt.sigstore",
            subject,
            &policy,
            &staging(),
        )
        .unwrap();
        assert_eq!(signer_identity(&v), (WILLIAM, GITHUB_OAUTH));
        assert_eq!(
            v.media_type,
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
    }
}

#[test]
fn bundle_v0_3_alternative_media_type_verifies() {
    let artifact = fixture("sigstore-python/bundle_v3_alt.txt");
    let v = verify(
        "sigstore-python/bundle_v3_alt.txt.sigstore",
        Subject::Bytes(&artifact),
        &expect(WILLIAM, GITHUB_OAUTH),
        &staging(),
    )
    .unwrap();
    assert_eq!(
        v.media_type,
        "application/vnd.dev.sigstore.bundle+json;version=0.3"
    );
}

#[test]
fn github_actions_bundle_carries_the_workflow_claims() {
    let wheel = fixture("sigstore-python/bundle_v3_github.whl");
    let v = verify(
        "sigstore-python/bundle_v3_github.whl.sigstore",
        Subject::Bytes(&wheel),
        &expect(RFC8785_RELEASE, GHA),
        &production(),
    )
    .unwrap();
    let Signer::Certificate {
        identity,
        issuer,
        ci: Some(ci),
    } = &v.signer
    else {
        panic!("expected a certificate with CI claims, got {:?}", v.signer);
    };
    assert_eq!((identity.as_str(), issuer.as_str()), (RFC8785_RELEASE, GHA));
    assert_eq!(
        ci.repository.as_deref(),
        Some("https://github.com/trailofbits/rfc8785.py")
    );
    assert_eq!(ci.git_ref.as_deref(), Some("refs/tags/v0.1.2"));
    assert_eq!(ci.workflow.as_deref(), Some(RFC8785_RELEASE));
    assert_eq!(ci.trigger.as_deref(), Some("release"));
    assert_eq!(ci.runner_environment.as_deref(), Some("github-hosted"));
    assert_eq!(
        ci.source_sha.as_deref(),
        Some("d8b4a6445f38c48b9137a8099706d9b8073146e4")
    );
    // The embedded production root is the same instance.
    verify(
        "sigstore-python/bundle_v3_github.whl.sigstore",
        Subject::Bytes(&wheel),
        &expect(RFC8785_RELEASE, GHA),
        &TrustRoot::production(),
    )
    .unwrap();
}

#[test]
fn anchored_identity_pattern_admits_the_release_workflow_only() {
    let wheel = fixture("sigstore-python/bundle_v3_github.whl");
    let tags = SignerPolicy::new().with_identity(
        SignerIdentity::pattern(
            r"^https://github\.com/trailofbits/rfc8785\.py/\.github/workflows/release\.yml@refs/tags/v.+$",
            GHA,
        )
        .unwrap(),
    );
    verify(
        "sigstore-python/bundle_v3_github.whl.sigstore",
        Subject::Bytes(&wheel),
        &tags,
        &production(),
    )
    .unwrap();
    let main_only = SignerPolicy::new().with_identity(
        SignerIdentity::pattern(
            r"^https://github\.com/trailofbits/rfc8785\.py/\.github/workflows/release\.yml@refs/heads/main$",
            GHA,
        )
        .unwrap(),
    );
    assert_fails(
        verify(
            "sigstore-python/bundle_v3_github.whl.sigstore",
            Subject::Bytes(&wheel),
            &main_only,
            &production(),
        ),
        "identity_mismatch",
        RFC8785_RELEASE,
    );
}

#[test]
fn rekor_v2_bundle_with_rfc3161_timestamp_verifies() {
    let artifact = fixture("sigstore-python/staging-rekor-v2.txt");
    let v = verify(
        "sigstore-python/staging-rekor-v2.txt.sigstore.json",
        Subject::Bytes(&artifact),
        &expect("jku@goto.fi", GITHUB_OAUTH),
        &staging(),
    )
    .unwrap();
    assert_eq!(v.log_entries[0].kind, "hashedrekord/0.0.2");
    // Rekor v2 has no integrated time: the signed time is the TSA's.
    assert_eq!(
        v.signed_at.unwrap().to_rfc3339(),
        "2025-06-09T11:57:38+00:00"
    );
}

#[test]
fn dsse_bundle_verifies_for_its_in_toto_subject_digest() {
    let v = verify(
        "sigstore-python/a.dsse.staging-rekor-v2.txt.sigstore.json",
        Subject::Digest(A_TXT_DIGEST.parse().unwrap()),
        &expect(BEACON, GHA),
        &staging(),
    )
    .unwrap();
    let SignatureKind::Dsse {
        predicate_type,
        subjects,
    } = &v.kind
    else {
        panic!("expected DSSE, got {:?}", v.kind);
    };
    assert_eq!(predicate_type, "https://slsa.dev/provenance/v1");
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0].name, "a.txt");
    assert_eq!(
        subjects[0].digests.get("sha256").map(String::as_str),
        A_TXT_DIGEST.strip_prefix("sha256:")
    );
}

// --- bad input is rejected, naming the failed check ------------------------------------------

#[test]
fn dsse_bundle_fails_for_a_file_that_is_not_its_subject() {
    let wrong = fixture("sigstore-python/a.dsse.staging-rekor-v2.txt");
    let err = assert_fails(
        verify(
            "sigstore-python/a.dsse.staging-rekor-v2.txt.sigstore.json",
            Subject::Bytes(&wrong),
            &expect(BEACON, GHA),
            &staging(),
        ),
        "subject_not_in_statement",
        "in-toto statement has no subject with digest",
    );
    assert!(
        err.to_string()
            .contains(A_TXT_DIGEST.strip_prefix("sha256:").unwrap())
    );
}

#[test]
fn tampered_artifact_fails_the_digest_check() {
    // bundle_v3.txt's bundle, over bundle.txt.
    let other = fixture("sigstore-python/bundle.txt");
    let err = assert_fails(
        verify(
            "sigstore-python/bundle_v3.txt.sigstore",
            Subject::Bytes(&other),
            &expect(WILLIAM, GITHUB_OAUTH),
            &staging(),
        ),
        "artifact_digest_mismatch",
        "artifact digest check failed",
    );
    assert!(
        err.to_string()
            .contains(&Sha256Digest::of_bytes(&other).to_string())
    );
    // Same from a digest alone.
    assert_fails(
        verify(
            "sigstore-python/bundle_v3.txt.sigstore",
            Subject::Digest(Sha256Digest::of_bytes(b"tampered")),
            &expect(WILLIAM, GITHUB_OAUTH),
            &staging(),
        ),
        "artifact_digest_mismatch",
        "artifact digest check failed",
    );
}

#[test]
fn wrong_identity_is_rejected_with_the_identity_the_certificate_carried() {
    let artifact = fixture("sigstore-python/bundle_v3.txt");
    let err = assert_fails(
        verify(
            "sigstore-python/bundle_v3.txt.sigstore",
            Subject::Bytes(&artifact),
            &expect("someone-else@example.com", GITHUB_OAUTH),
            &staging(),
        ),
        "identity_mismatch",
        "identity check failed",
    );
    assert_eq!(
        err,
        VerifyError::IdentityMismatch {
            found_identity: WILLIAM.into(),
            found_issuer: GITHUB_OAUTH.into(),
            expected: vec![format!("someone-else@example.com (issuer {GITHUB_OAUTH})")],
        }
    );
}

#[test]
fn wrong_issuer_is_rejected_with_the_issuer_the_certificate_carried() {
    let artifact = fixture("sigstore-python/bundle_v3.txt");
    let err = assert_fails(
        verify(
            "sigstore-python/bundle_v3.txt.sigstore",
            Subject::Bytes(&artifact),
            &expect(WILLIAM, GOOGLE),
            &staging(),
        ),
        "issuer_mismatch",
        "issuer check failed",
    );
    assert!(err.to_string().contains(GITHUB_OAUTH), "{err}");
}

#[test]
fn empty_policy_accepts_no_one() {
    let artifact = fixture("sigstore-python/bundle_v3.txt");
    assert_fails(
        verify(
            "sigstore-python/bundle_v3.txt.sigstore",
            Subject::Bytes(&artifact),
            &SignerPolicy::new(),
            &staging(),
        ),
        "identity_mismatch",
        "none configured",
    );
}

#[test]
fn staging_bundle_fails_against_the_production_root() {
    // Another instance: its Rekor key is unknown to the production root, so its signed entry
    // timestamp cannot be verified — the first check that needs the instance's keys.
    let artifact = fixture("sigstore-python/bundle_v3.txt");
    assert_fails(
        verify(
            "sigstore-python/bundle_v3.txt.sigstore",
            Subject::Bytes(&artifact),
            &expect(WILLIAM, GITHUB_OAUTH),
            &production(),
        ),
        "inclusion_promise",
        "another Sigstore instance",
    );
    // A Rekor v2 staging bundle fails at its staging TSA timestamp instead.
    let artifact = fixture("sigstore-python/staging-rekor-v2.txt");
    assert_fails(
        verify(
            "sigstore-python/staging-rekor-v2.txt.sigstore.json",
            Subject::Bytes(&artifact),
            &expect("jku@goto.fi", GITHUB_OAUTH),
            &TrustRoot::production(),
        ),
        "timestamp",
        "does not match any trusted TSA certificate",
    );
}

#[test]
fn stale_trust_root_without_the_timestamp_authority_fails() {
    // sigstore-rs's older production root predates the production TSA that timestamped this 2026
    // bundle; the current production root verifies it.
    let policy = expect(
        "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0",
        GHA,
    );
    let subject = Subject::Digest(
        "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172"
            .parse()
            .unwrap(),
    );
    assert_fails(
        verify(
            "sigstore-rs/bundle_v03.json",
            subject,
            &policy,
            &root("sigstore-rs/trust_root.prod.trusted_root.json"),
        ),
        "timestamp",
        "no timestamp authorities configured",
    );
    verify(
        "sigstore-rs/bundle_v03.json",
        subject,
        &policy,
        &production(),
    )
    .unwrap();
}

#[test]
fn cve_2022_36056_log_entry_for_another_certificate_fails() {
    let artifact = fixture("sigstore-python/bundle_cve_2022_36056.txt");
    assert_fails(
        verify(
            "sigstore-python/bundle_cve_2022_36056.txt.sigstore",
            Subject::Bytes(&artifact),
            &expect(WILLIAM, GITHUB_OAUTH),
            &staging(),
        ),
        "log_entry_mismatch",
        "transparency log entry is inconsistent with the bundle",
    );
}

#[test]
fn unknown_media_type_fails_at_parse() {
    let artifact = fixture("sigstore-python/bundle_invalid_version.txt");
    let err = assert_fails(
        verify(
            "sigstore-python/bundle_invalid_version.txt.sigstore",
            Subject::Bytes(&artifact),
            &expect(WILLIAM, GITHUB_OAUTH),
            &staging(),
        ),
        "unknown_media_type",
        "bundle media type check failed",
    );
    assert!(err.to_string().contains("this is completely wrong"));
}

#[test]
fn empty_certificate_chain_fails_at_parse() {
    let artifact = fixture("sigstore-python/bundle_no_cert_v1.txt");
    assert_fails(
        verify(
            "sigstore-python/bundle_no_cert_v1.txt.sigstore",
            Subject::Bytes(&artifact),
            &expect(WILLIAM, GITHUB_OAUTH),
            &staging(),
        ),
        "empty_certificate_chain",
        "certificate chain is empty",
    );
}

#[test]
fn inclusion_proof_without_checkpoint_fails() {
    let artifact = fixture("sigstore-python/bundle_no_checkpoint.txt");
    assert_fails(
        verify(
            "sigstore-python/bundle_no_checkpoint.txt.sigstore",
            Subject::Bytes(&artifact),
            &expect(WILLIAM, GITHUB_OAUTH),
            &staging(),
        ),
        "checkpoint",
        "inclusion proof has no checkpoint",
    );
}

#[test]
fn bundle_without_log_entry_fails() {
    let artifact = fixture("sigstore-python/bundle_no_log_entry.txt");
    assert_fails(
        verify(
            "sigstore-python/bundle_no_log_entry.txt.sigstore",
            Subject::Bytes(&artifact),
            &expect("alex.cameron@trailofbits.com", GOOGLE),
            &staging(),
        ),
        "missing_log_entry",
        "no transparency log entry",
    );
}

#[test]
fn bundle_without_signed_time_fails() {
    let artifact = fixture("sigstore-python/bundle_v3_no_signed_time.txt");
    assert_fails(
        verify(
            "sigstore-python/bundle_v3_no_signed_time.txt.sigstore.json",
            Subject::Bytes(&artifact),
            &expect(WILLIAM, GITHUB_OAUTH),
            &staging(),
        ),
        "no_signed_time",
        "signed time check failed",
    );
}

#[test]
fn cpython_release_bundle_without_checkpoint_fails_as_shipped() {
    assert_fails(
        verify(
            "sigstore-python/integration/Python-3.12.5.tgz.sigstore",
            Subject::Digest(
                "sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405"
                    .parse()
                    .unwrap(),
            ),
            &expect("thomas@python.org", GOOGLE),
            &production(),
        ),
        "checkpoint",
        "inclusion proof has no checkpoint",
    );
}

#[test]
fn malformed_json_and_bad_bundles_fail_at_parse() {
    let policy = expect(WILLIAM, GITHUB_OAUTH);
    let artifact = Subject::Bytes(b"x");
    for (json, code) in [
        (&b"not json"[..], "malformed_bundle"),
        (
            br#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
            "malformed_bundle",
        ),
        (br#"{"verificationMaterial": {}}"#, "unknown_media_type"),
        (b"[]", "unknown_media_type"),
    ] {
        let err = verify_bundle(json, artifact, &policy, &staging(), now()).unwrap_err();
        assert_eq!(err.code(), code, "{err}");
    }
    // A real bundle with its signature cut off.
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&fixture("sigstore-python/bundle_v3.txt.sigstore")).unwrap();
    bundle.as_object_mut().unwrap().remove("messageSignature");
    let err = verify_bundle(
        &serde_json::to_vec(&bundle).unwrap(),
        artifact,
        &policy,
        &staging(),
        now(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "malformed_bundle", "{err}");
}

#[test]
fn corrupted_inclusion_proof_fails() {
    let artifact = fixture("sigstore-python/bundle_v3.txt");
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&fixture("sigstore-python/bundle_v3.txt.sigstore")).unwrap();
    let hashes = bundle
        .pointer_mut("/verificationMaterial/tlogEntries/0/inclusionProof/hashes/0")
        .unwrap();
    *hashes = serde_json::json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let err = verify_bundle(
        &serde_json::to_vec(&bundle).unwrap(),
        Subject::Bytes(&artifact),
        &expect(WILLIAM, GITHUB_OAUTH),
        &staging(),
        now(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "inclusion_proof", "{err}");
}

#[test]
fn corrupted_signature_fails() {
    let artifact = fixture("sigstore-python/bundle_v3.txt");
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&fixture("sigstore-python/bundle_v3.txt.sigstore")).unwrap();
    // A well-formed ECDSA signature by another key over other data (bundle_v3_alt's).
    let donor: serde_json::Value =
        serde_json::from_slice(&fixture("sigstore-python/bundle_v3_alt.txt.sigstore")).unwrap();
    *bundle.pointer_mut("/messageSignature/signature").unwrap() =
        donor["messageSignature"]["signature"].clone();
    let err = verify_bundle(
        &serde_json::to_vec(&bundle).unwrap(),
        Subject::Bytes(&artifact),
        &expect(WILLIAM, GITHUB_OAUTH),
        &staging(),
        now(),
    )
    .unwrap_err();
    // The signature is part of the logged entry, so the entry no longer matches either; either
    // check may fire first, both name the cause.
    assert!(
        matches!(
            err.code().as_str(),
            "signature_invalid" | "log_entry_mismatch"
        ),
        "{err}"
    );
}

#[test]
fn signing_time_after_the_verification_time_fails() {
    let artifact = fixture("sigstore-python/bundle_v3.txt");
    let err = verify_bundle(
        &fixture("sigstore-python/bundle_v3.txt.sigstore"),
        Subject::Bytes(&artifact),
        &expect(WILLIAM, GITHUB_OAUTH),
        &staging(),
        "2024-01-01T00:00:00Z".parse().unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "signed_in_future", "{err}");
}

// --- RFC 3161 timestamps ---------------------------------------------------------------------

/// sigstore-python's `tsa/trust_config.json`: the staging instance plus a test TSA.
fn tsa_trust_config() -> TrustRoot {
    root("sigstore-python/tsa/trust_config.json")
}

#[test]
fn too_many_timestamps_fail_before_any_is_checked() {
    let artifact = fixture("sigstore-python/tsa/bundle.txt");
    assert_fails(
        verify(
            "sigstore-python/tsa/bundle.many_timestamp.sigstore",
            Subject::Bytes(&artifact),
            &expect("alexis.challande@trailofbits.com", GOOGLE),
            &tsa_trust_config(),
        ),
        "too_many_timestamps",
        "33 > 32",
    );
}

#[test]
fn duplicate_timestamp_fails() {
    let artifact = fixture("sigstore-python/tsa/bundle.txt");
    assert_fails(
        verify(
            "sigstore-python/tsa/bundle.duplicate.sigstore",
            Subject::Bytes(&artifact),
            &expect("alexis.challande@trailofbits.com", GOOGLE),
            &tsa_trust_config(),
        ),
        "duplicate_timestamp",
        "duplicate RFC 3161 timestamp",
    );
}

#[test]
fn timestamp_after_certificate_expiry_fails() {
    // The staging TSA stamped the signature 12 minutes after the 10-minute certificate expired.
    let artifact = fixture("sigstore-python/tsa/bundle.txt");
    let err = assert_fails(
        verify(
            "sigstore-python/tsa/bundle.txt.late_timestamp.sigstore",
            Subject::Bytes(&artifact),
            &expect(
                "insecure-cloudtop-shared-user@cloudtop-prod-us-east.iam.gserviceaccount.com",
                GOOGLE,
            ),
            &staging(),
        ),
        "certificate_expired",
        "had expired at the signed time",
    );
    let VerifyError::CertificateExpired {
        signed_at,
        not_after,
    } = err
    else {
        unreachable!()
    };
    assert!(signed_at > not_after);
    // sigstore-python's trust config lacks the staging TSA: the timestamp itself fails there.
    assert_fails(
        verify(
            "sigstore-python/tsa/bundle.txt.late_timestamp.sigstore",
            Subject::Bytes(&artifact),
            &expect(
                "insecure-cloudtop-shared-user@cloudtop-prod-us-east.iam.gserviceaccount.com",
                GOOGLE,
            ),
            &tsa_trust_config(),
        ),
        "timestamp",
        "timestamp check failed",
    );
}

/// Deviation from sigstore-python (which reports PASS): this bundle's two RFC 3161 timestamps do
/// not verify — the TSA chain in `tsa/trust_config.json` is not the one that signed them, and
/// with the chain that did (`tsa/ca.json`) their message imprint is not the hash of this bundle's
/// signature. sigstore-python drops timestamps that fail and still passes on the Rekor signed
/// entry timestamp; sigstore-verify deliberately treats any timestamp that is present but does
/// not verify as fatal. mcpreg keeps sigstore-verify's stricter rule.
#[test]
fn unverifiable_timestamps_fail_where_sigstore_python_passes() {
    let artifact = fixture("sigstore-python/tsa/bundle.txt");
    let policy = expect("alexis.challande@trailofbits.com", GOOGLE);
    assert_fails(
        verify(
            "sigstore-python/tsa/bundle.txt.sigstore",
            Subject::Bytes(&artifact),
            &policy,
            &tsa_trust_config(),
        ),
        "timestamp",
        "does not match any trusted TSA certificate",
    );
    let mut config: serde_json::Value =
        serde_json::from_slice(&fixture("sigstore-python/tsa/trust_config.json")).unwrap();
    let ca: serde_json::Value =
        serde_json::from_slice(&fixture("sigstore-python/tsa/ca.json")).unwrap();
    config["trustedRoot"]["timestampAuthorities"] = serde_json::json!([ca]);
    let with_signing_tsa = TrustRoot::from_json(&serde_json::to_vec(&config).unwrap()).unwrap();
    assert_fails(
        verify(
            "sigstore-python/tsa/bundle.txt.sigstore",
            Subject::Bytes(&artifact),
            &policy,
            &with_signing_tsa,
        ),
        "timestamp",
        "message hash mismatch",
    );
}

// --- client-dependent and npm fixtures -------------------------------------------------------

/// sigstore-rs treats this cosign 3 DSSE bundle as valid; sigstore-python 4.5.1 rejects it
/// because its in-toto subject has no `name`. sigstore-verify (and so mcpreg) accepts it: the
/// in-toto v1 spec does not require a name to bind a digest.
#[test]
fn cosign_dsse_bundle_with_nameless_subject_verifies() {
    let v = verify(
        "sigstore-rs/bundle_v03.json",
        Subject::Digest(
            "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172"
                .parse()
                .unwrap(),
        ),
        &expect(
            "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0",
            GHA,
        ),
        &production(),
    )
    .unwrap();
    let SignatureKind::Dsse {
        predicate_type,
        subjects,
    } = &v.kind
    else {
        panic!("expected DSSE, got {:?}", v.kind);
    };
    assert_eq!(predicate_type, "https://sigstore.dev/cosign/sign/v1");
    assert_eq!(subjects[0].name, "");
    assert_eq!(v.log_entries[0].kind, "dsse/0.0.1");
}

const SIGSTORE_JS: [&str; 9] = [
    "bundleV01-dsse-no-proof",
    "bundleV01-dsse-with-proof",
    "bundleV01-full-cert-chain",
    "bundleV01-intoto-no-proof",
    "bundleV01-intoto-with-proof",
    "bundleV02-dsse",
    "bundleV02-intoto",
    "bundleV03-dsse",
    "bundleV03-intoto",
];

/// The sigstore-js npm-provenance bundles name their subject (the npm tarball, not included) by
/// SHA-512 only, and `Subject` is SHA-256 (the registry's `fileSha256`). sigstore-verify binds
/// the subject last, after the certificate chain, SCT, transparency log, timestamps and DSSE
/// signature, so reaching the subject check shows every other check passed for all nine bundles
/// (v0.1–v0.3, DSSE and intoto entries, with and without inclusion proof, full chain). The
/// staging root fails them earlier, so the result is not vacuous.
#[test]
fn npm_provenance_bundles_pass_every_check_up_to_the_sha512_subject() {
    let statement: serde_json::Value =
        serde_json::from_slice(&fixture("sigstore-js/statement.json")).unwrap();
    let sha512 = statement["subject"][0]["digest"]["sha512"]
        .as_str()
        .unwrap();
    let tarball = Sha256Digest::of_bytes(b"sigstore-1.0.0.tgz is not in the fixtures");
    for name in SIGSTORE_JS {
        let bundle = format!("sigstore-js/{name}.sigstore");
        let policy = expect("brian@dehamer.com", GITHUB_OAUTH);
        let err = verify(&bundle, Subject::Digest(tarball), &policy, &production()).unwrap_err();
        let VerifyError::SubjectNotInStatement { subjects, .. } = &err else {
            panic!("{name}: expected the subject check to be the one failing, got {err}");
        };
        assert_eq!(
            subjects,
            &vec![format!("pkg:npm/sigstore@1.0.0 sha512:{sha512}")],
            "{name}"
        );
        let err = verify(&bundle, Subject::Digest(tarball), &policy, &staging()).unwrap_err();
        assert_ne!(err.code(), "subject_not_in_statement", "{name}: {err}");
    }
}

// --- any signer: every check but the identity ------------------------------------------------

#[test]
fn any_signer_verification_reports_the_identity_and_checks_everything_else() {
    let bundle = fixture("sigstore-python/bundle_v3.txt.sigstore");
    let artifact = fixture("sigstore-python/bundle_v3.txt");
    let v =
        verify_bundle_any_signer(&bundle, Subject::Bytes(&artifact), &staging(), now()).unwrap();
    assert_eq!(signer_identity(&v), (WILLIAM, GITHUB_OAUTH));
    let other = fixture("sigstore-python/bundle.txt");
    assert_fails(
        verify_bundle_any_signer(&bundle, Subject::Bytes(&other), &staging(), now()),
        "artifact_digest_mismatch",
        "artifact digest check failed",
    );
    assert_fails(
        verify_bundle_any_signer(&bundle, Subject::Bytes(&artifact), &production(), now()),
        "inclusion_promise",
        "another Sigstore instance",
    );
    // A key signature cannot be checked without its key: its digest is, then it names its key.
    let key = SigningKey::generate(KeyKind::Ed25519).unwrap();
    let sig = key
        .sign_digest(&Sha256Digest::of_bytes(&artifact))
        .unwrap()
        .to_json();
    let err =
        verify_bundle_any_signer(sig.as_bytes(), Subject::Bytes(&artifact), &staging(), now())
            .unwrap_err();
    assert!(
        matches!(&err, VerifyError::KeyMismatch { found_key, .. } if *found_key == key.public_key().key_id()),
        "{err}"
    );
    assert_fails(
        verify_bundle_any_signer(sig.as_bytes(), Subject::Bytes(&other), &staging(), now()),
        "artifact_digest_mismatch",
        "artifact digest check failed",
    );
}
