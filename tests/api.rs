//! The HTTP API against a real PostgreSQL database: the official read API, publishing,
//! status changes, namespaces, credentials and the error model.
//!
//! What the registry does is driven through the typed client. The tests about the wire send
//! bytes: the official API's contract (exactly the `_meta` fields the official schema allows,
//! the stored key order, the `/v0` alias, its query parameters as clients write them, limits),
//! malformed and oversized bodies, content types, credentials and their `WWW-Authenticate`
//! header, CORS, and the probes' bodies.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{TestApp, expect_problem, locations};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use mcpreg_api::admin::{NewNamespace, Role, StatusChange, StatusChangeResult};
use mcpreg_api::name::NamespaceName;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::registry::{ServerList, Status};
use mcpreg_client::ServerListQuery;
use serde_json::{Value, json};

async fn publish_ok(
    api: &TestApp,
    name: &str,
    version: &str,
) -> mcpreg_api::registry::ServerResponse {
    api.published(&api.admin, &server_json(name, version)).await
}

/// Sets the status of a server (`version: None`) or of one version, as the admin.
async fn set_status(
    api: &TestApp,
    name: &str,
    version: Option<&str>,
    status: Status,
    message: Option<&str>,
) -> mcpreg_client::Result<StatusChangeResult> {
    let change = StatusChange {
        status,
        status_message: message.map(str::to_owned),
    };
    let admin = api.admin_client();
    match version {
        Some(v) => admin.set_version_status(name, v, &change).await,
        None => admin.set_server_status(name, &change).await,
    }
}

/// `name@version` of each entry of a list.
fn entries(list: &ServerList) -> Vec<String> {
    list.servers
        .iter()
        .map(|s| {
            let (name, version) = s.name_and_version();
            format!("{name}@{version}")
        })
        .collect()
}

/// The latest version of a server, through the official API.
async fn latest_version(api: &TestApp, name: &str, include_deleted: bool) -> String {
    api.anonymous_client()
        .version(name, "latest", include_deleted)
        .await
        .unwrap()
        .name_and_version()
        .1
}

fn server_json(name: &str, version: &str) -> Value {
    json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": name,
        "description": "A server for tests",
        "version": version,
        "packages": [{"registryType": "npm", "identifier": "@example/server", "version": version, "transport": {"type": "stdio"}}]
    })
}

fn official(item: &Value) -> &Value {
    &item["_meta"]["io.modelcontextprotocol.registry/official"]
}

