//! Allowlists: their administration, their signed documents, the published signing keys, and the
//! official MCP registry API of each allowlist's view under `/a/{allowlist}/…`.

use mcpreg_api::problem::ProblemCode;
use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mcpreg_api::allowlist::{SignedAllowlist, SignedKeySet};
use mcpreg_api::registry::{ListMetadata, ServerList, ServerResponse, Status};

use crate::allowlists;
use crate::app::AppState;
use crate::auth::{Caller, Credentials, Permission};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::official_api::{cached, clip, include_deleted, list_filter};
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
    allowlists::authorize(&state.allowlists(), &name, &credentials, peer).await?;
    let cache_key = format!("allowlist-document/{name}");
    if let Some(cached) = state.cache.get(&cache_key).await
        && let Some((version, body)) = split_cached(&cached)
    {
        // A 304 touches none of the body; a 200 shares the cached bytes.
        return Ok(signed_json(body, &etag_of(version), &headers));
    }
    // One request computes the document; those that arrive meanwhile wait and take its result.
    let _one_at_a_time = state.views.documents.lock().await;
    if let Some(cached) = state.cache.get(&cache_key).await
        && let Some((version, body)) = split_cached(&cached)
    {
        return Ok(signed_json(body, &etag_of(version), &headers));
    }
    let generation = state.cache.generation();
    let (body, version) =
        allowlists::document(&state.allowlists(), &name, &base_url(&state, &headers)).await?;
    state
        .cache
        .put(
            cache_key,
            generation,
            Bytes::from(format!("{version}\n{body}")),
        )
        .await;
    Ok(signed_json(body, &etag_of(version), &headers))
}

/// Splits a cached `"<version>\n<document>"` without copying the document.
fn split_cached(bytes: &Bytes) -> Option<(i64, Bytes)> {
    let newline = bytes.iter().take(24).position(|&b| b == b'\n')?;
    let version = std::str::from_utf8(&bytes[..newline]).ok()?.parse().ok()?;
    Some((version, bytes.slice(newline + 1..)))
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
    uri: OriginalUri,
    Path(allowlist): Path<String>,
    Query(params): Query<ServerListQuery>,
) -> ApiResult<Response> {
    allowlists::authorize(&state.allowlists(), &allowlist, &credentials, peer).await?;
    let filter = list_filter(params)?;
    cached(&state, &uri, async {
        let view = allowlists::view(&state.allowlists(), &allowlist).await?;
        let search = filter.search.as_deref().map(str::to_lowercase);
        // Paged over the view first; only the page's documents are read.
        let mut page: Vec<usize> = (0..view.versions.len())
            .filter(|&i| {
                let v = &view.versions[i];
                let (name, version) = (v.facts.name.as_str(), v.facts.version.as_str());
                let after = filter.cursor.as_ref().is_none_or(|c| match &c.version {
                    Some(cv) => (name, version) > (c.server_name.as_str(), cv.as_str()),
                    None => name > c.server_name.as_str(),
                });
                after
                    && search
                        .as_deref()
                        .is_none_or(|s| name.to_lowercase().contains(s))
                    && filter.updated_since.is_none_or(|t| v.updated_at > t)
                    && (!filter.latest_only || view.latest[i])
                    && filter.version.as_deref().is_none_or(|want| want == version)
            })
            .take(filter.limit as usize + 1)
            .collect();
        let next_cursor = if page.len() > filter.limit as usize {
            page.truncate(filter.limit as usize);
            page.last().map(|&i| {
                let v = &view.versions[i].facts;
                format!("{}:{}", v.name, v.version.as_str())
            })
        } else {
            None
        };
        let servers = allowlists::responses(&state.allowlists(), &view, &page).await?;
        Ok(ServerList {
            metadata: ListMetadata {
                next_cursor,
                count: servers.len(),
            },
            servers,
        })
    })
    .await
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
    uri: OriginalUri,
    Path((allowlist, name)): Path<(String, String)>,
    Query(q): Query<IncludeDeleted>,
) -> ApiResult<Response> {
    allowlists::authorize(&state.allowlists(), &allowlist, &credentials, peer).await?;
    // Deleted versions are never allowed; the parameter is accepted for compatibility.
    include_deleted(&q)?;
    cached(&state, &uri, async {
        let view = allowlists::server_view(&state.allowlists(), &allowlist, &name).await?;
        let all: Vec<usize> = (0..view.versions.len()).collect();
        let mut mine = allowlists::responses(&state.allowlists(), &view, &all).await?;
        if mine.is_empty() {
            return Err(not_in(
                &allowlist,
                format!("no version of `{}`", clip(&name)),
            ));
        }
        mine.sort_by_key(|r| std::cmp::Reverse(r.meta.official.published_at));
        Ok(ServerList {
            metadata: ListMetadata {
                next_cursor: None,
                count: mine.len(),
            },
            servers: mine,
        })
    })
    .await
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
    uri: OriginalUri,
    Path((allowlist, name, version)): Path<(String, String, String)>,
    Query(q): Query<IncludeDeleted>,
) -> ApiResult<Response> {
    allowlists::authorize(&state.allowlists(), &allowlist, &credentials, peer).await?;
    include_deleted(&q)?;
    cached(&state, &uri, async {
        let view = allowlists::server_view(&state.allowlists(), &allowlist, &name).await?;
        let wanted = (0..view.versions.len()).find(|&i| {
            let v = &view.versions[i];
            v.facts.status != Status::Deleted
                && if version == "latest" {
                    view.latest[i]
                } else {
                    v.facts.version.as_str() == version
                }
        });
        let found = match wanted {
            Some(i) => allowlists::responses(&state.allowlists(), &view, &[i])
                .await?
                .pop(),
            None => None,
        };
        found.ok_or_else(|| {
            not_in(
                &allowlist,
                format!("`{}` version `{}`", clip(&name), clip(&version)),
            )
        })
    })
    .await
}
