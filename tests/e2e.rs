//! End to end: the real `mcpreg-server` binary (with its embedded PostgreSQL default, or a
//! database by URL) driven by the real `mcpreg` CLI.
//!
//! Where a test reads a replica directly rather than through the CLI, it uses the typed client,
//! and plain HTTP only where what it checks is on the wire (the read model's `x-mcpreg-revision`
//! header, a signed document's `ETag` and 304).

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::{ServerProcess, TestDb, binary, fixture, mcpreg};
use serde_json::{Value, json};

/// A temporary directory the unprivileged PostgreSQL user can enter, whatever the umask.
fn open_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("mcpreg-e2e")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn create_token(data_dir: &Path) -> String {
    let out = std::process::Command::new(binary("mcpreg-server"))
        .args([
            "token",
            "create",
            "--name",
            "e2e",
            "--role",
            "admin",
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.split_whitespace().last().unwrap().to_owned();
    assert!(token.starts_with("mcpreg_"), "{stdout}");
    token
}

/// The typed client of a running registry.
fn client(url: &str, token: Option<String>) -> mcpreg_client::Client {
    mcpreg_client::Client::new(url, token, std::time::Duration::from_secs(60)).unwrap()
}

fn json_out(run: &crate::util::CliRun) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr))
}

#[test]
fn one_command_registry_with_embedded_postgres_driven_by_the_cli() {
    let data = open_tempdir();
    let data_dir = data.path().join("data");
    let data_arg = data_dir.to_str().unwrap();
    let mut server = ServerProcess::start(&["--data-dir", data_arg], &[]);
    let url = server.url.clone();
    // Tokens are made with the server running, on the same data directory.
    let token = create_token(&data_dir);
    let t = Some(token.as_str());

    // With the private cluster the registry made its allowlist signing key, readable by it only,
    // and signs with it: a pulled allowlist verifies.
    let key = data_dir.join("allowlist-signing-key.pem");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", key.display());
    let run = mcpreg(
        &url,
        t,
        &["allowlist", "create", "everyone", "--access", "anonymous"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let cfg = data.path().join("cli-config");
    let run = crate::util::mcpreg_with(
        &url,
        None,
        &[("MCPREG_CONFIG_DIR", cfg.to_str().unwrap())],
        &["allowlist", "pull", "everyone"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let example =
        fixture("mcp-registry/examples/generic-server-json.02.basic-server-with-npm-package.json");
    let example = example.to_str().unwrap();
    let run = mcpreg(&url, t, &["publish", example]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("published io.modelcontextprotocol.anonymous/brave-search@1.0.2 (latest)"),
        "{}",
        run.stdout
    );

    // Exit codes a script can rely on.
    assert_eq!(
        mcpreg(&url, t, &["publish", example]).code,
        3,
        "same version again is refused"
    );
    let no_token = mcpreg(&url, None, &["publish", example]);
    assert_eq!(no_token.code, 5, "{}", no_token.stderr);
    assert!(no_token.stderr.contains("API token"), "{}", no_token.stderr);
    let invalid = data.path().join("invalid.json");
    std::fs::write(&invalid, r#"{"$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json", "name": "nodomain", "version": "latest", "description": "x"}"#).unwrap();
    let run = mcpreg(&url, t, &["publish", invalid.to_str().unwrap()]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("name:") && run.stderr.contains("version:"),
        "{}",
        run.stderr
    );
    assert_eq!(
        mcpreg(&url, t, &["server", "show", "com.example/none"]).code,
        4
    );
    assert_eq!(mcpreg(&url, t, &["no-such-command"]).code, 2);

    let list = mcpreg(&url, None, &["server", "list", "--output", "json"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_eq!(
        json_out(&list)[0]["server"]["name"],
        "io.modelcontextprotocol.anonymous/brave-search"
    );
    let table = mcpreg(&url, None, &["server", "list"]);
    assert!(
        table.stdout.contains("brave-search") && table.stdout.contains("1.0.2"),
        "{}",
        table.stdout
    );
    let show = mcpreg(
        &url,
        None,
        &[
            "server",
            "show",
            "io.modelcontextprotocol.anonymous/brave-search@1.0.2",
            "-o",
            "json",
        ],
    );
    assert_eq!(
        json_out(&show)["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"],
        true
    );

    // Import: every document reported, a reject does not stop the rest.
    let mut docs: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixture("mcp-registry/seed.json")).unwrap())
            .unwrap();
    docs.insert(1, json!({"$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json", "name": "io.github.x/bad", "version": "^1", "description": "bad"}));
    let import_file = data.path().join("import.json");
    std::fs::write(&import_file, serde_json::to_vec(&docs).unwrap()).unwrap();
    let run = mcpreg(
        &url,
        t,
        &["import", import_file.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report = json_out(&run);
    assert_eq!(
        (report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some(4), Some(1)),
        "{report:#}"
    );
    assert!(
        run.stderr.contains("rejected io.github.x/bad@^1"),
        "{}",
        run.stderr
    );
    let again = mcpreg(
        &url,
        t,
        &["import", import_file.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(json_out(&again)["unchanged"], 4);
    let versions = mcpreg(
        &url,
        None,
        &[
            "server",
            "versions",
            "io.github.domdomegg/airtable-mcp-server",
            "-o",
            "json",
        ],
    );
    let versions = json_out(&versions);
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(versions[0]["server"]["version"], "1.7.3");
    assert_eq!(
        versions[0]["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"],
        true
    );

    // Status.
    let run = mcpreg(
        &url,
        t,
        &[
            "status",
            "io.github.domdomegg/airtable-mcp-server@1.7.2",
            "--set",
            "deprecated",
            "--message",
            "upgrade to 1.7.3",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = mcpreg(
        &url,
        None,
        &["status", "io.github.domdomegg/airtable-mcp-server"],
    );
    assert!(
        run.stdout.contains("deprecated") && run.stdout.contains("upgrade to 1.7.3"),
        "{}",
        run.stdout
    );
    assert_eq!(
        mcpreg(
            &url,
            None,
            &[
                "status",
                "io.github.domdomegg/airtable-mcp-server",
                "--set",
                "deleted"
            ]
        )
        .code,
        5
    );

    // Graceful stop, then the next start reuses the cluster and its data.
    assert!(server.stop(), "{}", server.log_text());
    assert!(
        !data_dir.join("pg").join("postmaster.pid").exists(),
        "the private cluster was stopped"
    );
    let server = ServerProcess::start(&["--data-dir", data_arg], &[]);
    let list = mcpreg(&server.url, None, &["server", "list", "-o", "json"]);
    assert_eq!(json_out(&list).as_array().unwrap().len(), 4);
    assert!(
        !server
            .log_text()
            .contains("creating the private PostgreSQL cluster")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mirror_another_registry_incrementally() {
    let source_db = TestDb::new().await;
    let target_db = TestDb::new().await;
    let source_token = source_db.token("src", mcpreg_api::admin::Role::Admin).await;
    let target_token = target_db.token("dst", mcpreg_api::admin::Role::Admin).await;
    let source = ServerProcess::start(&[], &[("DATABASE_URL", &source_db.url)]);
    let target = ServerProcess::start(&[], &[("DATABASE_URL", &target_db.url)]);
    let seed = fixture("mcp-registry/seed.json");
    assert_eq!(
        mcpreg(
            &source.url,
            Some(&source_token),
            &["import", seed.to_str().unwrap()]
        )
        .code,
        0
    );

    let state_dir = open_tempdir();
    let state = state_dir.path().join("mirror.json");
    let mirror = |full: bool| {
        let mut args = vec![
            "import",
            "--from",
            &source.url,
            "--state",
            state.to_str().unwrap(),
            "-o",
            "json",
        ];
        if full {
            args.push("--full");
        }
        let run = mcpreg(&target.url, Some(&target_token), &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        json_out(&run)
    };
    let first = mirror(false);
    assert_eq!(first["accepted"], 4, "{first:#}");
    assert!(state.exists());

    // Upstream changes: one new version, one deprecation. The next run sees only those.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&seed).unwrap()).unwrap();
    let mut new_version = doc[3].take();
    new_version["version"] = json!("1.0.7");
    let file = state_dir.path().join("new.json");
    std::fs::write(&file, serde_json::to_vec(&new_version).unwrap()).unwrap();
    assert_eq!(
        mcpreg(
            &source.url,
            Some(&source_token),
            &["publish", file.to_str().unwrap()]
        )
        .code,
        0
    );
    let run = mcpreg(
        &source.url,
        Some(&source_token),
        &[
            "status",
            "io.github.domdomegg/time-mcp-nuget",
            "--set",
            "deprecated",
            "--message",
            "moved",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    let second = mirror(false);
    let changed: Vec<String> = second["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}@{} {}",
                d["name"].as_str().unwrap(),
                d["version"].as_str().unwrap(),
                d["result"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            "io.github.domdomegg/time-mcp-nuget@1.0.8 unchanged",
            "io.github.domdomegg/time-mcp-pypi@1.0.6 unchanged",
            "io.github.domdomegg/time-mcp-pypi@1.0.7 accepted",
        ],
        "only what changed upstream (the old latest of time-mcp-pypi lost its latest mark)"
    );
    let status = mcpreg(
        &target.url,
        None,
        &[
            "server",
            "show",
            "io.github.domdomegg/time-mcp-nuget",
            "-o",
            "json",
        ],
    );
    let meta = &json_out(&status)["_meta"]["io.modelcontextprotocol.registry/official"];
    assert_eq!(
        (meta["status"].as_str(), meta["statusMessage"].as_str()),
        (Some("deprecated"), Some("moved"))
    );
    assert_eq!(
        mirror(false)["documents"],
        json!([]),
        "nothing changed since"
    );
    assert_eq!(
        mirror(true)["unchanged"],
        5,
        "--full walks everything again"
    );
}

#[test]
fn missing_postgres_binaries_get_one_clear_line() {
    let empty = open_tempdir();
    let out = std::process::Command::new(binary("mcpreg-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--pg-bin-dir"])
        .arg(empty.path())
        .arg("--data-dir")
        .arg(empty.path().join("data"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.contains("initdb") && last.contains("DATABASE_URL"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_data_dir_is_explained_when_running_as_root() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::set_permissions(outer.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = std::process::Command::new(binary("mcpreg-server"))
        .args(["token", "list", "--data-dir"])
        .arg(outer.path().join("data"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if rustix::process::geteuid().is_root() {
        // PostgreSQL runs as an unprivileged user, who cannot enter a root-only directory.
        assert_eq!(out.status.code(), Some(1), "{stderr} {:?}", outer.path());
        assert!(
            stderr.contains("cannot enter") && stderr.contains("--data-dir"),
            "{stderr}"
        );
    } else {
        // The cluster runs as the calling user, who owns the directory.
        assert!(out.status.success(), "{stderr}");
        let _ = std::process::Command::new("pg_ctl")
            .arg("-D")
            .arg(outer.path().join("data/pg"))
            .arg("stop")
            .output();
    }
}

/// Two replicas on one database: a change made through one is in the other's read model within
/// a second (the change log, heard through PostgreSQL LISTEN/NOTIFY), and each answer says which
/// revision it comes from.
#[tokio::test(flavor = "multi_thread")]
async fn replicas_see_each_others_changes_within_a_second() {
    let db = TestDb::new().await;
    let token = db.token("admin", mcpreg_api::admin::Role::Admin).await;
    let a = ServerProcess::start(&[], &[("DATABASE_URL", &db.url)]);
    let b = ServerProcess::start(&[], &[("DATABASE_URL", &db.url)]);
    let http = reqwest::Client::new();
    let publish = |url: String, version: &'static str| {
        let token = token.clone();
        async move {
            let doc = json!({"$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
                "name": "com.example/replicated", "description": "x", "version": version});
            client(&url, Some(token))
                .publish_server_json(&doc)
                .await
                .unwrap();
        }
    };
    let latest = |url: String| {
        let http = http.clone();
        async move {
            let r = http
                .get(format!(
                    "{url}/v0.1/servers/com.example%2Freplicated/versions/latest"
                ))
                .send()
                .await
                .unwrap();
            let revision: i64 = r
                .headers()
                .get("x-mcpreg-revision")
                .map(|v| v.to_str().unwrap().parse().unwrap())
                .unwrap_or(-1);
            let body: Value = r.json().await.unwrap();
            (
                body["server"]["version"].as_str().unwrap_or("").to_owned(),
                revision,
            )
        }
    };
    publish(a.url.clone(), "1.0.0").await;
    // A reads its own write at once.
    let (v, revision_a) = latest(a.url.clone()).await;
    assert_eq!(v, "1.0.0");
    assert!(revision_a > 0, "A's answer names its revision");
    // B loads its model shortly after start.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while latest(b.url.clone()).await.0 != "1.0.0" {
        assert!(std::time::Instant::now() < deadline, "B never served 1.0.0");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    publish(a.url.clone(), "2.0.0").await;
    let changed = std::time::Instant::now();
    loop {
        let (v, revision_b) = latest(b.url.clone()).await;
        if v == "2.0.0" {
            assert!(revision_b > revision_a, "a newer revision");
            break;
        }
        assert!(
            changed.elapsed() < std::time::Duration::from_secs(1),
            "B still serves {v} after a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Two replicas on one database with one signing key (as a Kubernetes Secret would give them)
/// and reviews that need no signature, digests or tools, so that versions are approved in one
/// call. Keep the directory: it holds the key and the configuration.
fn two_signing_replicas(db: &TestDb) -> (tempfile::TempDir, ServerProcess, ServerProcess) {
    let work = tempfile::tempdir().unwrap();
    let key = work.path().join("signing.pem");
    std::fs::write(
        &key,
        mcpreg_trust::AllowlistSigningKey::generate()
            .unwrap()
            .to_pkcs8_pem()
            .unwrap(),
    )
    .unwrap();
    let config = work.path().join("access.toml");
    std::fs::write(
        &config,
        "[review]\nrequire_signature = false\nrequire_digests = false\nrequire_tools = false\n",
    )
    .unwrap();
    let args = [
        "--signing-key",
        key.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    let a = ServerProcess::start(&args, &[("DATABASE_URL", &db.url)]);
    let b = ServerProcess::start(&args, &[("DATABASE_URL", &db.url)]);
    (work, a, b)
}

/// A second replica answers a client that holds the current signed document with 304 from
/// memory while unrelated servers are published, and a new version once a server in the view
/// is; its views follow publishes and policy within a second.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_replica_serves_the_signed_document_from_memory_until_its_entries_change() {
    let db = TestDb::new().await;
    let admin = db.token("admin", mcpreg_api::admin::Role::Admin).await;
    let (_work, a, b) = two_signing_replicas(&db);
    let to_a = client(&a.url, Some(admin.clone()));
    to_a.create_allowlist(&mcpreg_api::allowlist::NewAllowlist {
        name: "engineering".into(),
        description: String::new(),
        access: Some(mcpreg_api::allowlist::Access::Anonymous),
        networks: Vec::new(),
    })
    .await
    .unwrap();
    let policy = |namespace: &str| mcpreg_api::policy::ApplyPolicyRequest {
        source: format!(
            "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - name: engineering-uses-{}\n    effect: allow\n    subjects: [{{allowlist: engineering}}]\n    resources: [{{namespace: {namespace}}}]\n    require: {{reviewState: [submitted]}}\n",
            namespace.replace('.', "-")
        ),
    };
    to_a.apply_policy(&policy("com.acme")).await.unwrap();
    let server_json = |name: &str, version: &str| {
        json!({
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": name, "description": "x", "version": version})
    };
    let publish = async |name: &str, version: &str| {
        to_a.publish_server_json(&server_json(name, version))
            .await
            .unwrap();
    };
    publish("com.acme/one", "1.0.0").await;
    let from_b = client(&b.url, None);
    let count_in_b = async || {
        from_b
            .allowlist_servers("engineering", &mcpreg_client::ServerListQuery::default())
            .await
            .map(|l| l.metadata.count)
            .unwrap_or(usize::MAX)
    };
    let within = async |seconds: u64, want: usize, what: &str| {
        let started = std::time::Instant::now();
        loop {
            let count = count_in_b().await;
            if count == want {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(seconds),
                "replica b: {what}: {count} versions in the view, not {want}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    within(10, 1, "after its start").await;
    let http = reqwest::Client::new();
    let document = async |etag: Option<&str>| {
        let mut request = http.get(format!("{}/api/v1/allowlists/engineering", b.url));
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        (status, etag)
    };
    let stored = async || {
        sqlx::query_scalar::<_, i64>(
            "select version from allowlist_documents where allowlist = 'engineering'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    let (status, etag) = document(None).await;
    assert_eq!(status, 200);
    let issued = stored().await;
    assert_eq!(etag, format!("\"{issued}\""));

    // Unrelated publishes: the same document, 304 with the same ETag, nothing issued.
    for v in ["1.0.0", "1.0.1", "1.0.2"] {
        publish("org.other/tool", v).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    for _ in 0..20 {
        assert_eq!(document(Some(&etag)).await, (304, etag.clone()));
    }
    assert_eq!(stored().await, issued, "no document was issued");

    // A publish in the view: a new version within a second.
    publish("com.acme/two", "1.0.0").await;
    let started = std::time::Instant::now();
    let renewed = loop {
        let (status, now) = document(Some(&etag)).await;
        if status == 200 {
            break now;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "replica b still answers 304 for the old document"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(renewed, format!("\"{}\"", issued + 1));
    assert_eq!(stored().await, issued + 1);
    within(1, 2, "after a publish in the view").await;

    // A policy change through a: b's view follows within a second.
    to_a.apply_policy(&policy("org.other")).await.unwrap();
    within(1, 3, "after a policy change").await;

    // An approval, a signature and a scan upload through a: each within a second on b.
    let requiring = |require: &str| mcpreg_api::policy::ApplyPolicyRequest {
        source: format!(
            "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - name: engineering-acme\n    effect: allow\n    subjects: [{{allowlist: engineering}}]\n    resources: [{{namespace: com.acme}}]\n    require: {{{require}}}\n"
        ),
    };
    to_a.apply_policy(&requiring("reviewState: [approved]"))
        .await
        .unwrap();
    within(1, 0, "after a policy that wants approvals").await;
    let reviewer = db.token("rev", mcpreg_api::admin::Role::Reviewer).await;
    client(&a.url, Some(reviewer))
        .decide_review(
            "com.acme/two",
            "1.0.0",
            &mcpreg_api::review::ReviewRequest {
                action: mcpreg_api::review::ReviewAction::Approve,
                reason: None,
                overrides: Default::default(),
            },
        )
        .await
        .unwrap();
    within(1, 1, "after an approval").await;
    let key = std::fs::read_to_string(crate::util::trust_fixture("keys/p256.pub")).unwrap();
    let signer = to_a
        .add_trusted_signer(
            "com.acme",
            &mcpreg_api::trust::NewTrustedSigner {
                server: None,
                identity: None,
                identity_pattern: None,
                issuer: None,
                public_key: Some(key),
            },
        )
        .await
        .unwrap();
    let key_id = signer.key_id.unwrap();
    to_a.apply_policy(&requiring(&format!(
        "reviewState: [approved], signedBy: [{{keyId: \"{key_id}\"}}], maxSeverity: medium"
    )))
    .await
    .unwrap();
    within(1, 0, "after a policy that wants signatures").await;
    let signature: mcpreg_api::trust::NewSignature = serde_json::from_value(
        crate::util::test_key_signature(&server_json("com.acme/two", "1.0.0")),
    )
    .unwrap();
    to_a.attach_signature("com.acme/two", "1.0.0", &signature)
        .await
        .unwrap();
    within(1, 1, "after a signature").await;
    let bandit = crate::util::scan_fixture_json(
        "scans/bandit/cisco-example-malicious-mcp-servers.bandit.sarif",
    );
    to_a.upload_scan(
        "com.acme/two",
        "1.0.0",
        &mcpreg_api::scans::NewScanReport {
            report: bandit,
            format: None,
            scanned_digest: None,
        },
    )
    .await
    .unwrap();
    within(1, 0, "after a scan with high findings").await;
}

/// server-everything from npm (installed with `npm ci` into `cli/tests/node` on first use, as the
/// CLI's own tests do), and the command line that runs it over stdio.
fn everything_stdio() -> Vec<String> {
    let dir = crate::util::workspace_root().join("cli/tests/node");
    let js = dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if !js.exists() {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("npm is installed (the tests start real MCP servers from npm)");
        assert!(status.success(), "npm ci in {} failed", dir.display());
    }
    vec![
        "node".into(),
        js.to_string_lossy().into_owned(),
        "stdio".into(),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_pinned_through_the_cli_catch_a_rug_pull_of_the_live_server() {
    let db = TestDb::new().await;
    let token = db.token("e2e", mcpreg_api::admin::Role::Admin).await;
    let t = Some(token.as_str());
    let server = ServerProcess::start(&[], &[("DATABASE_URL", &db.url)]);
    let url = server.url.clone();
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("manifest.json");
    let manifest_arg = manifest.to_str().unwrap();
    let live = everything_stdio();
    let live: Vec<&str> = live.iter().map(String::as_str).collect();

    // CI: capture the real server, publish the version with its manifest.
    let mut capture = vec!["tools", "capture", "--out", manifest_arg, "--"];
    capture.extend(&live);
    let run = mcpreg(&url, None, &capture);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document = work.path().join("server.json");
    std::fs::write(
        &document,
        json!({
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": "io.github.modelcontextprotocol/everything",
            "description": "The MCP test server",
            "version": "2026.8.31",
            "packages": [{"registryType": "npm", "identifier": "@modelcontextprotocol/server-everything", "version": "2026.8.31", "transport": {"type": "stdio"}}]
        })
        .to_string(),
    )
    .unwrap();
    let run = mcpreg(
        &url,
        t,
        &[
            "publish",
            document.to_str().unwrap(),
            "--tools",
            manifest_arg,
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let pin =
        serde_json::from_slice::<Value>(&std::fs::read(&manifest).unwrap()).unwrap()["toolsPin"]
            .as_str()
            .unwrap()
            .to_owned();
    assert!(
        run.stdout.contains(&format!("tools pin {pin}")),
        "{}",
        run.stdout
    );

    // A reviewer sees the pin, its cost and the registry's scan.
    let name = "io.github.modelcontextprotocol/everything@2026.8.31";
    let run = mcpreg(&url, t, &["--output", "json", "tools", "show", name]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = json_out(&run);
    assert_eq!(shown["toolsPin"], pin);
    assert!(shown["contextCost"]["totalTokens"].as_u64().unwrap() > 1000);
    let run = mcpreg(&url, t, &["scans", "show", name]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("mcpreg-scan"), "{}", run.stdout);

    // A developer compares the live server with the pin: no drift.
    let mut diff = vec!["tools", "diff", name, "--"];
    diff.extend(&live);
    let run = mcpreg(&url, None, &diff);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // The same package, changed after review: drift, exit 3, the poisoned tool named.
    let rug = crate::util::workspace_root().join("cli/tests/node/rug-pull.mjs");
    let mut diff = vec!["tools", "diff", name, "--", "node", rug.to_str().unwrap()];
    diff.extend(&live);
    let run = mcpreg(&url, None, &diff);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("echo"), "{}", run.stdout);

    // A scanner's report, uploaded by CI and exported again as SARIF.
    let sarif =
        crate::util::scan_fixture("scans/bandit/cisco-example-malicious-mcp-servers.bandit.sarif");
    let run = mcpreg(&url, t, &["scans", "upload", name, sarif.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("10 findings, worst high"),
        "{}",
        run.stdout
    );
    let run = mcpreg(&url, t, &["scans", "show", name]);
    assert_eq!(
        run.code, 3,
        "a high finding fails `scans show`: {}",
        run.stdout
    );
    let run = mcpreg(&url, t, &["scans", "export", name]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json_out(&run)["runs"].as_array().unwrap().len(), 2);

    // A second manifest for the same version is refused: pins never change.
    let run = mcpreg(&url, t, &["tools", "attach", name, manifest_arg]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("already has a tool manifest"),
        "{}",
        run.stderr
    );

    // Review: the publisher cannot approve; a reviewer can, once the unsigned version's
    // signature gate is overridden with a reason, which is shown with the decision.
    let reviewer = db.token("rev", mcpreg_api::admin::Role::Reviewer).await;
    let r = Some(reviewer.as_str());
    let run = mcpreg(
        &url,
        t,
        &["review", "approve", name, "--override", "signature=x"],
    );
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
    let run = mcpreg(&url, r, &["review", "approve", name]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("gates.signature"), "{}", run.stderr);
    let run = mcpreg(
        &url,
        r,
        &[
            "review",
            "approve",
            name,
            "--override",
            "signature=built and signed inside the company network",
            "--override",
            "digests=npm resolves the version; the lockfile pins the integrity",
            "--override",
            "findings=Bandit flagged the test fixtures, not the server",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(": approved (1 of 1"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("overrode signature: built and signed inside the company network"),
        "{}",
        run.stdout
    );
    let run = mcpreg(
        &url,
        r,
        &["--output", "json", "review", "list", "--state", "approved"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json_out(&run)["reviews"][0]["version"], "2026.8.31");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allowlist_follows_policy_across_replicas_and_the_cli_enforces_it() {
    let db = TestDb::new().await;
    let admin = db.token("admin", mcpreg_api::admin::Role::Admin).await;
    let reviewer = db.token("rev", mcpreg_api::admin::Role::Reviewer).await;
    let (work, a, b) = two_signing_replicas(&db);
    let admin = Some(admin.as_str());
    let reviewer = Some(reviewer.as_str());

    let run = mcpreg(
        &a.url,
        admin,
        &[
            "allowlist",
            "create",
            "engineering",
            "--access",
            "anonymous",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("/a/engineering"), "{}", run.stdout);
    let policy = work.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - name: engineering-approved-acme\n    effect: allow\n    subjects: [{allowlist: engineering}]\n    resources: [{namespace: com.acme}]\n    require: {reviewState: [approved]}\n",
    )
    .unwrap();
    let run = mcpreg(
        &a.url,
        admin,
        &["policy", "apply", "-f", policy.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let publish = |name: &str, version: &str, package: &str, remote: &str| {
        let file = work
            .path()
            .join(format!("{}-{version}.json", name.replace('/', "-")));
        std::fs::write(
            &file,
            json!({
                "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
                "name": name, "description": "test", "version": version,
                "packages": [{"registryType": "npm", "identifier": package, "version": version, "transport": {"type": "stdio"}}],
                "remotes": [{"type": "streamable-http", "url": remote}]
            })
            .to_string(),
        )
        .unwrap();
        let run = mcpreg(&a.url, admin, &["publish", file.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let run = mcpreg(
            &a.url,
            reviewer,
            &["review", "approve", &format!("{name}@{version}")],
        );
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    };
    publish(
        "com.acme/github",
        "1.4.2",
        "@acme/github-mcp",
        "https://mcp.acme.example/github/mcp",
    );

    // Reviewers tag servers (policy rules may name tags); publishers cannot.
    // Network access is decided on the connection's peer address (loopback here).
    for (name, network) in [("lab", "127.0.0.0/8"), ("office", "10.0.0.0/8")] {
        let run = mcpreg(
            &a.url,
            admin,
            &[
                "allowlist",
                "create",
                name,
                "--access",
                "network",
                "--network",
                network,
            ],
        );
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    }
    let from_here = client(&a.url, None);
    let every = mcpreg_client::ServerListQuery::default();
    from_here.allowlist_servers("lab", &every).await.unwrap();
    let office = from_here
        .allowlist_servers("office", &every)
        .await
        .unwrap_err();
    assert_eq!(office.status().map(|s| s.as_u16()), Some(403), "{office}");

    let run = mcpreg(
        &a.url,
        reviewer,
        &["server", "tags", "com.acme/github", "--set", "internal"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout.trim(), "com.acme/github: internal");

    // A developer pulls the allowlist from the other replica, trusting its keys on first use.
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let cfg = work.path().join("cfg");
    let env = [
        ("MCPREG_CONFIG_DIR", cfg.to_str().unwrap()),
        ("HOME", home.to_str().unwrap()),
    ];
    let run = crate::util::mcpreg_with(&b.url, None, &env, &["allowlist", "pull", "engineering"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("first use"), "{}", run.stderr);

    // Their VS Code configuration: the allowed package and remote pass; an unknown remote and
    // an unpinned npx do not.
    let vscode = work.path().join("mcp.json");
    let write_config = |servers: Value| {
        std::fs::write(&vscode, json!({"servers": servers}).to_string()).unwrap();
    };
    write_config(json!({
        "github": {"type": "stdio", "command": "npx", "args": ["-y", "@acme/github-mcp@1.4.2"]},
        "github-remote": {"type": "http", "url": "https://mcp.acme.example/github/mcp"},
        "exfil": {"type": "http", "url": "https://evil.example/mcp", "headers": {"Authorization": "Bearer SECRET-e2e"}},
        "latest": {"type": "stdio", "command": "npx", "args": ["-y", "@acme/github-mcp"]}
    }));
    let check = |env: &[(&str, &str)]| {
        crate::util::mcpreg_with(
            &b.url,
            None,
            env,
            &[
                "--output",
                "json",
                "check",
                "--config",
                vscode.to_str().unwrap(),
                "--allowlist",
                "engineering",
            ],
        )
    };
    let run = check(&env);
    assert_eq!(run.code, 7, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("SECRET-e2e") && !run.stderr.contains("SECRET-e2e"));
    let report = json_out(&run);
    let result_of = |name: &str| {
        report["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {report:#}"))["result"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(result_of("github"), "allowed");
    assert_eq!(result_of("github-remote"), "allowed");
    assert_eq!(result_of("exfil"), "remote_not_allowed");
    assert_eq!(result_of("latest"), "unpinned");

    // A change through one replica is seen by the other within a second.
    publish(
        "com.acme/weather",
        "0.2.0",
        "@acme/weather-mcp",
        "https://mcp.acme.example/weather/mcp",
    );
    let started = std::time::Instant::now();
    let replica_b = client(&b.url, None);
    loop {
        let list = replica_b
            .allowlist_servers("engineering", &mcpreg_client::ServerListQuery::default())
            .await
            .unwrap();
        if list.metadata.count == 2 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "replica b did not see the approval within a second: {list:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let run = crate::util::mcpreg_with(&b.url, None, &env, &["allowlist", "pull", "engineering"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    write_config(json!({
        "github": {"type": "stdio", "command": "npx", "args": ["-y", "@acme/github-mcp@1.4.2"]},
        "weather": {"type": "http", "url": "https://mcp.acme.example/weather/mcp"}
    }));
    let run = check(&env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fetched = from_here
        .allowlist_document("engineering", None)
        .await
        .unwrap();
    let mcpreg_client::Fetched::Body { body, .. } = fetched else {
        panic!("a document was asked for without an ETag: {fetched:?}");
    };
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["signed"]["version"], 2, "{doc:#}");
}
