//! End to end: the real `mcpreg` binary as a sigstore-conformance client
//! (`mcpreg sigstore verify-bundle …`), and `mcpreg sign` feeding it, with the real bundles and
//! trust roots in `trust/tests/fixtures` (sources in that folder's README).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::mcp_servers::{run, stderr};

const WILLIAM: &str = "william@yossarian.net";
const GITHUB_OAUTH: &str = "https://github.com/login/oauth";
const GHA: &str = "https://token.actions.githubusercontent.com";
const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../trust/tests/fixtures")
        .join(rel)
}

fn fx(rel: &str) -> String {
    fixture(rel).to_str().expect("a UTF-8 path").to_string()
}

/// Runs `mcpreg ARGS…` with no registry to reach (these commands must not need one) and no
/// signing key from the environment.
fn mcpreg(args: &[&str]) -> Output {
    run(crate::mcp_servers::mcpreg()
        .args(args)
        .env_remove("MCPREG_SIGNING_KEY"))
}

#[track_caller]
fn assert_verified(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
}

#[track_caller]
fn assert_rejected(o: &Output, says: &[&str]) {
    assert_eq!(o.status.code(), Some(3), "stderr: {}", stderr(o));
    for s in says {
        assert!(
            stderr(o).contains(s),
            "stderr should say {s:?}: {}",
            stderr(o)
        );
    }
}

fn verify_bundle(extra: &[&str]) -> Output {
    let mut args = vec!["sigstore", "verify-bundle"];
    args.extend_from_slice(extra);
    mcpreg(&args)
}

#[test]
fn verifies_a_bundle_with_the_conformance_flags() {
    let bundle = fx("sigstore-python/bundle_v3.txt.sigstore");
    let artifact = fx("sigstore-python/bundle_v3.txt");
    let root = fx("trust/staging/trusted_root.json");
    let o = verify_bundle(&[
        "--bundle",
        &bundle,
        "--certificate-identity",
        WILLIAM,
        "--certificate-oidc-issuer",
        GITHUB_OAUTH,
        "--trusted-root",
        &root,
        &artifact,
    ]);
    assert_verified(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains(WILLIAM));
    // --staging uses the embedded staging root.
    assert_verified(&verify_bundle(&[
        "--staging",
        "--bundle",
        &bundle,
        "--certificate-identity",
        WILLIAM,
        "--certificate-oidc-issuer",
        GITHUB_OAUTH,
        &artifact,
    ]));
}

#[test]
fn verifies_against_a_digest_and_prints_json() {
    let o = mcpreg(&[
        "--output",
        "json",
        "sigstore",
        "verify-bundle",
        "--bundle",
        &fx("sigstore-python/a.dsse.staging-rekor-v2.txt.sigstore.json"),
        "--certificate-identity",
        BEACON,
        "--certificate-oidc-issuer",
        GHA,
        "--trusted-root",
        &fx("trust/staging/trusted_root.json"),
        "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
    ]);
    assert_verified(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["signer"]["identity"], BEACON);
    assert_eq!(v["kind"]["type"], "dsse");
    assert_eq!(
        v["kind"]["predicate_type"],
        "https://slsa.dev/provenance/v1"
    );
}

#[test]
fn production_is_the_default_root() {
    let o = verify_bundle(&[
        "--bundle",
        &fx("sigstore-python/bundle_v3_github.whl.sigstore"),
        "--certificate-identity",
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
        "--certificate-oidc-issuer",
        GHA,
        &fx("sigstore-python/bundle_v3_github.whl"),
    ]);
    assert_verified(&o);
    // A staging bundle does not verify against it.
    let o = verify_bundle(&[
        "--bundle",
        &fx("sigstore-python/bundle_v3.txt.sigstore"),
        "--certificate-identity",
        WILLIAM,
        "--certificate-oidc-issuer",
        GITHUB_OAUTH,
        &fx("sigstore-python/bundle_v3.txt"),
    ]);
    assert_rejected(&o, &["signed entry timestamp check failed"]);
}

