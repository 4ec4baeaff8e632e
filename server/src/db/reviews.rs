//! Review decisions (append-only) and the review state of each version.

use chrono::{DateTime, Utc};

use serde_json::Value;
use sqlx::PgExecutor;

use crate::db::scans::Severity;

/// A review state as the database stores it (the `review_state` enum), decoded straight into the
/// wire type (api's `sqlx` feature): an unknown value fails to decode. The name is the one the
/// typed columns of the queries use.
pub use mcpreg_api::review::ReviewState as StoredReviewState;

/// A decision's action as stored (text the schema limits to three values), decoded straight
/// into the wire type: an unknown value fails to decode.
pub use mcpreg_api::review::ReviewAction as StoredAction;

/// Locks a version's review for the rest of the transaction, so that decisions on one version
/// are made one after the other.
pub async fn lock(db: impl PgExecutor<'_>, version_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "select id from server_versions where id = $1 for update",
        version_id
    )
    .fetch_optional(db)
    .await?;
    Ok(())
}

/// The review state of a version now, as the database function `review_state_now` decides it
/// (the one home of "an approval counts until it expires", by the database's clock).
#[derive(Debug, sqlx::FromRow)]
pub struct ReviewStateNow {
    /// The state the last decision set (`submitted` before any).
    pub stored_state: StoredReviewState,
    /// The state now: approved only while enough approvals count.
    pub state: StoredReviewState,
    /// Approvals that count now, one per reviewer.
    pub approvals: i64,
    /// When the first counting approval expires (`None`: none does).
    pub approved_until: Option<DateTime<Utc>>,
}

/// The review state of a version now, given the approvals the registry requires.
pub async fn state_now(
    db: impl PgExecutor<'_>,
    version_id: i64,
    required: i64,
) -> Result<ReviewStateNow, sqlx::Error> {
    sqlx::query_as!(
ReviewStateNow,
r#"select stored_state as "stored_state!: StoredReviewState", state as "state!: StoredReviewState",
                approvals as "approvals!", approved_until as "approved_until?" from review_state_now($1, $2)"#,
version_id,
required
)
    .fetch_one(db)
    .await
}

/// Whether this reviewer's approval of the version counts now.
pub async fn approval_counts(
    db: impl PgExecutor<'_>,
    version_id: i64,
    actor: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
r#"select exists (select 1 from counting_approvals where version_id = $1 and actor = $2) as "counts!""#,
version_id,
actor
)
    .fetch_one(db)
    .await
}

/// Records the state after a decision.
pub async fn set_state(
    db: impl PgExecutor<'_>,
    version_id: i64,
    state: StoredReviewState,
    actor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into version_reviews (version_id, state, changed_by) values ($1, $2, $3)
         on conflict (version_id) do update
            set state = excluded.state, changed_at = now(), changed_by = excluded.changed_by",
        version_id,
        state as StoredReviewState,
        actor
    )
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
    /// For an approval: how many days it counts (`None`: it does not expire). The expiry is
    /// computed by the database's clock, the one that decides whether it still counts.
    pub approval_days: Option<i32>,
}

/// Records a decision; returns its id and when it stops counting.
pub async fn insert_decision(
    db: impl PgExecutor<'_>,
    d: &NewDecision<'_>,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    let row = sqlx::query!(
"insert into review_decisions (version_id, action, actor, reason, gates, overrides, expires_at)
         values ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7))
         returning id, expires_at",
d.version_id,
d.action,
d.actor,
d.reason,
d.gates,
d.overrides,
d.approval_days
)
    .fetch_one(db)
    .await?;
    Ok((row.id, row.expires_at))
}

/// A recorded decision.
#[derive(Debug, sqlx::FromRow)]
pub struct DecisionRow {
    /// Its id.
    pub id: i64,
    /// approve, reject or revoke.
    pub action: StoredAction,
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
    sqlx::query_as!(
DecisionRow,
r#"select id, action as "action: StoredAction", actor, reason, gates, overrides, expires_at, at
           from review_decisions where version_id = $1 order by id"#,
version_id
)
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
    pub highest_severity: Option<Severity>,
}

/// The facts the gates need, in one statement.
pub async fn gate_facts(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<GateFacts, sqlx::Error> {
    sqlx::query_as!(
GateFacts,
r#"select (select count(*) from version_signatures where version_id = $1) as "signatures!",
                (select count(*) from version_packages where version_id = $1) as "packages!",
                (select count(*) from version_packages where version_id = $1 and digest is null) as "unpinned!",
                (select tools_pin from tool_manifests where version_id = $1) as "tools_pin?",
                worst_open_finding($1) as "highest_severity?: Severity""#,
version_id
)
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
    pub state: StoredReviewState,
    /// Approvals that count now.
    pub approvals: i64,
}

/// Versions that are not deleted, newest publication first, with their state — an approved
/// version with fewer than `required` unexpired approvals counts as submitted — filtered by
/// `state` when given.
pub async fn queue(
    db: impl PgExecutor<'_>,
    required: i64,
    state: Option<StoredReviewState>,
    limit: i64,
) -> Result<Vec<QueueRow>, sqlx::Error> {
    sqlx::query_as!(
        QueueRow,
        r#"select v.server_name, v.version, v.published_by, v.published_at,
                rs.state as "state!: StoredReviewState", rs.approvals as "approvals!"
           from server_versions v cross join lateral review_state_now(v.id, $1) rs
          where v.status <> 'deleted' and ($2::review_state is null or rs.state = $2)
          order by v.published_at desc, v.id desc limit $3"#,
        required,
        state as Option<StoredReviewState>,
        limit
    )
    .fetch_all(db)
    .await
}
