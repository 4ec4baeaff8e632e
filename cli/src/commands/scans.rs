//! `mcpreg scans upload|show|export NAME@VERSION`: the scan reports stored with a version — the
//! registry's own scan of its tool manifest and reports from other scanners.

use std::path::PathBuf;

use mcpreg_api::scans::{FindingSeverity, NewScanReport, VersionScans};
use mcpreg_client::Client;
use serde_json::Value;

use super::{Rejected, split_name_version};
use crate::exit;
use crate::output::{self, Output};

const SHOW_HELP: &str = "Exit codes: 0 no finding at or above --fail-on (default: high), 3 some
finding is at or above it, 4 no such version.";

/// `scans` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ScansCommand {
    /// Store a scan report with a version: SARIF 2.1.0, Cisco mcp-scanner raw JSON, or
    /// mcp-scan JSON (recognised from its shape).
    Upload {
        /// The version, `NAME@VERSION`.
        version: String,
        /// The report file, or `-` for standard input.
        report: PathBuf,
        /// The report's format, when its shape is ambiguous: `sarif`, `cisco-mcp-scanner`,
        /// `mcp-scan`.
        #[arg(long)]
        format: Option<String>,
        /// The digest of what was scanned: the version's tools pin, server.json digest or a
        /// package digest (see `mcpreg tools show`, `mcpreg verify`).
        #[arg(long, value_name = "sha256:…")]
        scanned_digest: Option<String>,
    },
    /// Show a version's scan reports and findings.
    #[command(after_help = SHOW_HELP)]
    Show {
        /// The version, `NAME@VERSION` (or `NAME` for the latest).
        version: String,
        /// Exit 3 when a finding is at or above this severity.
        #[arg(long, value_enum, default_value_t = FailOn::High)]
        fail_on: FailOn,
    },
    /// Write a version's scan reports as one SARIF 2.1.0 log (a run per report) to stdout.
    Export {
        /// The version, `NAME@VERSION` (or `NAME` for the latest).
        version: String,
    },
}

/// A severity threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Critical only.
    Critical,
    /// High or critical.
    High,
    /// Medium and above.
    Medium,
    /// Low and above.
    Low,
    /// Never fail.
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<FindingSeverity> {
        match self {
            Self::Critical => Some(FindingSeverity::Critical),
            Self::High => Some(FindingSeverity::High),
            Self::Medium => Some(FindingSeverity::Medium),
            Self::Low => Some(FindingSeverity::Low),
            Self::Never => None,
        }
    }
}

/// Runs `scans`.
pub async fn run(client: &Client, out: Output, command: ScansCommand) -> anyhow::Result<u8> {
    match command {
        ScansCommand::Upload {
            version,
            report,
            format,
            scanned_digest,
        } => {
            let (name, version) = match split_name_version(&version) {
                (name, Some(v)) => (name, v),
                (_, None) => {
                    return Err(Rejected(format!(
                        "`{version}` names no version: use NAME@VERSION"
                    ))
                    .into());
                }
            };
            let body = NewScanReport {
                report: super::publish::read_json(&report)?,
                format,
                scanned_digest,
            };
            let stored = client.upload_scan(name, version, &body).await?;
            match out {
                Output::Json => output::json(&stored)?,
                Output::Table => {
                    println!(
                        "stored report {} of {}{} for {name}@{version}: {} findings, worst {}",
                        stored.id,
                        stored.scanner.name,
                        stored
                            .scanner
                            .version
                            .as_deref()
                            .map(|v| format!(" {v}"))
                            .unwrap_or_default(),
                        stored.finding_count,
                        stored
                            .highest_severity
                            .map_or("none".to_owned(), |s| s.to_string())
                    );
                }
            }
            Ok(exit::OK)
        }
        ScansCommand::Show { version, fail_on } => {
            let (name, version) = split_name_version(&version);
            let version = version.unwrap_or("latest");
            let scans = client.version_scans(name, version).await?;
            match out {
                Output::Json => output::json(&scans)?,
                Output::Table => print_scans(&scans),
            }
            let failed = fail_on
                .threshold()
                .is_some_and(|t| scans.highest_severity.is_some_and(|s| s >= t));
            Ok(if failed { exit::REJECTED } else { exit::OK })
        }
        ScansCommand::Export { version } => {
            let (name, version) = split_name_version(&version);
            let version = version.unwrap_or("latest");
            let log = client.version_scans_sarif(name, version).await?;
            output::json(&log)?;
            Ok(exit::OK)
        }
    }
}

fn print_scans(scans: &VersionScans) {
    println!(
        "{}@{}: {} report{}, worst finding {}",
        scans.name,
        scans.version,
        scans.reports.len(),
        if scans.reports.len() == 1 { "" } else { "s" },
        scans
            .highest_severity
            .map_or("none".to_owned(), |s| s.to_string())
    );
    let mut rows = Vec::new();
    for r in &scans.reports {
        let scanner = format!(
            "{}{}{}",
            r.scanner.name,
            r.scanner
                .version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default(),
            if r.builtin { " (registry)" } else { "" }
        );
        if r.findings.is_empty() {
            rows.push(vec![
                r.id.to_string(),
                scanner.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "no findings".into(),
            ]);
        }
        for f in &r.findings {
            let mut severity = f.severity.to_string();
            if f.suppressed {
                severity.push_str(" (suppressed)");
            }
            rows.push(vec![
                r.id.to_string(),
                scanner.clone(),
                severity,
                f.rule.clone(),
                location(&f.location),
                f.message.clone(),
            ]);
        }
    }
    output::table(
        &["report", "scanner", "severity", "rule", "where", "finding"],
        rows,
    );
}

/// A finding's location in words (`tool echo /description`, `src/app.py:12`).
fn location(l: &Value) -> String {
    match serde_json::from_value::<mcpreg_scan::Location>(l.clone()) {
        Ok(l) => l.to_string(),
        Err(_) => l.to_string(),
    }
}
