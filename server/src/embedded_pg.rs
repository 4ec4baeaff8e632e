//! A private PostgreSQL cluster for when no `DATABASE_URL` is given: one command gives a working
//! registry on a fresh machine.
//!
//! The cluster is made from the PostgreSQL binaries already installed (`initdb`, `pg_ctl`), lives
//! under the data directory, listens on a unix socket in that directory only (no TCP port), and is
//! reused on the next start. PostgreSQL refuses to run as root, so when mcpreg runs as root the
//! cluster runs as the unprivileged `postgres` user (or `nobody` where there is none).
//!
//! Its one statement of its own (create the `mcpreg` database when missing) is in
//! `db::cluster`, with the rest of the SQL.

use std::fs::{self, File};
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use sqlx::postgres::PgConnectOptions;
use tokio::process::Command;

/// The database user and database name inside the private cluster.
pub const DB_NAME: &str = "mcpreg";

/// Longest unix socket path the kernel accepts (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;

/// The port number only names the socket file (`.s.PGSQL.5432`); nothing listens on TCP.
const SOCKET_PORT: u16 = 5432;

/// What went wrong with the private cluster, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found in PATH, `pg_config --bindir` or /usr/lib/postgresql/*/bin: install PostgreSQL (e.g. `apt-get install postgresql`) or set DATABASE_URL to an existing database"
    )]
    BinariesNotFound,
    /// The configured binary directory lacks them.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) are not in {0} (--pg-bin-dir): point it at a PostgreSQL `bin` directory, or set DATABASE_URL to an existing database"
    )]
    BinariesNotInDir(PathBuf),
    /// A file system step failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The unprivileged user cannot reach the data directory.
    #[error(
        "the PostgreSQL cluster must run as the unprivileged user `{user}`, who cannot enter {dir} (mode {mode:o}): choose a --data-dir that user can reach (e.g. /var/lib/mcpreg) or set DATABASE_URL"
    )]
    Unreachable {
        /// The unprivileged user.
        user: String,
        /// The directory it cannot enter.
        dir: PathBuf,
        /// That directory's permission bits.
        mode: u32,
    },
    /// The socket path would be too long for the kernel.
    #[error(
        "the data directory path is too long for a unix socket ({len} bytes, at most {MAX_SOCKET_PATH}): {path}; choose a shorter --data-dir"
    )]
    SocketPathTooLong {
        /// The socket path.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// A PostgreSQL tool failed.
    #[error("{tool} failed ({status}): {output}")]
    Tool {
        /// Which tool.
        tool: String,
        /// Its exit status.
        status: String,
        /// What it printed (and the tail of the server log, when relevant).
        output: String,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let path = path.to_owned();
    move |source| EmbeddedError::Io { what, path, source }
}

/// The unprivileged account the cluster runs as when mcpreg runs as root.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

/// A private PostgreSQL cluster under a data directory.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    root: PathBuf,
    run_as: Option<RunAs>,
    started_here: bool,
}

