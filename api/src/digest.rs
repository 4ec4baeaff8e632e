//! SHA-256 digests written `sha256:<hex>`, and canonical JSON (RFC 8785, JCS): the one form of
//! each that the registry, its scanners, its signatures and the CLI share.
//!
//! A digest has one type but arrives in two spellings, and each place that reads one keeps the
//! rule its wire format always had:
//!
//! - [`Sha256Digest::parse_prefixed`]: only `sha256:<64 lowercase hex>` — tools pins, a scan
//!   report's `scannedDigest`, digests given on the command line. Serde reads this form.
//! - [`Sha256Digest::parse_prefixed_or_hex`]: that, or the 64 characters alone, as server.json's
//!   `fileSha256` carries them — package digests, allowlist documents, key signature documents
//!   (through [`prefixed_or_hex`] in `#[serde(deserialize_with)]`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest as _, Sha256};

/// The prefix of a digest's text form, as OCI and in-toto write it.
const PREFIX: &str = "sha256:";

/// A SHA-256 digest: a tools pin, the `fileSha256` of an npm tarball, wheel or mcpb file, an OCI
/// manifest digest, or the canonical digest of a server.json.
///
/// Its text form (`Display`, `FromStr`, serde) is `sha256:` followed by 64 lowercase hexadecimal characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Sha256Digest([u8; 32]);

/// A string that is not a digest in the form the reader expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// [`Sha256Digest::parse_prefixed`] refused it.
    #[error("`{0}` is not a digest of the form sha256:<64 lowercase hexadecimal characters>")]
    NotPrefixed(String),
    /// [`Sha256Digest::parse_prefixed_or_hex`] refused it (the text is cut to 80 characters).
    #[error(
        "invalid SHA-256 digest {0:?}: expected `sha256:` and 64 lowercase hexadecimal characters, or the 64 characters alone"
    )]
    NeitherForm(String),
}

impl Sha256Digest {
    /// Parses `sha256:<64 lowercase hex>`, and nothing else.
    pub fn parse_prefixed(s: &str) -> Result<Self, DigestError> {
        s.strip_prefix(PREFIX)
            .and_then(decode_lowercase_hex)
            .map(Self)
            .ok_or_else(|| DigestError::NotPrefixed(s.to_owned()))
    }

    /// Parses `sha256:<64 lowercase hex>` or the bare 64 lowercase hexadecimal characters.
    pub fn parse_prefixed_or_hex(s: &str) -> Result<Self, DigestError> {
        decode_lowercase_hex(s.strip_prefix(PREFIX).unwrap_or(s))
            .map(Self)
            .ok_or_else(|| DigestError::NeitherForm(s.chars().take(80).collect()))
    }

    /// Wraps 32 raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest of `data`.
    pub fn of_bytes(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }

