//! Supply-chain trust through the HTTP API, against a real PostgreSQL and real sigstore bundles
//! (mcpreg-trust's fixtures, `trust/tests/fixtures`, used in place: see its README for each
//! file's source): digests recorded at publish, signatures verified on arrival against the trust
//! root and the namespace's trusted signers, refused with the failed check's code, and nothing
//! half-stored after a refusal.
//!
//! Through the typed client, except for requests of a shape the typed requests cannot take (an
//! unknown field, a missing or unknown signature target, a bundle that is a string), which are
//! sent as bytes.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{SCHEMA, TestApp, TestDb, expect_problem, refused_status, trust_fixture};
use axum::http::{Method, StatusCode};
use mcpreg_api::Problem;
use mcpreg_api::admin::{NewNamespace, Role};
use mcpreg_api::name::NamespaceName;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::registry::ServerResponse;
use mcpreg_api::trust::{
    NewSignature, NewTrustedSigner, PublishRequest, SignatureTarget, SignerKind, TrustedSigner,
    TrustedSignerKind, VersionTrust,
};
use mcpreg_trust::{Sha256Digest, SigningKey, TrustRoot, server_json_digest};
use serde_json::{Value, json};

const GHA: &str = "https://token.actions.githubusercontent.com";
const GITHUB_OAUTH: &str = "https://github.com/login/oauth";
/// The identity in the certificate of `bundle_v3_github.whl.sigstore` (production instance).
const RFC8785_RELEASE: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const WILLIAM: &str = "william@yossarian.net";
const NS: &str = "io.github.trailofbits";
const NAME: &str = "io.github.trailofbits/rfc8785";