impl EmbeddedPostgres {
    /// Creates the cluster under `data_dir` if there is none, and starts it if it is not running.
    /// A cluster that was already running (another process on the same data directory) is used
    /// as it is and left running by [`EmbeddedPostgres::stop`].
    ///
    /// `bin_dir`, when given, is the only place where PostgreSQL's binaries are looked for.
    pub async fn start(data_dir: &Path, bin_dir: Option<&Path>) -> Result<Self, EmbeddedError> {
        let bin_dir = match bin_dir {
            Some(dir) if has_tools(dir) => dir.to_owned(),
            Some(dir) => return Err(EmbeddedError::BinariesNotInDir(dir.to_owned())),
            None => find_binaries().await?,
        };
        fs::create_dir_all(data_dir).map_err(io("cannot create data directory", data_dir))?;
        let root = fs::canonicalize(data_dir).map_err(io("cannot resolve", data_dir))?;
        let run_as = if rustix::process::geteuid().is_root() {
            Some(unprivileged_user())
        } else {
            None
        };
        let this = Self {
            bin_dir,
            root,
            run_as,
            started_here: false,
        };
        let socket = this.socket_dir().join(format!(".s.PGSQL.{SOCKET_PORT}"));
        let len = socket.as_os_str().len();
        if len > MAX_SOCKET_PATH {
            return Err(EmbeddedError::SocketPathTooLong { path: socket, len });
        }

        // One process at a time creates or starts the cluster; the lock is released on drop.
        let lock_path = this.root.join("cluster.lock");
        let lock = File::create(&lock_path).map_err(io("cannot create", &lock_path))?;
        let lock = tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
            .await
            .map_err(|e| EmbeddedError::Io {
                what: "cannot lock",
                path: lock_path.clone(),
                source: std::io::Error::other(e),
            })?
            .map_err(io("cannot lock", &lock_path))?;

        let mut this = this;
        this.prepare_dirs()?;
        if !this.pgdata().join("PG_VERSION").exists() {
            this.initdb().await?;
        }
        if !this.is_running().await? {
            this.pg_ctl_start().await?;
            this.started_here = true;
        }
        this.ensure_database().await?;
        drop(lock);
        Ok(this)
    }

