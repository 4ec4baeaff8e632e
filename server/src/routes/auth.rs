//! Sign-in: who am I, how to sign in, protected-resource metadata, and the CI token exchange.

use mcpreg_api::problem::ProblemCode;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::HOST;
use chrono::{TimeZone, Utc};
use mcpreg_api::ServerName;
use mcpreg_api::access::{
    AuthSettings, Caller as CallerView, CiIssuer, ExchangedToken, ProtectedResourceMetadata,
    TokenExchange,
};
use rand::RngCore;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::oidc::issuer_string;
use crate::auth::trusted_publishing;
use crate::auth::{Caller, CallerKind};
use crate::db::trusted_publishers;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;

/// The caller's identity and rights as the registry sees them.
#[utoipa::path(
    get,
    path = "/whoami",
    tag = super::TAG_ADMIN,
    security(("apiToken" = [])),
    responses(
        (status = 200, body = CallerView),
        (status = 401, description = "Missing or bad credentials"),
    )
)]
pub async fn whoami(caller: Caller) -> Json<CallerView> {
    Json(CallerView {
        kind: match caller.kind {
            CallerKind::ApiToken => "api_token",
            CallerKind::TrustedPublishing => "trusted_publishing",
            CallerKind::Oidc => "oidc",
        }
        .to_owned(),
        subject: caller.subject,
        roles: caller.roles.into_iter().collect(),
        namespaces: caller.namespaces.into_iter().collect(),
        server: caller.server,
        groups: caller.groups,
        expires_at: caller.expires_at,
    })
}

/// How to sign in: the CLI's issuer and client id, and the CI issuers trusted for publishing.
#[utoipa::path(get, path = "/auth/settings", tag = super::TAG_ADMIN, responses((status = 200, body = AuthSettings)))]
pub async fn settings(State(state): State<AppState>) -> Json<AuthSettings> {
    let config = &state.auth.config;
    let cli = config.oidc.cli.as_ref();
    Json(AuthSettings {
        anonymous_reads: config.anonymous_reads,
        issuer: cli.map(|c| issuer_string(&c.issuer)),
        client_id: cli.map(|c| c.client_id.clone()),
        scopes: cli.map(|c| c.scopes.clone()).unwrap_or_default(),
        resource: cli.and_then(|c| c.resource.clone()),
        trusted_publishing: config
            .trusted_publishing
            .issuers
            .iter()
            .map(|i| CiIssuer {
                issuer: issuer_string(&i.issuer),
                audience: i.audience.clone(),
            })
            .collect(),
    })
}

/// OAuth 2.0 protected resource metadata (RFC 9728): where clients find the identity provider.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-protected-resource",
    tag = super::TAG_OPS,
    responses((status = 200, body = ProtectedResourceMetadata))
)]
pub async fn protected_resource(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Json<ProtectedResourceMetadata> {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let resource = match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{host}"),
    };
    Json(ProtectedResourceMetadata {
        resource,
        authorization_servers: state
            .auth
            .config
            .oidc
            .issuers
            .iter()
            .map(|i| issuer_string(&i.issuer))
            .collect(),
        bearer_methods_supported: vec!["header".into()],
        resource_name: "mcpreg".into(),
    })
}

/// Exchange a CI OIDC token for a short-lived token that may publish one server.
///
/// The CI token must come from a configured CI issuer, carry the registry's audience, match a
/// trusted publisher of the server (repository, owner id, workflow file, environment), not come
/// from a `pull_request_target` or `workflow_run` trigger, and not have been exchanged before.
#[utoipa::path(
    post,
    path = "/auth/trusted-publishing",
    tag = super::TAG_PUBLISH,
    request_body = TokenExchange,
    responses(
        (status = 200, body = ExchangedToken),
        (status = 400, description = "Invalid request"),
        (status = 401, description = "The CI token is invalid, expired, for another audience, or replayed"),
        (status = 403, description = "No trusted publisher matches the token (the problem names the claim)"),
    )
)]
pub async fn exchange(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<TokenExchange>,
) -> ApiResult<Json<ExchangedToken>> {
    let server = ServerName::parse(&request.server).map_err(|e| {
        ApiError::invalid_parameters(
            "invalid server name",
            vec![mcpreg_api::FieldIssue::new(
                "server",
                e.to_string(),
                "parameter",
            )],
        )
    })?;
    let (issuer, claims) =
        state
            .auth
            .verify_ci_token(&request.token)
            .await
            .map_err(|e| match e {
                crate::auth::oidc::TokenError::Unreachable(reason) => {
                    ApiError::Unavailable(format!("CI identity provider: {reason}"))
                }
                other => ApiError::unauthorized(other.code(), other.to_string()),
            })?;
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
                ProblemCode::InvalidClaims,
                "the CI token has no `jti`: it could be replayed",
            )
        })?
        .to_owned();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .and_then(|t| Utc.timestamp_opt(t, 0).single())
        .ok_or_else(|| {
            ApiError::unauthorized(
                ProblemCode::InvalidClaims,
                "the CI token has no valid `exp`",
            )
        })?;

    let namespace = server.namespace();
    let publishers =
        trusted_publishers::for_server(&state.pool, namespace.as_str(), server.as_str()).await?;
    let matched = trusted_publishing::check(server.as_str(), &issuer, &claims, &publishers)
        .map_err(|m| ApiError::forbidden_because(m.code(), m.to_string()))?;

    let mut suffix = [0u8; 6];
    rand::rng().fill_bytes(&mut suffix);
    let repository = claims
        .get("repository")
        .and_then(Value::as_str)
        .unwrap_or("ci");
    let name = format!(
        "tp-{}-{}",
        repository.replace('/', "-"),
        hex::encode(suffix)
    );
    let expires_at = Utc::now()
        + chrono::Duration::seconds(state.auth.config.trusted_publishing.token_ttl_secs as i64);
    let actor = format!(
        "ci:{repository}@{}",
        claims
            .get("workflow_ref")
            .and_then(Value::as_str)
            .unwrap_or("")
    );
    let secret = crate::tokens::exchange(
        &state.pool,
        crate::tokens::CiExchange {
            issuer: &issuer,
            jti: &jti,
            exp,
            server: &server,
            name: &name,
            expires_at,
            actor: &actor,
            details: json!({
                "token": name,
                "trustedPublisher": matched.id,
                "issuer": issuer,
                "repository": repository,
                "workflowRef": claims.get("workflow_ref"),
                "ref": claims.get("ref"),
                "sha": claims.get("sha"),
                "environment": claims.get("environment"),
                "jti": jti,
            }),
        },
    )
    .await?;
    Ok(Json(ExchangedToken {
        token: secret.expose_secret().to_owned(),
        server: server.to_string(),
        expires_at,
    }))
}
