//! `mcpreg check` on MCP client configurations in the real formats of VS Code, Claude Desktop and
//! Cursor (`tests/fixtures/mcp-configs/`), against allowlists signed here with a generated key;
//! and `mcpreg allowlist pull|show` against a small HTTP server that serves the documented
//! contract (`/.well-known/mcpreg-keys.json`, `/api/v1/allowlists/{name}` with ETags).

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure there is the test's failure"
)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use mcpreg_api::allowlist::{
    ALLOWLIST_DOCUMENT_TYPE, AllowedPackage, AllowedRemote, AllowlistDocument, AllowlistEntry,
    KEYSET_DOCUMENT_TYPE, KeySet, KeyStatus, Transport,
};
use mcpreg_api::{ServerName, Status, Version};
use mcpreg_trust::{AllowlistSigningKey, Sha256Digest};
use serde_json::Value;

use crate::mcp_servers::run;

const OFFLINE_REGISTRY: &str = "http://127.0.0.1:9";

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mcp-configs")
        .join(path)
}

const ALL_FIXTURES: [&str; 4] = [
    "vscode/mcp.json",
    "vscode/settings.json",
    "claude-desktop/claude_desktop_config.json",
    "cursor/mcp.json",
];

/// A private home, config directory and working directory for one test.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "work", "config"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        Self { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn mcpreg(&self, registry: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mcpreg"));
        c.env("MCPREG_URL", registry)
            .env_remove("MCPREG_TOKEN")
            .env_remove("XDG_CONFIG_HOME")
            .env("MCPREG_CONFIG_DIR", self.path("config"))
            .env("HOME", self.path("home"))
            .current_dir(self.path("work"));
        c
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn entry(name: &str, version: &str, transports: &[Transport]) -> AllowlistEntry {
    AllowlistEntry {
        name: ServerName::parse(name).unwrap(),
        version: Version::parse(version).unwrap(),
        status: Status::Active,
        transports: transports.to_vec(),
        remotes: vec![],
        packages: vec![],
        signers: vec![],
        tools_pin: None,
    }
}

fn package(registry_type: &str, identifier: &str, version: &str) -> AllowedPackage {
    AllowedPackage {
        registry_type: registry_type.into(),
        identifier: identifier.into(),
        version: version.into(),
        digest: None,
    }
}

/// The allowlist the fixtures are judged against (see the fixtures' README).
fn allowlist(registry: &str, version: u64, expires_in: Duration) -> AllowlistDocument {
    use Transport::{Remote, Stdio};
    let mut github = entry("com.acme/github", "1.4.2", &[Stdio, Remote]);
    github.packages = vec![package("npm", "@acme/github-mcp", "1.4.2")];
    github.remotes = vec![AllowedRemote {
        remote_type: "streamable-http".into(),
        url: "https://mcp.acme.example/github/mcp".into(),
    }];
    let mut time = entry("io.github.modelcontextprotocol/time", "2025.9.25", &[Stdio]);
    time.packages = vec![package("pypi", "mcp-server-time", "2025.9.25")];
    let mut fetch = entry("com.acme/fetch", "1.0.0", &[Stdio]);
    fetch.packages = vec![AllowedPackage {
        digest: Some(format!("sha256:{}", "a".repeat(64))),
        ..package("oci", "docker.io/mcp/fetch", "1.0.0")
    }];
    let mut everything = entry(
        "io.github.modelcontextprotocol/everything",
        "2025.11.25",
        &[Stdio],
    );
    everything.status = Status::Deprecated;
    everything.packages = vec![package(
        "npm",
        "@modelcontextprotocol/server-everything",
        "2025.11.25",
    )];
    let now = Utc::now();
    AllowlistDocument {
        document_type: ALLOWLIST_DOCUMENT_TYPE.into(),
        allowlist: "platform".into(),
        registry: registry.into(),
        version,
        issued_at: now - Duration::days(2),
        expires_at: now + expires_in,
        entries: vec![github, time, fetch, everything],
    }
}

fn signed_json(key: &AllowlistSigningKey, doc: &AllowlistDocument) -> Vec<u8> {
    serde_json::to_vec_pretty(&key.sign(doc)).unwrap()
}

