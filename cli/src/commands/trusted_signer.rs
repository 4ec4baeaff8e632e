//! `mcpreg trusted-signer add|list|remove`: whose signatures a namespace accepts.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use mcpreg_api::trust::NewTrustedSigner;
use mcpreg_client::Client;

use crate::exit;
use crate::output::{self, Output};

/// Trusted-signer subcommands.
#[derive(Debug, Subcommand)]
pub enum TrustedSignerCommand {
    /// Trust a signer for a namespace (or one server of it): a keyless identity with its OIDC
    /// issuer, or a public key.
    #[command(group(
        clap::ArgGroup::new("signer").required(true).args(["identity", "identity_pattern", "key"])
    ))]
    Add {
        /// The namespace, e.g. `com.acme`.
        namespace: String,
        /// The exact certificate identity (SAN): an email address, or a CI workflow such as
        /// `https://github.com/acme/weather/.github/workflows/release.yml@refs/tags/v1.0.0`.
        #[arg(long, requires = "issuer")]
        identity: Option<String>,
        /// An anchored regular expression (`^…$`) the certificate identity must match, e.g.
        /// `^https://github\.com/acme/weather/\.github/workflows/release\.yml@refs/tags/v.*$`.
        #[arg(long, requires = "issuer")]
        identity_pattern: Option<String>,
        /// The OIDC issuer that must have vouched for the identity (GitHub Actions:
        /// `https://token.actions.githubusercontent.com`).
        #[arg(long, value_name = "URL")]
        issuer: Option<String>,
        /// A PEM public key file (ECDSA P-256 or Ed25519; `cosign.pub` works).
        #[arg(long, value_name = "PEMFILE", conflicts_with = "issuer")]
        key: Option<PathBuf>,
        /// Only this server of the namespace.
        #[arg(long)]
        server: Option<String>,
    },
    /// List a namespace's trusted signers.
    List {
        /// The namespace.
        namespace: String,
    },
    /// Stop trusting one (signatures it made stay stored).
    Remove {
        /// The namespace.
        namespace: String,
        /// Its id (from `list`).
        id: i64,
    },
}

/// Runs a trusted-signer subcommand.
pub async fn run(
    client: &Client,
    out: Output,
    command: TrustedSignerCommand,
) -> anyhow::Result<u8> {
    let signers = match command {
        TrustedSignerCommand::Add {
            namespace,
            identity,
            identity_pattern,
            issuer,
            key,
            server,
        } => {
            let public_key = key
                .map(|path| {
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))
                })
                .transpose()?;
            let body = NewTrustedSigner {
                server,
                identity,
                identity_pattern,
                issuer,
                public_key,
            };
            let created = client.add_trusted_signer(&namespace, &body).await?;
            vec![created]
        }
        TrustedSignerCommand::List { namespace } => {
            client.trusted_signers(&namespace).await?.trusted_signers
        }
        TrustedSignerCommand::Remove { namespace, id } => {
            client.remove_trusted_signer(&namespace, id).await?;
            eprintln!("removed trusted signer {id} of {namespace}");
            return Ok(exit::OK);
        }
    };
    match out {
        Output::Json => output::json(&signers)?,
        Output::Table => output::table(
            &["ID", "SERVER", "SIGNER", "ISSUER"],
            signers
                .into_iter()
                .map(|s| {
                    let signer = match (s.identity, s.identity_pattern, s.key_id) {
                        (Some(i), _, _) => i,
                        (None, Some(p), _) => format!("/{p}/"),
                        (None, None, Some(k)) => {
                            format!("{} key {k}", s.key_algorithm.unwrap_or_default())
                        }
                        _ => String::new(),
                    };
                    vec![
                        s.id.to_string(),
                        s.server.unwrap_or_else(|| format!("{}/*", s.namespace)),
                        signer,
                        s.issuer.unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
    }
    Ok(exit::OK)
}
