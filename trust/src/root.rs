//! Trust roots: which Sigstore instance (Fulcio CAs, Rekor logs, CT logs, timestamp
//! authorities) signatures are verified against.

use std::fmt;
use std::sync::Arc;

use sigstore_verify::Verifier;
use sigstore_verify::trust_root::TrustedRoot;
use x509_cert::der::Decode as _;

/// The Sigstore public-good production trusted root, embedded (see `trust/roots/README.md`).
const PRODUCTION_TRUSTED_ROOT: &str = include_str!("../roots/production_trusted_root.json");

/// Sigstore's staging trusted root, embedded (see `trust/roots/README.md`).
const STAGING_TRUSTED_ROOT: &str = include_str!("../roots/staging_trusted_root.json");

/// Media types of a `trusted_root.json` this crate reads (protobuf-specs `TrustedRoot`).
const TRUSTED_ROOT_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

/// Media type of a `ClientTrustConfig`, a trusted root wrapped together with a signing config.
const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// The trust anchors of one Sigstore instance, parsed and checked once, cheap to clone and share
/// between threads.
///
/// The default is [`TrustRoot::production`]. Private Sigstore instances and air-gapped sites load
/// their own `trusted_root.json` (or a sigstore `ClientTrustConfig` that wraps one) with
/// [`TrustRoot::from_json`].
#[derive(Clone)]
pub struct TrustRoot {
    inner: Arc<Inner>,
}

struct Inner {
    root: TrustedRoot,
    verifier: Verifier,
}

/// Why a trusted root was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustRootError {
    /// Not JSON, or JSON that does not have the shape of a trusted root.
    #[error("malformed trusted root: {reason}")]
    Malformed {
        /// What the parser reported.
        reason: String,
    },
    /// The `mediaType` is not one of a trusted root (or of a client trust config).
    #[error(
        "trusted root has media type {found:?}; expected one of {expected:?} (or {CLIENT_TRUST_CONFIG_MEDIA_TYPE:?} wrapping one)"
    )]
    MediaType {
        /// The media type the document carries (empty when it has none).
        found: String,
        /// The media types accepted.
        expected: Vec<String>,
    },
    /// A certificate or timestamp authority lists no certificate, or its chain does not end in
    /// a self-signed root.
    #[error("trusted root's {authority} is unusable: {reason}")]
    Authority {
        /// Which authority: `certificateAuthorities[0]`, `timestampAuthorities[1]`, …
        authority: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The trust material is inconsistent or unusable for verification (bad key, duplicate log
    /// ID, validity window that ends before it starts, unparsable certificate).
    #[error("invalid trusted root: {reason}")]
    Invalid {
        /// What the verifier reported.
        reason: String,
    },
}

impl TrustRoot {
    /// The Sigstore public-good production instance, from the trusted root embedded in this crate.
    pub fn production() -> Self {
        Self::from_json(PRODUCTION_TRUSTED_ROOT.as_bytes())
            .expect("the embedded production trusted root parses (checked by a unit test)")
    }

    /// Sigstore's staging instance (`*.sigstage.dev`), from the trusted root embedded in this crate:
    /// for testing and the sigstore-conformance `--staging` flag, never a default.
    pub fn staging() -> Self {
        Self::from_json(STAGING_TRUSTED_ROOT.as_bytes())
            .expect("the embedded staging trusted root parses (checked by a unit test)")
    }

    /// Parses a `trusted_root.json` (media type
    /// `application/vnd.dev.sigstore.trustedroot+json;version=0.1` or `…trustedroot.v0.2+json`), or
    /// a sigstore `ClientTrustConfig` (`…clienttrustconfig.v0.1+json`) whose `trustedRoot` is one,
    /// and checks that every key and authority in it is usable.
    pub fn from_json(json: &[u8]) -> Result<Self, TrustRootError> {
        let value: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| TrustRootError::Malformed {
                reason: e.to_string(),
            })?;
        let media_type = media_type_of(&value);
        let root_value = if media_type == CLIENT_TRUST_CONFIG_MEDIA_TYPE {
            let root = value
                .get("trustedRoot")
                .ok_or_else(|| TrustRootError::Malformed {
                    reason: "client trust config has no `trustedRoot`".into(),
                })?;
            check_root_media_type(&media_type_of(root))?;
            root.clone()
        } else {
            check_root_media_type(&media_type)?;
            value
        };
        check_authorities(&root_value)?;
        let root: TrustedRoot =
            serde_json::from_value(root_value).map_err(|e| TrustRootError::Malformed {
                reason: e.to_string(),
            })?;
        let verifier = Verifier::new(&root).map_err(|e| TrustRootError::Invalid {
            reason: e.to_string(),
        })?;
        Ok(Self {
            inner: Arc::new(Inner { root, verifier }),
        })
    }

    /// The base URLs of the transparency logs (Rekor) this root trusts.
    pub fn transparency_logs(&self) -> Vec<String> {
        self.inner
            .root
            .tlogs
            .iter()
            .map(|l| l.base_url.clone())
            .collect()
    }

    /// The URIs of the certificate authorities (Fulcio) this root trusts.
    pub fn certificate_authorities(&self) -> Vec<String> {
        self.inner
            .root
            .certificate_authorities
            .iter()
            .map(|ca| ca.uri.clone())
            .collect()
    }

    /// How many RFC 3161 timestamp authorities this root trusts.
    pub fn timestamp_authority_count(&self) -> usize {
        self.inner.root.timestamp_authorities.len()
    }

    pub(crate) fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }
}

