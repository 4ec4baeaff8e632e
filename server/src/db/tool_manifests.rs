//! Tool manifests of versions: one per version, written once and never changed (the schema
//! refuses updates and deletes).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// The names of every server in the catalog but `except` (for the built-in scanner's look-alike
/// check). One column of one table: cheap even for a large catalog.
pub async fn other_server_names(
    db: impl PgExecutor<'_>,
    except: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "select name from servers where lower(name) <> lower($1) order by name",
        except
    )
    .fetch_all(db)
    .await
}

/// A manifest to store.
pub struct NewManifest<'a> {
    /// The version.
    pub version_id: i64,
    /// The manifest as received.
    pub received: &'a str,
    /// The manifest as served (canonical JSON).
    pub manifest: &'a str,
    /// Its tools pin.
    pub tools_pin: &'a str,
    /// Its context cost (`mcpreg_scan::ContextCost` as JSON).
    pub context_cost: &'a Value,
    /// How many tools it lists.
    pub tool_count: i32,
    /// `serverInfo.name`.
    pub server_info_name: &'a str,
    /// Who attached it.
    pub attached_by: &'a str,
}

/// Stores a manifest; `None` when the version already has one.
pub async fn insert(
    db: impl PgExecutor<'_>,
    m: &NewManifest<'_>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar!(
"insert into tool_manifests
            (version_id, received, manifest, tools_pin, context_cost, tool_count, server_info_name, attached_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (version_id) do nothing
         returning attached_at",
m.version_id,
m.received,
m.manifest,
m.tools_pin,
m.context_cost,
m.tool_count,
m.server_info_name,
m.attached_by
)
    .fetch_optional(db)
    .await
}

/// A stored manifest, as served.
#[derive(Debug, sqlx::FromRow)]
pub struct ManifestRow {
    /// The manifest as served (canonical JSON).
    pub manifest: String,
    /// Its tools pin.
    pub tools_pin: String,
    /// Its context cost.
    pub context_cost: Value,
    /// How many tools it lists.
    pub tool_count: i32,
    /// `serverInfo.name`.
    pub server_info_name: String,
    /// Who attached it.
    pub attached_by: String,
    /// When.
    pub attached_at: DateTime<Utc>,
}

/// The manifest of a version.
pub async fn get(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<Option<ManifestRow>, sqlx::Error> {
    sqlx::query_as!(
ManifestRow,
"select manifest, tools_pin, context_cost, tool_count, server_info_name, attached_by, attached_at
           from tool_manifests where version_id = $1",
version_id
)
    .fetch_optional(db)
    .await
}

/// The tools pin of a version's manifest, without reading the manifest.
pub async fn tools_pin(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "select tools_pin from tool_manifests where version_id = $1",
        version_id
    )
    .fetch_optional(db)
    .await
}