    /// The digest of a JSON value's canonical form ([`canonical_json`]).
    pub fn of_json(value: &serde_json::Value) -> Self {
        Self::of_bytes(&canonical_json(value))
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

fn decode_lowercase_hex(hex_part: &str) -> Option<[u8; 32]> {
    let lowercase_hex = hex_part.len() == 64
        && hex_part
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let mut bytes = [0u8; 32];
    (lowercase_hex && hex::decode_to_slice(hex_part, &mut bytes).is_ok()).then_some(bytes)
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

/// The text form, as `Display` writes it: [`Sha256Digest::parse_prefixed`].
impl std::str::FromStr for Sha256Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_prefixed(s)
    }
}

impl From<Sha256Digest> for String {
    fn from(d: Sha256Digest) -> Self {
        d.to_string()
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse_prefixed(&s).map_err(serde::de::Error::custom)
    }
}

/// Reads a digest with [`Sha256Digest::parse_prefixed_or_hex`]: for
/// `#[serde(deserialize_with = "mcpreg_api::digest::prefixed_or_hex")]` on fields whose format
/// has always taken the bare form too.
pub fn prefixed_or_hex<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Sha256Digest, D::Error> {
    let s = String::deserialize(deserializer)?;
    Sha256Digest::parse_prefixed_or_hex(&s).map_err(serde::de::Error::custom)
}

/// The RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON value: object members sorted by
/// their UTF-16 code units, no insignificant whitespace, numbers in ECMAScript form.
///
/// Takes a [`serde_json::Value`] because every value has a canonical form, so this cannot fail;
/// a typed value goes through `serde_json::to_value` first.
pub fn canonical_json(value: &serde_json::Value) -> Vec<u8> {
    serde_jcs::to_vec(value)
        .expect("a serde_json::Value always canonicalises: it holds no non-finite numbers")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn canonical_json_sorts_members_by_utf16_code_units() {
        // The sorting example of RFC 8785 section 3.2.3: U+1F600 (a surrogate pair, 0xD83D…)
        // sorts before U+FB33, which UTF-8 byte order would get wrong.
        let v = json!({
            "\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{80}": "Control", "\u{f6}": "Latin Small Letter O With Diaeresis"
        });
        let keys: Vec<String> =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&canonical_json(
                &v,
            ))
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            [
                "\r",
                "1",
                "\u{80}",
                "\u{f6}",
                "\u{20ac}",
                "\u{1f600}",
                "\u{fb33}"
            ]
        );
        assert_eq!(
            String::from_utf8(canonical_json(&json!({"b": [1.0, 1e21, 0.1], "a": true}))).unwrap(),
            "{\"a\":true,\"b\":[1,1e+21,0.1]}"
        );
    }

    #[test]
    fn the_prefixed_form_alone_is_refused_bare() {
        let d = Sha256Digest::of_bytes(b"");
        assert_eq!(d.to_string(), format!("sha256:{EMPTY}"));
        assert_eq!(d.to_hex(), EMPTY);
        assert_eq!(Sha256Digest::parse_prefixed(&d.to_string()).unwrap(), d);
        assert!(Sha256Digest::parse_prefixed("sha256:E3B0").is_err());
        let bare = Sha256Digest::parse_prefixed(EMPTY).unwrap_err();
        assert!(
            bare.to_string().contains("is not a digest of the form"),
            "{bare}"
        );
        assert!(serde_json::from_value::<Sha256Digest>(json!(EMPTY)).is_err());
    }

    #[test]
    fn either_form_parses_where_the_bare_form_is_allowed() {
        let a = Sha256Digest::parse_prefixed_or_hex(&format!("sha256:{EMPTY}")).unwrap();
        let b = Sha256Digest::parse_prefixed_or_hex(EMPTY).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, Sha256Digest::of_bytes(b""));
        #[derive(Deserialize)]
        struct Doc {
            #[serde(deserialize_with = "prefixed_or_hex")]
            digest: Sha256Digest,
        }
        let doc: Doc = serde_json::from_value(json!({"digest": EMPTY})).unwrap();
        assert_eq!(doc.digest, a);
    }

    #[test]
    fn uppercase_short_and_other_algorithms_are_refused_in_either_form() {
        for bad in [
            EMPTY.to_uppercase(),
            EMPTY[..63].to_string(),
            format!("{EMPTY}0"),
            format!("sha512:{EMPTY}"),
            format!("SHA256:{EMPTY}"),
            format!("sha256:{}", &EMPTY[..62]).to_string() + "zz",
            String::new(),
        ] {
            let err = Sha256Digest::parse_prefixed_or_hex(&bad).unwrap_err();
            assert!(err.to_string().contains("invalid SHA-256 digest"), "{err}");
            assert!(Sha256Digest::parse_prefixed(&bad).is_err());
        }
    }

    #[test]
    fn serde_writes_the_prefixed_form_and_orders_like_the_text() {
        let d = Sha256Digest::of_bytes(b"");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"sha256:{EMPTY}\""));
        let back: Sha256Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Sha256Digest>("\"sha256:nothex\"").is_err());
        let (x, y) = (Sha256Digest::of_bytes(b"x"), Sha256Digest::of_bytes(b"y"));
        assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
    }
}
