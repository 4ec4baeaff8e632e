//! SARIF 2.1.0 in: validated against the official schema (draft-04), then normalised with
//! SARIF's defaults applied (a result without `kind` is a `fail`; a failing result without
//! `level` takes its rule's `defaultConfiguration.level`, else `warning`; other kinds default to
//! `none`).
//!
//! Severity: a `security-severity` score (the GitHub code-scanning convention, on the result or
//! its rule) when present — 9.0+ critical, 7.0+ high, 4.0+ medium, above 0 low; otherwise the
//! level — `error` high, `warning` medium, `note` low, `none` info. Results of kind `pass` or
//! `notApplicable` are not findings. A result is suppressed when it has a suppression that is
//! accepted or has no status.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use jsonschema::Validator;
use serde_json::{Map, Value};

use super::{IngestError, PathIssue, ReportFormat, ScanReport, Scanner, json_path};
use crate::finding::{Finding, Location, Severity, category_slug, parse_scanner_severity};

/// The official SARIF 2.1.0 schema (OASIS errata 01), embedded.
pub const SCHEMA: &str = include_str!("../../schemas/sarif-schema-2.1.0.json");

/// The property under which mcpreg writes a finding's location and category into SARIF
/// results, so that its own SARIF reads back exactly.
pub const MCPREG_PROPERTY: &str = "mcpreg";

/// Longest message kept from the validator (it quotes the offending value).
const MAX_MESSAGE: usize = 300;
/// Most schema problems reported at once.
const MAX_ISSUES: usize = 50;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(SCHEMA).expect("the embedded SARIF schema is JSON");
        jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the embedded SARIF schema compiles")
    })
}

/// Every place where a document breaks the SARIF 2.1.0 schema.
pub fn validate(document: &Value) -> Vec<PathIssue> {
    validator()
        .iter_errors(document)
        .take(MAX_ISSUES)
        .map(|e| {
            let mut message = e.to_string();
            if message.chars().count() > MAX_MESSAGE {
                message = format!("{}…", message.chars().take(MAX_MESSAGE).collect::<String>());
            }
            PathIssue {
                path: json_path(&e.instance_path().to_string()),
                message,
            }
        })
        .collect()
}

pub(super) fn ingest(value: Value) -> Result<ScanReport, IngestError> {
    if let Some(v) = value.get("version")
        && v.as_str() != Some("2.1.0")
    {
        return Err(IngestError::UnsupportedSarifVersion {
            path: "$.version".into(),
            found: v.as_str().map_or_else(|| v.to_string(), str::to_owned),
        });
    }
    let issues = validate(&value);
    if !issues.is_empty() {
        return Err(IngestError::Schema { issues });
    }
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut scanners: Vec<Scanner> = Vec::new();
    let mut scanned_at: Option<DateTime<Utc>> = None;
    let runs = value
        .get("runs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for run in &runs {
        let driver = &run["tool"]["driver"];
        let scanner = Scanner {
            name: driver["name"].as_str().unwrap_or("unknown").to_owned(),
            version: driver["version"]
                .as_str()
                .or_else(|| driver["semanticVersion"].as_str())
                .map(str::to_owned),
        };
        if !scanners.contains(&scanner) {
            scanners.push(scanner);
        }
        for inv in run["invocations"].as_array().into_iter().flatten() {
            let time = inv["startTimeUtc"]
                .as_str()
                .or_else(|| inv["endTimeUtc"].as_str());
            if scanned_at.is_none()
                && let Some(t) = time.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            {
                scanned_at = Some(t.with_timezone(&Utc));
            }
            if inv["executionSuccessful"] == Value::Bool(false) {
                let mut note = format!(
                    "{}: execution failed",
                    driver["name"].as_str().unwrap_or("scanner")
                );
                for key in [
                    "toolExecutionNotifications",
                    "toolConfigurationNotifications",
                ] {
                    for n in inv[key].as_array().into_iter().flatten() {
                        if let Some(t) = n["message"]["text"].as_str() {
                            note.push_str(&format!(" — {t}"));
                        }
                    }
                }
                notes.push(note);
            }
        }
        for result in run["results"].as_array().into_iter().flatten() {
            if let Some(f) = normalise(run, result) {
                findings.push(f);
            }
        }
    }
    let scanner = match scanners.len() {
        0 => Scanner {
            name: "unknown".into(),
            version: None,
        },
        1 => scanners.remove(0),
        _ => Scanner {
            name: scanners
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(" + "),
            version: None,
        },
    };
    Ok(ScanReport {
        // Uploaded SARIF is SARIF whoever it names as its tool: only the registry's own scan
        // is `Builtin`.
        format: ReportFormat::Sarif,
        scanner,
        scanned_at,
        subject: None,
        scanned_digest: None,
        findings,
        notes,
    })
}

/// The rule a result refers to (by `rule.index` in a tool component, `ruleIndex`, or id).
fn rule_of<'a>(run: &'a Value, result: &Value) -> Option<&'a Map<String, Value>> {
    let component = match result["rule"]["toolComponent"]["index"].as_u64() {
        Some(i) => &run["tool"]["extensions"][i as usize],
        None => &run["tool"]["driver"],
    };
    let rules = component["rules"].as_array()?;
    let index = result["ruleIndex"]
        .as_u64()
        .or_else(|| result["rule"]["index"].as_u64());
    if let Some(i) = index
        && let Some(r) = rules.get(i as usize).and_then(Value::as_object)
    {
        return Some(r);
    }
    let id = result["ruleId"]
        .as_str()
        .or_else(|| result["rule"]["id"].as_str())?;
    rules
        .iter()
        .filter_map(Value::as_object)
        .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
}

