//! `mcpreg`: the command line for the mcpreg registry — for admins who curate, CI that
//! publishes, and developers who look up what is approved.

mod bundles;
mod capture;
mod ci;
mod commands;
mod credentials;
mod mcp_config;
mod output;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use mcpreg_client::{Client, ClientError};
use reqwest::StatusCode;

use crate::output::Output;

/// Exit codes a script can rely on.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Failure: the registry could not be reached, or failed.
    pub const FAILURE: u8 = 1;
    /// Wrong usage (clap's own code).
    pub const USAGE: u8 = 2;
    /// The registry refused the input (invalid document, conflict); for `import`, some documents were rejected.
    pub const REJECTED: u8 = 3;
    /// What was asked for does not exist.
    pub const NOT_FOUND: u8 = 4;
    /// Missing, bad or insufficient credentials.
    pub const AUTH: u8 = 5;
    /// `verify`: a signature, digest or artifact did not verify.
    pub const VERIFY_FAILED: u8 = 6;
    /// `check`, `allowlist`, `policy test`: something is not allowed by policy (or the allowlist could not be trusted).
    pub const DENIED: u8 = 7;
}

/// mcpreg: curate, publish and look up approved MCP servers.
#[derive(Debug, Parser)]
#[command(name = "mcpreg", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// The registry's URL.
    #[arg(
        long,
        env = "MCPREG_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    url: String,
    /// A registry API token (needed to write).
    #[arg(long, env = "MCPREG_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// How to print results.
    #[arg(long, short, value_enum, default_value_t = Output::Table, global = true)]
    output: Output,
    /// Seconds to wait for each answer from the registry.
    #[arg(long, default_value_t = 30, global = true)]
    timeout: u64,
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 ok, 1 failure, 2 usage, 3 rejected by the registry, 4 not found, 5 credentials missing or insufficient, 6 verification failed (`verify`), 7 not allowed by policy (`check`, `allowlist`, `policy test`).";

