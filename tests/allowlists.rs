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

/// Applies a policy the way the registry stores it (its canonical JSON), and logs the change
/// that replicas' read models follow (as the registry's own writes do).
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
    mcpreg_server::db::changes::notify(&r.db.pool, "")
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

/// Waits for the replica's read model to hear of a change written straight to the database.
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
    mcpreg_server::db::changes::notify(&r.db.pool, "")
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

/// What the registry answered for an allowlist's view before its read model, computed here
/// independently: the versions the test policy allows by SQL (approved now, in `com.acme`, not
/// the legacy server), their official answers as the database stores them, and each server's
/// latest among them.
struct Oracle {
    /// `(name, version, updated_at, answer)` in `(name, version)` byte order.
    items: Vec<(
        String,
        String,
        chrono::DateTime<chrono::Utc>,
        mcpreg_api::registry::ServerResponse,
    )>,
}

impl Oracle {
    async fn read(r: &TestApp) -> Self {
        let allowed: Vec<(String, String)> = sqlx::query_as(
            "select v.server_name, v.version from server_versions v
               cross join lateral review_state_now(v.id, 1) rs
              where v.status <> 'deleted' and rs.state = 'approved'
                and v.server_name like 'com.acme/%' and v.server_name <> 'com.acme/legacy'",
        )
        .fetch_all(&r.db.pool)
        .await
        .unwrap();
        let (names, versions): (Vec<String>, Vec<String>) = allowed.into_iter().unzip();
        let mut rows = mcpreg_server::db::versions::get_many(&r.db.pool, &names, &versions)
            .await
            .unwrap();
        rows.sort_by(|a, b| {
            (a.server_name.as_bytes(), a.version.as_bytes())
                .cmp(&(b.server_name.as_bytes(), b.version.as_bytes()))
        });
        let mut latest =
            std::collections::HashMap::<String, (String, chrono::DateTime<chrono::Utc>)>::new();
        for row in &rows {
            let better = latest.get(&row.server_name).is_none_or(|(v, at)| {
                mcpreg_api::version::compare_for_latest(
                    &mcpreg_api::Version::parse(&row.version).unwrap(),
                    row.published_at,
                    &mcpreg_api::Version::parse(v).unwrap(),
                    *at,
                ) == std::cmp::Ordering::Greater
            });
            if better {
                latest.insert(
                    row.server_name.clone(),
                    (row.version.clone(), row.published_at),
                );
            }
        }
        let items = rows
            .into_iter()
            .map(|mut row| {
                row.is_latest = latest[&row.server_name].0 == row.version;
                let (name, version, updated) =
                    (row.server_name.clone(), row.version.clone(), row.updated_at);
                (name, version, updated, row.into_response().unwrap())
            })
            .collect();
        Self { items }
    }

    /// A page as the list answered it: the filters, then `limit` (+1 to know whether more follow).
    fn page(
        &self,
        cursor: Option<&str>,
        limit: usize,
        search: Option<&str>,
        version: Option<&str>,
        updated_since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Vec<u8> {
        let cursor = cursor
            .filter(|c| !c.is_empty())
            .map(|c| match c.split_once(':') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (c.to_owned(), None),
            });
        let search = search.map(str::to_lowercase);
        let mut page: Vec<_> = self
            .items
            .iter()
            .filter(|(name, v, updated, answer)| {
                cursor.as_ref().is_none_or(|(cn, cv)| match cv {
                    Some(cv) => (name.as_str(), v.as_str()) > (cn.as_str(), cv.as_str()),
                    None => name.as_str() > cn.as_str(),
                }) && search
                    .as_deref()
                    .is_none_or(|s| name.to_lowercase().contains(s))
                    && updated_since.is_none_or(|t| *updated > t)
                    && match version.filter(|v| !v.is_empty()) {
                        None => true,
                        Some("latest") => answer.meta.official.is_latest,
                        Some(want) => want == v,
                    }
            })
            .take(limit + 1)
            .collect();
        let next_cursor = (page.len() > limit).then(|| {
            page.truncate(limit);
            let (n, v, _, _) = page[limit - 1];
            format!("{n}:{v}")
        });
        serde_json::to_vec(&ServerList {
            metadata: mcpreg_api::registry::ListMetadata {
                next_cursor,
                count: page.len(),
            },
            servers: page.into_iter().map(|(_, _, _, a)| a.clone()).collect(),
        })
        .unwrap()
    }

