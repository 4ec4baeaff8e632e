//! Ingestion of every real scanner output in `fixtures/scans`.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure there is the test's failure"
)]

use std::fs;

use mcpreg_scan::ingest::{IngestError, ReportFormat, ingest, ingest_as};
use mcpreg_scan::{Location, Severity};
use serde_json::json;

fn files(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(crate::util::fixture(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_sarif_2_1_0_example_is_accepted() {
    let examples = files("scans/sarif/examples-2.1.0");
    assert_eq!(examples.len(), 31);
    for (name, bytes) in examples {
        let report = ingest(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.format, ReportFormat::Sarif, "{name}");
    }
}

#[test]
fn sarif_2_2_is_rejected_at_its_version() {
    for (name, bytes) in files("scans/sarif/examples-2.2") {
        let e = ingest(&bytes).unwrap_err();
        assert!(
            matches!(e, IngestError::UnsupportedSarifVersion { .. }),
            "{name}: {e}"
        );
        assert_eq!(e.path(), "$.version", "{name}");
        assert!(e.to_string().contains("\"2.2\""), "{e}");
    }
}

#[test]
fn invalid_sarif_names_the_path_of_the_problem() {
    let mut doc: serde_json::Value = serde_json::from_slice(&crate::util::bytes(
        "scans/bandit/cisco-example-malicious-mcp-servers.bandit.sarif",
    ))
    .unwrap();
    doc["runs"][0]["results"][3]["level"] = json!("catastrophic");
    let e = ingest(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
    assert!(matches!(e, IngestError::Schema { .. }), "{e}");
    assert_eq!(e.path(), "$.runs[0].results[3].level", "{e}");
    doc["runs"][0]["results"][3]["level"] = json!("error");
    doc["runs"][0]["tool"]["driver"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let e = ingest(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
    assert_eq!(e.path(), "$.runs[0].tool.driver", "{e}");
    assert!(e.to_string().contains("name"), "{e}");
}

#[test]
fn bandit_sarif_gets_sarif_defaults() {
    let r = ingest(&crate::util::bytes(
        "scans/bandit/cisco-example-malicious-mcp-servers.bandit.sarif",
    ))
    .unwrap();
    assert_eq!(r.scanner.name, "Bandit");
    assert_eq!(
        r.scanned_at.unwrap().to_rfc3339(),
        "2026-11-23T20:00:31+00:00"
    );
    assert_eq!(r.findings.len(), 10);
    let by_rule = |id: &str| r.findings.iter().find(|f| f.rule == id).unwrap();
    // `level` absent → SARIF's default `warning` → medium.
    for id in ["B307", "B102", "B113"] {
        assert_eq!(by_rule(id).severity, Severity::Medium, "{id}");
    }
    assert_eq!(by_rule("B602").severity, Severity::High);
    assert_eq!(by_rule("B404").severity, Severity::Low);
    assert_eq!(by_rule("B602").category, "cwe-78");
    let Location::File { path, line, .. } = &by_rule("B404").location else {
        panic!()
    };
    assert_eq!(
        path,
        "examples/example-malicious-servers/example_behavioural_malicious_server.py"
    );
    assert_eq!(*line, Some(27));
    assert_eq!(
        by_rule("B404").evidence.as_deref(),
        Some("import subprocess")
    );

    let clean = ingest(&crate::util::bytes(
        "scans/bandit/mcp-server-fetch+time.bandit.sarif",
    ))
    .unwrap();
    assert!(clean.findings.is_empty());
}

#[test]
fn sarif_rule_metadata_messages_and_suppressions() {
    let r = ingest(&crate::util::bytes(
        "scans/sarif/examples-2.1.0/DefaultRuleConfiguration.sarif",
    ))
    .unwrap();
    let severities: Vec<_> = r.findings.iter().map(|f| f.severity).collect();
    assert_eq!(severities, [Severity::High, Severity::Medium]);
    let r = ingest(&crate::util::bytes(
        "scans/sarif/examples-2.1.0/3-Beyond-basics__message-with-arguments.sarif",
    ))
    .unwrap();
    assert!(
        !r.findings[0].message.contains("{0}"),
        "{}",
        r.findings[0].message
    );
    assert!(
        r.findings[0].message.contains('x'),
        "{}",
        r.findings[0].message
    );
    // Suppressed: a suppression that is accepted or has no status. (The tutorial's two
    // under-review cases contradict each other; under review counts as not suppressed.)
    let r = ingest(&crate::util::bytes(
        "scans/sarif/examples-2.1.0/Suppressions.sarif",
    ))
    .unwrap();
    assert_eq!(r.findings.len(), 9);
    for f in &r.findings {
        let m = &f.message;
        if m.contains("not suppressed") || m.contains("suppression was rejected") {
            assert!(!f.suppressed, "{m}");
        } else if m.contains("suppressed in source")
            || m.contains("suppressed externally")
            || m.contains("was accepted")
            || m.contains("unqualified suppression")
        {
            assert!(f.suppressed, "{m}");
        }
    }
    let r = ingest(&crate::util::bytes(
        "scans/sarif/examples-2.1.0/ExceptionalConditions__Catastrophic_execution_error.sarif",
    ))
    .unwrap();
    assert!(r.notes[0].contains("Out of memory"), "{:?}", r.notes);
    let r = ingest(&crate::util::bytes(
        "scans/sarif/examples-2.1.0/ExceptionalConditions__No_runs.sarif",
    ))
    .unwrap();
    assert!(r.findings.is_empty());
}

#[test]
fn cisco_raw_output_is_normalised() {
    let r = ingest(&crate::util::bytes(
        "scans/cisco-mcp-scanner/upstream-samples.static.yara.raw.json",
    ))
    .unwrap();
    assert_eq!(r.format, ReportFormat::CiscoMcpScanner);
    assert_eq!(r.scanner.name, "cisco-ai-mcp-scanner");
    let at = |l: &str| {
        r.findings
            .iter()
            .filter(|f| f.location.to_string() == l)
            .collect::<Vec<_>>()
    };
    let exec = at("tool execute_command");
    assert_eq!(exec.len(), 2);
    assert!(exec.iter().all(|f| f.severity == Severity::High));
    assert_eq!(exec[0].rule, "yara_analyzer/CODE EXECUTION");
    assert_eq!(exec[0].category, "code-execution");
    assert!(
        exec[0].message.contains("AISubtech-9.1.1"),
        "{}",
        exec[0].message
    );
    assert_eq!(at("tool malicious_tool")[0].severity, Severity::High);
    assert_eq!(at("prompt evil_prompt")[0].severity, Severity::Low);
    assert_eq!(
        at("resource file:///etc/passwd")[0].severity,
        Severity::High
    );
    assert!(at("tool add").is_empty());
    assert_eq!(r.findings.len(), 5);

    let bare = ingest(&crate::util::bytes(
        "scans/cisco-mcp-scanner/upstream-sample-tools.static.yara.bare-array.json",
    ))
    .unwrap();
    assert_eq!(bare.format, ReportFormat::CiscoMcpScanner);
    assert_eq!(bare.findings.len(), 3);

    for clean in [
        "everything.stdio.yara.raw.json",
        "everything.static.yara.raw.json",
        "upstream-readiness-fixtures.static.yara+readiness.raw.json",
    ] {
        let r = ingest(&crate::util::bytes(&format!(
            "scans/cisco-mcp-scanner/{clean}"
        )))
        .unwrap();
        assert!(r.findings.is_empty(), "{clean}: {:?}", r.findings);
    }
    let r = ingest(&crate::util::bytes(
        "scans/cisco-mcp-scanner/upstream-docs.complete-example.raw.json",
    ))
    .unwrap();
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "yara_analyzer/CODE EXECUTION",
            "llm_analyzer/PROMPT INJECTION",
            "llm_analyzer/DATA EXFILTRATION",
            "llm_analyzer/PROMPT INJECTION"
        ]
    );
    assert_eq!(r.findings[3].severity, Severity::Medium);
}

#[test]
fn cisco_with_a_bad_severity_names_the_path() {
    let mut v: serde_json::Value =
        crate::util::json("scans/cisco-mcp-scanner/upstream-samples.static.yara.raw.json");
    v["scan_results"][1]["findings"]["yara_analyzer"]["severity"] = json!("APOCALYPTIC");
    let e = ingest(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(
        e.path(),
        "$.scan_results[1].findings.yara_analyzer.severity"
    );
}

#[test]
fn mcp_scan_inspect_and_scan_output() {
    let r = ingest(&crate::util::bytes(
        "scans/invariant-mcp-scan/everything.inspect.json",
    ))
    .unwrap();
    assert_eq!(r.format, ReportFormat::McpScan);
    assert_eq!(r.scanner.name, "mcp-scan");
    assert!(r.findings.is_empty());
    assert_eq!(r.subject.as_deref(), Some("mcp-config.everything.json"));

    // A `scan` result has the same shape plus issues (mcp-scan's models.py); `reference` indexes
    // prompts, resources, resource templates, then tools.
    let mut v = crate::util::json("scans/invariant-mcp-scan/everything.inspect.json");
    v["mcp-config.everything.json"]["issues"] = json!([
        {"code": "W001", "message": "Tool description contains dangerous words", "reference": [0, 13], "extra_data": null},
        {"code": "E001", "message": "Prompt injection in prompt", "reference": [0, 0]},
        {"code": "X002", "message": "Server could not be verified", "reference": [0, null]},
        {"code": "TF001", "message": "Data leak toxic flow", "reference": null}
    ]);
    let r = ingest(&serde_json::to_vec(&v).unwrap()).unwrap();
    let got: Vec<(String, Severity, String)> = r
        .findings
        .iter()
        .map(|f| (f.rule.clone(), f.severity, f.location.to_string()))
        .collect();
    assert_eq!(
        got,
        [
            ("W001".into(), Severity::Medium, "tool echo".into()),
            ("E001".into(), Severity::High, "prompt simple-prompt".into()),
            ("X002".into(), Severity::Low, "server everything".into()),
            (
                "TF001".into(),
                Severity::High,
                "mcp-config.everything.json".into()
            ),
        ]
    );
    v["mcp-config.everything.json"]["issues"][0]["reference"] = json!([3, 0]);
    let e = ingest(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(
        e.path(),
        "$[\"mcp-config.everything.json\"].issues[0].reference[0]"
    );
    v["mcp-config.everything.json"]["issues"][0]["code"] = json!(5);
    let e = ingest(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(
        e.path(),
        "$[\"mcp-config.everything.json\"].issues[0].code",
        "{e}"
    );
}

#[test]
fn unknown_formats_are_rejected() {
    // bandit's own JSON is a real scanner output, but not one mcpreg reads.
    let e = ingest(&crate::util::bytes(
        "scans/bandit/cisco-example-malicious-mcp-servers.bandit.json",
    ))
    .unwrap_err();
    assert!(matches!(e, IngestError::UnknownFormat { .. }), "{e}");
    assert_eq!(e.path(), "$");
    // A tools/list answer is not a report either.
    let e = ingest(&crate::util::bytes(
        "scans/cisco-mcp-scanner/upstream-sample-tools.json",
    ))
    .unwrap_err();
    assert!(matches!(e, IngestError::UnknownFormat { .. }), "{e}");
    // Named formats are not guessed.
    let e = ingest_as(ReportFormat::CiscoMcpScanner, b"{\"runs\": []}").unwrap_err();
    assert_eq!(e.path(), "$.scan_results");
}
