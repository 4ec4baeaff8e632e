//! The HTTP API against a real PostgreSQL database: the official read API, publishing,
//! status changes, namespaces, credentials and the error model.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{Reply, TestApp};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use mcpreg_api::admin::Role;
use serde_json::{Value, json};

async fn publish_ok(
    api: &TestApp,
    name: &str,
    version: &str,
) -> mcpreg_api::registry::ServerResponse {
    api.published(&api.admin, &server_json(name, version)).await
}

async fn set_status(api: &TestApp, path: &str, status: &str, message: Option<&str>) -> Reply {
    let mut body = json!({"status": status});
    if let Some(m) = message {
        body["statusMessage"] = json!(m);
    }
    api.call(Method::PATCH, path, Some(&api.admin), Some(&body))
        .await
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
    let created = api.publish(&api.admin, &doc).await;
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
    api.publish(&api.admin, &changed)
        .await
        .problem(409, "version_exists");
    let stored = api
        .get("/v0.1/servers/com.example%2Fweather/versions/1.0.0")
        .await;
    assert_eq!(stored.body["server"]["description"], "A server for tests");

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
    api.publish(&api.admin, &server_json("com.example/Weather", "1.0.1"))
        .await
        .problem(409, "name_conflict");
    api.publish(&api.admin, &server_json("COM.example/other", "1.0.0"))
        .await
        .problem(409, "name_conflict");
}

#[tokio::test]
async fn latest_follows_the_official_order() {
    let api = TestApp::new().await;
    let name = "com.example/ordering";
    let latest = async |api: &TestApp| {
        api.get(&format!(
            "/v0.1/servers/{}/versions/latest",
            name.replace('/', "%2F")
        ))
        .await
        .body["server"]["version"]
            .as_str()
            .unwrap()
            .to_owned()
    };
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
        .get("/v0.1/servers/com.example%2Fordering/versions")
        .await;
    let flags: Vec<bool> = versions.body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| official(s)["isLatest"].as_bool().unwrap())
        .collect();
    assert_eq!(
        flags.iter().filter(|f| **f).count(),
        1,
        "exactly one latest"
    );
    // Newest publication first.
    assert_eq!(versions.body["servers"][0]["server"]["version"], "snapshot");

    // Deleting the latest moves it to the next highest live version; restoring moves it back.
    set_status(
        &api,
        "/api/v1/servers/com.example%2Fordering/versions/2.0.0-rc.1/status",
        "deleted",
        Some("withdrawn"),
    )
    .await;
    assert_eq!(latest(&api).await, "1.10.0");
    set_status(
        &api,
        "/api/v1/servers/com.example%2Fordering/versions/2.0.0-rc.1/status",
        "active",
        None,
    )
    .await;
    assert_eq!(latest(&api).await, "2.0.0-rc.1");
}

