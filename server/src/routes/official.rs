//! The official MCP registry API, read side: what VS Code and GitHub Copilot call.
//! Served under `/v0.1` (documented) and `/v0` (the same handlers).

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::registry::{ListMetadata, ServerList, ServerResponse, Status};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::auth::Reader;
use crate::db::versions::{self, Cursor, ListFilter, VersionRow};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_bool, query_issue};

/// Default page size, as in the official registry.
pub const DEFAULT_LIMIT: u32 = 30;
/// Largest page size.
pub const MAX_LIMIT: u32 = 100;
const MAX_PARAM_LEN: usize = 512;

/// Query parameters of `GET /v0.1/servers`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Opaque cursor from `metadata.nextCursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 30).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Case-insensitive substring of the server name.
    search: Option<String>,
    /// Only versions whose registry metadata changed after this RFC 3339 instant (deleted ones included).
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<String>,
    /// `latest` for each server's latest version only, or an exact version.
    version: Option<String>,
    /// Include deleted versions (default false; true when `updated_since` is given).
    #[param(value_type = Option<bool>)]
    include_deleted: Option<String>,
}

/// Query parameter `include_deleted` of the single-server endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncludeDeleted {
    /// Include deleted versions (default false).
    #[param(value_type = Option<bool>)]
    include_deleted: Option<String>,
}

impl ListParams {
    /// The filter these parameters ask for, or the problems with them.
    pub(crate) fn into_filter(self) -> ApiResult<ListFilter> {
        let mut problems = Vec::new();
        let mut limit_problem = None;
        let limit = match self.limit.as_deref() {
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
        let updated_since = match self.updated_since.as_deref().filter(|s| !s.is_empty()) {
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
        let include_deleted = parse_bool("include_deleted", self.include_deleted.as_deref())
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
            ("cursor", &self.cursor),
            ("search", &self.search),
            ("version", &self.version),
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
        let (latest_only, version) = match self.version.filter(|v| !v.is_empty()) {
            Some(v) if v == "latest" => (true, None),
            other => (false, other),
        };
        Ok(ListFilter {
            cursor: self
                .cursor
                .filter(|c| !c.is_empty())
                .map(|c| Cursor::parse(&c)),
            limit,
            search: self.search,
            updated_since,
            latest_only,
            version,
            include_deleted: include_deleted.unwrap_or(updated_since.is_some()),
        })
    }
}

pub(crate) fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Says whether an answer came from this replica's cache (`hit`) or the database (`miss`).
pub const CACHE_HEADER: &str = "x-mcpreg-cache";

/// Answers from the replica's cache when it can, else computes, stores and answers. Called after
/// the caller's access was checked: the answers do not depend on who asks.
pub(crate) async fn cached<T: serde::Serialize>(
    state: &AppState,
    uri: &OriginalUri,
    compute: impl Future<Output = ApiResult<T>>,
) -> ApiResult<Response> {
    let key = uri.0.to_string();
    let (body, hit) = match state.cache.get(&key).await {
        Some(body) => (body, true),
        None => {
            let generation = state.cache.generation();
            let value = compute.await?;
            let body =
                Bytes::from(serde_json::to_vec(&value).map_err(|e| ApiError::Internal(e.into()))?);
            state.cache.put(key, generation, body.clone()).await;
            (body, false)
        }
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        CACHE_HEADER,
        HeaderValue::from_static(if hit { "hit" } else { "miss" }),
    );
    Ok(response)
}

fn to_responses(rows: Vec<VersionRow>) -> ApiResult<Vec<ServerResponse>> {
    rows.into_iter()
        .map(|r| r.into_response().map_err(|e| ApiError::Internal(e.into())))
        .collect()
}

/// List servers, one page at a time.
#[utoipa::path(
    get,
    path = "/servers",
    tag = super::TAG_OFFICIAL,
    params(ListParams),
    responses(
        (status = 200, description = "A page of server versions, ordered by name then version", body = ServerList),
        (status = 400, description = "Invalid query parameter"),
        (status = 422, description = "`limit` out of range"),
    )
)]
pub async fn list_servers(
    State(state): State<AppState>,
    _reader: Reader,
    uri: OriginalUri,
    Query(params): Query<ListParams>,
) -> ApiResult<Response> {
    let filter = params.into_filter()?;
    cached(&state, &uri, list_page(&state, filter)).await
}

