//! The versions of the published keyset: one per distinct set of signing keys.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// The version of the keyset with this digest, recorded the first time it is seen, and when.
pub async fn version(
    db: impl PgExecutor<'_> + Copy,
    digest: &str,
) -> Result<(i64, DateTime<Utc>), sqlx::Error> {
    sqlx::query!(
        "insert into signing_keysets (digest) values ($1) on conflict (digest) do nothing",
        digest
    )
    .execute(db)
    .await?;
    let row = sqlx::query!(
        "select version, created_at from signing_keysets where digest = $1",
        digest
    )
    .fetch_one(db)
    .await?;
    Ok((row.version, row.created_at))
}
