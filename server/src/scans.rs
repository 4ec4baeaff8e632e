//! Scan reports of versions: the built-in scan of every tool manifest the registry receives, and
//! reports uploaded from other scanners (SARIF 2.1.0, Cisco mcp-scanner, mcp-scan), normalised
//! into findings with one severity scale, stored append-only, and served as JSON or re-exported
//! as SARIF.

use mcpreg_api::ServerName;
use mcpreg_api::problem::FieldIssue;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::scans::{
    FindingSeverity, NewScanReport, ScanFinding, ScanReportInfo, ScannerInfo, VersionScans,
};
use mcpreg_scan::{Finding, IngestError, Location, ReportFormat, ScanReport, Severity};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgExecutor, PgPool};

use crate::db::signatures as trust_db;
use crate::db::versions::{self as versions_db, VersionRef};
use crate::db::{self as dbmod, audit, scans as db, tool_manifests};
use crate::error::{ApiError, ApiResult};

/// Parses a severity stored by the database enum.
pub fn severity_of(s: &str) -> ApiResult<FindingSeverity> {
    FindingSeverity::parse(s)
        .ok_or_else(|| anyhow::anyhow!("stored severity `{s}` is not a known severity").into())
}

/// A version named exactly (evidence is attached to one version, never to whatever `latest`
/// is at the time).
pub async fn exact_version(
    pool: &PgPool,
    name: &ServerName,
    version: &str,
) -> ApiResult<VersionRef> {
    ApiError::require_exact_version(version, "the evidence is for")?;
    versions_db::resolve(pool, name.as_str(), version)
        .await?
        .filter(|v| v.version == version)
        .ok_or_else(|| ApiError::version_not_found(name, version))
}

/// A version by exact version string, or the latest with `latest`.
pub async fn any_version(pool: &PgPool, name: &ServerName, version: &str) -> ApiResult<VersionRef> {
    versions_db::resolve(pool, name.as_str(), version)
        .await?
        .ok_or_else(|| ApiError::version_not_found(name, version))
}

/// Stores a normalised report and its findings in the caller's transaction; returns its id.
/// `original` is the report as uploaded (JSON text); the built-in scan stores its normalised
/// form.
pub async fn store_report(
    tx: &mut PgConnection,
    version_id: i64,
    actor: &str,
    report: &ScanReport,
    builtin: bool,
    original: Option<&str>,
) -> ApiResult<i64> {
    let normalised;
    let text = match original {
        Some(t) => t,
        None => {
            normalised = serde_json::to_string(report).map_err(anyhow::Error::from)?;
            &normalised
        }
    };
    // Only the registry's own scan is `builtin`; an uploaded report arrived in a format.
    let format = match (builtin, report.format) {
        (true, _) => ReportFormat::Builtin,
        (false, ReportFormat::Builtin) => ReportFormat::Sarif,
        (false, f) => f,
    };
    let notes = json!(report.notes);
    let sha256 = mcpreg_scan::Sha256Digest::of_bytes(text.as_bytes());
    let scanned_digest = report.scanned_digest.as_ref().map(|d| d.to_string());
    let (id, _) = db::insert_report(
        &mut *tx,
        &db::NewReport {
            version_id,
            format: format.as_str(),
            builtin,
            scanner_name: &report.scanner.name,
            scanner_version: report.scanner.version.as_deref(),
            scanned_at: report.scanned_at,
            scanned_digest: scanned_digest.as_deref(),
            subject: report.subject.as_deref(),
            notes: &notes,
            report: text,
            report_sha256: &sha256.to_hex(),
            uploaded_by: actor,
        },
        i32::try_from(report.findings.len()).unwrap_or(i32::MAX),
    )
    .await
    .map_err(|e| {
        if dbmod::is_unique_violation(&e, db::REPORT_KEY) {
            ApiError::conflict(
                ProblemCode::ScanReportExists,
                "this report is already stored with this version; reports are append-only",
            )
        } else {
            e.into()
        }
    })?;
    let findings: Vec<db::NewFinding<'_>> = report
        .findings
        .iter()
        .map(|f| db::NewFinding {
            rule: &f.rule,
            severity: f.severity.as_str(),
            category: &f.category,
            message: &f.message,
            location: serde_json::to_value(&f.location).unwrap_or(Value::Null),
            evidence: f.evidence.as_deref(),
            suppressed: f.suppressed,
        })
        .collect();
    db::insert_findings(&mut *tx, id, version_id, &findings).await?;
    Ok(id)
}

