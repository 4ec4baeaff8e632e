//! Namespaces.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mcpreg_api::admin::{Namespace, NamespaceList, NewNamespace};
use mcpreg_api::problem::ProblemCode;
use serde_json::json;

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::db::{audit, namespaces};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;

/// Longest namespace description.
const MAX_DESCRIPTION: usize = 1000;

/// Fails with 404 unless the namespace exists.
pub async fn require_existing(state: &AppState, namespace: &str) -> ApiResult<()> {
    namespaces::get(&state.pool, namespace)
        .await?
        .map(|_| ())
        .ok_or_else(|| namespace_not_found(namespace))
}

fn namespace_not_found(namespace: &str) -> ApiError {
    ApiError::not_found(
        ProblemCode::NamespaceNotFound,
        format!(
            "no namespace `{}`",
            namespace.chars().take(100).collect::<String>()
        ),
    )
}

/// List namespaces.
#[utoipa::path(
    get,
    path = "/namespaces",
    operation_id = "list_namespaces",
    tag = super::TAG_ADMIN,
    responses((status = 200, description = "All namespaces", body = NamespaceList))
)]
pub async fn list(
    State(state): State<AppState>,
    _reader: Reader,
) -> ApiResult<Json<NamespaceList>> {
    Ok(Json(NamespaceList {
        namespaces: namespaces::list(&state.pool).await?,
    }))
}

/// Get one namespace.
#[utoipa::path(
    get,
    path = "/namespaces/{name}",
    operation_id = "get_namespace",
    tag = super::TAG_ADMIN,
    params(("name" = String, Path, description = "The namespace, e.g. `com.acme`")),
    responses(
        (status = 200, description = "The namespace", body = Namespace),
        (status = 404, description = "No such namespace"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    _reader: Reader,
    Path(name): Path<String>,
) -> ApiResult<Json<Namespace>> {
    namespaces::get(&state.pool, &name)
        .await?
        .map(Json)
        .ok_or_else(|| namespace_not_found(&name))
}

/// Create a namespace.
#[utoipa::path(
    post,
    path = "/namespaces",
    operation_id = "create_namespace",
    tag = super::TAG_ADMIN,
    request_body = NewNamespace,
    security(("apiToken" = [])),
    responses(
        (status = 201, description = "Created", body = Namespace),
        (status = 400, description = "Invalid request"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Insufficient role"),
        (status = 409, description = "Exists (possibly in another case)"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(new): JsonBody<NewNamespace>,
) -> ApiResult<(StatusCode, Json<Namespace>)> {
    caller.require(Permission::Admin)?;
    if new
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(ApiError::invalid_parameters(
            "description too long",
            vec![mcpreg_api::FieldIssue::new(
                "description",
                format!("at most {MAX_DESCRIPTION} characters"),
                "parameter",
            )],
        ));
    }
    let actor = caller.actor();
    let mut tx = state.pool.begin().await?;
    if !namespaces::insert(
        &mut *tx,
        new.name.as_str(),
        new.description.as_deref(),
        &actor,
    )
    .await?
    {
        let existing = namespaces::find_case_insensitive(&mut *tx, new.name.as_str()).await?;
        return Err(ApiError::conflict(
            ProblemCode::NamespaceExists,
            format!(
                "namespace `{}` exists already",
                existing.unwrap_or_else(|| new.name.to_string())
            ),
        ));
    }
    audit::record(
        &mut tx,
        &actor,
        "namespace.create",
        new.name.as_str(),
        json!({"description": new.description}),
    )
    .await?;
    let created = namespaces::get(&mut *tx, new.name.as_str())
        .await?
        .ok_or_else(|| anyhow::anyhow!("namespace {} missing right after insert", new.name))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(created)))
}
