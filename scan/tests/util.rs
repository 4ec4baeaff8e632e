//! Shared helpers: fixtures and manifests built from them.

use std::path::PathBuf;

use mcpreg_scan::manifest::{RawCapture, ToolManifest};
use serde_json::Value;

/// A fixture file's path.
pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// A fixture file's bytes.
pub fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture file as JSON.
pub fn json(path: &str) -> Value {
    serde_json::from_slice(&bytes(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn list(v: &Value, key: &str) -> Vec<Value> {
    v["result"][key].as_array().cloned().unwrap_or_default()
}

/// The manifest of server-everything's real answers: `prefix` is `everything` (a client without
/// capabilities) or `everything.client-caps` (roots, sampling, elicitation).
pub fn everything(prefix: &str, client_capabilities: Value) -> ToolManifest {
    let file = |what: &str| json(&format!("mcp-servers/{prefix}.{what}.json"));
    ToolManifest::from_capture(RawCapture {
        initialize_result: file("initialize")["result"].clone(),
        client_capabilities,
        tools: list(&file("tools"), "tools"),
        prompts: list(&file("prompts"), "prompts"),
        resources: list(&file("resources"), "resources"),
        resource_templates: list(&file("resource-templates"), "resourceTemplates"),
    })
    .expect("server-everything's answers make a manifest")
}

/// A manifest of bare lists (`{"tools": [...], "prompts": [...], "resources": [...]}` files, the
/// shape Cisco's scanner reads) under a made-up server.
pub fn from_lists(name: &str, lists: &[&str]) -> ToolManifest {
    let mut raw = RawCapture {
        initialize_result: serde_json::json!({
            "protocolVersion": "2025-11-25",
            "serverInfo": {"name": name, "version": "0.0.0"},
            "capabilities": {"tools": {}},
        }),
        client_capabilities: serde_json::json!({}),
        ..Default::default()
    };
    for path in lists {
        let v = json(path);
        let get = |k: &str| v[k].as_array().cloned().unwrap_or_default();
        raw.tools.extend(get("tools"));
        raw.prompts.extend(get("prompts"));
        raw.resources.extend(get("resources"));
    }
    ToolManifest::from_capture(raw).expect("the lists make a manifest")
}
