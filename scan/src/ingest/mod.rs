//! Scan reports from other scanners, normalised into [`Finding`]s.
//!
//! Accepted: SARIF 2.1.0 (validated against the official schema, SARIF's defaults applied),
//! Cisco AI Defense `mcp-scanner` raw JSON (`--format raw`, with or without its envelope), and
//! Invariant/Snyk `mcp-scan` JSON (`inspect --json` and `scan --json`). Anything else is rejected
//! with the JSON path of the problem.

mod cisco;
mod mcp_scan;
pub mod sarif;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::finding::Finding;
use mcpreg_api::digest::Sha256Digest;

/// Which scanner format a report came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportFormat {
    /// SARIF 2.1.0.
    Sarif,
    /// Cisco AI Defense `mcp-scanner` raw JSON.
    CiscoMcpScanner,
    /// Invariant Labs / Snyk `mcp-scan` JSON.
    McpScan,
    /// mcpreg's built-in scanner.
    Builtin,
}

impl ReportFormat {
    /// `sarif`, `cisco-mcp-scanner`, `mcp-scan` or `builtin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sarif => "sarif",
            Self::CiscoMcpScanner => "cisco-mcp-scanner",
            Self::McpScan => "mcp-scan",
            Self::Builtin => "builtin",
        }
    }

    /// Parses a format name (the `as_str` names; `cisco` and `invariant` too).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "sarif" => Some(Self::Sarif),
            "cisco-mcp-scanner" | "cisco" | "mcp-scanner" => Some(Self::CiscoMcpScanner),
            "mcp-scan" | "invariant" | "snyk" => Some(Self::McpScan),
            "builtin" | "mcpreg-scan" => Some(Self::Builtin),
            _ => None,
        }
    }
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scanner that produced a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scanner {
    /// Its name (`Bandit`, `cisco-ai-mcp-scanner`, `mcp-scan`, `mcpreg-scan`).
    pub name: String,
    /// Its version, when the report says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A scan report, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanReport {
    /// The format it arrived in.
    pub format: ReportFormat,
    /// Who scanned.
    pub scanner: Scanner,
    /// When, when the report says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<DateTime<Utc>>,
    /// What the report says it scanned (a server URL, a config path), informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The digest of what was scanned (a tools pin, an artifact digest). Reports of other
    /// scanners do not carry one; the registry fills it in from what the uploader declares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_digest: Option<Sha256Digest>,
    /// The findings.
    pub findings: Vec<Finding>,
    /// What the report said besides findings: failed analyzers, servers that did not start,
    /// tool execution errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A report that cannot be ingested. Every variant names the JSON path of the problem.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Not JSON at all.
    #[error("$: not valid JSON (line {line}, column {column}): {message}")]
    NotJson {
        /// Line of the syntax error.
        line: usize,
        /// Column of the syntax error.
        column: usize,
        /// What serde_json said.
        message: String,
    },
    /// JSON, but none of the known report formats.
    #[error(
        "{path}: not a known scan report format ({hint}); expected SARIF 2.1.0, Cisco mcp-scanner raw JSON or mcp-scan JSON"
    )]
    UnknownFormat {
        /// Where the document stopped looking like any format (`$` for the top level).
        path: String,
        /// What was seen there.
        hint: String,
    },
    /// SARIF of a version other than 2.1.0.
    #[error("{path}: SARIF version {found:?} is not supported; only \"2.1.0\" is")]
    UnsupportedSarifVersion {
        /// `version`.
        path: String,
        /// The version the document states.
        found: String,
    },
    /// SARIF 2.1.0 that breaks the schema.
    #[error("{}", schema_message(.issues))]
    Schema {
        /// Every problem the validator found (at most 50).
        issues: Vec<PathIssue>,
    },
    /// A report of a known format with a field of the wrong shape.
    #[error("{path}: {message}")]
    Invalid {
        /// JSON path of the field.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl IngestError {
    /// The JSON path of the (first) problem.
    pub fn path(&self) -> &str {
        match self {
            Self::NotJson { .. } => "$",
            Self::UnknownFormat { path, .. }
            | Self::UnsupportedSarifVersion { path, .. }
            | Self::Invalid { path, .. } => path,
            Self::Schema { issues } => issues.first().map_or("$", |i| i.path.as_str()),
        }
    }
}

/// One problem at one JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathIssue {
    /// JSON path, e.g. `$.runs[0].results[2].level`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn schema_message(issues: &[PathIssue]) -> String {
    let mut s = String::from("not valid SARIF 2.1.0:");
    for i in issues.iter().take(5) {
        s.push_str(&format!(" {}: {};", i.path, i.message));
    }
    if issues.len() > 5 {
        s.push_str(&format!(" … and {} more", issues.len() - 5));
    }
    s
}