    /// A server's versions as `/versions` answered them (`None`: 404).
    fn versions(&self, name: &str) -> Option<Vec<u8>> {
        let mut mine: Vec<_> = self.items.iter().filter(|i| i.0 == name).collect();
        if mine.is_empty() {
            return None;
        }
        mine.sort_by_key(|i| std::cmp::Reverse(i.3.meta.official.published_at));
        Some(
            serde_json::to_vec(&ServerList {
                metadata: mcpreg_api::registry::ListMetadata {
                    next_cursor: None,
                    count: mine.len(),
                },
                servers: mine.into_iter().map(|i| i.3.clone()).collect(),
            })
            .unwrap(),
        )
    }

    /// One version as `/versions/{version}` answered it (`None`: 404).
    fn version(&self, name: &str, version: &str) -> Option<Vec<u8>> {
        self.items
            .iter()
            .find(|i| {
                i.0 == name
                    && if version == "latest" {
                        i.3.meta.official.is_latest
                    } else {
                        i.1 == version
                    }
            })
            .map(|i| serde_json::to_vec(&i.3).unwrap())
    }
}

/// Fetches a URL of the test server as bytes: its status and body.
async fn bytes(url: &str, query: &[(&str, &str)]) -> (u16, Vec<u8>) {
    let url = reqwest::Url::parse_with_params(url, query).unwrap();
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn views_answer_byte_for_byte_what_the_database_says_at_every_cursor_and_filter() {
    let r = registry().await;
    settle().await;
    // Names with upper case (search folds case), versions that are not semver and sort
    // differently as text, a pre-release, servers outside the view, and one denied.
    let data: &[(&str, &[&str], &[&str])] = &[
        (
            "com.acme/Alpha",
            &["1.0.0", "1.2.0", "2.0.0-beta"],
            &["1.0.0", "2.0.0-beta"],
        ),
        (
            "com.acme/alpha-two",
            &["0.1.0", "0.2.0"],
            &["0.1.0", "0.2.0"],
        ),
        (
            "com.acme/beta",
            &["2024.1", "2024.10", "2024.2"],
            &["2024.1", "2024.10", "2024.2"],
        ),
        ("com.acme/kelvin", &["1.0.0"], &["1.0.0"]),
        ("com.acme/legacy", &["1.0.0"], &["1.0.0"]),
        ("com.acme/zeta", &["3.0.0", "3.0.1"], &["3.0.0"]),
        ("org.other/tool", &["1.0.0"], &["1.0.0"]),
    ];
    for (name, versions, approved) in data {
        for v in *versions {
            publish(&r, name, v).await;
        }
        for v in *approved {
            r.approve(name, v).await;
        }
    }
    let oracle = Oracle::read(&r).await;
    assert_eq!(oracle.items.len(), 9, "the data set is as intended");
    let mid = oracle.items[4].2;
    let base = format!("{}/a/engineering/v0.1/servers", r.url);
    let mut compared = 0;
    for limit in [1usize, 2, 3, 30] {
        for search in [
            None,
            Some(""),
            Some("ALPHA"),
            Some("a"),
            Some("\u{212A}"),
            Some("é"),
            Some("/b"),
        ] {
            for version in [None, Some(""), Some("latest"), Some("1.0.0")] {
                for since in [None, Some(mid)] {
                    // Every page, following the cursors the list hands out.
                    let mut cursor: Option<String> = None;
                    loop {
                        let limit_text = limit.to_string();
                        let since_text = since.map(|t| t.to_rfc3339());
                        let mut query = vec![("limit", limit_text.as_str())];
                        if let Some(s) = search {
                            query.push(("search", s));
                        }
                        if let Some(v) = version {
                            query.push(("version", v));
                        }
                        if let Some(t) = &since_text {
                            query.push(("updated_since", t));
                        }
                        if let Some(c) = &cursor {
                            query.push(("cursor", c));
                        }
                        let (status, body) = bytes(&base, &query).await;
                        let expected =
                            oracle.page(cursor.as_deref(), limit, search, version, since);
                        assert_eq!(status, 200, "{query:?}");
                        assert_eq!(
                            String::from_utf8_lossy(&body),
                            String::from_utf8_lossy(&expected),
                            "{query:?}"
                        );
                        compared += 1;
                        let list: ServerList = serde_json::from_slice(&body).unwrap();
                        match list.metadata.next_cursor {
                            Some(next) => cursor = Some(next),
                            None => break,
                        }
                    }
                }
            }
        }
    }
    assert!(compared > 300, "{compared} pages compared");
    // Cursors no answer handed out: a bare name, a version between two, past the end, empty.
    for cursor in [
        "com.acme/beta",
        "com.acme/alpha-two:0.1.5",
        "com.acme/Alpha:",
        "zzz",
        "",
        "com.acme/beta:2024.10",
        "A",
    ] {
        for search in [None, Some("a")] {
            let mut query = vec![("cursor", cursor), ("limit", "4")];
            if let Some(s) = search {
                query.push(("search", s));
            }
            let (status, body) = bytes(&base, &query).await;
            assert_eq!(status, 200);
            assert_eq!(
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&oracle.page(Some(cursor), 4, search, None, None)),
                "{query:?}"
            );
        }
    }
    // One server's versions, and each version, including `latest` and ones not in the view.
    for (name, versions, _) in data
        .iter()
        .chain([&("com.acme/nosuch", &["1.0.0"][..], &[][..])])
    {
        let encoded = name.replace('/', "%2F");
        let (status, body) = bytes(&format!("{base}/{encoded}/versions"), &[]).await;
        match oracle.versions(name) {
            Some(expected) => {
                assert_eq!(status, 200, "{name}");
                assert_eq!(
                    String::from_utf8_lossy(&body),
                    String::from_utf8_lossy(&expected)
                );
            }
            None => assert_eq!(status, 404, "{name}"),
        }
        for v in versions.iter().chain(&["latest"]) {
            for prefix in ["v0.1", "v0"] {
                let url = format!(
                    "{}/a/engineering/{prefix}/servers/{encoded}/versions/{v}",
                    r.url
                );
                let (status, body) = bytes(&url, &[]).await;
                match oracle.version(name, v) {
                    Some(expected) => {
                        assert_eq!(status, 200, "{name} {v}");
                        assert_eq!(
                            String::from_utf8_lossy(&body),
                            String::from_utf8_lossy(&expected)
                        );
                    }
                    None => assert_eq!(status, 404, "{name} {v}"),
                }
            }
        }
    }
}

