//! Registry API tokens for robot accounts: made, listed and revoked by admins.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mcpreg_api::FieldIssue;
use mcpreg_api::access::{CreatedToken, NewToken, TokenInfo, TokenList};
use secrecy::ExposeSecret;

use crate::app::AppState;
use crate::auth::{Caller, Permission};
use crate::db::tokens::{self, TokenRow};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::tokens::{TokenName, invalid_request, scope_issues};

/// The listed form of a stored token.
pub fn info(row: TokenRow) -> TokenInfo {
    TokenInfo {
        role: row.role,
        name: row.name,
        namespaces: row.namespaces,
        created_at: row.created_at,
        created_by: row.created_by,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
    }
}

/// List API tokens (never their secrets).
#[utoipa::path(
    get,
    path = "/tokens",
    operation_id = "list_tokens",
    tag = super::TAG_ADMIN,
    security(("apiToken" = [])),
    responses(
        (status = 200, body = TokenList),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not an admin"),
    )
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TokenList>> {
    caller.require(Permission::Admin)?;
    let rows = tokens::list(&state.pool).await?;
    Ok(Json(TokenList {
        tokens: rows.into_iter().map(info).collect(),
    }))
}

/// Create an API token. Its secret is in the answer, and nowhere else, ever.
#[utoipa::path(
    post,
    path = "/tokens",
    operation_id = "create_token",
    tag = super::TAG_ADMIN,
    request_body = NewToken,
    security(("apiToken" = [])),
    responses(
        (status = 201, body = CreatedToken),
        (status = 400, description = "Invalid request"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not an admin"),
        (status = 409, description = "A live token has that name"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(new): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    caller.require(Permission::Admin)?;
    let namespaces: Vec<String> = new.namespaces.iter().map(|n| n.to_string()).collect();
    let name = TokenName::parse(&new.name).map_err(|e| {
        // One answer names every problem of the request, the name's first.
        let mut problems = vec![FieldIssue::new("name", e, "parameter")];
        problems.extend(scope_issues(new.role, &namespaces, new.expires_in_days));
        invalid_request(problems)
    })?;
    let (secret, row) = crate::tokens::create(
        &state.pool,
        &caller.actor(),
        &crate::tokens::NewApiToken {
            name: &name,
            role: new.role,
            namespaces: &namespaces,
            expires_in_days: new.expires_in_days,
        },
        crate::tokens::MissingNamespaces::Refuse,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: secret.expose_secret().to_owned(),
            info: info(row),
        }),
    ))
}

/// Revoke the live API token with this name.
#[utoipa::path(
    delete,
    path = "/tokens/{name}",
    operation_id = "revoke_token",
    tag = super::TAG_ADMIN,
    params(("name" = String, Path, description = "The token's name")),
    security(("apiToken" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No live token with that name"),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::Admin)?;
    crate::tokens::revoke(&state.pool, &caller.actor(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
