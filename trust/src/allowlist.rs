//! Signed allowlists and the registry's keyset: Ed25519 signatures over RFC 8785 canonical JSON,
//! TUF style.
//!
//! - [`AllowlistSigningKey`] signs an [`AllowlistDocument`] (or a [`KeySet`]) into an envelope whose
//!   `signatures` are over the canonical JSON of its `signed` part.
//! - [`verify_allowlist_json`] checks an envelope as it arrived (the canonical form of the JSON that
//!   was received, so fields this version does not know still count) against the keys a client
//!   trusts, and returns the document. [`verify_allowlist`] does the same for a parsed envelope.
//! - [`check_fresh`] refuses rollback (a lower version than one already seen) and freeze (an
//!   expired document); [`check_subject`] refuses a document for another allowlist or registry.
//! - [`verify_keyset_json`] accepts a new keyset only when a pinned key signed it and its version
//!   did not go down, which is how a client that pinned the old key learns the new one;
//!   [`verify_keyset_first_use_json`] checks a keyset a client has no pin for yet (trust on first
//!   use): it must be signed by one of its own active keys.
//!
//! A key's ID is `sha256:` and the hex SHA-256 of its raw 32-byte public key (not of its DER
//! SubjectPublicKeyInfo, unlike [`crate::PublicKey::key_id`]): the keyset publishes raw keys.

use std::fmt;

use aws_lc_rs::signature::{self as lc, KeyPair as _};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use mcpreg_api::allowlist::{
    ALLOWLIST_DOCUMENT_TYPE, AllowlistDocument, DocumentSignature, ED25519, KEYSET_DOCUMENT_TYPE,
    KeySet, KeyStatus, PublishedKey, SignedAllowlist, SignedKeySet,
};
use serde::Deserialize;
use serde_json::Value;

use crate::policy::{KeyKind, PublicKey};
use crate::{Sha256Digest, SignError, canonical_json};

/// The DER SubjectPublicKeyInfo of an Ed25519 key is this prefix and the 32 raw key bytes
/// (RFC 8410).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The length of an Ed25519 signature.
const SIGNATURE_LEN: usize = 64;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Why an allowlist or keyset was refused. Each variant is one check; [`AllowlistError::code`]
/// names it stably (for JSON output and scripts), and the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AllowlistError {
    /// Not JSON, or not the shape of an envelope, document or keyset.
    #[error(
        "the {what} is malformed at {path}: {reason}; this client cannot use it (if the registry served it, report it to the registry's operators)"
    )]
    Malformed {
        /// `allowlist` or `keyset`.
        what: &'static str,
        /// Where, as a JSON path (`$.signed.entries[2].packages[0].digest`).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The signed part is another kind of document (a keyset where an allowlist was expected, or
    /// an unknown version of the format).
    #[error(
        "the signed document's type is {found:?}, not `{expected}`: it is not {what}; check the URL or the file (an unknown type may need a newer mcpreg)"
    )]
    WrongType {
        /// `an allowlist` or `a keyset`.
        what: &'static str,
        /// The type expected.
        expected: &'static str,
        /// The type found (empty when there is none).
        found: String,
    },
    /// A signature by a trusted key is malformed or does not verify.
    #[error(
        "the {what}'s signature by trusted key {key_id} is invalid ({reason}): the document was changed after it was signed, or was damaged; do not use it, and fetch it again from the registry"
    )]
    SignatureInvalid {
        /// `allowlist` or `keyset`.
        what: &'static str,
        /// The key the signature names.
        key_id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No signature by a trusted, active key (none at all, or only by keys not trusted).
    #[error(
        "the {what} is not signed by any key you trust (signed by: {}; trusted: {}): if the registry rotated its keys, pull its keyset (it must be signed by a key you pinned), or configure the new key with --key",
        list_or_none(signed_by),
        list_or_none(trusted)
    )]
    NoTrustedSignature {
        /// `allowlist` or `keyset`.
        what: &'static str,
        /// The key IDs its signatures name.
        signed_by: Vec<String>,
        /// The key IDs trusted.
        trusted: Vec<String>,
    },
    /// Only retired keys signed it.
    #[error(
        "the {what} is signed only by key {key_id}, which is retired: the registry must sign with an active key; tell its operators"
    )]
    KeyRetired {
        /// `allowlist` or `keyset`.
        what: &'static str,
        /// The retired key that signed.
        key_id: String,
    },
    /// A lower version than one already seen: an old document replayed.
    #[error(
        "allowlist `{allowlist}` version {version} is older than version {last_seen}, which this machine already saw: an old document is being replayed, do not use it (if the registry's operators really reset the allowlist, delete the stored copy)"
    )]
    Rollback {
        /// The allowlist's name.
        allowlist: String,
        /// The document's version.
        version: u64,
        /// The highest version seen before.
        last_seen: u64,
    },
    /// Past its expiry: the registry stopped renewing it, or it is being held back.
    #[error(
        "allowlist `{allowlist}` version {version} expired at {expires_at}: run `mcpreg allowlist pull {allowlist}` (if that keeps failing, the registry stopped renewing it or someone is holding back newer versions)"
    )]
    Expired {
        /// The allowlist's name.
        allowlist: String,
        /// The document's version.
        version: u64,
        /// When it expired.
        expires_at: DateTime<Utc>,
    },
    /// The document is for another allowlist or another registry than the one asked for.
    #[error(
        "asked for allowlist `{expected}`{}, but the document is allowlist `{found}` of {found_registry}: it was served or stored under the wrong name; do not use it",
        expected_registry.as_deref().map(|r| format!(" of {r}")).unwrap_or_default()
    )]
    WrongAllowlist {
        /// The allowlist asked for.
        expected: String,
        /// The registry asked (when known).
        expected_registry: Option<String>,
        /// The allowlist the document names.
        found: String,
        /// The registry the document names.
        found_registry: String,
    },
    /// A keyset with a lower version than the one pinned.
    #[error(
        "the registry's keyset has version {version}, lower than version {pinned} that this machine pinned: an old keyset is being replayed; keeping the pinned keys"
    )]
    KeysetRollback {
        /// The new keyset's version.
        version: u64,
        /// The pinned keyset's version.
        pinned: u64,
    },
    /// A public key that could not be read.
    #[error(
        "invalid allowlist public key: {reason}; give a PEM `PUBLIC KEY` (Ed25519) or the standard base64 of the raw 32-byte key"
    )]
    BadKey {
        /// What is wrong.
        reason: String,
    },
}

