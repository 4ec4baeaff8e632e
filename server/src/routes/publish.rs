//! Publishing server.json documents.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mcpreg_api::admin::ValidationReport;
use mcpreg_api::problem::{FieldIssue, ProblemCode};
use mcpreg_api::publish::{
    MAX_PUBLISH_BATCH, PublishBatch, PublishBatchItem, PublishBatchResults, PublishOutcome,
};
use mcpreg_api::registry::ServerResponse;
use mcpreg_api::server_json;
use mcpreg_api::trust::PublishRequest;
use serde_json::Value;

use crate::app::AppState;
use crate::auth::{Caller, Permission};
use crate::catalog;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::{signatures, tools};

/// Publish a new version of a server from its server.json.
///
/// The document is validated against the JSON Schema its `$schema` names and the registry's
/// rules; every problem comes back at once with its path. Versions are immutable: publishing an
/// existing version again is a 409.
///
/// The body is a bare server.json, or a `PublishRequest` — `{"server": <server.json>,
/// "signatures": [{"bundle": <sigstore bundle>, "for": "server.json" | "package:<index>"}],
/// "tools": <tool manifest>}` —
/// whose signatures are verified against the trust root and the namespace's trusted signers
/// before anything is stored: one refused signature refuses the publish (422 whose `code` names
/// the failed check, with `errors[].location` = `signatures[i]`). The digests of the packages
/// (`fileSha256`, or `@sha256:` for OCI) are recorded; see `GET …/versions/{version}/trust`. A
/// tool manifest is pinned and scanned by the built-in scanner in the same transaction (problems
/// located under `tools.`); see `GET …/versions/{version}/tools` and `…/scans`.
#[utoipa::path(
    post,
    path = "/publish",
    tag = super::TAG_PUBLISH,
    request_body(content = Object, description = "A server.json document, or a `PublishRequest` (see its schema) carrying the document and signatures", content_type = "application/json"),
    security(("apiToken" = [])),
    responses(
        (status = 201, description = "Published", body = ServerResponse),
        (status = 400, description = "Malformed JSON"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Insufficient role"),
        (status = 409, description = "Version already published, or a name differing only in case exists"),
        (status = 413, description = "Body too large"),
        (status = 415, description = "Body is not JSON"),
        (status = 422, description = "Invalid server.json, a signature refused (`code` names the failed check), or an invalid tool manifest; `errors` lists each problem with its path"),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<ServerResponse>)> {
    let publication = prepare(&state, &caller, body).await?;
    let published = catalog::publish(&state.pool, &caller.actor(), &publication).await?;
    // This replica's readers see the change at once; the others when the notification arrives.
    state.committed().await;
    Ok((StatusCode::CREATED, Json(published)))
}

/// Everything `POST /api/v1/publish` checks of one document before it stores anything: the
/// envelope, the server.json, the caller's right to publish that name, the signatures and the
/// tool manifest. Both publish endpoints go through it.
async fn prepare(
    state: &AppState,
    caller: &Caller,
    body: Value,
) -> ApiResult<catalog::Publication> {
    let body = PublishRequest::from_body(body).map_err(|issues| {
        ApiError::unprocessable(
            ProblemCode::InvalidPublishRequest,
            "the publish request is malformed; each problem is listed in `errors`",
            issues,
        )
    })?;
    let valid = catalog::validate(body.server)?;
    caller.require(Permission::Publish(&valid.name))?;
    let subjects = signatures::subjects_of(&valid.document)?;
    // Verified, parsed and scanned before the transaction: a refusal stores nothing.
    let verified = signatures::verify_all(
        &state.trust(),
        &valid.name,
        &subjects,
        body.signatures,
        |i| format!("signatures[{i}]"),
    )
    .await?;
    let manifest = match body.tools {
        Some(t) => Some(tools::prepare(&state.pool, &valid.name, t, "tools").await?),
        None => None,
    };
    Ok(catalog::Publication {
        valid,
        subjects,
        verified,
        manifest,
    })
}

/// Publish many documents in one request (`mcpreg import` and mirroring use it).
///
/// `documents` holds at most 500 documents, each exactly what `POST /api/v1/publish` accepts (a
/// server.json, or a `PublishRequest`). Each is checked on its own as that endpoint checks it;
/// every accepted one is stored in one transaction, each in its own savepoint, so that a document
/// the database refuses (its version exists, its name differs only in case from another) is
/// refused alone. The answer lists every document's result in request order — `published`,
/// `exists` or `refused` — with the problem document the single endpoint would have answered.
/// The caller needs the right to publish each document's name; a caller who may publish nothing
/// is refused as a whole (403).
#[utoipa::path(
    post,
    path = "/publish/batch",
    tag = super::TAG_PUBLISH,
    request_body = PublishBatch,
    security(("apiToken" = [])),
    responses(
        (status = 200, description = "Each document's result, in request order", body = PublishBatchResults),
        (status = 400, description = "Malformed JSON, or a body that is not `{\"documents\": [...]}`"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "The caller may publish nothing"),
        (status = 413, description = "Body too large, or more than 500 documents"),
        (status = 415, description = "Body is not JSON"),
    )
)]
pub async fn publish_batch(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(batch): JsonBody<PublishBatch>,
) -> ApiResult<Json<PublishBatchResults>> {
    caller.require_some_publish_right()?;
    if batch.documents.len() > MAX_PUBLISH_BATCH {
        return Err(ApiError::payload_too_large(
            format!(
                "a batch holds at most {MAX_PUBLISH_BATCH} documents; this one has {}: send it in smaller batches",
                batch.documents.len()
            ),
            vec![FieldIssue::new(
                "documents",
                format!("at most {MAX_PUBLISH_BATCH} documents"),
                "parameter",
            )],
        ));
    }
    let mut items = Vec::with_capacity(batch.documents.len());
    let mut prepared = Vec::new();
    for (index, document) in batch.documents.into_iter().enumerate() {
        let (name, version) = PublishBatchItem::stated_identity(&document);
        let item = PublishBatchItem {
            index,
            name,
            version,
            result: PublishOutcome::Published,
            problem: None,
        };
        match prepare(&state, &caller, document).await {
            Ok(publication) => {
                prepared.push((index, publication));
                items.push(item);
            }
            Err(refused) => items.push(refused_item(item, refused)?),
        }
    }
    let publications: Vec<&catalog::Publication> = prepared.iter().map(|(_, p)| p).collect();
    let stored = catalog::publish_batch(&state.pool, &caller.actor(), &publications).await?;
    let mut any = false;
    for ((index, _), result) in prepared.iter().zip(stored) {
        if let Err(refused) = result {
            let item = items[*index].clone();
            items[*index] = refused_item(item, refused)?;
        } else {
            any = true;
        }
    }
    if any {
        // This replica's readers see the change at once; the others when the notification arrives.
        state.committed().await;
    }
    let count = |outcome| items.iter().filter(|i| i.result == outcome).count();
    Ok(Json(PublishBatchResults {
        published: count(PublishOutcome::Published),
        exists: count(PublishOutcome::Exists),
        refused: count(PublishOutcome::Refused),
        results: items,
    }))
}

