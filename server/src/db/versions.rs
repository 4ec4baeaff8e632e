//! Servers and their versions.

use chrono::{DateTime, Utc};
use mcpreg_api::registry::{OfficialMeta, ResponseMeta, ServerResponse, Status};
use mcpreg_api::tools::{ContextCostTotal, ToolsMeta};
use sea_query::extension::postgres::PgExpr;
use sea_query::{Expr, ExprTrait, Iden, LikeExpr, Order, PostgresQueryBuilder, Query};
use sea_query_sqlx::SqlxBinder;
use serde_json::value::RawValue;
use sqlx::PgExecutor;

// Single-version reads join `tool_manifests` on the version id for the tools pin and context
// cost of `_meta["dev.mcpreg/tools"]`: one index probe per row.

/// The tools pin of a list row (see `list_query`).
const TOOLS_PIN_SUBQUERY: &str =
    "(select t.tools_pin from tool_manifests t where t.version_id = \"server_versions\".\"id\")";
/// Its context cost in tokens.
const TOOLS_TOKENS_SUBQUERY: &str = "(select t.context_cost_tokens from tool_manifests t where t.version_id = \"server_versions\".\"id\")";
/// The tokenizer of that estimate.
const TOOLS_ENCODING_SUBQUERY: &str = "(select t.context_cost ->> 'encoding' from tool_manifests t where t.version_id = \"server_versions\".\"id\")";

/// A version's lifecycle status as stored (`server_versions.status`, text the schema limits to
/// three values), decoded straight into the wire type (api's `sqlx` feature). A value outside
/// them fails to decode: it is never mapped to another.
pub use mcpreg_api::registry::Status as VersionStatus;

/// A version found by name and exact version, or the server's latest with `latest`.
#[derive(Debug, sqlx::FromRow)]
pub struct VersionRef {
    /// Row id.
    pub id: i64,
    /// Server name.
    pub server_name: String,
    /// Version string.
    pub version: String,
    /// The server.json text.
    pub document: String,
    /// The recorded server.json digest (null for versions published before it was recorded).
    pub server_json_digest: Option<String>,
    /// Who published it.
    pub published_by: String,
    /// Lifecycle status.
    pub status: VersionStatus,
}

/// The one lookup of "a version, or `latest`": the exact version when one has that string
/// (a version may be called `latest`), else the server's latest.
pub async fn resolve(
    db: impl PgExecutor<'_>,
    server_name: &str,
    version: &str,
) -> Result<Option<VersionRef>, sqlx::Error> {
    sqlx::query_as!(
        VersionRef,
        r#"select id, server_name, version, document, server_json_digest, published_by,
                status as "status: VersionStatus"
           from server_versions
          where server_name = $1 and (version = $2 or ($2 = 'latest' and is_latest))
          order by (version = $2) desc limit 1"#,
        server_name,
        version
    )
    .fetch_optional(db)
    .await
}

/// A stored version, as read.
#[derive(Debug, sqlx::FromRow)]
pub struct VersionRow {
    /// Server name.
    pub server_name: String,
    /// Version string.
    pub version: String,
    /// The server.json text as published.
    pub document: String,
    /// Lifecycle status.
    pub status: VersionStatus,
    /// Why the status was set.
    pub status_message: Option<String>,
    /// Whether this is the server's latest version.
    pub is_latest: bool,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// When its registry metadata last changed.
    pub updated_at: DateTime<Utc>,
    /// The tools pin of its tool manifest, when it has one.
    #[sqlx(default)]
    pub tools_pin: Option<String>,
    /// The manifest's estimated context cost, in tokens.
    #[sqlx(default)]
    pub context_cost_tokens: Option<i64>,
    /// The tokenizer of that estimate.
    #[sqlx(default)]
    pub context_cost_encoding: Option<String>,
}

impl VersionRow {
    /// The row's status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The official API's view of the row.
    pub fn into_response(self) -> Result<ServerResponse, serde_json::Error> {
        let status = self.status();
        Ok(ServerResponse {
            server: RawValue::from_string(self.document)?,
            meta: ResponseMeta {
                official: OfficialMeta {
                    status,
                    status_message: self.status_message,
                    published_at: self.published_at,
                    updated_at: self.updated_at,
                    is_latest: self.is_latest,
                },
                tools: self.tools_pin.map(|tools_pin| ToolsMeta {
                    tools_pin,
                    context_cost: ContextCostTotal {
                        encoding: self.context_cost_encoding.unwrap_or_default(),
                        total_tokens: self
                            .context_cost_tokens
                            .and_then(|t| u64::try_from(t).ok())
                            .unwrap_or_default(),
                    },
                }),
            },
        })
    }
}