impl AllowlistError {
    /// A stable, machine-readable name for the check that failed.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed",
            Self::WrongType { .. } => "wrong_type",
            Self::SignatureInvalid { .. } => "signature_invalid",
            Self::NoTrustedSignature { .. } => "no_trusted_signature",
            Self::KeyRetired { .. } => "key_retired",
            Self::Rollback { .. } => "rollback",
            Self::Expired { .. } => "expired",
            Self::WrongAllowlist { .. } => "wrong_allowlist",
            Self::KeysetRollback { .. } => "keyset_rollback",
            Self::BadKey { .. } => "bad_key",
        }
    }
}

fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.join(", ")
    }
}

fn key_id_of(raw: &[u8; 32]) -> String {
    Sha256Digest::of_bytes(raw).to_string()
}

/// A public key that signs allowlists: a raw Ed25519 key and whether it is still active.
#[derive(Clone, PartialEq, Eq)]
pub struct AllowlistPublicKey {
    raw: [u8; 32],
    status: KeyStatus,
}

impl AllowlistPublicKey {
    /// An active key from its 32 raw bytes.
    pub fn from_raw(bytes: &[u8]) -> Result<Self, AllowlistError> {
        let raw: [u8; 32] = bytes.try_into().map_err(|_| AllowlistError::BadKey {
            reason: format!("{} bytes, an Ed25519 public key is 32", bytes.len()),
        })?;
        Ok(Self {
            raw,
            status: KeyStatus::Active,
        })
    }

