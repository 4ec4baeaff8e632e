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
//!
//! The parts: `keys` (the public and signing keys), `envelope` (the signatures over a `signed`
//! part, shared by both documents), `document` (the signed allowlist: its digests, freshness and
//! subject) and `keyset` (the signed keyset, and how a client follows a key rotation).

use chrono::{DateTime, Utc};
#[cfg(doc)]
use mcpreg_api::allowlist::{AllowlistDocument, KeySet};

mod document;
mod envelope;
mod keys;
mod keyset;

pub use document::{check_fresh, check_subject, verify_allowlist, verify_allowlist_json};
pub use keys::{AllowlistPublicKey, AllowlistSigningKey};
pub use keyset::{keyset_keys, verify_keyset, verify_keyset_first_use_json, verify_keyset_json};

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
