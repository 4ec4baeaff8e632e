//! Who may sign: expected signer identities (keyless, Fulcio certificates) and trusted public
//! keys (key-based signatures).

use std::fmt;

use serde::{Deserialize, Serialize};
use sigstore_verify::crypto::KeyAlgorithm;
use sigstore_verify::types::DerPublicKey;

use crate::Sha256Digest;

/// Why a signer policy entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerPolicyError {
    /// An identity or issuer is empty.
    #[error("{field} must not be empty")]
    Empty {
        /// `identity` or `issuer`.
        field: &'static str,
    },
    /// An identity pattern is not anchored with `^…$`.
    #[error(
        "identity pattern {pattern:?} must be anchored: start with `^` and end with `$`, so it cannot match a longer identity by accident"
    )]
    Unanchored {
        /// The pattern as given.
        pattern: String,
    },
    /// An identity pattern is not a valid regular expression.
    #[error("identity pattern {pattern:?} is not a valid regular expression: {reason}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// What the regex parser reported.
        reason: String,
    },
    /// A public key is not a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) of a supported algorithm.
    #[error("invalid public key: {reason}")]
    BadKey {
        /// What was wrong with it.
        reason: String,
    },
}

/// How a signer's certificate identity (its Subject Alternative Name: an email address, or for CI
/// a workflow URI) is matched.
#[derive(Clone)]
pub enum IdentityMatcher {
    /// The SAN equals this string exactly.
    Exact(String),
    /// The SAN matches this regular expression as a whole: [`SignerIdentity::pattern`] compiles
    /// the written `^…$` pattern as `^(?:…)$`, so an alternation inside it (`^a|b$`) cannot
    /// match a longer identity.
    Pattern(regex::Regex),
}

/// What [`SignerIdentity::pattern`] wraps a written pattern in, so that it matches whole SANs only
/// (alternation binds looser than `^` and `$`: `^a|b$` alone matches `ab-evil` and `evil-b`).
const WHOLE_MATCH_PREFIX: &str = "^(?:";
/// See [`WHOLE_MATCH_PREFIX`].
const WHOLE_MATCH_SUFFIX: &str = ")$";

impl IdentityMatcher {
    /// Whether `san` satisfies this matcher.
    pub fn matches(&self, san: &str) -> bool {
        match self {
            Self::Exact(expected) => expected == san,
            Self::Pattern(re) => re.is_match(san),
        }
    }
}

impl fmt::Display for IdentityMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(s) => f.write_str(s),
            // The pattern as written, not the wrapping `SignerIdentity::pattern` added.
            Self::Pattern(re) => {
                let compiled = re.as_str();
                let written = compiled
                    .strip_prefix(WHOLE_MATCH_PREFIX)
                    .and_then(|rest| rest.strip_suffix(WHOLE_MATCH_SUFFIX))
                    .unwrap_or(compiled);
                write!(f, "/{written}/")
            }
        }
    }
}