/// Turns a JSON Pointer (`/runs/0/level`) into a JSON path (`$.runs[0].level`).
pub fn json_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else if !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            out.push('.');
            out.push_str(&segment);
        } else {
            out.push_str(&format!("[{segment:?}]"));
        }
    }
    out
}

/// Reads a report of any known format.
pub fn ingest(bytes: &[u8]) -> Result<ScanReport, IngestError> {
    let value = parse_json(bytes)?;
    let format = detect(&value)?;
    ingest_value(format, value)
}

/// Reads a report of a format the caller names (no detection).
pub fn ingest_as(format: ReportFormat, bytes: &[u8]) -> Result<ScanReport, IngestError> {
    ingest_value(format, parse_json(bytes)?)
}

fn ingest_value(format: ReportFormat, value: Value) -> Result<ScanReport, IngestError> {
    match format {
        ReportFormat::Sarif | ReportFormat::Builtin => sarif::ingest(value),
        ReportFormat::CiscoMcpScanner => cisco::ingest(value),
        ReportFormat::McpScan => mcp_scan::ingest(value),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, IngestError> {
    // A UTF-8 byte-order mark is common in SARIF written on Windows.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| IngestError::NotJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Recognises a report's format from its shape.
pub fn detect(value: &Value) -> Result<ReportFormat, IngestError> {
    match value {
        Value::Object(o) => {
            let schema_says_sarif = o
                .get("$schema")
                .and_then(Value::as_str)
                .is_some_and(|s| s.to_ascii_lowercase().contains("sarif"));
            if schema_says_sarif || (o.contains_key("version") && o.contains_key("runs")) {
                return Ok(ReportFormat::Sarif);
            }
            if o.get("scan_results").is_some_and(Value::is_array) {
                return Ok(ReportFormat::CiscoMcpScanner);
            }
            if !o.is_empty()
                && o.values().all(|v| {
                    v.as_object().is_some_and(|p| {
                        p.contains_key("servers")
                            && (p.contains_key("path") || p.contains_key("issues"))
                    })
                })
            {
                return Ok(ReportFormat::McpScan);
            }
            let keys: Vec<&str> = o.keys().map(String::as_str).take(8).collect();
            Err(IngestError::UnknownFormat {
                path: "$".into(),
                hint: format!("an object with keys {keys:?}"),
            })
        }
        Value::Array(a) => {
            if a.iter().all(|item| {
                item.as_object().is_some_and(|o| {
                    o.contains_key("findings")
                        && (o.contains_key("item_type")
                            || o.contains_key("tool_name")
                            || o.contains_key("is_safe"))
                })
            }) {
                return Ok(ReportFormat::CiscoMcpScanner);
            }
            let bad = a
                .iter()
                .position(|item| !item.as_object().is_some_and(|o| o.contains_key("findings")))
                .unwrap_or(0);
            Err(IngestError::UnknownFormat {
                path: format!("$[{bad}]"),
                hint: "an array whose items are not Cisco mcp-scanner results (no `findings`)"
                    .into(),
            })
        }
        other => Err(IngestError::UnknownFormat {
            path: "$".into(),
            hint: format!("a JSON {}", kind(other)),
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Deserialises `value` as `T`, reporting the JSON path of a mismatch under `base`.
fn typed<T: serde::de::DeserializeOwned>(base: &str, value: Value) -> Result<T, IngestError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = if inner == "." {
            base.to_owned()
        } else if inner.starts_with('[') {
            format!("{base}{inner}")
        } else {
            format!("{base}.{inner}")
        };
        IngestError::Invalid {
            path,
            message: e.inner().to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_paths() {
        assert_eq!(json_path(""), "$");
        assert_eq!(
            json_path("/runs/0/results/12/level"),
            "$.runs[0].results[12].level"
        );
        assert_eq!(json_path("/a~1b/$schema"), "$[\"a/b\"].$schema");
    }

    #[test]
    fn unknown_formats_are_rejected_with_a_path() {
        let e = ingest(b"{\"errors\": [], \"results\": []}").unwrap_err();
        assert_eq!(e.path(), "$");
        assert!(
            e.to_string().contains("not a known scan report format"),
            "{e}"
        );
        let e = ingest(b"[{\"findings\": {}}, {\"x\": 1}]").unwrap_err();
        assert_eq!(e.path(), "$[1]");
        let e = ingest(b"not json").unwrap_err();
        assert!(matches!(e, IngestError::NotJson { .. }));
    }
}
