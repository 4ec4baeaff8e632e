//! Registry API tokens for robot accounts: made, listed and revoked by admins.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use mcpreg_api::FieldIssue;
use mcpreg_api::access::{CreatedToken, NewToken, TokenInfo, TokenList};
use mcpreg_api::admin::Role;
use mcpreg_api::problem::ProblemCode;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::app::AppState;
use crate::auth::{Caller, Permission};
use crate::db::tokens::{self, TokenRow};
use crate::db::{audit, namespaces};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;

/// Checks a token name: 1–64 ASCII letters, digits, `-`, `_`, `.`.
pub fn check_token_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a token name is 1 to 64 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("a token name may hold only ASCII letters, digits, `-`, `_` and `.`".into());
    }
    Ok(())
}

/// The listed form of a stored token.
pub fn info(row: TokenRow) -> TokenInfo {
    TokenInfo {
        role: row.role().unwrap_or(Role::Reader),
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
    let mut problems = Vec::new();
    if let Err(e) = check_token_name(&new.name) {
        problems.push(FieldIssue::new("name", e, "parameter"));
    }
    match (new.role, new.namespaces.is_empty()) {
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
    if new
        .expires_in_days
        .is_some_and(|d| !(1..=3650).contains(&d))
    {
        problems.push(FieldIssue::new(
            "expiresInDays",
            "1 to 3650 days",
            "parameter",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_parameters(
            "invalid token request",
            problems,
        ));
    }
    let namespace_names: Vec<String> = new.namespaces.iter().map(|n| n.to_string()).collect();
    let mut tx = state.pool.begin().await?;
    for ns in &namespace_names {
        if namespaces::get(&mut *tx, ns).await?.is_none() {
            return Err(ApiError::not_found(
                ProblemCode::NamespaceNotFound,
                format!("no namespace `{ns}`"),
            ));
        }
    }
    let secret = tokens::generate();
    let expires_at = new
        .expires_in_days
        .map(|d| Utc::now() + chrono::Duration::days(i64::from(d)));
    let actor = caller.actor();
    let row = tokens::insert(
        &mut *tx,
        &tokens::NewToken {
            name: &new.name,
            role: new.role,
            namespaces: &namespace_names,
            server_name: None,
            kind: "api",
            expires_at,
            created_by: &actor,
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
        &actor,
        "token.create",
        &row.name,
        json!({"role": row.role, "namespaces": row.namespaces, "expiresAt": row.expires_at}),
    )
    .await?;
    tx.commit().await?;
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
    let mut tx = state.pool.begin().await?;
    if !tokens::revoke(&mut *tx, &name).await? {
        return Err(ApiError::not_found(
            ProblemCode::TokenNotFound,
            format!(
                "no live token named `{}`",
                name.chars().take(64).collect::<String>()
            ),
        ));
    }
    audit::record(&mut tx, &caller.actor(), "token.revoke", &name, json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