impl fmt::Debug for IdentityMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialEq for IdentityMatcher {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Exact(a), Self::Exact(b)) => a == b,
            (Self::Pattern(a), Self::Pattern(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl Eq for IdentityMatcher {}

/// One expected keyless signer: a certificate identity (exact or anchored pattern) and the exact
/// OIDC issuer that must have vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerIdentity {
    identity: IdentityMatcher,
    issuer: String,
}

impl SignerIdentity {
    /// A signer whose SAN must equal `identity`, issued through `issuer`
    /// (for example `https://token.actions.githubusercontent.com`).
    pub fn exact(
        identity: impl Into<String>,
        issuer: impl Into<String>,
    ) -> Result<Self, SignerPolicyError> {
        let identity = identity.into();
        if identity.is_empty() {
            return Err(SignerPolicyError::Empty { field: "identity" });
        }
        Ok(Self {
            identity: IdentityMatcher::Exact(identity),
            issuer: non_empty_issuer(issuer.into())?,
        })
    }

    /// A signer whose SAN must match `pattern`, which must start with `^` and end with `$`
    /// (for example `^https://github\.com/acme/[a-z-]+/\.github/workflows/release\.yml@refs/tags/v.*$`).
    ///
    /// The whole SAN must match: the pattern is compiled as `^(?:pattern)$`, so `^a|b$` matches
    /// exactly `a` and `b`, not every SAN that starts with `a` or ends with `b`.
    pub fn pattern(pattern: &str, issuer: impl Into<String>) -> Result<Self, SignerPolicyError> {
        if !pattern.starts_with('^') || !pattern.ends_with('$') || pattern.ends_with("\\$") {
            return Err(SignerPolicyError::Unanchored {
                pattern: pattern.to_string(),
            });
        }
        let bad = |e: regex::Error| SignerPolicyError::BadPattern {
            pattern: pattern.to_string(),
            reason: e.to_string(),
        };
        // The written pattern must be a regex on its own: wrapped, an unbalanced one such as
        // `^a)|(b$` would compile into a different, unanchored alternation.
        regex::Regex::new(pattern).map_err(bad)?;
        // Fails (closed) when the wrapping does not close, e.g. a trailing `(?x)` comment.
        let re = regex::Regex::new(&format!(
            "{WHOLE_MATCH_PREFIX}{pattern}{WHOLE_MATCH_SUFFIX}"
        ))
        .map_err(bad)?;
        Ok(Self {
            identity: IdentityMatcher::Pattern(re),
            issuer: non_empty_issuer(issuer.into())?,
        })
    }

    /// How the SAN is matched.
    pub fn identity(&self) -> &IdentityMatcher {
        &self.identity
    }

    /// The OIDC issuer required.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Whether a certificate with this SAN and issuer is this signer.
    pub fn matches(&self, san: &str, issuer: &str) -> bool {
        self.issuer == issuer && self.identity.matches(san)
    }
}

impl fmt::Display for SignerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (issuer {})", self.identity, self.issuer)
    }
}

fn non_empty_issuer(issuer: String) -> Result<String, SignerPolicyError> {
    if issuer.is_empty() {
        Err(SignerPolicyError::Empty { field: "issuer" })
    } else {
        Ok(issuer)
    }
}

/// The algorithm of a trusted public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    /// ECDSA over NIST P-256 with SHA-256 (cosign's default key type).
    EcdsaP256,
    /// Ed25519.
    Ed25519,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EcdsaP256 => "ecdsa-p256",
            Self::Ed25519 => "ed25519",
        })
    }
}

/// A trusted public key for key-based signatures: a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), the
/// format `cosign generate-key-pair` writes to `cosign.pub` and `openssl pkey -pubout` prints.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    spki: Vec<u8>,
    kind: KeyKind,
}

impl PublicKey {
    /// Parses a PEM `PUBLIC KEY` block holding an ECDSA P-256 or Ed25519 key.
    pub fn from_pem(pem: &str) -> Result<Self, SignerPolicyError> {
        let der = DerPublicKey::from_pem(pem).map_err(|e| SignerPolicyError::BadKey {
            reason: format!("not a PEM `PUBLIC KEY` block: {e}"),
        })?;
        Self::from_spki_der(der.as_bytes())
    }

    /// Parses a DER SubjectPublicKeyInfo holding an ECDSA P-256 or Ed25519 key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, SignerPolicyError> {
        let key = DerPublicKey::new(der.to_vec());
        let kind = match KeyAlgorithm::from_spki(&key) {
            Ok(KeyAlgorithm::EcdsaP256) => KeyKind::EcdsaP256,
            Ok(KeyAlgorithm::Ed25519) => KeyKind::Ed25519,
            Ok(other) => {
                return Err(SignerPolicyError::BadKey {
                    reason: format!("{other:?} keys are not supported; use ECDSA P-256 or Ed25519"),
                });
            }
            Err(e) => {
                return Err(SignerPolicyError::BadKey {
                    reason: e.to_string(),
                });
            }
        };
        // Reject keys the crypto backend cannot load (off-curve points, wrong lengths) now,
        // rather than as a confusing signature failure later.
        sigstore_verify::crypto::VerificationKey::from_spki(&key).map_err(|e| {
            SignerPolicyError::BadKey {
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            spki: der.to_vec(),
            kind,
        })
    }

