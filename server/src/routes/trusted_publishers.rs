//! Trusted publishers: CI workflows that may publish a namespace without a stored secret.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use mcpreg_api::FieldIssue;
use mcpreg_api::access::{NewTrustedPublisher, TrustedPublisher, TrustedPublisherList};
use serde_json::json;

use crate::app::AppState;
use crate::auth::oidc::issuer_string;
use crate::auth::{Caller, Permission};
use crate::db::trusted_publishers;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::trusted::{self, Trusted};

/// List a namespace's trusted publishers.
#[utoipa::path(
    get,
    path = "/namespaces/{name}/trusted-publishers",
    operation_id = "list_trusted_publishers",
    tag = super::TAG_ADMIN,
    params(("name" = String, Path, description = "The namespace")),
    security(("apiToken" = [])),
    responses(
        (status = 200, body = TrustedPublisherList),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such namespace"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
) -> ApiResult<Json<TrustedPublisherList>> {
    caller.require(Permission::Admin)?;
    crate::namespaces::require_existing(&state.pool, &namespace).await?;
    Ok(Json(TrustedPublisherList {
        trusted_publishers: trusted_publishers::list(&state.pool, &namespace).await?,
    }))
}

/// Trust a CI workflow to publish this namespace (or one server of it).
#[utoipa::path(
    post,
    path = "/namespaces/{name}/trusted-publishers",
    operation_id = "create_trusted_publisher",
    tag = super::TAG_ADMIN,
    params(("name" = String, Path, description = "The namespace")),
    request_body = NewTrustedPublisher,
    security(("apiToken" = [])),
    responses(
        (status = 201, body = TrustedPublisher),
        (status = 400, description = "Invalid request"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such namespace"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
    JsonBody(new): JsonBody<NewTrustedPublisher>,
) -> ApiResult<(StatusCode, Json<TrustedPublisher>)> {
    caller.require(Permission::Admin)?;
    crate::namespaces::require_existing(&state.pool, &namespace).await?;
    let mut problems: Vec<FieldIssue> = trusted::server_issue(&namespace, new.server.as_deref())
        .into_iter()
        .collect();
    let trusted: Vec<String> = state
        .auth
        .config
        .trusted_publishing
        .issuers
        .iter()
        .map(|i| issuer_string(&i.issuer))
        .collect();
    if !trusted.contains(&new.issuer) {
        problems.push(FieldIssue::new(
            "issuer",
            format!(
                "`{}` is not a CI issuer this registry trusts (configured: {})",
                new.issuer,
                if trusted.is_empty() {
                    "none".to_owned()
                } else {
                    trusted.join(", ")
                }
            ),
            "parameter",
        ));
    }
    let repo_ok = new.repository.split_once('/').is_some_and(|(owner, name)| {
        let part = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        part(owner) && part(name)
    });
    if !repo_ok {
        problems.push(FieldIssue::new(
            "repository",
            "expected `owner/name`",
            "parameter",
        ));
    }
    if new.repository_owner_id.is_empty()
        || !new.repository_owner_id.chars().all(|c| c.is_ascii_digit())
    {
        problems.push(FieldIssue::new(
            "repositoryOwnerId",
            "expected the numeric id of the owner",
            "parameter",
        ));
    }
    if new.workflow.is_empty()
        || new.workflow.contains('/')
        || !(new.workflow.ends_with(".yml") || new.workflow.ends_with(".yaml"))
    {
        problems.push(FieldIssue::new(
            "workflow",
            "expected a workflow file name such as `release.yml`",
            "parameter",
        ));
    }
    if new.environment.as_deref().is_some_and(str::is_empty) {
        problems.push(FieldIssue::new(
            "environment",
            "omit it rather than leaving it empty",
            "parameter",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_parameters(
            "invalid trusted publisher",
            problems,
        ));
    }
    let actor = caller.actor();
    let created = trusted::add(
        &state.pool,
        Trusted::Publisher,
        &actor,
        &namespace,
        async |conn| {
            Ok(trusted_publishers::insert(
                conn,
                &trusted_publishers::NewPublisher {
                    namespace: &namespace,
                    server: new.server.as_deref(),
                    issuer: &new.issuer,
                    repository: &new.repository,
                    repository_owner_id: &new.repository_owner_id,
                    workflow: &new.workflow,
                    environment: new.environment.as_deref(),
                    created_by: &actor,
                },
            )
            .await?)
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Stop trusting a CI workflow.
#[utoipa::path(
    delete,
    path = "/namespaces/{name}/trusted-publishers/{id}",
    operation_id = "delete_trusted_publisher",
    tag = super::TAG_ADMIN,
    params(("name" = String, Path, description = "The namespace"), ("id" = i64, Path, description = "The trusted publisher's id")),
    security(("apiToken" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such trusted publisher"),
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
        Trusted::Publisher,
        &caller.actor(),
        &namespace,
        id,
        async |conn| {
            let removed = trusted_publishers::delete(conn, &namespace, id).await?;
            Ok(removed.then(|| json!({"id": id})))
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
