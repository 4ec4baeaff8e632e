//! The committed OpenAPI document is the one the service generates and serves.
//!
//! After an API change, regenerate it with
//! `cargo run -p mcpreg-server -- openapi > openapi/openapi.json`.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use mcpreg_tests::{TestDb, workspace_root};
use serde_json::Value;
use tower::ServiceExt;

fn generated() -> Value {
    serde_json::to_value(mcpreg_server::router::openapi()).unwrap()
}

#[test]
fn committed_openapi_matches_the_code() {
    let path = workspace_root().join("openapi").join("openapi.json");
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
            .unwrap_or(Value::Null);
    assert!(
        committed == generated(),
        "{} is out of date: run `cargo run -p mcpreg-server -- openapi > openapi/openapi.json`",
        path.display()
    );
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
    let response = db
        .app()
        .oneshot(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .unwrap();
    let served: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(served, generated());

    let response = db
        .app()
        .oneshot(Request::get("/docs/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .unwrap();
    let html = String::from_utf8_lossy(&bytes);
    assert!(html.contains("swagger-ui"), "{html}");
    // The page's assets are bundled in the binary: nothing is fetched from elsewhere.
    let response = db
        .app()
        .oneshot(
            Request::get("/docs/swagger-ui.css")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