    /// An active key from the standard base64 of its 32 raw bytes (the keyset's `publicKey`).
    pub fn from_base64(text: &str) -> Result<Self, AllowlistError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| AllowlistError::BadKey {
                reason: format!("not standard base64 ({e})"),
            })?;
        Self::from_raw(&bytes)
    }

    /// An active key from a PEM `PUBLIC KEY` block holding an Ed25519 key.
    pub fn from_pem(text: &str) -> Result<Self, AllowlistError> {
        let key = PublicKey::from_pem(text).map_err(|e| AllowlistError::BadKey {
            reason: e.to_string(),
        })?;
        if key.kind() != KeyKind::Ed25519 {
            return Err(AllowlistError::BadKey {
                reason: format!("a {} key; allowlists are signed with Ed25519", key.kind()),
            });
        }
        let raw = key
            .spki_der()
            .strip_prefix(&ED25519_SPKI_PREFIX[..])
            .ok_or_else(|| AllowlistError::BadKey {
                reason: "an Ed25519 SubjectPublicKeyInfo of an unexpected form".into(),
            })?;
        Self::from_raw(raw)
    }

    /// A key from a file's text: a PEM `PUBLIC KEY` block, or the base64 of the raw key.
    pub fn parse(text: &str) -> Result<Self, AllowlistError> {
        if text.contains("-----BEGIN") {
            Self::from_pem(text)
        } else {
            Self::from_base64(text)
        }
    }

    /// A key published in a keyset, checking its algorithm and that its ID is its own.
    pub fn from_published(key: &PublishedKey) -> Result<Self, AllowlistError> {
        if key.algorithm != ED25519 {
            return Err(AllowlistError::BadKey {
                reason: format!(
                    "key {} is an `{}` key; only `{ED25519}` is supported",
                    key.key_id, key.algorithm
                ),
            });
        }
        let parsed = Self::from_base64(&key.public_key)?.with_status(key.status);
        if parsed.key_id() != key.key_id {
            return Err(AllowlistError::BadKey {
                reason: format!(
                    "the key published as {} has ID {}",
                    key.key_id,
                    parsed.key_id()
                ),
            });
        }
        Ok(parsed)
    }

    /// The same key with another status.
    pub fn with_status(self, status: KeyStatus) -> Self {
        Self { status, ..self }
    }

    /// `sha256:` and the hex SHA-256 of the raw public key.
    pub fn key_id(&self) -> String {
        key_id_of(&self.raw)
    }

    /// The 32 raw bytes.
    pub fn raw(&self) -> &[u8; 32] {
        &self.raw
    }

    /// Whether the key is active or retired.
    pub fn status(&self) -> KeyStatus {
        self.status
    }

    /// The standard base64 of the raw key.
    pub fn to_base64(&self) -> String {
        B64.encode(self.raw)
    }

    /// The key as a PEM `PUBLIC KEY` block (SubjectPublicKeyInfo).
    pub fn to_pem(&self) -> String {
        let mut der = ED25519_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.raw);
        pem::encode(&pem::Pem::new("PUBLIC KEY", der))
    }

    /// The key as a keyset publishes it.
    pub fn to_published(&self) -> PublishedKey {
        PublishedKey {
            key_id: self.key_id(),
            algorithm: ED25519.into(),
            public_key: self.to_base64(),
            status: self.status,
        }
    }

    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        lc::UnparsedPublicKey::new(&lc::ED25519, &self.raw)
            .verify(message, signature)
            .is_ok()
    }
}

impl fmt::Debug for AllowlistPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AllowlistPublicKey({} {:?})", self.key_id(), self.status)
    }
}

/// The keys of a keyset that can verify signatures: its Ed25519 keys, each with its status.
/// Keys of other algorithms are left out (they cannot sign anything this version accepts); a key
/// whose ID is not its own, or a keyset without an active Ed25519 key, is an error.
pub fn keyset_keys(keyset: &KeySet) -> Result<Vec<AllowlistPublicKey>, AllowlistError> {
    let mut keys = Vec::new();
    for (i, k) in keyset.keys.iter().enumerate() {
        if k.algorithm != ED25519 {
            continue;
        }
        keys.push(AllowlistPublicKey::from_published(k).map_err(|e| {
            AllowlistError::Malformed {
                what: "keyset",
                path: format!("$.signed.keys[{i}]"),
                reason: match e {
                    AllowlistError::BadKey { reason } => reason,
                    other => other.to_string(),
                },
            }
        })?);
    }
    if !keys.iter().any(|k| k.status == KeyStatus::Active) {
        return Err(AllowlistError::Malformed {
            what: "keyset",
            path: "$.signed.keys".into(),
            reason: "no active Ed25519 key".into(),
        });
    }
    Ok(keys)
}

