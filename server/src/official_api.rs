//! What both copies of the official MCP registry API share — the registry's own under `/v0.1`
//! and each allowlist's under `/a/{allowlist}/v0.1`: the checking of their query parameters and
//! how answers from the read model are written.

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::query::{IncludeDeleted, ServerListQuery};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_bool, query_issue};
use crate::read_model::Snapshot;
use crate::read_model::catalog::{Cursor, ListFilter};

/// Default page size, as in the official registry.
pub const DEFAULT_LIMIT: u32 = 30;
/// Largest page size.
pub const MAX_LIMIT: u32 = 100;
const MAX_PARAM_LEN: usize = 512;

/// The filter a server list's parameters ask for, or the problems with them.
pub fn list_filter(params: ServerListQuery) -> ApiResult<ListFilter> {
    let mut problems = Vec::new();
    let mut limit_problem = None;
    let limit = match params.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => n as u32,
            Ok(n) => {
                limit_problem = Some(query_issue(
                    "limit",
                    format!("expected a number from 1 to {MAX_LIMIT}, got {n}"),
                ));
                DEFAULT_LIMIT
            }
            Err(_) => {
                limit_problem = Some(query_issue(
                    "limit",
                    format!(
                        "expected an integer from 1 to {MAX_LIMIT}, got `{}`",
                        clip(raw)
                    ),
                ));
                DEFAULT_LIMIT
            }
        },
    };
    if let Some(issue) = limit_problem {
        // The official registry answers an out-of-range limit with 422 `validation failed`.
        return Err(ApiError::unprocessable(
            ProblemCode::ValidationFailed,
            "validation failed",
            vec![issue],
        ));
    }
    let updated_since = match params.updated_since.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match DateTime::parse_from_rfc3339(raw) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(e) => {
                problems.push(query_issue(
                    "updated_since",
                    format!("expected an RFC 3339 timestamp such as 2025-08-07T13:15:04.280Z, got `{}`: {e}", clip(raw)),
                ));
                None
            }
        },
    };
    let include_deleted = parse_bool("include_deleted", params.include_deleted.as_deref())
        .unwrap_or_else(|issue| {
            problems.push(issue);
            None
        });
    if updated_since.is_some() && include_deleted == Some(false) {
        problems.push(query_issue(
            "include_deleted",
            "cannot be false with updated_since: incremental sync must see deletions",
        ));
    }
    for (name, value) in [
        ("cursor", &params.cursor),
        ("search", &params.search),
        ("version", &params.version),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > MAX_PARAM_LEN) {
            problems.push(query_issue(name, format!("at most {MAX_PARAM_LEN} bytes")));
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_parameters(
            "invalid query parameters",
            problems,
        ));
    }
    let (latest_only, version) = match params.version.filter(|v| !v.is_empty()) {
        Some(v) if v == "latest" => (true, None),
        other => (false, other),
    };
    Ok(ListFilter {
        cursor: params
            .cursor
            .filter(|c| !c.is_empty())
            .map(|c| Cursor::parse(&c)),
        limit,
        search: params.search,
        updated_since,
        latest_only,
        version,
        include_deleted: include_deleted.unwrap_or(updated_since.is_some()),
    })
}

/// At most 60 characters of `s`, for quoting a caller's value in a problem detail.
pub fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// A JSON answer from the read model, with its revision headers.
pub fn model_json(state: &AppState, snapshot: &Snapshot, body: Bytes) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    state.model.headers(snapshot, headers);
    response
}

/// The `include_deleted` parameter's value (default false).
pub fn include_deleted(q: &IncludeDeleted) -> ApiResult<bool> {
    parse_bool("include_deleted", q.include_deleted.as_deref())
        .map(|b| b.unwrap_or(false))
        .map_err(|issue| ApiError::invalid_parameters("invalid query parameters", vec![issue]))
}
