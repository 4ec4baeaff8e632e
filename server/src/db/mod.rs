//! Database access: one small function per statement, each taking an executor so that the
//! caller owns the transaction. Every statement is static: the official API's list filters are
//! answered from the read model (`crate::read_model`), not by SQL.
//!
//! Static statements are checked at compile time (`sqlx::query!` / `query_as!`) against the
//! query data committed in `.sqlx/`, so a build needs no database (`.cargo/config.toml` sets
//! `SQLX_OFFLINE=true`). After changing one, rebuild with `SQLX_OFFLINE=false`, `DATABASE_URL`
//! pointing at a migrated database and `SQLX_OFFLINE_DIR=$PWD/.sqlx` (from the workspace root)
//! to rewrite that data.

pub mod allowlists;
pub mod audit;
pub mod changes;
pub mod cluster;
pub mod namespaces;
pub mod policies;
pub mod reviews;
pub mod scans;
pub mod servers;
pub mod signatures;
pub mod signing_keysets;
pub mod tokens;
pub mod tool_manifests;
pub mod trusted_publishers;
pub mod trusted_signers;
pub mod version_facts;
pub mod versions;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use crate::embedded_pg::EmbeddedPostgres;

/// The migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Where the registry's data lives: a given database, or the private cluster.
pub struct Database {
    /// The connection pool.
    pub pool: PgPool,
    /// The private cluster, when one is in use; stop it on shutdown.
    pub embedded: Option<EmbeddedPostgres>,
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub enum DatabaseLocation {
    /// `DATABASE_URL`.
    Url(SecretString),
    /// The private cluster under this data directory.
    Embedded {
        /// The data directory.
        data_dir: PathBuf,
        /// Where PostgreSQL's binaries are, when not searched for.
        bin_dir: Option<PathBuf>,
    },
}

impl DatabaseLocation {
    /// `DATABASE_URL` when given, the private cluster under `data_dir` otherwise.
    pub fn new(url: Option<SecretString>, data_dir: &Path, bin_dir: Option<&Path>) -> Self {
        match url {
            Some(url) if !url.expose_secret().is_empty() => DatabaseLocation::Url(url),
            _ => DatabaseLocation::Embedded {
                data_dir: data_dir.to_owned(),
                bin_dir: bin_dir.map(Path::to_owned),
            },
        }
    }
}

impl Database {
    /// Connects (starting the private cluster if that is where the data lives).
    pub async fn open(location: &DatabaseLocation, max_connections: u32) -> anyhow::Result<Self> {
        let (options, embedded) = match location {
            DatabaseLocation::Url(url) => {
                let options: PgConnectOptions = url
                    .expose_secret()
                    .parse()
                    .context("DATABASE_URL is not a valid PostgreSQL URL")?;
                (options, None)
            }
            DatabaseLocation::Embedded { data_dir, bin_dir } => {
                let cluster = EmbeddedPostgres::start(data_dir, bin_dir.as_deref()).await?;
                (cluster.connect_options(), Some(cluster))
            }
        };
        let options = options
            .application_name("mcpreg")
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .context("cannot connect to the database")?;
        Ok(Self { pool, embedded })
    }

    /// Applies pending migrations (under PostgreSQL's advisory lock, so replicas may race).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .context("cannot apply database migrations")
    }

    /// Closes the pool and stops the private cluster if this process started it.
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        if let Some(cluster) = self.embedded {
            cluster.stop().await?;
        }
        Ok(())
    }
}

/// Whether an error is the violation of the named unique constraint.
pub fn is_unique_violation(e: &sqlx::Error, constraint: &str) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation() && d.constraint() == Some(constraint))
}

/// A stored value outside what the schema allows: the row is refused rather than read as
/// something it is not, and the caller's request fails as an internal error.
pub fn decode_error(message: String) -> sqlx::Error {
    sqlx::Error::Decode(message.into())
}
