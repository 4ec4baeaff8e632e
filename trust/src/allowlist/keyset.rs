//! The registry's signed keyset, and how a client follows a key rotation through it.

use mcpreg_api::allowlist::{ED25519, KEYSET_DOCUMENT_TYPE, KeySet, KeyStatus, SignedKeySet};

use super::envelope::{check_type, parse_envelope, parse_signed, verify_signatures};
use super::{AllowlistError, AllowlistPublicKey};

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
    if !keys.iter().any(|k| k.status() == KeyStatus::Active) {
        return Err(AllowlistError::Malformed {
            what: "keyset",
            path: "$.signed.keys".into(),
            reason: "no active Ed25519 key".into(),
        });
    }
    Ok(keys)
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