    /// The key's algorithm.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The key's ID: `sha256:` and the hex SHA-256 of its DER SubjectPublicKeyInfo.
    pub fn key_id(&self) -> String {
        Sha256Digest::of_bytes(&self.spki).to_string()
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The key as a PEM `PUBLIC KEY` block.
    pub fn to_pem(&self) -> String {
        DerPublicKey::new(self.spki.clone()).to_pem()
    }

    pub(crate) fn der_public_key(&self) -> DerPublicKey {
        DerPublicKey::new(self.spki.clone())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} {})", self.kind, self.key_id())
    }
}

/// Who may sign one namespace or server: keyless signer identities and trusted public keys.
///
/// A signature verifies only if its signer is listed here; an empty policy accepts nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignerPolicy {
    identities: Vec<SignerIdentity>,
    keys: Vec<PublicKey>,
}

impl SignerPolicy {
    /// An empty policy (accepts no signature until signers are added).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an expected keyless signer.
    pub fn with_identity(mut self, identity: SignerIdentity) -> Self {
        self.identities.push(identity);
        self
    }

    /// Adds a trusted public key.
    pub fn with_key(mut self, key: PublicKey) -> Self {
        self.keys.push(key);
        self
    }

    /// The expected keyless signers.
    pub fn identities(&self) -> &[SignerIdentity] {
        &self.identities
    }