#[test]
fn failures_exit_non_zero_and_say_why() {
    let bundle = fx("sigstore-python/bundle_v3.txt.sigstore");
    let artifact = fx("sigstore-python/bundle_v3.txt");
    let root = fx("trust/staging/trusted_root.json");
    // Wrong identity: names the identity the certificate carried.
    assert_rejected(
        &verify_bundle(&[
            "--bundle",
            &bundle,
            "--certificate-identity",
            "someone-else@example.com",
            "--certificate-oidc-issuer",
            GITHUB_OAUTH,
            "--trusted-root",
            &root,
            &artifact,
        ]),
        &["identity check failed", WILLIAM],
    );
    // Tampered artifact.
    assert_rejected(
        &verify_bundle(&[
            "--bundle",
            &bundle,
            "--certificate-identity",
            WILLIAM,
            "--certificate-oidc-issuer",
            GITHUB_OAUTH,
            "--trusted-root",
            &root,
            &fx("sigstore-python/bundle.txt"),
        ]),
        &["artifact digest check failed"],
    );
    // A digest-looking argument of the wrong length is a (missing) file.
    let o = verify_bundle(&[
        "--bundle",
        &bundle,
        "--certificate-identity",
        WILLIAM,
        "--certificate-oidc-issuer",
        GITHUB_OAUTH,
        "--trusted-root",
        &root,
        "sha256:abc",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot read sha256:abc"));
    // CVE-2022-36056.
    assert_rejected(
        &verify_bundle(&[
            "--bundle",
            &fx("sigstore-python/bundle_cve_2022_36056.txt.sigstore"),
            "--certificate-identity",
            WILLIAM,
            "--certificate-oidc-issuer",
            GITHUB_OAUTH,
            "--trusted-root",
            &root,
            &fx("sigstore-python/bundle_cve_2022_36056.txt"),
        ]),
        &["log entry consistency check failed"],
    );
    // A bad trusted root.
    assert_rejected(
        &verify_bundle(&[
            "--bundle",
            &bundle,
            "--certificate-identity",
            WILLIAM,
            "--certificate-oidc-issuer",
            GITHUB_OAUTH,
            "--trusted-root",
            &fx("sigstore-python/trusted_root/trustedroot.badtype.json"),
            &artifact,
        ]),
        &["bad-media-type"],
    );
}

#[test]
fn usage_errors_exit_2() {
    let bundle = fx("sigstore-python/bundle_v3.txt.sigstore");
    let artifact = fx("sigstore-python/bundle_v3.txt");
    for args in [
        // No signer at all.
        vec!["--bundle", &bundle, &artifact],
        // An identity without its issuer.
        vec![
            "--bundle",
            &bundle,
            "--certificate-identity",
            WILLIAM,
            &artifact,
        ],
        // Both an identity and a key.
        vec![
            "--bundle",
            &bundle,
            "--certificate-identity",
            WILLIAM,
            "--certificate-oidc-issuer",
            GITHUB_OAUTH,
            "--key",
            &bundle,
            &artifact,
        ],
    ] {
        let o = verify_bundle(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn sign_then_verify_with_the_key() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sigstore_conformance_sign");
    std::fs::create_dir_all(&dir).unwrap();
    let artifact = dir.join("server.mcpb");
    std::fs::write(&artifact, b"an mcpb bundle").unwrap();
    let artifact = artifact.to_str().unwrap();
    for kind in ["p256", "ed25519"] {
        let key = fx(&format!("keys/{kind}.key"));
        let public = fx(&format!("keys/{kind}.pub"));
        let sig = dir.join(format!("server.mcpb.{kind}.sig.json"));
        let sig = sig.to_str().unwrap();
        let o = mcpreg(&["sign", "--key", &key, "--out", sig, artifact]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(sig).unwrap()).unwrap();
        assert_eq!(doc["mediaType"], "application/vnd.mcpreg.signature.v1+json");
        assert_verified(&verify_bundle(&[
            "--bundle", sig, "--key", &public, artifact,
        ]));
        // The digest alone is enough.
        let digest = doc["digest"].as_str().unwrap();
        assert_verified(&verify_bundle(&["--bundle", sig, "--key", &public, digest]));
        // Another key: rejected, naming the key that signed.
        let other = fx(if kind == "p256" {
            "keys/ed25519.pub"
        } else {
            "keys/p256.pub"
        });
        assert_rejected(
            &verify_bundle(&["--bundle", sig, "--key", &other, artifact]),
            &["key check failed", doc["keyId"].as_str().unwrap()],
        );
    }
    // Default output file, and the canonical server.json digest.
    let server_json = dir.join("server.json");
    std::fs::write(
        &server_json,
        br#"{"version": "1.0.0", "name": "com.acme/x"}"#,
    )
    .unwrap();
    let o = mcpreg(&[
        "sign",
        "--key",
        &fx("keys/ed25519.key"),
        "--server-json",
        server_json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("server.json.sig.json")).unwrap()).unwrap();
    let canonical = br#"{"name":"com.acme/x","version":"1.0.0"}"#;
    let expected = mcpreg_trust::Sha256Digest::of_bytes(canonical).to_string();
    assert_eq!(doc["digest"], expected.as_str());
    // A key that is not PKCS#8.
    let o = mcpreg(&[
        "sign",
        "--key",
        &fx("keys/p256.pub"),
        "--out",
        "-",
        artifact,
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("PUBLIC KEY"), "{}", stderr(&o));
}
