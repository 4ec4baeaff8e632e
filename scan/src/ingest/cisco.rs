//! Cisco AI Defense `mcp-scanner` raw JSON (`--format raw`): an envelope
//! `{server_url, scan_results: [...], requested_analyzers}` or the bare `scan_results` array
//! (`--raw`). Each result has per-analyzer findings (`yara_analyzer`, `llm_analyzer`, …) with a
//! rolled-up severity (`HIGH`, `MEDIUM`, `LOW`, `SAFE`) and threat names; one finding is made per
//! analyzer and threat. The output carries no scanner version and no time.

use serde_json::{Map, Value};

use super::{IngestError, ReportFormat, ScanReport, Scanner};
use crate::finding::{Finding, Location, Severity, category_slug};

/// The scanner's name as the registry records it (its PyPI name).
pub const SCANNER: &str = "cisco-ai-mcp-scanner";

pub(super) fn ingest(value: Value) -> Result<ScanReport, IngestError> {
    let (results, subject, analyzers) = match value {
        Value::Array(a) => (a, None, None),
        Value::Object(mut o) => {
            let results = match o.remove("scan_results") {
                Some(Value::Array(a)) => a,
                _ => {
                    return Err(IngestError::Invalid {
                        path: "$.scan_results".into(),
                        message: "missing or not an array".into(),
                    });
                }
            };
            let subject = ["server_url", "mcp_server_repository"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_owned));
            let analyzers = o
                .get("requested_analyzers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                });
            (results, subject, analyzers)
        }
        _ => {
            return Err(IngestError::Invalid {
                path: "$".into(),
                message: "expected an object with `scan_results` or an array".into(),
            });
        }
    };
    let base = if subject.is_some() || analyzers.is_some() {
        "$.scan_results"
    } else {
        "$"
    };
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    for (i, result) in results.iter().enumerate() {
        let path = format!("{base}[{i}]");
        let Some(r) = result.as_object() else {
            return Err(IngestError::Invalid {
                path,
                message: "not an object".into(),
            });
        };
        let location = location(r);
        if let Some(status) = r.get("status").and_then(Value::as_str)
            && status != "completed"
        {
            notes.push(format!("{location}: scan status {status:?}"));
        }
        let Some(per_analyzer) = r.get("findings") else {
            continue;
        };
        let Some(per_analyzer) = per_analyzer.as_object() else {
            return Err(IngestError::Invalid {
                path: format!("{path}.findings"),
                message: "not an object".into(),
            });
        };
        for (analyzer, f) in per_analyzer {
            analyzer_findings(
                &format!("{path}.findings.{analyzer}"),
                analyzer,
                f,
                r,
                &location,
                &mut findings,
            )?;
        }
    }
    if let Some(a) = &analyzers {
        notes.push(format!("requested analyzers: {a}"));
    }
    Ok(ScanReport {
        format: ReportFormat::CiscoMcpScanner,
        scanner: Scanner {
            name: SCANNER.into(),
            version: None,
        },
        scanned_at: None,
        subject,
        scanned_digest: None,
        findings,
        notes,
    })
}

fn text<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

fn location(r: &Map<String, Value>) -> Location {
    let item_type = text(r, "item_type").unwrap_or(if r.contains_key("tool_name") {
        "tool"
    } else if r.contains_key("prompt_name") {
        "prompt"
    } else if r.contains_key("resource_uri") {
        "resource"
    } else {
        ""
    });
    match item_type {
        "tool" => Location::Tool {
            name: text(r, "tool_name").unwrap_or_default().into(),
            pointer: None,
        },
        "prompt" => Location::Prompt {
            name: text(r, "prompt_name").unwrap_or_default().into(),
            pointer: None,
        },
        "resource" => Location::Resource {
            uri: text(r, "resource_uri")
                .or_else(|| text(r, "resource_name"))
                .unwrap_or_default()
                .into(),
            pointer: None,
        },
        _ => match text(r, "package_name") {
            Some(p) => Location::Logical {
                name: format!("package {p}"),
            },
            None => Location::Unspecified,
        },
    }
}

