//! Who is calling, and what they may do.
//!
//! Credentials arrive as `Authorization: Bearer …`: either a registry API token (`mcpreg_…`, looked
//! up by its hash) or a JWT access token from a trusted OpenID Connect issuer (validated locally).
//! A handler takes [`Caller`] (credentials required) or [`Reader`] (credentials optional when
//! anonymous reads are allowed) and states what it needs in one line:
//! `caller.require(Permission::Publish(&name))?`. No write is ever anonymous.

pub mod config;
pub mod oidc;
pub mod trusted_publishing;

use mcpreg_api::problem::ProblemCode;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{DateTime, TimeZone, Utc};
use mcpreg_api::ServerName;
use mcpreg_api::admin::Role;
use secrecy::SecretString;
use serde_json::{Map, Value};

use self::config::{AccessConfig, Grant};
use self::oidc::{IssuerVerifier, TokenError, unverified_issuer};
use crate::app::AppState;
use crate::db::tokens::{self, TOKEN_PREFIX};
use crate::error::ApiError;

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// A registry API token made by an admin.
    ApiToken,
    /// A short-lived token exchanged for a CI OIDC token: it may publish one server, nothing else.
    TrustedPublishing,
    /// A JWT from a trusted OpenID Connect issuer (a person or an OAuth client).
    Oidc,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who: `token:<name>`, or `oidc:<sub>@<issuer>`. Recorded as the actor of every change.
    pub subject: String,
    /// How they authenticated.
    pub kind: CallerKind,
    /// Roles without scope.
    pub roles: BTreeSet<Role>,
    /// Namespaces the caller may publish to.
    pub namespaces: BTreeSet<String>,
    /// When set, the only server the caller may publish.
    pub server: Option<String>,
    /// The IdP groups the roles came from (OIDC callers).
    pub groups: Vec<String>,
    /// When the credential expires.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a request needs.
