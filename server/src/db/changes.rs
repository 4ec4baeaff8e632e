//! Catalog change notifications: every replica `LISTEN`s on [`CHANNEL`] and drops its read
//! caches when it hears one (see `crate::read_cache`).

use sqlx::PgExecutor;

/// The notification channel of catalog changes.
pub const CHANNEL: &str = "mcpreg_catalog";

/// Tells every replica that the catalog changed; call inside the writing transaction (the
/// notification is delivered on commit).
pub async fn notify(db: impl PgExecutor<'_>, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("select pg_notify($1, $2)", CHANNEL, subject)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether the database answers a trivial statement (readiness).
pub async fn ping(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i32>("select 1")
        .fetch_one(db)
        .await?;
    Ok(())
}