/// An Ed25519 private key that signs allowlists and keysets. Its `Debug` never shows the private
/// key.
pub struct AllowlistSigningKey {
    pair: lc::Ed25519KeyPair,
    public: AllowlistPublicKey,
}

impl AllowlistSigningKey {
    /// Generates a new key.
    pub fn generate() -> Result<Self, SignError> {
        let pair = lc::Ed25519KeyPair::generate().map_err(|e| SignError::Crypto {
            reason: e.to_string(),
        })?;
        Self::new(pair)
    }

    /// Loads an unencrypted PKCS#8 PEM Ed25519 private key (`openssl genpkey -algorithm ed25519`).
    pub fn from_pkcs8_pem(pem_text: &str) -> Result<Self, SignError> {
        let block = pem::parse(pem_text).map_err(|e| SignError::BadKey {
            reason: format!("not a PEM block: {e}"),
        })?;
        if block.tag() != "PRIVATE KEY" {
            return Err(SignError::BadKey {
                reason: format!(
                    "a PEM `{}` block, not an unencrypted PKCS#8 `PRIVATE KEY`",
                    block.tag()
                ),
            });
        }
        let pair =
            lc::Ed25519KeyPair::from_pkcs8(block.contents()).map_err(|_| SignError::BadKey {
                reason: "not an Ed25519 PKCS#8 private key (allowlists are signed with Ed25519)"
                    .into(),
            })?;
        Self::new(pair)
    }

    fn new(pair: lc::Ed25519KeyPair) -> Result<Self, SignError> {
        let public = AllowlistPublicKey::from_raw(pair.public_key().as_ref()).map_err(|e| {
            SignError::Crypto {
                reason: e.to_string(),
            }
        })?;
        Ok(Self { pair, public })
    }

    /// The private key as an unencrypted PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Result<String, SignError> {
        let doc = self.pair.to_pkcs8v1().map_err(|e| SignError::Crypto {
            reason: e.to_string(),
        })?;
        Ok(pem::encode(&pem::Pem::new("PRIVATE KEY", doc.as_ref())))
    }

    /// The key's ID (see [`AllowlistPublicKey::key_id`]).
    pub fn key_id(&self) -> String {
        self.public.key_id()
    }

    /// The public half, active.
    pub fn public_key(&self) -> &AllowlistPublicKey {
        &self.public
    }

    /// Signs an allowlist document.
    pub fn sign(&self, document: &AllowlistDocument) -> SignedAllowlist {
        SignedAllowlist {
            signed: document.clone(),
            signatures: vec![self.signature_over(document)],
        }
    }

    /// Adds this key's signature to a signed allowlist (while keys rotate, both sign).
    pub fn countersign(&self, signed: &mut SignedAllowlist) {
        let sig = self.signature_over(&signed.signed);
        signed.signatures.push(sig);
    }

    /// Signs a keyset.
    pub fn sign_keyset(&self, keyset: &KeySet) -> SignedKeySet {
        SignedKeySet {
            signed: keyset.clone(),
            signatures: vec![self.signature_over(keyset)],
        }
    }

    /// Adds this key's signature to a signed keyset: during a rotation the old key and the new
    /// one both sign the new keyset, so that clients that pinned the old key accept it.
    pub fn countersign_keyset(&self, signed: &mut SignedKeySet) {
        let sig = self.signature_over(&signed.signed);
        signed.signatures.push(sig);
    }

    fn signature_over(&self, signed: &impl serde::Serialize) -> DocumentSignature {
        let value = serde_json::to_value(signed)
            .expect("allowlists and keysets always serialise: strings, integers and dates only");
        DocumentSignature {
            key_id: self.key_id(),
            sig: B64.encode(self.pair.sign(&canonical_json(&value)).as_ref()),
        }
    }
}

impl fmt::Debug for AllowlistSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AllowlistSigningKey({})", self.key_id())
    }
}

/// An envelope as received: the `signed` part kept as JSON, so that its canonical form is the one
/// that was signed.
#[derive(Deserialize)]
struct RawEnvelope {
    signed: Value,
    signatures: Vec<DocumentSignature>,
}

