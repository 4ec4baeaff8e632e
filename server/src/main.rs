//! The `mcpreg-server` binary.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use mcpreg_server::app::AppState;
use mcpreg_server::auth::Authenticator;
use mcpreg_server::auth::config::AccessConfig;
use mcpreg_server::config::{
    Cli, Command, DatabaseArgs, LogFormat, ServeArgs, TokenCommand, TokenCreateArgs,
};
use mcpreg_server::db::{Database, tokens};
use mcpreg_trust::TrustRoot;
use secrecy::ExposeSecret;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(db) => migrate(db).await,
        Command::Token { command } => token(command).await,
        Command::Openapi => openapi(),
        Command::SigningKey { out } => signing_key(&out),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcpreg-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("MCPREG_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // A configuration mistake stops the start before anything else happens.
    let access = match &args.config {
        Some(path) => AccessConfig::load(path)?,
        None => AccessConfig::default(),
    };
    tracing::info!(
        oidc_issuers = access.oidc.issuers.len(),
        ci_issuers = access.trusted_publishing.issuers.len(),
        anonymous_reads = access.anonymous_reads,
        "access configured"
    );
    let trust_root = load_trust_root(args.trusted_root.as_deref())?;
    let db = Database::open(&args.db.location(), args.db.max_connections()).await?;
    let result = run(&args, &db, access, trust_root).await;
    // Whatever happened, stop the private cluster if this process started it.
    let closed = db.close().await;
    result.and(closed)
}

/// The trust root signatures are verified against: the configured file, else the embedded
/// Sigstore production root. A file that does not load stops the start.
fn load_trust_root(path: Option<&std::path::Path>) -> anyhow::Result<TrustRoot> {
    let Some(path) = path else {
        tracing::info!("trust root: the embedded Sigstore public-good production root");
        return Ok(TrustRoot::production());
    };
    let json = std::fs::read(path)
        .with_context(|| format!("cannot read the trusted root {}", path.display()))?;
    let root = TrustRoot::from_json(&json).with_context(|| {
        format!(
            "--trusted-root {} is not a usable trusted root",
            path.display()
        )
    })?;
    tracing::info!(
        file = %path.display(),
        transparency_logs = ?root.transparency_logs(),
        certificate_authorities = ?root.certificate_authorities(),
        "trust root loaded"
    );
    Ok(root)
}

