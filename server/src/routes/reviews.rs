//! Review of versions: the queue, a version's review, and decisions.

use axum::Json;
use axum::extract::{Path, Query, State};
use mcpreg_api::query::ReviewQuery;
use mcpreg_api::review::{ReviewList, ReviewRequest, ReviewState, VersionReview};

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, VersionPath, query_issue};
use crate::review;

/// The review queue: versions (not deleted), newest publication first, with their state.
///
/// An approved version whose approvals expired counts as `submitted` again.
#[utoipa::path(
    get,
    path = "/reviews",
    operation_id = "list_reviews",
    tag = super::TAG_REVIEW,
    params(ReviewQuery),
    security(("apiToken" = [])),
    responses(
        (status = 200, body = ReviewList),
        (status = 400, description = "Invalid parameter"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not a reviewer"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ReviewQuery>,
) -> ApiResult<Json<ReviewList>> {
    caller.require(Permission::Review)?;
    let mut issues = Vec::new();
    let wanted = match query.state.as_deref() {
        None => None,
        Some(s) => match ReviewState::parse(s) {
            Some(s) => Some(s),
            None => {
                issues.push(query_issue(
                    "state",
                    "must be submitted, approved, rejected or revoked",
                ));
                None
            }
        },
    };
    let limit = match query.limit.as_deref().map(str::parse::<i64>) {
        None => 100,
        Some(Ok(n)) if (1..=500).contains(&n) => n,
        Some(_) => {
            issues.push(query_issue("limit", "must be a whole number from 1 to 500"));
            100
        }
    };
    if !issues.is_empty() {
        return Err(ApiError::invalid_parameters(
            "invalid query parameters",
            issues,
        ));
    }
    let config = &state.auth.config.review;
    Ok(Json(
        review::list(&state.pool, config, wanted, limit).await?,
    ))
}

/// A version's review: its state, approvals, the gates as they stand, and every decision.
#[utoipa::path(
    get,
    path = "/servers/{serverName}/versions/{version}/review",
    operation_id = "get_version_review",
    tag = super::TAG_REVIEW,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "A version, or `latest`"),
    ),
    responses(
        (status = 200, body = VersionReview),
        (status = 400, description = "Invalid server name"),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad"),
        (status = 404, description = "No such server or version"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    _reader: Reader,
    VersionPath { name, version }: VersionPath,
) -> ApiResult<Json<VersionReview>> {
    let config = &state.auth.config.review;
    Ok(Json(
        review::get(&state.pool, config, &name, &version).await?,
    ))
}

/// Approve, reject or revoke a version.
///
/// Approving needs a reviewer who did not publish the version, and every gate to hold (a
/// verified signature by a trusted signer, pinned digests, a pinned tool manifest, no finding at
/// or above the configured severity) or be overridden with a reason (`overrides`), recorded with
/// the decision. The version is approved once enough distinct reviewers approved it. Rejecting
/// and revoking need a `reason` and are final for the version.
#[utoipa::path(
    post,
    path = "/servers/{serverName}/versions/{version}/review",
    operation_id = "decide_version_review",
    tag = super::TAG_REVIEW,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "The exact version"),
    ),
    request_body = ReviewRequest,
    security(("apiToken" = [])),
    responses(
        (status = 200, description = "Recorded; the review as it now stands", body = VersionReview),
        (status = 400, description = "Malformed request, or `latest` instead of a version"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not a reviewer, or the version's own publisher"),
        (status = 404, description = "No such server or version"),
        (status = 409, description = "Not possible in the version's state (`review_state_conflict`), or this reviewer approved already"),
        (status = 422, description = "A gate does not hold (`review_gate_failed`, `errors[].location` = `gates.<gate>`), a reason is missing, or an override is invalid"),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, version)): Path<(String, String)>,
    JsonBody(request): JsonBody<ReviewRequest>,
) -> ApiResult<Json<VersionReview>> {
    caller.require(Permission::Review)?;
    let name = crate::extract::parse_server_name(&name)?;
    let config = &state.auth.config.review;
    let review = review::decide(
        &state.pool,
        config,
        &caller.actor(),
        &name,
        &version,
        request,
    )
    .await?;
    state.committed().await;
    Ok(Json(review))
}