fn names_and_versions(list: &Value) -> Vec<String> {
    list["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}@{}",
                s["server"]["name"].as_str().unwrap(),
                s["server"]["version"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn publish_then_read_through_the_official_api() {
    let api = TestApp::new().await;
    let doc = server_json("com.example/weather", "1.0.0");
    let created = api
        .call(
            Method::POST,
            "/api/v1/publish",
            Some(&api.admin),
            Some(&doc),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    assert_eq!(
        created.body["server"], doc,
        "the document comes back exactly as published"
    );
    let meta = official(&created.body);
    assert_eq!(meta["status"], "active");
    assert_eq!(meta["isLatest"], true);
    assert!(meta.get("statusMessage").is_none());
    assert_eq!(
        meta.as_object().unwrap().len(),
        4,
        "only the fields the official schema allows: {meta:#}"
    );

    for prefix in ["/v0.1", "/v0"] {
        let one = api
            .get(&format!(
                "{prefix}/servers/com.example%2Fweather/versions/1.0.0"
            ))
            .await;
        assert_eq!(one.status, StatusCode::OK, "{:#}", one.body);
        assert_eq!(one.body, created.body);
        let latest = api
            .get(&format!(
                "{prefix}/servers/com.example%2Fweather/versions/latest"
            ))
            .await;
        assert_eq!(latest.body["server"]["version"], "1.0.0");
        let list = api.get(&format!("{prefix}/servers")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body["metadata"]["count"], 1);
        assert!(list.body["metadata"].get("nextCursor").is_none());
        assert_eq!(list.body["servers"][0], created.body);
        let versions = api
            .get(&format!("{prefix}/servers/com.example%2Fweather/versions"))
            .await;
        assert_eq!(versions.body["metadata"], json!({"count": 1}));
    }
    // Key order of the stored document is kept (the `$schema` first, as published).
    let text = serde_json::to_string(
        &api.get("/v0.1/servers/com.example%2Fweather/versions/1.0.0")
            .await
            .body["server"],
    )
    .unwrap();
    assert!(text.starts_with("{\"$schema\""), "{text}");

    // The whole answer as an MCP client reads it.
    insta::assert_json_snapshot!("official_version", created.body, {
        "._meta.*.publishedAt" => "[timestamp]",
        "._meta.*.updatedAt" => "[timestamp]",
    });
}

#[tokio::test]
async fn the_same_version_twice_is_a_conflict_and_versions_are_immutable() {
    let api = TestApp::new().await;
    publish_ok(&api, "com.example/weather", "1.0.0").await;
    let mut changed = server_json("com.example/weather", "1.0.0");
    changed["description"] = json!("Something else");
    expect_problem(
        api.publish(&api.admin, &changed).await,
        409,
        ProblemCode::VersionExists,
    );
    let stored = api
        .anonymous_client()
        .version("com.example/weather", "1.0.0", false)
        .await
        .unwrap();
    assert_eq!(stored.server_value()["description"], "A server for tests");

    // Even the database refuses to rewrite or delete a published version.
    let update = sqlx::query("update server_versions set document = '{}'")
        .execute(&api.db.pool)
        .await;
    assert!(update.unwrap_err().to_string().contains("immutable"));
    let delete = sqlx::query("delete from server_versions")
        .execute(&api.db.pool)
        .await;
    assert!(
        delete
            .unwrap_err()
            .to_string()
            .contains("cannot be deleted")
    );
}

#[tokio::test]
async fn names_differing_only_in_case_cannot_coexist() {
    let api = TestApp::new().await;
    publish_ok(&api, "com.example/weather", "1.0.0").await;
    expect_problem(
        api.publish(&api.admin, &server_json("com.example/Weather", "1.0.1"))
            .await,
        409,
        ProblemCode::NameConflict,
    );
    expect_problem(
        api.publish(&api.admin, &server_json("COM.example/other", "1.0.0"))
            .await,
        409,
        ProblemCode::NameConflict,
    );
}

#[tokio::test]
async fn latest_follows_the_official_order() {
    let api = TestApp::new().await;
    let name = "com.example/ordering";
    let latest = async |api: &TestApp| latest_version(api, name, false).await;
    publish_ok(&api, name, "nightly").await;
    assert_eq!(latest(&api).await, "nightly");
    publish_ok(&api, name, "1.2.0").await; // semver beats non-semver
    assert_eq!(latest(&api).await, "1.2.0");
    publish_ok(&api, name, "1.10.0").await; // semver order, not text order
    assert_eq!(latest(&api).await, "1.10.0");
    publish_ok(&api, name, "1.9.9").await; // an older backport does not take latest
    assert_eq!(latest(&api).await, "1.10.0");
    publish_ok(&api, name, "2.0.0-rc.1").await;
    assert_eq!(latest(&api).await, "2.0.0-rc.1");
    publish_ok(&api, name, "snapshot").await; // non-semver never beats semver
    assert_eq!(latest(&api).await, "2.0.0-rc.1");
    let versions = api
        .anonymous_client()
        .server_versions(name, false)
        .await
        .unwrap();
    let flags: Vec<bool> = versions
        .servers
        .iter()
        .map(|s| s.meta.official.is_latest)
        .collect();
    assert_eq!(
        flags.iter().filter(|f| **f).count(),
        1,
        "exactly one latest"
    );
    // Newest publication first.
    assert_eq!(versions.servers[0].name_and_version().1, "snapshot");

    // Deleting the latest moves it to the next highest live version; restoring moves it back.
    set_status(
        &api,
        name,
        Some("2.0.0-rc.1"),
        Status::Deleted,
        Some("withdrawn"),
    )
    .await
    .unwrap();
    assert_eq!(latest(&api).await, "1.10.0");
    set_status(&api, name, Some("2.0.0-rc.1"), Status::Active, None)
        .await
        .unwrap();
    assert_eq!(latest(&api).await, "2.0.0-rc.1");
}

#[tokio::test]
async fn status_changes_hide_deleted_versions_and_record_why() {
    let api = TestApp::new().await;
    let anonymous = api.anonymous_client();
    publish_ok(&api, "com.example/old", "1.0.0").await;
    publish_ok(&api, "com.example/old", "1.1.0").await;
    publish_ok(&api, "com.example/kept", "1.0.0").await;
    let old = "com.example/old";

    let deprecated = set_status(
        &api,
        old,
        None,
        Status::Deprecated,
        Some("use com.example/kept"),
    )
    .await
    .unwrap();
    assert_eq!(deprecated.versions.len(), 2);
    let one = anonymous.version(old, "1.0.0", false).await.unwrap();
    assert_eq!(one.meta.official.status, Status::Deprecated);
    assert_eq!(
        one.meta.official.status_message.as_deref(),
        Some("use com.example/kept")
    );
    // Deprecated versions are still listed.
    let latest_only = ServerListQuery::default().latest_only(true);
    assert_eq!(
        anonymous
            .servers(&latest_only)
            .await
            .unwrap()
            .metadata
            .count,
        2
    );
    // The same change again changes nothing.
    let again = set_status(
        &api,
        old,
        None,
        Status::Deprecated,
        Some("use com.example/kept"),
    )
    .await
    .unwrap();
    assert!(again.versions.is_empty());

    set_status(&api, old, None, Status::Deleted, Some("gone"))
        .await
        .unwrap();
    let list = anonymous
        .servers(&ServerListQuery::default())
        .await
        .unwrap();
    assert_eq!(entries(&list), ["com.example/kept@1.0.0"]);
    let all = anonymous
        .servers(&ServerListQuery::default().include_deleted(true))
        .await
        .unwrap();
    assert_eq!(all.metadata.count, 3);
    expect_problem(
        anonymous.version(old, "1.0.0", false).await,
        404,
        ProblemCode::VersionDeleted,
    );
    expect_problem(
        anonymous.server_versions(old, false).await,
        404,
        ProblemCode::ServerNotFound,
    );
    assert_eq!(latest_version(&api, old, true).await, "1.1.0");

    // A status message with `active` is refused, as is an unknown status or version.
    let refused = set_status(&api, old, None, Status::Active, Some("why")).await;
    let refused = expect_problem(refused, 400, ProblemCode::InvalidParameter);
    assert_eq!(refused.errors[0].location, "statusMessage");
    // A status the typed request cannot carry, as bytes.
    api.call(
        Method::PATCH,
        "/api/v1/servers/com.example%2Fold/status",
        Some(&api.admin),
        Some(&json!({"status": "archived"})),
    )
    .await
    .problem(400, "invalid_body");
    expect_problem(
        set_status(&api, old, Some("9.9.9"), Status::Deleted, None).await,
        404,
        ProblemCode::VersionNotFound,
    );
    expect_problem(
        set_status(&api, "com.example/none", None, Status::Deleted, None).await,
        404,
        ProblemCode::ServerNotFound,
    );
    let long = "x".repeat(501);
    expect_problem(
        set_status(&api, old, None, Status::Deleted, Some(&long)).await,
        400,
        ProblemCode::InvalidParameter,
    );

    // Every change is in the audit trail.
    let actions: Vec<String> = sqlx::query_scalar("select action from audit_events order by id")
        .fetch_all(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(
        actions.iter().filter(|a| *a == "version.status").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "version.publish").count(),
        3
    );
}

#[tokio::test]
async fn listing_filters() {
    let api = TestApp::new().await;
    for (name, versions) in [
        ("com.example/alpha", vec!["1.0.0", "2.0.0"]),
        ("com.example/beta_1", vec!["1.0.0"]),
        ("org.other/gamma", vec!["0.1.0"]),
    ] {
        for v in versions {
            publish_ok(&api, name, v).await;
        }
    }
    async fn api_names(api: &TestApp, q: &str) -> Vec<String> {
        let reply = api.get(&format!("/v0.1/servers{q}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{q}: {:#}", reply.body);
        names_and_versions(&reply.body)
    }
    assert_eq!(
        api_names(&api, "").await,
        [
            "com.example/alpha@1.0.0",
            "com.example/alpha@2.0.0",
            "com.example/beta_1@1.0.0",
            "org.other/gamma@0.1.0"
        ]
    );
    assert_eq!(
        api_names(&api, "?version=latest").await,
        [
            "com.example/alpha@2.0.0",
            "com.example/beta_1@1.0.0",
            "org.other/gamma@0.1.0"
        ]
    );
    assert_eq!(
        api_names(&api, "?version=1.0.0").await,
        ["com.example/alpha@1.0.0", "com.example/beta_1@1.0.0"]
    );
    assert_eq!(
        api_names(&api, "?search=ALPHA").await,
        ["com.example/alpha@1.0.0", "com.example/alpha@2.0.0"]
    );
    // `_` and `%` are literal, not wildcards.
    assert_eq!(
        api_names(&api, "?search=a_1").await,
        ["com.example/beta_1@1.0.0"]
    );
    assert_eq!(api_names(&api, "?search=%25").await, Vec::<String>::new());

    let before = chrono::Utc::now();
    publish_ok(&api, "org.other/gamma", "0.2.0").await;
    set_status(
        &api,
        "com.example/alpha",
        Some("1.0.0"),
        Status::Deleted,
        None,
    )
    .await
    .unwrap();
    let since = before
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        .replace('+', "%2B");
    // Incremental sync sees new versions, deletions, and versions whose latest flag moved.
    let changed = api_names(&api, &format!("?updated_since={since}")).await;
    assert_eq!(
        changed,
        [
            "com.example/alpha@1.0.0",
            "org.other/gamma@0.1.0",
            "org.other/gamma@0.2.0"
        ]
    );
    api.get(&format!(
        "/v0.1/servers?updated_since={since}&include_deleted=false"
    ))
    .await
    .problem(400, "invalid_parameter");
    let bad = api.get("/v0.1/servers?updated_since=yesterday").await;
    assert_eq!(
        bad.problem(400, "invalid_parameter")["errors"][0]["location"],
        "query.updated_since"
    );
    api.get("/v0.1/servers?include_deleted=maybe")
        .await
        .problem(400, "invalid_parameter");
}

#[tokio::test]
async fn limits_are_checked_like_the_official_registry() {
    let api = TestApp::new().await;
    for bad in ["0", "101", "-1", "ten"] {
        let reply = api.get(&format!("/v0.1/servers?limit={bad}")).await;
        reply.problem(422, "validation_failed");
        assert_eq!(reply.locations(), ["query.limit"], "limit={bad}");
    }
    for ok in ["1", "100"] {
        assert_eq!(
            api.get(&format!("/v0.1/servers?limit={ok}")).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn pages_are_complete_and_consistent_while_versions_are_published() {
    let api = TestApp::new().await;
    let anonymous = api.anonymous_client();
    let mut expected = Vec::new();
    for i in 0..25 {
        let name = format!("com.example/s{i:02}");
        publish_ok(&api, &name, "1.0.0").await;
        expected.push(format!("{name}@1.0.0"));
    }
    // Walk in pages of 4 while new servers appear before and after the cursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = anonymous
            .servers(
                &ServerListQuery::default()
                    .limit(4)
                    .latest_only(true)
                    .cursor(cursor.clone()),
            )
            .await
            .unwrap();
        assert!(page.metadata.count <= 4);
        seen.extend(entries(&page));
        pages += 1;
        publish_ok(&api, &format!("com.example/a{pages:02}"), "1.0.0").await; // sorts before every cursor
        match page.metadata.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let original: Vec<_> = seen
        .iter()
        .filter(|s| s.starts_with("com.example/s"))
        .cloned()
        .collect();
    assert_eq!(
        original, expected,
        "every server seen once, in order, none skipped"
    );
    assert_eq!(pages, 7);
}

#[tokio::test]
async fn invalid_server_json_lists_every_problem_with_its_path() {
    let api = TestApp::new().await;
    let mut doc = server_json("com.example/bad", "^1.0.0");
    doc["packages"][0]["version"] = json!("latest");
    doc["description"] = json!("x".repeat(101));
    doc["remotes"] = json!([{"type": "streamable-http", "url": "http://insecure.example.com/mcp"}]);
    let problem = expect_problem(
        api.publish(&api.admin, &doc).await,
        422,
        ProblemCode::InvalidServerJson,
    );
    insta::assert_json_snapshot!(
        "invalid_server_json_problem",
        serde_json::to_value(&problem).unwrap()
    );
    let found = locations(&problem);
    for want in [
        "version",
        "packages[0].version",
        "description",
        "remotes[0].url",
    ] {
        assert!(found.contains(&want), "{want} missing from {found:?}");
    }
    let mut unknown_schema = server_json("com.example/bad", "1.0.0");
    unknown_schema["$schema"] =
        json!("https://static.modelcontextprotocol.io/schemas/draft/server.schema.json");
    let refused = api.publish(&api.admin, &unknown_schema).await.unwrap_err();
    assert_eq!(
        locations(&refused.api_failure().unwrap().problem),
        ["$schema"]
    );
    let mut no_schema = server_json("com.example/bad", "1.0.0");
    no_schema.as_object_mut().unwrap().remove("$schema");
    let refused = api.publish(&api.admin, &no_schema).await.unwrap_err();
    assert_eq!(
        locations(&refused.api_failure().unwrap().problem),
        ["$schema"]
    );
    expect_problem(
        api.publish(&api.admin, &json!([1, 2])).await,
        422,
        ProblemCode::InvalidServerJson,
    );
    // Nothing of a rejected document was stored.
    let count: i64 = sqlx::query_scalar("select count(*) from servers")
        .fetch_one(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    let namespaces: i64 = sqlx::query_scalar("select count(*) from namespaces")
        .fetch_one(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(namespaces, 0);

    // /validate answers the same findings without publishing.
    let anonymous = api.anonymous_client();
    let report = anonymous.validate(&doc).await.unwrap();
    assert!(!report.valid);
    assert!(report.errors.len() >= 4);
    let ok = anonymous
        .official_validate(&server_json("com.example/good", "1.0.0"))
        .await
        .unwrap();
    assert!(ok.valid);
}

#[tokio::test]
async fn malformed_requests_get_problem_documents() {
    let api = TestApp::new().await;
    let post = |body: &'static str, content_type: &'static str| {
        let mut r = Request::post("/api/v1/publish")
            .header(header::AUTHORIZATION, format!("Bearer {}", api.admin));
        if !content_type.is_empty() {
            r = r.header(header::CONTENT_TYPE, content_type);
        }
        r.body(Body::from(body)).unwrap()
    };
    let reply = api.send(post("{\"name\": ", "application/json")).await;
    reply.problem(400, "malformed_json");
    assert!(
        reply.locations()[0].starts_with("body (line 1, column"),
        "{:?}",
        reply.locations()
    );
    api.send(post("{} trailing", "application/json"))
        .await
        .problem(400, "malformed_json");
    api.send(post("{}", "text/plain"))
        .await
        .problem(415, "unsupported_media_type");
    api.send(post("{}", ""))
        .await
        .problem(415, "unsupported_media_type");

    let huge = format!("{{\"description\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let reply = api
        .send(
            Request::post("/api/v1/publish")
                .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(huge))
                .unwrap(),
        )
        .await;
    reply.problem(413, "payload_too_large");

    api.get("/no/such/route")
        .await
        .problem(404, "route_not_found");
    let reply = api
        .send(
            Request::delete("/v0.1/servers")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    reply.problem(405, "method_not_allowed");
    assert!(reply.headers.get(header::ALLOW).is_some());
    api.get("/v0.1/servers/com.example%2Fnope/versions/latest")
        .await
        .problem(404, "server_not_found");
    api.get("/v0.1/servers/com.example%2Fnope/versions")
        .await
        .problem(404, "server_not_found");
    api.get("/v0.1/servers/%FF%FE/versions/1.0.0")
        .await
        .problem(400, "bad_request");
    let bad_ns = api
        .call(
            Method::POST,
            "/api/v1/namespaces",
            Some(&api.admin),
            Some(&json!({"name": "nodots"})),
        )
        .await;
    bad_ns.problem(400, "invalid_body");
}

#[tokio::test]
async fn writes_need_a_valid_admin_token() {
    let api = TestApp::new().await;
    let doc = server_json("com.example/guarded", "1.0.0");
    let reply = api
        .call(Method::POST, "/api/v1/publish", None, Some(&doc))
        .await;
    reply.problem(401, "missing_credentials");
    assert!(
        reply
            .headers
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    let reply = api
        .call(
            Method::POST,
            "/api/v1/publish",
            Some("mcpreg_not-a-real-token"),
            Some(&doc),
        )
        .await;
    reply.problem(401, "invalid_token");
    assert!(
        reply
            .headers
            .get(header::WWW_AUTHENTICATE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    api.call(
        Method::POST,
        "/api/v1/publish",
        Some("eyJhbGciOiJub25lIn0.e30."),
        Some(&doc),
    )
    .await
    .problem(401, "untrusted_issuer");

    let reader = api.db.token("reader", Role::Reader).await;
    let reply = api
        .call(Method::POST, "/api/v1/publish", Some(&reader), Some(&doc))
        .await;
    assert!(
        reply.problem(403, "forbidden")["detail"]
            .as_str()
            .unwrap()
            .contains("admin")
    );

    mcpreg_server::db::tokens::revoke(&api.db.pool, "admin")
        .await
        .unwrap();
    api.call(
        Method::POST,
        "/api/v1/publish",
        Some(&api.admin),
        Some(&doc),
    )
    .await
    .problem(401, "revoked_token");

    let expired = api.db.token("soon", Role::Admin).await;
    sqlx::query(
        "update api_tokens set expires_at = now() - interval '1 second' where name = 'soon'",
    )
    .execute(&api.db.pool)
    .await
    .unwrap();
    api.call(Method::POST, "/api/v1/publish", Some(&expired), Some(&doc))
        .await
        .problem(401, "expired_token");

    let stored: i64 = sqlx::query_scalar("select count(*) from server_versions")
        .fetch_one(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    // Only hashes of tokens are stored.
    let found: i64 = sqlx::query_scalar("select count(*) from api_tokens where encode(token_sha256, 'escape') like '%' || $1 || '%'")
        .bind(&reader)
        .fetch_one(&api.db.pool)
        .await
        .unwrap();
    assert_eq!(found, 0);
}

#[tokio::test]
async fn namespaces_are_created_on_first_publish_or_explicitly() {
    let api = TestApp::new().await;
    let admin = api.admin_client();
    publish_ok(&api, "com.example/one", "1.0.0").await;
    let created = admin
        .create_namespace(&NewNamespace {
            name: NamespaceName::parse("com.acme").unwrap(),
            description: Some("Acme's servers".to_owned()),
        })
        .await
        .unwrap();
    assert_eq!(created.created_by, "token:admin");
    // A name differing only in case, which the typed name would not hold as sent: as bytes.
    api.call(
        Method::POST,
        "/api/v1/namespaces",
        Some(&api.admin),
        Some(&json!({"name": "COM.acme"})),
    )
    .await
    .problem(409, "namespace_exists");
    let anonymous = api.anonymous_client();
    let list = anonymous.namespaces().await.unwrap();
    let names: Vec<_> = list
        .namespaces
        .iter()
        .map(|n| (n.name.to_string(), n.server_count))
        .collect();
    assert_eq!(
        names,
        [("com.acme".to_owned(), 0), ("com.example".to_owned(), 1)]
    );
    assert_eq!(
        anonymous
            .namespace("com.example")
            .await
            .unwrap()
            .server_count,
        1
    );
    expect_problem(
        anonymous.namespace("com.none").await,
        404,
        ProblemCode::NamespaceNotFound,
    );
}

#[tokio::test]
async fn cors_lets_browser_clients_read_the_official_api() {
    let api = TestApp::new().await;
    let preflight = api
        .send(
            Request::options("/v0.1/servers")
                .header(header::ORIGIN, "vscode-file://vscode-app")
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
                .header(
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    "authorization,content-type",
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    let h = |name: header::HeaderName| {
        preflight
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .unwrap_or_default()
    };
    assert_eq!(h(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    assert!(h(header::ACCESS_CONTROL_ALLOW_METHODS).contains("get"));
    assert!(h(header::ACCESS_CONTROL_ALLOW_METHODS).contains("options"));
    assert!(h(header::ACCESS_CONTROL_ALLOW_HEADERS).contains("authorization"));
    assert!(h(header::ACCESS_CONTROL_ALLOW_HEADERS).contains("content-type"));
    let get = api
        .send(
            Request::get("/v0.1/servers?limit=1")
                .header(header::ORIGIN, "https://github.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        get.headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        "*"
    );
    let missing = api
        .send(
            Request::get("/v0.1/servers/x%2Fy/versions/latest")
                .header(header::ORIGIN, "https://github.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        "*"
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let api = TestApp::new().await;
    assert_eq!(api.get("/healthz").await.body, json!({"status": "ok"}));
    assert_eq!(api.get("/readyz").await.body, json!({"status": "ok"}));
    let me = api
        .send(
            Request::get("/api/v1/whoami")
                .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(me.body["subject"], "token:admin");
    assert_eq!(me.body["roles"], json!(["admin"]));
    api.db.pool.close().await;
    assert_eq!(
        api.get("/readyz").await.body,
        json!({"status": "degraded"}),
        "reads go on from the read model"
    );
    assert_eq!(api.get("/healthz").await.status, StatusCode::OK);
}

/// A stored value outside the set the code knows is an error (an opaque 500), never read as
/// another value: a version whose stored status is unknown is not served as `deleted` (hidden)
/// or as anything else. The schema's check constraint is dropped to store one.
#[tokio::test]
async fn an_unknown_stored_status_is_an_error_not_another_status() {
    let api = TestApp::new().await;
    publish_ok(&api, "com.example/odd", "1.0.0").await;
    sqlx::raw_sql(
        "alter table server_versions drop constraint server_versions_status_check;
         update server_versions set status = 'archived' where server_name = 'com.example/odd'",
    )
    .execute(&api.db.pool)
    .await
    .expect("store an unknown status");
    // Replicas read what the change log names: log the change as every write does.
    mcpreg_server::db::changes::notify(&api.db.pool, "com.example/odd")
        .await
        .expect("log the change");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let reply = api
            .get("/v0.1/servers/com.example%2Fodd/versions/1.0.0")
            .await;
        if reply.status != StatusCode::OK {
            reply.problem(500, "internal");
            break;
        }
        assert_eq!(
            reply.body["_meta"]["io.modelcontextprotocol.registry/official"]["status"], "active",
            "never read as another status"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the change was never applied"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for path in [
        "/v0.1/servers/com.example%2Fodd/versions/latest",
        "/v0.1/servers/com.example%2Fodd/versions",
        "/v0.1/servers",
        "/v0.1/servers?search=odd",
    ] {
        api.get(path).await.problem(500, "internal");
    }
    // The rest of the catalog is still served.
    publish_ok(&api, "com.example/zz-other", "1.0.0").await;
    assert_eq!(
        api.get("/v0.1/servers?cursor=com.example%2Fodd")
            .await
            .status,
        StatusCode::OK
    );
}
