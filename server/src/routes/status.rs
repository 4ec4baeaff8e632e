//! Lifecycle status of servers and versions: active, deprecated, deleted.

use axum::Json;
use axum::extract::{Path, State};
use mcpreg_api::ServerName;
use mcpreg_api::admin::{StatusChange, StatusChangeResult};

use crate::app::AppState;
use crate::auth::{Caller, Permission};
use crate::catalog;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;

/// Parses a server name from the path, naming it as `path.serverName` when invalid.
pub(crate) fn parse_name(name: &str) -> ApiResult<ServerName> {
    ServerName::parse(name).map_err(|e| {
        ApiError::invalid_parameters(
            "invalid server name",
            vec![mcpreg_api::FieldIssue::new(
                "path.serverName",
                e.to_string(),
                "parameter",
            )],
        )
    })
}

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
    Path(name): Path<String>,
    JsonBody(change): JsonBody<StatusChange>,
) -> ApiResult<Json<StatusChangeResult>> {
    let name = parse_name(&name)?;
    caller.require(Permission::ChangeStatus(&name))?;
    let result = catalog::change_status(&state.pool, &caller.actor(), &name, None, change).await?;
    state.cache.invalidate().await;
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
    Path((name, version)): Path<(String, String)>,
    JsonBody(change): JsonBody<StatusChange>,
) -> ApiResult<Json<StatusChangeResult>> {
    let name = parse_name(&name)?;
    caller.require(Permission::ChangeStatus(&name))?;
    let result =
        catalog::change_status(&state.pool, &caller.actor(), &name, Some(&version), change).await?;
    state.cache.invalidate().await;
    Ok(Json(result))
}
