//! The registry's allowlist signing keys: the active Ed25519 keys that sign allowlist documents
//! and the published keyset, and retired public keys listed so that clients stop trusting them.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mcpreg_api::allowlist::{KEYSET_DOCUMENT_TYPE, KeySet, KeyStatus, SignedKeySet};
use mcpreg_trust::{AllowlistPublicKey, AllowlistSigningKey};
use serde_json::json;

/// The keys, loaded at start.
pub struct SigningKeys {
    active: Vec<AllowlistSigningKey>,
    retired: Vec<AllowlistPublicKey>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field(
                "active",
                &self.active.iter().map(|k| k.key_id()).collect::<Vec<_>>(),
            )
            .field(
                "retired",
                &self.retired.iter().map(|k| k.key_id()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The file a key is made in under the data directory when none is configured.
pub const GENERATED_KEY_FILE: &str = "allowlist-signing-key.pem";

impl SigningKeys {
    /// Keys from memory (tests, or a caller that loaded them).
    pub fn new(active: Vec<AllowlistSigningKey>, retired: Vec<AllowlistPublicKey>) -> Self {
        Self { active, retired }
    }

    /// Loads the configured key files; a file that does not load stops the start.
    pub fn load(active: &[PathBuf], retired: &[PathBuf]) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        for path in active {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the signing key {}", path.display()))?;
            keys.push(
                AllowlistSigningKey::from_pkcs8_pem(&pem).with_context(|| {
                    format!("{} is not an Ed25519 PKCS#8 PEM key", path.display())
                })?,
            );
        }
        let mut old = Vec::new();
        for path in retired {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the retired key {}", path.display()))?;
            old.push(
                AllowlistPublicKey::parse(text.trim())
                    .with_context(|| format!("{} is not an Ed25519 public key", path.display()))?
                    .with_status(KeyStatus::Retired),
            );
        }
        Ok(Self::new(keys, old))
    }

    /// The key under `dir`, made (0600) the first time.
    pub fn generated_in(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(GENERATED_KEY_FILE);
        if !path.exists() {
            let key = AllowlistSigningKey::generate()
                .map_err(|e| anyhow::anyhow!("cannot make a signing key: {e}"))?;
            let pem = key
                .to_pkcs8_pem()
                .map_err(|e| anyhow::anyhow!("cannot encode the signing key: {e}"))?;
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            write_private(&path, pem.as_bytes())?;
            tracing::info!(file = %path.display(), key.id = key.key_id(), "made an allowlist signing key");
        }
        Self::load(&[path], &[])
    }

    /// Whether a key can sign.
    pub fn can_sign(&self) -> bool {
        !self.active.is_empty()
    }

    /// The active keys.
    pub fn active(&self) -> &[AllowlistSigningKey] {
        &self.active
    }

    /// The keyset as published: active keys first, then retired ones.
    pub fn keyset(&self, version: u64, issued_at: chrono::DateTime<chrono::Utc>) -> KeySet {
        KeySet {
            document_type: KEYSET_DOCUMENT_TYPE.to_owned(),
            version,
            issued_at,
            keys: self
                .active
                .iter()
                .map(|k| k.public_key().to_published())
                .chain(self.retired.iter().map(AllowlistPublicKey::to_published))
                .collect(),
        }
    }

    /// The keyset signed by every active key; `None` without one.
    pub fn sign_keyset(&self, keyset: &KeySet) -> Option<SignedKeySet> {
        let (first, rest) = self.active.split_first()?;
        let mut signed = first.sign_keyset(keyset);
        for k in rest {
            k.countersign_keyset(&mut signed);
        }
        Some(signed)
    }

    /// A digest of which keys there are and their status: a new keyset version is recorded when
    /// it changes.
    pub fn digest(&self) -> String {
        let ids = json!({
            "active": self.active.iter().map(|k| k.key_id()).collect::<Vec<_>>(),
            "retired": self.retired.iter().map(|k| k.key_id()).collect::<Vec<_>>(),
        });
        mcpreg_trust::Sha256Digest::of_bytes(ids.to_string().as_bytes()).to_string()
    }
}

/// Writes a secret file, readable by its owner only; an existing file is never overwritten.
#[cfg(unix)]
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a secret file; an existing file is never overwritten.
#[cfg(not(unix))]
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyset_lists_retired_keys_and_verifies_with_every_active_one() {
        let old = AllowlistSigningKey::generate().unwrap_or_else(|e| panic!("{e}"));
        let new = AllowlistSigningKey::generate().unwrap_or_else(|e| panic!("{e}"));
        let older = AllowlistSigningKey::generate().unwrap_or_else(|e| panic!("{e}"));
        let retired = older.public_key().clone().with_status(KeyStatus::Retired);
        let rotating = SigningKeys::new(vec![new, old], vec![retired]);
        let keyset = rotating.keyset(3, chrono::Utc::now());
        let statuses: Vec<KeyStatus> = keyset.keys.iter().map(|k| k.status).collect();
        assert_eq!(
            statuses,
            [KeyStatus::Active, KeyStatus::Active, KeyStatus::Retired]
        );
        let signed = rotating
            .sign_keyset(&keyset)
            .unwrap_or_else(|| panic!("two active keys sign"));
        assert_eq!(signed.signatures.len(), 2);
        let json = serde_json::to_vec(&signed).unwrap_or_default();
        let verified =
            mcpreg_trust::verify_keyset_first_use_json(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verified.version, 3);
        // Another set of keys is another keyset version.
        assert_ne!(
            rotating.digest(),
            SigningKeys::new(Vec::new(), Vec::new()).digest()
        );
        assert!(
            SigningKeys::new(Vec::new(), Vec::new())
                .sign_keyset(&keyset)
                .is_none()
        );
    }
}
