//! Lifecycle status of servers and versions: active, deprecated, deleted.

use axum::Json;
use axum::extract::State;
use mcpreg_api::admin::{StatusChange, StatusChangeResult};

use crate::app::AppState;
use crate::auth::{Caller, Permission};
use crate::catalog;
use crate::error::ApiResult;
use crate::extract::{JsonBody, ServerNamePath, VersionPath};

/// Set the status of every version of a server.
#[utoipa::path(
    patch,
    path = "/servers/{serverName}/status",
    tag = super::TAG_ADMIN,
    params(("serverName" = String, Path, description = "Server name, URL-encoded")),
    request_body = StatusChange,
    security(("apiToken" = [])),
    responses(
        (status = 200, description = "The versions whose status changed (empty when nothing changed)", body = StatusChangeResult),
        (status = 400, description = "Invalid request"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Insufficient role"),
        (status = 404, description = "No such server"),
    )
)]
pub async fn set_server_status(
    State(state): State<AppState>,
    caller: Caller,
    ServerNamePath(name): ServerNamePath,
    JsonBody(change): JsonBody<StatusChange>,
) -> ApiResult<Json<StatusChangeResult>> {
    caller.require(Permission::ChangeStatus(&name))?;
    let result = catalog::change_status(&state.pool, &caller.actor(), &name, None, change).await?;
    state.committed().await;
    Ok(Json(result))
}

/// Set the status of one version.
#[utoipa::path(
    patch,
    path = "/servers/{serverName}/versions/{version}/status",
    tag = super::TAG_ADMIN,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "The version"),
    ),
    request_body = StatusChange,
    security(("apiToken" = [])),
    responses(
        (status = 200, description = "The version, if its status changed", body = StatusChangeResult),
        (status = 400, description = "Invalid request"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Insufficient role"),
        (status = 404, description = "No such server or version"),
    )
)]
pub async fn set_version_status(
    State(state): State<AppState>,
    caller: Caller,
    VersionPath { name, version }: VersionPath,
    JsonBody(change): JsonBody<StatusChange>,
) -> ApiResult<Json<StatusChangeResult>> {
    caller.require(Permission::ChangeStatus(&name))?;
    let result =
        catalog::change_status(&state.pool, &caller.actor(), &name, Some(&version), change).await?;
    state.committed().await;
    Ok(Json(result))
}
