//! Who is calling: registry API tokens from the `Authorization: Bearer` header.
//!
//! A handler that needs a caller takes [`Caller`] as an argument and states the permission it
//! needs in one line (`caller.require(Role::Admin)?`). No write is ever anonymous.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;
use mcpreg_api::admin::Role;
use secrecy::SecretString;

use crate::app::AppState;
use crate::db::tokens::{self, TOKEN_PREFIX};
use crate::error::ApiError;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name; recorded as the actor of everything the caller does.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When its credential expires.
    pub expires_at: Option<chrono::DateTime<Utc>>,
}

impl Caller {
    /// The name recorded in the audit trail: `token:<name>`.
    pub fn actor(&self) -> String {
        format!("token:{}", self.name)
    }

    /// Fails with 403 unless the caller holds `role` (admins hold every role).
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role == role || self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the `{role}` role; the token `{}` has `{}`",
                self.name, self.role
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "missing_credentials",
                "this endpoint needs a registry API token: send `Authorization: Bearer <token>`",
            ));
        };
        let header = header.to_str().map_err(|_| {
            ApiError::unauthorized(
                "malformed_credentials",
                "the Authorization header is not visible ASCII",
            )
        })?;
        let Some((scheme, token)) = header.split_once(' ') else {
            return Err(ApiError::unauthorized(
                "malformed_credentials",
                "the Authorization header must be `Bearer <token>`",
            ));
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::unauthorized(
                "malformed_credentials",
                format!(
                    "unsupported authorization scheme `{}`; use `Bearer`",
                    scheme.chars().take(20).collect::<String>()
                ),
            ));
        }
        let token = token.trim();
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(ApiError::unauthorized(
                "invalid_token",
                format!(
                    "the bearer token is not an mcpreg API token (they start with `{TOKEN_PREFIX}`)"
                ),
            ));
        }
        let secret = SecretString::from(token.to_owned());
        let Some(row) = tokens::find(&state.pool, &secret).await? else {
            return Err(ApiError::unauthorized(
                "invalid_token",
                "the API token is not known to this registry",
            ));
        };
        if row.revoked_at.is_some() {
            return Err(ApiError::unauthorized(
                "revoked_token",
                format!("the API token `{}` has been revoked", row.name),
            ));
        }
        if row.expires_at.is_some_and(|t| t <= Utc::now()) {
            return Err(ApiError::unauthorized(
                "expired_token",
                format!("the API token `{}` has expired", row.name),
            ));
        }
        let role = row
            .role()
            .ok_or_else(|| anyhow::anyhow!("token {} has an unknown role {}", row.id, row.role))?;
        tokens::touch(&state.pool, row.id).await?;
        Ok(Caller {
            name: row.name,
            role,
            expires_at: row.expires_at,
        })
    }
}
