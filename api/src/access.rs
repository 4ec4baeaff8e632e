//! Bodies of the identity and access API: who am I, API tokens, trusted publishers, the CI token
//! exchange, sign-in configuration and the audit trail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::NamespaceName;
use crate::admin::Role;

/// Who is calling, as the registry sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Caller {
    /// `token:<name>` or `oidc:<sub>@<issuer host>`: recorded as the actor of every change.
    pub subject: String,
    /// `api_token`, `trusted_publishing` or `oidc`.
    pub kind: String,
    /// Roles without scope.
    pub roles: Vec<Role>,
    /// Namespaces the caller may publish to.
    pub namespaces: Vec<String>,
    /// When set, the only server the caller may publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The identity provider's groups the roles came from.
    #[serde(default)]
    pub groups: Vec<String>,
    /// When the credential expires.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A request for a new API token.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewToken {
    /// A name, unique among live tokens: 1–64 ASCII letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// For `publisher`: the namespaces it may publish to (at least one).
    #[serde(default)]
    pub namespaces: Vec<NamespaceName>,
    /// Expire after this many days (1–3650); never when absent.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// For publishers: the namespaces.
    pub namespaces: Vec<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub created_by: String,
    /// When it stops working, if ever.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just made: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    /// The secret. Store it now; the registry keeps only its hash.
    pub token: String,
    /// What it is.
    pub info: TokenInfo,
}

/// All live and past API tokens.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenList {
    /// The tokens, newest first.
    pub tokens: Vec<TokenInfo>,
}

/// A CI workflow allowed to publish a namespace (or one server of it) without a stored secret.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustedPublisher {
    /// Its id.
    pub id: i64,
    /// The namespace.
    pub namespace: String,
    /// When set, the only server it may publish.
    #[serde(default)]
    pub server: Option<String>,
    /// The CI's OIDC issuer, e.g. `https://token.actions.githubusercontent.com`.
    pub issuer: String,
    /// `owner/name` of the repository.
    pub repository: String,
    /// Numeric id of the repository owner (survives renames).
    pub repository_owner_id: String,
    /// Workflow file name, e.g. `release.yml`.
    pub workflow: String,
    /// When set, the deployment environment the job must run in.
    #[serde(default)]
    pub environment: Option<String>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Who added it.
    pub created_by: String,
}

/// A request to trust a CI workflow.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTrustedPublisher {
    /// When set, the only server of the namespace it may publish.
    #[serde(default)]
    pub server: Option<String>,
    /// The CI's OIDC issuer; must be one the registry is configured to trust.
    pub issuer: String,
    /// `owner/name` of the repository.
    pub repository: String,
    /// Numeric id of the repository owner.
    pub repository_owner_id: String,
    /// Workflow file name, e.g. `release.yml`.
    pub workflow: String,
    /// Deployment environment the job must run in.
    #[serde(default)]
    pub environment: Option<String>,
}

/// The trusted publishers of a namespace.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustedPublisherList {
    /// The trusted publishers.
    pub trusted_publishers: Vec<TrustedPublisher>,
}

/// CI's request to exchange its OIDC token for a short-lived publish token.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenExchange {
    /// The CI's OIDC token (a JWT), requested for the registry's audience.
    pub token: String,
    /// The server the pipeline will publish.
    pub server: String,
}

/// The short-lived token given in exchange.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExchangedToken {
    /// A registry token that may publish `server` only.
    pub token: String,
    /// The server it may publish.
    pub server: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// How to sign in: what `mcpreg login` and CI need to know.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSettings {
    /// Whether the catalog is readable without credentials.
    pub anonymous_reads: bool,
    /// The issuer `mcpreg login` signs in with.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The CLI's public OAuth client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Scopes the CLI asks for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The `resource` (RFC 8707) the CLI asks tokens for, if the IdP needs one.
    #[serde(default)]
    pub resource: Option<String>,
    /// CI issuers trusted for trusted publishing, with the audience to request.
    #[serde(default)]
    pub trusted_publishing: Vec<CiIssuer>,
}

/// A CI issuer and the audience its tokens must carry.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CiIssuer {
    /// The issuer URL.
    pub issuer: String,
    /// The audience.
    pub audience: String,
}

/// OAuth 2.0 Protected Resource Metadata (RFC 9728).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProtectedResourceMetadata {
    /// This registry's resource identifier (its base URL).
    pub resource: String,
    /// Issuers whose tokens it accepts.
    pub authorization_servers: Vec<String>,
    /// Always `["header"]`.
    pub bearer_methods_supported: Vec<String>,
    /// Human-readable name.
    pub resource_name: String,
}

/// One audit event.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Its position in the trail.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What, e.g. `version.publish`.
    pub action: String,
    /// On what, e.g. `com.acme/github@1.0.0`.
    pub subject: String,
    /// Details.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Position in the hash chain (absent for events recorded before the chain existed, and for
    /// an event committed while the trail was being read, until the chainer links it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// The hash of the event before it in the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
    /// This event's hash: `sha256:` over the canonical JSON of `{seq, atMicros, actor, action,
    /// subject, details, prevHash}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// A page of the audit trail, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// The events.
    pub events: Vec<AuditEvent>,
    /// Pass as `before` for older events.
    #[serde(default)]
    pub next_before: Option<i64>,
}
