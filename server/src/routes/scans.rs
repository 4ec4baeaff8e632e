//! A version's scan reports: the built-in scan of its tool manifest and uploaded reports.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mcpreg_api::scans::{NewScanReport, ScanReportInfo, VersionScans};

use crate::app::AppState;
use crate::auth::{Caller, Permission, Reader};
use crate::error::ApiResult;
use crate::extract::{JsonBody, VersionPath};
use crate::scans;

/// The media type of SARIF logs.
const SARIF_JSON: &str = "application/sarif+json";

/// A version's scan reports and their findings.
///
/// Every report, oldest first — the registry's own scan of the tool manifest (`builtin`) and
/// uploaded ones — with findings normalised to one scale (critical, high, medium, low, info),
/// and the highest severity among the unsuppressed findings of all of them.
#[utoipa::path(
    get,
    path = "/servers/{serverName}/versions/{version}/scans",
    operation_id = "list_version_scans",
    tag = super::TAG_SCANS,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "A version, or `latest`"),
    ),
    responses(
        (status = 200, body = VersionScans),
        (status = 400, description = "Invalid server name"),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad"),
        (status = 404, description = "No such server or version"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    _reader: Reader,
    VersionPath { name, version }: VersionPath,
) -> ApiResult<Json<VersionScans>> {
    Ok(Json(scans::list(&state.pool, &name, &version).await?))
}

/// A version's scan reports as one SARIF 2.1.0 log.
///
/// A run per stored report, findings with `level` from their severity (critical/high → error,
/// medium → warning, low → note, info → none) and mcpreg's exact severity, category and location
/// under `properties.mcpreg` — for GitHub code scanning and other SARIF viewers.
#[utoipa::path(
    get,
    path = "/servers/{serverName}/versions/{version}/scans/sarif",
    operation_id = "export_version_scans_sarif",
    tag = super::TAG_SCANS,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "A version, or `latest`"),
    ),
    responses(
        (status = 200, description = "A SARIF 2.1.0 log", content_type = "application/sarif+json", body = Object),
        (status = 400, description = "Invalid server name"),
        (status = 401, description = "Credentials needed (anonymous reads off) or bad"),
        (status = 404, description = "No such server or version"),
    )
)]
pub async fn sarif(
    State(state): State<AppState>,
    _reader: Reader,
    VersionPath { name, version }: VersionPath,
) -> ApiResult<Response> {
    let log = scans::sarif(&state.pool, &name, &version).await?;
    let mut response = Json(log).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SARIF_JSON));
    Ok(response)
}

/// Store a scan report with a published version.
///
/// `report` is what the scanner wrote: SARIF 2.1.0 (validated against its schema, SARIF's
/// defaults applied), Cisco mcp-scanner raw JSON, or mcp-scan JSON; its format is recognised from
/// its shape unless `format` says. `scannedDigest`, when given, must be one of the version's
/// digests (tools pin, server.json, package). Findings are normalised and stored with the
/// scanner's name and version and the scan time; reports are append-only (the same report twice
/// is a 409).
#[utoipa::path(
    post,
    path = "/servers/{serverName}/versions/{version}/scans",
    operation_id = "upload_version_scan",
    tag = super::TAG_SCANS,
    params(
        ("serverName" = String, Path, description = "Server name, URL-encoded"),
        ("version" = String, Path, description = "The exact version"),
    ),
    request_body = NewScanReport,
    security(("apiToken" = [])),
    responses(
        (status = 201, description = "Stored", body = ScanReportInfo),
        (status = 400, description = "Malformed request (unknown field, not JSON)"),
        (status = 401, description = "Missing or bad credentials"),
        (status = 403, description = "Neither a publisher of the namespace nor a reviewer"),
        (status = 404, description = "No such server or version"),
        (status = 409, description = "This report is already stored"),
        (status = 422, description = "Not a report of a known format, invalid SARIF (`errors[].location` is the JSON path in the report), or a `scannedDigest` the version does not pin"),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    VersionPath { name, version }: VersionPath,
    JsonBody(body): JsonBody<NewScanReport>,
) -> ApiResult<(StatusCode, Json<ScanReportInfo>)> {
    caller.require(Permission::AttachEvidence(&name))?;
    let stored = scans::upload(&state.pool, &caller.actor(), &name, &version, body).await?;
    state.committed().await;
    Ok((StatusCode::CREATED, Json(stored)))
}