#[derive(Iden)]
enum ServerVersions {
    Table,
    ServerName,
    Version,
    Document,
    Status,
    StatusMessage,
    IsLatest,
    PublishedAt,
    UpdatedAt,
}

/// Where a page starts: strictly after this server name (and version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Server name of the last item of the previous page.
    pub server_name: String,
    /// Its version; `None` for a cursor that names only a server.
    pub version: Option<String>,
}

impl Cursor {
    /// Parses the official cursor form `name:version` (or a bare `name`).
    pub fn parse(s: &str) -> Self {
        match s.split_once(':') {
            Some((name, version)) => Cursor {
                server_name: name.to_owned(),
                version: Some(version.to_owned()),
            },
            None => Cursor {
                server_name: s.to_owned(),
                version: None,
            },
        }
    }

    /// The cursor that continues after `row`.
    pub fn after(row: &VersionRow) -> String {
        format!("{}:{}", row.server_name, row.version)
    }
}

/// Filters of `GET /v0.1/servers`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Continue after this item.
    pub cursor: Option<Cursor>,
    /// Page size (1–100).
    pub limit: u32,
    /// Case-insensitive substring of the server name.
    pub search: Option<String>,
    /// Only versions whose metadata changed strictly after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only each server's latest version.
    pub latest_only: bool,
    /// Only this exact version.
    pub version: Option<String>,
    /// Include versions whose status is `deleted`.
    pub include_deleted: bool,
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// One page of versions in (name, version) order; returns up to `limit + 1` rows so the caller
/// knows whether another page follows. Keyset pagination: the cost does not grow with depth.
pub async fn list(
    db: impl PgExecutor<'_>,
    filter: &ListFilter,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    let (sql, values) = list_query(filter);
    sqlx::query_as_with(sqlx::AssertSqlSafe(sql), values)
        .fetch_all(db)
        .await
}

fn list_query(filter: &ListFilter) -> (String, sea_query_sqlx::SqlxValues) {
    use ServerVersions as V;
    let mut q = Query::select();
    q.columns([
        V::ServerName,
        V::Version,
        V::Document,
        V::Status,
        V::StatusMessage,
        V::IsLatest,
        V::PublishedAt,
        V::UpdatedAt,
    ])
    // Per-row subqueries (one primary-key probe each), not a join: the planner may answer a
    // join with a hash join and a sort of every row after the cursor, which loses the ordered
    // index walk that makes a page cost the same at any depth (measured in bench/).
    .expr_as(Expr::cust(TOOLS_PIN_SUBQUERY), "tools_pin")
    .expr_as(Expr::cust(TOOLS_TOKENS_SUBQUERY), "context_cost_tokens")
    .expr_as(Expr::cust(TOOLS_ENCODING_SUBQUERY), "context_cost_encoding")
    .from(V::Table);
    // Constant conditions are written as SQL literals, not bound parameters: a generic plan for
    // `is_latest = $1` could not use the partial index these pages walk.
    if filter.latest_only {
        q.and_where(Expr::cust("\"is_latest\""));
    }
    if let Some(version) = &filter.version {
        q.and_where(Expr::col(V::Version).eq(version.as_str()));
    }
    if !filter.include_deleted {
        q.and_where(Expr::cust("\"status\" <> 'deleted'"));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
        q.and_where(
            // Backslash is PostgreSQL's default LIKE escape; sea-query's explicit ESCAPE renders
            // as invalid SQL (`ILIKE ($1 ESCAPE …)`).
            Expr::col(V::ServerName).ilike(LikeExpr::new(escape_like(search))),
        );
    }
    if let Some(since) = filter.updated_since {
        q.and_where(Expr::col(V::UpdatedAt).gt(since));
    }
    match &filter.cursor {
        Some(Cursor {
            server_name,
            version: Some(version),
        }) => {
            q.and_where(
                Expr::tuple([Expr::col(V::ServerName), Expr::col(V::Version)]).gt(Expr::tuple([
                    Expr::val(server_name.as_str()),
                    Expr::val(version.as_str()),
                ])),
            );
        }
        Some(Cursor {
            server_name,
            version: None,
        }) => {
            q.and_where(Expr::col(V::ServerName).gt(server_name.as_str()));
        }
        None => {}
    }
    q.order_by(V::ServerName, Order::Asc)
        .order_by(V::Version, Order::Asc)
        .limit(u64::from(filter.limit) + 1);
    q.build_sqlx(PostgresQueryBuilder)
}

