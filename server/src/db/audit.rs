//! The append-only audit trail.

use serde_json::Value;
use sqlx::PgExecutor;

/// Records that `actor` did `action` on `subject`, in the caller's transaction.
pub async fn record(
    db: impl PgExecutor<'_>,
    actor: &str,
    action: &str,
    subject: &str,
    details: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into audit_events (actor, action, subject, details) values ($1, $2, $3, $4)",
    )
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(details)
    .execute(db)
    .await?;
    Ok(())
}
