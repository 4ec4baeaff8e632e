//! The signed allowlist document: its signatures, the form of its digests, its freshness and its
//! subject.

use chrono::{DateTime, Utc};
use mcpreg_api::allowlist::{ALLOWLIST_DOCUMENT_TYPE, AllowlistDocument, SignedAllowlist};

use super::envelope::{check_type, parse_envelope, parse_signed, verify_signatures};
use super::{AllowlistError, AllowlistPublicKey};
use crate::Sha256Digest;

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

#[cfg(test)]
mod tests {
    use super::*;

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
