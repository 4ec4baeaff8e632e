//! The one test application: the service's router over a fresh database, the callers a test
//! needs, and the steps most tests take (publish, sign with the test key, attach tools, review).

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use mcpreg_api::admin::Role;
use mcpreg_server::auth::config::AccessConfig;
use mcpreg_trust::TrustRoot;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::response::{Reply, call, send};
use super::{TestDb, test_key_signature, trust_fixture};

/// The service's router over a fresh database, with an admin token; the other callers' tokens are
/// made on first use, so that a test sees no namespace or token it did not ask for.
pub struct TestApp {
    /// The database.
    pub db: TestDb,
    /// The router.
    pub app: Router,
    /// An admin's token (`token:admin`).
    pub admin: String,
    publisher: OnceCell<String>,
    reviewer: OnceCell<String>,
    second_reviewer: OnceCell<String>,
    reader: OnceCell<String>,
}

impl TestApp {
    /// Default access configuration and the production Sigstore trust root.
    pub async fn new() -> Self {
        Self::with_access(AccessConfig::default()).await
    }

    /// This access configuration and the production Sigstore trust root.
    pub async fn with_access(access: AccessConfig) -> Self {
        Self::with_trust(access, TrustRoot::production()).await
    }

    /// This access configuration and this Sigstore trust root.
    pub async fn with_trust(access: AccessConfig, trust_root: TrustRoot) -> Self {
        let db = TestDb::new().await;
        let app = db.app_with_trust(access, trust_root);
        let admin = db.token("admin", Role::Admin).await;
        Self {
            db,
            app,
            admin,
            publisher: OnceCell::new(),
            reviewer: OnceCell::new(),
            second_reviewer: OnceCell::new(),
            reader: OnceCell::new(),
        }
    }

    /// A publisher's token for the namespace `com.acme` (`token:ci`; the namespace is created).
    pub async fn publisher(&self) -> &str {
        self.publisher
            .get_or_init(|| self.db.scoped_token("ci", Role::Publisher, &["com.acme"]))
            .await
    }

    /// A reviewer's token (`token:rev`).
    pub async fn reviewer(&self) -> &str {
        self.reviewer
            .get_or_init(|| self.db.token("rev", Role::Reviewer))
            .await
    }

    /// Another reviewer's token (`token:rev2`), for decisions that need two people.
    pub async fn second_reviewer(&self) -> &str {
        self.second_reviewer
            .get_or_init(|| self.db.token("rev2", Role::Reviewer))
            .await
    }

    /// A reader's token (`token:reader`).
    pub async fn reader(&self) -> &str {
        self.reader
            .get_or_init(|| self.db.token("reader", Role::Reader))
            .await
    }

    /// Sends one request, with a bearer token and a JSON body when given.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        call(&self.app, method, uri, token, body).await
    }

    /// Sends a request built by the test (for the tests about the wire: headers, raw bodies).
    pub async fn send(&self, request: Request<Body>) -> Reply {
        send(&self.app, request).await
    }

    /// `GET` without credentials.
    pub async fn get(&self, uri: &str) -> Reply {
        self.call(Method::GET, uri, None, None).await
    }

    /// Publishes a server.json (or a publish envelope) with this token.
    pub async fn publish(&self, token: &str, body: &Value) -> Reply {
        self.call(Method::POST, "/api/v1/publish", Some(token), Some(body))
            .await
    }

    /// Publishes with this token and asserts that the version was created; returns the answer.
    pub async fn published(&self, token: &str, body: &Value) -> Value {
        let reply = self.publish(token, body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
        reply.body
    }

    /// Makes the P-256 test key (`trust/tests/fixtures/keys/p256.pub`) a trusted signer of the
    /// namespace; returns its key id.
    pub async fn trust_test_key(&self, namespace: &str) -> String {
        let key = std::fs::read_to_string(trust_fixture("keys/p256.pub")).expect("the test key");
        let added = self
            .call(
                Method::POST,
                &format!("/api/v1/namespaces/{namespace}/trusted-signers"),
                Some(&self.admin),
                Some(&json!({ "publicKey": key })),
            )
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{:#}", added.body);
        added.body["keyId"]
            .as_str()
            .expect("a trusted key has a key id")
            .to_owned()
    }

    /// Signs a published server.json with the test key and attaches the signature as `token`.
    pub async fn sign(&self, token: &str, server_json: &Value) {
        let reply = self
            .call(
                Method::POST,
                &format!("{}/signatures", version_uri(server_json)),
                Some(token),
                Some(&test_key_signature(server_json)),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    }

    /// Attaches a tool manifest to a published version as `token`.
    pub async fn attach_tools(
        &self,
        token: &str,
        name: &str,
        version: &str,
        manifest: &mcpreg_scan::ToolManifest,
    ) {
        let manifest = serde_json::to_value(manifest).expect("a manifest is JSON");
        let reply = self
            .call(
                Method::PUT,
                &format!("{}/tools", path(name, version)),
                Some(token),
                Some(&manifest),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    }

    /// The review of a version.
    pub async fn review(&self, name: &str, version: &str) -> Value {
        let reply = self.get(&format!("{}/review", path(name, version))).await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        reply.body
    }

    /// Sends a review decision (`{"action": …}`) as `token`.
    pub async fn decide(&self, token: &str, name: &str, version: &str, decision: &Value) -> Reply {
        self.call(
            Method::POST,
            &format!("{}/review", path(name, version)),
            Some(token),
            Some(decision),
        )
        .await
    }

    /// Approves a version as the reviewer and asserts that it is approved.
    pub async fn approve(&self, name: &str, version: &str) -> Value {
        self.approve_overriding(name, version, json!({})).await
    }

    /// Approves a version as the reviewer, overriding failed gates with these reasons.
    pub async fn approve_overriding(&self, name: &str, version: &str, overrides: Value) -> Value {
        let decision = json!({"action": "approve", "overrides": overrides});
        let reply = self
            .decide(self.reviewer().await, name, version, &decision)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
        assert_eq!(reply.body["state"], "approved", "{:#}", reply.body);
        reply.body
    }

    /// The one number a `select count(*) …` answers.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// `/api/v1/servers/{name}/versions/{version}` with the name URL-encoded.
pub fn path(name: &str, version: &str) -> String {
    format!(
        "/api/v1/servers/{}/versions/{version}",
        name.replace('/', "%2F")
    )
}

fn version_uri(server_json: &Value) -> String {
    path(
        server_json["name"]
            .as_str()
            .expect("a server.json has a name"),
        server_json["version"]
            .as_str()
            .expect("a server.json has a version"),
    )
}
