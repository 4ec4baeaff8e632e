//! Shared state of the service.

use std::sync::Arc;
use std::time::Duration;

use mcpreg_trust::TrustRoot;
use sqlx::PgPool;

use crate::allowlists::{Allowlists, HeldDocuments};
use crate::auth::SharedAuthenticator;
use crate::read_model::ReadModel;
use crate::signatures::Trust;
use crate::signing::SigningKeys;

/// What every handler can reach. Cheap to clone; all state lives in PostgreSQL, so replicas
/// are interchangeable.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: PgPool,
    /// Verifies credentials.
    pub auth: SharedAuthenticator,
    /// The registry's public base URL, when configured (else derived from `Host`).
    pub public_url: Option<String>,
    /// The Sigstore instance signatures must chain to (cheap to clone: shared inside).
    pub trust_root: TrustRoot,
    /// The keys that sign allowlist documents and the published keyset.
    pub signing: Arc<SigningKeys>,
    /// How long a signed allowlist document is valid.
    pub allowlist_ttl: Duration,
    /// The last signed allowlist document this replica served, per allowlist.
    pub documents: Arc<HeldDocuments>,
    /// The replica's read model: what the official API and allowlists answer from.
    pub model: Arc<ReadModel>,
}

impl AppState {
    /// What the signature functions need of this state.
    pub fn trust(&self) -> Trust {
        Trust {
            pool: self.pool.clone(),
            trust_root: self.trust_root.clone(),
        }
    }

    /// Call after a write committed: waits until this replica's read model has applied the
    /// write, so the caller's next read sees it.
    pub async fn committed(&self) {
        self.model.catch_up().await;
    }

    /// What the allowlist functions need of this state.
    pub fn allowlists(&self) -> Allowlists<'_> {
        Allowlists {
            pool: &self.pool,
            signing: &self.signing,
            ttl: self.allowlist_ttl,
        }
    }
}