#[tokio::test]
async fn status_changes_hide_deleted_versions_and_record_why() {
    let api = TestApp::new().await;
    publish_ok(&api, "com.example/old", "1.0.0").await;
    publish_ok(&api, "com.example/old", "1.1.0").await;
    publish_ok(&api, "com.example/kept", "1.0.0").await;

    let deprecated = set_status(
        &api,
        "/api/v1/servers/com.example%2Fold/status",
        "deprecated",
        Some("use com.example/kept"),
    )
    .await;
    assert_eq!(deprecated.status, StatusCode::OK, "{:#}", deprecated.body);
    assert_eq!(deprecated.body["versions"].as_array().unwrap().len(), 2);
    let one = api
        .get("/v0.1/servers/com.example%2Fold/versions/1.0.0")
        .await;
    assert_eq!(official(&one.body)["status"], "deprecated");
    assert_eq!(official(&one.body)["statusMessage"], "use com.example/kept");
    // Deprecated versions are still listed.
    assert_eq!(
        api.get("/v0.1/servers?version=latest").await.body["metadata"]["count"],
        2
    );
    // The same change again changes nothing.
    let again = set_status(
        &api,
        "/api/v1/servers/com.example%2Fold/status",
        "deprecated",
        Some("use com.example/kept"),
    )
    .await;
    assert_eq!(again.body["versions"], json!([]));

    set_status(
        &api,
        "/api/v1/servers/com.example%2Fold/status",
        "deleted",
        Some("gone"),
    )
    .await;
    let list = api.get("/v0.1/servers").await;
    assert_eq!(names_and_versions(&list.body), ["com.example/kept@1.0.0"]);
    let all = api.get("/v0.1/servers?include_deleted=true").await;
    assert_eq!(all.body["metadata"]["count"], 3);
    api.get("/v0.1/servers/com.example%2Fold/versions/1.0.0")
        .await
        .problem(404, "version_deleted");
    api.get("/v0.1/servers/com.example%2Fold/versions")
        .await
        .problem(404, "server_not_found");
    let shown = api
        .get("/v0.1/servers/com.example%2Fold/versions/latest?include_deleted=true")
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["server"]["version"], "1.1.0");

    // A status message with `active` is refused, as is an unknown status or version.
    let refused = set_status(
        &api,
        "/api/v1/servers/com.example%2Fold/status",
        "active",
        Some("why"),
    )
    .await;
    assert_eq!(
        refused.problem(400, "invalid_parameter")["errors"][0]["location"],
        "statusMessage"
    );
    set_status(
        &api,
        "/api/v1/servers/com.example%2Fold/status",
        "archived",
        None,
    )
    .await
    .problem(400, "invalid_body");
    set_status(
        &api,
        "/api/v1/servers/com.example%2Fold/versions/9.9.9/status",
        "deleted",
        None,
    )
    .await
    .problem(404, "version_not_found");
    set_status(
        &api,
        "/api/v1/servers/com.example%2Fnone/status",
        "deleted",
        None,
    )
    .await
    .problem(404, "server_not_found");
    let long = "x".repeat(501);
    set_status(
        &api,
        "/api/v1/servers/com.example%2Fold/status",
        "deleted",
        Some(&long),
    )
    .await
    .problem(400, "invalid_parameter");

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
        "/api/v1/servers/com.example%2Falpha/versions/1.0.0/status",
        "deleted",
        None,
    )
    .await;
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
        let uri = match &cursor {
            Some(c) => format!(
                "/v0.1/servers?limit=4&version=latest&cursor={}",
                c.replace('/', "%2F").replace(':', "%3A")
            ),
            None => "/v0.1/servers?limit=4&version=latest".to_owned(),
        };
        let page = api.get(&uri).await;
        assert_eq!(page.status, StatusCode::OK, "{:#}", page.body);
        assert!(page.body["metadata"]["count"].as_u64().unwrap() <= 4);
        seen.extend(names_and_versions(&page.body));
        pages += 1;
        publish_ok(&api, &format!("com.example/a{pages:02}"), "1.0.0").await; // sorts before every cursor
        match page.body["metadata"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
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
    let reply = api.publish(&api.admin, &doc).await;
    reply.problem(422, "invalid_server_json");
    insta::assert_json_snapshot!("invalid_server_json_problem", reply.body);
    let locations = reply.locations();
    for want in [
        "version",
        "packages[0].version",
        "description",
        "remotes[0].url",
    ] {
        assert!(
            locations.iter().any(|l| l == want),
            "{want} missing from {locations:?}"
        );
    }
    let mut unknown_schema = server_json("com.example/bad", "1.0.0");
    unknown_schema["$schema"] =
        json!("https://static.modelcontextprotocol.io/schemas/draft/server.schema.json");
    assert_eq!(
        api.publish(&api.admin, &unknown_schema).await.locations(),
        ["$schema"]
    );
    let mut no_schema = server_json("com.example/bad", "1.0.0");
    no_schema.as_object_mut().unwrap().remove("$schema");
    assert_eq!(
        api.publish(&api.admin, &no_schema).await.locations(),
        ["$schema"]
    );
    api.publish(&api.admin, &json!([1, 2]))
        .await
        .problem(422, "invalid_server_json");
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
    let report = api
        .call(Method::POST, "/api/v1/validate", None, Some(&doc))
        .await;
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(report.body["valid"], false);
    assert!(report.body["errors"].as_array().unwrap().len() >= 4);
    let ok = api
        .call(
            Method::POST,
            "/v0.1/validate",
            None,
            Some(&server_json("com.example/good", "1.0.0")),
        )
        .await;
    assert_eq!(ok.body["valid"], true);
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
    api.publish(&api.admin, &doc)
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
    publish_ok(&api, "com.example/one", "1.0.0").await;
    let created = api
        .call(
            Method::POST,
            "/api/v1/namespaces",
            Some(&api.admin),
            Some(&json!({"name": "com.acme", "description": "Acme's servers"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
    assert_eq!(created.body["createdBy"], "token:admin");
    api.call(
        Method::POST,
        "/api/v1/namespaces",
        Some(&api.admin),
        Some(&json!({"name": "COM.acme"})),
    )
    .await
    .problem(409, "namespace_exists");
    let list = api.get("/api/v1/namespaces").await;
    let names: Vec<_> = list.body["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["name"].clone(), n["serverCount"].clone()))
        .collect();
    assert_eq!(
        names,
        [
            (json!("com.acme"), json!(0)),
            (json!("com.example"), json!(1))
        ]
    );
    assert_eq!(
        api.get("/api/v1/namespaces/com.example").await.body["serverCount"],
        1
    );
    api.get("/api/v1/namespaces/com.none")
        .await
        .problem(404, "namespace_not_found");
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
    api.get("/readyz").await.problem(503, "unavailable");
    assert_eq!(api.get("/healthz").await.status, StatusCode::OK);
}