async fn list_page(state: &AppState, filter: ListFilter) -> ApiResult<ServerList> {
    let mut rows = versions::list(&state.pool, &filter).await?;
    let next_cursor = if rows.len() > filter.limit as usize {
        rows.truncate(filter.limit as usize);
        rows.last().map(Cursor::after)
    } else {
        None
    };
    let servers = to_responses(rows)?;
    Ok(ServerList {
        metadata: ListMetadata {
            next_cursor,
            count: servers.len(),
        },
        servers,
    })
}

pub(crate) fn include_deleted(q: &IncludeDeleted) -> ApiResult<bool> {
    parse_bool("include_deleted", q.include_deleted.as_deref())
        .map(|b| b.unwrap_or(false))
        .map_err(|issue| ApiError::invalid_parameters("invalid query parameters", vec![issue]))
}

fn server_not_found(name: &str) -> ApiError {
    ApiError::not_found(
        ProblemCode::ServerNotFound,
        format!("Server not found: no server named `{}`", clip(name)),
    )
}

/// List every version of a server, newest publication first.
#[utoipa::path(
    get,
    path = "/servers/{serverName}/versions",
    tag = super::TAG_OFFICIAL,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded (`com.example%2Fmy-server`)"),
        IncludeDeleted,
    ),
    responses(
        (status = 200, description = "All versions of the server", body = ServerList),
        (status = 404, description = "No such server (or all its versions are deleted)"),
    )
)]
pub async fn list_versions(
    State(state): State<AppState>,
    _reader: Reader,
    uri: OriginalUri,
    Path(name): Path<String>,
    Query(q): Query<IncludeDeleted>,
) -> ApiResult<Response> {
    let include_deleted = include_deleted(&q)?;
    cached(&state, &uri, versions_of(&state, name, include_deleted)).await
}

async fn versions_of(
    state: &AppState,
    name: String,
    include_deleted: bool,
) -> ApiResult<ServerList> {
    let rows = versions::list_for_server(&state.pool, &name, include_deleted).await?;
    if rows.is_empty() {
        return Err(server_not_found(&name));
    }
    let servers = to_responses(rows)?;
    Ok(ServerList {
        metadata: ListMetadata {
            next_cursor: None,
            count: servers.len(),
        },
        servers,
    })
}

/// Get one version of a server, or its latest with `latest`.
#[utoipa::path(
    get,
    path = "/servers/{serverName}/versions/{version}",
    tag = super::TAG_OFFICIAL,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded (`com.example%2Fmy-server`)"),
        ("version" = String, Path, description = "A version, or `latest`"),
        IncludeDeleted,
    ),
    responses(
        (status = 200, description = "The server version", body = ServerResponse),
        (status = 404, description = "No such server or version (or it is deleted)"),
    )
)]
pub async fn get_version(
    State(state): State<AppState>,
    _reader: Reader,
    uri: OriginalUri,
    Path((name, version)): Path<(String, String)>,
    Query(q): Query<IncludeDeleted>,
) -> ApiResult<Response> {
    let include_deleted = include_deleted(&q)?;
    cached(
        &state,
        &uri,
        one_version(&state, name, version, include_deleted),
    )
    .await
}

async fn one_version(
    state: &AppState,
    name: String,
    version: String,
    include_deleted: bool,
) -> ApiResult<ServerResponse> {
    let row = if version == "latest" {
        versions::get_latest(&state.pool, &name).await?
    } else {
        versions::get(&state.pool, &name, &version).await?
    };
    match row {
        Some(row) if include_deleted || row.status() != Status::Deleted => row
            .into_response()
            .map_err(|e| ApiError::Internal(e.into())),
        Some(_) => Err(ApiError::not_found(
            ProblemCode::VersionDeleted,
            format!(
                "Server not found: {} version {} is deleted (use include_deleted=true)",
                clip(&name),
                clip(&version)
            ),
        )),
        None if version == "latest" => Err(server_not_found(&name)),
        None => Err(ApiError::not_found(
            ProblemCode::VersionNotFound,
            format!(
                "Server not found: `{}` has no version `{}`",
                clip(&name),
                clip(&version)
            ),
        )),
    }
}