fn parse_envelope(what: &'static str, json: &[u8]) -> Result<RawEnvelope, AllowlistError> {
    let envelope: RawEnvelope =
        serde_json::from_slice(json).map_err(|e| AllowlistError::Malformed {
            what,
            path: "$".into(),
            reason: format!("not a signed envelope `{{\"signed\": …, \"signatures\": […]}}`: {e}"),
        })?;
    if !envelope.signed.is_object() {
        return Err(AllowlistError::Malformed {
            what,
            path: "$.signed".into(),
            reason: "not a JSON object".into(),
        });
    }
    Ok(envelope)
}

fn check_type(
    article: &'static str,
    signed: &Value,
    expected: &'static str,
) -> Result<(), AllowlistError> {
    let found = signed.get("type").and_then(Value::as_str).unwrap_or("");
    if found != expected {
        return Err(AllowlistError::WrongType {
            what: article,
            expected,
            found: found.chars().take(80).collect(),
        });
    }
    Ok(())
}

fn parse_signed<T: serde::de::DeserializeOwned>(
    what: &'static str,
    signed: Value,
) -> Result<T, AllowlistError> {
    serde_json::from_value(signed).map_err(|e| AllowlistError::Malformed {
        what,
        path: "$.signed".into(),
        reason: e.to_string(),
    })
}

/// Checks the signatures over `signed`: at least one valid signature by a trusted, active key.
/// Signatures by keys not trusted are ignored; a malformed or failing signature by a trusted key
/// (active or retired) is an error. Returns the ID of a trusted active key that signed.
fn verify_signatures(
    what: &'static str,
    signed: &Value,
    signatures: &[DocumentSignature],
    trusted: &[AllowlistPublicKey],
) -> Result<String, AllowlistError> {
    let message = canonical_json(signed);
    let mut by_active = None;
    let mut by_retired = None;
    for s in signatures {
        let known: Vec<&AllowlistPublicKey> =
            trusted.iter().filter(|k| k.key_id() == s.key_id).collect();
        let Some(key) = known.first() else {
            continue;
        };
        let invalid = |reason: String| AllowlistError::SignatureInvalid {
            what,
            key_id: s.key_id.clone(),
            reason,
        };
        let bytes = B64
            .decode(&s.sig)
            .map_err(|e| invalid(format!("not standard base64: {e}")))?;
        if bytes.len() != SIGNATURE_LEN {
            return Err(invalid(format!(
                "{} bytes, an Ed25519 signature is {SIGNATURE_LEN}",
                bytes.len()
            )));
        }
        if !key.verifies(&message, &bytes) {
            return Err(invalid(
                "it does not verify over the document's canonical JSON".into(),
            ));
        }
        // Any pin saying the key is retired wins.
        if known.iter().any(|k| k.status == KeyStatus::Retired) {
            by_retired.get_or_insert_with(|| s.key_id.clone());
        } else {
            by_active.get_or_insert_with(|| s.key_id.clone());
        }
    }
    match (by_active, by_retired) {
        (Some(id), _) => Ok(id),
        (None, Some(key_id)) => Err(AllowlistError::KeyRetired { what, key_id }),
        (None, None) => Err(AllowlistError::NoTrustedSignature {
            what,
            signed_by: signatures.iter().map(|s| s.key_id.clone()).collect(),
            trusted: trusted
                .iter()
                .filter(|k| k.status == KeyStatus::Active)
                .map(AllowlistPublicKey::key_id)
                .collect(),
        }),
    }
}

/// Checks the digests a verified document carries, so that users of it can rely on their form.
fn validate_document(doc: &AllowlistDocument) -> Result<(), AllowlistError> {
    let malformed = |path: String, reason: String| AllowlistError::Malformed {
        what: "allowlist",
        path,
        reason,
    };
    if doc.expires_at <= doc.issued_at {
        return Err(malformed(
            "$.signed.expiresAt".into(),
            format!(
                "expires at {} but was issued at {}",
                doc.expires_at, doc.issued_at
            ),
        ));
    }
    for (i, e) in doc.entries.iter().enumerate() {
        for (j, p) in e.packages.iter().enumerate() {
            if let Some(d) = &p.digest {
                Sha256Digest::parse_prefixed_or_hex(d).map_err(|err| {
                    malformed(
                        format!("$.signed.entries[{i}].packages[{j}].digest"),
                        err.to_string(),
                    )
                })?;
            }
        }
        if let Some(pin) = &e.tools_pin {
            Sha256Digest::parse_prefixed_or_hex(pin).map_err(|err| {
                malformed(format!("$.signed.entries[{i}].toolsPin"), err.to_string())
            })?;
        }
    }
    Ok(())
}

