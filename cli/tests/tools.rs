//! `mcpreg tools capture` and `mcpreg tools diff` against real MCP servers: server-everything
//! from npm over stdio and Streamable HTTP, mcp-server-time from PyPI, and small misbehaving
//! servers for the error paths.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure there is the test's failure"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::mcp_servers::{HttpEverything, everything_stdio, mcpreg, run, stderr};
use chrono::Utc;
use mcpreg_api::tools::{ContextCost, VersionTools};
use mcpreg_scan::ToolManifest;
use serde_json::{Value, json};

const RICH_CLIENT: &str = r#"{"roots":{"listChanged":true},"sampling":{},"elicitation":{}}"#;

fn capture(extra: &[&str], command: &[String]) -> ToolManifest {
    let out = run(mcpreg()
        .args(["tools", "capture"])
        .args(extra)
        .arg("--")
        .args(command));
    assert!(out.status.success(), "capture failed: {}", stderr(&out));
    ToolManifest::parse(&out.stdout).expect("the capture is a valid manifest")
}

fn fixture_list(file: &str, key: &str) -> Vec<Value> {
    let v: Value =
        serde_json::from_slice(&std::fs::read(crate::mcp_servers::scan_fixture(file)).unwrap())
            .unwrap();
    let mut items = v["result"][key].as_array().unwrap().clone();
    let sort_key = |v: &Value| {
        ["name", "uri", "uriTemplate"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned()
    };
    items.sort_by_key(sort_key);
    items
}

fn as_json<T: serde::Serialize>(items: &[T]) -> Vec<Value> {
    items
        .iter()
        .map(|i| serde_json::to_value(i).unwrap())
        .collect()
}

#[test]
fn stdio_capture_matches_the_real_answers() {
    let m = capture(&[], &everything_stdio());
    assert_eq!(
        as_json(&m.tools),
        fixture_list("mcp-servers/everything.tools.json", "tools")
    );
    assert_eq!(
        as_json(&m.prompts),
        fixture_list("mcp-servers/everything.prompts.json", "prompts")
    );
    assert_eq!(
        as_json(&m.resources),
        fixture_list("mcp-servers/everything.resources.json", "resources")
    );
    assert_eq!(
        as_json(&m.resource_templates),
        fixture_list(
            "mcp-servers/everything.resource-templates.json",
            "resourceTemplates"
        )
    );
    let init: Value = serde_json::from_slice(
        &std::fs::read(crate::mcp_servers::scan_fixture(
            "mcp-servers/everything.initialize.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let init = &init["result"];
    assert_eq!(m.protocol_version, init["protocolVersion"]);
    assert_eq!(
        serde_json::to_value(&m.server_info).unwrap(),
        init["serverInfo"]
    );
    assert_eq!(
        Value::Object(m.server_capabilities.clone()),
        init["capabilities"]
    );
    assert_eq!(m.instructions.as_deref(), init["instructions"].as_str());
    assert_eq!(Value::Object(m.client_capabilities.clone()), json!({}));
    let c = m.capture.as_ref().unwrap();
    assert_eq!(c.transport, "stdio");
    assert!(c.target.ends_with("index.js stdio"), "{}", c.target);
    assert!(m.context_cost.as_ref().unwrap().total_tokens > 1000);
}

#[test]
fn http_capture_pins_the_same_as_stdio() {
    let server = HttpEverything::start();
    let over_http = run(mcpreg().args(["tools", "capture", "--mcp-url", &server.url]));
    assert!(over_http.status.success(), "{}", stderr(&over_http));
    let http = ToolManifest::parse(&over_http.stdout).unwrap();
    assert_eq!(http.capture.as_ref().unwrap().transport, "streamable-http");
    assert_eq!(http.tools.len(), 13);
    assert_eq!(
        as_json(&http.tools),
        fixture_list("mcp-servers/everything.http.tools.json", "tools")
    );
    let stdio = capture(&[], &everything_stdio());
    assert_eq!(http.tools_pin, stdio.tools_pin);
    // And it drifts over HTTP just the same when the client is another.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&stdio).unwrap()).unwrap();
    let d = run(mcpreg()
        .args(["tools", "diff", "--output", "json", "--pinned"])
        .arg(file.path())
        .args([
            "--client-capabilities",
            RICH_CLIENT,
            "--mcp-url",
            &server.url,
        ]));
    assert_eq!(d.status.code(), Some(3), "{}", stderr(&d));
}

#[test]
fn another_client_sees_other_tools_and_diff_reports_drift() {
    let plain = capture(&[], &everything_stdio());
    let rich = capture(&["--client-capabilities", RICH_CLIENT], &everything_stdio());
    // The 16 tools the real server lists for that client, none missed to a race with its
    // list_changed notifications.
    assert_eq!(
        as_json(&rich.tools),
        fixture_list("mcp-servers/everything.client-caps.tools.json", "tools")
    );
    assert!(rich.capture.as_ref().unwrap().list_changed_notifications >= 1);
    assert_eq!(
        Value::Object(rich.client_capabilities.clone()),
        serde_json::from_str::<Value>(RICH_CLIENT).unwrap()
    );
    assert_ne!(plain.tools_pin, rich.tools_pin);

    let pinned = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(pinned.path(), serde_json::to_vec_pretty(&plain).unwrap()).unwrap();
    let out = run(mcpreg()
        .args(["tools", "diff", "--output", "json", "--pinned"])
        .arg(pinned.path())
        .args(["--client-capabilities", RICH_CLIENT, "--"])
        .args(everything_stdio()));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        d["tools"]["added"],
        json!([
            "get-roots-list",
            "trigger-elicitation-request",
            "trigger-sampling-request"
        ])
    );
    assert_eq!(d["tools"]["removed"], json!([]));
    assert_ne!(d["pinnedPin"], d["livePin"]);

    // The same server and client as pinned: no drift, exit 0, and a readable line.
    let out = run(mcpreg()
        .args(["tools", "diff", "--pinned"])
        .arg(pinned.path())
        .arg("--")
        .args(everything_stdio()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("no drift: tools pin sha256:"));
}

#[test]
fn a_wrapper_that_alters_tools_is_drift_and_the_scanner_catches_it() {
    let clean = capture(&[], &everything_stdio());
    let pinned = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(pinned.path(), serde_json::to_vec(&clean).unwrap()).unwrap();
    let mut wrapped = vec![
        "node".to_owned(),
        crate::mcp_servers::node_dir()
            .join("rug-pull.mjs")
            .to_string_lossy()
            .into_owned(),
    ];
    wrapped.extend(everything_stdio());

    let out = run(mcpreg()
        .args(["tools", "diff", "--pinned"])
        .arg(pinned.path())
        .arg("--")
        .args(&wrapped));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("DRIFT: tools pin"), "{text}");
    assert!(
        text.contains("> tool get-sum renamed to add (same content)"),
        "{text}"
    );
    assert!(text.contains("~ tool echo changed: description"), "{text}");
    assert!(
        !text.contains("+ tool add"),
        "a rename is not an add: {text}"
    );

    // The poisoned manifest fails the built-in scan.
    let live = capture(&[], &wrapped);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&live).unwrap()).unwrap();
    let scan = run(mcpreg().arg("scan").arg(file.path()));
    assert_eq!(scan.status.code(), Some(3), "{}", stderr(&scan));
    let sarif: Value = serde_json::from_slice(&scan.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().any(|r| r["level"] == "error"
            && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                == "tools/echo/description"),
        "{sarif:#}"
    );
}

#[test]
fn a_python_server_from_pypi() {
    let exe = crate::mcp_servers::mcp_server_time();
    let m = capture(
        &[],
        &[
            exe.to_string_lossy().into_owned(),
            "--local-timezone".into(),
            "UTC".into(),
        ],
    );
    assert_eq!(m.server_info.name, "mcp-time");
    let names: Vec<&str> = m.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["convert_time", "get_current_time"]);
    assert!(m.tools.iter().all(|t| t.input_schema["type"] == "object"));
    // Its descriptions tell the model things ("Use 'UTC' as local timezone if…") but nothing
    // the scanner should raise above low.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&m).unwrap()).unwrap();
    let scan = run(mcpreg().arg("scan").arg(file.path()));
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
}