#[derive(Debug, Clone, Copy)]
pub enum Permission<'a> {
    /// Read the catalog.
    Read,
    /// Publish a version of this server.
    Publish(&'a ServerName),
    /// Change the status of this server's versions.
    ChangeStatus(&'a ServerName),
    /// Attach evidence to this server's versions: tool manifests and scan reports (its
    /// publishers, including its CI, and reviewers).
    AttachEvidence(&'a ServerName),
    /// Decide reviews of versions: approve, reject, revoke.
    Review,
    /// Read the audit trail.
    Audit,
    /// Administer the registry: namespaces, tokens, trusted publishers.
    Admin,
}

impl Caller {
    /// The actor recorded in the audit trail.
    pub fn actor(&self) -> String {
        self.subject.clone()
    }

    fn has(&self, role: Role) -> bool {
        self.roles.contains(&Role::Admin) || self.roles.contains(&role)
    }

    fn may_publish(&self, name: &ServerName) -> bool {
        if self.roles.contains(&Role::Admin) {
            return true;
        }
        self.namespaces.contains(name.namespace().as_str())
            && self.server.as_deref().is_none_or(|s| s == name.as_str())
    }

    /// Fails with 403, naming what is missing, unless the caller may do this.
    pub fn require(&self, permission: Permission<'_>) -> Result<(), ApiError> {
        let scoped = self.kind == CallerKind::TrustedPublishing;
        let allowed = match permission {
            Permission::Read => !self.roles.is_empty() || !self.namespaces.is_empty(),
            Permission::Publish(name) => self.may_publish(name),
            Permission::ChangeStatus(name) => !scoped && self.may_publish(name),
            Permission::AttachEvidence(name) => {
                self.may_publish(name) || (!scoped && self.has(Role::Reviewer))
            }
            Permission::Review => !scoped && self.has(Role::Reviewer),
            Permission::Audit => !scoped && (self.has(Role::Auditor)),
            Permission::Admin => !scoped && self.has(Role::Admin),
        };
        if allowed {
            return Ok(());
        }
        let needed = match permission {
            Permission::Read => "any role (reader or above)".to_owned(),
            Permission::Publish(name) if scoped => format!("a publish token for {name}"),
            Permission::Publish(name) | Permission::ChangeStatus(name) => {
                format!(
                    "the `publisher` role for namespace `{}` (or `admin`)",
                    name.namespace()
                )
            }
            Permission::AttachEvidence(name) if scoped => format!("a publish token for {name}"),
            Permission::AttachEvidence(name) => format!(
                "the `publisher` role for namespace `{}`, or `reviewer` (or `admin`)",
                name.namespace()
            ),
            Permission::Review => "the `reviewer` role (or `admin`)".to_owned(),
            Permission::Audit => "the `auditor` role (or `admin`)".to_owned(),
            Permission::Admin => "the `admin` role".to_owned(),
        };
        Err(ApiError::forbidden(format!(
            "this needs {needed}; {} has {}",
            self.subject,
            self.describe_rights()
        )))
    }

    /// Fails with 403 unless the caller may publish to some namespace (a batch of documents, each
    /// then checked with [`Permission::Publish`]).
    pub fn require_some_publish_right(&self) -> Result<(), ApiError> {
        if self.roles.contains(&Role::Admin) || !self.namespaces.is_empty() {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "this needs the `publisher` role for a namespace (or `admin`); {} has {}",
            self.subject,
            self.describe_rights()
        )))
    }

    /// The caller's rights in words, for messages.
    pub fn describe_rights(&self) -> String {
        let mut parts: Vec<String> = self.roles.iter().map(|r| r.to_string()).collect();
        parts.extend(self.namespaces.iter().map(|n| format!("publisher:{n}")));
        if let Some(s) = &self.server {
            parts.push(format!("(only {s})"));
        }
        if parts.is_empty() {
            "no role".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Verifies credentials. One per process; holds each issuer's cached keys.
pub struct Authenticator {
    /// The access configuration.
    pub config: AccessConfig,
    issuers: Vec<IssuerVerifier>,
    ci_issuers: Vec<(IssuerVerifier, String)>,
}

/// An HTTP client for fetching IdP metadata and keys: short timeouts, no redirects (a redirect to
/// an internal address is a classic SSRF).
pub fn idp_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mcpreg-server/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

impl Authenticator {
    /// An authenticator for this configuration.
    pub fn new(config: AccessConfig) -> Self {
        let http = idp_http_client();
        let issuers = config
            .oidc
            .issuers
            .iter()
            .map(|i| IssuerVerifier::new(i.clone(), http.clone()))
            .collect();
        let ci_issuers = config
            .trusted_publishing
            .issuers
            .iter()
            .map(|i| {
                let as_issuer = config::IssuerConfig {
                    issuer: i.issuer.clone(),
                    audiences: vec![i.audience.clone()],
                    groups_claim: String::new(),
                    leeway_secs: 30,
                };
                (
                    IssuerVerifier::new(as_issuer, http.clone()),
                    i.audience.clone(),
                )
            })
            .collect();
        Self {
            config,
            issuers,
            ci_issuers,
        }
    }

    /// Verifies a CI issuer's token for trusted publishing; returns its issuer and claims.
    pub async fn verify_ci_token(
        &self,
        token: &str,
    ) -> Result<(String, Map<String, Value>), TokenError> {
        let iss = unverified_issuer(token)?;
        let (verifier, audience) = self
            .ci_issuers
            .iter()
            .find(|(v, _)| v.issuer() == iss)
            .ok_or(TokenError::UntrustedIssuer(iss))?;
        let claims = verifier
            .verify(token, std::slice::from_ref(audience))
            .await?;
        Ok((verifier.issuer(), claims))
    }

    async fn oidc_caller(&self, token: &str) -> Result<Caller, ApiError> {
        // The IdP being unreachable is the registry's problem, not the caller's: 503, retry.
        let fail = |e: TokenError| match e {
            TokenError::Unreachable(reason) => {
                ApiError::Unavailable(format!("identity provider: {reason}"))
            }
            other => ApiError::unauthorized(other.code(), other.to_string()),
        };
        let iss = unverified_issuer(token).map_err(fail)?;
        let verifier = self
            .issuers
            .iter()
            .find(|v| v.issuer() == iss)
            .ok_or_else(|| fail(TokenError::UntrustedIssuer(iss.clone())))?;
        let claims = verifier
            .verify(token, &verifier.config.audiences)
            .await
            .map_err(fail)?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let groups: Vec<String> = match claims.get(&verifier.config.groups_claim) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        let mut roles = BTreeSet::new();
        let mut namespaces = BTreeSet::new();
        let grants = groups
            .iter()
            .filter_map(|g| self.config.oidc.groups.get(g))
            .chain(self.config.oidc.subjects.get(&sub))
            .flatten();
        for grant in grants {
            match grant {
                Grant::Role(role) => {
                    roles.insert(*role);
                }
                Grant::Publisher(ns) => {
                    namespaces.insert(ns.to_string());
                }
            }
        }
        let host = verifier
            .config
            .issuer
            .host_str()
            .unwrap_or("issuer")
            .to_owned();
        Ok(Caller {
            subject: format!("oidc:{sub}@{host}"),
            kind: CallerKind::Oidc,
            roles,
            namespaces,
            server: None,
            groups,
            expires_at: claims
                .get("exp")
                .and_then(Value::as_i64)
                .and_then(|t| Utc.timestamp_opt(t, 0).single()),
        })
    }

    /// Authenticates the `Authorization` header, if there is one.
    pub async fn authenticate(
        &self,
        state: &AppState,
        parts: &Parts,
    ) -> Result<Option<Caller>, ApiError> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Ok(None);
        };
        let header = header.to_str().map_err(|_| {
            ApiError::unauthorized(
                ProblemCode::MalformedCredentials,
                "the Authorization header is not visible ASCII",
            )
        })?;
        let Some((scheme, token)) = header.split_once(' ') else {
            return Err(ApiError::unauthorized(
                ProblemCode::MalformedCredentials,
                "the Authorization header must be `Bearer <token>`",
            ));
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::unauthorized(
                ProblemCode::MalformedCredentials,
                format!(
                    "unsupported authorization scheme `{}`; use `Bearer`",
                    scheme.chars().take(20).collect::<String>()
                ),
            ));
        }
        let token = token.trim();
        if token.starts_with(TOKEN_PREFIX) {
            return api_token_caller(state, token).await.map(Some);
        }
        if token.split('.').count() == 3 {
            if self.issuers.is_empty() {
                return Err(ApiError::unauthorized(
                    ProblemCode::UntrustedIssuer,
                    "this registry trusts no OpenID Connect issuer; use a registry API token",
                ));
            }
            return self.oidc_caller(token).await.map(Some);
        }
        Err(ApiError::unauthorized(
            ProblemCode::InvalidToken,
            format!(
                "the bearer token is neither a registry API token (`{TOKEN_PREFIX}…`) nor a JWT"
            ),
        ))
    }
}

