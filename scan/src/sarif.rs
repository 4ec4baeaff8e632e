//! Findings out as SARIF 2.1.0: one run per report, a rule per distinct rule id, results with
//! `level` from the severity (critical and high → `error`, medium → `warning`, low → `note`,
//! info → `none`) and the exact severity, category and location under
//! `properties.mcpreg`, so that mcpreg reads its own SARIF back unchanged.

use serde_json::{Map, Value, json};

use crate::finding::{Finding, Location, Severity};
use crate::ingest::ScanReport;
use crate::ingest::sarif::MCPREG_PROPERTY;
use crate::scanner::{SCANNER_NAME, rules};

/// The `$schema` written into SARIF logs.
pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A SARIF 2.1.0 log with one run holding a report's findings.
pub fn to_sarif(report: &ScanReport) -> Value {
    to_sarif_runs(std::slice::from_ref(report))
}

/// A SARIF 2.1.0 log with one run per report.
pub fn to_sarif_runs(reports: &[ScanReport]) -> Value {
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": reports.iter().map(run).collect::<Vec<_>>(),
    })
}

fn rule_summary(id: &str) -> Option<&'static str> {
    rules::ALL.iter().find(|r| r.id == id).map(|r| r.summary)
}

fn run(report: &ScanReport) -> Value {
    let mut rule_ids: Vec<&str> = Vec::new();
    for f in &report.findings {
        if !rule_ids.contains(&f.rule.as_str()) {
            rule_ids.push(&f.rule);
        }
    }
    let builtin = report.scanner.name == SCANNER_NAME;
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let mut rule = Map::new();
            rule.insert("id".into(), json!(id));
            let category = report
                .findings
                .iter()
                .find(|f| f.rule == *id)
                .map(|f| f.category.clone())
                .unwrap_or_default();
            if builtin && let Some(summary) = rule_summary(id) {
                rule.insert("shortDescription".into(), json!({"text": summary}));
            }
            rule.insert("properties".into(), json!({"tags": ["security", category]}));
            Value::Object(rule)
        })
        .collect();
    let mut driver = Map::new();
    driver.insert("name".into(), json!(report.scanner.name));
    if let Some(v) = &report.scanner.version {
        driver.insert("version".into(), json!(v));
    }
    driver.insert("rules".into(), Value::Array(rules));
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, rule_ids.iter().position(|r| *r == f.rule)))
        .collect();
    let mut run = Map::new();
    run.insert("tool".into(), json!({"driver": Value::Object(driver)}));
    let mut invocation = Map::new();
    invocation.insert("executionSuccessful".into(), json!(true));
    if let Some(t) = report.scanned_at {
        invocation.insert(
            "endTimeUtc".into(),
            json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
    }
    if !report.notes.is_empty() {
        invocation.insert(
            "toolExecutionNotifications".into(),
            Value::Array(
                report
                    .notes
                    .iter()
                    .map(|n| json!({"message": {"text": n}, "level": "note"}))
                    .collect(),
            ),
        );
    }
    run.insert("invocations".into(), json!([Value::Object(invocation)]));
    run.insert("results".into(), Value::Array(results));
    let mut properties = Map::new();
    properties.insert("format".into(), json!(report.format.as_str()));
    if let Some(d) = &report.scanned_digest {
        properties.insert("scannedDigest".into(), json!(d.to_string()));
    }
    if let Some(s) = &report.subject {
        properties.insert("subject".into(), json!(s));
    }
    run.insert(
        "properties".into(),
        json!({ MCPREG_PROPERTY: Value::Object(properties) }),
    );
    Value::Object(run)
}

fn logical(name: String, kind: &str) -> Value {
    json!([{"fullyQualifiedName": name, "kind": kind}])
}

fn result(f: &Finding, rule_index: Option<usize>) -> Value {
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.rule));
    if let Some(i) = rule_index {
        r.insert("ruleIndex".into(), json!(i));
    }
    r.insert("kind".into(), json!("fail"));
    r.insert("level".into(), json!(sarif_level(f.severity)));
    r.insert("message".into(), json!({"text": f.message}));
    let pointer = |p: &Option<String>| p.clone().unwrap_or_default();
    let location = match &f.location {
        Location::File { path, line, column } => {
            let mut region = Map::new();
            if let Some(l) = line {
                region.insert("startLine".into(), json!(l));
            }
            if let Some(c) = column {
                region.insert("startColumn".into(), json!(c));
            }
            let mut physical = Map::new();
            physical.insert("artifactLocation".into(), json!({"uri": path}));
            if !region.is_empty() {
                physical.insert("region".into(), Value::Object(region));
            }
            Some(json!({"physicalLocation": Value::Object(physical)}))
        }
        Location::Tool { name, pointer: p } => Some(json!({
            "logicalLocations": logical(format!("tools/{name}{}", pointer(p)), "function")
        })),
        Location::Prompt { name, pointer: p } => Some(json!({
            "logicalLocations": logical(format!("prompts/{name}{}", pointer(p)), "object")
        })),
        Location::Resource { uri, pointer: p } => Some(json!({
            "logicalLocations": logical(format!("resources/{uri}{}", pointer(p)), "resource")
        })),
        Location::ResourceTemplate {
            uri_template,
            pointer: p,
        } => Some(json!({
            "logicalLocations": logical(format!("resourceTemplates/{uri_template}{}", pointer(p)), "resource")
        })),
        Location::Instructions => Some(json!({
            "logicalLocations": logical("instructions".into(), "text")
        })),
        Location::Server { name } => Some(json!({
            "logicalLocations": logical(format!("server/{name}"), "module")
        })),
        Location::Logical { name } => Some(json!({
            "logicalLocations": [{"fullyQualifiedName": name}]
        })),
        Location::Unspecified => None,
    };
    if let Some(l) = location {
        r.insert("locations".into(), json!([l]));
    }
    if f.suppressed {
        r.insert(
            "suppressions".into(),
            json!([{"kind": "external", "status": "accepted"}]),
        );
    }
    let mut own = Map::new();
    own.insert("severity".into(), json!(f.severity.as_str()));
    own.insert("category".into(), json!(f.category));
    own.insert(
        "location".into(),
        serde_json::to_value(&f.location).unwrap_or(Value::Null),
    );
    if let Some(e) = &f.evidence {
        own.insert("evidence".into(), json!(e));
    }
    let mut properties = Map::new();
    properties.insert(MCPREG_PROPERTY.into(), Value::Object(own));
    // GitHub code scanning reads this score to rank security results.
    let score = match f.severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Info => "0.0",
    };
    properties.insert("security-severity".into(), json!(score));
    r.insert("properties".into(), Value::Object(properties));
    Value::Object(r)
}

/// The SARIF `level` for a severity: critical and high → `error`, medium → `warning`, low →
/// `note`, info → `none`.
fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
        Severity::Info => "none",
    }
}
