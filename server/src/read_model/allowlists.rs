//! Each allowlist's view and signed document, as the replica serves them from memory.
//!
//! Not built yet: allowlist reads still go through `crate::allowlists` and its per-replica
//! caches. This model is loaded and carried along with every snapshot so that it can take them
//! over without changing how snapshots are built.

use crate::auth::config::ReviewConfig;
use crate::read_model::Changes;

/// The allowlists at one revision.
#[derive(Clone, Default)]
pub struct AllowlistModel {}

impl AllowlistModel {
    /// Loads the allowlists (in the follower's repeatable-read transaction).
    pub async fn load(
        _tx: &mut sqlx::PgConnection,
        _review: &ReviewConfig,
    ) -> Result<Self, sqlx::Error> {
        Ok(Self::default())
    }

    /// The model after `changes` (read in the follower's repeatable-read transaction).
    pub async fn apply(
        &self,
        _tx: &mut sqlx::PgConnection,
        _review: &ReviewConfig,
        _changes: &Changes,
    ) -> Result<Self, sqlx::Error> {
        Ok(self.clone())
    }
}
