//! Review decisions (append-only) and the review state of each version.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// A version as review needs it.
#[derive(Debug, sqlx::FromRow)]
pub struct ReviewVersion {
    /// Row id.
    pub id: i64,
    /// Server name.
    pub server_name: String,
    /// Version string.
    pub version: String,
    /// Who published it.
    pub published_by: String,
    /// active, deprecated or deleted.
    pub status: String,
}

/// One version by exact version string, or the latest with `latest`.
pub async fn version(
    db: impl PgExecutor<'_>,
    server_name: &str,
    version: &str,
) -> Result<Option<ReviewVersion>, sqlx::Error> {
    sqlx::query_as(
        "select id, server_name, version, published_by, status from server_versions
          where server_name = $1 and (version = $2 or ($2 = 'latest' and is_latest))
          order by (version = $2) desc limit 1",
    )
    .bind(server_name)
    .bind(version)
    .fetch_optional(db)
    .await
}

/// Locks a version's review for the rest of the transaction, so that decisions on one version
/// are made one after the other.
pub async fn lock(db: impl PgExecutor<'_>, version_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("select id from server_versions where id = $1 for update")
        .bind(version_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The stored state (`None`: no decision yet, so submitted).
pub async fn stored_state(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select state::text from version_reviews where version_id = $1")
        .bind(version_id)
        .fetch_optional(db)
        .await
}

/// Records the state after a decision.
pub async fn set_state(
    db: impl PgExecutor<'_>,
    version_id: i64,
    state: &str,
    actor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into version_reviews (version_id, state, changed_by) values ($1, $2::review_state, $3)
         on conflict (version_id) do update
            set state = excluded.state, changed_at = now(), changed_by = excluded.changed_by",
    )
    .bind(version_id)
    .bind(state)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}

/// A decision to record.
pub struct NewDecision<'a> {
    /// The version.
    pub version_id: i64,
    /// approve, reject or revoke.
    pub action: &'a str,
    /// The reviewer.
    pub actor: &'a str,
    /// Why.
    pub reason: Option<&'a str>,
    /// The gates as evaluated (`[GateResult]`).
    pub gates: &'a Value,
    /// Overridden gates with reasons.
    pub overrides: &'a Value,
    /// When an approval stops counting.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Records a decision.
pub async fn insert_decision(
    db: impl PgExecutor<'_>,
    d: &NewDecision<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into review_decisions (version_id, action, actor, reason, gates, overrides, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
    )
    .bind(d.version_id)
    .bind(d.action)
    .bind(d.actor)
    .bind(d.reason)
    .bind(d.gates)
    .bind(d.overrides)
    .bind(d.expires_at)
    .fetch_one(db)
    .await
}

/// A recorded decision.
#[derive(Debug, sqlx::FromRow)]
pub struct DecisionRow {
    /// Its id.
    pub id: i64,
    /// approve, reject or revoke.
    pub action: String,
    /// The reviewer.
    pub actor: String,
    /// Why.
    pub reason: Option<String>,
    /// The gates as evaluated.
    pub gates: Value,
    /// Overridden gates.
    pub overrides: Value,
    /// When an approval stops counting.
    pub expires_at: Option<DateTime<Utc>>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Every decision on a version, oldest first.
pub async fn decisions(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<Vec<DecisionRow>, sqlx::Error> {
    sqlx::query_as(
        "select id, action, actor, reason, gates, overrides, expires_at, at
           from review_decisions where version_id = $1 order by id",
    )
    .bind(version_id)
    .fetch_all(db)
    .await
}

/// What the gates are decided on.
#[derive(Debug, sqlx::FromRow)]
pub struct GateFacts {
    /// Stored signatures (each was verified against a trusted signer on arrival).
    pub signatures: i64,
    /// Packages.
    pub packages: i64,
    /// Packages without an artifact digest.
    pub unpinned: i64,
    /// The tools pin, when a manifest is attached.
    pub tools_pin: Option<String>,
    /// The highest unsuppressed finding severity.
    pub highest_severity: Option<String>,
}

/// The facts the gates need, in one statement.
pub async fn gate_facts(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<GateFacts, sqlx::Error> {
    sqlx::query_as(
        "select (select count(*) from version_signatures where version_id = $1) as signatures,
                (select count(*) from version_packages where version_id = $1) as packages,
                (select count(*) from version_packages where version_id = $1 and digest is null) as unpinned,
                (select tools_pin from tool_manifests where version_id = $1) as tools_pin,
                (select f.severity::text from scan_findings f where f.version_id = $1 and not f.suppressed
                  order by f.severity desc limit 1) as highest_severity",
    )
    .bind(version_id)
    .fetch_one(db)
    .await
}

/// One row of the review queue.
#[derive(Debug, sqlx::FromRow)]
pub struct QueueRow {
    /// Server name.
    pub server_name: String,
    /// Version.
    pub version: String,
    /// Who published it.
    pub published_by: String,
    /// When.
    pub published_at: DateTime<Utc>,
    /// The state, with expired approvals not counted.
    pub state: String,
    /// Approvals that count now.
    pub approvals: i64,
}

/// Versions that are not deleted, newest publication first, with their state — an approved
/// version with fewer than `required` unexpired approvals counts as submitted — filtered by
/// `state` when given.
pub async fn queue(
    db: impl PgExecutor<'_>,
    required: i64,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<QueueRow>, sqlx::Error> {
    sqlx::query_as(
        "with v as (
            select v.id, v.server_name, v.version, v.published_by, v.published_at,
                   coalesce(r.state::text, 'submitted') as stored,
                   (select count(distinct d.actor) from review_decisions d
                     where d.version_id = v.id and d.action = 'approve'
                       and (d.expires_at is null or d.expires_at > now())) as approvals
              from server_versions v left join version_reviews r on r.version_id = v.id
             where v.status <> 'deleted'
         ), e as (
            select *, case when stored = 'approved' and approvals < $1 then 'submitted' else stored end as state
              from v
         )
         select server_name, version, published_by, published_at, state, approvals
           from e where ($2::text is null or state = $2)
          order by published_at desc, id desc limit $3",
    )
    .bind(required)
    .bind(state)
    .bind(limit)
    .fetch_all(db)
    .await
}