/// Verifies a signed allowlist as received (its JSON bytes) against the trusted keys and returns
/// the document. Prefer this to [`verify_allowlist`]: it checks the signatures over the JSON that
/// arrived, so a document with fields this version does not know still verifies.
///
/// Does not check freshness: call [`check_fresh`] and [`check_subject`] too.
pub fn verify_allowlist_json(
    json: &[u8],
    trusted: &[AllowlistPublicKey],
) -> Result<AllowlistDocument, AllowlistError> {
    let envelope = parse_envelope("allowlist", json)?;
    verify_signatures("allowlist", &envelope.signed, &envelope.signatures, trusted)?;
    check_type("an allowlist", &envelope.signed, ALLOWLIST_DOCUMENT_TYPE)?;
    let doc: AllowlistDocument = parse_signed("allowlist", envelope.signed)?;
    validate_document(&doc)?;
    Ok(doc)
}

/// Verifies a parsed signed allowlist against the trusted keys: at least one valid signature by a
/// trusted, non-retired key (signatures by keys not trusted are ignored; a malformed or wrong
/// signature by a trusted key fails), a `type` of [`ALLOWLIST_DOCUMENT_TYPE`], and well-formed
/// digests.
///
/// The signatures are checked over the canonical JSON of the parsed document, which drops fields
/// this version does not know; use [`verify_allowlist_json`] on what was received.
pub fn verify_allowlist(
    signed: &SignedAllowlist,
    trusted: &[AllowlistPublicKey],
) -> Result<AllowlistDocument, AllowlistError> {
    let json = serde_json::to_vec(signed)
        .expect("allowlists always serialise: strings, integers and dates only");
    verify_allowlist_json(&json, trusted)
}

/// Refuses a document older than the last version seen (rollback) or past its expiry (freeze).
/// The same version as the last one seen is accepted (the same document fetched again).
pub fn check_fresh(
    doc: &AllowlistDocument,
    last_seen_version: Option<u64>,
    now: DateTime<Utc>,
) -> Result<(), AllowlistError> {
    if let Some(last_seen) = last_seen_version
        && doc.version < last_seen
    {
        return Err(AllowlistError::Rollback {
            allowlist: doc.allowlist.clone(),
            version: doc.version,
            last_seen,
        });
    }
    if now >= doc.expires_at {
        return Err(AllowlistError::Expired {
            allowlist: doc.allowlist.clone(),
            version: doc.version,
            expires_at: doc.expires_at,
        });
    }
    Ok(())
}

/// Refuses a document for another allowlist than `name`, or (when given) another registry than
/// `registry`. Registry URLs are compared without a trailing `/`, with scheme and host in any
/// case and default ports left out.
pub fn check_subject(
    doc: &AllowlistDocument,
    name: &str,
    registry: Option<&str>,
) -> Result<(), AllowlistError> {
    let registry_differs =
        registry.is_some_and(|r| normalise_base_url(r) != normalise_base_url(&doc.registry));
    if doc.allowlist != name || registry_differs {
        return Err(AllowlistError::WrongAllowlist {
            expected: name.into(),
            expected_registry: registry.map(str::to_owned),
            found: doc.allowlist.clone(),
            found_registry: doc.registry.clone(),
        });
    }
    Ok(())
}

/// `scheme://authority/path` with scheme and authority lowercased, the default port and trailing
/// `/` removed.
fn normalise_base_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    let authority = match authority.strip_suffix(default_port) {
        Some(a) if !default_port.is_empty() => a.to_owned(),
        _ => authority,
    };
    format!("{scheme}://{authority}{path}")
}

