//! Helpers shared by the integration tests: fixture files, trust roots, policies.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use mcpreg_trust::{SignerIdentity, SignerPolicy, TrustRoot};

/// GitHub's OAuth issuer, which staging signatures in sigstore-python's fixtures carry.
pub const GITHUB_OAUTH: &str = "https://github.com/login/oauth";
/// Google's issuer.
pub const GOOGLE: &str = "https://accounts.google.com";
/// The GitHub Actions OIDC issuer.
pub const GHA: &str = "https://token.actions.githubusercontent.com";

/// Path of a file under `tests/fixtures`.
pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Bytes of a file under `tests/fixtures`.
pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

/// A trust root from a file under `tests/fixtures`.
pub fn root(rel: &str) -> TrustRoot {
    TrustRoot::from_json(&fixture(rel)).unwrap_or_else(|e| panic!("trust root {rel}: {e}"))
}

/// Sigstore's staging instance.
pub fn staging() -> TrustRoot {
    root("trust/staging/trusted_root.json")
}

/// Sigstore's production instance (the fixture copy, not the embedded one).
pub fn production() -> TrustRoot {
    root("trust/production/trusted_root.json")
}

/// A policy that expects exactly this signer.
pub fn expect(identity: &str, issuer: &str) -> SignerPolicy {
    SignerPolicy::new().with_identity(
        SignerIdentity::exact(identity, issuer).expect("a valid identity and issuer"),
    )
}

/// The verification time the tests use: fixed, after every fixture was signed.
pub fn now() -> DateTime<Utc> {
    "2026-09-01T00:00:00Z".parse().expect("an RFC 3339 time")
}
