//! Allowlists through the HTTP API against a real PostgreSQL: each allowlist's view of the
//! official API contains only what policy allows it (with `isLatest` decided within the view),
//! access per allowlist, and the signed document — verified here with the published keyset as a
//! client would, its version growing only when its entries change or it nears expiry, ETags.
//!
//! Through the typed client, except where the test is about the wire: the signed document and
//! the keyset are fetched as bytes (a client verifies the signature over what it received, and
//! the document's ETag and 304 are headers), the `/v0` alias and an empty `version=` parameter
//! of the official API, and a body with a misspelt field.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{SCHEMA, TestApp, expect_problem, refused_status};
use axum::http::{Method, StatusCode};
use mcpreg_api::allowlist::{Access, AllowlistInfo, NewAllowlist};
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::registry::ServerList;
use mcpreg_client::ServerListQuery;
use mcpreg_server::auth::config::AccessConfig;
use serde_json::{Value, json};

/// Reviews that need no signature, digests or tools, so that versions are approved in one call.
fn lenient() -> AccessConfig {
    AccessConfig::parse(
        "[review]\nrequire_signature = false\nrequire_digests = false\nrequire_tools = false\n",
    )
    .unwrap()
}

const POLICY: &str = r#"
apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: engineering-uses-approved-acme
    effect: allow
    subjects: [{allowlist: engineering}, {allowlist: secure}, {allowlist: lab}]
    resources: [{namespace: "com.acme"}]
    require: {reviewState: [approved]}
  - name: nobody-uses-the-legacy-server
    effect: deny
    subjects: [{anyone: true}]
    resources: [{server: "com.acme/legacy"}]
"#;

/// A registry with reviews that need nothing, three allowlists and the policy above.
async fn registry() -> TestApp {
    let r = TestApp::with_access(lenient()).await;
    for (name, access, networks) in [
        ("engineering", Access::Anonymous, &[][..]),
        ("secure", Access::Token, &[]),
        ("lab", Access::Network, &["10.0.0.0/8"]),
    ] {
        create(&r, new_allowlist(name, Some(access), networks))
            .await
            .unwrap();
    }
    apply_policy(&r, POLICY).await;
    r
}

fn new_allowlist(name: &str, access: Option<Access>, networks: &[&str]) -> NewAllowlist {
    NewAllowlist {
        name: name.to_owned(),
        description: String::new(),
        access,
        networks: networks.iter().map(|n| (*n).to_owned()).collect(),
    }
}

/// Creates an allowlist as the admin.
async fn create(r: &TestApp, allowlist: NewAllowlist) -> mcpreg_client::Result<AllowlistInfo> {
    r.admin_client().create_allowlist(&allowlist).await
}

/// Applies a policy the way the registry stores it (its canonical JSON), and tells the
/// replica's caches.
async fn apply_policy(r: &TestApp, source: &str) {
    let policy = mcpreg_policy::Policy::parse_yaml(source).unwrap();
    let document = policy.to_json();
    let digest = format!("sha256:{}", "a".repeat(64));
    sqlx::query(
        "insert into policies (source, format, document, digest, applied_by)
         values ($1, 'yaml', $2, $3, 'test')",
    )
    .bind(source)
    .bind(&document)
    .bind(&digest)
    .execute(&r.db.pool)
    .await
    .unwrap();
    sqlx::query("select pg_notify('mcpreg_catalog', '')")
        .execute(&r.db.pool)
        .await
        .unwrap();
}

/// Publishes a version with one remote as the admin.
async fn publish(r: &TestApp, name: &str, version: &str) {
    let doc = json!({
        "$schema": SCHEMA, "name": name, "description": "test", "version": version,
        "remotes": [{"type": "streamable-http", "url": format!("https://mcp.acme.example/{}/{version}", name.replace('/', "-"))}]
    });
    r.published(&r.admin, &doc).await;
}

fn names(list: &ServerList) -> Vec<String> {
    list.servers
        .iter()
        .map(|s| {
            let server = s.server_value();
            format!(
                "{}@{}{}",
                server["name"].as_str().unwrap(),
                server["version"].as_str().unwrap(),
                if s.meta.official.is_latest {
                    " (latest)"
                } else {
                    ""
                }
            )
        })
        .collect()
}

