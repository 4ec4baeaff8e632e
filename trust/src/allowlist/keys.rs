//! The keys that sign allowlists and keysets: raw Ed25519 public keys with their status, and the
//! private key that signs.

use std::fmt;

use aws_lc_rs::signature::{self as lc, KeyPair as _};
use base64::Engine as _;
use mcpreg_api::allowlist::{
    AllowlistDocument, DocumentSignature, ED25519, KeySet, KeyStatus, PublishedKey,
    SignedAllowlist, SignedKeySet,
};

use super::AllowlistError;
use crate::signer_policy::{KeyKind, PublicKey};
use crate::{Sha256Digest, SignError, canonical_json};

/// The DER SubjectPublicKeyInfo of an Ed25519 key is this prefix and the 32 raw key bytes
/// (RFC 8410).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

pub(super) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

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

    pub(super) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
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
}
