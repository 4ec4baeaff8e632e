//! One module per subcommand.

pub mod allowlist;
pub mod audit;
pub mod auth;
pub mod canonicalize;
pub mod check;
pub mod import;
pub mod namespace;
pub mod policy;
pub mod publish;
pub mod review;
pub mod scan;
pub mod scans;
pub mod server;
pub mod sign;
pub mod signature;
pub mod sigstore;
pub mod status;
pub mod token;
pub mod tools;
pub mod trusted_publisher;
pub mod trusted_signer;
pub mod verify;

/// Input refused before it reached the registry (local validation); exits with code 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

/// Splits `NAME@VERSION`.
pub fn split_name_version(s: &str) -> (&str, Option<&str>) {
    match s.rsplit_once('@') {
        Some((name, version)) if !version.is_empty() => (name, Some(version)),
        _ => (s, None),
    }
}
