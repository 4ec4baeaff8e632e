//! The read model (issue 11): the official API answers from each replica's memory, byte for byte
//! what the database path answered, and follows every committed change — including changes
//! committed out of revision order, notifications that never arrive, and a database that goes
//! away and comes back.
//!
//! The oracle is the SQL the registry used to answer with (kept here, not in the service): a
//! page is compared byte for byte with what that SQL's rows serialize to through the same
//! response type.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use mcpreg_api::admin::StatusChange;
use mcpreg_api::registry::{ListMetadata, ServerList, Status};
use mcpreg_server::db::versions::VersionRow;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

use crate::util::{ServerProcess, TestApp, TestDb, server_json};

/// `GET` through the router, the body as bytes.
async fn raw(api: &TestApp, uri: &str) -> (StatusCode, Vec<u8>) {
    let response = api
        .app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

const COLUMNS: &str = "server_name, version, document, status, status_message, is_latest, \
    published_at, updated_at, t.tools_pin, t.context_cost_tokens, \
    t.context_cost ->> 'encoding' as context_cost_encoding \
    from server_versions left join tool_manifests t on t.version_id = server_versions.id";

#[derive(Debug, Clone, Default)]
struct Filter {
    cursor: Option<String>,
    limit: u32,
    search: Option<String>,
    updated_since: Option<DateTime<Utc>>,
    version: Option<String>,
    include_deleted: Option<bool>,
}

impl Filter {
    fn query(&self) -> String {
        let mut u = reqwest::Url::parse("http://registry/").unwrap();
        let mut q = u.query_pairs_mut();
        q.append_pair("limit", &self.limit.to_string());
        if let Some(c) = &self.cursor {
            q.append_pair("cursor", c);
        }
        if let Some(s) = &self.search {
            q.append_pair("search", s);
        }
        if let Some(t) = &self.updated_since {
            q.append_pair(
                "updated_since",
                &t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            );
        }
        if let Some(v) = &self.version {
            q.append_pair("version", v);
        }
        if let Some(d) = self.include_deleted {
            q.append_pair("include_deleted", &d.to_string());
        }
        drop(q);
        u.query().unwrap_or("").to_owned()
    }
}

fn to_bytes(rows: Vec<VersionRow>, next_cursor: Option<String>) -> Vec<u8> {
    let servers: Vec<_> = rows
        .into_iter()
        .map(|r| r.into_response().unwrap())
        .collect();
    serde_json::to_vec(&ServerList {
        metadata: ListMetadata {
            next_cursor,
            count: servers.len(),
        },
        servers,
    })
    .unwrap()
}

/// The list as the database path answered it (the SQL of `db::versions::list` before the read
/// model): keyset pagination on `(server_name, version)` in `collate "C"` order.
async fn oracle_list(pool: &PgPool, f: &Filter) -> Vec<u8> {
    let mut sql = format!("select {COLUMNS} where true");
    let mut n = 0;
    let mut arg = || {
        n += 1;
        format!("${n}")
    };
    let latest = f.version.as_deref() == Some("latest");
    let version = f.version.clone().filter(|v| v != "latest" && !v.is_empty());
    let include_deleted = f.include_deleted.unwrap_or(f.updated_since.is_some());
    let mut texts: Vec<String> = Vec::new();
    if latest {
        sql.push_str(" and is_latest");
    }
    if let Some(v) = &version {
        sql.push_str(&format!(" and version = {}", arg()));
        texts.push(v.clone());
    }
    if !include_deleted {
        sql.push_str(" and status <> 'deleted'");
    }
    if let Some(s) = f.search.as_deref().filter(|s| !s.is_empty()) {
        let mut pattern = String::from("%");
        for c in s.chars() {
            if matches!(c, '\\' | '%' | '_') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        sql.push_str(&format!(" and server_name ilike {}", arg()));
        texts.push(pattern);
    }
    let since_arg = f.updated_since.map(|_| arg());
    if let Some(a) = &since_arg {
        sql.push_str(&format!(" and updated_at > {a}::timestamptz"));
    }
    if let Some(c) = f.cursor.as_deref().filter(|c| !c.is_empty()) {
        match c.split_once(':') {
            Some((name, v)) => {
                sql.push_str(&format!(
                    " and (server_name, version) > ({}, {})",
                    arg(),
                    arg()
                ));
                texts.push(name.into());
                texts.push(v.into());
            }
            None => {
                sql.push_str(&format!(" and server_name > {}", arg()));
                texts.push(c.into());
            }
        }
    }
    sql.push_str(&format!(
        " order by server_name, version limit {}",
        f.limit + 1
    ));
    // Bind in placeholder order: texts before the timestamp except the cursor's, which the
    // builder above numbered after it.
    let mut q = sqlx::query_as::<_, VersionRow>(sqlx::AssertSqlSafe(sql.clone()));
    let mut texts = texts.into_iter();
    for i in 1..=n {
        if since_arg.as_deref() == Some(&format!("${i}")) {
            q = q.bind(f.updated_since);
        } else {
            q = q.bind(texts.next().unwrap());
        }
    }
    let mut rows = q
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let next = if rows.len() > f.limit as usize {
        rows.truncate(f.limit as usize);
        rows.last()
            .map(|r| format!("{}:{}", r.server_name, r.version))
    } else {
        None
    };
    to_bytes(rows, next)
}

/// A catalog with what makes pages differ: names that differ in case and sort differently in
/// byte order than in a locale, several versions, every status, a status message, a version
/// string with a colon, and deleted versions that are some servers' latest.
async fn varied_catalog(api: &TestApp) -> DateTime<Utc> {
    let names = [
        "com.acme/Alpha",
        "com.acme/alpha-2",
        "com.acme/beta",
        "com.acme/B_side",
        "com.acme/zeta",
        "io.github.x/Percent-100",
        "io.github.x/under_score",
        "io.github.x/weather",
        "org.example/a",
        "org.example/b",
    ];
    let admin = api.admin_client();
    let mut middle = Utc::now();
    for (i, name) in names.iter().enumerate() {
        for (j, version) in ["1.0.0", "1.1.0", "2.0.0-rc.1"].iter().enumerate() {
            if (i + j) % 4 == 3 {
                continue;
            }
            admin
                .publish_server_json(&server_json(name, version))
                .await
                .unwrap();
        }
        if i == 4 {
            middle = Utc::now();
        }
    }
    let status = |s: Status, m: Option<&str>| StatusChange {
        status: s,
        status_message: m.map(str::to_owned),
    };
    admin
        .set_version_status(
            "com.acme/beta",
            "1.0.0",
            &status(Status::Deprecated, Some("use 2.x \"now\"")),
        )
        .await
        .unwrap();
    admin
        .set_server_status("org.example/a", &status(Status::Deleted, Some("gone")))
        .await
        .unwrap();
    admin
        .set_version_status(
            "io.github.x/weather",
            "2.0.0-rc.1",
            &status(Status::Deleted, None),
        )
        .await
        .unwrap();
    middle
}

/// Every page at every cursor, for every combination of the list's filters, is byte for byte
/// what the database path answered.
#[tokio::test]
async fn pages_are_the_bytes_the_database_path_answered() {
    let api = TestApp::new().await;
    let middle = varied_catalog(&api).await;
    let pool = &api.db.pool;
    let mut cursors: Vec<Option<String>> = vec![None, Some(String::new())];
    for (name, version) in sqlx::query_as::<_, (String, String)>(
        "select server_name, version from server_versions order by 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        cursors.push(Some(format!("{name}:{version}")));
        cursors.push(Some(name));
    }
    cursors.push(Some("com.acme/b".into()));
    cursors.push(Some("zzz".into()));
    cursors.push(Some("com.acme/alpha-2:".into()));
    let mut compared = 0;
    for version in [None, Some("latest"), Some("1.0.0"), Some("")] {
        for include_deleted in [None, Some(true), Some(false)] {
            for search in [
                None,
                Some("ALPHA"),
                Some("acme/b"),
                Some("%"),
                Some("_s"),
                Some(""),
            ] {
                for updated_since in [None, Some(middle)] {
                    if updated_since.is_some() && include_deleted == Some(false) {
                        continue;
                    }
                    for cursor in &cursors {
                        for limit in [1, 4, 100] {
                            let f = Filter {
                                cursor: cursor.clone(),
                                limit,
                                search: search.map(str::to_owned),
                                updated_since,
                                version: version.map(str::to_owned),
                                include_deleted,
                            };
                            let (status, body) =
                                raw(&api, &format!("/v0.1/servers?{}", f.query())).await;
                            assert_eq!(status, StatusCode::OK, "{f:?}");
                            let expected = oracle_list(pool, &f).await;
                            assert!(
                                body == expected,
                                "{f:?}\n   got {}\nwanted {}",
                                String::from_utf8_lossy(&body),
                                String::from_utf8_lossy(&expected)
                            );
                            compared += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(compared > 5000, "{compared} pages compared");

    // Each server's versions, and each version and latest, with and without deleted ones.
    let names: Vec<String> =
        sqlx::query_scalar("select distinct server_name from server_versions order by 1")
            .fetch_all(pool)
            .await
            .unwrap();
    for name in names.iter().map(String::as_str).chain(["com.acme/none"]) {
        let encoded = name.replace('/', "%2F");
        for include_deleted in [false, true] {
            let rows: Vec<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {COLUMNS} where server_name = $1 and ($2 or status <> 'deleted') \
                 order by published_at desc, server_versions.id desc"
            )))
            .bind(name)
            .bind(include_deleted)
            .fetch_all(pool)
            .await
            .unwrap();
            let (status, body) = raw(
                &api,
                &format!("/v0.1/servers/{encoded}/versions?include_deleted={include_deleted}"),
            )
            .await;
            if rows.is_empty() {
                assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
            } else {
                assert_eq!(body, to_bytes(rows, None), "{name} {include_deleted}");
            }
        }
        for version in ["1.0.0", "1.1.0", "2.0.0-rc.1", "9.9.9", "latest"] {
            let row: Option<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {COLUMNS} where server_name = $1 and \
                 (case when $2 = 'latest' then is_latest else version = $2 end)"
            )))
            .bind(name)
            .bind(version)
            .fetch_optional(pool)
            .await
            .unwrap();
            let (status, body) = raw(
                &api,
                &format!("/v0.1/servers/{encoded}/versions/{version}?include_deleted=true"),
            )
            .await;
            match row {
                Some(row) => assert_eq!(
                    body,
                    serde_json::to_vec(&row.into_response().unwrap()).unwrap(),
                    "{name}@{version}"
                ),
                None => assert_eq!(status, StatusCode::NOT_FOUND, "{name}@{version}"),
            }
        }
    }
}

/// A walk through the whole list while others publish never repeats a server and never skips
/// one that existed when it began.
#[tokio::test(flavor = "multi_thread")]
async fn a_walk_never_skips_or_repeats_while_others_publish() {
    let api = Arc::new(TestApp::new().await);
    let admin = api.admin_client();
    let mut before = Vec::new();
    for i in 0..60 {
        let name = format!("com.walk/s{:03}", i * 2);
        admin
            .publish_server_json(&server_json(&name, "1.0.0"))
            .await
            .unwrap();
        before.push(name);
    }
    let publisher = {
        let api = api.clone();
        tokio::spawn(async move {
            let admin = api.admin_client();
            for i in 0..60 {
                // Between existing names, and new versions of existing servers (moving latest).
                admin
                    .publish_server_json(&server_json(
                        &format!("com.walk/s{:03}", i * 2 + 1),
                        "1.0.0",
                    ))
                    .await
                    .unwrap();
                admin
                    .publish_server_json(&server_json(&format!("com.walk/s{:03}", i * 2), "2.0.0"))
                    .await
                    .unwrap();
            }
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut uri = "/v0.1/servers?limit=3&version=latest&search=walk".to_owned();
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={}", c.replace('/', "%2F")));
        }
        let (status, body) = raw(&api, &uri).await;
        assert_eq!(status, StatusCode::OK);
        let page: Value = serde_json::from_slice(&body).unwrap();
        for s in page["servers"].as_array().unwrap() {
            seen.push(s["server"]["name"].as_str().unwrap().to_owned());
        }
        match page["metadata"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    publisher.await.unwrap();
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing, so never repeated: {seen:?}"
    );
    for name in &before {
        assert!(seen.contains(name), "{name} skipped");
    }
}

/// Reads the revision header of an answer.
fn revision(reply: &crate::util::Reply) -> i64 {
    reply.headers["x-mcpreg-revision"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A change whose transaction took its revision first but committed last is applied: replicas
/// read the log by transaction, not by revision. And a change logged without a notification is
/// caught by the periodic check.
#[tokio::test]
async fn changes_committed_out_of_order_or_unannounced_are_applied() {
    let api = TestApp::new().await;
    let admin = api.admin_client();
    admin
        .publish_server_json(&server_json("com.example/slow", "1.0.0"))
        .await
        .unwrap();
    // A transaction logs a change to com.example/slow, then waits.
    let mut slow = api.db.pool.begin().await.unwrap();
    sqlx::query(
        "update server_versions set status_message = 'slow', updated_at = now() \
         where server_name = 'com.example/slow'",
    )
    .execute(&mut *slow)
    .await
    .unwrap();
    mcpreg_server::db::changes::notify(&mut *slow, "com.example/slow")
        .await
        .unwrap();
    // Meanwhile a later revision commits and is applied.
    admin
        .publish_server_json(&server_json("com.example/fast", "1.0.0"))
        .await
        .unwrap();
    let fast = api
        .get("/v0.1/servers/com.example%2Ffast/versions/latest")
        .await;
    assert_eq!(fast.status, StatusCode::OK);
    let applied = revision(&fast);
    slow.commit().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let r = api
            .get("/v0.1/servers/com.example%2Fslow/versions/1.0.0")
            .await;
        if r.body["_meta"]["io.modelcontextprotocol.registry/official"]["statusMessage"] == "slow" {
            // Its revision is older than one already applied: the newest applied stays.
            assert!(revision(&r) >= applied);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the late commit was never applied"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A change logged without NOTIFY (a lost notification): the one-second check finds it.
    sqlx::raw_sql(
        "update server_versions set status_message = 'quiet', updated_at = now() \
           where server_name = 'com.example/fast';
         insert into catalog_changes (server_name) values ('com.example/fast');",
    )
    .execute(&api.db.pool)
    .await
    .unwrap();
    let started = Instant::now();
    loop {
        let r = api
            .get("/v0.1/servers/com.example%2Ffast/versions/1.0.0")
            .await;
        if r.body["_meta"]["io.modelcontextprotocol.registry/official"]["statusMessage"] == "quiet"
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the unannounced change was not applied by the periodic check"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where the proxy forwards to: PostgreSQL over TCP, or the private test cluster's socket.
#[derive(Clone)]
enum Upstream {
    Tcp(String),
    Unix(std::path::PathBuf),
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

impl Upstream {
    /// The upstream of a database URL, and the URL that reaches it through a proxy on `port`.
    fn of(database_url: &str) -> (Self, impl Fn(u16) -> String) {
        let url = reqwest::Url::parse(database_url).unwrap();
        let query: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let socket_dir = query
            .iter()
            .find(|(k, _)| k == "host")
            .map(|(_, v)| v.clone());
        let port = query
            .iter()
            .find(|(k, _)| k == "port")
            .and_then(|(_, v)| v.parse().ok())
            .or(url.port())
            .unwrap_or(5432);
        let upstream = match socket_dir {
            Some(dir) if dir.starts_with('/') => {
                Upstream::Unix(std::path::Path::new(&dir).join(format!(".s.PGSQL.{port}")))
            }
            _ => Upstream::Tcp(format!("{}:{port}", url.host_str().unwrap_or("127.0.0.1"))),
        };
        let proxied = move |proxy_port: u16| {
            let mut u = url.clone();
            u.set_host(Some("127.0.0.1")).unwrap();
            u.set_port(Some(proxy_port)).unwrap();
            let kept: Vec<(String, String)> = query
                .iter()
                .filter(|(k, _)| k != "host" && k != "port")
                .cloned()
                .collect();
            u.set_query(None);
            if !kept.is_empty() {
                u.query_pairs_mut().extend_pairs(kept);
            }
            u.to_string()
        };
        (upstream, proxied)
    }

    async fn connect(&self) -> std::io::Result<Box<dyn Stream>> {
        Ok(match self {
            Upstream::Tcp(address) => Box::new(TcpStream::connect(address).await?),
            Upstream::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
        })
    }
}

/// A TCP proxy in front of PostgreSQL that the test can cut (every connection dropped, the port
/// closed so new connections are refused, as when the database is stopped) and restore.
struct Proxy {
    port: u16,
    upstream: Upstream,
    accepting: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Proxy {
    async fn start(upstream: Upstream) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Self {
            port,
            upstream,
            accepting: std::sync::Mutex::new(None),
            generation: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        };
        proxy.accept(listener);
        proxy
    }

    fn accept(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let generation = self.generation.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let upstream = upstream.clone();
                let generation = generation.clone();
                let born = generation.load(std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(mut server) = upstream.connect().await else {
                        return;
                    };
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let cut = async {
                        while generation.load(std::sync::atomic::Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! {
                        _ = copy => {},
                        () = cut => {},
                    }
                    let _ = client.shutdown().await;
                });
            }
        });
        *self.accepting.lock().unwrap() = Some(task);
    }

    fn cut(&self) {
        if let Some(task) = self.accepting.lock().unwrap().take() {
            task.abort();
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    async fn restore(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(Instant::now() < deadline, "cannot listen again: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.accept(listener);
    }
}

/// The database goes away: the replica keeps answering reads from its last revision and says how
/// old it is, refuses writes at once with a 503 problem, and catches up when the database is back
/// (with what another replica wrote meanwhile).
#[tokio::test(flavor = "multi_thread")]
async fn reads_go_on_while_the_database_is_away_and_catch_up_after() {
    let db = TestDb::new().await;
    let token = db.token("admin", mcpreg_api::admin::Role::Admin).await;
    // Through the proxy (by TCP, whether the test database is reached by TCP or by socket).
    let (upstream, proxied) = Upstream::of(&db.url);
    let proxy = Proxy::start(upstream).await;
    let url = proxied(proxy.port);
    let a = ServerProcess::start(&[], &[("DATABASE_URL", &url)]);
    let b = ServerProcess::start(&[], &[("DATABASE_URL", &db.url)]);
    let http = reqwest::Client::new();
    let publish = |base: String, version: &'static str| {
        let http = http.clone();
        let token = token.clone();
        async move {
            http.post(format!("{base}/api/v1/publish"))
                .bearer_auth(token)
                .json(&server_json("com.example/steady", version))
                .send()
                .await
                .unwrap()
        }
    };
    let latest = |base: String| {
        let http = http.clone();
        async move {
            http.get(format!(
                "{base}/v0.1/servers/com.example%2Fsteady/versions/latest"
            ))
            .send()
            .await
            .unwrap()
        }
    };
    assert_eq!(publish(a.url.clone(), "1.0.0").await.status(), 201);
    let r = latest(a.url.clone()).await;
    assert!(r.headers().get("x-mcpreg-stale-seconds").is_none());

    proxy.cut();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let r = latest(a.url.clone()).await;
        assert_eq!(r.status(), 200, "reads go on");
        let stale = r.headers().get("x-mcpreg-stale-seconds").cloned();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["server"]["version"], "1.0.0");
        if let Some(stale) = stale {
            // Seconds since the last successful read of the log: 0 when the outage was noticed
            // within its first second.
            assert!(stale.to_str().unwrap().parse::<u64>().is_ok());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never said it is stale; its log:\n{}",
            a.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list = http
        .get(format!("{}/v0.1/servers?search=steady", a.url))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let ready: Value = http
        .get(format!("{}/readyz", a.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready, json!({"status": "degraded"}));
    let started = Instant::now();
    let refused = publish(a.url.clone(), "2.0.0").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a write is refused at once, not after a connection timeout"
    );
    assert_eq!(
        refused.status(),
        503,
        "{}",
        a.log.lock().unwrap().join("\n")
    );
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "unavailable");

    // Another replica still reaches the database and writes.
    assert_eq!(publish(b.url.clone(), "2.0.0").await.status(), 201);

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = latest(a.url.clone()).await;
        let stale = r.headers().get("x-mcpreg-stale-seconds").is_some();
        let body: Value = r.json().await.unwrap();
        if body["server"]["version"] == "2.0.0" && !stale {
            break;
        }
        assert!(Instant::now() < deadline, "A never caught up: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(publish(a.url.clone(), "3.0.0").await.status(), 201);
}