/// The digests a report about this version may say it scanned: the tools pin, the server.json
/// digest and the package digests.
async fn scannable_digests(
    db: impl PgExecutor<'_> + Copy,
    v: &VersionRef,
) -> ApiResult<Vec<String>> {
    let mut digests = Vec::new();
    if let Some(pin) = tool_manifests::tools_pin(db, v.id).await? {
        digests.push(pin);
    }
    if let Some(d) = &v.server_json_digest {
        digests.push(d.clone());
    }
    digests.extend(
        trust_db::packages(db, v.id)
            .await?
            .into_iter()
            .filter_map(|p| p.digest),
    );
    Ok(digests)
}

fn ingest_error(e: &IngestError) -> ApiError {
    // The ingest paths are JSON paths into the report (`$.runs[0].results[2].level`).
    let at = |path: &str| match path.strip_prefix('$') {
        Some(rest) if !rest.is_empty() => format!("report{rest}"),
        _ => "report".to_owned(),
    };
    let issues = match e {
        IngestError::Schema { issues } => issues
            .iter()
            .map(|i| FieldIssue::new(at(&i.path), i.message.clone(), "scan-report"))
            .collect(),
        other => vec![FieldIssue::new(
            at(other.path()),
            other.to_string(),
            "scan-report",
        )],
    };
    let code = match e {
        IngestError::UnknownFormat { .. } => ProblemCode::ScanReportUnknownFormat,
        IngestError::UnsupportedSarifVersion { .. } => ProblemCode::ScanReportUnsupportedVersion,
        _ => ProblemCode::ScanReportInvalid,
    };
    ApiError::unprocessable(code, format!("the scan report was refused: {e}"), issues)
}

/// Stores a report uploaded for a version (the exact version).
pub async fn upload(
    pool: &PgPool,
    actor: &str,
    name: &ServerName,
    version: &str,
    upload: NewScanReport,
) -> ApiResult<ScanReportInfo> {
    let v = exact_version(pool, name, version).await?;
    let format = match upload.format.as_deref() {
        None => None,
        Some(f) => match ReportFormat::parse(f) {
            Some(ReportFormat::Builtin) | None => {
                return Err(ApiError::unprocessable(
                    ProblemCode::ScanReportUnknownFormat,
                    format!(
                        "unknown report format `{}`",
                        f.chars().take(50).collect::<String>()
                    ),
                    vec![FieldIssue::new(
                        "format",
                        "must be `sarif`, `cisco-mcp-scanner` or `mcp-scan` (the registry's own scan cannot be uploaded)",
                        "parameter",
                    )],
                ));
            }
            Some(f) => Some(f),
        },
    };
    let declared = match upload.scanned_digest.as_deref() {
        None => None,
        Some(d) => {
            let digest = mcpreg_scan::Sha256Digest::parse_prefixed(d).map_err(|e| {
                ApiError::unprocessable(
                    ProblemCode::ScannedDigestInvalid,
                    "scannedDigest is not a digest",
                    vec![FieldIssue::new("scannedDigest", e.to_string(), "parameter")],
                )
            })?;
            let allowed = scannable_digests(pool, &v).await?;
            if !allowed.iter().any(|a| *a == digest.to_string()) {
                return Err(ApiError::unprocessable(
                    ProblemCode::ScannedDigestUnknown,
                    format!(
                        "{}@{} pins no {digest}: a report must be about the version's tools pin, server.json digest or a package digest",
                        v.server_name, v.version
                    ),
                    vec![FieldIssue::new(
                        "scannedDigest",
                        format!("not one of this version's digests: {}", allowed.join(", ")),
                        "parameter",
                    )],
                ));
            }
            Some(digest)
        }
    };
    let original = upload.report.to_string();
    let bytes = original.clone().into_bytes();
    let mut report = tokio::task::spawn_blocking(move || match format {
        Some(f) => mcpreg_scan::ingest::ingest_as(f, &bytes),
        None => mcpreg_scan::ingest(&bytes),
    })
    .await
    .map_err(|e| anyhow::anyhow!("scan report task failed: {e}"))?
    .map_err(|e| ingest_error(&e))?;
    if declared.is_some() {
        report.scanned_digest = declared;
    }
    let mut tx = pool.begin().await?;
    let id = store_report(&mut tx, v.id, actor, &report, false, Some(&original)).await?;
    audit::record(
        &mut tx,
        actor,
        "scan.upload",
        &format!("{}@{}", v.server_name, v.version),
        json!({
            "report": id,
            "format": report.format.as_str(),
            "scanner": report.scanner.name,
            "scannerVersion": report.scanner.version,
            "findings": report.findings.len(),
            "highestSeverity": mcpreg_scan::finding::max_severity(&report.findings).map(Severity::as_str),
            "scannedDigest": report.scanned_digest.as_ref().map(|d| d.to_string()),
        }),
    )
    .await?;
    // The worst open finding is a fact policies read.
    crate::db::changes::notify(&mut *tx, &v.server_name).await?;
    tx.commit().await?;
    tracing::info!(
        server.name = %name,
        server.version = version,
        scan.report = id,
        scan.findings = report.findings.len(),
        actor,
        "scan report stored"
    );
    let all = list(pool, name, version).await?;
    all.reports
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| anyhow::anyhow!("stored scan report {id} does not read back").into())
}

