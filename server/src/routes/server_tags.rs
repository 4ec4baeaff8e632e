//! Tags of a server: what policy rules can name (`resources: [{tag: …}]`).

use axum::Json;
use axum::extract::{Path, State};
use mcpreg_api::policy::ServerTags;
use mcpreg_api::problem::ProblemCode;
use serde_json::json;

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::db::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::routes::status::parse_name;

/// Most tags a server has.
pub const MAX_TAGS: usize = 32;

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(
        ProblemCode::ServerNotFound,
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
        (status = 400, description = "Invalid server name"),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad"),
        (status = 404, description = "No such server"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    _reader: Reader,
    Path(name): Path<String>,
) -> ApiResult<Json<ServerTags>> {
    let name = parse_name(&name)?;
    let tags: Option<Vec<String>> = sqlx::query_scalar("select tags from servers where name = $1")
        .bind(name.as_str())
        .fetch_optional(&state.pool)
        .await?;
    let tags = tags.ok_or_else(|| not_found(name.as_str()))?;
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
    let name = parse_name(&name)?;
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
            ProblemCode::InvalidTags,
            "the tags are invalid; each problem is listed in `errors`",
            issues,
        ));
    }
    let mut tx = state.pool.begin().await?;
    let before: Option<Vec<String>> =
        sqlx::query_scalar("select tags from servers where name = $1 for update")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let before = before.ok_or_else(|| not_found(name.as_str()))?;
    if before != tags {
        sqlx::query("update servers set tags = $2 where name = $1")
            .bind(name.as_str())
            .bind(&tags)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &caller.actor(),
            "server.tags",
            name.as_str(),
            json!({"before": before, "after": tags}),
        )
        .await?;
        crate::read_cache::notify_change(&mut *tx, name.as_str()).await?;
    }
    tx.commit().await?;
    state.cache.invalidate().await;
    Ok(Json(ServerTags { tags }))
}