#[derive(Debug, Subcommand)]
enum Command {
    /// Look up servers and their versions.
    Server {
        #[command(subcommand)]
        command: commands::server::ServerCommand,
    },
    /// Publish a version from a server.json file.
    Publish(commands::publish::Args),
    /// Show or change the status (active, deprecated, deleted) of a server or version.
    Status(commands::status::Args),
    /// Import server.json documents from a file, or mirror another registry.
    Import(commands::import::Args),
    /// List or create namespaces.
    Namespace {
        #[command(subcommand)]
        command: commands::namespace::NamespaceCommand,
    },
    /// Sign in with the company's identity provider (OAuth device flow).
    Login(commands::auth::LoginArgs),
    /// Forget the stored sign-in for this registry.
    Logout,
    /// Show who the registry takes you for: subject, roles, groups, expiry.
    Whoami,
    /// Manage registry API tokens for robot accounts.
    Token {
        #[command(subcommand)]
        command: commands::token::TokenCommand,
    },
    /// Manage the CI workflows trusted to publish a namespace.
    TrustedPublisher {
        #[command(subcommand)]
        command: commands::trusted_publisher::TrustedPublisherCommand,
    },
    /// Make a key-based signature over a file (offline).
    Sign(commands::sign::Args),
    /// Write a server.json in RFC 8785 canonical form: what a signature over it must sign (offline).
    Canonicalize(commands::canonicalize::Args),
    /// Verify a version on this machine: its signatures, digests and, with --artifact, a file.
    Verify(commands::verify::Args),
    /// Attach or list the signatures of a published version.
    Signature {
        #[command(subcommand)]
        command: commands::signature::SignatureCommand,
    },
    /// Manage the signers (identities, keys) whose signatures a namespace accepts.
    TrustedSigner {
        #[command(subcommand)]
        command: commands::trusted_signer::TrustedSignerCommand,
    },
    /// Sigstore tools: verify a bundle offline (sigstore-conformance protocol).
    Sigstore {
        #[command(subcommand)]
        command: commands::sigstore::SigstoreCommand,
    },
    /// Capture a live MCP server's tool manifest, or compare it with its pin (drift).
    Tools {
        #[command(subcommand)]
        command: commands::tools::ToolsCommand,
    },
    /// Scan a tool manifest with the built-in scanner (SARIF on stdout; exit 3 at medium or above).
    Scan(commands::scan::Args),
    /// Read the audit trail, and verify its hash chain (exit 6 if it was edited).
    Audit {
        #[command(subcommand)]
        command: commands::audit::AuditCommand,
    },
    /// Review versions: list the queue, show, approve, reject, revoke.
    Review {
        #[command(subcommand)]
        command: commands::review::ReviewCommand,
    },
    /// Upload, show or export the scan reports stored with a version.
    Scans {
        #[command(subcommand)]
        command: commands::scans::ScansCommand,
    },
    /// Fetch and verify signed allowlists (what policy lets an audience use).
    Allowlist {
        #[command(subcommand)]
        command: commands::allowlist::AllowlistCommand,
    },
    /// Apply, show or preview the access policy, and test its decisions (exit 7 when denied).
    Policy {
        #[command(subcommand)]
        command: commands::policy::PolicyCommand,
    },
    /// Check this machine's MCP client configurations against an allowlist (exit 7 if anything is not allowed).
    Check(commands::check::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mcpreg: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// `mcpreg … | head` closes stdout early; `println!` then panics. That is not a failure of the
/// command: exit quietly with 141 (128 + SIGPIPE), as a program killed by SIGPIPE would.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    let anonymous = Client::new(&cli.url, None, Duration::from_secs(cli.timeout))?;
    match cli.command {
        Command::Login(args) => return commands::auth::login(&anonymous, args).await,
        Command::Logout => return commands::auth::logout(&anonymous),
        // Offline: no registry, no credentials.
        Command::Sign(args) => return commands::sign::run(args),
        Command::Canonicalize(args) => return commands::canonicalize::run(args),
        Command::Sigstore { command } => return commands::sigstore::run(cli.output, command),
        Command::Scan(args) => return commands::scan::run(cli.output, args),
        // Offline: reads the allowlist stored by `allowlist pull` (or a file) and local configs.
        Command::Check(args) => return commands::check::run(&anonymous, cli.output, args).await,
        // Talks to MCP servers; to the registry only for `tools diff NAME@VERSION`, with
        // --token / MCPREG_TOKEN when given (no stored sign-in, no refresh).
        Command::Tools { command } if !command.needs_credentials() => {
            let client = match cli.token.filter(|t| !t.is_empty()) {
                Some(t) => anonymous.with_token(t),
                None => anonymous,
            };
            return commands::tools::run(&client, cli.output, command).await;
        }
        _ => {}
    }
    // Credentials: --token / MCPREG_TOKEN, else the stored sign-in (refreshed when expired).
    let token = match cli.token.filter(|t| !t.is_empty()) {
        Some(t) => Some(t),
        None => credentials::access_token(anonymous.registry_key(), anonymous.http()).await?,
    };
    let client = match token {
        Some(t) => anonymous.with_token(t),
        None => anonymous,
    };
    match cli.command {
        Command::Login(_)
        | Command::Logout
        | Command::Sign(_)
        | Command::Canonicalize(_)
        | Command::Sigstore { .. }
        | Command::Scan(_)
        | Command::Check(_) => Ok(exit::OK),
        Command::Tools { command } => commands::tools::run(&client, cli.output, command).await,
        Command::Server { command } => commands::server::run(&client, cli.output, command).await,
        Command::Publish(args) => commands::publish::run(&client, cli.output, args).await,
        Command::Status(args) => commands::status::run(&client, cli.output, args).await,
        Command::Import(args) => commands::import::run(&client, cli.output, args).await,
        Command::Namespace { command } => {
            commands::namespace::run(&client, cli.output, command).await
        }
        Command::Whoami => commands::auth::whoami(&client, cli.output).await,
        Command::Token { command } => commands::token::run(&client, cli.output, command).await,
        Command::TrustedPublisher { command } => {
            commands::trusted_publisher::run(&client, cli.output, command).await
        }
        Command::Verify(args) => commands::verify::run(&client, cli.output, args).await,
        Command::Signature { command } => {
            commands::signature::run(&client, cli.output, command).await
        }
        Command::TrustedSigner { command } => {
            commands::trusted_signer::run(&client, cli.output, command).await
        }
        Command::Scans { command } => commands::scans::run(&client, cli.output, command).await,
        Command::Review { command } => commands::review::run(&client, cli.output, command).await,
        Command::Audit { command } => commands::audit::run(&client, cli.output, command).await,
        Command::Allowlist { command } => {
            commands::allowlist::run(&client, cli.output, command).await
        }

        Command::Policy { command } => commands::policy::run(&client, cli.output, command).await,
    }
}

/// The exit code for an error.
fn exit_code(e: &anyhow::Error) -> u8 {
    match e
        .downcast_ref::<ClientError>()
        .and_then(ClientError::api_failure)
    {
        Some(f) => status_exit_code(f.status),
        None if e.downcast_ref::<commands::Rejected>().is_some() => exit::REJECTED,
        None => exit::FAILURE,
    }
}

/// The exit code for an HTTP status the registry answered with.
pub fn status_exit_code(status: StatusCode) -> u8 {
    match status {
        StatusCode::NOT_FOUND => exit::NOT_FOUND,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => exit::AUTH,
        s if s.is_client_error() => exit::REJECTED,
        _ => exit::FAILURE,
    }
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
    fn exit_codes_follow_statuses() {
        assert_eq!(status_exit_code(StatusCode::NOT_FOUND), exit::NOT_FOUND);
        assert_eq!(status_exit_code(StatusCode::FORBIDDEN), exit::AUTH);
        assert_eq!(status_exit_code(StatusCode::CONFLICT), exit::REJECTED);
        assert_eq!(
            status_exit_code(StatusCode::UNPROCESSABLE_ENTITY),
            exit::REJECTED
        );
        assert_eq!(status_exit_code(StatusCode::BAD_GATEWAY), exit::FAILURE);
    }

    #[test]
    fn the_client_s_refusals_keep_their_exit_codes_through_context() {
        let url = reqwest::Url::parse("http://registry.test/api/v1/whoami").expect("valid");
        let refusal = |status| {
            anyhow::Error::from(ClientError::from(mcpreg_client::ApiFailure::decode(
                status,
                url.clone(),
                b"",
            )))
        };
        assert_eq!(exit_code(&refusal(StatusCode::NOT_FOUND)), exit::NOT_FOUND);
        assert_eq!(
            exit_code(&refusal(StatusCode::UNAUTHORIZED).context("while signing in")),
            exit::AUTH
        );
        assert_eq!(exit_code(&refusal(StatusCode::CONFLICT)), exit::REJECTED);
        let unreachable = ClientError::Unreachable {
            base: url.clone(),
            cause: "connection refused".into(),
        };
        assert_eq!(exit_code(&unreachable.into()), exit::FAILURE);
        assert_eq!(
            exit_code(&commands::Rejected("bad input".into()).into()),
            exit::REJECTED
        );
    }
}
