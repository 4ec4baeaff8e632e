//! Namespaces.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mcpreg_api::admin::{Namespace, NamespaceList, NewNamespace};

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::db::namespaces;
use crate::error::ApiResult;
use crate::extract::JsonBody;

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
        .ok_or_else(|| crate::namespaces::not_found(&name))
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
    let created = crate::namespaces::create(
        &state.pool,
        &caller.actor(),
        new.name.as_str(),
        new.description.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}
