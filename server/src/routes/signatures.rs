//! A version's supply chain: the digests and signatures the registry recorded, and signatures
//! attached after publishing.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::trust::{NewSignature, SignatureInfo, VersionTrust};
use serde_json::Value;

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, VersionPath};
use crate::signatures;

/// What the registry recorded about a version's supply chain.
///
/// The server.json digest (SHA-256 of its RFC 8785 canonical form), each package's artifact
/// digest (absent: unpinned), and every signature verified on arrival — the identity it proved,
/// its OIDC issuer and CI claims (or its key), the verified signing time, its transparency log
/// entries, and the bundle itself, so that a client can verify it again offline
/// (`mcpreg verify`). `latest` names the latest version.
#[utoipa::path(
    get,
    path = "/servers/{serverName}/versions/{version}/trust",
    operation_id = "get_version_trust",
    tag = super::TAG_TRUST,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "A version, or `latest`"),
    ),
    responses(
        (status = 200, body = VersionTrust),
        (status = 400, description = "Invalid server name"),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad"),
        (status = 404, description = "No such server or version"),
    )
)]
pub async fn get_trust(
    State(state): State<AppState>,
    _reader: Reader,
    VersionPath { name, version }: VersionPath,
) -> ApiResult<Json<VersionTrust>> {
    Ok(Json(
        signatures::version_trust(&state.trust(), &name, &version).await?,
    ))
}

/// Attach a signature to a published version.
///
/// The bundle is verified like one sent with the publish — against the trust root and the trusted
/// signers of the namespace or server, over the digest `for` names — and stored with the identity
/// it proved. Signatures are append-only: the same document twice is a 409.
#[utoipa::path(
    post,
    path = "/servers/{serverName}/versions/{version}/signatures",
    operation_id = "attach_signature",
    tag = super::TAG_TRUST,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "The exact version"),
    ),
    request_body = NewSignature,
    security(("apiToken" = [])),
    responses(
        (status = 201, description = "Verified and stored", body = SignatureInfo),
        (status = 400, description = "Malformed request"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Not a publisher of the namespace"),
        (status = 404, description = "No such server or version"),
        (status = 409, description = "This signature is already stored"),
        (status = 422, description = "The signature was refused; `code` names the failed check (`identity_mismatch`, `artifact_digest_mismatch`, `no_trusted_signers`, …)"),
    )
)]
pub async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    VersionPath { name, version }: VersionPath,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<SignatureInfo>)> {
    caller.require(Permission::Publish(&name))?;
    let mut issues = Vec::new();
    let signature = NewSignature::from_json(body, "", &mut issues).ok_or_else(|| {
        ApiError::unprocessable(
            ProblemCode::InvalidSignatureRequest,
            "the request must be {\"bundle\": {…}, \"for\": \"server.json\" | \"package:<index>\"}; each problem is listed in `errors`",
            issues,
        )
    })?;
    let info =
        signatures::attach(&state.trust(), &caller.actor(), &name, &version, signature).await?;
    state.committed().await;
    Ok((StatusCode::CREATED, Json(info)))
}
