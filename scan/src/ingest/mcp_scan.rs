//! Invariant Labs / Snyk `mcp-scan` JSON (`inspect --json`, `scan --json`): an object keyed by
//! the scanned config path, each `{client, path, servers: [{name, server, signature, error}],
//! issues: [{code, message, reference, extra_data}], labels, error}`. An issue's `reference` is
//! `[server_index, entity_index]` where entities are the server's prompts, resources, resource
//! templates and tools, in that order; `[server_index, null]` for the server; `null` for the
//! config as a whole.
//!
//! Severity by issue code, as mcp-scan's documentation groups them: `E…` errors and `TF…` toxic
//! flows are High, `W…` warnings Medium, anything else (`X…`, informational) Low.

use serde::Deserialize;
use serde_json::Value;

use super::{IngestError, ReportFormat, ScanReport, Scanner, typed};
use crate::finding::{Finding, Location, Severity, category_slug};

/// The scanner's name as the registry records it.
pub const SCANNER: &str = "mcp-scan";

#[derive(Deserialize)]
struct PathResult {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    servers: Option<Vec<ServerResult>>,
    #[serde(default)]
    issues: Vec<Issue>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ServerResult {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    signature: Option<Signature>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize, Default)]
struct Signature {
    #[serde(default)]
    prompts: Vec<Entity>,
    #[serde(default)]
    resources: Vec<Entity>,
    #[serde(default)]
    resource_templates: Vec<Entity>,
    #[serde(default)]
    tools: Vec<Entity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entity {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    uri_template: Option<String>,
}

#[derive(Deserialize)]
struct Issue {
    code: String,
    message: String,
    #[serde(default)]
    reference: Option<(usize, Option<usize>)>,
}

fn severity_of(code: &str) -> Severity {
    let c = code.to_ascii_uppercase();
    if c.starts_with("TF") || c.starts_with('E') {
        Severity::High
    } else if c.starts_with('W') {
        Severity::Medium
    } else {
        Severity::Low
    }
}

fn error_text(e: &Value) -> String {
    e.get("message")
        .and_then(Value::as_str)
        .or_else(|| e.get("exception").and_then(Value::as_str))
        .map_or_else(|| e.to_string(), str::to_owned)
}

fn entity_location(server: &ServerResult, index: usize) -> Location {
    let sig = server.signature.as_ref();
    let empty = Signature::default();
    let sig = sig.unwrap_or(&empty);
    let mut i = index;
    for (list, kind) in [
        (&sig.prompts, 0),
        (&sig.resources, 1),
        (&sig.resource_templates, 2),
        (&sig.tools, 3),
    ] {
        if i < list.len() {
            let e = &list[i];
            let name = e.name.clone().unwrap_or_default();
            return match kind {
                0 => Location::Prompt {
                    name,
                    pointer: None,
                },
                1 => Location::Resource {
                    uri: e.uri.clone().unwrap_or(name),
                    pointer: None,
                },
                2 => Location::ResourceTemplate {
                    uri_template: e.uri_template.clone().unwrap_or(name),
                    pointer: None,
                },
                _ => Location::Tool {
                    name,
                    pointer: None,
                },
            };
        }
        i -= list.len();
    }
    Location::Logical {
        name: format!(
            "server {} entity {index}",
            server.name.as_deref().unwrap_or("?")
        ),
    }
}

pub(super) fn ingest(value: Value) -> Result<ScanReport, IngestError> {
    let Value::Object(paths) = value else {
        return Err(IngestError::Invalid {
            path: "$".into(),
            message: "expected an object keyed by config path".into(),
        });
    };
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut subjects = Vec::new();
    for (key, v) in paths {
        let base = format!("$[{key:?}]");
        let result: PathResult = typed(&base, v)?;
        subjects.push(result.path.clone().unwrap_or_else(|| key.clone()));
        if let Some(e) = &result.error
            && !e.is_null()
        {
            notes.push(format!("{key}: {}", error_text(e)));
        }
        let servers = result.servers.unwrap_or_default();
        for s in &servers {
            if let Some(e) = &s.error
                && !e.is_null()
            {
                notes.push(format!(
                    "server {}: {}",
                    s.name.as_deref().unwrap_or("?"),
                    error_text(e)
                ));
            }
        }
        for (i, issue) in result.issues.into_iter().enumerate() {
            let location = match issue.reference {
                None => Location::Logical { name: key.clone() },
                Some((si, ei)) => {
                    let Some(server) = servers.get(si) else {
                        return Err(IngestError::Invalid {
                            path: format!("{base}.issues[{i}].reference[0]"),
                            message: format!(
                                "server index {si}, but the report lists {} servers",
                                servers.len()
                            ),
                        });
                    };
                    match ei {
                        None => Location::Server {
                            name: server.name.clone().unwrap_or_default(),
                        },
                        Some(ei) => entity_location(server, ei),
                    }
                }
            };
            findings.push(Finding {
                severity: severity_of(&issue.code),
                category: if issue.code.to_ascii_uppercase().starts_with("TF") {
                    "toxic-flow".into()
                } else {
                    category_slug(&format!("mcp-scan {}", issue.code))
                },
                rule: issue.code,
                message: issue.message,
                location,
                evidence: None,
                suppressed: false,
            });
        }
    }
    Ok(ScanReport {
        format: ReportFormat::McpScan,
        scanner: Scanner {
            name: SCANNER.into(),
            version: None,
        },
        scanned_at: None,
        subject: (!subjects.is_empty()).then(|| subjects.join(", ")),
        scanned_digest: None,
        findings,
        notes,
    })
}
