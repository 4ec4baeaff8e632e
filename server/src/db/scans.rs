//! Scan reports of versions and their findings: append-only (the schema refuses updates and
//! deletes).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// The name of the constraint that keeps one report from being stored twice for a version.
pub const REPORT_KEY: &str = "scan_reports_report_key";

/// A report to store.
pub struct NewReport<'a> {
    /// The version.
    pub version_id: i64,
    /// `sarif`, `cisco-mcp-scanner`, `mcp-scan` or `builtin`.
    pub format: &'a str,
    /// The registry's own scan.
    pub builtin: bool,
    /// The scanner's name.
    pub scanner_name: &'a str,
    /// Its version.
    pub scanner_version: Option<&'a str>,
    /// When it scanned, as the report says.
    pub scanned_at: Option<DateTime<Utc>>,
    /// The digest of what was scanned.
    pub scanned_digest: Option<&'a str>,
    /// What the report says it scanned.
    pub subject: Option<&'a str>,
    /// Notes besides findings (a JSON array of strings).
    pub notes: &'a Value,
    /// The report (JSON text).
    pub report: &'a str,
    /// SHA-256 (hex) of `report`.
    pub report_sha256: &'a str,
    /// Who uploaded it.
    pub uploaded_by: &'a str,
}

/// A finding to store.
pub struct NewFinding<'a> {
    /// The rule id.
    pub rule: &'a str,
    /// `info` … `critical`.
    pub severity: &'a str,
    /// The category.
    pub category: &'a str,
    /// The message.
    pub message: &'a str,
    /// The location (`mcpreg_scan::Location` as JSON).
    pub location: Value,
    /// The evidence.
    pub evidence: Option<&'a str>,
    /// Whether the scanner suppressed it.
    pub suppressed: bool,
}

/// Stores a report (without findings); returns its id and upload time.
pub async fn insert_report(
    db: impl PgExecutor<'_>,
    r: &NewReport<'_>,
    finding_count: i32,
) -> Result<(i64, DateTime<Utc>), sqlx::Error> {
    let row = sqlx::query!(
        "insert into scan_reports
            (version_id, format, builtin, scanner_name, scanner_version, scanned_at, scanned_digest,
             subject, notes, report, report_sha256, finding_count, uploaded_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         returning id, uploaded_at",
        r.version_id,
        r.format,
        r.builtin,
        r.scanner_name,
        r.scanner_version,
        r.scanned_at,
        r.scanned_digest,
        r.subject,
        r.notes,
        r.report,
        r.report_sha256,
        finding_count,
        r.uploaded_by
    )
    .fetch_one(db)
    .await?;
    Ok((row.id, row.uploaded_at))
}

/// Stores the findings of a report, in one statement.
pub async fn insert_findings(
    db: impl PgExecutor<'_>,
    report_id: i64,
    version_id: i64,
    findings: &[NewFinding<'_>],
) -> Result<(), sqlx::Error> {
    if findings.is_empty() {
        return Ok(());
    }
    let positions: Vec<i32> = (0..findings.len())
        .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
        .collect();
    let rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    let severities: Vec<&str> = findings.iter().map(|f| f.severity).collect();
    let categories: Vec<&str> = findings.iter().map(|f| f.category).collect();
    let messages: Vec<&str> = findings.iter().map(|f| f.message).collect();
    let locations: Vec<Value> = findings.iter().map(|f| f.location.clone()).collect();
    let evidence: Vec<Option<&str>> = findings.iter().map(|f| f.evidence).collect();
    let suppressed: Vec<bool> = findings.iter().map(|f| f.suppressed).collect();
    sqlx::query!(
"insert into scan_findings
            (report_id, version_id, position, rule, severity, category, message, location, evidence, suppressed)
         select $1, $2, f.position, f.rule, f.severity::finding_severity, f.category, f.message,
                f.location, f.evidence, f.suppressed
           from unnest($3::integer[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[],
                       $9::text[], $10::boolean[])
             as f (position, rule, severity, category, message, location, evidence, suppressed)",
report_id,
version_id,
positions as _,
rules as _,
severities as _,
categories as _,
messages as _,
locations as _,
evidence as _,
suppressed as _
)
    .execute(db)
    .await?;
    Ok(())
}

/// A stored report, without its findings.
#[derive(Debug, sqlx::FromRow)]
pub struct ReportRow {
    /// Its id.
    pub id: i64,
    /// The format it arrived in.
    pub format: String,
    /// The registry's own scan.
    pub builtin: bool,
    /// The scanner's name.
    pub scanner_name: String,
    /// Its version.
    pub scanner_version: Option<String>,
    /// When it scanned.
    pub scanned_at: Option<DateTime<Utc>>,
    /// The digest of what was scanned.
    pub scanned_digest: Option<String>,
    /// What the report says it scanned.
    pub subject: Option<String>,
    /// Notes besides findings.
    pub notes: Value,
    /// How many findings.
    pub finding_count: i32,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: DateTime<Utc>,
}

/// Every report of a version, oldest first.
pub async fn reports(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<Vec<ReportRow>, sqlx::Error> {
    sqlx::query_as!(
        ReportRow,
        "select id, format, builtin, scanner_name, scanner_version, scanned_at, scanned_digest,
                subject, notes, finding_count, uploaded_by, uploaded_at
           from scan_reports where version_id = $1 order by id",
        version_id
    )
    .fetch_all(db)
    .await
}

/// A stored finding.
#[derive(Debug, sqlx::FromRow)]
pub struct FindingRow {
    /// Its report.
    pub report_id: i64,
    /// The rule id.
    pub rule: String,
    /// `info` … `critical`.
    pub severity: String,
    /// The category.
    pub category: String,
    /// The message.
    pub message: String,
    /// The location.
    pub location: Value,
    /// The evidence.
    pub evidence: Option<String>,
    /// Whether the scanner suppressed it.
    pub suppressed: bool,
}

/// Every finding of a version's reports, by report, in each report's order.
pub async fn findings(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<Vec<FindingRow>, sqlx::Error> {
    sqlx::query_as!(
FindingRow,
r#"select report_id, rule, severity::text as "severity!", category, message, location, evidence, suppressed
           from scan_findings where version_id = $1 order by report_id, position"#,
version_id
)
    .fetch_all(db)
    .await
}

/// A finding's severity as the database stores it (the `finding_severity` enum), decoded straight
/// into the wire type (api's `sqlx` feature): an unknown value fails to decode. The name is the
/// one the typed columns of the queries use (`"worst?: Severity"`).
pub use mcpreg_api::scans::FindingSeverity as Severity;

/// The highest severity among a version's unsuppressed findings, as the database function
/// `worst_open_finding` (the one home of that rule) decides it.
pub async fn highest_severity(
    db: impl PgExecutor<'_>,
    version_id: i64,
) -> Result<Option<Severity>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select worst_open_finding($1) as "worst?: Severity""#,
        version_id
    )
    .fetch_one(db)
    .await
}
