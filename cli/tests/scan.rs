//! `mcpreg scan MANIFEST`: SARIF on stdout, exit 0 when nothing is above low, 3 otherwise.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure there is the test's failure"
)]

mod mcp_servers;

use mcp_servers::{mcpreg, run, stderr};
use mcpreg_scan::manifest::{RawCapture, ToolManifest};
use serde_json::{Value, json};

fn fixture(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(mcp_servers::scan_fixture(path)).unwrap()).unwrap()
}

fn manifest_file(m: &ToolManifest) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), serde_json::to_vec_pretty(m).unwrap()).unwrap();
    f
}

fn everything() -> ToolManifest {
    let list = |file: &str, key: &str| {
        fixture(&format!("mcp-servers/everything.{file}.json"))["result"][key]
            .as_array()
            .unwrap()
            .clone()
    };
    ToolManifest::from_capture(RawCapture {
        initialize_result: fixture("mcp-servers/everything.initialize.json")["result"].clone(),
        client_capabilities: json!({}),
        tools: list("tools", "tools"),
        prompts: list("prompts", "prompts"),
        resources: list("resources", "resources"),
        resource_templates: list("resource-templates", "resourceTemplates"),
    })
    .unwrap()
}

fn malicious() -> ToolManifest {
    let lists = fixture("scans/cisco-mcp-scanner/example-malicious-servers.lists.json");
    let get = |k: &str| lists[k].as_array().unwrap().clone();
    ToolManifest::from_capture(RawCapture {
        initialize_result: json!({"protocolVersion": "2025-11-25", "serverInfo": {"name": "Malicious Server", "version": "1.0.0"}, "capabilities": {"tools": {}}}),
        client_capabilities: json!({}),
        tools: get("tools"),
        prompts: get("prompts"),
        resources: get("resources"),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn server_everything_passes_with_valid_sarif() {
    let file = manifest_file(&everything());
    let out = run(mcpreg().arg("scan").arg(file.path()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(mcpreg_scan::ingest::sarif::validate(&sarif).is_empty());
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["name"], "mcpreg-scan");
    for r in sarif["runs"][0]["results"].as_array().unwrap() {
        assert!(matches!(r["level"].as_str(), Some("note" | "none")), "{r}");
    }
}

#[test]
fn poisoned_tools_fail_with_errors_in_sarif() {
    let m = malicious();
    let file = manifest_file(&m);
    let out = run(mcpreg().arg("scan").arg(file.path()));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(mcpreg_scan::ingest::sarif::validate(&sarif).is_empty());
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let error_at = |tool: &str| {
        results.iter().any(|r| {
            r["level"] == "error"
                && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .is_some_and(|n| {
                        n == format!("tools/{tool}") || n.starts_with(&format!("tools/{tool}/"))
                    })
        })
    };
    for tool in [
        "add",
        "send_email",
        "send_mail",
        "get_workstation_environment",
        "get_fact_of_the_day",
        "execute_system_command",
    ] {
        assert!(error_at(tool), "{tool}");
    }
    assert!(!error_at("get_system_info"));
    // The digest scanned is the manifest's tools pin.
    assert_eq!(
        sarif["runs"][0]["properties"]["mcpreg"]["scannedDigest"],
        m.tools_pin.as_ref().unwrap().to_string()
    );
    // People get a summary on stderr.
    assert!(
        stderr(&out).contains("CRITICAL poisoned-item"),
        "{}",
        stderr(&out)
    );

    // --output json: the normalised report.
    let out = run(mcpreg().args(["--output", "json", "scan"]).arg(file.path()));
    assert_eq!(out.status.code(), Some(3));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["scanner"]["name"], "mcpreg-scan");
    assert_eq!(report["findings"][0]["severity"], "critical");
}

#[test]
fn look_alike_server_names_are_caught() {
    let mut m = everything();
    m.server_info.name = "com.acme/gіthub".into(); // Cyrillic і
    m.seal();
    let file = manifest_file(&m);
    let out = run(mcpreg()
        .arg("scan")
        .arg(file.path())
        .args(["--known-server", "com.acme/github"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("server-name-imitation"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_manifests_are_refused_with_the_path() {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), br#"{"manifestVersion": 1, "protocolVersion": "2025-11-25", "serverInfo": {"name": "x"}, "tools": [{"name": 7}]}"#).unwrap();
    let out = run(mcpreg().arg("scan").arg(f.path()));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("tools[0].name"), "{}", stderr(&out));

    let mut v = serde_json::to_value(everything()).unwrap();
    v["tools"][3]["description"] = json!("quietly changed");
    std::fs::write(f.path(), serde_json::to_vec(&v).unwrap()).unwrap();
    let out = run(mcpreg().arg("scan").arg(f.path()));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("toolsPin: the manifest says sha256:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    // `mcpreg scan … | head -0`: the reader is gone before the first write.
    let file = manifest_file(&malicious());
    let mut child = mcpreg()
        .arg("scan")
        .arg(file.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