fn score_severity(v: &Value) -> Option<Severity> {
    let score = match v {
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    Some(match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        s if s > 0.0 => Severity::Low,
        _ => Severity::Info,
    })
}

fn level_severity(level: &str) -> Severity {
    match level {
        "error" => Severity::High,
        "warning" => Severity::Medium,
        "note" => Severity::Low,
        _ => Severity::Info,
    }
}

/// `{0}`, `{1}`… replaced by the message arguments.
fn format_message(template: &str, arguments: &[Value]) -> String {
    let mut out = template.to_owned();
    for (i, a) in arguments.iter().enumerate() {
        let text = a.as_str().map_or_else(|| a.to_string(), str::to_owned);
        out = out.replace(&format!("{{{i}}}"), &text);
    }
    out
}

fn message(result: &Value, rule: Option<&Map<String, Value>>) -> String {
    let arguments = result["message"]["arguments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(t) = result["message"]["text"].as_str() {
        return format_message(t, &arguments);
    }
    if let Some(id) = result["message"]["id"].as_str()
        && let Some(template) = rule
            .and_then(|r| r.get("messageStrings"))
            .and_then(|m| m.get(id))
            .and_then(|m| m.get("text").or_else(|| m.get("markdown")))
            .and_then(Value::as_str)
    {
        return format_message(template, &arguments);
    }
    rule.and_then(|r| r.get("shortDescription"))
        .and_then(|d| d.get("text"))
        .and_then(Value::as_str)
        .unwrap_or("(no message)")
        .to_owned()
}

fn category(rule: Option<&Map<String, Value>>) -> String {
    let tags = rule
        .and_then(|r| r.get("properties"))
        .and_then(|p| p.get("tags"))
        .and_then(Value::as_array);
    if let Some(cwe) = tags
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|t| {
            let lower = t.to_ascii_lowercase();
            let at = lower.find("cwe-")?;
            Some(lower[at..].to_owned())
        })
    {
        return cwe;
    }
    rule.and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .map_or_else(|| "sarif".into(), category_slug)
}

fn location(run: &Value, result: &Value) -> (Location, Option<String>) {
    let first = &result["locations"][0];
    let physical = &first["physicalLocation"];
    let artifact = &physical["artifactLocation"];
    let uri = artifact["uri"].as_str().map(str::to_owned).or_else(|| {
        let i = artifact["index"].as_u64()?;
        run["artifacts"][i as usize]["location"]["uri"]
            .as_str()
            .map(str::to_owned)
    });
    let region = &physical["region"];
    let evidence = region["snippet"]["text"]
        .as_str()
        .map(|s| s.trim().chars().take(200).collect());
    if let Some(uri) = uri {
        let path = match artifact["uriBaseId"].as_str() {
            Some(base) if !uri.contains("://") => format!("%{base}%/{uri}"),
            _ => uri,
        };
        return (
            Location::File {
                path,
                line: region["startLine"].as_u64(),
                column: region["startColumn"].as_u64(),
            },
            evidence,
        );
    }
    let logical = &first["logicalLocations"][0];
    if let Some(name) = logical["fullyQualifiedName"]
        .as_str()
        .or_else(|| logical["name"].as_str())
    {
        return (Location::Logical { name: name.into() }, evidence);
    }
    (Location::Unspecified, evidence)
}

fn suppressed(result: &Value) -> bool {
    result["suppressions"].as_array().is_some_and(|s| {
        s.iter()
            .any(|s| matches!(s["status"].as_str(), None | Some("accepted")))
    })
}

fn normalise(run: &Value, result: &Value) -> Option<Finding> {
    let kind = result["kind"].as_str().unwrap_or("fail");
    if matches!(kind, "pass" | "notApplicable") {
        return None;
    }
    let rule = rule_of(run, result);
    let level = match result["level"].as_str() {
        Some(l) => l,
        None if kind != "fail" => "none",
        None => rule
            .and_then(|r| r.get("defaultConfiguration"))
            .and_then(|c| c.get("level"))
            .and_then(Value::as_str)
            .unwrap_or("warning"),
    };
    let score = result["properties"]["security-severity"].clone();
    let rule_score = rule
        .and_then(|r| r.get("properties"))
        .and_then(|p| p.get("security-severity"))
        .cloned()
        .unwrap_or(Value::Null);
    let severity = score_severity(&score)
        .or_else(|| score_severity(&rule_score))
        .unwrap_or_else(|| level_severity(level));
    let rule_id = result["ruleId"]
        .as_str()
        .or_else(|| result["rule"]["id"].as_str())
        .or_else(|| rule.and_then(|r| r.get("id")).and_then(Value::as_str))
        .unwrap_or("(no rule)")
        .to_owned();
    let (mut location, evidence) = location(run, result);
    let mut category = category(rule);
    // mcpreg's own SARIF carries the exact location and category.
    let own = &result["properties"][MCPREG_PROPERTY];
    if let Ok(l) = serde_json::from_value::<Location>(own["location"].clone()) {
        location = l;
    }
    if let Some(c) = own["category"].as_str() {
        category = c.to_owned();
    }
    let severity = own["severity"]
        .as_str()
        .and_then(parse_scanner_severity)
        .unwrap_or(severity);
    Some(Finding {
        rule: rule_id,
        severity,
        category,
        message: message(result, rule),
        location,
        evidence: own["evidence"].as_str().map(str::to_owned).or(evidence),
        suppressed: suppressed(result),
    })
}
