//! Canonical JSON (RFC 8785, JCS) and SHA-256 digests written `sha256:<hex>`.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// A SHA-256 digest, written `sha256:` followed by 64 lowercase hexadecimal characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Digest(String);

/// A string that is not a `sha256:<64 hex>` digest.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a digest of the form sha256:<64 lowercase hexadecimal characters>")]
pub struct DigestError(String);

impl Sha256Digest {
    const PREFIX: &'static str = "sha256:";

    /// Parses `sha256:<64 lowercase hex>`.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let hex = s
            .strip_prefix(Self::PREFIX)
            .ok_or_else(|| DigestError(s.to_owned()))?;
        if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(s.to_owned()))
        } else {
            Err(DigestError(s.to_owned()))
        }
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(format!(
            "{}{}",
            Self::PREFIX,
            hex::encode(Sha256::digest(bytes))
        ))
    }

    /// The digest of a value's canonical JSON.
    pub fn of_json<T: Serialize + ?Sized>(value: &T) -> Result<Self, CanonicalError> {
        Ok(Self::of(&canonical_json(value)?))
    }

    /// `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 64 hexadecimal characters alone.
    pub fn hex(&self) -> &str {
        &self.0[Self::PREFIX.len()..]
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.0)
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
        d.0
    }
}

/// A value that has no canonical JSON form.
#[derive(Debug, thiserror::Error)]
#[error("cannot write canonical JSON: {0}")]
pub struct CanonicalError(#[from] serde_json::Error);

/// The RFC 8785 (JSON Canonicalization Scheme) bytes of a value: object members sorted by their
/// UTF-16 code units, no insignificant whitespace, numbers in ECMAScript form.
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    Ok(serde_jcs::to_vec(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_members_by_utf16_code_units() {
        // The sorting example of RFC 8785 section 3.2.3: U+1F600 (a surrogate pair, 0xD83D…)
        // sorts before U+FB33, which UTF-8 byte order would get wrong.
        let v = json!({
            "\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{80}": "Control", "\u{f6}": "Latin Small Letter O With Diaeresis"
        });
        let keys: Vec<String> =
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(
                &canonical_json(&v).unwrap(),
            )
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
            String::from_utf8(canonical_json(&json!({"b": [1.0, 1e21, 0.1], "a": true})).unwrap())
                .unwrap(),
            "{\"a\":true,\"b\":[1,1e+21,0.1]}"
        );
    }

    #[test]
    fn digests_parse_and_print() {
        let d = Sha256Digest::of(b"");
        assert_eq!(
            d.as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Sha256Digest::parse(d.as_str()).unwrap(), d);
        assert!(Sha256Digest::parse("sha256:E3B0").is_err());
        assert!(Sha256Digest::parse(d.hex()).is_err());
    }
}