/// Runs a capture that must fail, returning its stderr and how long it took.
fn failing_capture(extra: &[&str], command: &[&str]) -> (String, Duration) {
    let started = Instant::now();
    let out = run(mcpreg()
        .args(["tools", "capture"])
        .args(extra)
        .arg("--")
        .args(command));
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a failure: {}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
    (stderr(&out), took)
}

fn bad_server(mode: &str) -> Vec<String> {
    vec![
        "node".into(),
        crate::mcp_servers::node_dir()
            .join("bad-server.mjs")
            .to_string_lossy()
            .into_owned(),
        mode.into(),
    ]
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_server_that_does_not_start() {
    let (e, _) = failing_capture(&[], &["/nonexistent/mcp-server"]);
    assert!(
        e.contains("cannot start the server: `/nonexistent/mcp-server`"),
        "{e}"
    );
    let (e, _) = failing_capture(
        &[],
        &[
            "node",
            "-e",
            "console.error('missing API key'); process.exit(3)",
        ],
    );
    assert!(e.contains("missing API key"), "{e}");
    assert!(e.contains("exit status: 3"), "{e}");
    // Nothing listening at an HTTP endpoint.
    let port = crate::mcp_servers::free_port().to_string();
    let out = run(mcpreg().args([
        "tools",
        "capture",
        "--mcp-url",
        &format!("http://127.0.0.1:{port}/mcp"),
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("cannot connect to 127.0.0.1:{port}")),
        "{}",
        stderr(&out)
    );
    // Neither a command nor an endpoint: a usage error.
    assert_eq!(
        run(mcpreg().args(["tools", "capture"])).status.code(),
        Some(2)
    );
}

#[test]
fn a_server_that_hangs_or_speaks_something_else() {
    let (e, took) = failing_capture(
        &["--start-timeout", "2"],
        &["node", "-e", "setInterval(() => {}, 1000)"],
    );
    assert!(
        e.contains("starting the server and `initialize` did not finish within 2s"),
        "{e}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    let (e, _) = failing_capture(&["--start-timeout", "2"], &refs(&bad_server("not-json")));
    assert!(
        e.contains("not JSON-RPC") && e.contains("This is a web server"),
        "{e}"
    );
    let (e, _) = failing_capture(&[], &refs(&bad_server("wrong-result")));
    assert!(
        e.contains("the server's answer to `initialize` is not an initialize result"),
        "{e}"
    );
    assert!(e.contains(r#"{"hello":"world"}"#), "{e}");
    let (e, took) = failing_capture(&["--request-timeout", "2"], &refs(&bad_server("hang-list")));
    assert!(e.contains("tools/list did not finish within 2s"), "{e}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_server_that_lists_too_much() {
    let (e, _) = failing_capture(&["--max-message-mib", "1"], &refs(&bad_server("huge")));
    assert!(e.contains("larger than 1048576 bytes"), "{e}");
    let (e, _) = failing_capture(&["--max-items", "100"], &refs(&bad_server("many")));
    assert!(e.contains("the server lists more than 100 tools"), "{e}");
    // 500 tools in 10 pages are fine with the default limits.
    let m = capture(&[], &bad_server("many"));
    assert_eq!(m.tools.len(), 500);
    let (e, _) = failing_capture(&[], &refs(&bad_server("endless-pages")));
    assert!(e.contains("tools/list has more than 100 pages"), "{e}");
}

/// A stand-in registry that answers every request with `status` and `body`, recording the
/// request lines it saw.
fn stub_registry(
    status: &'static str,
    body: String,
) -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line.trim().to_owned());
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.flush();
            let mut rest = Vec::new();
            let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
            let _ = stream.read_to_end(&mut rest);
        }
    });
    (url, rx)
}

#[test]
fn diff_against_a_registry_version() {
    // The version has no manifest: a clear message, exit 4.
    let (url, seen) = stub_registry(
        "404 Not Found",
        json!({"type": "about:blank", "title": "Not Found", "status": 404, "code": "tools_not_found", "detail": "no manifest"}).to_string(),
    );
    let diff = |url: &str| {
        run(mcpreg()
            .args([
                "--url",
                url,
                "tools",
                "diff",
                "io.github.modelcontextprotocol/server-everything@2026.8.31",
                "--",
            ])
            .args(everything_stdio()))
    };
    let out = diff(&url);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has no tool manifest"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        seen.recv_timeout(Duration::from_secs(5)).unwrap(),
        "GET /api/v1/servers/io.github.modelcontextprotocol%2Fserver-everything/versions/2026.8.31/tools HTTP/1.1"
    );

    // The registry's answer (`GET …/tools`): the manifest, its pin checked, then compared.
    let pinned = capture(&[], &everything_stdio());
    let pin = pinned.tools_pin.unwrap().to_string();
    // What the registry answers: a whole `VersionTools`, decoded as the client decodes it.
    let answer = |manifest: Value, pin: &str| {
        serde_json::to_string(&VersionTools {
            name: "io.github.modelcontextprotocol/server-everything".into(),
            version: "2026.8.31".into(),
            manifest: serde_json::value::to_raw_value(&manifest).unwrap(),
            tools_pin: pin.into(),
            context_cost: ContextCost {
                encoding: "o200k_base".into(),
                total_tokens: 0,
                tools_tokens: 0,
                instructions_tokens: 0,
                tools: Vec::new(),
            },
            tool_count: pinned.tools.len() as u32,
            server_info_name: pinned.server_info.name.clone(),
            highest_severity: None,
            attached_by: "stub".into(),
            attached_at: Utc::now(),
        })
        .unwrap()
    };
    let (url, _) = stub_registry(
        "200 OK",
        answer(serde_json::to_value(&pinned).unwrap(), &pin),
    );
    let out = diff(&url);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // A manifest whose content does not match its pin is refused.
    let mut tampered = serde_json::to_value(&pinned).unwrap();
    tampered["tools"][0]["description"] = json!("changed after pinning");
    let (url, _) = stub_registry("200 OK", answer(tampered, &pin));
    let out = diff(&url);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not check out: toolsPin"),
        "{}",
        stderr(&out)
    );

    // So is an answer whose stated pin is not its manifest's.
    let other = format!("sha256:{}", "1".repeat(64));
    let (url, _) = stub_registry(
        "200 OK",
        answer(serde_json::to_value(&pinned).unwrap(), &other),
    );
    let out = diff(&url);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("states tools pin"),
        "{}",
        stderr(&out)
    );
}