/// The policy of the test below: `engineering` wants approved, signed and clean versions,
/// `secure` approved ones, and `lab` takes anything `com.acme` publishes.
fn following_policy(key_id: &str, lab: bool) -> String {
    let lab = if lab {
        "  - name: lab-takes-anything\n    effect: allow\n    subjects: [{allowlist: lab}]\n    resources: [{namespace: com.acme}]\n    require: {reviewState: [submitted, approved]}\n"
    } else {
        ""
    };
    format!(
        r#"apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: engineering-signed-and-clean
    effect: allow
    subjects: [{{allowlist: engineering}}]
    resources: [{{namespace: com.acme}}]
    require:
      reviewState: [approved]
      signedBy: [{{keyId: "{key_id}"}}]
      maxSeverity: medium
  - name: secure-approved
    effect: allow
    subjects: [{{allowlist: secure}}]
    resources: [{{namespace: com.acme}}]
    require: {{reviewState: [approved]}}
{lab}"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_view_follows_every_kind_of_change_on_the_replica_that_made_it_at_once() {
    let r = TestApp::with_access(lenient()).await;
    for (name, access) in [
        ("engineering", Access::Anonymous),
        ("secure", Access::Anonymous),
        ("lab", Access::Anonymous),
    ] {
        create(&r, new_allowlist(name, Some(access), &[]))
            .await
            .unwrap();
    }
    // The publisher's token makes the namespace.
    r.publisher().await;
    let key_id = r.trust_test_key("com.acme").await;
    let admin = r.admin_client();
    admin
        .apply_policy(&mcpreg_api::policy::ApplyPolicyRequest {
            source: following_policy(&key_id, true),
        })
        .await
        .unwrap();
    let anonymous = r.anonymous_client();
    let view = async |allowlist: &str| {
        names(
            &anonymous
                .allowlist_servers(allowlist, &ServerListQuery::default())
                .await
                .unwrap(),
        )
    };
    let document_version = async || {
        let d = r.get("/api/v1/allowlists/engineering").await;
        assert_eq!(d.status, StatusCode::OK, "{:#}", d.body);
        d.body["signed"]["version"].as_i64().unwrap()
    };
    assert!(view("engineering").await.is_empty());
    let empty = document_version().await;

    // Each read below follows its write with no wait: the writing replica reads its writes.
    // A publish.
    let doc = crate::util::server_json("com.acme/github", "1.0.0");
    r.published(r.publisher().await, &doc).await;
    assert_eq!(view("lab").await, ["com.acme/github@1.0.0 (latest)"]);
    assert!(view("secure").await.is_empty());
    // A review approval.
    r.approve("com.acme/github", "1.0.0").await;
    assert_eq!(view("secure").await, ["com.acme/github@1.0.0 (latest)"]);
    assert!(view("engineering").await.is_empty(), "not signed yet");
    assert_eq!(
        document_version().await,
        empty,
        "the entries did not change"
    );
    // A signature.
    r.sign(r.publisher().await, &doc).await;
    assert_eq!(
        view("engineering").await,
        ["com.acme/github@1.0.0 (latest)"]
    );
    let signed = document_version().await;
    assert_eq!(signed, empty + 1, "a new document for the new entries");
    // A scan upload with high findings.
    let bandit = crate::util::scan_fixture_json(
        "scans/bandit/cisco-example-malicious-mcp-servers.bandit.sarif",
    );
    admin
        .upload_scan(
            "com.acme/github",
            "1.0.0",
            &mcpreg_api::scans::NewScanReport {
                report: bandit,
                format: None,
                scanned_digest: None,
            },
        )
        .await
        .unwrap();
    assert!(view("engineering").await.is_empty(), "high findings");
    assert_eq!(view("secure").await, ["com.acme/github@1.0.0 (latest)"]);
    assert_eq!(document_version().await, signed + 1);
    // A policy change.
    admin
        .apply_policy(&mcpreg_api::policy::ApplyPolicyRequest {
            source: following_policy(&key_id, false),
        })
        .await
        .unwrap();
    assert!(view("lab").await.is_empty());
    assert_eq!(view("secure").await, ["com.acme/github@1.0.0 (latest)"]);
    // A new allowlist has its view at once.
    create(&r, new_allowlist("fresh", Some(Access::Anonymous), &[]))
        .await
        .unwrap();
    assert!(view("fresh").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approval_that_expires_leaves_the_view_without_any_write() {
    let r = registry().await;
    settle().await;
    publish(&r, "com.acme/github", "1.0.0").await;
    publish(&r, "com.acme/github", "1.1.0").await;
    r.approve("com.acme/github", "1.0.0").await;
    r.approve("com.acme/github", "1.1.0").await;
    // 1.1.0's approval expires in two seconds (as `approval_days` would make it, sooner); the
    // change is logged like any review write.
    // Decisions are append-only (a trigger says so); the test steps around it.
    let mut tx = r.db.pool.begin().await.unwrap();
    sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "update review_decisions d set expires_at = now() + interval '2 seconds'
           from server_versions v
          where v.id = d.version_id and v.server_name = 'com.acme/github' and v.version = '1.1.0'",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    mcpreg_server::db::changes::notify(&r.db.pool, "com.acme/github")
        .await
        .unwrap();
    settle().await;
    let anonymous = r.anonymous_client();
    let view = async || {
        names(
            &anonymous
                .allowlist_servers("engineering", &ServerListQuery::default())
                .await
                .unwrap(),
        )
    };
    assert_eq!(
        view().await,
        ["com.acme/github@1.0.0", "com.acme/github@1.1.0 (latest)"]
    );
    let before: i64 = r.count("select count(*) from catalog_changes").await;
    let started = std::time::Instant::now();
    loop {
        if view().await == ["com.acme/github@1.0.0 (latest)"] {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the expired approval is still served: {:?}",
            view().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        started.elapsed() > std::time::Duration::from_millis(1000),
        "it left before the approval expired"
    );
    assert_eq!(
        r.count("select count(*) from catalog_changes").await,
        before,
        "nothing was written"
    );
    let latest = anonymous
        .allowlist_version("engineering", "com.acme/github", "latest", false)
        .await
        .unwrap();
    assert_eq!(latest.server_value()["version"], "1.0.0");
}
