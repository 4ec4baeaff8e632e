//! Test support: a fresh PostgreSQL database per test, the service's router over it, and the real
//! binaries started as processes.
//!
//! PostgreSQL: `MCPREG_TEST_DATABASE_URL` when set (a server where the tests may create
//! databases); otherwise a private cluster under `target/mcpreg-test-pg`, made with the same code
//! as `mcpreg-server`'s embedded default, started on first use and left running for the next run
//! (stop it with `pg_ctl -D target/mcpreg-test-pg/pg stop`). Each test gets its own database,
//! copied from a template that holds the migrated schema.

mod fixtures;
mod idp;
mod problem;
mod response;
mod test_app;

pub use fixtures::*;
pub use idp::Idp;
pub use problem::{expect_problem, expect_problem_at, locations, refused_status};
pub use response::{Reply, call};
pub use test_app::{TestApp, serve};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mcpreg_server::app::AppState;
use mcpreg_server::db::MIGRATOR;
use mcpreg_server::embedded_pg::EmbeddedPostgres;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// How to reach the PostgreSQL server the tests use, and how to name a database on it as a URL.
#[derive(Clone)]
struct Server {
    options: PgConnectOptions,
    url_for: Arc<dyn Fn(&str) -> String + Send + Sync>,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();
static TEMPLATE: OnceCell<String> = OnceCell::const_new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

async fn server() -> &'static Server {
    SERVER
        .get_or_init(|| async {
            if let Ok(url) = std::env::var("MCPREG_TEST_DATABASE_URL") {
                let options: PgConnectOptions = url
                    .parse()
                    .expect("MCPREG_TEST_DATABASE_URL is not a PostgreSQL URL");
                let base = url.split('?').next().unwrap_or(&url).to_owned();
                let base = base
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_owned())
                    .unwrap_or(base);
                return Server {
                    options,
                    url_for: Arc::new(move |db| format!("{base}/{db}")),
                };
            }
            let dir = workspace_root().join("target").join("mcpreg-test-pg");
            let cluster = EmbeddedPostgres::start(&dir, None)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start the test PostgreSQL cluster under {}: {e}",
                        dir.display()
                    )
                });
            let run = dir.join("run");
            Server {
                options: cluster.connect_options(),
                url_for: Arc::new(move |db| {
                    format!(
                        "postgres://mcpreg@localhost/{db}?host={}&port=5432",
                        run.display()
                    )
                }),
            }
        })
        .await
}

async fn admin() -> PgConnection {
    server()
        .await
        .options
        .clone()
        .disable_statement_logging()
        .connect()
        .await
        .expect("cannot connect to the test PostgreSQL server")
}

/// The template database with the current migrations applied, made once per schema.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let mut hasher = Sha256::new();
            for m in MIGRATOR.iter() {
                hasher.update(&m.checksum);
            }
            let name = format!("mcpreg_tpl_{}", &hex::encode(hasher.finalize())[..16]);
            let mut conn = admin().await;
            sqlx::query("select pg_advisory_lock(727274)")
                .execute(&mut conn)
                .await
                .expect("lock");
            let exists: bool =
                sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut conn)
                    .await
                    .expect("query pg_database");
            if !exists {
                let building = format!("{name}_building");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "drop database if exists {building}"
                )))
                .execute(&mut conn)
                .await
                .expect("drop half-built template");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {building}")))
                    .execute(&mut conn)
                    .await
                    .expect("create template");
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(server().await.options.clone().database(&building))
                    .await
                    .expect("connect to template");
                MIGRATOR
                    .run(&pool)
                    .await
                    .expect("migrations apply to an empty database");
                pool.close().await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "alter database {building} rename to {name}"
                )))
                .execute(&mut conn)
                .await
                .expect("rename template");
            }
            sqlx::query("select pg_advisory_unlock(727274)")
                .execute(&mut conn)
                .await
                .expect("unlock");
            drop_stale_databases(&mut conn).await;
            name
        })
        .await
}

