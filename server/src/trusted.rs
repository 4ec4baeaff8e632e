//! What a namespace trusts: CI workflows to publish it (trusted publishers) and signers whose
//! signatures it accepts (trusted signers). Both are the same shape — entries of a namespace that
//! admins add and remove, each change audited as `<kind>.create` / `<kind>.delete` with the
//! namespace as subject — so both go through these two functions.

use mcpreg_api::problem::ProblemCode;
use mcpreg_api::{FieldIssue, ServerName};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use crate::db::audit;
use crate::error::{ApiError, ApiResult};

/// Which kind of trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trusted {
    /// A CI workflow that may publish without a stored secret.
    Publisher,
    /// A signer whose signatures are accepted.
    Signer,
}

impl Trusted {
    /// The name in audit actions and problem codes.
    fn key(self) -> &'static str {
        match self {
            Trusted::Publisher => "trusted_publisher",
            Trusted::Signer => "trusted_signer",
        }
    }

    /// The problem when the namespace has no such entry.
    fn not_found(self) -> ProblemCode {
        match self {
            Trusted::Publisher => ProblemCode::TrustedPublisherNotFound,
            Trusted::Signer => ProblemCode::TrustedSignerNotFound,
        }
    }

    /// The name in problem details.
    fn noun(self) -> &'static str {
        match self {
            Trusted::Publisher => "trusted publisher",
            Trusted::Signer => "trusted signer",
        }
    }
}

/// What is wrong with an entry's `server`, when it names one: both kinds of entry may be limited
/// to one server of their namespace, and only to one of it.
pub fn server_issue(namespace: &str, server: Option<&str>) -> Option<FieldIssue> {
    let server = server?;
    let message = match ServerName::parse(server) {
        Ok(name) if name.namespace().as_str() == namespace => return None,
        Ok(_) => format!("`{server}` is not in namespace `{namespace}`"),
        Err(e) => e.to_string(),
    };
    Some(FieldIssue::new("server", message, "parameter"))
}

/// Adds an entry (written by `insert`, inside the transaction) and records `<kind>.create` with
/// the entry as details.
pub async fn add<T: Serialize>(
    pool: &PgPool,
    kind: Trusted,
    actor: &str,
    namespace: &str,
    insert: impl AsyncFnOnce(&mut PgConnection) -> ApiResult<T>,
) -> ApiResult<T> {
    let mut tx = pool.begin().await?;
    let created = insert(&mut tx).await?;
    audit::record(
        &mut tx,
        actor,
        &format!("{}.create", kind.key()),
        namespace,
        serde_json::to_value(&created).unwrap_or(json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Removes entry `id` (by `delete`, inside the transaction, which answers the event's details or
/// `None` when the namespace has no such entry: 404) and records `<kind>.delete`.
pub async fn remove(
    pool: &PgPool,
    kind: Trusted,
    actor: &str,
    namespace: &str,
    id: i64,
    delete: impl AsyncFnOnce(&mut PgConnection) -> Result<Option<Value>, sqlx::Error>,
) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    let Some(details) = delete(&mut tx).await? else {
        return Err(ApiError::not_found(
            kind.not_found(),
            format!("namespace has no {} {id}", kind.noun()),
        ));
    };
    audit::record(
        &mut tx,
        actor,
        &format!("{}.delete", kind.key()),
        namespace,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
