//! The access policy: the current version, applying a new one, what it would change, and
//! decisions. The document format is described in `docs/policies.md`.

use axum::Json;
use axum::extract::State;
use mcpreg_api::policy::{
    AppliedPolicy, ApplyPolicyRequest, CurrentPolicy, DecisionAnswer, DecisionRequest, DiffAnswer,
    DiffRequest,
};

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::policies;

/// The current policy: its version, digest, who applied it, the document as sent and as
/// canonical JSON.
#[utoipa::path(
    get,
    path = "/policy",
    operation_id = "get_policy",
    tag = super::TAG_POLICY,
    responses(
        (status = 200, body = CurrentPolicy),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad"),
        (status = 404, description = "No policy was applied (`no_policy`): nothing is allowed"),
    )
)]
pub async fn get(State(state): State<AppState>, _reader: Reader) -> ApiResult<Json<CurrentPolicy>> {
    Ok(Json(policies::current(&state.pool).await?))
}

/// Apply a policy document (YAML or JSON) as the new current version.
///
/// Every problem in the document is listed in `errors`, located as `source.<path>` (for example
/// `source.rules[2].resources[0].server`), and nothing is stored. A document whose canonical form
/// is the current policy's stores nothing and answers the current version with `changed: false`.
#[utoipa::path(
    put,
    path = "/policy",
    operation_id = "apply_policy",
    tag = super::TAG_POLICY,
    request_body = ApplyPolicyRequest,
    security(("apiToken" = [])),
    responses(
        (status = 200, description = "Applied, or unchanged (`changed: false`)", body = AppliedPolicy),
        (status = 400, description = "Malformed request body"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not an admin"),
        (status = 422, description = "Not a valid policy (`invalid_policy`, every problem in `errors`)"),
    )
)]
pub async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<ApplyPolicyRequest>,
) -> ApiResult<Json<AppliedPolicy>> {
    caller.require(Permission::Admin)?;
    let applied = policies::apply(&state.pool, &caller.actor(), request.source).await?;
    if applied.changed {
        state.committed().await;
    }
    Ok(Json(applied))
}

/// What applying a document would change: every decision (allowlist or given subject ×
/// server@version, deleted versions aside) whose effect differs between the current policy and
/// the proposed one.
#[utoipa::path(
    post,
    path = "/policy/diff",
    operation_id = "diff_policy",
    tag = super::TAG_POLICY,
    request_body = DiffRequest,
    security(("apiToken" = [])),
    responses(
        (status = 200, body = DiffAnswer),
        (status = 400, description = "Malformed request body"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not a reviewer or admin"),
        (status = 422, description = "Not a valid policy (`invalid_policy`), or too many subjects"),
    )
)]
pub async fn diff(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<DiffRequest>,
) -> ApiResult<Json<DiffAnswer>> {
    caller.require(Permission::Review)?;
    let review = &state.auth.config.review;
    Ok(Json(policies::diff(&state.pool, review, request).await?))
}

/// Whether the current policy allows a subject to use a server version, with the rules and
/// conditions that decided.
///
/// Deny wins over allow, nothing is allowed by default, and with no policy applied everything is
/// denied (`policyVersion: null`).
#[utoipa::path(
    post,
    path = "/decisions",
    operation_id = "decide_access",
    tag = super::TAG_POLICY,
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "The decision, allow or deny", body = DecisionAnswer),
        (status = 400, description = "Malformed request body"),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad"),
        (status = 404, description = "No such server or version"),
        (status = 422, description = "Not a server name or version (`errors[].location` = `server` or `version`)"),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    _reader: Reader,
    JsonBody(request): JsonBody<DecisionRequest>,
) -> ApiResult<Json<DecisionAnswer>> {
    let review = &state.auth.config.review;
    Ok(Json(policies::decide(&state.pool, review, request).await?))
}
