//! The official MCP registry API, read side: what VS Code and GitHub Copilot call.
//! Served under `/v0.1` (documented) and `/v0` (the same handlers), from the replica's read
//! model: no request reaches the database.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::query::{IncludeDeleted, ServerListQuery};
use mcpreg_api::registry::{ListMetadata, ServerList, ServerResponse, Status};

use crate::app::AppState;
use crate::auth::Reader;
use crate::error::{ApiError, ApiResult};
use crate::official_api::{clip, include_deleted, list_filter, model_json};
use crate::read_model::catalog::{Cursor, list_json};

/// List servers, one page at a time.
#[utoipa::path(
    get,
    path = "/servers",
    tag = super::TAG_OFFICIAL,
    params(ServerListQuery),
    responses(
        (status = 200, description = "A page of server versions, ordered by name then version", body = ServerList),
        (status = 400, description = "Invalid query parameter"),
        (status = 422, description = "`limit` out of range"),
    )
)]
pub async fn list_servers(
    State(state): State<AppState>,
    _reader: Reader,
    Query(params): Query<ServerListQuery>,
) -> ApiResult<Response> {
    let filter = list_filter(params)?;
    let snapshot = state.model.snapshot().await?;
    let mut page = snapshot.catalog.page(&filter)?;
    let next_cursor = if page.len() > filter.limit as usize {
        page.truncate(filter.limit as usize);
        page.last().map(|e| Cursor::after(&e.name, &e.version))
    } else {
        None
    };
    let metadata = ListMetadata {
        next_cursor,
        count: page.len(),
    };
    let body = list_json(page.iter().map(|e| e.json().as_ref()), &metadata);
    Ok(model_json(&state, &snapshot, body))
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
    Path(name): Path<String>,
    Query(q): Query<IncludeDeleted>,
) -> ApiResult<Response> {
    let include_deleted = include_deleted(&q)?;
    let snapshot = state.model.snapshot().await?;
    let versions = snapshot.catalog.versions_of(&name, include_deleted)?;
    if versions.is_empty() {
        return Err(server_not_found(&name));
    }
    let metadata = ListMetadata {
        next_cursor: None,
        count: versions.len(),
    };
    let body = list_json(versions.iter().map(|e| e.json().as_ref()), &metadata);
    Ok(model_json(&state, &snapshot, body))
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
    Path((name, version)): Path<(String, String)>,
    Query(q): Query<IncludeDeleted>,
) -> ApiResult<Response> {
    let include_deleted = include_deleted(&q)?;
    let snapshot = state.model.snapshot().await?;
    let entry = if version == "latest" {
        snapshot.catalog.latest(&name)?
    } else {
        snapshot.catalog.get(&name, &version)?
    };
    match entry {
        Some(e) if include_deleted || e.status != Status::Deleted => {
            Ok(model_json(&state, &snapshot, e.json().clone()))
        }
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