impl fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustRoot")
            .field("transparency_logs", &self.transparency_logs())
            .field("certificate_authorities", &self.certificate_authorities())
            .field("timestamp_authorities", &self.timestamp_authority_count())
            .finish()
    }
}

fn media_type_of(value: &serde_json::Value) -> String {
    value
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string()
}

fn check_root_media_type(found: &str) -> Result<(), TrustRootError> {
    if TRUSTED_ROOT_MEDIA_TYPES.contains(&found) {
        Ok(())
    } else {
        Err(TrustRootError::MediaType {
            found: found.to_string(),
            expected: TRUSTED_ROOT_MEDIA_TYPES.map(String::from).to_vec(),
        })
    }
}

/// Checks each certificate and timestamp authority's chain: at least one certificate, each a
/// valid X.509 certificate, the last one self-signed (protobuf-specs orders chains leaf first,
/// root last). sigstore-verify turns every certificate of a chain into a trust anchor, so a chain
/// cut short of its root would otherwise be accepted silently.
fn check_authorities(root: &serde_json::Value) -> Result<(), TrustRootError> {
    use base64::Engine as _;
    for field in ["certificateAuthorities", "timestampAuthorities"] {
        let Some(list) = root.get(field).and_then(|l| l.as_array()) else {
            continue;
        };
        for (i, authority) in list.iter().enumerate() {
            let name = format!("{field}[{i}]");
            let fail = |reason: String| TrustRootError::Authority {
                authority: name.clone(),
                reason,
            };
            let certs = authority
                .pointer("/certChain/certificates")
                .and_then(|c| c.as_array())
                .ok_or_else(|| fail("no `certChain.certificates`".into()))?;
            let Some(last) = certs.last() else {
                return Err(fail("its certificate chain is empty".into()));
            };
            let der = last
                .get("rawBytes")
                .and_then(|b| b.as_str())
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .ok_or_else(|| fail("a certificate's `rawBytes` is not base64".into()))?;
            let cert = x509_cert::Certificate::from_der(&der)
                .map_err(|e| fail(format!("a certificate does not parse: {e}")))?;
            let tbs = &cert.tbs_certificate;
            if tbs.issuer != tbs.subject {
                return Err(fail(format!(
                    "its chain ends in \"{}\", issued by \"{}\": the self-signed root is missing",
                    tbs.subject, tbs.issuer
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_production_root_loads() {
        let root = TrustRoot::production();
        assert!(
            root.transparency_logs()
                .contains(&"https://rekor.sigstore.dev".to_string())
        );
        assert!(root.timestamp_authority_count() >= 1);
    }

    #[test]
    fn embedded_staging_root_loads() {
        assert!(
            TrustRoot::staging()
                .transparency_logs()
                .contains(&"https://rekor.sigstage.dev".to_string())
        );
    }

    #[test]
    fn trust_root_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<TrustRoot>();
    }
}
