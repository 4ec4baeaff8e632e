//! Allowlists: their administration, their signed documents, the published signing keys, and the
//! official MCP registry API of each allowlist's view under `/a/{allowlist}/…`.

use mcpreg_api::problem::ProblemCode;
use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mcpreg_api::allowlist::{SignedAllowlist, SignedKeySet};
use mcpreg_api::registry::{ListMetadata, ServerList, ServerResponse};

use crate::allowlists;
use crate::app::AppState;
use crate::auth::{Caller, Credentials, Permission};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::official_api::{clip, include_deleted, list_filter, model_json};
use crate::read_model::catalog::{Cursor, Fold, list_json, search_key};
use mcpreg_api::allowlist::{AllowlistInfo, AllowlistList, NewAllowlist};
use mcpreg_api::query::{IncludeDeleted, ServerListQuery};

/// The address of the connection's peer, when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// The registry's base URL: `--public-url`, else from `Host` (only a well-formed host is used).
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn etag_of(version: i64) -> String {
    format!("\"{version}\"")
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn signed_json(body: impl Into<axum::body::Body>, etag: &str, headers: &HeaderMap) -> Response {
    let mut response = if not_modified(headers, etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.into(),
        )
            .into_response()
    };
    if let Ok(v) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// List the allowlists.
#[utoipa::path(
    get,
    path = "/allowlists",
    operation_id = "list_allowlists",
    tag = super::TAG_ALLOWLISTS,
    security(("apiToken" = [])),
    responses(
        (status = 200, body = AllowlistList),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "No role"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Json<AllowlistList>> {
    caller.require(Permission::Read)?;
    Ok(Json(
        allowlists::list(&state.allowlists(), &base_url(&state, &headers)).await?,
    ))
}

/// Create an allowlist: a named audience that policy rules name as `allowlist: NAME`.
///
/// Its view is served as the official API at `registryUrl` (`/a/{name}`) and as a signed
/// document at `/api/v1/allowlists/{name}`. `access` says who may read both: `anonymous`,
/// `token` (default; any caller that may read the catalog) or `network` (callers in `networks`).
#[utoipa::path(
    post,
    path = "/allowlists",
    operation_id = "create_allowlist",
    tag = super::TAG_ALLOWLISTS,
    request_body = NewAllowlist,
    security(("apiToken" = [])),
    responses(
        (status = 201, body = AllowlistInfo),
        (status = 400, description = "Malformed request"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not an admin"),
        (status = 409, description = "The name is taken"),
        (status = 422, description = "Invalid name, access or networks; `errors` lists each"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(new): JsonBody<NewAllowlist>,
) -> ApiResult<(StatusCode, Json<AllowlistInfo>)> {
    caller.require(Permission::Admin)?;
    let base = base_url(&state, &headers);
    let created = allowlists::create(&state.allowlists(), &caller.actor(), &base, new).await?;
    state.committed().await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The signed allowlist document.
///
/// What policy lets this allowlist's audience use — per entry: name, version, status,
/// transports, remote URLs, packages with their artifact digests, verified signers, tools pin —
/// signed with the registry's Ed25519 key(s) (`/.well-known/mcpreg-keys.json`). Its `version`
/// only grows; it expires (`expiresAt`) and is renewed automatically. `ETag` is the version:
/// `If-None-Match` answers 304. Clients verify it with `mcpreg allowlist pull`.
#[utoipa::path(
    get,
    path = "/allowlists/{name}",
    operation_id = "get_allowlist_document",
    tag = super::TAG_ALLOWLISTS,
    params(("name" = String, Path, description = "The allowlist")),
    responses(
        (status = 200, body = SignedAllowlist, headers(("ETag" = String, description = "The document's version, quoted"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, description = "Credentials needed"),
        (status = 403, description = "Not allowed by the allowlist's access"),
        (status = 404, description = "No such allowlist"),
        (status = 503, description = "No signing key configured"),
    )
)]
pub async fn document(
    State(state): State<AppState>,
    credentials: Credentials,
    Peer(peer): Peer,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let snapshot = state.model.snapshot().await?;
    let (_, view) = allowlists::authorize(&snapshot.allowlists, &name, &credentials, peer)?;
    // The hot path: the document this replica holds is still the one for this view.
    let generation = snapshot.allowlists.generation();
    if let Some(held) = state
        .documents
        .current(&name, view, generation, state.allowlist_ttl)
    {
        return Ok(signed_json(held.signed.clone(), &held.etag, &headers));
    }
    // Otherwise read (or issue) it from the newest revision, so that a replica that lags does
    // not sign entries another one has already replaced.
    state.model.catch_up().await;
    let snapshot = state.model.snapshot().await?;
    let (_, view) = allowlists::authorize(&snapshot.allowlists, &name, &credentials, peer)?;
    let held = allowlists::held_document(
        &state.allowlists(),
        &state.documents,
        &name,
        &base_url(&state, &headers),
        &snapshot.allowlists,
        view,
    )
    .await?;
    Ok(signed_json(held.signed.clone(), &held.etag, &headers))
}

/// The registry's allowlist signing keys.
///
/// Active keys sign allowlist documents; retired ones are listed so that clients stop trusting
/// them. The keyset is signed by every active key, and its version only grows, so a client that
/// pinned a key learns a rotation from a keyset signed by that key.
#[utoipa::path(
    get,
    path = "/.well-known/mcpreg-keys.json",
    operation_id = "get_signing_keys",
    tag = super::TAG_ALLOWLISTS,
    responses(
        (status = 200, body = SignedKeySet),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 503, description = "No signing key configured"),
    )
)]
pub async fn keys(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let (body, version) = allowlists::keyset(&state.allowlists()).await?;
    Ok(signed_json(body, &etag_of(version), &headers))
}

/// The servers of an allowlist's view: the official `GET /v0.1/servers`, containing only what
/// policy allows this allowlist.
#[utoipa::path(
    get,
    path = "/a/{allowlist}/v0.1/servers",
    operation_id = "allowlist_list_servers",
    tag = super::TAG_ALLOWLISTS,
    params(("allowlist" = String, Path, description = "The allowlist"), ServerListQuery),
    responses(
        (status = 200, description = "A page of the allowed versions, ordered by name then version; `isLatest` is the latest allowed version", body = ServerList),
        (status = 400, description = "Invalid query parameter"),
        (status = 401, description = "Credentials needed"),
        (status = 403, description = "Not allowed by the allowlist's access"),
        (status = 404, description = "No such allowlist"),
        (status = 422, description = "`limit` out of range"),
    )
)]
pub async fn list_servers(
    State(state): State<AppState>,
    credentials: Credentials,
    Peer(peer): Peer,
    Path(allowlist): Path<String>,
    Query(params): Query<ServerListQuery>,
) -> ApiResult<Response> {
    let snapshot = state.model.snapshot().await?;
    let (_, view) = allowlists::authorize(&snapshot.allowlists, &allowlist, &credentials, peer)?;
    let filter = list_filter(params)?;
    // `search` folds as this list always has: the search in Unicode lower case, within the
    // (ASCII) name in lower case; a search no lower-cased name can contain matches nothing.
    let search = filter
        .search
        .as_deref()
        .map(|s| search_key(s, Fold::Unicode));
    let matches_search = |name: &str| match &search {
        None => true,
        Some(None) => false,
        Some(Some(key)) => {
            memchr::memmem::find(name.to_ascii_lowercase().as_bytes(), key).is_some()
        }
    };
    let cursor = filter.cursor.as_ref();
    let mut page = Vec::new();
    for a in view.from_server(cursor.map(|c| c.server_name.as_str())) {
        let v = &a.version;
        let (name, version) = (v.facts.name.as_str(), v.facts.version.as_str());
        let keep = cursor.is_none_or(|c| c.precedes(name, version))
            && matches_search(name)
            && filter.updated_since.is_none_or(|t| v.updated_at > t)
            && (!filter.latest_only || view.is_latest(name, version))
            && filter.version.as_deref().is_none_or(|want| want == version);
        if keep {
            page.push(a);
            if page.len() > filter.limit as usize {
                break;
            }
        }
    }
    let next_cursor = if page.len() > filter.limit as usize {
        page.truncate(filter.limit as usize);
        page.last().map(|a| {
            let v = &a.version.facts;
            Cursor::after(v.name.as_str(), v.version.as_str())
        })
    } else {
        None
    };
    let items: Vec<_> = page
        .iter()
        .map(|a| {
            let v = &a.version.facts;
            let (name, version) = (v.name.as_str(), v.version.as_str());
            snapshot
                .catalog
                .get(name, version)
                .map(|e| e.map(|e| e.json_with_latest(view.is_latest(name, version))))
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let metadata = ListMetadata {
        next_cursor,
        count: items.len(),
    };
    let body = list_json(items.iter().map(|b| b.as_ref()), &metadata);
    Ok(model_json(&state, &snapshot, body))
}

fn not_in(allowlist: &str, what: String) -> ApiError {
    ApiError::not_found(
        ProblemCode::NotInAllowlist,
        format!("Server not found: {what} is not in allowlist `{allowlist}`"),
    )
}

/// The allowed versions of one server in an allowlist's view, newest publication first.
#[utoipa::path(
    get,
    path = "/a/{allowlist}/v0.1/servers/{serverName}/versions",
    operation_id = "allowlist_list_versions",
    tag = super::TAG_ALLOWLISTS,
    params(
        ("allowlist" = String, Path, description = "The allowlist"),
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        IncludeDeleted,
    ),
    responses(
        (status = 200, body = ServerList),
        (status = 404, description = "No such allowlist, or no version of the server is in it"),
    )
)]
pub async fn list_versions(
    State(state): State<AppState>,
    credentials: Credentials,
    Peer(peer): Peer,
    Path((allowlist, name)): Path<(String, String)>,
    Query(q): Query<IncludeDeleted>,
) -> ApiResult<Response> {
    let snapshot = state.model.snapshot().await?;
    let (_, view) = allowlists::authorize(&snapshot.allowlists, &allowlist, &credentials, peer)?;
    // Deleted versions are never allowed; the parameter is accepted for compatibility.
    include_deleted(&q)?;
    let mut mine: Vec<_> = view
        .server(&name)
        .map(|a| {
            let v = &a.version;
            let version = v.facts.version.as_str();
            snapshot.catalog.get(&name, version).map(|e| {
                e.map(|e| {
                    (
                        e.published_at,
                        e.json_with_latest(view.is_latest(&name, version)),
                    )
                })
            })
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    if mine.is_empty() {
        return Err(not_in(
            &allowlist,
            format!("no version of `{}`", clip(&name)),
        ));
    }
    // Newest publication first; a stable sort keeps versions published at the same instant
    // in version order, as before.
    mine.sort_by_key(|(published_at, _)| std::cmp::Reverse(*published_at));
    let metadata = ListMetadata {
        next_cursor: None,
        count: mine.len(),
    };
    let body = list_json(mine.iter().map(|(_, b)| b.as_ref()), &metadata);
    Ok(model_json(&state, &snapshot, body))
}

/// One allowed version in an allowlist's view, or the latest allowed with `latest`.
#[utoipa::path(
    get,
    path = "/a/{allowlist}/v0.1/servers/{serverName}/versions/{version}",
    operation_id = "allowlist_get_version",
    tag = super::TAG_ALLOWLISTS,
    params(
        ("allowlist" = String, Path, description = "The allowlist"),
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "A version, or `latest` (the latest allowed)"),
        IncludeDeleted,
    ),
    responses(
        (status = 200, body = ServerResponse),
        (status = 404, description = "No such allowlist, or the version is not in it"),
    )
)]
pub async fn get_version(
    State(state): State<AppState>,
    credentials: Credentials,
    Peer(peer): Peer,
    Path((allowlist, name, version)): Path<(String, String, String)>,
    Query(q): Query<IncludeDeleted>,
) -> ApiResult<Response> {
    let snapshot = state.model.snapshot().await?;
    let (_, view) = allowlists::authorize(&snapshot.allowlists, &allowlist, &credentials, peer)?;
    include_deleted(&q)?;
    let wanted = view.server(&name).find(|a| {
        let v = a.version.facts.version.as_str();
        if version == "latest" {
            view.is_latest(&name, v)
        } else {
            v == version
        }
    });
    let found = match wanted {
        None => None,
        Some(a) => {
            let v = a.version.facts.version.as_str();
            snapshot
                .catalog
                .get(&name, v)?
                .map(|e| e.json_with_latest(view.is_latest(&name, v)))
        }
    };
    match found {
        Some(body) => Ok(model_json(&state, &snapshot, body)),
        None => Err(not_in(
            &allowlist,
            format!("`{}` version `{}`", clip(&name), clip(&version)),
        )),
    }
}
