//! The facts of versions that policy and allowlists read, one row per version.
//!
//! One statement, [`facts!`], with a filter per caller: every version, the versions of some
//! servers, or one version.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

use crate::db::reviews::StoredReviewState;
use crate::db::scans::Severity;
use crate::db::versions::VersionStatus;

/// A version with everything policy and allowlists read of it, as stored.
#[derive(sqlx::FromRow)]
pub struct FactsRow {
    /// Server name.
    pub server_name: String,
    /// Version string.
    pub version: String,
    /// Lifecycle status.
    pub status: VersionStatus,
    /// The server.json text.
    pub document: String,
    /// The server's tags.
    pub tags: Vec<String>,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// When its registry metadata last changed.
    pub updated_at: DateTime<Utc>,
    /// The review state now (approvals that no longer count not counted).
    pub review_state: StoredReviewState,
    /// When the first of the approvals that count now expires (by the database's clock): the
    /// review state may change then without any write.
    pub approved_until: Option<DateTime<Utc>>,
    /// Verified signers: `[{identity, issuer, keyId}]`, in attachment order.
    pub signers: Value,
    /// The highest unsuppressed finding severity.
    pub highest_severity: Option<Severity>,
    /// The tools pin, when a manifest is attached.
    pub tools_pin: Option<String>,
    /// The manifest's context cost in tokens.
    pub context_cost_tokens: Option<i64>,
    /// The artifact digest of each package, in document order.
    pub package_digests: Value,
}

/// The facts statement, with `$filter` (a string literal: the `where` clause and anything after
/// it) and its arguments; `$1` is always the number of approvals required.
macro_rules! facts {
    ($filter:tt, $($arg:expr),+) => {
        sqlx::query_as!(
FactsRow,
r#"
    select v.server_name, v.version, v.status as "status: VersionStatus", v.document, srv.tags, v.published_at, v.updated_at,
           rs.state as "review_state!: StoredReviewState", rs.approved_until,
           coalesce((select json_agg(json_build_object(
                        'identity', s.signer_identity, 'issuer', s.signer_issuer, 'keyId', s.key_id)
                        order by s.id)
                       from version_signatures s where s.version_id = v.id), '[]'::json) as signers,
           worst_open_finding(v.id) as "highest_severity?: Severity",
           t.tools_pin as "tools_pin?", t.context_cost_tokens as "context_cost_tokens?",
           coalesce((select json_agg(p.digest order by p.package_index)
                       from version_packages p where p.version_id = v.id), '[]'::json) as package_digests
      from server_versions v
      join servers srv on srv.id = v.server_id
      cross join lateral review_state_now(v.id, $1) rs
      left join tool_manifests t on t.version_id = v.id "# + $filter,
            $($arg),+
        )
    };
}

/// Every version that is active or deprecated, in no particular order; `required` is the number
/// of approvals that make a version approved (`[review] approvals`). A stored status outside the
/// known three is left out (never allowed) rather than failing every replica's read model; the
/// official API fails the reads of its server (`read_model::catalog::Broken`).
pub async fn all(db: impl PgExecutor<'_>, required: i64) -> Result<Vec<FactsRow>, sqlx::Error> {
    facts!("where v.status in ('active', 'deprecated')", required)
        .fetch_all(db)
        .await
}

/// Every version of these servers that is active or deprecated (as [`all`]), by server then
/// oldest first.
pub async fn of_servers(
    db: impl PgExecutor<'_>,
    required: i64,
    names: &[String],
) -> Result<Vec<FactsRow>, sqlx::Error> {
    facts!(
        "where v.server_name = any($2) and v.status in ('active', 'deprecated') order by v.server_name, v.id",
        required,
        names
    )
    .fetch_all(db)
    .await
}

/// One version by row id (found with `versions::resolve`).
pub async fn by_id(
    db: impl PgExecutor<'_>,
    required: i64,
    id: i64,
) -> Result<Option<FactsRow>, sqlx::Error> {
    facts!("where v.id = $2", required, id)
        .fetch_optional(db)
        .await
}

/// The database's clock in the caller's transaction (`now()`: its start), which decides whether
/// an approval still counts.
pub async fn now(db: impl PgExecutor<'_>) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar!(r#"select now() as "now!""#)
        .fetch_one(db)
        .await
}
