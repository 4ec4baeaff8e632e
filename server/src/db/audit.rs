//! The append-only audit trail.

use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};

/// The advisory lock that serialises appends to the audit chain (held until the transaction
/// ends, so the chain is extended in commit order and never forks).
const CHAIN_LOCK: i64 = 0x6d63_7072_6567_0001;

/// Records that `actor` did `action` on `subject`, in the caller's transaction, as the next link
/// of the hash chain (`mcpreg_trust::audit_event_hash`).
pub async fn record(
    db: &mut PgConnection,
    actor: &str,
    action: &str,
    subject: &str,
    details: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!("select pg_advisory_xact_lock($1)", CHAIN_LOCK)
        .execute(&mut *db)
        .await?;
    let last = sqlx::query!(
        r#"select seq as "seq!", hash as "hash!" from audit_events
            where seq is not null order by seq desc limit 1"#
    )
    .fetch_optional(&mut *db)
    .await?;
    let (seq, prev_hash) = match last {
        Some(last) => (last.seq + 1, last.hash),
        None => (1, mcpreg_trust::GENESIS.to_owned()),
    };
    // Microseconds: what PostgreSQL keeps, so that the hash can be recomputed from what is read.
    let at_micros = chrono::Utc::now().timestamp_micros();
    let at = chrono::DateTime::from_timestamp_micros(at_micros).unwrap_or_default();
    let hash = mcpreg_trust::audit_event_hash(&mcpreg_trust::ChainedEvent {
        seq,
        at_micros,
        actor,
        action,
        subject,
        details: &details,
        prev_hash: &prev_hash,
    });
    sqlx::query!(
        "insert into audit_events (at, actor, action, subject, details, seq, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        at,
        actor,
        action,
        subject,
        details,
        seq,
        prev_hash,
        hash
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// A page of audit events, newest first, strictly before event id `before` when given.
pub async fn list(
    db: impl PgExecutor<'_>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<mcpreg_api::access::AuditEvent>, sqlx::Error> {
    struct Row {
        id: i64,
        at: chrono::DateTime<chrono::Utc>,
        actor: String,
        action: String,
        subject: String,
        details: Value,
        seq: Option<i64>,
        prev_hash: Option<String>,
        hash: Option<String>,
    }
    let rows = sqlx::query_as!(
        Row,
        "select id, at, actor, action, subject, details, seq, prev_hash, hash from audit_events
          where ($1::bigint is null or id < $1) order by id desc limit $2",
        before,
        limit
    )
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
            seq: r.seq,
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
        .collect())
}
