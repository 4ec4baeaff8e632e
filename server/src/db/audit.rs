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

/// A page of audit events, newest first, strictly before event id `before` when given.
pub async fn list(
    db: impl PgExecutor<'_>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<mcpreg_api::access::AuditEvent>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        at: chrono::DateTime<chrono::Utc>,
        actor: String,
        action: String,
        subject: String,
        details: Value,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select id, at, actor, action, subject, details from audit_events
          where ($1::bigint is null or id < $1) order by id desc limit $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| mcpreg_api::access::AuditEvent {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            details: r.details,
        })
        .collect())
}