async fn run(
    args: &ServeArgs,
    db: &Database,
    access: AccessConfig,
    trust_root: TrustRoot,
) -> anyhow::Result<()> {
    if !args.no_migrate {
        db.migrate().await?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    tokio::spawn(forget_expired_token_ids(db.pool.clone()));
    tokio::spawn(mcpreg_server::audit_chain::run(db.pool.clone()));
    let signing = signing_keys(args)?;
    let model = mcpreg_server::read_model::ReadModel::new(db.pool.clone(), access.review.clone());
    tokio::spawn(mcpreg_server::read_model::follow(model.clone()));
    let state = AppState {
        model,
        pool: db.pool.clone(),
        auth: std::sync::Arc::new(Authenticator::new(access)),
        public_url: args.public_url.as_ref().map(|u| u.to_string()),
        trust_root,
        signing: std::sync::Arc::new(signing),
        allowlist_ttl: Duration::from_secs(args.allowlist_ttl_secs),
        documents: mcpreg_server::allowlists::HeldDocuments::new(),
    };
    let app = mcpreg_server::router::router(state, args.limits());
    tracing::info!(address = %address, url = format!("http://{address}"), "listening");
    let grace = Duration::from_secs(args.shutdown_grace_secs);
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    // The peer address reaches handlers for allowlists restricted to networks.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = signalled_tx.send(());
    });
    tokio::select! {
        result = server => result.context("server failed")?,
        () = async {
            let _ = signalled_rx.await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period; stopping"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Writes a new signing key and prints its id and public key (for clients to pin).
fn signing_key(out: &std::path::Path) -> anyhow::Result<()> {
    let key = mcpreg_trust::AllowlistSigningKey::generate()
        .map_err(|e| anyhow::anyhow!("cannot make a signing key: {e}"))?;
    let pem = key
        .to_pkcs8_pem()
        .map_err(|e| anyhow::anyhow!("cannot encode the signing key: {e}"))?;
    mcpreg_server::signing::write_private(out, pem.as_bytes())?;
    eprintln!(
        "wrote {} (keep it secret: it signs allowlists)",
        out.display()
    );
    println!("key id: {}", key.key_id());
    print!("{}", key.public_key().to_pem());
    Ok(())
}

/// The allowlist signing keys: the configured ones; else, with the private cluster, a key made
/// once under the data directory; else none (signed allowlists are then refused, 503).
fn signing_keys(args: &ServeArgs) -> anyhow::Result<mcpreg_server::signing::SigningKeys> {
    use mcpreg_server::signing::SigningKeys;
    let keys = if !args.signing_keys.is_empty() {
        SigningKeys::load(&args.signing_keys, &args.retired_signing_keys)?
    } else if args.db.database_url.is_none() {
        SigningKeys::generated_in(&args.db.data_dir)?
    } else {
        tracing::warn!(
            "no --signing-key: signed allowlist documents are refused until one is configured"
        );
        SigningKeys::load(&[], &args.retired_signing_keys)?
    };
    tracing::info!(keys = ?keys, "allowlist signing keys");
    Ok(keys)
}

/// Replay protection only needs the ids of CI tokens that have not expired yet.
async fn forget_expired_token_ids(pool: sqlx::PgPool) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match mcpreg_server::db::trusted_publishers::forget_expired_token_ids(&pool).await {
            Ok(n) if n > 0 => tracing::info!(forgotten = n, "forgot expired CI token ids"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot forget expired CI token ids"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn migrate(db_args: DatabaseArgs) -> anyhow::Result<()> {
    let db = Database::open(&db_args.location(), 2).await?;
    let result = db.migrate().await;
    db.close().await?;
    result?;
    eprintln!("migrations applied");
    Ok(())
}

async fn with_db<T>(
    db_args: &DatabaseArgs,
    f: impl AsyncFnOnce(&Database) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let db = Database::open(&db_args.location(), 2).await?;
    let result = match db.migrate().await {
        Ok(()) => f(&db).await,
        Err(e) => Err(e),
    };
    db.close().await?;
    result
}

async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create(args) => token_create(args).await,
        TokenCommand::List(db_args) => {
            with_db(&db_args, async |db| {
                let rows = tokens::list(&db.pool).await?;
                println!(
                    "{:<24} {:<10} {:<8} {:<25} {:<25}",
                    "NAME", "ROLE", "STATE", "CREATED", "EXPIRES"
                );
                for t in rows {
                    let state = if t.revoked_at.is_some() {
                        "revoked"
                    } else if t.expires_at.is_some_and(|e| e <= Utc::now()) {
                        "expired"
                    } else {
                        "live"
                    };
                    println!(
                        "{:<24} {:<10} {:<8} {:<25} {:<25}",
                        t.name,
                        t.role,
                        state,
                        t.created_at
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        t.expires_at
                            .map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                            .unwrap_or_else(|| "never".into())
                    );
                }
                Ok(())
            })
            .await
        }
        TokenCommand::Revoke { name, db } => {
            with_db(&db, async |db| {
                mcpreg_server::tokens::revoke(&db.pool, CLI_ACTOR, &name)
                    .await
                    .map_err(cli_error)?;
                eprintln!("revoked token `{name}`");
                Ok(())
            })
            .await
        }
    }
}

/// The audit actor of what `mcpreg-server` subcommands change.
const CLI_ACTOR: &str = "cli:mcpreg-server";

/// A domain error as the command line reports it: the problem's detail and each field issue.
fn cli_error(e: mcpreg_server::error::ApiError) -> anyhow::Error {
    match e {
        mcpreg_server::error::ApiError::Client(problem, _) => {
            let mut message = problem.detail.clone();
            for issue in &problem.errors {
                message.push_str(&format!("\n  {}: {}", issue.location, issue.message));
            }
            anyhow::anyhow!(message)
        }
        other => anyhow::Error::new(other),
    }
}

async fn token_create(args: TokenCreateArgs) -> anyhow::Result<()> {
    with_db(&args.db, async |db| {
        // The host's operator may bootstrap an empty registry: namespaces a publisher token
        // names are created (and audited) rather than refused.
        let (secret, row) = mcpreg_server::tokens::create(
            &db.pool,
            CLI_ACTOR,
            &mcpreg_server::tokens::NewApiToken {
                name: &args.name,
                role: args.role,
                namespaces: &args.namespaces,
                expires_in_days: args.expires_in_days,
            },
            mcpreg_server::tokens::MissingNamespaces::Create,
        )
        .await
        .map_err(cli_error)?;
        eprintln!(
            "Created API token `{}` with role {}{}. It is shown once; store it now:",
            row.name,
            row.role,
            row.expires_at
                .map(|e| format!(
                    ", expiring {}",
                    e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ))
                .unwrap_or_default()
        );
        println!("{}", secret.expose_secret());
        Ok(())
    })
    .await
}

fn openapi() -> anyhow::Result<()> {
    let doc = mcpreg_server::router::openapi();
    println!("{}", doc.to_pretty_json()?);
    Ok(())
}
