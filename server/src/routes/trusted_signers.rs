//! Trusted signers: whose signatures a namespace (or one server of it) accepts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mcpreg_api::FieldIssue;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::trust::{NewTrustedSigner, TrustedSigner, TrustedSignerList};
use mcpreg_trust::{PublicKey, SignerIdentity};
use serde_json::json;

use crate::app::AppState;
use crate::auth::{Caller, Permission};
use crate::db::is_unique_violation;
use crate::db::trusted_signers::{self, NewSigner};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::trusted::{self, Trusted};

/// List a namespace's trusted signers.
#[utoipa::path(
    get,
    path = "/namespaces/{name}/trusted-signers",
    operation_id = "list_trusted_signers",
    tag = super::TAG_TRUST,
    params(("name" = String, Path, description = "The namespace")),
    security(("apiToken" = [])),
    responses(
        (status = 200, body = TrustedSignerList),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such namespace"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
) -> ApiResult<Json<TrustedSignerList>> {
    caller.require(Permission::Admin)?;
    crate::namespaces::require_existing(&state.pool, &namespace).await?;
    Ok(Json(TrustedSignerList {
        trusted_signers: trusted_signers::list(&state.pool, &namespace).await?,
    }))
}

/// Trust a signer for this namespace (or one server of it).
///
/// Either a keyless signer — `identity` (the exact certificate SAN) or `identityPattern` (an
/// anchored regular expression, `^…$`), with the OIDC `issuer` that must have vouched for it — or
/// a `publicKey` (PEM, ECDSA P-256 or Ed25519). Signatures by anyone else are refused.
#[utoipa::path(
    post,
    path = "/namespaces/{name}/trusted-signers",
    operation_id = "create_trusted_signer",
    tag = super::TAG_TRUST,
    params(("name" = String, Path, description = "The namespace")),
    request_body = NewTrustedSigner,
    security(("apiToken" = [])),
    responses(
        (status = 201, body = TrustedSigner),
        (status = 400, description = "Invalid request; `errors` names each field"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such namespace"),
        (status = 409, description = "The same signer is already trusted here"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
    JsonBody(new): JsonBody<NewTrustedSigner>,
) -> ApiResult<(StatusCode, Json<TrustedSigner>)> {
    caller.require(Permission::Admin)?;
    crate::namespaces::require_existing(&state.pool, &namespace).await?;
    let checked = check(&namespace, &new)?;
    let signer = match &checked {
        Checked::Identity => NewSigner::Identity {
            identity: new.identity.as_deref(),
            pattern: new.identity_pattern.as_deref(),
            issuer: new.issuer.as_deref().unwrap_or_default(),
        },
        Checked::Key { pem, key_id, kind } => NewSigner::Key {
            pem,
            key_id,
            algorithm: kind,
        },
    };
    let actor = caller.actor();
    let created = trusted::add(
        &state.pool,
        Trusted::Signer,
        &actor,
        &namespace,
        async |conn| {
            trusted_signers::insert(conn, &namespace, new.server.as_deref(), &signer, &actor)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e, trusted_signers::UNIQUE_INDEX) {
                        ApiError::conflict(
                            ProblemCode::TrustedSignerExists,
                            "this signer is already trusted for this namespace or server",
                        )
                    } else {
                        e.into()
                    }
                })
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

enum Checked {
    Identity,
    Key {
        pem: String,
        key_id: String,
        kind: String,
    },
}

/// Validates a new trusted signer, naming every field that is wrong.
fn check(namespace: &str, new: &NewTrustedSigner) -> ApiResult<Checked> {
    let mut problems: Vec<FieldIssue> = trusted::server_issue(namespace, new.server.as_deref())
        .into_iter()
        .collect();
    let issue = |field: &str, message: String| FieldIssue::new(field, message, "parameter");
    let given = [
        new.identity.is_some(),
        new.identity_pattern.is_some(),
        new.public_key.is_some(),
    ];
    let mut checked = None;
    match given {
        [false, false, false] => problems.push(issue(
            "identity",
            "give `identity` or `identityPattern` (with `issuer`), or `publicKey`".into(),
        )),
        [true, _, true] | [_, true, true] => problems.push(issue(
            "publicKey",
            "a trusted signer is an identity or a key, not both".into(),
        )),
        [true, true, false] => problems.push(issue(
            "identityPattern",
            "give `identity` (exact) or `identityPattern`, not both".into(),
        )),
        [false, false, true] => {
            if new.issuer.is_some() {
                problems.push(issue(
                    "issuer",
                    "an issuer applies to an identity, not to a key".into(),
                ));
            }
            match PublicKey::from_pem(new.public_key.as_deref().unwrap_or_default()) {
                Ok(key) => {
                    checked = Some(Checked::Key {
                        pem: key.to_pem(),
                        key_id: key.key_id(),
                        kind: key.kind().to_string(),
                    });
                }
                Err(e) => problems.push(issue("publicKey", e.to_string())),
            }
        }
        [_, _, false] => {
            let issuer = new.issuer.as_deref().unwrap_or_default();
            match url::Url::parse(issuer) {
                _ if issuer.is_empty() => problems.push(issue(
                    "issuer",
                    "required with an identity: the OIDC issuer URL, e.g. `https://token.actions.githubusercontent.com`".into(),
                )),
                Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => {}
                _ => problems.push(issue(
                    "issuer",
                    format!("`{issuer}` is not an http(s) URL"),
                )),
            }
            let identity = match (&new.identity, &new.identity_pattern) {
                (Some(identity), _) => {
                    SignerIdentity::exact(identity.as_str(), issuer).map_err(|e| ("identity", e))
                }
                (None, pattern) => {
                    SignerIdentity::pattern(pattern.as_deref().unwrap_or_default(), issuer)
                        .map_err(|e| ("identityPattern", e))
                }
            };
            match identity {
                Ok(_) => checked = Some(Checked::Identity),
                // An empty issuer is reported above, once.
                Err((_, mcpreg_trust::SignerPolicyError::Empty { field: "issuer" })) => {}
                Err((field, e)) => problems.push(issue(field, e.to_string())),
            }
        }
    }
    match checked {
        Some(c) if problems.is_empty() => Ok(c),
        _ => Err(ApiError::invalid_parameters(
            "invalid trusted signer",
            problems,
        )),
    }
}

/// Stop trusting a signer. Signatures it made stay stored (they verified when they arrived).
#[utoipa::path(
    delete,
    path = "/namespaces/{name}/trusted-signers/{id}",
    operation_id = "delete_trusted_signer",
    tag = super::TAG_TRUST,
    params(("name" = String, Path, description = "The namespace"), ("id" = i64, Path, description = "The trusted signer's id")),
    security(("apiToken" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such trusted signer"),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::Admin)?;
    trusted::remove(
        &state.pool,
        Trusted::Signer,
        &caller.actor(),
        &namespace,
        id,
        async |conn| {
            let removed = trusted_signers::delete(conn, &namespace, id).await?;
            Ok(removed.map(|r| serde_json::to_value(&r).unwrap_or(json!({"id": id}))))
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
