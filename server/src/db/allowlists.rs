//! Allowlists (named audiences) and the latest signed document of each.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// The names of every allowlist, sorted.
pub async fn names(db: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("select name from allowlists order by name")
        .fetch_all(db)
        .await
}

/// A stored allowlist.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AllowlistRow {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// anonymous, token or network.
    pub access: String,
    /// For network access: the networks, as text (`10.0.0.0/8`).
    pub networks: Vec<String>,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Every allowlist, by name.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<AllowlistRow>, sqlx::Error> {
    sqlx::query_as!(
AllowlistRow,
r#"select name, description, access, networks::text[] as "networks!", created_by, created_at from allowlists order by name"#
)
    .fetch_all(db)
    .await
}

/// One allowlist.
pub async fn get(db: impl PgExecutor<'_>, name: &str) -> Result<Option<AllowlistRow>, sqlx::Error> {
    sqlx::query_as!(
AllowlistRow,
r#"select name, description, access, networks::text[] as "networks!", created_by, created_at from allowlists where name = $1"#,
name
)
    .fetch_optional(db)
    .await
}

/// Creates an allowlist; `None` when the name is taken.
pub async fn insert(
    db: impl PgExecutor<'_>,
    name: &str,
    description: &str,
    access: &str,
    networks: &[String],
    actor: &str,
) -> Result<Option<AllowlistRow>, sqlx::Error> {
    sqlx::query_as!(
        AllowlistRow,
        r#"insert into allowlists (name, description, access, networks, created_by)
         values ($1, $2, $3, $4::text[]::cidr[], $5)
         on conflict (name) do nothing
         returning name, description, access, networks::text[] as "networks!", created_by, created_at"#,
        name,
        description,
        access,
        networks,
        actor
    )
    .fetch_optional(db)
    .await
}

/// The latest signed document of an allowlist.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentRow {
    /// Its version.
    pub version: i64,
    /// Digest of its entries.
    pub content_digest: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// The signed document (JSON text).
    pub signed: String,
}

/// The latest document of an allowlist; `lock` takes a row lock for the transaction.
pub async fn document(
    db: impl PgExecutor<'_>,
    name: &str,
    lock: bool,
) -> Result<Option<DocumentRow>, sqlx::Error> {
    if lock {
        sqlx::query_as!(
            DocumentRow,
            "select version, content_digest, issued_at, expires_at, signed
               from allowlist_documents where allowlist = $1 for update",
            name
        )
        .fetch_optional(db)
        .await
    } else {
        sqlx::query_as!(
            DocumentRow,
            "select version, content_digest, issued_at, expires_at, signed
               from allowlist_documents where allowlist = $1",
            name
        )
        .fetch_optional(db)
        .await
    }
}

/// Stores a newly issued document, replacing the previous one if it is older; whether it was
/// stored.
pub async fn store_document(
    db: impl PgExecutor<'_>,
    name: &str,
    d: &DocumentRow,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
"insert into allowlist_documents (allowlist, version, content_digest, issued_at, expires_at, signed)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (allowlist) do update
            set version = excluded.version, content_digest = excluded.content_digest,
                issued_at = excluded.issued_at, expires_at = excluded.expires_at, signed = excluded.signed
          where allowlist_documents.version < excluded.version",
name,
d.version,
&d.content_digest,
d.issued_at,
d.expires_at,
&d.signed
)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
