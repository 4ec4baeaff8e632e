//! Servers: the rows that group versions under one name, and their tags.

use sqlx::PgExecutor;

/// A server's tags (`None`: no such server).
pub async fn tags(db: impl PgExecutor<'_>, name: &str) -> Result<Option<Vec<String>>, sqlx::Error> {
    sqlx::query_scalar!("select tags from servers where name = $1", name)
        .fetch_optional(db)
        .await
}

/// A server's tags, locking its row for the rest of the transaction (`None`: no such server).
pub async fn tags_for_update(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    sqlx::query_scalar!("select tags from servers where name = $1 for update", name)
        .fetch_optional(db)
        .await
}

/// Replaces a server's tags.
pub async fn set_tags(
    db: impl PgExecutor<'_>,
    name: &str,
    tags: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query!("update servers set tags = $2 where name = $1", name, tags)
        .execute(db)
        .await?;
    Ok(())
}
