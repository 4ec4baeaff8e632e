//! Tool manifests, tools pins and scans for mcpreg: no network, no database.
//!
//! - [`manifest`]: what an MCP server advertises (tools, prompts, resources, instructions), captured
//!   into a [`ToolManifest`], and its **tools pin**: one SHA-256 over the RFC 8785 canonical JSON of
//!   the pinned content, plus one digest per tool.
//! - [`diff`]: what changed between a pinned manifest and a live capture (drift, "rug pulls"),
//!   including tools renamed without changing their content.
//! - [`cost`]: what enabling the server costs a client in context tokens.
//! - [`scanner`]: the built-in deterministic scanner (poisoned descriptions, invisible Unicode,
//!   exfiltration sinks, look-alike server names, …).
//! - [`ingest`]: scan reports from other scanners (SARIF 2.1.0, Cisco mcp-scanner, mcp-scan)
//!   normalised into [`Finding`]s; [`sarif`] writes findings back out as SARIF 2.1.0.

#![forbid(unsafe_code)]

pub mod cost;
pub mod diff;
pub mod finding;
pub mod ingest;
pub mod manifest;
pub mod sarif;
pub mod scanner;

pub use cost::{ContextCost, estimate_context_cost};
pub use diff::{ManifestDiff, diff};
pub use finding::{Finding, Location, Severity};
pub use ingest::{IngestError, ReportFormat, ScanReport, Scanner, ingest};
pub use manifest::{ManifestError, Pins, Tool, ToolManifest};
pub use mcpreg_api::digest::{Sha256Digest, canonical_json};
pub use scanner::{check_server_name, scan_manifest};
