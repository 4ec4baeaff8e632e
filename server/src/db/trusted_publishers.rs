//! Trusted publishers and the CI token ids already exchanged.

use chrono::{DateTime, Utc};
use mcpreg_api::access::TrustedPublisher;
use sqlx::PgExecutor;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    namespace: String,
    server_name: Option<String>,
    issuer: String,
    repository: String,
    repository_owner_id: String,
    workflow: String,
    environment: Option<String>,
    created_at: DateTime<Utc>,
    created_by: String,
}

impl From<Row> for TrustedPublisher {
    fn from(r: Row) -> Self {
        TrustedPublisher {
            id: r.id,
            namespace: r.namespace,
            server: r.server_name,
            issuer: r.issuer,
            repository: r.repository,
            repository_owner_id: r.repository_owner_id,
            workflow: r.workflow,
            environment: r.environment,
            created_at: r.created_at,
            created_by: r.created_by,
        }
    }
}

/// The trusted publishers of a namespace.
pub async fn list(
    db: impl PgExecutor<'_>,
    namespace: &str,
) -> Result<Vec<TrustedPublisher>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as!(
Row,
"select id, namespace, server_name, issuer, repository, repository_owner_id, workflow, environment, created_at, created_by from trusted_publishers where namespace = $1 order by id",
namespace
)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The trusted publishers that may publish `server` (its own and its namespace's).
pub async fn for_server(
    db: impl PgExecutor<'_>,
    namespace: &str,
    server: &str,
) -> Result<Vec<TrustedPublisher>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as!(
Row,
"select id, namespace, server_name, issuer, repository, repository_owner_id, workflow, environment, created_at, created_by from trusted_publishers
          where namespace = $1 and (server_name is null or server_name = $2) order by id",
namespace,
server
)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A trusted publisher to add.
pub struct NewPublisher<'a> {
    /// Namespace.
    pub namespace: &'a str,
    /// Only this server, when set.
    pub server: Option<&'a str>,
    /// CI issuer.
    pub issuer: &'a str,
    /// `owner/name`.
    pub repository: &'a str,
    /// Owner id.
    pub repository_owner_id: &'a str,
    /// Workflow file.
    pub workflow: &'a str,
    /// Environment.
    pub environment: Option<&'a str>,
    /// Who adds it.
    pub created_by: &'a str,
}

/// Adds a trusted publisher.
pub async fn insert(
    db: impl PgExecutor<'_>,
    p: &NewPublisher<'_>,
) -> Result<TrustedPublisher, sqlx::Error> {
    let row: Row = sqlx::query_as!(
Row,
"insert into trusted_publishers
            (namespace, server_name, issuer, repository, repository_owner_id, workflow, environment, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id, namespace, server_name, issuer, repository, repository_owner_id, workflow, environment, created_at, created_by",
p.namespace,
p.server,
p.issuer,
p.repository,
p.repository_owner_id,
p.workflow,
p.environment,
p.created_by
)
    .fetch_one(db)
    .await?;
    Ok(row.into())
}

/// Removes a trusted publisher of a namespace; `false` when there is none with that id.
pub async fn delete(
    db: impl PgExecutor<'_>,
    namespace: &str,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "delete from trusted_publishers where namespace = $1 and id = $2",
        namespace,
        id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a CI token id as used; `false` when it was used before.
pub async fn use_token_id(
    db: impl PgExecutor<'_>,
    issuer: &str,
    jti: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
"insert into used_token_ids (issuer, jti, expires_at) values ($1, $2, $3) on conflict do nothing",
issuer,
jti,
expires_at
)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets token ids whose tokens have expired (they can no longer be replayed).
pub async fn forget_expired_token_ids(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query!("delete from used_token_ids where expires_at < now() - interval '1 hour'")
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}
