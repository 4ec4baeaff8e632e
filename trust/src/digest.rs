//! Digests of artifacts (read from files) and of canonical server.json documents. The digest type
//! and canonical JSON themselves are the registry's wire contract, in `mcpreg_api::digest`.

use std::io::Read;
use std::path::Path;

pub use mcpreg_api::digest::{DigestError, Sha256Digest, canonical_json};
use sha2::{Digest as _, Sha256};

/// The prefix of a digest's text form, as OCI and in-toto write it.
const PREFIX: &str = "sha256:";

/// The digest of everything `reader` yields, read in chunks so that a large artifact never sits
/// in memory whole.
pub fn reader_digest(mut reader: impl Read) -> std::io::Result<Sha256Digest> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(Sha256Digest::from_bytes(hasher.finalize().into()))
}

/// The digest of the file at `path`, streamed.
pub fn file_digest(path: impl AsRef<Path>) -> std::io::Result<Sha256Digest> {
    reader_digest(std::fs::File::open(path)?)
}

/// The digest of a server.json document: SHA-256 over its RFC 8785 (JCS) canonical form, so
/// that key order and whitespace do not change it.
///
/// A signature "over the server.json" is a signature over this digest.
pub fn server_json_digest(server_json: &serde_json::Value) -> Sha256Digest {
    Sha256Digest::of_bytes(&canonical_json(server_json))
}

/// A package of a server.json whose digest field is not a valid SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {error}")]
pub struct PackageDigestError {
    /// The package field that holds the bad digest (`fileSha256`, `file_sha256` or `identifier`).
    pub field: &'static str,
    /// What is wrong with it.
    pub error: DigestError,
}

/// The digest a server.json package pins its artifact to, if it pins one: `fileSha256`
/// (`file_sha256` in the 2025-07-09 schema) for a file — npm tarball, wheel, mcpb — or, for an
/// OCI image (`registryType` `oci`), the manifest digest of an identifier such as
/// `ghcr.io/acme/weather@sha256:<hex>`. `Ok(None)`: the package is unpinned.
pub fn package_digest(
    package: &serde_json::Value,
) -> Result<Option<Sha256Digest>, PackageDigestError> {
    let text = |key: &str| package.get(key).and_then(serde_json::Value::as_str);
    for field in ["fileSha256", "file_sha256"] {
        if let Some(hex) = text(field) {
            return Sha256Digest::parse_prefixed_or_hex(hex)
                .map(Some)
                .map_err(|error| PackageDigestError { field, error });
        }
    }
    let registry_type = text("registryType").or_else(|| text("registry_type"));
    if registry_type == Some("oci")
        && let Some((_, reference)) = text("identifier").and_then(|i| i.rsplit_once('@'))
        && reference.starts_with(PREFIX)
    {
        return Sha256Digest::parse_prefixed_or_hex(reference)
            .map(Some)
            .map_err(|error| PackageDigestError {
                field: "identifier",
                error,
            });
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn reader_and_file_match_bytes() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let expected = Sha256Digest::of_bytes(&data);
        assert_eq!(reader_digest(&data[..]).unwrap(), expected);
        let dir = std::env::temp_dir().join(format!("mcpreg-trust-digest-{}", std::process::id()));
        std::fs::write(&dir, &data).unwrap();
        assert_eq!(file_digest(&dir).unwrap(), expected);
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn package_digests_come_from_file_sha256_or_the_oci_reference() {
        let d = Sha256Digest::of_bytes(b"");
        let npm =
            serde_json::json!({"registryType": "npm", "identifier": "x", "fileSha256": EMPTY});
        assert_eq!(package_digest(&npm), Ok(Some(d)));
        let old =
            serde_json::json!({"registry_type": "pypi", "identifier": "x", "file_sha256": EMPTY});
        assert_eq!(package_digest(&old), Ok(Some(d)));
        let oci = serde_json::json!({"registryType": "oci", "identifier": format!("ghcr.io/a/b:1@sha256:{EMPTY}")});
        assert_eq!(package_digest(&oci), Ok(Some(d)));
        let tag_only = serde_json::json!({"registryType": "oci", "identifier": "ghcr.io/a/b:1"});
        assert_eq!(package_digest(&tag_only), Ok(None));
        let scoped_npm = serde_json::json!({"registryType": "npm", "identifier": "@acme/x"});
        assert_eq!(package_digest(&scoped_npm), Ok(None));
        let bad = serde_json::json!({"registryType": "oci", "identifier": "ghcr.io/a/b@sha256:00"});
        assert_eq!(package_digest(&bad).unwrap_err().field, "identifier");
        let bad = serde_json::json!({"registryType": "npm", "identifier": "x", "fileSha256": "zz"});
        assert_eq!(package_digest(&bad).unwrap_err().field, "fileSha256");
    }

    #[test]
    fn server_json_digest_ignores_key_order_and_whitespace() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"name":"com.acme/x","version":"1.0.0","n":1.0}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(
            "{ \"version\": \"1.0.0\",\n \"n\": 1, \"name\": \"com.acme/x\" }",
        )
        .unwrap();
        assert_eq!(server_json_digest(&a), server_json_digest(&b));
        assert_eq!(
            canonical_json(&a),
            br#"{"n":1,"name":"com.acme/x","version":"1.0.0"}"#
        );
        let c: serde_json::Value =
            serde_json::from_str(r#"{"name":"com.acme/x","version":"1.0.1","n":1}"#).unwrap();
        assert_ne!(server_json_digest(&a), server_json_digest(&c));
    }
}