/// One version by exact version string.
pub async fn get(
    db: impl PgExecutor<'_>,
    server_name: &str,
    version: &str,
) -> Result<Option<VersionRow>, sqlx::Error> {
    sqlx::query_as!(
VersionRow,
r#"select server_name, version, document, status as "status: VersionStatus", status_message, is_latest, published_at, updated_at, t.tools_pin as "tools_pin?", t.context_cost_tokens as "context_cost_tokens?", t.context_cost ->> 'encoding' as context_cost_encoding from server_versions left join tool_manifests t on t.version_id = server_versions.id
          where server_name = $1 and version = $2"#,
server_name,
version
)
    .fetch_optional(db)
    .await
}

/// The versions named by the pairs `(names[i], versions[i])`, in no particular order.
pub async fn get_many(
    db: impl PgExecutor<'_>,
    names: &[String],
    versions: &[String],
) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as!(
VersionRow,
r#"select server_name, version, document, status as "status: VersionStatus", status_message, is_latest, published_at, updated_at, t.tools_pin as "tools_pin?", t.context_cost_tokens as "context_cost_tokens?", t.context_cost ->> 'encoding' as context_cost_encoding from server_versions left join tool_manifests t on t.version_id = server_versions.id
           join unnest($1::text[], $2::text[]) as wanted (n, v)
             on server_versions.server_name = wanted.n and server_versions.version = wanted.v"#,
names,
versions
)
    .fetch_all(db)
    .await
}

/// The server's latest version.
pub async fn get_latest(
    db: impl PgExecutor<'_>,
    server_name: &str,
) -> Result<Option<VersionRow>, sqlx::Error> {
    sqlx::query_as!(
VersionRow,
r#"select server_name, version, document, status as "status: VersionStatus", status_message, is_latest, published_at, updated_at, t.tools_pin as "tools_pin?", t.context_cost_tokens as "context_cost_tokens?", t.context_cost ->> 'encoding' as context_cost_encoding from server_versions left join tool_manifests t on t.version_id = server_versions.id
          where server_name = $1 and is_latest"#,
server_name
)
    .fetch_optional(db)
    .await
}

/// Every version of a server, newest publication first.
pub async fn list_for_server(
    db: impl PgExecutor<'_>,
    server_name: &str,
    include_deleted: bool,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as!(
VersionRow,
r#"select server_name, version, document, status as "status: VersionStatus", status_message, is_latest, published_at, updated_at, t.tools_pin as "tools_pin?", t.context_cost_tokens as "context_cost_tokens?", t.context_cost ->> 'encoding' as context_cost_encoding from server_versions left join tool_manifests t on t.version_id = server_versions.id
          where server_name = $1 and ($2 or status <> 'deleted')
          order by published_at desc, id desc"#,
server_name,
include_deleted
)
    .fetch_all(db)
    .await
}

/// A server row, locked for the rest of the transaction.
#[derive(Debug, sqlx::FromRow)]
pub struct ServerRow {
    /// Its id.
    pub id: i64,
    /// Its name as stored.
    pub name: String,
}

/// Finds a server by name ignoring case, and locks it: publishes and status changes of one
/// server are serialised, so "latest" is decided on a stable set of versions.
pub async fn lock_server_ci(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<ServerRow>, sqlx::Error> {
    sqlx::query_as!(
        ServerRow,
        "select id, name from servers where lower(name) = lower($1) for update",
        name
    )
    .fetch_optional(db)
    .await
}

/// Inserts a server (its namespace must exist); `None` when a concurrent insert won the race.
pub async fn insert_server(
    db: impl PgExecutor<'_>,
    name: &str,
    namespace: &str,
) -> Result<Option<ServerRow>, sqlx::Error> {
    sqlx::query_as!(
ServerRow,
"insert into servers (name, namespace) values ($1, $2) on conflict do nothing returning id, name",
name,
namespace
)
    .fetch_optional(db)
    .await
}

/// A version's ordering facts.
#[derive(Debug, sqlx::FromRow)]
pub struct VersionFacts {
    /// Row id.
    pub id: i64,
    /// Version string.
    pub version: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// Lifecycle status.
    pub status: VersionStatus,
    /// Whether it is currently marked latest.
    pub is_latest: bool,
}

/// Every version of a locked server with what ordering needs.
pub async fn facts(
    db: impl PgExecutor<'_>,
    server_id: i64,
) -> Result<Vec<VersionFacts>, sqlx::Error> {
    sqlx::query_as!(
VersionFacts,
r#"select id, version, published_at, status as "status: VersionStatus", is_latest from server_versions where server_id = $1"#,
server_id
)
    .fetch_all(db)
    .await
}

/// A new version to store.
pub struct NewVersion<'a> {
    /// The server's id.
    pub server_id: i64,
    /// The server's name.
    pub server_name: &'a str,
    /// The version string.
    pub version: &'a str,
    /// The document text.
    pub document: &'a str,
    /// The `$schema` it was validated against.
    pub schema_url: &'a str,
    /// Who published it.
    pub published_by: &'a str,
    /// Whether it becomes the latest.
    pub is_latest: bool,
    /// Publication time (the same instant that decided "latest").
    pub published_at: DateTime<Utc>,
    /// `sha256:` of the document's RFC 8785 canonical form.
    pub server_json_digest: &'a str,
}

