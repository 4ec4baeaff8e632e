//! Key-based signatures, for sites without Sigstore (no Fulcio, no Rekor, no timestamp authority).
//!
//! # Format
//!
//! `mcpreg sign --key KEY FILE` writes one JSON document:
//!
//! ```json
//! {
//!   "mediaType": "application/vnd.mcpreg.signature.v1+json",
//!   "digest": "sha256:<64 hex: the artifact's SHA-256>",
//!   "keyId": "sha256:<64 hex: SHA-256 of the signer's DER SubjectPublicKeyInfo>",
//!   "signature": "<standard base64>"
//! }
//! ```
//!
//! `signature` is made over the DSSE v1 pre-authentication encoding of the digest:
//! `PAE("application/vnd.mcpreg.signature.v1+json", "sha256:<hex>")`, that is the bytes
//! `DSSEv1 40 application/vnd.mcpreg.signature.v1+json 71 sha256:<hex>`. With an ECDSA P-256
//! key it is an ASN.1 DER ECDSA-SHA256 signature; with an Ed25519 key, a 64-byte Ed25519
//! signature. `keyId` only helps find the key: the verifier tries every trusted key and trusts
//! nothing the document says about itself. `digest` is compared with the artifact's digest.
//!
//! # Why not a sigstore bundle with a public key
//!
//! A sigstore bundle v0.3 with a `verificationMaterial.publicKey` hint and a `messageSignature` is
//! what `cosign sign-blob --key` produces, and sigstore-verify 0.15 verifies such bundles
//! (`PublicKeyVerificationPolicy`) — but only with transparency-log evidence or an RFC 3161
//! timestamp: its structural check rejects a bundle with neither ("bundle must have at least one
//! tlog entry or timestamp verification data"), and a site without Sigstore has neither. Pure
//! Ed25519 message signatures also cannot be checked from a digest alone, and the registry often
//! has only the digest (an OCI manifest, a package it never downloads). Signing the digest's PAE
//! solves both: it needs no log, and it verifies from the digest for both key types.
//! [`crate::verify_bundle`] still accepts cosign key-based bundles that *are* logged (checked by
//! sigstore-verify against the trust root), with the same [`crate::SignerPolicy`] keys.

use std::fmt;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{self as lc, KeyPair as _};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::policy::{KeyKind, PublicKey};
use crate::{Sha256Digest, VerifyError};

/// The media type of an mcpreg key-based signature document.
pub const KEY_SIGNATURE_MEDIA_TYPE: &str = "application/vnd.mcpreg.signature.v1+json";

/// A key-based signature document (see the module documentation for the format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeySignature {
    /// Always [`KEY_SIGNATURE_MEDIA_TYPE`].
    pub media_type: String,
    /// The digest of the signed artifact; the bare hexadecimal form is read too.
    #[serde(deserialize_with = "mcpreg_api::digest::prefixed_or_hex")]
    pub digest: Sha256Digest,
    /// The signer's key ID (see [`PublicKey::key_id`]); a lookup hint, not trusted.
    pub key_id: String,
    /// The signature, standard base64.
    pub signature: String,
}

impl KeySignature {
    /// The bytes a key signs for `digest`: the DSSE v1 pre-authentication encoding of the digest's
    /// text form under [`KEY_SIGNATURE_MEDIA_TYPE`].
    pub fn signed_message(digest: &Sha256Digest) -> Vec<u8> {
        sigstore_verify::types::pae(KEY_SIGNATURE_MEDIA_TYPE, digest.to_string().as_bytes())
    }

    /// Parses a signature document, checking its media type.
    pub fn from_json(json: &[u8]) -> Result<Self, VerifyError> {
        let sig: Self = serde_json::from_slice(json).map_err(|e| VerifyError::MalformedBundle {
            reason: format!("key signature: {e}"),
        })?;
        if sig.media_type != KEY_SIGNATURE_MEDIA_TYPE {
            return Err(VerifyError::UnknownMediaType {
                found: sig.media_type,
            });
        }
        Ok(sig)
    }

    /// The document as pretty-printed JSON, ending in a newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .expect("a KeySignature always serialises: it holds only strings");
        s.push('\n');
        s
    }

    /// Checks the signature with `key`, over `digest`. Does not compare `self.digest`.
    pub(crate) fn verifies_with(&self, key: &PublicKey, digest: &Sha256Digest) -> bool {
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(&self.signature) else {
            return false;
        };
        let scheme = match key.kind() {
            KeyKind::EcdsaP256 => sigstore_verify::crypto::SigningScheme::EcdsaP256Sha256,
            KeyKind::Ed25519 => sigstore_verify::crypto::SigningScheme::Ed25519,
        };
        sigstore_verify::crypto::verify_signature(
            &key.der_public_key(),
            &Self::signed_message(digest),
            &sigstore_verify::types::SignatureBytes::new(sig),
            scheme,
        )
        .is_ok()
    }
}

/// Why a signing key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The key file is not a usable PKCS#8 private key.
    #[error("invalid private key: {reason}")]
    BadKey {
        /// What is wrong, and how to fix it when that is known.
        reason: String,
    },
    /// The crypto backend failed.
    #[error("signing failed: {reason}")]
    Crypto {
        /// What failed.
        reason: String,
    },
}

enum KeyPair {
    EcdsaP256(lc::EcdsaKeyPair),
    Ed25519(lc::Ed25519KeyPair),
}

/// A private key that makes key-based signatures: ECDSA P-256 or Ed25519, loaded from an
/// unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
pub struct SigningKey {
    pair: KeyPair,
    public: PublicKey,
}

