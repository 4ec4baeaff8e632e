//! Scan reports of a version, normalised
//! (`GET|POST /api/v1/servers/{name}/versions/{version}/scans`).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How bad a finding is. Ordered: `critical > high > medium > low > info`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "finding_severity", rename_all = "lowercase")
)]
pub enum FindingSeverity {
    /// Informational; nothing to fix.
    Info,
    /// Worth a look.
    Low,
    /// Should be reviewed before approval.
    Medium,
    /// Should block approval unless explained.
    High,
    /// Blocks approval.
    Critical,
}

impl FindingSeverity {
    /// `critical`, `high`, `medium`, `low` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Info => "info",
        }
    }

    /// Parses one of the names [`Self::as_str`] gives.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Info,
            Self::Low,
            Self::Medium,
            Self::High,
            Self::Critical,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

impl fmt::Display for FindingSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every scan report of a version.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionScans {
    /// Server name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The highest severity among the unsuppressed findings of all reports; absent when there
    /// are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest_severity: Option<FindingSeverity>,
    /// The reports, oldest first.
    pub reports: Vec<ScanReportInfo>,
}

/// One stored scan report, normalised.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanReportInfo {
    /// The report's id.
    pub id: i64,
    /// The format it arrived in: `sarif`, `cisco-mcp-scanner`, `mcp-scan`, or `builtin` for the
    /// registry's own scan of the tool manifest.
    pub format: String,
    /// Whether this is the registry's own scan (run on every manifest it receives).
    pub builtin: bool,
    /// The scanner, as the report names it.
    pub scanner: ScannerInfo,
    /// When the scan ran, as the report says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<DateTime<Utc>>,
    /// The digest of what was scanned: the tools pin for the built-in scan; for an upload, what
    /// the uploader declared (`scannedDigest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_digest: Option<String>,
    /// What the report says it scanned (a server URL, a config path); informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What the report said besides findings: failed analyzers, servers that did not start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Who uploaded it (for the built-in scan: who attached the manifest).
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    /// How many findings the report has (suppressed ones included).
    pub finding_count: u32,
    /// The highest severity among its unsuppressed findings; absent when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest_severity: Option<FindingSeverity>,
    /// The findings, in the report's order.
    pub findings: Vec<ScanFinding>,
}

/// A scanner's name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScannerInfo {
    /// Its name (`Bandit`, `cisco-ai-mcp-scanner`, `mcp-scan`, `mcpreg-scan`).
    pub name: String,
    /// Its version, when the report says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One finding, normalised whatever the scanner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanFinding {
    /// The scanner's rule id (`hidden-instructions`, `B602`, `yara_analyzer/CODE EXECUTION`).
    pub rule: String,
    /// How bad it is.
    pub severity: FindingSeverity,
    /// What kind of problem, lower-case words joined by `-` (`prompt-injection`, `cwe-78`).
    pub category: String,
    /// What was found, for a person.
    pub message: String,
    /// Where: `{"kind": "tool", "name": …, "pointer": …}`, `{"kind": "file", "path": …,
    /// "line": …}`, `{"kind": "server", "name": …}`, `{"kind": "instructions"}`, …
    #[schema(value_type = Object)]
    pub location: Value,
    /// The text that triggered it, shortened, invisible characters made visible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The scanner marked it as suppressed (it does not count towards the highest severity).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

/// A scan report to store with a version (`POST /api/v1/servers/{name}/versions/{version}/scans`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewScanReport {
    /// The report as the scanner wrote it: SARIF 2.1.0, Cisco mcp-scanner raw JSON
    /// (`--format raw`), or mcp-scan JSON (`--json`).
    #[schema(value_type = Object)]
    pub report: Value,
    /// `sarif`, `cisco-mcp-scanner` or `mcp-scan`; recognised from the report's shape when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The digest of what was scanned: the version's tools pin, its server.json digest or one of
    /// its package digests (`GET …/trust`). Anything else is refused, so a report cannot claim to
    /// be about something the version does not pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_digest: Option<String>,
}