/// A version just inserted: its row id, and the row as reads return it.
#[derive(Debug, sqlx::FromRow)]
pub struct InsertedVersion {
    /// Row id.
    pub id: i64,
    /// The row.
    #[sqlx(flatten)]
    pub row: VersionRow,
}

/// Inserts a version; `None` when that version already exists.
pub async fn insert_version(
    db: impl PgExecutor<'_>,
    v: &NewVersion<'_>,
) -> Result<Option<InsertedVersion>, sqlx::Error> {
    let row = sqlx::query!(
r#"insert into server_versions
            (server_id, server_name, version, document, schema_url, published_by, is_latest,
             published_at, updated_at, status_changed_at, server_json_digest)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8, $9)
         on conflict on constraint server_versions_name_version_key do nothing
         returning id, server_name, version, document, status as "status: VersionStatus", status_message, is_latest, published_at, updated_at"#,
v.server_id,
v.server_name,
v.version,
v.document,
v.schema_url,
v.published_by,
v.is_latest,
v.published_at,
v.server_json_digest
)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| InsertedVersion {
        id: r.id,
        row: VersionRow {
            server_name: r.server_name,
            version: r.version,
            document: r.document,
            status: r.status,
            status_message: r.status_message,
            is_latest: r.is_latest,
            published_at: r.published_at,
            updated_at: r.updated_at,
            tools_pin: None,
            context_cost_tokens: None,
            context_cost_encoding: None,
        },
    }))
}

/// Moves the latest mark of a server to the version with row id `winner`. Two statements: the
/// unique index on the mark is checked row by row, so the old mark must go first.
pub async fn set_latest(
    tx: &mut sqlx::PgConnection,
    server_id: i64,
    winner: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update server_versions set is_latest = false, updated_at = now()
          where server_id = $1 and is_latest and id <> $2",
        server_id,
        winner
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
"update server_versions set is_latest = true, updated_at = now() where id = $1 and not is_latest",
winner
)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Clears the latest mark of a server (before a new version takes it).
pub async fn clear_latest(db: impl PgExecutor<'_>, server_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
"update server_versions set is_latest = false, updated_at = now() where server_id = $1 and is_latest",
server_id
)
        .execute(db)
        .await?;
    Ok(())
}

/// Sets the status of a server's versions (one, or all when `version` is `None`), touching
/// only rows that change; returns the versions that changed.
pub async fn set_status(
    db: impl PgExecutor<'_>,
    server_id: i64,
    version: Option<&str>,
    status: Status,
    message: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "update server_versions
            set status_changed_at = case when status <> $3 then now() else status_changed_at end,
                status = $3, status_message = $4, updated_at = now()
          where server_id = $1 and ($2::text is null or version = $2)
            and (status <> $3 or status_message is distinct from $4)
          returning version",
        server_id,
        version,
        status.as_str(),
        message
    )
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_forms() {
        assert_eq!(
            Cursor::parse("com.a/b:1.0.0:x"),
            Cursor {
                server_name: "com.a/b".into(),
                version: Some("1.0.0:x".into())
            }
        );
        assert_eq!(Cursor::parse("com.a/b").version, None);
    }

    #[test]
    fn list_sql() {
        let filter = ListFilter {
            search: Some("x".into()),
            limit: 5,
            ..Default::default()
        };
        let (sql, _) = list_query(&filter);
        let latest = ListFilter {
            latest_only: true,
            limit: 5,
            ..Default::default()
        };
        let (latest_sql, _) = list_query(&latest);
        assert!(
            str::contains(
                &latest_sql,
                "WHERE (\"is_latest\") AND (\"status\" <> 'deleted')"
            ),
            "{latest_sql}"
        );
        assert!(str::contains(&sql, "ILIKE"), "{sql}");
        assert!(!str::contains(&sql, "ESCAPE"), "{sql}");
    }

    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(escape_like("a_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
