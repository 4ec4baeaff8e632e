//! The official MCP registry API, read side: what VS Code and GitHub Copilot call.
//! Served under `/v0.1` (documented) and `/v0` (the same handlers).

use mcpreg_api::problem::ProblemCode;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::Response;
use mcpreg_api::registry::{ListMetadata, ServerList, ServerResponse, Status};

use crate::app::AppState;
use crate::auth::Reader;
use crate::db::versions::{self, Cursor, ListFilter, VersionRow};
use crate::error::{ApiError, ApiResult};
use crate::official_api::{IncludeDeleted, ListParams};
use crate::official_api::{cached, clip, include_deleted};

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