async fn api_token_caller(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let secret = SecretString::from(token.to_owned());
    let Some(row) = tokens::find(&state.pool, &secret).await? else {
        return Err(ApiError::unauthorized(
            ProblemCode::InvalidToken,
            "the API token is not known to this registry",
        ));
    };
    if row.revoked_at.is_some() {
        return Err(ApiError::unauthorized(
            ProblemCode::RevokedToken,
            format!("the API token `{}` has been revoked", row.name),
        ));
    }
    if row.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Err(ApiError::unauthorized(
            ProblemCode::ExpiredToken,
            format!("the API token `{}` has expired", row.name),
        ));
    }
    let role = row.role;
    tokens::touch(&state.pool, row.id).await?;
    let kind = match row.kind {
        tokens::TokenKind::TrustedPublishing => CallerKind::TrustedPublishing,
        tokens::TokenKind::Api => CallerKind::ApiToken,
    };
    let mut roles = BTreeSet::new();
    if role != Role::Publisher {
        roles.insert(role);
    }
    Ok(Caller {
        subject: format!("token:{}", row.name),
        kind,
        roles,
        namespaces: row.namespaces.iter().cloned().collect(),
        server: row.server_name.clone(),
        groups: Vec::new(),
        expires_at: row.expires_at,
    })
}

/// The shared authenticator.
pub type SharedAuthenticator = Arc<Authenticator>;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state.auth.authenticate(state, parts).await?.ok_or_else(|| {
            ApiError::unauthorized(
                ProblemCode::MissingCredentials,
                "this endpoint needs credentials: send `Authorization: Bearer <token>` (a registry API token or an access token from the company's identity provider)",
            )
        })
    }
}

/// Whoever the credentials name, if any were sent, whatever the registry's anonymous-read
/// setting: for resources with an access rule of their own (allowlists). Bad credentials are
/// refused.
pub struct Credentials(pub Option<Caller>);

impl FromRequestParts<AppState> for Credentials {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Credentials(state.auth.authenticate(state, parts).await?))
    }
}

/// Read access: anyone when the registry allows anonymous reads, otherwise any caller with a
/// role. Bad credentials are refused even where none are needed: a client should learn that its
/// token is wrong rather than silently read as anonymous.
pub struct Reader(pub Option<Caller>);

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match state.auth.authenticate(state, parts).await? {
            Some(caller) => {
                if !state.auth.config.anonymous_reads {
                    caller.require(Permission::Read)?;
                }
                Ok(Reader(Some(caller)))
            }
            None if state.auth.config.anonymous_reads => Ok(Reader(None)),
            None => Err(ApiError::unauthorized(
                ProblemCode::MissingCredentials,
                "this registry is not readable anonymously: send `Authorization: Bearer <token>`",
            )),
        }
    }
}
