//! The one test application: the service's router over a fresh database, served on a port of
//! its own for the typed client, the callers a test needs, and the steps most tests take
//! (publish, sign with the test key, attach tools, review), each through the typed client.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use mcpreg_api::admin::Role;
use mcpreg_api::registry::ServerResponse;
use mcpreg_api::review::{ReviewAction, ReviewRequest, ReviewState, VersionReview};
use mcpreg_api::trust::{NewSignature, NewTrustedSigner};
use mcpreg_client::Client;
use mcpreg_server::auth::config::AccessConfig;
use mcpreg_trust::TrustRoot;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::response::{Reply, call, send};
use super::{TestDb, test_key_signature, trust_fixture};

/// The service's router over a fresh database, with an admin token; the other callers' tokens are
/// made on first use, so that a test sees no namespace or token it did not ask for.
///
/// The router is both served on `127.0.0.1` (for [`TestApp::client`], the way every caller of the
/// registry reaches it) and kept for in-process requests ([`TestApp::call`], [`TestApp::send`]),
/// which the tests about the raw wire use.
pub struct TestApp {
    /// The database.
    pub db: TestDb,
    /// The router.
    pub app: Router,
    /// The base URL the router is served at, `http://127.0.0.1:PORT`.
    pub url: String,
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
        let url = serve(app.clone()).await;
        let this = Self {
            db,
            app,
            url,
            admin,
            publisher: OnceCell::new(),
            reviewer: OnceCell::new(),
            second_reviewer: OnceCell::new(),
            reader: OnceCell::new(),
        };
        this.ready().await;
        this
    }

    /// Waits until the replica says it is ready (its read model has loaded), as an orchestrator
    /// would before sending it traffic.
    pub async fn ready(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.get("/readyz").await.status != axum::http::StatusCode::OK {
            assert!(
                std::time::Instant::now() < deadline,
                "the replica never became ready"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
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

    /// The typed client of this registry, with this token (none: anonymous).
    pub fn client(&self, token: Option<&str>) -> Client {
        Client::new(&self.url, token.map(str::to_owned), Duration::from_secs(60))
            .expect("the test server's URL is a registry URL")
    }

    /// The typed client without credentials.
    pub fn anonymous_client(&self) -> Client {
        self.client(None)
    }

    /// The typed client as the admin.
    pub fn admin_client(&self) -> Client {
        self.client(Some(&self.admin))
    }

    /// The typed client as the publisher of `com.acme`.
    pub async fn publisher_client(&self) -> Client {
        self.client(Some(self.publisher().await))
    }

    /// The typed client as the reviewer.
    pub async fn reviewer_client(&self) -> Client {
        self.client(Some(self.reviewer().await))
    }

    /// The typed client as the reader.
    pub async fn reader_client(&self) -> Client {
        self.client(Some(self.reader().await))
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

    /// Publishes a server.json with this token through the client.
    pub async fn publish(
        &self,
        token: &str,
        server_json: &Value,
    ) -> mcpreg_client::Result<ServerResponse> {
        self.client(Some(token))
            .publish_server_json(server_json)
            .await
    }

    /// Publishes a server.json with this token through the client, and asserts that the version
    /// was created; returns the answer.
    pub async fn published(&self, token: &str, server_json: &Value) -> ServerResponse {
        self.publish(token, server_json)
            .await
            .unwrap_or_else(|e| panic!("publishing failed: {e:?}"))
    }

    /// Makes the P-256 test key (`trust/tests/fixtures/keys/p256.pub`) a trusted signer of the
    /// namespace; returns its key id.
    pub async fn trust_test_key(&self, namespace: &str) -> String {
        let key = std::fs::read_to_string(trust_fixture("keys/p256.pub")).expect("the test key");
        let signer = NewTrustedSigner {
            server: None,
            identity: None,
            identity_pattern: None,
            issuer: None,
            public_key: Some(key),
        };
        let added = self
            .admin_client()
            .add_trusted_signer(namespace, &signer)
            .await
            .unwrap_or_else(|e| panic!("the test key is trusted: {e:?}"));
        added.key_id.expect("a trusted key has a key id")
    }

    /// Signs a published server.json with the test key and attaches the signature as `token`.
    pub async fn sign(&self, token: &str, server_json: &Value) {
        let signature: NewSignature = serde_json::from_value(test_key_signature(server_json))
            .expect("the test key's signature is a signature request");
        self.client(Some(token))
            .attach_signature(
                server_json["name"]
                    .as_str()
                    .expect("a server.json has a name"),
                server_json["version"]
                    .as_str()
                    .expect("a server.json has a version"),
                &signature,
            )
            .await
            .unwrap_or_else(|e| panic!("the signature is attached: {e:?}"));
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
        self.client(Some(token))
            .attach_version_tools(name, version, &manifest)
            .await
            .unwrap_or_else(|e| panic!("the tools are attached: {e:?}"));
    }

    /// The review of a version.
    pub async fn review(&self, name: &str, version: &str) -> VersionReview {
        self.anonymous_client()
            .review(name, version)
            .await
            .unwrap_or_else(|e| panic!("the review of {name} {version}: {e:?}"))
    }

    /// Sends a review decision as `token`.
    pub async fn decide(
        &self,
        token: &str,
        name: &str,
        version: &str,
        decision: &ReviewRequest,
    ) -> mcpreg_client::Result<VersionReview> {
        self.client(Some(token))
            .decide_review(name, version, decision)
            .await
    }

    /// Approves a version as the reviewer and asserts that it is approved.
    pub async fn approve(&self, name: &str, version: &str) -> VersionReview {
        self.approve_overriding(name, version, &[]).await
    }

    /// Approves a version as the reviewer, overriding failed gates with these reasons.
    pub async fn approve_overriding(
        &self,
        name: &str,
        version: &str,
        overrides: &[(&str, &str)],
    ) -> VersionReview {
        let decision = ReviewRequest {
            action: ReviewAction::Approve,
            reason: None,
            overrides: overrides
                .iter()
                .map(|(gate, reason)| ((*gate).to_owned(), (*reason).to_owned()))
                .collect::<BTreeMap<_, _>>(),
        };
        let review = self
            .decide(self.reviewer().await, name, version, &decision)
            .await
            .unwrap_or_else(|e| panic!("{name} {version} is approved: {e:?}"));
        assert_eq!(review.state, ReviewState::Approved, "{review:#?}");
        review
    }

    /// The one number a `select count(*) …` answers.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// Serves the router on a free port of `127.0.0.1` for as long as the test runs, as
/// `mcpreg-server serve` does (with the peer's address); returns its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let address = listener
        .local_addr()
        .expect("a bound listener has an address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("the test server runs");
    });
    format!("http://{address}")
}