/// A document's refusal as its result; an error that is not the document's (the database
/// failing) fails the whole batch.
fn refused_item(item: PublishBatchItem, error: ApiError) -> ApiResult<PublishBatchItem> {
    match error {
        ApiError::Client(problem, _) => Ok(PublishBatchItem {
            result: if problem.code == ProblemCode::VersionExists.as_str() {
                PublishOutcome::Exists
            } else {
                PublishOutcome::Refused
            },
            problem: Some(*problem),
            ..item
        }),
        other => Err(other),
    }
}

/// Validate a server.json without publishing it.
///
/// Always 200 for a JSON body: the report says whether the document may be published and lists
/// every problem with its path, as the official registry's `/validate` does.
#[utoipa::path(
    post,
    path = "/validate",
    tag = super::TAG_PUBLISH,
    request_body(content = Object, description = "A server.json document", content_type = "application/json"),
    responses(
        (status = 200, description = "The validation report", body = ValidationReport),
        (status = 400, description = "Malformed JSON"),
    )
)]
pub async fn validate(JsonBody(document): JsonBody<Value>) -> Json<ValidationReport> {
    let schema = document
        .get("$schema")
        .and_then(Value::as_str)
        .and_then(server_json::schema_for_url)
        .map(|s| s.url.to_owned());
    Json(match server_json::validate(document) {
        Ok(_) => ValidationReport {
            valid: true,
            schema,
            errors: Vec::new(),
        },
        Err(errors) => ValidationReport {
            valid: false,
            schema,
            errors,
        },
    })
}

/// Publish through the official registry's path, so that its publisher tooling can target
/// mcpreg; the same rules and credentials as `POST /api/v1/publish`.
#[utoipa::path(
    post,
    path = "/publish",
    operation_id = "official_publish",
    tag = super::TAG_OFFICIAL,
    request_body(content = Object, description = "A server.json document", content_type = "application/json"),
    security(("apiToken" = [])),
    responses(
        (status = 201, description = "Published", body = ServerResponse),
        (status = 401, description = "Missing or bad credentials"),
        (status = 422, description = "Invalid server.json"),
    )
)]
pub async fn official_publish(
    state: State<AppState>,
    caller: Caller,
    body: JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<ServerResponse>)> {
    publish(state, caller, body).await
}

/// Validate through the official registry's path; the same as `POST /api/v1/validate`.
#[utoipa::path(
    post,
    path = "/validate",
    operation_id = "official_validate",
    tag = super::TAG_OFFICIAL,
    request_body(content = Object, description = "A server.json document", content_type = "application/json"),
    responses((status = 200, description = "The validation report", body = ValidationReport))
)]
pub async fn official_validate(body: JsonBody<Value>) -> Json<ValidationReport> {
    validate(body).await
}