    /// The trusted public keys.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// The first expected signer that a certificate with this SAN and issuer satisfies.
    pub fn signer_for(&self, san: &str, issuer: &str) -> Option<&SignerIdentity> {
        self.identities.iter().find(|s| s.matches(san, issuer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GHA: &str = "https://token.actions.githubusercontent.com";

    #[test]
    fn exact_identity_matches_only_itself_and_its_issuer() {
        let s = SignerIdentity::exact("a@example.com", GHA).unwrap();
        assert!(s.matches("a@example.com", GHA));
        assert!(!s.matches("a@example.com.evil", GHA));
        assert!(!s.matches("a@example.com", "https://accounts.google.com"));
    }

    #[test]
    fn patterns_must_be_anchored() {
        for bad in ["a.*", "^a.*", "a.*$", "^a\\$"] {
            assert!(
                matches!(
                    SignerIdentity::pattern(bad, GHA),
                    Err(SignerPolicyError::Unanchored { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            SignerIdentity::pattern("^a(b$", GHA),
            Err(SignerPolicyError::BadPattern { .. })
        ));
        let s = SignerIdentity::pattern(
            r"^https://github\.com/acme/[a-z]+/\.github/workflows/release\.yml@refs/tags/v.+$",
            GHA,
        )
        .unwrap();
        assert!(s.matches(
            "https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1.2.3",
            GHA
        ));
        assert!(!s.matches(
            "https://github.com/evil/acme/tool/.github/workflows/release.yml@refs/tags/v1",
            GHA
        ));
    }

    /// `san` matched against `pattern` as written, without the whole-match wrapping: shows
    /// that a case below exercises the anchoring and is not refused for another reason.
    fn matches_as_written(pattern: &str, san: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(san)
    }

    #[test]
    fn alternation_cannot_escape_the_anchors() {
        let s = SignerIdentity::pattern("^a|b$", GHA).unwrap();
        for (san, expected) in [
            ("a", true),
            ("b", true),
            ("ab", false),
            ("ab-evil", false),
            ("a-evil", false),
            ("evil-b", false),
            ("evil-a-b", false),
            ("", false),
        ] {
            assert_eq!(s.matches(san, GHA), expected, "{san:?}");
        }
        assert!(matches_as_written("^a|b$", "ab-evil"));
        assert!(matches_as_written("^a|b$", "evil-b"));
        // Still the issuer too.
        assert!(!s.matches("a", "https://accounts.google.com"));
    }

    #[test]
    fn release_workflow_pattern_matches_only_its_tags() {
        let s = SignerIdentity::pattern(
            r"^https://github\.com/acme/weather/\.github/workflows/release\.yml@refs/tags/v.*$",
            GHA,
        )
        .unwrap();
        let base = "https://github.com/acme/weather/.github/workflows/release.yml";
        for (san, expected) in [
            (format!("{base}@refs/tags/v1.2.3"), true),
            (format!("{base}@refs/tags/v"), true),
            (format!("{base}@refs/heads/main"), false),
            (format!("{base}@refs/tags/v1.2.3\nextra"), false),
            (format!("https://evil.example/{base}@refs/tags/v1"), false),
            (
                "https://github.com/acme/weather-evil/.github/workflows/release.yml@refs/tags/v1"
                    .to_string(),
                false,
            ),
            (
                "https://github.com/acme/weather/.github/workflows/releaseXyml@refs/tags/v1"
                    .to_string(),
                false,
            ),
        ] {
            assert_eq!(s.matches(&san, GHA), expected, "{san:?}");
        }
    }

    #[test]
    fn two_workflows_in_one_pattern_match_whole_identities_only() {
        // Two workflows joined by a bare `|`: as written, the first alternative is anchored only
        // at the start and the second only at the end.
        let pattern = r"^https://github\.com/acme/weather/\.github/workflows/release\.yml@refs/tags/v.*|https://github\.com/acme/weather/\.github/workflows/nightly\.yml@refs/heads/main$";
        let s = SignerIdentity::pattern(pattern, GHA).unwrap();
        let release =
            "https://github.com/acme/weather/.github/workflows/release.yml@refs/tags/v2.0.0";
        let nightly =
            "https://github.com/acme/weather/.github/workflows/nightly.yml@refs/heads/main";
        let evil =
            format!("https://github.com/evil/fork/.github/workflows/x.yml@refs/heads/{nightly}");
        assert!(s.matches(release, GHA));
        assert!(s.matches(nightly, GHA));
        assert!(!s.matches(&evil, GHA));
        assert!(matches_as_written(pattern, &evil));
    }

    #[test]
    fn inline_flags_cannot_escape_the_anchors() {
        // Multi-line mode set inside the pattern ends with the wrapping group.
        let s = SignerIdentity::pattern("^(?m)a$", GHA).unwrap();
        assert!(s.matches("a", GHA));
        assert!(!s.matches("a\nevil", GHA));
        assert!(matches_as_written("^(?m)a$", "a\nevil"));
        // A trailing comment in verbose mode swallows the `$`: the wrapping does not close.
        assert!(matches!(
            SignerIdentity::pattern("^(?x)a #$", GHA),
            Err(SignerPolicyError::BadPattern { .. })
        ));
    }

    #[test]
    fn unbalanced_patterns_cannot_reshape_the_wrapping() {
        // Wrapped as `^(?:^a)|(b$)$` these would compile, unanchored; they are refused as
        // written.
        for bad in ["^a)|(b$", "^a)|(?:b$"] {
            assert_eq!(
                SignerIdentity::pattern(bad, GHA).map(|_| ()),
                Err(SignerPolicyError::BadPattern {
                    pattern: bad.to_string(),
                    reason: regex::Regex::new(bad).unwrap_err().to_string(),
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn patterns_display_and_compare_as_written() {
        let s = SignerIdentity::pattern("^a|b$", GHA).unwrap();
        assert_eq!(s.identity().to_string(), "/^a|b$/");
        assert_eq!(s.to_string(), format!("/^a|b$/ (issuer {GHA})"));
        assert_eq!(s, SignerIdentity::pattern("^a|b$", GHA).unwrap());
        assert_ne!(s, SignerIdentity::pattern("^(?:a|b)$", GHA).unwrap());
    }

    #[test]
    fn empty_fields_are_refused() {
        assert_eq!(
            SignerIdentity::exact("", GHA),
            Err(SignerPolicyError::Empty { field: "identity" })
        );
        assert_eq!(
            SignerIdentity::exact("a", ""),
            Err(SignerPolicyError::Empty { field: "issuer" })
        );
    }

    #[test]
    fn public_key_rejects_garbage_and_unsupported_algorithms() {
        assert!(matches!(
            PublicKey::from_pem("not pem"),
            Err(SignerPolicyError::BadKey { .. })
        ));
        // DER that is not a SubjectPublicKeyInfo.
        assert!(matches!(
            PublicKey::from_spki_der(&[0x30, 0x03, 0x02, 0x01, 0x00]),
            Err(SignerPolicyError::BadKey { .. })
        ));
    }
}