/// Every report of a version, with its findings.
pub async fn list(pool: &PgPool, name: &ServerName, version: &str) -> ApiResult<VersionScans> {
    let v = any_version(pool, name, version).await?;
    let reports = db::reports(pool, v.id).await?;
    let mut findings = db::findings(pool, v.id).await?.into_iter().peekable();
    let mut out = Vec::with_capacity(reports.len());
    for r in reports {
        let mut mine = Vec::new();
        while let Some(f) = findings.next_if(|f| f.report_id == r.id) {
            mine.push(ScanFinding {
                rule: f.rule,
                severity: severity_of(&f.severity)?,
                category: f.category,
                message: f.message,
                location: f.location,
                evidence: f.evidence,
                suppressed: f.suppressed,
            });
        }
        let highest = mine
            .iter()
            .filter(|f| !f.suppressed)
            .map(|f| f.severity)
            .max();
        out.push(ScanReportInfo {
            id: r.id,
            format: r.format,
            builtin: r.builtin,
            scanner: ScannerInfo {
                name: r.scanner_name,
                version: r.scanner_version,
            },
            scanned_at: r.scanned_at,
            scanned_digest: r.scanned_digest,
            subject: r.subject,
            notes: serde_json::from_value(r.notes).unwrap_or_default(),
            uploaded_by: r.uploaded_by,
            uploaded_at: r.uploaded_at,
            finding_count: u32::try_from(r.finding_count).unwrap_or_default(),
            highest_severity: highest,
            findings: mine,
        });
    }
    let highest = db::highest_severity(pool, v.id).await?;
    Ok(VersionScans {
        name: v.server_name,
        version: v.version,
        highest_severity: highest,
        reports: out,
    })
}

/// Every report of a version as one SARIF 2.1.0 log (a run per report).
pub async fn sarif(pool: &PgPool, name: &ServerName, version: &str) -> ApiResult<Value> {
    let scans = list(pool, name, version).await?;
    let reports: Vec<ScanReport> = scans
        .reports
        .into_iter()
        .map(|r| {
            let format = ReportFormat::parse(&r.format)
                .ok_or_else(|| anyhow::anyhow!("stored report format `{}` is unknown", r.format))?;
            let findings = r
                .findings
                .into_iter()
                .map(|f| Finding {
                    rule: f.rule,
                    severity: f.severity,
                    category: f.category,
                    message: f.message,
                    location: serde_json::from_value::<Location>(f.location)
                        .unwrap_or(Location::Unspecified),
                    evidence: f.evidence,
                    suppressed: f.suppressed,
                })
                .collect();
            Ok(ScanReport {
                format,
                scanner: mcpreg_scan::Scanner {
                    name: r.scanner.name,
                    version: r.scanner.version,
                },
                scanned_at: r.scanned_at,
                subject: r.subject,
                scanned_digest: r
                    .scanned_digest
                    .map(|d| {
                        mcpreg_scan::Sha256Digest::parse_prefixed(&d).map_err(|e| {
                            anyhow::anyhow!("stored scanned digest `{d}` is unusable: {e}")
                        })
                    })
                    .transpose()?,
                findings,
                notes: r.notes,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(mcpreg_scan::sarif::to_sarif_runs(&reports))
}
