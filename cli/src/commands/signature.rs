//! `mcpreg signature attach|list`: signatures of a published version.

use std::path::PathBuf;

use clap::Subcommand;
use mcpreg_api::trust::SignatureTarget;
use mcpreg_client::Client;

use super::{Rejected, split_name_version};
use crate::bundles;
use crate::exit;
use crate::output::{self, Output};

/// Signature subcommands.
#[derive(Debug, Subcommand)]
pub enum SignatureCommand {
    /// Attach a signature to a published version (verified locally first, then by the registry
    /// against the namespace's trusted signers).
    Attach {
        /// The version: `NAME@VERSION`.
        name: String,
        /// The sigstore bundle or `mcpreg sign` key signature.
        #[arg(long, value_name = "FILE")]
        bundle: PathBuf,
        /// What it signs: `server.json` or `package:<index>` (default: found from its digest).
        #[arg(long = "for", value_name = "SUBJECT")]
        target: Option<SignatureTarget>,
        /// A `trusted_root.json` to check the bundle against (default: Sigstore's production root).
        #[arg(long, value_name = "FILE")]
        trusted_root: Option<PathBuf>,
    },
    /// List the signatures the registry verified for a version.
    List {
        /// The version: `NAME@VERSION` (or `NAME` for the latest).
        name: String,
    },
}

/// Runs a signature subcommand.
pub async fn run(client: &Client, out: Output, command: SignatureCommand) -> anyhow::Result<u8> {
    let signatures = match command {
        SignatureCommand::Attach {
            name,
            bundle,
            target,
            trusted_root,
        } => {
            let (server, Some(version)) = split_name_version(&name) else {
                return Err(
                    Rejected(format!("`{name}`: name the exact version, as NAME@VERSION")).into(),
                );
            };
            let published = client.version(server, version, true).await?;
            let subjects = bundles::subjects_of(&published.server_value())?;
            let root = bundles::trust_root(trusted_root.as_deref())?;
            let signature = bundles::check_bundle(&bundle, target, &subjects, &root, None)?;
            let info = client.attach_signature(server, version, &signature).await?;
            eprintln!("attached signature {} to {server}@{version}", info.id);
            vec![info]
        }
        SignatureCommand::List { name } => {
            let (server, version) = split_name_version(&name);
            client
                .version_trust(server, version.unwrap_or("latest"))
                .await?
                .signatures
        }
    };
    match out {
        Output::Json => output::json(&signatures)?,
        Output::Table => output::table(
            &["ID", "FOR", "SIGNER", "ISSUER", "SIGNED AT", "SUBJECT"],
            signatures
                .into_iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.target.to_string(),
                        s.identity
                            .or(s.key_id.map(|k| format!("key {k}")))
                            .unwrap_or_default(),
                        s.issuer.unwrap_or_default(),
                        s.signed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        s.subject_digest,
                    ]
                })
                .collect(),
        ),
    }
    Ok(exit::OK)
}
