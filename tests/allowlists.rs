//! Allowlists through the HTTP API against a real PostgreSQL: each allowlist's view of the
//! official API contains only what policy allows it (with `isLatest` decided within the view),
//! access per allowlist, and the signed document — verified here with the published keyset as a
//! client would, its version growing only when its entries change or it nears expiry, ETags.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{Reply, SCHEMA, TestApp, TestDb, call};
use axum::http::{Method, StatusCode};
use mcpreg_api::admin::Role;
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
        ("engineering", "anonymous", json!([])),
        ("secure", "token", json!([])),
        ("lab", "network", json!(["10.0.0.0/8"])),
    ] {
        let reply = post(
            &r,
            "/api/v1/allowlists",
            &json!({"name": name, "access": access, "networks": networks}),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    }
    apply_policy(&r, POLICY).await;
    r
}

async fn post(r: &TestApp, uri: &str, body: &Value) -> Reply {
    r.call(Method::POST, uri, Some(&r.admin), Some(body)).await
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

fn names(list: &Value) -> Vec<String> {
    list["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}@{}{}",
                s["server"]["name"].as_str().unwrap(),
                s["server"]["version"].as_str().unwrap(),
                if s["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"] == true {
                    " (latest)"
                } else {
                    ""
                }
            )
        })
        .collect()
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
    for base in ["/a/engineering/v0.1", "/a/engineering/v0"] {
        let list = r.get(&format!("{base}/servers")).await;
        assert_eq!(list.status, StatusCode::OK, "{base}: {:#}", list.body);
        assert_eq!(
            names(&list.body),
            ["com.acme/github@1.0.0 (latest)"],
            "{base}"
        );
    }
    let full = r.get("/v0.1/servers?version=latest").await;
    assert!(names(&full.body).contains(&"com.acme/github@1.1.0 (latest)".to_owned()));

    let latest = r
        .get("/a/engineering/v0.1/servers/com.acme%2Fgithub/versions/latest")
        .await;
    assert_eq!(latest.status, StatusCode::OK);
    assert_eq!(latest.body["server"]["version"], "1.0.0");
    let not_allowed = r
        .get("/a/engineering/v0.1/servers/com.acme%2Fgithub/versions/1.1.0")
        .await;
    not_allowed.problem(404, "not_in_allowlist");
    let denied = r
        .get("/a/engineering/v0.1/servers/com.acme%2Flegacy/versions")
        .await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    let versions = r
        .get("/a/engineering/v0.1/servers/com.acme%2Fgithub/versions")
        .await;
    assert_eq!(names(&versions.body), ["com.acme/github@1.0.0 (latest)"]);

    // An approval changes the view at once (the replica's caches follow the catalog).
    r.approve("com.acme/github", "1.1.0").await;
    let list = r.get("/a/engineering/v0.1/servers?version=latest").await;
    assert_eq!(names(&list.body), ["com.acme/github@1.1.0 (latest)"]);
    let list = r.get("/a/engineering/v0.1/servers").await;
    assert_eq!(
        names(&list.body),
        ["com.acme/github@1.0.0", "com.acme/github@1.1.0 (latest)"]
    );
    let all = r.get("/a/engineering/v0.1/servers?limit=1&version=").await;
    assert_eq!(all.body["metadata"]["count"], 1);
    let page1 = r
        .get("/a/engineering/v0.1/servers?limit=1&updated_since=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(names(&page1.body), ["com.acme/github@1.0.0"]);
    let cursor = page1.body["metadata"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let page2 = r
        .get(&format!(
            "/a/engineering/v0.1/servers?limit=1&updated_since=2000-01-01T00:00:00Z&cursor={cursor}"
        ))
        .await;
    assert_eq!(names(&page2.body), ["com.acme/github@1.1.0 (latest)"]);
    assert!(page2.body["metadata"]["nextCursor"].is_null());
    let bad = r.get("/a/engineering/v0.1/servers?limit=1000").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A policy that allows nothing empties the view.
    apply_policy(&r, "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules: []\n").await;
    settle().await;
    let list = r.get("/a/engineering/v0.1/servers").await;
    assert_eq!(names(&list.body), Vec::<String>::new());

    // Access: unknown allowlists, credentials, networks.
    assert_eq!(
        r.get("/a/nosuch/v0.1/servers").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        r.get("/a/secure/v0.1/servers").await.status,
        StatusCode::UNAUTHORIZED
    );
    let with_token = r
        .call(
            Method::GET,
            "/a/secure/v0.1/servers",
            Some(r.reader().await),
            None,
        )
        .await;
    assert_eq!(with_token.status, StatusCode::OK);
    // In-process requests carry no peer address: a network allowlist refuses them.
    let lab = r.get("/a/lab/v0.1/servers").await;
    assert_eq!(lab.status, StatusCode::FORBIDDEN, "{:#}", lab.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn allowlists_are_administered_with_checked_input() {
    let r = registry().await;
    let list = r
        .call(
            Method::GET,
            "/api/v1/allowlists",
            Some(r.reader().await),
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<&str> = list.body["allowlists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["engineering", "lab", "secure"]);
    assert_eq!(
        list.body["allowlists"][0]["registryUrl"],
        "http://localhost/a/engineering"
    );
    let again = post(&r, "/api/v1/allowlists", &json!({"name": "engineering"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    for (body, location) in [
        (json!({"name": "Engineering"}), "name"),
        (json!({"name": "-x"}), "name"),
        (json!({"name": "x", "access": "network"}), "networks"),
        (
            json!({"name": "x", "access": "network", "networks": ["10.0.0.0/33"]}),
            "networks[0]",
        ),
        (json!({"name": "x", "networks": ["10.0.0.0/8"]}), "networks"),
        // Host bits set: PostgreSQL's cidr would refuse it, so the registry says so first.
        (
            json!({"name": "x", "access": "network", "networks": ["10.0.0.1/8"]}),
            "networks[0]",
        ),
    ] {
        let reply = post(&r, "/api/v1/allowlists", &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.body["errors"][0]["location"], location, "{body}");
    }
    let typo = post(
        &r,
        "/api/v1/allowlists",
        &json!({"name": "x", "acess": "token"}),
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
    let db = TestDb::new().await;
    let app = db.app_with(AccessConfig::parse("anonymous_reads = false\n").unwrap());
    let admin = db.token("admin", Role::Admin).await;
    for (name, access) in [("public", "anonymous"), ("staff", "token")] {
        let reply = call(
            &app,
            Method::POST,
            "/api/v1/allowlists",
            Some(&admin),
            Some(&json!({"name": name, "access": access})),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    // The catalog needs credentials; the allowlist an admin opened does not.
    let catalog = call(&app, Method::GET, "/v0.1/servers", None, None).await;
    assert_eq!(catalog.status, StatusCode::UNAUTHORIZED);
    let public = call(&app, Method::GET, "/a/public/v0.1/servers", None, None).await;
    assert_eq!(public.status, StatusCode::OK, "{:#}", public.body);
    let staff = call(&app, Method::GET, "/a/staff/v0.1/servers", None, None).await;
    assert_eq!(staff.status, StatusCode::UNAUTHORIZED);
    // Bad credentials are refused even where none are needed.
    let bad = call(
        &app,
        Method::GET,
        "/a/public/v0.1/servers",
        Some("mcpreg_not-a-token"),
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
}