/// `check --allowlist-file … --key …` on the given configs.
fn check_file(
    sandbox: &Sandbox,
    key: &AllowlistSigningKey,
    allowlist_json: &[u8],
    configs: &[PathBuf],
    json: bool,
) -> Output {
    let allowlist = sandbox.write("allowlist.json", allowlist_json);
    let key_file = sandbox.write("allowlist.pub", key.public_key().to_pem().as_bytes());
    let mut c = sandbox.mcpreg(OFFLINE_REGISTRY);
    c.arg("check")
        .arg("--allowlist-file")
        .arg(&allowlist)
        .arg("--key")
        .arg(&key_file);
    for f in configs {
        c.arg("--config").arg(f);
    }
    if json {
        c.args(["--output", "json"]);
    }
    run(&mut c)
}

/// `(file name, server name)` → result, from `check --output json`.
fn results(o: &Output) -> BTreeMap<(String, String), String> {
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    report["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let file = Path::new(s["file"].as_str().unwrap());
            let parent = file
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy();
            let name = file.file_name().unwrap().to_string_lossy();
            (
                (
                    format!("{parent}/{name}"),
                    s["name"].as_str().unwrap().to_owned(),
                ),
                s["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_result_kind_is_reported_and_anything_not_allowed_exits_7() {
    let sandbox = Sandbox::new();
    let key = AllowlistSigningKey::generate().unwrap();
    let doc = signed_json(&key, &allowlist(OFFLINE_REGISTRY, 3, Duration::hours(1)));
    let configs: Vec<PathBuf> = ALL_FIXTURES.iter().map(|f| fixture(f)).collect();
    let out = check_file(&sandbox, &key, &doc, &configs, true);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    let got = results(&out);
    let want = [
        ("vscode/mcp.json", "github", "allowed"),
        ("vscode/mcp.json", "github-remote", "allowed"),
        ("vscode/mcp.json", "memory", "unknown"),
        ("vscode/settings.json", "time", "allowed"),
        (
            "claude-desktop/claude_desktop_config.json",
            "time",
            "unpinned",
        ),
        (
            "claude-desktop/claude_desktop_config.json",
            "everything",
            "allowed",
        ),
        (
            "claude-desktop/claude_desktop_config.json",
            "filesystem-local",
            "local",
        ),
        (
            "claude-desktop/claude_desktop_config.json",
            "github-old",
            "wrong_version",
        ),
        ("cursor/mcp.json", "fetch", "digest_mismatch"),
        ("cursor/mcp.json", "fetch-pinned", "allowed"),
        ("cursor/mcp.json", "remote-elsewhere", "remote_not_allowed"),
    ];
    let want: BTreeMap<(String, String), String> = want
        .iter()
        .map(|(f, n, r)| ((f.to_string(), n.to_string()), r.to_string()))
        .collect();
    assert_eq!(got, want, "{stdout}");
    assert!(
        stderr.contains("6 of 11 configured MCP servers are not allowed"),
        "{stderr}"
    );

    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["allowed"], false);
    assert_eq!(report["allowlist"]["version"], 3);
    let servers = report["servers"].as_array().unwrap();
    let by_name = |client: &str, name: &str| {
        servers
            .iter()
            .find(|s| s["client"] == client && s["name"] == name)
            .unwrap_or_else(|| panic!("no {client} {name} in {stdout}"))
    };
    // The client is told from the file; the why says what to do.
    let unpinned = by_name("claude-desktop", "time");
    assert!(
        unpinned["why"]
            .as_str()
            .unwrap()
            .contains("uvx mcp-server-time==2025.9.25"),
        "{unpinned}"
    );
    let wrong = by_name("claude-desktop", "github-old");
    assert_eq!(wrong["entry"], "com.acme/github@1.4.2");
    assert!(
        wrong["why"].as_str().unwrap().contains("not 1.3.0"),
        "{wrong}"
    );
    assert_eq!(
        by_name("vscode", "github")["entry"],
        "com.acme/github@1.4.2"
    );
    assert_eq!(
        by_name("vscode", "github")["runs"],
        "npm @acme/github-mcp@1.4.2"
    );
    assert!(
        by_name("claude-desktop", "everything")["why"]
            .as_str()
            .unwrap()
            .contains("deprecated")
    );
    assert_eq!(
        by_name("cursor", "fetch-pinned")["entry"],
        "com.acme/fetch@1.0.0"
    );

    // The table has one row per server, with the same results.
    let table = check_file(&sandbox, &key, &doc, &configs, false);
    let (stdout, _) = text(&table);
    assert_eq!(table.status.code(), Some(7));
    for r in [
        "unknown",
        "unpinned",
        "local",
        "wrong_version",
        "digest_mismatch",
        "remote_not_allowed",
    ] {
        assert!(stdout.contains(r), "{r} missing from\n{stdout}");
    }
}

#[test]
fn exit_0_when_every_server_is_allowed() {
    let sandbox = Sandbox::new();
    let key = AllowlistSigningKey::generate().unwrap();
    let doc = signed_json(&key, &allowlist(OFFLINE_REGISTRY, 3, Duration::hours(1)));
    let out = check_file(
        &sandbox,
        &key,
        &doc,
        &[fixture("vscode/settings.json")],
        false,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("allowed") && stdout.contains("time"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 configured MCP server is allowed"),
        "{stderr}"
    );
}

#[test]
fn secrets_in_env_headers_args_and_urls_are_never_printed() {
    let sandbox = Sandbox::new();
    let key = AllowlistSigningKey::generate().unwrap();
    let doc = signed_json(&key, &allowlist(OFFLINE_REGISTRY, 3, Duration::hours(1)));
    let configs: Vec<PathBuf> = ALL_FIXTURES.iter().map(|f| fixture(f)).collect();
    for json in [false, true] {
        let out = check_file(&sandbox, &key, &doc, &configs, json);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(7));
        for stream in [&stdout, &stderr] {
            assert!(
                !stream.contains("SECRET"),
                "a secret was printed:\n{stream}"
            );
        }
    }
}

#[test]
fn an_expired_allowlist_is_refused() {
    let sandbox = Sandbox::new();
    let key = AllowlistSigningKey::generate().unwrap();
    let doc = signed_json(&key, &allowlist(OFFLINE_REGISTRY, 3, -Duration::minutes(1)));
    let out = check_file(
        &sandbox,
        &key,
        &doc,
        &[fixture("vscode/settings.json")],
        false,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("expired") && stderr.contains("[expired]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("mcpreg allowlist pull platform"),
        "{stderr}"
    );
    assert!(
        stdout.is_empty(),
        "nothing is judged against an expired allowlist: {stdout}"
    );
}

#[test]
fn a_tampered_or_foreign_allowlist_is_refused() {
    let sandbox = Sandbox::new();
    let key = AllowlistSigningKey::generate().unwrap();
    let mut doc: Value =
        serde_json::to_value(key.sign(&allowlist(OFFLINE_REGISTRY, 3, Duration::hours(1))))
            .unwrap();
    // Someone allows the old github version by editing the document.
    doc["signed"]["entries"][0]["packages"][0]["version"] = "1.3.0".into();
    let out = check_file(
        &sandbox,
        &key,
        &serde_json::to_vec(&doc).unwrap(),
        &[fixture("claude-desktop/claude_desktop_config.json")],
        false,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    assert!(stderr.contains("[signature_invalid]"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");

    // Signed by a key that is not the one given.
    let other = AllowlistSigningKey::generate().unwrap();
    let foreign = signed_json(&other, &allowlist(OFFLINE_REGISTRY, 3, Duration::hours(1)));
    let out = check_file(
        &sandbox,
        &key,
        &foreign,
        &[fixture("vscode/settings.json")],
        false,
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("[no_trusted_signature]"), "{stderr}");
}

#[test]
fn a_malformed_config_names_the_file_and_the_json_path() {
    let sandbox = Sandbox::new();
    let key = AllowlistSigningKey::generate().unwrap();
    let doc = signed_json(&key, &allowlist(OFFLINE_REGISTRY, 3, Duration::hours(1)));
    let bad = sandbox.write(
        "work/.vscode/mcp.json",
        br#"{"servers": {"gh": {"command": "npx", "args": ["-y", 42], "env": {"T": "env-SECRET"}}}}"#,
    );
    let out = check_file(&sandbox, &key, &doc, std::slice::from_ref(&bad), false);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: $.servers.gh.args[1]: expected a string",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("SECRET"), "{stderr}");
}

#[test]
fn configs_are_found_in_their_usual_places() {
    let sandbox = Sandbox::new();
    let key = AllowlistSigningKey::generate().unwrap();
    let copy = |from: &str, to: &str| {
        sandbox.write(to, &std::fs::read(fixture(from)).unwrap());
    };
    copy("vscode/mcp.json", "work/.vscode/mcp.json");
    copy(
        "vscode/settings.json",
        "home/.config/Code/User/settings.json",
    );
    copy(
        "claude-desktop/claude_desktop_config.json",
        "home/.config/Claude/claude_desktop_config.json",
    );
    copy("cursor/mcp.json", "home/.cursor/mcp.json");
    let allowlist_file = sandbox.write(
        "allowlist.json",
        &signed_json(&key, &allowlist(OFFLINE_REGISTRY, 3, Duration::hours(1))),
    );
    let key_file = sandbox.write("allowlist.pub", key.public_key().to_base64().as_bytes());
    let out = run(sandbox
        .mcpreg(OFFLINE_REGISTRY)
        .args(["check", "--output", "json", "--allowlist-file"])
        .arg(&allowlist_file)
        .arg("--key")
        .arg(&key_file));
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let clients: std::collections::BTreeSet<&str> = report["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["client"].as_str().unwrap())
        .collect();
    assert_eq!(
        clients,
        ["claude-desktop", "cursor", "vscode"].into(),
        "{stdout}"
    );
    assert_eq!(results(&out).len(), 11, "{stdout}");

    // Nothing configured anywhere: nothing to refuse, said on stderr.
    let empty = Sandbox::new();
    let allowlist_file = empty.write(
        "allowlist.json",
        &signed_json(&key, &allowlist(OFFLINE_REGISTRY, 3, Duration::hours(1))),
    );
    let key_file = empty.write("allowlist.pub", key.public_key().to_base64().as_bytes());
    let out = run(empty
        .mcpreg(OFFLINE_REGISTRY)
        .args(["check", "--allowlist-file"])
        .arg(&allowlist_file)
        .arg("--key")
        .arg(&key_file));
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("found no MCP client configuration"),
        "{stderr}"
    );
}

/// What the contract server answers: path → (body, ETag). A request whose `If-None-Match` is the
/// ETag gets 304; a path not listed gets 404.
type Routes = Arc<Mutex<BTreeMap<String, (Vec<u8>, String)>>>;

/// A minimal HTTP/1.1 server for the registry's allowlist contract, on a free port.
fn contract_server() -> (String, Routes) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let routes: Routes = Arc::default();
    let shared = routes.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            let mut if_none_match = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("if-none-match")
                {
                    if_none_match = Some(v.trim().to_owned());
                }
            }
            let route = shared.lock().unwrap().get(&path).cloned();
            let head = |status: &str, extra: &str, len: usize| {
                format!(
                    "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: {len}\r\n{extra}\r\n"
                )
            };
            let response = match route {
                Some((_, etag)) if if_none_match.as_deref() == Some(etag.as_str()) => {
                    head("304 Not Modified", &format!("etag: {etag}\r\n"), 0).into_bytes()
                }
                Some((body, etag)) => {
                    let mut r = head(
                        "200 OK",
                        &format!("content-type: application/json\r\netag: {etag}\r\n"),
                        body.len(),
                    )
                    .into_bytes();
                    r.extend_from_slice(&body);
                    r
                }
                None => head("404 Not Found", "", 0).into_bytes(),
            };
            let _ = stream.write_all(&response);
        }
    });
    (url, routes)
}

fn serve(routes: &Routes, path: &str, body: Vec<u8>, etag: &str) {
    routes
        .lock()
        .unwrap()
        .insert(path.to_owned(), (body, format!("\"{etag}\"")));
}

fn keyset(
    version: u64,
    keys: &[(&AllowlistSigningKey, KeyStatus)],
    signers: &[&AllowlistSigningKey],
) -> Vec<u8> {
    let ks = KeySet {
        document_type: KEYSET_DOCUMENT_TYPE.into(),
        version,
        issued_at: Utc::now(),
        keys: keys
            .iter()
            .map(|(k, s)| k.public_key().clone().with_status(*s).to_published())
            .collect(),
    };
    let mut signed = signers[0].sign_keyset(&ks);
    for s in &signers[1..] {
        s.countersign_keyset(&mut signed);
    }
    serde_json::to_vec(&signed).unwrap()
}

const KEYS: &str = "/.well-known/mcpreg-keys.json";
const PLATFORM: &str = "/api/v1/allowlists/platform";

fn pull(sandbox: &Sandbox, registry: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = run(sandbox
        .mcpreg(registry)
        .args(["allowlist", "pull", "platform"])
        .args(extra));
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

#[test]
fn pull_pins_keys_on_first_use_keeps_the_document_and_refuses_rollback() {
    let (registry, routes) = contract_server();
    let sandbox = Sandbox::new();
    let k1 = AllowlistSigningKey::generate().unwrap();
    serve(
        &routes,
        KEYS,
        keyset(1, &[(&k1, KeyStatus::Active)], &[&k1]),
        "k1",
    );
    serve(
        &routes,
        PLATFORM,
        signed_json(&k1, &allowlist(&registry, 5, Duration::hours(1))),
        "v5",
    );

    let (code, stdout, stderr) = pull(&sandbox, &registry, &[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("on first use (TOFU)") && stderr.contains(&k1.key_id()),
        "{stderr}"
    );
    assert!(
        stdout.contains("version 5") && stdout.contains("com.acme/github"),
        "{stdout}"
    );
    let dir = sandbox
        .path("config/allowlists")
        .join(&Sha256Digest::of_bytes(registry.as_bytes()).to_hex()[..32]);
    for f in ["keys.json", "platform.json"] {
        let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );

    // Again: the ETag is sent and the stored copy kept.
    let (code, _, stderr) = pull(&sandbox, &registry, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("unchanged (304 Not Modified)"), "{stderr}");
    assert!(!stderr.contains("TOFU"), "{stderr}");

    // `show` and `check` use the stored, re-verified document.
    let out = run(sandbox
        .mcpreg(&registry)
        .args(["allowlist", "show", "platform", "-o", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["version"], 5);
    let out = run(sandbox
        .mcpreg(&registry)
        .arg("check")
        .arg("--config")
        .arg(fixture("vscode/settings.json")));
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));

    // A lower version is a rollback, even though it is validly signed.
    serve(
        &routes,
        PLATFORM,
        signed_json(&k1, &allowlist(&registry, 4, Duration::hours(1))),
        "v4",
    );
    let (code, _, stderr) = pull(&sandbox, &registry, &[]);
    assert_eq!(code, Some(7), "{stderr}");
    assert!(
        stderr.contains("[rollback]") && stderr.contains("older than version 5"),
        "{stderr}"
    );

    // A document for another allowlist served under this name.
    let mut other = allowlist(&registry, 6, Duration::hours(1));
    other.allowlist = "security".into();
    serve(&routes, PLATFORM, signed_json(&k1, &other), "v6");
    let (code, _, stderr) = pull(&sandbox, &registry, &[]);
    assert_eq!(code, Some(7), "{stderr}");
    assert!(stderr.contains("[wrong_allowlist]"), "{stderr}");

    // An expired one (frozen).
    serve(
        &routes,
        PLATFORM,
        signed_json(&k1, &allowlist(&registry, 7, -Duration::seconds(1))),
        "v7",
    );
    let (code, _, stderr) = pull(&sandbox, &registry, &[]);
    assert_eq!(code, Some(7), "{stderr}");
    assert!(stderr.contains("[expired]"), "{stderr}");

    // The stored copy (version 5) is still what `show` trusts.
    let out = run(sandbox
        .mcpreg(&registry)
        .args(["allowlist", "show", "platform", "-o", "json"]));
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["version"], 5);
}

#[test]
fn pull_learns_a_rotation_only_from_a_keyset_signed_by_a_pinned_key() {
    let (registry, routes) = contract_server();
    let sandbox = Sandbox::new();
    let (k1, k2, k3) = (
        AllowlistSigningKey::generate().unwrap(),
        AllowlistSigningKey::generate().unwrap(),
        AllowlistSigningKey::generate().unwrap(),
    );
    serve(
        &routes,
        KEYS,
        keyset(1, &[(&k1, KeyStatus::Active)], &[&k1]),
        "k1",
    );
    serve(
        &routes,
        PLATFORM,
        signed_json(&k1, &allowlist(&registry, 1, Duration::hours(1))),
        "v1",
    );
    assert_eq!(pull(&sandbox, &registry, &[]).0, Some(0));

    // Rotation: k2 active, k1 retired, the keyset signed by both; the allowlist by k2.
    serve(
        &routes,
        KEYS,
        keyset(
            2,
            &[(&k1, KeyStatus::Retired), (&k2, KeyStatus::Active)],
            &[&k1, &k2],
        ),
        "k2",
    );
    serve(
        &routes,
        PLATFORM,
        signed_json(&k2, &allowlist(&registry, 2, Duration::hours(1))),
        "v2",
    );
    let (code, _, stderr) = pull(&sandbox, &registry, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("learned keyset version 2"), "{stderr}");

    // The retired key no longer counts.
    serve(
        &routes,
        PLATFORM,
        signed_json(&k1, &allowlist(&registry, 3, Duration::hours(1))),
        "v3",
    );
    let (code, _, stderr) = pull(&sandbox, &registry, &[]);
    assert_eq!(code, Some(7), "{stderr}");
    assert!(stderr.contains("[key_retired]"), "{stderr}");

    // A keyset signed only by a key never pinned is refused, and so is what it signs.
    serve(
        &routes,
        KEYS,
        keyset(3, &[(&k3, KeyStatus::Active)], &[&k3]),
        "k3",
    );
    serve(
        &routes,
        PLATFORM,
        signed_json(&k3, &allowlist(&registry, 4, Duration::hours(1))),
        "v4",
    );
    let (code, _, stderr) = pull(&sandbox, &registry, &[]);
    assert_eq!(code, Some(7), "{stderr}");
    assert!(
        stderr.contains("[no_trusted_signature]")
            && stderr.contains("cannot replace the keys pinned"),
        "{stderr}"
    );

    // A configured key (PEM) replaces the pins, without looking at the keyset.
    let pem = sandbox.write("k3.pub", k3.public_key().to_pem().as_bytes());
    let (code, stdout, stderr) = pull(&sandbox, &registry, &["--key", pem.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("version 4"), "{stdout}");
}

#[test]
fn pull_without_a_keyset_or_key_refuses_and_a_stale_stored_copy_is_refused() {
    let (registry, routes) = contract_server();
    let sandbox = Sandbox::new();
    let k = AllowlistSigningKey::generate().unwrap();
    serve(
        &routes,
        PLATFORM,
        signed_json(&k, &allowlist(&registry, 1, Duration::seconds(3))),
        "v1",
    );
    let (code, _, stderr) = pull(&sandbox, &registry, &[]);
    assert_eq!(code, Some(7), "{stderr}");
    assert!(stderr.contains("--key FILE"), "{stderr}");

    let key = sandbox.write("k.pub", k.public_key().to_base64().as_bytes());
    let (code, _, stderr) = pull(&sandbox, &registry, &["--key", key.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");

    // Once the stored copy expires, `check` and `show` refuse it and say what to run.
    std::thread::sleep(std::time::Duration::from_secs(4));
    let out = run(sandbox
        .mcpreg(&registry)
        .args(["check", "--allowlist", "platform", "--config"])
        .arg(fixture("vscode/settings.json")));
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("[expired]") && stderr.contains("run `mcpreg allowlist pull platform`"),
        "{stderr}"
    );
    let out = run(sandbox
        .mcpreg(&registry)
        .args(["allowlist", "show", "platform"]));
    assert_eq!(out.status.code(), Some(7));

    // A missing allowlist is a 404.
    let out = run(sandbox
        .mcpreg(&registry)
        .args(["allowlist", "pull", "nope", "--key"])
        .arg(&key));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out).1);
}
