//! Servers and their versions.

use chrono::{DateTime, Utc};
use mcpreg_api::registry::{OfficialMeta, ResponseMeta, ServerResponse, Status};
use mcpreg_api::tools::{ContextCostTotal, ToolsMeta};
use serde_json::value::RawValue;
use sqlx::PgExecutor;

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

/// A stored version with its row id, as the read model holds it.
#[derive(Debug)]
pub struct StoredVersion {
    /// Row id (orders versions published at the same instant).
    pub id: i64,
    /// The row.
    pub row: VersionRow,
}

struct StoredRow {
    id: i64,
    server_name: String,
    version: String,
    document: String,
    /// Read as text: a value outside the known three is reported, never mapped to another.
    status: String,
    status_message: Option<String>,
    is_latest: bool,
    published_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    tools_pin: Option<String>,
    context_cost_tokens: Option<i64>,
    context_cost_encoding: Option<String>,
}

/// A stored version the registry cannot read (a value outside what the code knows).
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// Its server.
    pub server_name: String,
    /// Its version.
    pub version: String,
    /// What is wrong.
    pub reason: String,
}

impl StoredRow {
    fn read(self) -> Result<StoredVersion, Unreadable> {
        let Some(status) = Status::parse(&self.status) else {
            return Err(Unreadable {
                reason: format!("unknown stored status `{}`", self.status),
                server_name: self.server_name,
                version: self.version,
            });
        };
        let r = self;
        Ok(StoredVersion {
            id: r.id,
            row: VersionRow {
                server_name: r.server_name,
                version: r.version,
                document: r.document,
                status,
                status_message: r.status_message,
                is_latest: r.is_latest,
                published_at: r.published_at,
                updated_at: r.updated_at,
                tools_pin: r.tools_pin,
                context_cost_tokens: r.context_cost_tokens,
                context_cost_encoding: r.context_cost_encoding,
            },
        })
    }
}

/// The read model's statement over stored versions, with `$filter` (a string literal: nothing, or
/// a `where` clause) and its arguments: two statements, so that each keeps its own plan.
macro_rules! stored {
    ($filter:tt $(, $arg:expr)*) => {
        sqlx::query_as!(
            StoredRow,
            r#"select id as "id!", server_name as "server_name!", version as "version!",
                  document as "document!", status as "status!",
                  status_message, is_latest as "is_latest!", published_at as "published_at!",
                  updated_at as "updated_at!",
                  t.tools_pin as "tools_pin?", t.context_cost_tokens as "context_cost_tokens?",
                  t.context_cost ->> 'encoding' as context_cost_encoding
             from server_versions left join tool_manifests t on t.version_id = server_versions.id"# + $filter
            $(, $arg)*
        )
    };
}

/// Every stored version, deleted ones included, in no particular order (the read model's load).
pub async fn all_stored(
    db: impl PgExecutor<'_>,
) -> Result<Vec<Result<StoredVersion, Unreadable>>, sqlx::Error> {
    let rows = stored!("").fetch_all(db).await?;
    Ok(rows.into_iter().map(StoredRow::read).collect())
}

/// Every stored version of these servers, deleted ones included (what the read model applies
/// when they changed).
pub async fn stored_of(
    db: impl PgExecutor<'_>,
    names: &[String],
) -> Result<Vec<Result<StoredVersion, Unreadable>>, sqlx::Error> {
    let rows = stored!(" where server_name = any($1)", names)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(StoredRow::read).collect())
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
