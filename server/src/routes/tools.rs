//! A version's tool manifest: what its server advertises, pinned, costed and scanned.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mcpreg_api::tools::VersionTools;
use serde_json::Value;

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::error::ApiResult;
use crate::extract::{JsonBody, VersionPath};
use crate::tools;

/// A version's tool manifest.
///
/// The manifest as the registry stores it (lists sorted, `toolsPin`, `toolDigests` and
/// `contextCost` computed by the registry), its tools pin — what a client compares the live
/// server with (`mcpreg tools diff NAME@VERSION`) — its estimated context cost, and the highest
/// severity among the version's scan findings. `latest` names the latest version.
#[utoipa::path(
    get,
    path = "/servers/{serverName}/versions/{version}/tools",
    operation_id = "get_version_tools",
    tag = super::TAG_SCANS,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "A version, or `latest`"),
    ),
    responses(
        (status = 200, body = VersionTools),
        (status = 400, description = "Invalid server name"),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad"),
        (status = 404, description = "No such version, or it has no tool manifest (`tools_not_found`)"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    _reader: Reader,
    VersionPath { name, version }: VersionPath,
) -> ApiResult<Json<VersionTools>> {
    Ok(Json(tools::get(&state.pool, &name, &version).await?))
}

/// Attach a tool manifest to a published version.
///
/// The body is a manifest as `mcpreg tools capture` writes it. The registry computes the tools
/// pin, tool digests and context cost itself (a stated `toolsPin` that does not match the
/// content is refused), runs the built-in scanner on it (stored as a `builtin` scan report), and
/// stores both in one transaction. A version has at most one manifest, and it never changes: a
/// server that advertises other tools is a new version (409 `tools_exist`).
#[utoipa::path(
    put,
    path = "/servers/{serverName}/versions/{version}/tools",
    operation_id = "attach_version_tools",
    tag = super::TAG_SCANS,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "The exact version"),
    ),
    request_body(content = Object, description = "A tool manifest (`mcpreg tools capture`; see docs/tool-manifests.md)", content_type = "application/json"),
    security(("apiToken" = [])),
    responses(
        (status = 201, description = "Stored and scanned", body = VersionTools),
        (status = 400, description = "Malformed JSON"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Neither a publisher of the namespace nor a reviewer"),
        (status = 404, description = "No such server or version"),
        (status = 409, description = "The version already has a tool manifest"),
        (status = 422, description = "Not a valid manifest (`errors[].location` is its JSON path), or its stated pin does not match its content (`tools_pin_mismatch`)"),
    )
)]
pub async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    VersionPath { name, version }: VersionPath,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<VersionTools>)> {
    caller.require(Permission::AttachEvidence(&name))?;
    let stored = tools::attach(&state.pool, &caller.actor(), &name, &version, body).await?;
    state.committed().await;
    Ok((StatusCode::CREATED, Json(stored)))
}
