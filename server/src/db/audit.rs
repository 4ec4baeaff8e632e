//! The append-only audit trail and its hash chain.
//!
//! A writer only inserts its events ([`record`], in its own transaction, marked pending); the
//! chain is extended after commit by [`chain_pending`], which links the committed pending events
//! in id order under an advisory lock that only chainers take. Writers therefore never wait for
//! one another on the audit trail, and a rolled-back transaction leaves no gap in the chain (its
//! events never existed for the chainer). Every replica runs a chainer in the background
//! (`crate::audit_chain`), and every read of the trail chains first, so that a caller sees its
//! own events chained whichever replica wrote them.

use serde_json::Value;
use sqlx::{PgConnection, PgExecutor, PgPool};

/// The advisory lock that makes one chainer at a time extend the chain (held for the chainer's
/// short transaction only; writers never take it).
const CHAIN_LOCK: i64 = 0x6d63_7072_6567_0001;

/// How many events one chainer transaction links.
const CHAIN_BATCH: i64 = 1000;

/// Records that `actor` did `action` on `subject`, in the caller's transaction. The event is
/// linked into the hash chain (`mcpreg_trust::audit_event_hash`) after the transaction commits,
/// by [`chain_pending`].
pub async fn record(
    db: &mut PgConnection,
    actor: &str,
    action: &str,
    subject: &str,
    details: Value,
) -> Result<(), sqlx::Error> {
    // Microseconds: what PostgreSQL keeps, so that the hash is computed from what is read.
    let at_micros = chrono::Utc::now().timestamp_micros();
    let at = chrono::DateTime::from_timestamp_micros(at_micros).unwrap_or_default();
    sqlx::query!(
        "insert into audit_events (at, actor, action, subject, details) values ($1, $2, $3, $4, $5)",
        at,
        actor,
        action,
        subject,
        details
    )
    .execute(&mut *db)
    .await?;
    // This replica's chainer links it soon after the commit. Deliberately no NOTIFY: PostgreSQL
    // serialises the commits of all transactions that notify (a database-wide lock held through
    // the commit's WAL flush), which would bring back the serialisation the chainer removes.
    CHAIN_WAKE.notify_one();
    Ok(())
}

/// Wakes this process's chainer (`crate::audit_chain`) when an event is recorded.
pub static CHAIN_WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Links every committed pending event into the hash chain, in id order, and returns how many it
/// linked. Each link is computed from the event as stored (so exactly as `mcpreg audit verify`
/// reads it back). Safe to run from any number of replicas at once: they take turns.
pub async fn chain_pending(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut linked = 0;
    loop {
        let mut tx = pool.begin().await?;
        sqlx::query!("select pg_advisory_xact_lock($1)", CHAIN_LOCK)
            .execute(&mut *tx)
            .await?;
        // Read after the lock: the previous chainer's links are committed and visible.
        let last = sqlx::query!(
            r#"select seq as "seq!", hash as "hash!" from audit_events
                where seq is not null order by seq desc limit 1"#
        )
        .fetch_optional(&mut *tx)
        .await?;
        let pending = sqlx::query!(
            "select id, at, actor, action, subject, details from audit_events
              where chain_pending order by id limit $1",
            CHAIN_BATCH
        )
        .fetch_all(&mut *tx)
        .await?;
        if pending.is_empty() {
            tx.commit().await?;
            return Ok(linked);
        }
        let (mut seq, mut prev_hash): (i64, String) = match last {
            Some(last) => (last.seq, last.hash),
            None => (0, mcpreg_trust::GENESIS.to_owned()),
        };
        let n = pending.len();
        let mut ids: Vec<i64> = Vec::with_capacity(n);
        let mut seqs: Vec<i64> = Vec::with_capacity(n);
        let mut prev_hashes: Vec<String> = Vec::with_capacity(n);
        let mut hashes: Vec<String> = Vec::with_capacity(n);
        for e in pending {
            seq += 1;
            let hash = mcpreg_trust::audit_event_hash(&mcpreg_trust::ChainedEvent {
                seq,
                at_micros: e.at.timestamp_micros(),
                actor: &e.actor,
                action: &e.action,
                subject: &e.subject,
                details: &e.details,
                prev_hash: &prev_hash,
            });
            ids.push(e.id);
            seqs.push(seq);
            prev_hashes.push(std::mem::replace(&mut prev_hash, hash.clone()));
            hashes.push(hash);
        }
        sqlx::query!(
            "update audit_events e
                set seq = l.seq, prev_hash = l.prev_hash, hash = l.hash, chain_pending = false
               from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])
                    as l(id, seq, prev_hash, hash)
              where e.id = l.id and e.chain_pending",
            &ids,
            &seqs,
            &prev_hashes,
            &hashes
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        linked += n as u64;
        if (n as i64) < CHAIN_BATCH {
            return Ok(linked);
        }
    }
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