impl SigningKey {
    /// Loads a PKCS#8 PEM private key (`openssl genpkey -algorithm ed25519`, or
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`).
    pub fn from_pkcs8_pem(pem_text: &str) -> Result<Self, SignError> {
        let block = pem::parse(pem_text).map_err(|e| SignError::BadKey {
            reason: format!("not a PEM block: {e}"),
        })?;
        match block.tag() {
            "PRIVATE KEY" => Self::from_pkcs8_der(block.contents()),
            "EC PRIVATE KEY" => Err(SignError::BadKey {
                reason: "a SEC1 `EC PRIVATE KEY`; convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt`".into(),
            }),
            "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                Err(SignError::BadKey {
                    reason: format!(
                        "an encrypted key (`{}`); give an unencrypted PKCS#8 `PRIVATE KEY` (keep it in a secret store)",
                        block.tag()
                    ),
                })
            }
            other => Err(SignError::BadKey {
                reason: format!("a PEM `{other}` block, not a PKCS#8 `PRIVATE KEY`"),
            }),
        }
    }

    /// Loads a DER PKCS#8 private key (v1 or v2).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SignError> {
        if let Ok(pair) = lc::EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            return Self::new(KeyPair::EcdsaP256(pair));
        }
        if let Ok(pair) = lc::Ed25519KeyPair::from_pkcs8(der) {
            return Self::new(KeyPair::Ed25519(pair));
        }
        Err(SignError::BadKey {
            reason: "not an ECDSA P-256 or Ed25519 PKCS#8 private key".into(),
        })
    }

    /// Generates a new key.
    pub fn generate(kind: KeyKind) -> Result<Self, SignError> {
        let crypto = |e: aws_lc_rs::error::Unspecified| SignError::Crypto {
            reason: e.to_string(),
        };
        let pair = match kind {
            KeyKind::EcdsaP256 => KeyPair::EcdsaP256(
                lc::EcdsaKeyPair::generate(&lc::ECDSA_P256_SHA256_ASN1_SIGNING).map_err(crypto)?,
            ),
            KeyKind::Ed25519 => KeyPair::Ed25519(lc::Ed25519KeyPair::generate().map_err(crypto)?),
        };
        Self::new(pair)
    }

    fn new(pair: KeyPair) -> Result<Self, SignError> {
        let spki = match &pair {
            KeyPair::EcdsaP256(p) => p.public_key().as_der().map(|d| d.as_ref().to_vec()),
            KeyPair::Ed25519(p) => p.public_key().as_der().map(|d| d.as_ref().to_vec()),
        }
        .map_err(|e| SignError::Crypto {
            reason: e.to_string(),
        })?;
        let public = PublicKey::from_spki_der(&spki).map_err(|e| SignError::Crypto {
            reason: e.to_string(),
        })?;
        Ok(Self { pair, public })
    }

    /// The private key as an unencrypted PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Result<String, SignError> {
        let doc = match &self.pair {
            KeyPair::EcdsaP256(p) => p.to_pkcs8v1(),
            KeyPair::Ed25519(p) => p.to_pkcs8v1(),
        }
        .map_err(|e| SignError::Crypto {
            reason: e.to_string(),
        })?;
        Ok(pem::encode(&pem::Pem::new("PRIVATE KEY", doc.as_ref())))
    }

    /// The public half, to configure as a trusted key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs the artifact with this digest.
    pub fn sign_digest(&self, digest: &Sha256Digest) -> Result<KeySignature, SignError> {
        let message = KeySignature::signed_message(digest);
        let signature = match &self.pair {
            KeyPair::EcdsaP256(p) => p
                .sign(&aws_lc_rs::rand::SystemRandom::new(), &message)
                .map_err(|e| SignError::Crypto {
                    reason: e.to_string(),
                })?
                .as_ref()
                .to_vec(),
            KeyPair::Ed25519(p) => p.sign(&message).as_ref().to_vec(),
        };
        Ok(KeySignature {
            media_type: KEY_SIGNATURE_MEDIA_TYPE.to_string(),
            digest: *digest,
            key_id: self.public.key_id(),
            signature: base64::engine::general_purpose::STANDARD.encode(signature),
        })
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private key.
        write!(f, "SigningKey({:?})", self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_message_is_the_dsse_pae_of_the_digest() {
        let d = Sha256Digest::of_bytes(b"");
        let msg = KeySignature::signed_message(&d);
        assert_eq!(
            String::from_utf8(msg).unwrap(),
            format!("DSSEv1 40 {KEY_SIGNATURE_MEDIA_TYPE} 71 {d}")
        );
    }

    #[test]
    fn keys_round_trip_through_pkcs8_pem() {
        for kind in [KeyKind::EcdsaP256, KeyKind::Ed25519] {
            let key = SigningKey::generate(kind).unwrap();
            let pem = key.to_pkcs8_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
            let again = SigningKey::from_pkcs8_pem(&pem).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            assert_eq!(again.public_key().kind(), kind);
            assert!(!format!("{again:?}").contains("PRIVATE"));
        }
    }

    #[test]
    fn other_pem_blocks_are_refused_with_a_hint() {
        let sec1 = pem::encode(&pem::Pem::new("EC PRIVATE KEY", vec![1, 2, 3]));
        let err = SigningKey::from_pkcs8_pem(&sec1).unwrap_err();
        assert!(err.to_string().contains("openssl pkcs8 -topk8"), "{err}");
        let cosign = pem::encode(&pem::Pem::new("ENCRYPTED SIGSTORE PRIVATE KEY", vec![1]));
        let err = SigningKey::from_pkcs8_pem(&cosign).unwrap_err();
        assert!(err.to_string().contains("encrypted"), "{err}");
        let junk = pem::encode(&pem::Pem::new("PRIVATE KEY", vec![1, 2, 3]));
        assert!(SigningKey::from_pkcs8_pem(&junk).is_err());
    }
}
