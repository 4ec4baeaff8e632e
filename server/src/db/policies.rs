//! Applied policy versions (append-only); the current policy is the highest version.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// A stored policy version.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyRow {
    /// The version.
    pub version: i64,
    /// The document as sent.
    pub source: String,
    /// yaml or json.
    pub format: String,
    /// The canonical JSON.
    pub document: Value,
    /// `sha256:` of the canonical JSON.
    pub digest: String,
    /// Who applied it.
    pub applied_by: String,
    /// When.
    pub applied_at: DateTime<Utc>,
}

/// The current policy: the highest version, if any was applied.
pub async fn current(db: impl PgExecutor<'_>) -> Result<Option<PolicyRow>, sqlx::Error> {
    sqlx::query_as!(
        PolicyRow,
        "select version, source, format, document, digest, applied_by, applied_at
           from policies order by version desc limit 1"
    )
    .fetch_optional(db)
    .await
}

/// Makes applies wait for each other until the end of the transaction (reads go on), so that
/// "compare with the current policy, then insert" sees the latest version.
pub async fn lock(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!("lock table policies in share row exclusive mode")
        .execute(db)
        .await?;
    Ok(())
}

/// A policy version to store.
pub struct NewPolicy<'a> {
    /// The document as sent.
    pub source: &'a str,
    /// yaml or json.
    pub format: &'a str,
    /// The canonical JSON.
    pub document: &'a Value,
    /// Its digest.
    pub digest: &'a str,
    /// Who applies it.
    pub applied_by: &'a str,
}

/// Stores a new version and returns it.
pub async fn insert(db: impl PgExecutor<'_>, p: &NewPolicy<'_>) -> Result<PolicyRow, sqlx::Error> {
    sqlx::query_as!(
        PolicyRow,
        "insert into policies (source, format, document, digest, applied_by)
         values ($1, $2, $3, $4, $5)
         returning version, source, format, document, digest, applied_by, applied_at",
        p.source,
        p.format,
        p.document,
        p.digest,
        p.applied_by
    )
    .fetch_one(db)
    .await
}