fn bytes(rel: &str) -> Vec<u8> {
    std::fs::read(trust_fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

fn json_fixture(rel: &str) -> Value {
    serde_json::from_slice(&bytes(rel)).unwrap()
}

fn text(rel: &str) -> String {
    String::from_utf8(bytes(rel)).unwrap()
}

/// A server.json whose one package pins the artifact with this digest (`None`: unpinned).
fn server_json(name: &str, version: &str, artifact: Option<Sha256Digest>) -> Value {
    let mut package = json!({
        "registryType": "pypi", "identifier": "rfc8785", "version": "0.1.2",
        "transport": {"type": "stdio"}
    });
    if let Some(d) = artifact {
        package["fileSha256"] = json!(d.to_hex());
    }
    json!({
        "$schema": SCHEMA, "name": name, "description": "RFC 8785 for Python", "version": version,
        "packages": [package]
    })
}

fn wheel_digest() -> Sha256Digest {
    Sha256Digest::of_bytes(&bytes("sigstore-python/bundle_v3_github.whl"))
}

fn github_bundle() -> Value {
    json_fixture("sigstore-python/bundle_v3_github.whl.sigstore")
}

fn signature(bundle: Value, target: &str) -> NewSignature {
    NewSignature {
        bundle,
        target: SignatureTarget::parse(target).unwrap(),
    }
}

fn envelope(server: &Value, signatures: &[(Value, &str)]) -> PublishRequest {
    PublishRequest {
        server: server.clone(),
        signatures: signatures
            .iter()
            .map(|(bundle, target)| signature(bundle.clone(), target))
            .collect(),
        tools: None,
    }
}

/// Publishes a request as the admin.
async fn publish(r: &TestApp, request: &PublishRequest) -> mcpreg_client::Result<ServerResponse> {
    r.admin_client().publish(request).await
}

/// A registry with an admin and the namespace.
async fn registry(root: TrustRoot) -> TestApp {
    let r = TestApp::with_trust(Default::default(), root).await;
    r.admin_client()
        .create_namespace(&NewNamespace {
            name: NamespaceName::parse(NS).unwrap(),
            description: None,
        })
        .await
        .unwrap();
    r
}

/// A trusted signer of the namespace, with the fields of `json` (`identity`, `identityPattern`,
/// `issuer`, `publicKey`, `server`).
fn signer(json: Value) -> NewTrustedSigner {
    serde_json::from_value(json).unwrap()
}

/// Makes a signer trusted in the namespace.
async fn trust(r: &TestApp, signer_json: Value) -> mcpreg_client::Result<TrustedSigner> {
    r.admin_client()
        .add_trusted_signer(NS, &signer(signer_json))
        .await
}

async fn version_trust(r: &TestApp, version: &str) -> mcpreg_client::Result<VersionTrust> {
    r.anonymous_client().version_trust(NAME, version).await
}

/// Rows of (versions, package digests, signatures, publish audit events).
async fn counts(r: &TestApp) -> [i64; 4] {
    let mut out = [0; 4];
    for (i, sql) in [
        "select count(*) from server_versions",
        "select count(*) from version_packages",
        "select count(*) from version_signatures",
        "select count(*) from audit_events where action in ('version.publish', 'signature.attach')",
    ]
    .into_iter()
    .enumerate()
    {
        out[i] = r.count(sql).await;
    }
    out
}

/// Asserts a 422 with this code, one of whose errors is at `location` and says `says`; returns
/// the problem.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    result: mcpreg_client::Result<T>,
    code: &str,
    location: &str,
    says: &str,
) -> Problem {
    let code = ProblemCode::parse(code).unwrap_or_else(|| panic!("{code} is a problem code"));
    let problem = expect_problem(result, 422, code);
    let message = problem
        .errors
        .iter()
        .find(|e| e.location == location)
        .map(|e| e.message.as_str())
        .unwrap_or_else(|| panic!("no error at {location:?} in {problem:#?}"));
    assert!(message.contains(says), "{message:?} should say {says:?}");
    problem
}

#[tokio::test(flavor = "multi_thread")]
async fn github_actions_bundle_is_verified_and_stored_with_its_ci_claims() {
    let r = registry(TrustRoot::production()).await;
    let added = trust(&r, json!({"identity": RFC8785_RELEASE, "issuer": GHA}))
        .await
        .unwrap();
    assert_eq!(added.kind, TrustedSignerKind::Identity);

    let doc = server_json(NAME, "0.1.2", Some(wheel_digest()));
    let published = publish(&r, &envelope(&doc, &[(github_bundle(), "package:0")]))
        .await
        .unwrap();
    assert_eq!(
        published.server_value(),
        doc,
        "the document is stored as sent"
    );

    let t = version_trust(&r, "0.1.2").await.unwrap();
    assert_eq!(t.server_json_digest, server_json_digest(&doc).to_string());
    assert!(t.pinned);
    assert_eq!(
        serde_json::to_value(&t.packages).unwrap(),
        json!([{"index": 0, "registryType": "pypi", "identifier": "rfc8785", "digest": wheel_digest().to_string()}])
    );
    assert_eq!(t.signatures.len(), 1);
    let s = &t.signatures[0];
    assert_eq!(s.target.to_string(), "package:0");
    assert_eq!(s.subject_digest, wheel_digest().to_string());
    assert_eq!(s.signer_kind, SignerKind::Certificate);
    assert_eq!(s.identity.as_deref(), Some(RFC8785_RELEASE));
    assert_eq!(s.issuer.as_deref(), Some(GHA));
    let ci = s.ci.as_ref().unwrap();
    assert_eq!(
        ci.repository.as_deref(),
        Some("https://github.com/trailofbits/rfc8785.py")
    );
    assert_eq!(ci.git_ref.as_deref(), Some("refs/tags/v0.1.2"));
    assert_eq!(ci.workflow.as_deref(), Some(RFC8785_RELEASE));
    assert_eq!(ci.runner_environment.as_deref(), Some("github-hosted"));
    assert_eq!(
        ci.source_sha.as_deref(),
        Some("d8b4a6445f38c48b9137a8099706d9b8073146e4")
    );
    assert!(
        s.signed_at
            .unwrap()
            .format("%Y")
            .to_string()
            .starts_with("20")
    );
    assert!(!s.log_entries.is_empty());
    assert_eq!(s.bundle, github_bundle(), "the bundle is kept as sent");
    assert_eq!(s.created_by, "token:admin");

    // The identity is queryable, and the publish and the signature are in the audit trail.
    let (identity, issuer): (String, String) =
        sqlx::query_as("select signer_identity, signer_issuer from version_signatures")
            .fetch_one(&r.db.pool)
            .await
            .unwrap();
    assert_eq!((identity.as_str(), issuer.as_str()), (RFC8785_RELEASE, GHA));
    assert_eq!(counts(&r).await, [1, 1, 1, 2]);
    // `latest` resolves.
    assert_eq!(version_trust(&r, "latest").await.unwrap().version, "0.1.2");
    assert_eq!(refused_status(version_trust(&r, "9.9.9").await), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anchored_identity_pattern_admits_the_release_workflow() {
    let r = registry(TrustRoot::production()).await;
    trust(&r, json!({
            "identityPattern": r"^https://github\.com/trailofbits/rfc8785\.py/\.github/workflows/release\.yml@refs/tags/v.+$",
            "issuer": GHA,
            "server": NAME,
        }))
        .await
        .unwrap();
    let doc = server_json(NAME, "0.1.2", Some(wheel_digest()));
    publish(&r, &envelope(&doc, &[(github_bundle(), "package:0")]))
        .await
        .unwrap();
    // A signer limited to one server does not sign its neighbours.
    let other = server_json("io.github.trailofbits/other", "0.1.2", Some(wheel_digest()));
    let refused = publish(&r, &envelope(&other, &[(github_bundle(), "package:0")])).await;
    assert_refused(
        refused,
        "no_trusted_signers",
        "signatures[0]",
        "trusted signer",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_identity_or_issuer_is_refused_naming_what_the_certificate_carried() {
    let r = registry(TrustRoot::production()).await;
    let expected = "https://github.com/acme/rfc8785/.github/workflows/release.yml@refs/tags/v0.1.2";
    trust(&r, json!({"identity": expected, "issuer": GHA}))
        .await
        .unwrap();
    let doc = server_json(NAME, "0.1.2", Some(wheel_digest()));
    let request = envelope(&doc, &[(github_bundle(), "package:0")]);
    let refused = assert_refused(
        publish(&r, &request).await,
        "identity_mismatch",
        "signatures[0]",
        RFC8785_RELEASE,
    );
    let detail = &refused.detail;
    assert!(detail.contains("identity check failed"), "{detail}");
    assert!(detail.contains(expected), "{detail}");
    assert_eq!(counts(&r).await, [0, 0, 0, 0], "nothing is half-stored");

    // The right identity through another issuer.
    trust(
        &r,
        json!({"identity": RFC8785_RELEASE, "issuer": "https://accounts.google.com"}),
    )
    .await
    .unwrap();
    let refused = publish(&r, &request).await;
    assert_refused(refused, "issuer_mismatch", "signatures[0]", GHA);
    assert_eq!(counts(&r).await, [0, 0, 0, 0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_artifact_fails_the_digest_check() {
    let r = registry(TrustRoot::production()).await;
    trust(&r, json!({"identity": RFC8785_RELEASE, "issuer": GHA}))
        .await
        .unwrap();
    // The server.json pins another file than the one the bundle signed.
    let other = Sha256Digest::of_bytes(&bytes("sigstore-python/bundle.txt"));
    let doc = server_json(NAME, "0.1.2", Some(other));
    let refused = publish(&r, &envelope(&doc, &[(github_bundle(), "package:0")])).await;
    assert_refused(
        refused,
        "artifact_digest_mismatch",
        "signatures[0]",
        &other.to_string(),
    );
    // A bundle over the wheel offered as the server.json's signature fails the same way.
    let doc = server_json(NAME, "0.1.2", Some(wheel_digest()));
    let refused = publish(&r, &envelope(&doc, &[(github_bundle(), "server.json")])).await;
    assert_refused(
        refused,
        "artifact_digest_mismatch",
        "signatures[0]",
        &server_json_digest(&doc).to_string(),
    );
    assert_eq!(counts(&r).await, [0, 0, 0, 0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_and_bundles_are_refused_with_their_location() {
    let r = registry(TrustRoot::staging()).await;
    trust(&r, json!({"identity": WILLIAM, "issuer": GITHUB_OAUTH}))
        .await
        .unwrap();
    let doc = server_json(NAME, "1.0.0", Some(wheel_digest()));

    let cases: Vec<(Value, &str, &str, &str)> = vec![
        (
            json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}),
            "malformed_bundle",
            "signatures[0]",
            "bundle parse check failed",
        ),
        (
            json!({"verificationMaterial": {}}),
            "unknown_media_type",
            "signatures[0]",
            "unknown media type",
        ),
        (
            json_fixture("sigstore-python/bundle_invalid_version.txt.sigstore"),
            "unknown_media_type",
            "signatures[0]",
            "this is completely wrong",
        ),
        (
            json_fixture("sigstore-python/bundle_no_cert_v1.txt.sigstore"),
            "empty_certificate_chain",
            "signatures[0]",
            "certificate chain is empty",
        ),
    ];
    for (bundle, code, location, says) in cases {
        let refused = publish(&r, &envelope(&doc, &[(bundle, "package:0")])).await;
        assert_refused(refused, code, location, says);
    }

    // The shape of the request: each problem with its place. Hostile input the typed request
    // cannot take, so as bytes.
    let refused = r
        .call(
            Method::POST,
            "/api/v1/publish",
            Some(&r.admin),
            Some(&json!({"server": doc, "signatures": [
                {"bundle": "{\"mediaType\": \"…\"}", "for": "package:0"},
                {"bundle": {}, "for": "pkg:0"},
                {"bundle": {}},
            ], "extra": 1})),
        )
        .await;
    refused.problem(422, "invalid_publish_request");
    assert_eq!(
        refused.locations(),
        [
            "extra",
            "signatures[0].bundle",
            "signatures[1].for",
            "signatures[2].for"
        ]
    );

    // Subjects that do not exist, or pin nothing.
    let refused = publish(
        &r,
        &envelope(&doc, &[(json!({"mediaType": "x"}), "package:3")]),
    )
    .await;
    assert_refused(refused, "unknown_subject", "signatures[0]", "has 1 package");
    let unpinned = server_json(NAME, "1.0.0", None);
    let refused = publish(
        &r,
        &envelope(&unpinned, &[(json!({"mediaType": "x"}), "package:0")]),
    )
    .await;
    assert_refused(
        refused,
        "unpinned_package",
        "signatures[0]",
        "pins no digest",
    );
    assert_eq!(counts(&r).await, [0, 0, 0, 0]);
}

/// Real bundles that fail deeper checks: a certificate that had expired when the timestamp
/// authority stamped the signature, and an inclusion proof with a corrupted hash.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_certificate_and_a_bad_inclusion_proof_are_refused() {
    const LATE: &str =
        "insecure-cloudtop-shared-user@cloudtop-prod-us-east.iam.gserviceaccount.com";
    let r = registry(TrustRoot::staging()).await;
    trust(
        &r,
        json!({"identity": LATE, "issuer": "https://accounts.google.com"}),
    )
    .await
    .unwrap();
    trust(&r, json!({"identity": WILLIAM, "issuer": GITHUB_OAUTH}))
        .await
        .unwrap();

    let late = Sha256Digest::of_bytes(&bytes("sigstore-python/tsa/bundle.txt"));
    let refused = publish(
        &r,
        &envelope(
            &server_json(NAME, "1.0.0", Some(late)),
            &[(
                json_fixture("sigstore-python/tsa/bundle.txt.late_timestamp.sigstore"),
                "package:0",
            )],
        ),
    )
    .await;
    assert_refused(
        refused,
        "certificate_expired",
        "signatures[0]",
        "had expired at the signed time",
    );

    let mut corrupted = json_fixture("sigstore-python/bundle_v3.txt.sigstore");
    *corrupted
        .pointer_mut("/verificationMaterial/tlogEntries/0/inclusionProof/hashes/0")
        .unwrap() = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let artifact = Sha256Digest::of_bytes(&bytes("sigstore-python/bundle_v3.txt"));
    let refused = publish(
        &r,
        &envelope(
            &server_json(NAME, "1.0.0", Some(artifact)),
            &[(corrupted, "package:0")],
        ),
    )
    .await;
    assert_refused(
        refused,
        "inclusion_proof",
        "signatures[0]",
        "inclusion proof check failed",
    );
    assert_eq!(counts(&r).await, [0, 0, 0, 0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_from_another_sigstore_instance_is_refused() {
    let artifact = Sha256Digest::of_bytes(&bytes("sigstore-python/bundle_v3.txt"));
    let bundle = json_fixture("sigstore-python/bundle_v3.txt.sigstore");
    let doc = server_json(NAME, "1.0.0", Some(artifact));
    // Staging's bundle against the (default) production root.
    let production = registry(TrustRoot::production()).await;
    trust(
        &production,
        json!({"identity": WILLIAM, "issuer": GITHUB_OAUTH}),
    )
    .await
    .unwrap();
    let refused = publish(
        &production,
        &envelope(&doc, &[(bundle.clone(), "package:0")]),
    )
    .await;
    assert_refused(
        refused,
        "inclusion_promise",
        "signatures[0]",
        "another Sigstore instance",
    );
    assert_eq!(counts(&production).await, [0, 0, 0, 0]);
    // The same bundle where the registry trusts the staging instance.
    let staging = registry(TrustRoot::staging()).await;
    trust(
        &staging,
        json!({"identity": WILLIAM, "issuer": GITHUB_OAUTH}),
    )
    .await
    .unwrap();
    publish(&staging, &envelope(&doc, &[(bundle, "package:0")]))
        .await
        .unwrap();
    let trust = version_trust(&staging, "1.0.0").await.unwrap();
    assert_eq!(trust.signatures[0].identity.as_deref(), Some(WILLIAM));
    assert_eq!(
        trust.signatures[0].media_type,
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn key_signatures_verify_with_a_trusted_key_only() {
    let r = registry(TrustRoot::production()).await;
    let admin = r.admin_client();
    let trusted = SigningKey::from_pkcs8_pem(&text("keys/p256.key")).unwrap();
    let stranger = SigningKey::from_pkcs8_pem(&text("keys/ed25519.key")).unwrap();
    let added = trust(&r, json!({"publicKey": text("keys/p256.pub")}))
        .await
        .unwrap();
    assert_eq!(
        added.key_id.as_deref(),
        Some(trusted.public_key().key_id().as_str())
    );
    assert_eq!(added.key_algorithm.as_deref(), Some("ecdsa-p256"));

    // Over the server.json (its canonical digest) and over the artifact.
    let doc = server_json(NAME, "1.0.0", Some(wheel_digest()));
    let over_doc: Value = serde_json::from_str(
        &trusted
            .sign_digest(&server_json_digest(&doc))
            .unwrap()
            .to_json(),
    )
    .unwrap();
    let over_wheel: Value =
        serde_json::from_str(&trusted.sign_digest(&wheel_digest()).unwrap().to_json()).unwrap();
    publish(
        &r,
        &envelope(
            &doc,
            &[(over_doc, "server.json"), (over_wheel, "package:0")],
        ),
    )
    .await
    .unwrap();
    let trust = version_trust(&r, "1.0.0").await.unwrap();
    let s = &trust.signatures;
    assert_eq!(
        (s[0].target.to_string(), s[1].target.to_string()),
        ("server.json".to_owned(), "package:0".to_owned())
    );
    assert_eq!(s[0].signer_kind, SignerKind::Key);
    assert_eq!(
        s[0].key_id.as_deref(),
        Some(trusted.public_key().key_id().as_str())
    );
    assert_eq!(
        s[0].public_key.as_deref(),
        Some(trusted.public_key().to_pem().as_str())
    );
    assert_eq!(s[0].subject_digest, trust.server_json_digest);
    assert_eq!(s[0].signed_at, None);

    // Another key is refused, naming the key it carried and the keys trusted.
    let doc = server_json(NAME, "1.0.1", Some(wheel_digest()));
    let forged: Value = serde_json::from_str(
        &stranger
            .sign_digest(&server_json_digest(&doc))
            .unwrap()
            .to_json(),
    )
    .unwrap();
    let request = envelope(&doc, &[(forged.clone(), "server.json")]);
    let refused = assert_refused(
        publish(&r, &request).await,
        "key_mismatch",
        "signatures[0]",
        &stranger.public_key().key_id(),
    );
    assert!(
        refused.errors[0]
            .message
            .contains(&trusted.public_key().key_id())
    );
    assert_eq!(counts(&r).await, [1, 1, 2, 3]);

    // Attach later: published without signatures, signed afterwards; the same twice is a 409.
    admin.publish_server_json(&doc).await.unwrap();
    let refused = admin
        .attach_signature(NAME, "1.0.1", &signature(forged, "server.json"))
        .await;
    assert_refused(refused, "key_mismatch", "bundle", "key check failed");
    let good: Value = serde_json::from_str(
        &trusted
            .sign_digest(&server_json_digest(&doc))
            .unwrap()
            .to_json(),
    )
    .unwrap();
    let body = signature(good.clone(), "server.json");
    let attached = admin.attach_signature(NAME, "1.0.1", &body).await.unwrap();
    assert_eq!(attached.signer_kind, SignerKind::Key);
    let again = admin.attach_signature(NAME, "1.0.1", &body).await;
    expect_problem(again, 409, ProblemCode::SignatureExists);
    // A target that is none, which the typed request cannot carry: as bytes.
    let bad_request = r
        .call(
            Method::POST,
            "/api/v1/servers/io.github.trailofbits%2Frfc8785/versions/1.0.1/signatures",
            Some(&r.admin),
            Some(&json!({"bundle": good, "for": "everything"})),
        )
        .await;
    assert_eq!(bad_request.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_request.body["errors"][0]["location"], "for");
    let latest = admin.attach_signature(NAME, "latest", &body).await;
    assert_eq!(refused_status(latest), 400);
    // A removed key signs nothing new; what it signed stays.
    admin.remove_trusted_signer(NS, added.id).await.unwrap();
    let refused = publish(
        &r,
        &envelope(&server_json(NAME, "1.0.2", None), &[(good, "server.json")]),
    )
    .await;
    assert_refused(
        refused,
        "no_trusted_signers",
        "signatures[0]",
        "mcpreg trusted-signer add",
    );
    assert_eq!(
        version_trust(&r, "1.0.0").await.unwrap().signatures.len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_trusted_signer_means_no_signature_is_accepted() {
    let r = registry(TrustRoot::production()).await;
    let doc = server_json(NAME, "0.1.2", Some(wheel_digest()));
    let refused = publish(&r, &envelope(&doc, &[(github_bundle(), "package:0")])).await;
    assert_refused(refused, "no_trusted_signers", "signatures[0]", NS);
    assert_eq!(counts(&r).await, [0, 0, 0, 0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_refused_signature_refuses_the_whole_publish() {
    let r = registry(TrustRoot::production()).await;
    trust(&r, json!({"identity": RFC8785_RELEASE, "issuer": GHA}))
        .await
        .unwrap();
    let doc = server_json(NAME, "0.1.2", Some(wheel_digest()));
    let request = envelope(
        &doc,
        &[
            (github_bundle(), "package:0"),
            (github_bundle(), "package:0"),
            (json!({"mediaType": "text/plain"}), "server.json"),
        ],
    );
    let refused = assert_refused(
        publish(&r, &request).await,
        "duplicate_signature",
        "signatures[1]",
        "appears twice",
    );
    let errors = &refused.errors;
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[1].location, "signatures[2]");
    assert!(errors[1].message.contains("unknown media type"));
    assert_eq!(counts(&r).await, [0, 0, 0, 0], "nothing is half-stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn unpinned_versions_are_catalogued_and_marked() {
    let r = registry(TrustRoot::production()).await;
    let admin = r.admin_client();
    let mut doc = server_json(NAME, "2.0.0", None);
    doc["packages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"registryType": "oci", "identifier": format!("ghcr.io/acme/rfc8785@{}", wheel_digest()), "transport": {"type": "stdio"}}));
    admin.publish_server_json(&doc).await.unwrap();
    let trust = version_trust(&r, "2.0.0").await.unwrap();
    assert!(!trust.pinned);
    assert_eq!(trust.packages[0].digest, None);
    assert_eq!(
        trust.packages[1].digest.as_deref(),
        Some(wheel_digest().to_string().as_str())
    );
    assert!(trust.signatures.is_empty());

    // A digest that does not parse is refused at publish, naming its field.
    doc["version"] = json!("2.0.1");
    doc["packages"][1]["identifier"] = json!("ghcr.io/acme/rfc8785@sha256:abc");
    let refused = admin.publish_server_json(&doc).await.unwrap_err();
    let failure = refused.api_failure().unwrap();
    assert_eq!(failure.status.as_u16(), 422, "{:#?}", failure.problem);
    assert_eq!(failure.problem.errors[0].location, "packages[1].identifier");
}

#[tokio::test(flavor = "multi_thread")]
async fn trusted_signers_are_admin_only_validated_field_by_field_and_audited() {
    let r = registry(TrustRoot::production()).await;
    let admin = r.admin_client();
    for (body, field, says) in [
        (json!({}), "identity", "give `identity`"),
        (
            json!({"identityPattern": "https://github.com/acme/.*", "issuer": GHA}),
            "identityPattern",
            "must be anchored",
        ),
        (
            json!({"identityPattern": "^a(b$", "issuer": GHA}),
            "identityPattern",
            "not a valid regular expression",
        ),
        (json!({"identity": "a@example.com"}), "issuer", "required"),
        (
            json!({"identity": "a@example.com", "issuer": "accounts.google.com"}),
            "issuer",
            "not an http(s) URL",
        ),
        (
            json!({"publicKey": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}),
            "publicKey",
            "invalid public key",
        ),
        (
            json!({"publicKey": text("keys/p384.pub")}),
            "publicKey",
            "ECDSA P-256 or Ed25519",
        ),
        (
            json!({"publicKey": text("keys/p256.pub"), "identity": "a@example.com"}),
            "publicKey",
            "not both",
        ),
        (
            json!({"identity": "a@example.com", "issuer": GHA, "server": "com.other/x"}),
            "server",
            "not in namespace",
        ),
    ] {
        let refused = trust(&r, body.clone()).await.unwrap_err();
        let failure = refused.api_failure().unwrap();
        assert_eq!(
            failure.status.as_u16(),
            400,
            "{body}: {:#?}",
            failure.problem
        );
        let issue = failure
            .problem
            .errors
            .iter()
            .find(|e| e.location == field)
            .unwrap_or_else(|| panic!("{body}: no issue at {field}: {:#?}", failure.problem));
        assert!(issue.message.contains(says), "{body}: {issue:#?}");
    }

    let publisher =
        r.db.scoped_token("pub", Role::Publisher, &["io.github.other"])
            .await;
    let good = signer(json!({"identity": "a@example.com", "issuer": GHA}));
    let denied = r
        .client(Some(&publisher))
        .add_trusted_signer(NS, &good)
        .await;
    assert_eq!(refused_status(denied), 403);
    let created = admin.add_trusted_signer(NS, &good).await.unwrap();
    let twice = admin.add_trusted_signer(NS, &good).await;
    expect_problem(twice, 409, ProblemCode::TrustedSignerExists);
    let key = trust(
        &r,
        json!({"publicKey": text("keys/ed25519.pub"), "server": NAME}),
    )
    .await
    .unwrap();
    assert_eq!(key.key_algorithm.as_deref(), Some("ed25519"));
    assert_eq!(key.server.as_deref(), Some(NAME));

    let list = admin.trusted_signers(NS).await.unwrap();
    assert_eq!(list.trusted_signers.len(), 2);
    admin.remove_trusted_signer(NS, created.id).await.unwrap();
    let again = admin.remove_trusted_signer(NS, created.id).await;
    assert_eq!(refused_status(again), 404);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where action like 'trusted_signer.%' order by id",
    )
    .fetch_all(&r.db.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "trusted_signer.create",
            "trusted_signer.create",
            "trusted_signer.delete"
        ]
    );
    let unknown = admin.trusted_signers("com.nowhere").await;
    assert_eq!(refused_status(unknown), 404);
}

/// End to end with the real binaries: a CI-style `mcpreg publish --bundle` of a real GitHub
/// Actions bundle, then `mcpreg verify` on the client — which passes for the published wheel and
/// fails, with exit code 6 and the reason, for a modified one.
#[tokio::test(flavor = "multi_thread")]
async fn cli_publishes_with_a_bundle_and_verifies_the_artifact() {
    use crate::util::{ServerProcess, mcpreg};

    let db = TestDb::new().await;
    let token = db.token("ci", Role::Admin).await;
    let server = ServerProcess::start(&[], &[("DATABASE_URL", &db.url)]);
    let url = server.url.as_str();
    let t = Some(token.as_str());
    let dir = tempfile::tempdir().unwrap();
    let doc_path = dir.path().join("server.json");
    std::fs::write(
        &doc_path,
        serde_json::to_vec_pretty(&server_json(NAME, "0.1.2", Some(wheel_digest()))).unwrap(),
    )
    .unwrap();
    let doc = doc_path.to_str().unwrap();
    let wheel = trust_fixture("sigstore-python/bundle_v3_github.whl");
    let wheel = wheel.to_str().unwrap();
    let bundle = trust_fixture("sigstore-python/bundle_v3_github.whl.sigstore");
    let bundle = bundle.to_str().unwrap();

    let run = mcpreg(url, t, &["namespace", "create", NS]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // No trusted signer yet: the registry refuses the signature, and with it the version.
    let run = mcpreg(url, t, &["publish", doc, "--bundle", bundle]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("trusted signer check failed"),
        "{}",
        run.stderr
    );
    let run = mcpreg(
        url,
        t,
        &[
            "trusted-signer",
            "add",
            NS,
            "--identity",
            RFC8785_RELEASE,
            "--issuer",
            GHA,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The bundle is checked locally first: it names what it signs and who signed it.
    let run = mcpreg(url, t, &["publish", doc, "--bundle", bundle]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "package:0: signed by {RFC8785_RELEASE} (issuer {GHA})"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains(&format!("published {NAME}@0.1.2")),
        "{}",
        run.stdout
    );

    // The client verifies, offline, with the production root: the published wheel passes.
    let run = mcpreg(
        url,
        None,
        &["verify", &format!("{NAME}@0.1.2"), "--artifact", wheel],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("verified"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("signed by {RFC8785_RELEASE}")),
        "{}",
        run.stdout
    );
    let run = mcpreg(url, None, &["verify", NAME, "-o", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["verified"], true);

    // A modified wheel fails, saying why.
    let mut modified = bytes("sigstore-python/bundle_v3_github.whl");
    let last = modified.len() - 1;
    modified[last] ^= 1;
    let modified_path = dir.path().join("rfc8785-0.1.2-py3-none-any.whl");
    std::fs::write(&modified_path, &modified).unwrap();
    let run = mcpreg(
        url,
        None,
        &[
            "verify",
            &format!("{NAME}@0.1.2"),
            "--artifact",
            modified_path.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 6, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("is not the published artifact"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("artifact_digest_mismatch"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("verification of"), "{}", run.stderr);

    // A key signature over the server.json, attached later, verifies too.
    let key = trust_fixture("keys/p256.key");
    let run = mcpreg(
        url,
        None,
        &["sign", "--key", key.to_str().unwrap(), "--server-json", doc],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let public = trust_fixture("keys/p256.pub");
    let run = mcpreg(
        url,
        t,
        &[
            "trusted-signer",
            "add",
            NS,
            "--key",
            public.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let signature = format!("{doc}.sig.json");
    let run = mcpreg(
        url,
        t,
        &[
            "signature",
            "attach",
            &format!("{NAME}@0.1.2"),
            "--bundle",
            &signature,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("server.json: key signature"),
        "{}",
        run.stderr
    );
    let run = mcpreg(url, None, &["signature", "list", NAME, "-o", "json"]);
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list:#}");
    let run = mcpreg(
        url,
        None,
        &["verify", &format!("{NAME}@0.1.2"), "--artifact", wheel],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ecdsa-p256 key"), "{}", run.stdout);
}

/// A private Sigstore instance: the server and the client are given its `trusted_root.json`
/// (here Sigstore's staging instance). A client that verifies against another root fails.
#[tokio::test(flavor = "multi_thread")]
async fn server_and_client_use_a_configured_trusted_root() {
    use crate::util::{ServerProcess, mcpreg};

    let db = TestDb::new().await;
    let token = db.token("ci", Role::Admin).await;
    let root = trust_fixture("trust/staging/trusted_root.json");
    let root = root.to_str().unwrap();
    let server = ServerProcess::start(&["--trusted-root", root], &[("DATABASE_URL", &db.url)]);
    assert!(
        server.log_text().contains("trust root loaded"),
        "{}",
        server.log_text()
    );
    let url = server.url.as_str();
    let t = Some(token.as_str());
    let dir = tempfile::tempdir().unwrap();
    let artifact = Sha256Digest::of_bytes(&bytes("sigstore-python/bundle_v3.txt"));
    let doc_path = dir.path().join("server.json");
    std::fs::write(
        &doc_path,
        serde_json::to_vec(&server_json(NAME, "1.0.0", Some(artifact))).unwrap(),
    )
    .unwrap();
    let bundle = trust_fixture("sigstore-python/bundle_v3.txt.sigstore");
    assert_eq!(mcpreg(url, t, &["namespace", "create", NS]).code, 0);
    let run = mcpreg(
        url,
        t,
        &[
            "trusted-signer",
            "add",
            NS,
            "--identity",
            WILLIAM,
            "--issuer",
            GITHUB_OAUTH,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let publish = |extra: &[&str]| {
        let mut args = vec![
            "publish",
            doc_path.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--for",
            "package:0",
        ];
        args.extend_from_slice(extra);
        mcpreg(url, t, &args)
    };
    // Checked locally against the production root, the staging bundle is refused before upload.
    let run = publish(&[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("another Sigstore instance"),
        "{}",
        run.stderr
    );
    let run = publish(&["--trusted-root", root]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let version = format!("{NAME}@1.0.0");
    let run = mcpreg(url, None, &["verify", &version, "--trusted-root", root]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = mcpreg(url, None, &["verify", &version]);
    assert_eq!(run.code, 6, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("inclusion_promise"), "{}", run.stdout);
}

#[test]
fn a_bad_trusted_root_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("trusted_root.json");
    std::fs::write(&bad, br#"{"mediaType": "application/json"}"#).unwrap();
    let out = std::process::Command::new(crate::util::binary("mcpreg-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--trusted-root"])
        .arg(&bad)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.contains("--trusted-root") && last.contains("media type"),
        "{stderr}"
    );
    assert!(!dir.path().join("data").exists(), "nothing was started");
}
