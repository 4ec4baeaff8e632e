//! `mcpreg scan MANIFEST`: the built-in scanner on a tool manifest, SARIF 2.1.0 on stdout.

use std::path::PathBuf;

use mcpreg_scan::finding::max_severity;
use mcpreg_scan::{Severity, sarif, scan_manifest, scanner};

use crate::exit;
use crate::output::{self, Output};

const SCAN_HELP: &str =
    "Output: SARIF 2.1.0 on stdout (levels: critical/high → error, medium → warning,
low → note); with --output json, the normalised findings instead. A summary goes to stderr.

Exit codes: 0 nothing above low, 3 findings at medium or above, 1 the manifest could not be
read.";

/// `scan` arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = SCAN_HELP)]
pub struct Args {
    /// The tool manifest (`mcpreg tools capture --out FILE`), or `-` for standard input.
    manifest: PathBuf,
    /// A server name already in the catalog, to catch names that imitate it (repeatable).
    #[arg(long = "known-server", value_name = "NAME")]
    known_servers: Vec<String>,
}

/// Runs `scan`.
pub fn run(out: Output, args: Args) -> anyhow::Result<u8> {
    let manifest = super::tools::read_manifest(&args.manifest)?;
    let known: Vec<&str> = args.known_servers.iter().map(String::as_str).collect();
    let findings = scan_manifest(&manifest, &known);
    let worst = max_severity(&findings);
    let report = scanner::report(findings, manifest.tools_pin);
    match out {
        Output::Json => output::json(&report)?,
        Output::Table => output::json(&sarif::to_sarif(&report))?,
    }
    summarise(&report.findings);
    Ok(if worst >= Some(Severity::Medium) {
        exit::REJECTED
    } else {
        exit::OK
    })
}

/// One line per finding on stderr, for the person at the terminal (and CI logs).
fn summarise(findings: &[mcpreg_scan::Finding]) {
    if findings.is_empty() {
        eprintln!("mcpreg scan: no findings");
        return;
    }
    for f in findings {
        let sev = f.severity.as_str().to_uppercase();
        eprintln!("{sev:>8} {:<22} {}: {}", f.rule, f.location, f.message);
    }
}