/// Verifies a new keyset (its JSON bytes, as received) against the pinned keys: it must carry a
/// valid signature by a pinned, active key, be a [`KEYSET_DOCUMENT_TYPE`], have an active Ed25519
/// key, and a version not lower than `pinned_version`. So a client that pinned the old key learns
/// the new one from a keyset signed by both, and a keyset signed only by an unknown key is refused.
pub fn verify_keyset_json(
    json: &[u8],
    pinned: &[AllowlistPublicKey],
    pinned_version: Option<u64>,
) -> Result<KeySet, AllowlistError> {
    let envelope = parse_envelope("keyset", json)?;
    verify_signatures("keyset", &envelope.signed, &envelope.signatures, pinned)?;
    check_type("a keyset", &envelope.signed, KEYSET_DOCUMENT_TYPE)?;
    let keyset: KeySet = parse_signed("keyset", envelope.signed)?;
    keyset_keys(&keyset)?;
    if let Some(pinned) = pinned_version
        && keyset.version < pinned
    {
        return Err(AllowlistError::KeysetRollback {
            version: keyset.version,
            pinned,
        });
    }
    Ok(keyset)
}

/// [`verify_keyset_json`] for a parsed keyset (checked over the canonical JSON of what was
/// parsed; prefer the JSON form on what was received).
pub fn verify_keyset(
    new: &SignedKeySet,
    pinned: &[AllowlistPublicKey],
    pinned_version: Option<u64>,
) -> Result<KeySet, AllowlistError> {
    let json = serde_json::to_vec(new)
        .expect("keysets always serialise: strings, integers and dates only");
    verify_keyset_json(&json, pinned, pinned_version)
}

/// Checks a keyset a client has pinned nothing for yet (trust on first use): it must be a
/// well-formed [`KEYSET_DOCUMENT_TYPE`] signed by one of its own active keys. That proves only that
/// whoever served it holds the key, not that the key is the registry's: a client says so, and
/// offers to configure the key instead.
pub fn verify_keyset_first_use_json(json: &[u8]) -> Result<KeySet, AllowlistError> {
    let envelope = parse_envelope("keyset", json)?;
    check_type("a keyset", &envelope.signed, KEYSET_DOCUMENT_TYPE)?;
    let keyset: KeySet = parse_signed("keyset", envelope.signed.clone())?;
    let own = keyset_keys(&keyset)?;
    verify_signatures("keyset", &envelope.signed, &envelope.signatures, &own)?;
    Ok(keyset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_round_trip_through_pem_and_base64() {
        let key = AllowlistSigningKey::generate().unwrap();
        let public = key.public_key();
        assert_eq!(
            &AllowlistPublicKey::parse(&public.to_pem()).unwrap(),
            public
        );
        assert_eq!(
            &AllowlistPublicKey::parse(&format!("{}\n", public.to_base64())).unwrap(),
            public
        );
        // The PEM form is a real SubjectPublicKeyInfo that the rest of the crate reads too.
        assert_eq!(
            PublicKey::from_pem(&public.to_pem()).unwrap().kind(),
            KeyKind::Ed25519
        );
        let again = AllowlistSigningKey::from_pkcs8_pem(&key.to_pkcs8_pem().unwrap()).unwrap();
        assert_eq!(again.key_id(), key.key_id());
        assert!(!format!("{again:?}").contains("PRIVATE"));
        assert!(key.key_id().starts_with("sha256:") && key.key_id().len() == 71);
    }

    #[test]
    fn bad_keys_say_what_is_wrong() {
        let e = AllowlistPublicKey::parse("AAAA").unwrap_err();
        assert!(e.to_string().contains("3 bytes"), "{e}");
        let p256 = crate::SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let e = AllowlistPublicKey::parse(&p256.public_key().to_pem()).unwrap_err();
        assert!(e.to_string().contains("Ed25519"), "{e}");
        let e = AllowlistSigningKey::from_pkcs8_pem(&p256.to_pkcs8_pem().unwrap()).unwrap_err();
        assert!(e.to_string().contains("Ed25519"), "{e}");
    }

    #[test]
    fn base_urls_compare_normalised() {
        assert_eq!(
            normalise_base_url("HTTPS://Mcp.Example:443/"),
            "https://mcp.example"
        );
        assert_eq!(normalise_base_url("http://h:8080/a/"), "http://h:8080/a");
        assert_ne!(
            normalise_base_url("https://h/A"),
            normalise_base_url("https://h/a")
        );
    }
}