/// The same names from a list fetched as bytes.
fn names_of(list: &Value) -> Vec<String> {
    names(&serde_json::from_value(list.clone()).unwrap())
}

/// Waits until the replica's cache listener is connected, so that the cache is in play.
async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_view_holds_only_what_policy_allows_its_audience() {
    let r = registry().await;
    settle().await;
    publish(&r, "com.acme/github", "1.0.0").await;
    publish(&r, "com.acme/github", "1.1.0").await;
    publish(&r, "com.acme/legacy", "0.9.0").await;
    publish(&r, "org.other/tool", "2.0.0").await;
    r.approve("com.acme/github", "1.0.0").await;
    r.approve("com.acme/legacy", "0.9.0").await;
    r.approve("org.other/tool", "2.0.0").await;

    // The catalog's latest github is 1.1.0 (submitted); the view's is 1.0.0. legacy is denied,
    // org.other is not named by any allow rule.
    let anonymous = r.anonymous_client();
    let every = ServerListQuery::default;
    let list = anonymous
        .allowlist_servers("engineering", &every())
        .await
        .unwrap();
    assert_eq!(names(&list), ["com.acme/github@1.0.0 (latest)"]);
    // The `/v0` alias, which the typed client does not speak, as bytes.
    let list = r.get("/a/engineering/v0/servers").await;
    assert_eq!(list.status, StatusCode::OK, "{:#}", list.body);
    assert_eq!(names_of(&list.body), ["com.acme/github@1.0.0 (latest)"]);
    let latest_only = || ServerListQuery::default().latest_only(true);
    let full = anonymous.servers(&latest_only()).await.unwrap();
    assert!(names(&full).contains(&"com.acme/github@1.1.0 (latest)".to_owned()));

    let latest = anonymous
        .allowlist_version("engineering", "com.acme/github", "latest", false)
        .await
        .unwrap();
    assert_eq!(latest.server_value()["version"], "1.0.0");
    let not_allowed = anonymous
        .allowlist_version("engineering", "com.acme/github", "1.1.0", false)
        .await;
    expect_problem(not_allowed, 404, ProblemCode::NotInAllowlist);
    let denied = anonymous
        .allowlist_server_versions("engineering", "com.acme/legacy", false)
        .await;
    assert_eq!(refused_status(denied), 404);
    let versions = anonymous
        .allowlist_server_versions("engineering", "com.acme/github", false)
        .await
        .unwrap();
    assert_eq!(names(&versions), ["com.acme/github@1.0.0 (latest)"]);

    // An approval changes the view at once (the replica's caches follow the catalog).
    r.approve("com.acme/github", "1.1.0").await;
    let list = anonymous
        .allowlist_servers("engineering", &latest_only())
        .await
        .unwrap();
    assert_eq!(names(&list), ["com.acme/github@1.1.0 (latest)"]);
    let list = anonymous
        .allowlist_servers("engineering", &every())
        .await
        .unwrap();
    assert_eq!(
        names(&list),
        ["com.acme/github@1.0.0", "com.acme/github@1.1.0 (latest)"]
    );
    // An empty `version=`, which the typed query cannot express, as bytes.
    let all = r.get("/a/engineering/v0.1/servers?limit=1&version=").await;
    assert_eq!(all.body["metadata"]["count"], 1);
    let since = "2000-01-01T00:00:00Z".parse().unwrap();
    let page1 = anonymous
        .allowlist_servers(
            "engineering",
            &ServerListQuery::default()
                .limit(1)
                .updated_since(Some(since)),
        )
        .await
        .unwrap();
    assert_eq!(names(&page1), ["com.acme/github@1.0.0"]);
    let cursor = page1.metadata.next_cursor.clone().unwrap();
    let page2 = anonymous
        .allowlist_servers(
            "engineering",
            &ServerListQuery::default()
                .limit(1)
                .updated_since(Some(since))
                .cursor(Some(cursor)),
        )
        .await
        .unwrap();
    assert_eq!(names(&page2), ["com.acme/github@1.1.0 (latest)"]);
    assert!(page2.metadata.next_cursor.is_none());
    let bad = anonymous
        .allowlist_servers("engineering", &ServerListQuery::default().limit(1000))
        .await;
    assert_eq!(refused_status(bad), 422);

    // A policy that allows nothing empties the view.
    apply_policy(&r, "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules: []\n").await;
    settle().await;
    let list = anonymous
        .allowlist_servers("engineering", &every())
        .await
        .unwrap();
    assert_eq!(names(&list), Vec::<String>::new());

    // Access: unknown allowlists, credentials, networks.
    let unknown = anonymous.allowlist_servers("nosuch", &every()).await;
    assert_eq!(refused_status(unknown), 404);
    let secure = anonymous.allowlist_servers("secure", &every()).await;
    assert_eq!(refused_status(secure), 401);
    r.reader_client()
        .await
        .allowlist_servers("secure", &every())
        .await
        .unwrap();
    // The test server's callers are at 127.0.0.1, outside the lab's 10.0.0.0/8.
    let lab = anonymous.allowlist_servers("lab", &every()).await;
    assert_eq!(refused_status(lab), 403);
    // In-process requests carry no peer address: a network allowlist refuses them too.
    let lab = r.get("/a/lab/v0.1/servers").await;
    assert_eq!(lab.status, StatusCode::FORBIDDEN, "{:#}", lab.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn allowlists_are_administered_with_checked_input() {
    let r = registry().await;
    let list = r.reader_client().await.allowlists().await.unwrap();
    let names: Vec<&str> = list.allowlists.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["engineering", "lab", "secure"]);
    // Without `--public-url`, the registry's URL is the one the caller reached it at.
    assert_eq!(
        list.allowlists[0].registry_url,
        format!("{}/a/engineering", r.url)
    );
    let again = create(&r, new_allowlist("engineering", None, &[])).await;
    assert_eq!(refused_status(again), 409);
    for (allowlist, location) in [
        (new_allowlist("Engineering", None, &[]), "name"),
        (new_allowlist("-x", None, &[]), "name"),
        (new_allowlist("x", Some(Access::Network), &[]), "networks"),
        (
            new_allowlist("x", Some(Access::Network), &["10.0.0.0/33"]),
            "networks[0]",
        ),
        (new_allowlist("x", None, &["10.0.0.0/8"]), "networks"),
        // Host bits set: PostgreSQL's cidr would refuse it, so the registry says so first.
        (
            new_allowlist("x", Some(Access::Network), &["10.0.0.1/8"]),
            "networks[0]",
        ),
    ] {
        let shown = format!("{allowlist:?}");
        let refused = create(&r, allowlist).await.unwrap_err();
        let failure = refused.api_failure().unwrap();
        assert_eq!(failure.status.as_u16(), 422, "{shown}");
        assert_eq!(failure.problem.errors[0].location, location, "{shown}");
    }
    // A misspelt field, which the typed request cannot carry, as bytes.
    let typo = r
        .call(
            Method::POST,
            "/api/v1/allowlists",
            Some(&r.admin),
            Some(&json!({"name": "x", "acess": "token"})),
        )
        .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    let count: i64 = sqlx::query_scalar("select count(*) from allowlists")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 3);
}
/// What a client does: the keyset on first use, then the document verified against it.
fn verify(keys: &Value, document: &Value) -> mcpreg_api::allowlist::AllowlistDocument {
    let keyset = mcpreg_trust::verify_keyset_first_use_json(keys.to_string().as_bytes()).unwrap();
    let trusted = mcpreg_trust::keyset_keys(&keyset).unwrap();
    mcpreg_trust::verify_allowlist_json(document.to_string().as_bytes(), &trusted).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_signed_document_verifies_and_its_version_only_grows() {
    let r = registry().await;
    settle().await;
    publish(&r, "com.acme/github", "1.0.0").await;
    r.approve("com.acme/github", "1.0.0").await;

    let keys = r.get("/.well-known/mcpreg-keys.json").await;
    assert_eq!(keys.status, StatusCode::OK, "{:#}", keys.body);
    let first = r.get("/api/v1/allowlists/engineering").await;
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
    assert_eq!(first.headers["etag"], "\"1\"");
    let doc = verify(&keys.body, &first.body);
    assert_eq!(doc.allowlist, "engineering");
    assert_eq!(doc.version, 1);
    assert_eq!(doc.registry, "http://localhost");
    assert!(doc.expires_at > doc.issued_at + chrono::Duration::minutes(59));
    assert_eq!(doc.entries.len(), 1);
    let entry = &doc.entries[0];
    assert_eq!(entry.name.as_str(), "com.acme/github");
    assert_eq!(entry.version.as_str(), "1.0.0");
    assert_eq!(
        entry.remotes[0].url,
        "https://mcp.acme.example/com.acme-github/1.0.0"
    );
    mcpreg_trust::check_fresh(&doc, Some(1), chrono::Utc::now()).unwrap();
    // What a client trusts once the signature checks out.
    insta::assert_json_snapshot!("allowlist_document", doc, {
        ".issuedAt" => "[timestamp]",
        ".expiresAt" => "[timestamp]",
    });

    // Unchanged: the same document, and 304 for a client that has it.
    let same = r.get("/api/v1/allowlists/engineering").await;
    assert_eq!(same.body, first.body);
    let conditional = r
        .send(
            axum::http::Request::builder()
                .uri("/api/v1/allowlists/engineering")
                .header("if-none-match", "\"1\"")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(conditional.status, StatusCode::NOT_MODIFIED);
    assert_eq!(conditional.headers["etag"], "\"1\"");

    // A change of entries is a new version.
    publish(&r, "com.acme/weather", "0.1.0").await;
    r.approve("com.acme/weather", "0.1.0").await;
    let second = r.get("/api/v1/allowlists/engineering").await;
    assert_eq!(second.headers["etag"], "\"2\"");
    let doc2 = verify(&keys.body, &second.body);
    assert_eq!(doc2.version, 2);
    assert_eq!(doc2.entries.len(), 2);

    // Near its expiry, it is renewed: a new version with the same entries.
    sqlx::query("update allowlist_documents set expires_at = issued_at + interval '1 second'")
        .execute(&r.db.pool)
        .await
        .unwrap();
    sqlx::query("select pg_notify('mcpreg_catalog', '')")
        .execute(&r.db.pool)
        .await
        .unwrap();
    settle().await;
    let renewed = r.get("/api/v1/allowlists/engineering").await;
    let doc3 = verify(&keys.body, &renewed.body);
    assert_eq!(doc3.version, 3);
    assert_eq!(doc3.entries, doc2.entries);
    assert!(doc3.expires_at > chrono::Utc::now() + chrono::Duration::minutes(59));

    // Tampering is caught by the client's check; other allowlists have their own documents.
    let mut tampered = renewed.body.clone();
    tampered["signed"]["entries"][0]["version"] = json!("6.6.6");
    let keyset =
        mcpreg_trust::verify_keyset_first_use_json(keys.body.to_string().as_bytes()).unwrap();
    let trusted = mcpreg_trust::keyset_keys(&keyset).unwrap();
    assert!(
        mcpreg_trust::verify_allowlist_json(tampered.to_string().as_bytes(), &trusted).is_err()
    );
    let secure = r.get("/api/v1/allowlists/secure").await;
    assert_eq!(secure.status, StatusCode::UNAUTHORIZED);
    let secure = r
        .call(
            Method::GET,
            "/api/v1/allowlists/secure",
            Some(r.reader().await),
            None,
        )
        .await;
    assert_eq!(verify(&keys.body, &secure.body).version, 1);
    assert_eq!(
        r.get("/api/v1/allowlists/nosuch").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allowlists_own_access_decides_even_when_the_catalog_is_closed() {
    let r = TestApp::with_access(AccessConfig::parse("anonymous_reads = false\n").unwrap()).await;
    for (name, access) in [("public", Access::Anonymous), ("staff", Access::Token)] {
        create(&r, new_allowlist(name, Some(access), &[]))
            .await
            .unwrap();
    }
    // The catalog needs credentials; the allowlist an admin opened does not.
    let anonymous = r.anonymous_client();
    let every = ServerListQuery::default();
    let catalog = anonymous.servers(&every).await;
    assert_eq!(refused_status(catalog), 401);
    anonymous.allowlist_servers("public", &every).await.unwrap();
    let staff = anonymous.allowlist_servers("staff", &every).await;
    assert_eq!(refused_status(staff), 401);
    // Bad credentials are refused even where none are needed.
    let bad = r
        .client(Some("mcpreg_not-a-token"))
        .allowlist_servers("public", &every)
        .await;
    assert_eq!(refused_status(bad), 401);
}
