//! Tags of a server: what policy rules can name (`resources: [{tag: …}]`).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::db::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, ServerNamePath};

/// Most tags a server has.
pub const MAX_TAGS: usize = 32;

/// A server's tags.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerTags {
    /// Lower-case letters, digits and `-` (1–63 characters), at most 32; stored sorted and
    /// without duplicates.
    pub tags: Vec<String>,
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(
        "server_not_found",
        format!("server {name} is not in the registry"),
    )
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
    let tags = crate::db::servers::tags(&state.pool, name.as_str())
        .await?
        .ok_or_else(|| not_found(name.as_str()))?;
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
    let mut issues = Vec::new();
    for (i, tag) in body.tags.iter().enumerate() {
        if !crate::extract::is_label(tag) {
            issues.push(mcpreg_api::FieldIssue::new(
                format!("tags[{i}]"),
                "a tag is 1–63 lower-case letters, digits and `-`, starting with a letter or digit",
                "parameter",
            ));
        }
    }
    let mut tags = body.tags;
    tags.sort();
    tags.dedup();
    if tags.len() > MAX_TAGS {
        issues.push(mcpreg_api::FieldIssue::new(
            "tags",
            format!("at most {MAX_TAGS} tags"),
            "parameter",
        ));
    }
    if !issues.is_empty() {
        return Err(ApiError::unprocessable(
            "invalid_tags",
            "the tags are invalid; each problem is listed in `errors`",
            issues,
        ));
    }
    let mut tx = state.pool.begin().await?;
    let before = crate::db::servers::tags_for_update(&mut *tx, name.as_str())
        .await?
        .ok_or_else(|| not_found(name.as_str()))?;
    if before != tags {
        crate::db::servers::set_tags(&mut *tx, name.as_str(), &tags).await?;
        audit::record(
            &mut tx,
            &caller.actor(),
            "server.tags",
            name.as_str(),
            json!({"before": before, "after": tags}),
        )
        .await?;
        crate::db::changes::notify(&mut *tx, name.as_str()).await?;
    }
    tx.commit().await?;
    state.cache.invalidate().await;
    Ok(Json(ServerTags { tags }))
}
