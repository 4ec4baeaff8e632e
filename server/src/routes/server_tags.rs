//! Tags of a server: what policy rules can name (`resources: [{tag: …}]`).

use axum::Json;
use axum::extract::{Path, State};
use mcpreg_api::policy::ServerTags;

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::error::ApiResult;
use crate::extract::{JsonBody, ServerNamePath};

pub use crate::server_tags::MAX_TAGS;

/// A server's tags.
#[utoipa::path(
    get,
    path = "/servers/{serverName}/tags",
    operation_id = "get_server_tags",
    tag = super::TAG_POLICY,
    params(("serverName" = String, Path, description = "Server name, URL-encoded")),
    responses(
        (status = 200, body = ServerTags),
        (status = 400, description = "Invalid server name"),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad"),
        (status = 404, description = "No such server"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    _reader: Reader,
    ServerNamePath(name): ServerNamePath,
) -> ApiResult<Json<ServerTags>> {
    let tags = crate::server_tags::get(&state.pool, &name).await?;
    Ok(Json(ServerTags { tags }))
}

/// Set a server's tags (replacing them).
///
/// Reviewers and admins only: policy rules can name tags, and a publisher must not be able to
/// untag a server out of a deny rule. Every change is audited and reaches every replica's
/// caches (allowlist views follow at once).
#[utoipa::path(
    put,
    path = "/servers/{serverName}/tags",
    operation_id = "set_server_tags",
    tag = super::TAG_POLICY,
    params(("serverName" = String, Path, description = "Server name, URL-encoded")),
    request_body = ServerTags,
    security(("apiToken" = [])),
    responses(
        (status = 200, description = "The tags as stored", body = ServerTags),
        (status = 400, description = "Malformed request"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not a reviewer"),
        (status = 404, description = "No such server"),
        (status = 422, description = "An invalid tag (`errors[].location` = `tags[i]`), or too many"),
    )
)]
pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ServerTags>,
) -> ApiResult<Json<ServerTags>> {
    caller.require(Permission::Review)?;
    let name = crate::extract::parse_server_name(&name)?;
    let tags = crate::server_tags::set(&state.pool, &caller.actor(), &name, &body.tags).await?;
    state.committed().await;
    Ok(Json(ServerTags { tags }))
}
