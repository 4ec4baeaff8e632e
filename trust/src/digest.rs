//! SHA-256 digests of artifacts and of canonical server.json documents.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The prefix of a digest's text form, as OCI and in-toto write it.
const PREFIX: &str = "sha256:";

/// A SHA-256 digest: the `fileSha256` of an npm tarball, wheel or mcpb file, an OCI manifest
/// digest, or the canonical digest of a server.json.
///
/// Its text form is `sha256:` followed by 64 lowercase hexadecimal characters; [`Sha256Digest::parse`]
/// also takes the bare 64 characters, as server.json's `fileSha256` carries them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Digest([u8; 32]);

/// A digest that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid SHA-256 digest {found:?}: expected `sha256:` and 64 lowercase hexadecimal characters, or the 64 characters alone"
)]
pub struct DigestError {
    /// The text that was given (cut to 80 characters).
    pub found: String,
}

impl Sha256Digest {
    /// Parses `sha256:<64 lowercase hex>` or the bare 64 lowercase hexadecimal characters.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let hex_part = s.strip_prefix(PREFIX).unwrap_or(s);
        let lowercase_hex = hex_part.len() == 64
            && hex_part
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let mut bytes = [0u8; 32];
        if !lowercase_hex || hex::decode_to_slice(hex_part, &mut bytes).is_err() {
            return Err(DigestError {
                found: s.chars().take(80).collect(),
            });
        }
        Ok(Self(bytes))
    }

    /// Wraps 32 raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest of `data`.
    pub fn of_bytes(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }

    /// The digest of everything `reader` yields, read in chunks so that a large artifact never
    /// sits in memory whole.
    pub fn of_reader(mut reader: impl Read) -> std::io::Result<Self> {
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
        Ok(Self(hasher.finalize().into()))
    }

    /// The digest of the file at `path`, streamed.
    pub fn of_file(path: impl AsRef<Path>) -> std::io::Result<Self> {
        Self::of_reader(std::fs::File::open(path)?)
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lowercase hexadecimal characters, without the `sha256:` prefix (the form of
    /// server.json's `fileSha256`).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

impl FromStr for Sha256Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Sha256Digest {
    type Error = DigestError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Sha256Digest> for String {
    fn from(d: Sha256Digest) -> Self {
        d.to_string()
    }
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
            return Sha256Digest::parse(hex)
                .map(Some)
                .map_err(|error| PackageDigestError { field, error });
        }
    }
    let registry_type = text("registryType").or_else(|| text("registry_type"));
    if registry_type == Some("oci")
        && let Some((_, reference)) = text("identifier").and_then(|i| i.rsplit_once('@'))
        && reference.starts_with(PREFIX)
    {
        return Sha256Digest::parse(reference)
            .map(Some)
            .map_err(|error| PackageDigestError {
                field: "identifier",
                error,
            });
    }
    Ok(None)
}

/// The RFC 8785 canonical bytes of a JSON value.
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    serde_jcs::to_vec(value)
        .expect("a serde_json::Value always canonicalises: it holds no non-finite numbers")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_prefixed_and_bare_forms() {
        let a = Sha256Digest::parse(&format!("sha256:{EMPTY}")).unwrap();
        let b = Sha256Digest::parse(EMPTY).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, Sha256Digest::of_bytes(b""));
        assert_eq!(a.to_string(), format!("sha256:{EMPTY}"));
        assert_eq!(a.to_hex(), EMPTY);
    }

    #[test]
    fn rejects_uppercase_short_and_other_algorithms() {
        for bad in [
            EMPTY.to_uppercase(),
            EMPTY[..63].to_string(),
            format!("{EMPTY}0"),
            format!("sha512:{EMPTY}"),
            format!("SHA256:{EMPTY}"),
            format!("sha256:{}", &EMPTY[..62]).to_string() + "zz",
            String::new(),
        ] {
            let err = Sha256Digest::parse(&bad).unwrap_err();
            assert!(err.to_string().contains("invalid SHA-256 digest"), "{err}");
        }
    }

    #[test]
    fn serde_uses_the_prefixed_form() {
        let d = Sha256Digest::of_bytes(b"");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"sha256:{EMPTY}\""));
        let back: Sha256Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Sha256Digest>("\"sha256:nothex\"").is_err());
    }

    #[test]
    fn reader_and_file_match_bytes() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let expected = Sha256Digest::of_bytes(&data);
        assert_eq!(Sha256Digest::of_reader(&data[..]).unwrap(), expected);
        let dir = std::env::temp_dir().join(format!("mcpreg-trust-digest-{}", std::process::id()));
        std::fs::write(&dir, &data).unwrap();
        assert_eq!(Sha256Digest::of_file(&dir).unwrap(), expected);
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
