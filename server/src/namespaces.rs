//! Namespaces: the reverse-DNS prefixes that carry publish rights.

use mcpreg_api::problem::ProblemCode;
use mcpreg_api::FieldIssue;
use mcpreg_api::admin::Namespace;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::db::{audit, namespaces};
use crate::error::{ApiError, ApiResult};

/// Longest namespace description.
pub const MAX_DESCRIPTION: usize = 1000;

/// Fails with 404 unless the namespace exists.
pub async fn require_existing(pool: &PgPool, namespace: &str) -> ApiResult<()> {
    namespaces::get(pool, namespace)
        .await?
        .map(|_| ())
        .ok_or_else(|| not_found(namespace))
}

/// The 404 of a namespace that does not exist.
pub fn not_found(namespace: &str) -> ApiError {
    ApiError::not_found(
        ProblemCode::NamespaceNotFound,
        format!(
            "no namespace `{}`",
            namespace.chars().take(100).collect::<String>()
        ),
    )
}

/// Creates a namespace and records `namespace.create`; 409 when it exists in any case.
pub async fn create(
    pool: &PgPool,
    actor: &str,
    name: &str,
    description: Option<&str>,
) -> ApiResult<Namespace> {
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(ApiError::invalid_parameters(
            "description too long",
            vec![FieldIssue::new(
                "description",
                format!("at most {MAX_DESCRIPTION} characters"),
                "parameter",
            )],
        ));
    }
    let mut tx = pool.begin().await?;
    if !insert_audited(&mut tx, actor, name, description).await? {
        let existing = namespaces::find_case_insensitive(&mut *tx, name).await?;
        return Err(ApiError::conflict(
            ProblemCode::NamespaceExists,
            format!(
                "namespace `{}` exists already",
                existing.unwrap_or_else(|| name.to_owned())
            ),
        ));
    }
    let created = namespaces::get(&mut *tx, name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("namespace {name} missing right after insert"))?;
    tx.commit().await?;
    Ok(created)
}

/// Inserts a namespace with its audit event, inside the caller's transaction; `false` when one
/// with that name exists in any case (nothing is written then).
pub(crate) async fn insert_audited(
    conn: &mut PgConnection,
    actor: &str,
    name: &str,
    description: Option<&str>,
) -> ApiResult<bool> {
    if !namespaces::insert(&mut *conn, name, description, actor).await? {
        return Ok(false);
    }
    audit::record(
        conn,
        actor,
        "namespace.create",
        name,
        json!({"description": description}),
    )
    .await?;
    Ok(true)
}
