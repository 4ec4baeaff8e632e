//! The service's configuration: one typed struct per subcommand, from flags or `MCPREG_…`
//! environment variables, validated at start. Secrets are `SecretString`, redacted in `Debug`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mcpreg_api::admin::Role;
use secrecy::SecretString;

use crate::db::DatabaseLocation;
use crate::router::Limits;

/// mcpreg-server: an enterprise registry of approved MCP servers.
#[derive(Debug, Parser)]
#[command(name = "mcpreg-server", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log format.
    #[arg(long, env = "MCPREG_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// Log formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the registry.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage registry API tokens (works while the server runs).
    Token {
        /// What to do with tokens.
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Make an allowlist signing key (Ed25519, PKCS#8 PEM) for `--signing-key`.
    SigningKey {
        /// The file to write (created 0600; never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once, as the last word of the output.
    Create(TokenCreateArgs),
    /// List tokens (never their secrets).
    List(DatabaseArgs),
    /// Revoke the live token with this name.
    Revoke {
        /// The token's name.
        name: String,
        /// Where the data is.
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL. Without it, a private PostgreSQL cluster is run under --data-dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = parse_secret)]
    pub database_url: Option<SecretString>,
    /// Directory of the private PostgreSQL cluster (used when DATABASE_URL is not set).
    #[arg(long, env = "MCPREG_DATA_DIR", default_value = "./mcpreg-data")]
    pub data_dir: PathBuf,
    /// Directory of PostgreSQL's `initdb` and `pg_ctl` for the private cluster (default: searched
    /// in PATH, `pg_config --bindir` and /usr/lib/postgresql/*/bin).
    #[arg(long, env = "MCPREG_PG_BIN_DIR")]
    pub pg_bin_dir: Option<PathBuf>,
    /// Most database connections this process opens (default: 2 per core with the private
    /// cluster, which shares the cores; 4 per core with DATABASE_URL).
    #[arg(long, env = "MCPREG_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: Option<u32>,
}

impl DatabaseArgs {
    /// The pool size: as configured, or from the number of cores. Measured with `bench/`: on 2
    /// cores shared with the private cluster, 4 connections beat 16 (more only queue in
    /// PostgreSQL and cost context switches).
    pub fn max_connections(&self) -> u32 {
        self.db_max_connections.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
            match self.location() {
                DatabaseLocation::Embedded { .. } => (2 * cores).max(2),
                DatabaseLocation::Url(_) => (4 * cores).clamp(4, 64),
            }
        })
    }

    /// Where the data is.
    pub fn location(&self) -> DatabaseLocation {
        DatabaseLocation::new(
            self.database_url.clone(),
            &self.data_dir,
            self.pg_bin_dir.as_deref(),
        )
    }
}

fn parse_secret(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s.to_owned()))
}

/// `serve` options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is logged).
    #[arg(long, env = "MCPREG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where the data lives.
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Do not apply migrations at start (apply them with `mcpreg-server migrate`).
    #[arg(long, env = "MCPREG_NO_MIGRATE")]
    pub no_migrate: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "MCPREG_MAX_BODY_BYTES", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub max_body_bytes: u64,
    /// Longest a request may take, in seconds.
    #[arg(long, env = "MCPREG_REQUEST_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub request_timeout_secs: u64,
    /// Access configuration file (TOML): OIDC issuers, role mappings, trusted publishing. Without
    /// it, only registry API tokens are accepted and the catalog is readable anonymously.
    #[arg(long, env = "MCPREG_CONFIG")]
    pub config: Option<PathBuf>,
    /// The registry's public base URL (for OAuth protected-resource metadata); default: from `Host`.
    #[arg(long, env = "MCPREG_PUBLIC_URL")]
    pub public_url: Option<url::Url>,
    /// The Sigstore trusted root signatures must chain to: a `trusted_root.json` (or a sigstore
    /// client trust config wrapping one), for a private Sigstore instance. Default: the embedded
    /// public-good production root.
    #[arg(long, env = "MCPREG_TRUSTED_ROOT", value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Longest a graceful shutdown waits for requests in flight, in seconds.
    #[arg(long, env = "MCPREG_SHUTDOWN_GRACE_SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub shutdown_grace_secs: u64,
    /// The Ed25519 key (PKCS#8 PEM) that signs allowlist documents and the published keyset.
    /// Repeat it during a rotation: every key given signs. Without one, a key is made once under
    /// `--data-dir` when the registry runs its private PostgreSQL; with `DATABASE_URL` and no key,
    /// signed allowlists are refused (503) — every replica must share the same key (a Secret).
    #[arg(
        long = "signing-key",
        env = "MCPREG_SIGNING_KEY",
        value_name = "FILE",
        value_delimiter = ','
    )]
    pub signing_keys: Vec<PathBuf>,
    /// Public keys (PEM or base64) that signed allowlists before a rotation, published as
    /// `retired` so that clients stop trusting them.
    #[arg(
        long = "retired-signing-key",
        env = "MCPREG_RETIRED_SIGNING_KEY",
        value_name = "FILE",
        value_delimiter = ','
    )]
    pub retired_signing_keys: Vec<PathBuf>,
    /// How long a signed allowlist document is valid, in seconds; it is renewed when less than
    /// half of it remains.
    #[arg(long, env = "MCPREG_ALLOWLIST_TTL_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(60..=7 * 24 * 3600))]
    pub allowlist_ttl_secs: u64,
}

impl ServeArgs {
    /// Request limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_body_bytes: usize::try_from(self.max_body_bytes).unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
        }
    }
}

/// `token create` options.
#[derive(Debug, Clone, Args)]
pub struct TokenCreateArgs {
    /// A name for the token, unique among live tokens (e.g. `ci-github`).
    #[arg(long, value_parser = crate::tokens::TokenName::parse)]
    pub name: crate::tokens::TokenName,
    /// Its role: admin, publisher (with --namespace), reviewer, auditor or reader.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// For a publisher: a namespace it may publish to (repeat for several).
    #[arg(long = "namespace", value_parser = parse_namespace)]
    pub namespaces: Vec<String>,
    /// Expire after this many days (default: never).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub expires_in_days: Option<u32>,
    /// Where the data lives.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!("unknown role `{s}`: one of admin, publisher, reviewer, auditor, reader")
    })
}

fn parse_namespace(s: &str) -> Result<String, String> {
    mcpreg_api::NamespaceName::parse(s)
        .map(|n| n.to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn database_url_is_redacted_in_debug() {
        let cli = Cli::try_parse_from([
            "mcpreg-server",
            "migrate",
            "--database-url",
            "postgres://u:hunter2@h/db",
        ])
        .unwrap();
        assert!(!format!("{cli:?}").contains("hunter2"));
    }
}
