//! Namespaces.

use chrono::{DateTime, Utc};
use mcpreg_api::NamespaceName;
use mcpreg_api::admin::Namespace;
use sqlx::PgExecutor;

struct Row {
    name: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
    created_by: String,
    server_count: i64,
}

impl Row {
    fn into_namespace(self) -> Option<Namespace> {
        Some(Namespace {
            name: NamespaceName::parse(&self.name).ok()?,
            description: self.description,
            created_at: self.created_at,
            created_by: self.created_by,
            server_count: self.server_count,
        })
    }
}

/// All namespaces, by name.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<Namespace>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"select n.name, n.description, n.created_at, n.created_by,
                  (select count(*) from servers s where s.namespace = n.name) as "server_count!"
             from namespaces n order by n.name"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().filter_map(Row::into_namespace).collect())
}

/// One namespace.
pub async fn get(db: impl PgExecutor<'_>, name: &str) -> Result<Option<Namespace>, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        r#"select n.name, n.description, n.created_at, n.created_by,
                  (select count(*) from servers s where s.namespace = n.name) as "server_count!"
             from namespaces n where n.name = $1"#,
        name
    )
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(Row::into_namespace))
}

/// The stored spelling of a namespace that equals `name` ignoring case, if any.
pub async fn find_case_insensitive(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "select name from namespaces where lower(name) = lower($1)",
        name
    )
    .fetch_optional(db)
    .await
}

/// Creates a namespace; `false` when one with that name (ignoring case) exists.
pub async fn insert(
    db: impl PgExecutor<'_>,
    name: &str,
    description: Option<&str>,
    created_by: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "insert into namespaces (name, description, created_by) values ($1, $2, $3)
         on conflict do nothing",
        name,
        description,
        created_by
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
