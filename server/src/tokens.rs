//! Registry API tokens: their names and the one way they are made.

use mcpreg_api::problem::ProblemCode;
use std::fmt;

use chrono::{DateTime, Utc};
use mcpreg_api::admin::Role;
use mcpreg_api::{FieldIssue, ServerName};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::db::tokens::{self, TokenRow};
use crate::db::{audit, namespaces, trusted_publishers};
use crate::error::{ApiError, ApiResult};

/// A token name: 1–64 ASCII letters, digits, `-`, `_`, `.`. Parsed once, where it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    /// Parses a token name, saying what is wrong with it.
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.is_empty() || name.len() > 64 {
            return Err("a token name is 1 to 64 characters".into());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(
                "a token name may hold only ASCII letters, digits, `-`, `_` and `.`".into(),
            );
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registry API token to make, as asked for (over the API or on the command line).
pub struct NewApiToken<'a> {
    /// Its name.
    pub name: &'a TokenName,
    /// Its role.
    pub role: Role,
    /// For a publisher: the namespaces it may publish to.
    pub namespaces: &'a [String],
    /// Expire after this many days (1–3650; `None`: never).
    pub expires_in_days: Option<u32>,
}

/// What to do about a namespace a new publisher token names that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingNamespaces {
    /// Answer 404 (`namespace_not_found`): the API, where an admin creates namespaces first.
    Refuse,
    /// Create it, with its own `namespace.create` event: `mcpreg-server token create`, which
    /// bootstraps an empty registry from the host before any admin token exists.
    Create,
}

/// The problems with a token's scope and lifetime, each named by its field.
pub fn scope_issues(
    role: Role,
    namespaces: &[String],
    expires_in_days: Option<u32>,
) -> Vec<FieldIssue> {
    let mut problems = Vec::new();
    match (role, namespaces.is_empty()) {
        (Role::Publisher, true) => problems.push(FieldIssue::new(
            "namespaces",
            "a publisher token needs at least one namespace",
            "parameter",
        )),
        (Role::Publisher, false) => {}
        (_, false) => problems.push(FieldIssue::new(
            "namespaces",
            "namespaces scope only publisher tokens",
            "parameter",
        )),
        (_, true) => {}
    }
    if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        problems.push(FieldIssue::new(
            "expiresInDays",
            "1 to 3650 days",
            "parameter",
        ));
    }
    problems
}

/// The answer to a token request with these problems.
pub fn invalid_request(problems: Vec<FieldIssue>) -> ApiError {
    ApiError::invalid_parameters("invalid token request", problems)
}

/// Makes a registry API token and records `token.create`, in one transaction. Returns the secret
/// (shown once, stored only as a hash) and the stored token.
pub async fn create(
    pool: &PgPool,
    actor: &str,
    new: &NewApiToken<'_>,
    missing: MissingNamespaces,
) -> ApiResult<(SecretString, TokenRow)> {
    let problems = scope_issues(new.role, new.namespaces, new.expires_in_days);
    if !problems.is_empty() {
        return Err(invalid_request(problems));
    }
    let mut tx = pool.begin().await?;
    for ns in new.namespaces {
        if namespaces::get(&mut *tx, ns).await?.is_some() {
            continue;
        }
        match missing {
            MissingNamespaces::Refuse => {
                return Err(ApiError::not_found(
                    ProblemCode::NamespaceNotFound,
                    format!("no namespace `{ns}`"),
                ));
            }
            MissingNamespaces::Create => {
                crate::namespaces::insert_audited(&mut tx, actor, ns, None).await?;
            }
        }
    }
    let secret = tokens::generate();
    let expires_at = new
        .expires_in_days
        .map(|d| Utc::now() + chrono::Duration::days(i64::from(d)));
    let row = tokens::insert(
        &mut *tx,
        &tokens::NewToken {
            name: new.name.as_str(),
            role: new.role,
            namespaces: new.namespaces,
            server_name: None,
            kind: tokens::TokenKind::Api,
            expires_at,
            created_by: actor,
        },
        &secret,
    )
    .await?
    .ok_or_else(|| {
        ApiError::conflict(
            ProblemCode::TokenExists,
            format!(
                "a live token named `{}` exists; revoke it first or choose another name",
                new.name
            ),
        )
    })?;
    audit::record(
        &mut tx,
        actor,
        "token.create",
        &row.name,
        json!({"role": row.role, "namespaces": row.namespaces, "expiresAt": row.expires_at}),
    )
    .await?;
    tx.commit().await?;
    Ok((secret, row))
}

/// Revokes the live API token with this name and records `token.revoke`; 404 when there is
/// none.
pub async fn revoke(pool: &PgPool, actor: &str, name: &str) -> ApiResult<()> {
    let mut tx = pool.begin().await?;
    if !tokens::revoke(&mut *tx, name).await? {
        return Err(ApiError::not_found(
            ProblemCode::TokenNotFound,
            format!(
                "no live token named `{}`",
                name.chars().take(64).collect::<String>()
            ),
        ));
    }
    audit::record(&mut tx, actor, "token.revoke", name, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// A CI token exchanged for a short-lived publisher token (trusted publishing).
pub struct CiExchange<'a> {
    /// The CI token's issuer.
    pub issuer: &'a str,
    /// Its `jti`, which works once.
    pub jti: &'a str,
    /// When it expires (how long its `jti` is remembered).
    pub exp: DateTime<Utc>,
    /// The server the new token may publish.
    pub server: &'a ServerName,
    /// The name of the new token.
    pub name: &'a str,
    /// When the new token expires.
    pub expires_at: DateTime<Utc>,
    /// The CI workflow, as the audit actor.
    pub actor: &'a str,
    /// The `trusted_publishing.exchange` event's details.
    pub details: Value,
}

/// Spends a CI token's `jti` (401 `token_replayed` the second time), makes the publisher token
/// and records `trusted_publishing.exchange`, in one transaction. Returns the secret.
pub async fn exchange(pool: &PgPool, ex: CiExchange<'_>) -> ApiResult<SecretString> {
    let mut tx = pool.begin().await?;
    if !trusted_publishers::use_token_id(&mut *tx, ex.issuer, ex.jti, ex.exp).await? {
        return Err(ApiError::unauthorized(
            ProblemCode::TokenReplayed,
            "this CI token was exchanged before; each token works once",
        ));
    }
    let secret = tokens::generate();
    tokens::insert(
        &mut *tx,
        &tokens::NewToken {
            name: ex.name,
            role: Role::Publisher,
            namespaces: &[ex.server.namespace().to_string()],
            server_name: Some(ex.server.as_str()),
            kind: tokens::TokenKind::TrustedPublishing,
            expires_at: Some(ex.expires_at),
            created_by: ex.actor,
        },
        &secret,
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("random token name {} collided", ex.name))?;
    audit::record(
        &mut tx,
        ex.actor,
        "trusted_publishing.exchange",
        ex.server.as_str(),
        ex.details,
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}
