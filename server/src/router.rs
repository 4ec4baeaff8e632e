//! Every route of the service, its middleware, and its OpenAPI document.

use mcpreg_api::problem::ProblemCode;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mcpreg_api::problem::{PROBLEM_JSON, Problem};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::error::{ApiError, problem_response};
use crate::routes::{
    allowlists, audit, auth, namespaces, official, ops, policies, publish, reviews, scans,
    server_tags, signatures, status, tokens, tools, trusted_publishers, trusted_signers,
};

/// Limits that protect the service from oversized or slow requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered with 503.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mcpreg",
        description = "An enterprise registry of approved MCP servers.\n\nThe official MCP registry API is served under `/v0.1` (documented here) and, identically, under `/v0`. The native API for publishing and administration is under `/api/v1`. Every error is `application/problem+json` (RFC 9457) with a stable `code`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecurityAddon),
    components(schemas(
        mcpreg_api::Problem,
        mcpreg_api::FieldIssue,
        mcpreg_api::trust::PublishRequest
    ))
)]
struct ApiDoc;

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "apiToken",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some("A registry API token (`mcpreg_…`), made with `mcpreg-server token create`"))
                        .build(),
                ),
            );
        }
    }
}

/// The official API's routes, mounted under `/v0.1` and `/v0`.
fn official_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(official::list_servers))
        .routes(routes!(official::list_versions))
        .routes(routes!(official::get_version))
        .routes(routes!(publish::official_publish))
        .routes(routes!(publish::official_validate))
}

/// The routes and the OpenAPI document, before middleware.
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let native = OpenApiRouter::new()
        .routes(routes!(publish::publish))
        .routes(routes!(publish::publish_batch))
        .routes(routes!(publish::validate))
        .routes(routes!(status::set_server_status))
        .routes(routes!(status::set_version_status))
        .routes(routes!(namespaces::list, namespaces::create))
        .routes(routes!(namespaces::get))
        .routes(routes!(auth::whoami))
        .routes(routes!(auth::settings))
        .routes(routes!(auth::exchange))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(
            trusted_publishers::list,
            trusted_publishers::create
        ))
        .routes(routes!(trusted_publishers::delete))
        .routes(routes!(signatures::get_trust))
        .routes(routes!(signatures::attach))
        .routes(routes!(trusted_signers::list, trusted_signers::create))
        .routes(routes!(trusted_signers::delete))
        .routes(routes!(tools::get, tools::attach))
        .routes(routes!(scans::list, scans::upload))
        .routes(routes!(scans::sarif))
        .routes(routes!(reviews::list))
        .routes(routes!(server_tags::get, server_tags::set))
        .routes(routes!(allowlists::list, allowlists::create))
        .routes(routes!(allowlists::document))
        .routes(routes!(reviews::get, reviews::decide))
        .routes(routes!(policies::get, policies::apply))
        .routes(routes!(policies::diff))
        .routes(routes!(policies::decide))
        .routes(routes!(audit::list));
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/v0.1", official_routes())
        .nest("/api/v1", native)
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(auth::protected_resource))
        .routes(routes!(allowlists::keys))
        .routes(routes!(allowlists::list_servers))
        .routes(routes!(allowlists::list_versions))
        .routes(routes!(allowlists::get_version))
        .split_for_parts();
    let mut openapi = openapi;
    utoipa::Modify::modify(&mcpreg_api::problem::ProblemResponses, &mut openapi);
    // `/v0` serves the same handlers; documenting it twice would duplicate operation ids.
    let v0 = Router::new()
        .route("/servers", get(official::list_servers))
        .route(
            "/servers/{serverName}/versions",
            get(official::list_versions),
        )
        .route(
            "/servers/{serverName}/versions/{version}",
            get(official::get_version),
        )
        .route("/publish", post(publish::publish))
        .route("/validate", post(publish::validate));
    // Each allowlist's view under `/a/{allowlist}/v0` too, as the official API is.
    let a_v0 = Router::new()
        .route("/servers", get(allowlists::list_servers))
        .route(
            "/servers/{serverName}/versions",
            get(allowlists::list_versions),
        )
        .route(
            "/servers/{serverName}/versions/{version}",
            get(allowlists::get_version),
        );
    (
        router.nest("/v0", v0).nest("/a/{allowlist}/v0", a_v0),
        openapi,
    )
}

/// The OpenAPI document (also served at `/openapi.json` and committed as `openapi/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

/// The whole service.
pub fn router(state: AppState, limits: Limits) -> Router {
    let (routes, openapi) = api();
    // GitHub Copilot and VS Code call the registry from a browser context; reads carry no cookies
    // (bearer tokens only), so a wildcard origin is safe.
    let cors = CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(86400));
    routes
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            writes_need_the_database,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn(plain_errors_to_problems))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(panic_to_problem))
        .layer(cors)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::DEBUG))
                .on_response(DefaultOnResponse::new().level(tracing::Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// While the database is unreachable, reads are answered from the read model and every other
/// request is refused at once with a 503, rather than each waiting for a connection.
async fn writes_need_the_database(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && let Some(down) = state.model.database_down()
    {
        return ApiError::Unavailable(format!(
            "the registry cannot reach its database (for {} s): writes are refused until it is back; reads are served from its last revision",
            down.as_secs()
        ))
        .into_response();
    }
    next.run(req).await
}

async fn unknown_route(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(
        ProblemCode::RouteNotFound,
        format!(
            "no route for {method} {}; the API is described at /docs and /openapi.json",
            uri.path()
        ),
    )
}

fn panic_to_problem(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    problem_response(
        &Problem::new(
            500,
            ProblemCode::Internal,
            "Internal Server Error",
            "the registry failed unexpectedly; the error was logged",
        ),
        None,
    )
}

/// Errors produced outside the handlers (axum's 405, rejections of malformed paths or queries,
/// timeouts) arrive as plain text; this turns every one into a problem document, keeping
/// headers such as `Allow`.
async fn plain_errors_to_problems(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let (code, default_detail) = match status {
        StatusCode::BAD_REQUEST => (ProblemCode::BadRequest, "the request is malformed"),
        StatusCode::NOT_FOUND => (ProblemCode::NotFound, "not found"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ProblemCode::MethodNotAllowed,
            "this method is not allowed on this route; see the Allow header",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ProblemCode::PayloadTooLarge,
            "the request body is larger than this registry accepts",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ProblemCode::UnsupportedMediaType,
            "the body's media type is not accepted",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            ProblemCode::Unavailable,
            "the request took too long or the registry is busy; retry shortly",
        ),
        s if s.is_server_error() => (ProblemCode::Internal, "the registry failed unexpectedly"),
        _ => (ProblemCode::ClientError, "the request was refused"),
    };
    // Server-side text is never passed on: it may describe internals.
    let detail = if text.is_empty() || status.is_server_error() {
        default_detail.to_owned()
    } else {
        text
    };
    let title = status.canonical_reason().unwrap_or("Error");
    let problem = Problem::new(status.as_u16(), code, title, detail);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body)).into_response()
}
