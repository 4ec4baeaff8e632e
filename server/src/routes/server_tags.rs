//! Tags of a server: what policy rules can name (`resources: [{tag: …}]`).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::error::ApiResult;
use crate::extract::{JsonBody, ServerNamePath};

pub use crate::server_tags::MAX_TAGS;

/// A server's tags.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerTags {
    /// Lower-case letters, digits and `-` (1–63 characters), at most 32; stored sorted and
    /// without duplicates.
    pub tags: Vec<String>,
}

/// A server's tags.
#[utoipa::path(
    get,
    path = "/servers/{serverName}/tags",
    operation_id = "get_server_tags",
    tag = super::TAG_POLICY,
    params(("serverName" = String, Path, description = "Server name, URL-encoded")),
    responses(
        (status = 200, body = ServerTags),
        (status = 400, description = "Invalid server name", body = mcpreg_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad", body = mcpreg_api::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such server", body = mcpreg_api::Problem, content_type = "application/problem+json"),
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
        (status = 400, description = "Malformed request", body = mcpreg_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad credentials", body = mcpreg_api::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer", body = mcpreg_api::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such server", body = mcpreg_api::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid tag (`errors[].location` = `tags[i]`), or too many", body = mcpreg_api::Problem, content_type = "application/problem+json"),
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
    state.cache.invalidate().await;
    Ok(Json(ServerTags { tags }))
}