/// Drops the databases of test processes that have exited.
async fn drop_stale_databases(conn: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("select datname from pg_database where datname like 'mcpreg_test_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name
            .trim_start_matches("mcpreg_test_")
            .split('_')
            .next()
            .unwrap_or("");
        if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "drop database if exists {name} with (force)"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

/// A fresh database with the schema migrated, for one test.
pub struct TestDb {
    /// A pool on it.
    pub pool: PgPool,
    /// Its URL, for a server process.
    pub url: String,
}

impl TestDb {
    /// Creates the database.
    pub async fn new() -> Self {
        let template = template().await;
        let name = format!(
            "mcpreg_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut conn = admin().await;
        let mut attempt = 0;
        loop {
            let created = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "create database {name} template {template}"
            )))
            .execute(&mut conn)
            .await;
            match created {
                Ok(_) => break,
                // Another test is copying the same template at this instant.
                Err(e)
                    if attempt < 100 && e.to_string().contains("being accessed by other users") =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot create test database {name}: {e}"),
            }
        }
        let _ = conn.close().await;
        let server = server().await;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(
                server
                    .options
                    .clone()
                    .database(&name)
                    .disable_statement_logging(),
            )
            .await
            .expect("connect to test database");
        Self {
            pool,
            url: (server.url_for)(&name),
        }
    }

    /// The service's router over this database, with default limits and access configuration.
    pub fn app(&self) -> axum::Router {
        self.app_with(mcpreg_server::auth::config::AccessConfig::default())
    }

    /// The service's router with this access configuration (and the embedded Sigstore
    /// production trust root).
    pub fn app_with(&self, access: mcpreg_server::auth::config::AccessConfig) -> axum::Router {
        self.app_with_trust(access, mcpreg_trust::TrustRoot::production())
    }

    /// The service's router with this access configuration and this Sigstore trust root (e.g.
    /// `TrustRoot::staging()` for bundles signed on Sigstore's staging instance).
    pub fn app_with_trust(
        &self,
        access: mcpreg_server::auth::config::AccessConfig,
        trust_root: mcpreg_trust::TrustRoot,
    ) -> axum::Router {
        let model =
            mcpreg_server::read_model::ReadModel::new(self.pool.clone(), access.review.clone());
        tokio::spawn(mcpreg_server::read_model::follow(model.clone()));
        let state = AppState {
            model,
            pool: self.pool.clone(),
            auth: Arc::new(mcpreg_server::auth::Authenticator::new(access)),
            public_url: None,
            trust_root,
            signing: Arc::new(mcpreg_server::signing::SigningKeys::new(
                vec![mcpreg_trust::AllowlistSigningKey::generate().expect("a key")],
                Vec::new(),
            )),
            allowlist_ttl: Duration::from_secs(3600),
            documents: mcpreg_server::allowlists::HeldDocuments::new(),
        };
        mcpreg_server::router::router(state, mcpreg_server::router::Limits::default())
    }

    /// Creates an API token directly in the database and returns its secret.
    pub async fn token(&self, name: &str, role: mcpreg_api::admin::Role) -> String {
        self.scoped_token(name, role, &[]).await
    }

    /// Creates an API token for a publisher of these namespaces (created if missing).
    pub async fn scoped_token(
        &self,
        name: &str,
        role: mcpreg_api::admin::Role,
        namespaces: &[&str],
    ) -> String {
        use secrecy::ExposeSecret;
        for ns in namespaces {
            mcpreg_server::db::namespaces::insert(&self.pool, ns, None, "test")
                .await
                .expect("namespace");
        }
        let namespaces: Vec<String> = namespaces.iter().map(|s| (*s).to_owned()).collect();
        let secret = mcpreg_server::db::tokens::generate();
        let new = mcpreg_server::db::tokens::NewToken {
            name,
            role,
            namespaces: &namespaces,
            server_name: None,
            kind: mcpreg_server::db::tokens::TokenKind::Api,
            expires_at: None,
            created_by: "test",
        };
        mcpreg_server::db::tokens::insert(&self.pool, &new, &secret)
            .await
            .expect("insert token")
            .expect("token name is free");
        secret.expose_secret().to_owned()
    }
}

/// Builds the workspace's binaries once per test process and returns the path of one.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        // target/<profile>/deps/<test binary>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary lives in target/<profile>/deps")
            .to_owned();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--quiet",
            "--bins",
            "-p",
            "mcpreg-server",
            "-p",
            "mcpreg-cli",
        ])
        .current_dir(workspace_root());
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "cargo build of the binaries failed");
        profile_dir
    });
    dir.join(name)
}

/// A running `mcpreg-server serve` process.
pub struct ServerProcess {
    child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Everything it logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts the server with these extra arguments and environment, on a free port.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(binary("mcpreg-server"));
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("DATABASE_URL")
            .env("MCPREG_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn mcpreg-server");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("address=").nth(1) {
                        let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                    }
                    log.lock().expect("log lock").push(line);
                }
            });
        }
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "mcpreg-server did not start listening; its log:\n{}",
                    log.lock().expect("log lock").join("\n")
                )
            });
        Self {
            child,
            url: format!("http://{address}"),
            log,
        }
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        false
    }

    /// The log lines so far.
    pub fn log_text(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// The result of running the CLI.
pub struct CliRun {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `mcpreg` against a registry.
pub fn mcpreg(url: &str, token: Option<&str>, args: &[&str]) -> CliRun {
    mcpreg_with(url, token, &[], args)
}

/// Runs `mcpreg` against a registry with extra environment variables. The user's stored
/// sign-ins are never read: `MCPREG_CONFIG_DIR` points at an empty directory unless given.
pub fn mcpreg_with(url: &str, token: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> CliRun {
    let mut cmd = Command::new(binary("mcpreg"));
    cmd.env(
        "MCPREG_CONFIG_DIR",
        std::env::temp_dir().join("mcpreg-tests-no-config"),
    )
    .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
    .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    .env_remove("MCPREG_CI_OIDC_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args)
        .env("MCPREG_URL", url)
        .env_remove("MCPREG_TOKEN")
        .stdin(Stdio::null());
    if let Some(t) = token {
        cmd.env("MCPREG_TOKEN", t);
    }
    let out = cmd.output().expect("run mcpreg");
    CliRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
