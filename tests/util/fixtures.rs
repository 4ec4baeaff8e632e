//! Fixture files: this package's own, and mcpreg-trust's and mcpreg-scan's used in place.

use std::path::{Path, PathBuf};

use super::workspace_root;

/// A test fixture file under `tests/fixtures`.
pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// A file of mcpreg-trust's fixtures (`trust/tests/fixtures`: real sigstore bundles, artifacts,
/// trust roots and test keys, with their sources in its README), used here in place rather than
/// copied.
pub fn trust_fixture(path: &str) -> PathBuf {
    workspace_root().join("trust/tests/fixtures").join(path)
}

/// A file of mcpreg-scan's fixtures (`scan/tests/fixtures`: real answers of MCP servers and real
/// scanner reports, with their sources in its README), used in place rather than copied.
pub fn scan_fixture(path: &str) -> PathBuf {
    workspace_root().join("scan/tests/fixtures").join(path)
}

/// A fixture of mcpreg-scan's as JSON.
pub fn scan_fixture_json(path: &str) -> serde_json::Value {
    let bytes = std::fs::read(scan_fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The tool manifest of server-everything's real answers (`scan/tests/fixtures/mcp-servers`,
/// recorded from `@modelcontextprotocol/server-everything` over stdio, a client without
/// capabilities), as `mcpreg tools capture` writes it.
pub fn everything_manifest() -> mcpreg_scan::ToolManifest {
    let file = |what: &str| scan_fixture_json(&format!("mcp-servers/everything.{what}.json"));
    let list = |what: &str, key: &str| {
        file(what)["result"][key]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    mcpreg_scan::ToolManifest::from_capture(mcpreg_scan::manifest::RawCapture {
        initialize_result: file("initialize")["result"].clone(),
        client_capabilities: serde_json::json!({}),
        tools: list("tools", "tools"),
        prompts: list("prompts", "prompts"),
        resources: list("resources", "resources"),
        resource_templates: list("resource-templates", "resourceTemplates"),
    })
    .expect("server-everything's answers make a manifest")
}

/// A manifest of the tools of Cisco's example malicious MCP servers
/// (`scan/tests/fixtures/scans/cisco-mcp-scanner/example-malicious-servers.lists.json`) under a
/// made-up server.
pub fn malicious_manifest() -> mcpreg_scan::ToolManifest {
    let lists = scan_fixture_json("scans/cisco-mcp-scanner/example-malicious-servers.lists.json");
    let get = |k: &str| lists[k].as_array().cloned().unwrap_or_default();
    mcpreg_scan::ToolManifest::from_capture(mcpreg_scan::manifest::RawCapture {
        initialize_result: serde_json::json!({
            "protocolVersion": "2025-11-25",
            "serverInfo": {"name": "helpful-tools", "version": "0.0.1"},
            "capabilities": {"tools": {}},
        }),
        client_capabilities: serde_json::json!({}),
        tools: get("tools"),
        prompts: get("prompts"),
        resources: get("resources"),
        resource_templates: Vec::new(),
    })
    .expect("the lists make a manifest")
}

/// A signature over a server.json by the P-256 test key (`trust/tests/fixtures/keys/p256.key`),
/// as a publish or attach request carries it: `{"bundle": …, "for": "server.json"}`. ECDSA: never
/// the same twice.
pub fn test_key_signature(server_json: &serde_json::Value) -> serde_json::Value {
    let pem = std::fs::read_to_string(trust_fixture("keys/p256.key")).expect("the test key");
    let key = mcpreg_trust::SigningKey::from_pkcs8_pem(&pem).expect("a P-256 key");
    let digest = mcpreg_trust::server_json_digest(server_json);
    let signature = key.sign_digest(&digest).expect("signs");
    let bundle: serde_json::Value =
        serde_json::from_str(&signature.to_json()).expect("the signature is JSON");
    serde_json::json!({"bundle": bundle, "for": "server.json"})
}

/// The `$schema` of the server.json documents the tests publish.
pub const SCHEMA: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

/// The smallest valid server.json: a name, a description and a version.
pub fn server_json(name: &str, version: &str) -> serde_json::Value {
    serde_json::json!({"$schema": SCHEMA, "name": name, "description": "test", "version": version})
}
