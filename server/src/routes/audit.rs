//! The audit trail, for auditors.

use axum::Json;
use axum::extract::{Query, State};
use mcpreg_api::access::AuditPage;
use mcpreg_api::query::AuditQuery;

use crate::app::AppState;
use crate::auth::{Caller, Permission};
use crate::db::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::query_issue;

/// Read the audit trail, newest first.
#[utoipa::path(
    get,
    path = "/audit",
    operation_id = "list_audit_events",
    tag = super::TAG_ADMIN,
    params(AuditQuery),
    security(("apiToken" = [])),
    responses(
        (status = 200, body = AuditPage),
        (status = 403, description = "Not an auditor"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    caller.require(Permission::Audit)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid_parameters(
            "invalid query parameters",
            vec![query_issue("limit", "1 to 500")],
        ));
    }
    // The caller's own events, and everything committed before this read, are chained.
    audit::chain_pending(&state.pool).await?;
    let events = audit::list(&state.pool, params.before, limit).await?;
    let next_before = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditPage {
        events,
        next_before,
    }))
}
