//! Real MCP servers for the CLI's tests, installed on first use: server-everything from npm
//! (`tests/node`, `npm ci`) and mcp-server-time from PyPI (a virtualenv under Cargo's target
//! directory, `pip install -r tests/python/requirements.txt`).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The CLI binary under test, with no registry and no stored sign-in to find.
pub fn mcpreg() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcpreg"));
    c.env("MCPREG_URL", "http://127.0.0.1:9")
        .env_remove("MCPREG_TOKEN")
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"));
    c
}

/// Runs a command, returning its output (stdout, stderr, status).
pub fn run(c: &mut Command) -> Output {
    c.output().expect("the command runs")
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/node`, where the Node servers and helper scripts live.
pub fn node_dir() -> PathBuf {
    manifest_dir().join("tests/node")
}

/// A fixture of the scan crate (`scan/tests/fixtures/...`).
pub fn scan_fixture(path: &str) -> PathBuf {
    manifest_dir().join("../scan/tests/fixtures").join(path)
}

static NPM: OnceLock<PathBuf> = OnceLock::new();

/// server-everything's entry point, `npm ci` first if it is not installed.
pub fn everything_js() -> PathBuf {
    NPM.get_or_init(|| {
        let dir = node_dir();
        let js = dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        if !js.exists() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .expect("npm is installed (the tests start real MCP servers from npm)");
            assert!(status.success(), "npm ci in {} failed", dir.display());
        }
        assert!(js.exists(), "{} is missing after npm ci", js.display());
        js
    })
    .clone()
}

/// The command line of server-everything over stdio.
pub fn everything_stdio() -> Vec<String> {
    vec![
        "node".into(),
        everything_js().to_string_lossy().into_owned(),
        "stdio".into(),
    ]
}

static PYTHON: Mutex<Option<PathBuf>> = Mutex::new(None);

/// `mcp-server-time` from PyPI, in a virtualenv made on first use.
pub fn mcp_server_time() -> PathBuf {
    let mut guard = PYTHON.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = &*guard {
        return p.clone();
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mcp-server-time-venv");
    let exe = venv.join("bin/mcp-server-time");
    if !exe.exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 is installed");
        assert!(status.success(), "python3 -m venv failed");
        let status = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(manifest_dir().join("tests/python/requirements.txt"))
            .status()
            .expect("pip runs");
        assert!(status.success(), "pip install mcp-server-time failed");
    }
    assert!(exe.exists(), "{} is missing", exe.display());
    *guard = Some(exe.clone());
    exe
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// server-everything over Streamable HTTP on 127.0.0.1 (its own code binds every interface;
/// `force-loopback.mjs` keeps it on loopback), stopped when dropped.
pub struct HttpEverything {
    child: Child,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
}

impl HttpEverything {
    /// Starts it and waits until it accepts connections (20 s at most).
    pub fn start() -> Self {
        let js = everything_js();
        let port = free_port();
        let child = Command::new("node")
            .arg("--import")
            .arg(node_dir().join("force-loopback.mjs"))
            .arg(js)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        let server = Self {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "server-everything did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for HttpEverything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
