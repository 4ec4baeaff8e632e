//! The envelope both signed documents travel in: a `signed` part and `signatures` over its
//! canonical JSON.

use base64::Engine as _;
use mcpreg_api::allowlist::{DocumentSignature, KeyStatus};
use serde::Deserialize;
use serde_json::Value;

use super::keys::B64;
use super::{AllowlistError, AllowlistPublicKey};
use crate::canonical_json;

/// The length of an Ed25519 signature.
const SIGNATURE_LEN: usize = 64;

/// An envelope as received: the `signed` part kept as JSON, so that its canonical form is the one
/// that was signed.
#[derive(Deserialize)]
pub(super) struct RawEnvelope {
    pub(super) signed: Value,
    pub(super) signatures: Vec<DocumentSignature>,
}

pub(super) fn parse_envelope(
    what: &'static str,
    json: &[u8],
) -> Result<RawEnvelope, AllowlistError> {
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

pub(super) fn check_type(
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

pub(super) fn parse_signed<T: serde::de::DeserializeOwned>(
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
pub(super) fn verify_signatures(
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
        if known.iter().any(|k| k.status() == KeyStatus::Retired) {
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
                .filter(|k| k.status() == KeyStatus::Active)
                .map(AllowlistPublicKey::key_id)
                .collect(),
        }),
    }
}
