//! Namespaces: the reverse-DNS prefixes that carry publish rights.

use sqlx::PgPool;

use crate::db::namespaces;
use crate::error::{ApiError, ApiResult};

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
        "namespace_not_found",
        format!(
            "no namespace `{}`",
            namespace.chars().take(100).collect::<String>()
        ),
    )
}
