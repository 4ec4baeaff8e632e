//! The committed OpenAPI document (`openapi/openapi.json`, the contract the README and DESIGN
//! name) is the one the service generates and serves.
//!
//! After an API change, regenerate it with
//! `cargo run -p mcpreg-server -- openapi > openapi/openapi.json`.
//!
//! Bytes, not the typed client: the document and the documentation pages are compared as served.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::util::{TestDb, call, workspace_root};

const COMMITTED: &str = "openapi/openapi.json";

fn generated() -> Value {
    serde_json::to_value(mcpreg_server::router::openapi()).unwrap()
}

fn committed() -> Value {
    let text = std::fs::read_to_string(workspace_root().join(COMMITTED)).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Fails with a unified diff of the two documents (pretty-printed, so that the diff names the
/// lines that differ) rather than two documents of thousands of lines each.
#[track_caller]
fn assert_same_document(expected: (&str, &Value), actual: (&str, &Value)) {
    if expected.1 == actual.1 {
        return;
    }
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap() + "\n";
    let (left, right) = (pretty(expected.1), pretty(actual.1));
    let diff = similar::TextDiff::from_lines(&left, &right)
        .unified_diff()
        .context_radius(3)
        .header(expected.0, actual.0)
        .to_string();
    panic!(
        "{} differs from {}; if the change is intended, run \
         `cargo run -p mcpreg-server -- openapi > {COMMITTED}`\n{diff}",
        actual.0, expected.0
    );
}

#[test]
fn committed_openapi_matches_the_code() {
    assert_same_document((COMMITTED, &committed()), ("generated", &generated()));
}

#[test]
fn openapi_is_3_1_and_documents_the_official_api() {
    let doc = generated();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v0.1/servers",
        "/v0.1/servers/{serverName}/versions",
        "/v0.1/servers/{serverName}/versions/{version}",
        "/api/v1/publish",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids must be unique");
}

#[tokio::test]
async fn the_service_serves_the_same_document_and_a_docs_page() {
    let db = TestDb::new().await;
    let app = db.app();
    let served = call(&app, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_same_document((COMMITTED, &committed()), ("/openapi.json", &served.body));

    let page = call(&app, Method::GET, "/docs/", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.as_str().unwrap_or_default();
    assert!(html.contains("swagger-ui"), "{html}");
    // The page's assets are bundled in the binary: nothing is fetched from elsewhere.
    let css = call(&app, Method::GET, "/docs/swagger-ui.css", None, None).await;
    assert_eq!(css.status, StatusCode::OK);
}