fn severity(path: &str, s: &str) -> Result<Option<Severity>, IngestError> {
    match s.to_ascii_uppercase().as_str() {
        "SAFE" | "NONE" => Ok(None),
        "CRITICAL" => Ok(Some(Severity::Critical)),
        "HIGH" => Ok(Some(Severity::High)),
        "MEDIUM" => Ok(Some(Severity::Medium)),
        "LOW" => Ok(Some(Severity::Low)),
        "INFO" | "UNKNOWN" => Ok(Some(Severity::Info)),
        other => Err(IngestError::Invalid {
            path: path.into(),
            message: format!(
                "unknown severity {other:?} (expected HIGH, MEDIUM, LOW, SAFE, UNKNOWN)"
            ),
        }),
    }
}

/// Threat names with the taxonomy sub-technique that explains each, from either output shape:
/// `threat_names` + `mcp_taxonomies`, or the older `threats.items[].items[]`.
fn threats(f: &Map<String, Value>) -> Vec<(String, Option<String>)> {
    let taxonomies: Vec<&Map<String, Value>> = f
        .get("mcp_taxonomies")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let explain = |name: &str| {
        taxonomies
            .iter()
            .find(|t| {
                text(t, "scanner_category").is_some_and(|c| {
                    c.eq_ignore_ascii_case(name) || c.to_uppercase().contains(&name.to_uppercase())
                })
            })
            .or(taxonomies.first())
            .and_then(|t| {
                let sub = text(t, "aisubtech_name")?;
                Some(match text(t, "aisubtech") {
                    Some(id) => format!("{sub} ({id})"),
                    None => sub.to_owned(),
                })
            })
    };
    let names: Vec<String> = f
        .get("threat_names")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !names.is_empty() {
        return names
            .into_iter()
            .map(|n| {
                let e = explain(&n);
                (n, e)
            })
            .collect();
    }
    // Older shape: threats.items[].items[].sub_technique_name.
    let mut out = Vec::new();
    for technique in f
        .get("threats")
        .and_then(|t| t.get("items"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for sub in technique
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = sub.get("sub_technique_name").and_then(Value::as_str) {
                let id = sub.get("sub_technique_id").and_then(Value::as_str);
                out.push((
                    name.to_owned(),
                    Some(id.map_or(name.to_owned(), |id| format!("{name} ({id})"))),
                ));
            }
        }
    }
    out
}

fn analyzer_findings(
    path: &str,
    analyzer: &str,
    f: &Value,
    result: &Map<String, Value>,
    location: &Location,
    out: &mut Vec<Finding>,
) -> Result<(), IngestError> {
    let Some(f) = f.as_object() else {
        return Err(IngestError::Invalid {
            path: path.into(),
            message: "not an object".into(),
        });
    };
    let Some(sev) = f.get("severity") else {
        return Err(IngestError::Invalid {
            path: format!("{path}.severity"),
            message: "missing".into(),
        });
    };
    let Some(sev) = sev.as_str() else {
        return Err(IngestError::Invalid {
            path: format!("{path}.severity"),
            message: "not a string".into(),
        });
    };
    let Some(severity) = severity(&format!("{path}.severity"), sev)? else {
        return Ok(());
    };
    let summary = text(f, "threat_summary").unwrap_or("threat detected");
    let evidence = [
        "tool_description",
        "prompt_description",
        "vulnerability_description",
    ]
    .iter()
    .find_map(|k| text(result, k))
    .map(|d| d.chars().take(200).collect::<String>());
    let analyzer_name = analyzer.trim_end_matches("_analyzer");
    let threats = threats(f);
    if threats.is_empty() {
        out.push(Finding {
            rule: analyzer.into(),
            severity,
            category: category_slug(analyzer_name),
            message: format!("{analyzer_name}: {summary}"),
            location: location.clone(),
            evidence,
            suppressed: false,
        });
        return Ok(());
    }
    for (name, explanation) in threats {
        out.push(Finding {
            rule: format!("{analyzer}/{name}"),
            severity,
            category: category_slug(&name),
            message: match explanation {
                Some(e) => format!("{analyzer_name}: {} — {e}", name.to_lowercase()),
                None => format!("{analyzer_name}: {} — {summary}", name.to_lowercase()),
            },
            location: location.clone(),
            evidence: evidence.clone(),
            suppressed: false,
        });
    }
    Ok(())
}