    /// How to connect to the cluster's `mcpreg` database.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options_for(DB_NAME)
    }

    fn options_for(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(self.socket_dir())
            .port(SOCKET_PORT)
            .username(DB_NAME)
            .database(database)
    }

    /// Stops the cluster if this process started it.
    pub async fn stop(self) -> Result<(), EmbeddedError> {
        if !self.started_here {
            return Ok(());
        }
        self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"])
            .await
            .map(|_| ())
    }

    fn pgdata(&self) -> PathBuf {
        self.root.join("pg")
    }

    fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    fn log_file(&self) -> PathBuf {
        self.root.join("log").join("postgres.log")
    }

    fn prepare_dirs(&self) -> Result<(), EmbeddedError> {
        for dir in [self.pgdata(), self.socket_dir(), self.root.join("log")] {
            fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                .map_err(io("cannot set permissions on", &dir))?;
            if let Some(user) = &self.run_as {
                chown(&dir, Some(user.uid), Some(user.gid)).map_err(io("cannot chown", &dir))?;
            }
        }
        if let Some(user) = &self.run_as {
            check_reachable(&self.root, user)?;
        }
        Ok(())
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(tool));
        cmd.current_dir(&self.root)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .env_remove("PGHOST")
            .env_remove("PGPORT")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid).gid(user.gid).env("HOME", &self.root);
        }
        cmd
    }

    async fn run(&self, tool: &str, args: &[&str]) -> Result<String, EmbeddedError> {
        let output = self
            .command(tool)
            .args(args)
            .output()
            .await
            .map_err(io("cannot run", &self.bin_dir.join(tool)))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() {
            Ok(text)
        } else {
            Err(EmbeddedError::Tool {
                tool: tool.to_owned(),
                status: output.status.to_string(),
                output: text.trim().to_owned(),
            })
        }
    }

    async fn initdb(&self) -> Result<(), EmbeddedError> {
        let pgdata = self.pgdata();
        tracing::info!(data_dir = %pgdata.display(), "creating the private PostgreSQL cluster");
        let pgdata_str = pgdata.to_string_lossy();
        self.run(
            "initdb",
            &[
                "-D",
                &pgdata_str,
                "-U",
                DB_NAME,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
            ],
        )
        .await?;
        // Unix socket only, in a directory only the cluster's owner (and root) can enter: that
        // directory is the access control, which is why local connections may use `trust`.
        let conf = format!(
            "\n# Added by mcpreg: private cluster, unix socket only.\nlisten_addresses = ''\nunix_socket_directories = '{}'\nunix_socket_permissions = 0700\nport = {SOCKET_PORT}\n",
            self.socket_dir().display()
        );
        let conf_path = pgdata.join("postgresql.conf");
        let mut current = fs::read_to_string(&conf_path).map_err(io("cannot read", &conf_path))?;
        current.push_str(&conf);
        fs::write(&conf_path, current).map_err(io("cannot write", &conf_path))?;
        Ok(())
    }

    async fn is_running(&self) -> Result<bool, EmbeddedError> {
        let status = self
            .command("pg_ctl")
            .args(["status", "-D"])
            .arg(self.pgdata())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .map_err(io("cannot run", &self.bin_dir.join("pg_ctl")))?;
        Ok(status.success())
    }

    async fn pg_ctl(&self, args: &[&str]) -> Result<String, EmbeddedError> {
        let pgdata = self.pgdata();
        let pgdata_str = pgdata.to_string_lossy();
        let mut all = vec!["-D", &pgdata_str];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all).await
    }

    async fn pg_ctl_start(&self) -> Result<(), EmbeddedError> {
        let log = self.log_file();
        let log_str = log.to_string_lossy();
        match self
            .pg_ctl(&["start", "-w", "-t", "60", "-l", &log_str])
            .await
        {
            Ok(_) => {
                tracing::info!(socket_dir = %self.socket_dir().display(), "private PostgreSQL cluster started");
                Ok(())
            }
            Err(EmbeddedError::Tool {
                tool,
                status,
                output,
            }) => Err(EmbeddedError::Tool {
                tool,
                status,
                output: format!(
                    "{output}\n--- {} (last lines) ---\n{}",
                    log.display(),
                    tail(&log, 15)
                ),
            }),
            Err(e) => Err(e),
        }
    }

    async fn ensure_database(&self) -> Result<(), EmbeddedError> {
        use sqlx::ConnectOptions;
        let to_tool_error = |e: sqlx::Error| EmbeddedError::Tool {
            tool: "postgres".into(),
            status: "connection".into(),
            output: e.to_string(),
        };
        let mut conn = self
            .options_for("postgres")
            .connect()
            .await
            .map_err(to_tool_error)?;
        crate::db::cluster::ensure_database(&mut conn, DB_NAME)
            .await
            .map_err(to_tool_error)?;
        Ok(())
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn has_tools(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

/// Finds the directory holding `initdb` and `pg_ctl`.
async fn find_binaries() -> Result<PathBuf, EmbeddedError> {
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|d| has_tools(d))
    {
        return Ok(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output().await {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_tools(&dir) {
            return Ok(dir);
        }
    }
    // Debian and Ubuntu keep server binaries out of PATH, one directory per major version.
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, dir)| dir)
        .ok_or(EmbeddedError::BinariesNotFound)
}

/// `postgres` when the system has that account (it exists wherever PostgreSQL was installed from a
/// distribution package), otherwise `nobody`.
fn unprivileged_user() -> RunAs {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let find = |wanted: &str| {
        passwd.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            if name != wanted {
                return None;
            }
            let uid = fields.nth(1)?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            Some(RunAs {
                name: name.to_owned(),
                uid,
                gid,
            })
        })
    };
    find("postgres")
        .or_else(|| find("nobody"))
        .unwrap_or(RunAs {
            name: "nobody".into(),
            uid: 65534,
            gid: 65534,
        })
}

/// Every directory above the cluster must be enterable by its unprivileged owner.
fn check_reachable(root: &Path, user: &RunAs) -> Result<(), EmbeddedError> {
    use std::os::unix::fs::MetadataExt;
    for dir in root.ancestors() {
        let meta = fs::metadata(dir).map_err(io("cannot inspect", dir))?;
        let mode = meta.mode();
        let enterable = mode & 0o001 != 0
            || (meta.uid() == user.uid && mode & 0o100 != 0)
            || (meta.gid() == user.gid && mode & 0o010 != 0);
        if !enterable {
            return Err(EmbeddedError::Unreachable {
                user: user.name.clone(),
                dir: dir.to_owned(),
                mode: mode & 0o7777,
            });
        }
    }
    Ok(())
}
