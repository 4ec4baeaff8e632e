//! `mcpreg publish FILE [--bundle B --for SUBJECT]… [--tools MANIFEST]`.

use std::path::PathBuf;

use mcpreg_api::server_json;
use mcpreg_api::trust::{NewSignature, PublishRequest, SignatureTarget};
use mcpreg_client::Client;
use serde_json::Value;

use super::Rejected;
use crate::bundles::{self, Subjects, SubjectsExt as _};
use crate::exit;
use crate::output::{self, Output};

/// Publish arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server.json file (`-` for standard input).
    file: PathBuf,
    /// Only validate the document (and check the bundles) locally; publish nothing.
    #[arg(long)]
    dry_run: bool,
    /// A sigstore bundle (cosign `sign-blob --bundle`, `python -m sigstore sign`, GitHub
    /// attestations) or `mcpreg sign` key signature to publish with the version; repeatable. Each
    /// is verified locally first (any signer; the registry then requires a trusted one).
    #[arg(long = "bundle", value_name = "FILE")]
    bundles: Vec<PathBuf>,
    /// What the bundle at the same position signs: `server.json` (its RFC 8785 canonical form,
    /// see `mcpreg canonicalize`) or `package:<index>` (that package's artifact). Repeat once per
    /// --bundle, or leave out to let each bundle's digest decide.
    #[arg(long = "for", value_name = "SUBJECT", requires = "bundles")]
    targets: Vec<SignatureTarget>,
    /// A `trusted_root.json` to check the bundles against (default: Sigstore's production root).
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// The version's tool manifest (`mcpreg tools capture --out FILE`): pinned with the version and
    /// scanned by the registry's built-in scanner on receipt.
    #[arg(long, value_name = "FILE")]
    tools: Option<PathBuf>,
}

/// Reads a JSON file or standard input.
pub fn read_json(path: &std::path::Path) -> anyhow::Result<Value> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
    };
    serde_json::from_str(&text)
        .map_err(|e| Rejected(format!("{} is not valid JSON: {e}", path.display())).into())
}

/// Checks every `--bundle` locally, pairing it with its `--for`.
fn local_signatures(args: &Args, subjects: &Subjects) -> anyhow::Result<Vec<NewSignature>> {
    if args.bundles.is_empty() {
        return Ok(Vec::new());
    }
    if !args.targets.is_empty() && args.targets.len() != args.bundles.len() {
        return Err(Rejected(format!(
            "{} --bundle but {} --for: give one --for per --bundle, in the same order, or none",
            args.bundles.len(),
            args.targets.len()
        ))
        .into());
    }
    let root = bundles::trust_root(args.trusted_root.as_deref())?;
    let raw = (args.file.as_os_str() != "-")
        .then(|| mcpreg_trust::file_digest(&args.file).ok())
        .flatten();
    args.bundles
        .iter()
        .enumerate()
        .map(|(i, path)| {
            bundles::check_bundle(path, args.targets.get(i).copied(), subjects, &root, raw)
        })
        .collect()
}

/// Runs `publish`.
pub async fn run(client: &Client, out: Output, args: Args) -> anyhow::Result<u8> {
    let document = read_json(&args.file)?;
    // Validate locally first: the same rules as the registry, with every problem at once.
    if let Err(issues) = server_json::validate(document.clone()) {
        let mut text = format!("{} is not a valid server.json:", args.file.display());
        for issue in &issues {
            text.push_str(&format!(
                "\n  {}: {}",
                if issue.location.is_empty() {
                    "(document)"
                } else {
                    &issue.location
                },
                issue.message
            ));
        }
        return Err(Rejected(text).into());
    }
    let subjects = bundles::subjects_of(&document)?;
    subjects.warn_unpinned();
    let signatures = local_signatures(&args, &subjects)?;
    // Checked locally too: a manifest edited after capture no longer matches its own pin.
    let tools = match &args.tools {
        Some(path) => {
            let manifest = super::tools::read_manifest(path)?;
            eprintln!(
                "{}: {} tools, tools pin {}",
                path.display(),
                manifest.tools.len(),
                manifest
                    .tools_pin
                    .as_ref()
                    .map_or("?".into(), |p| p.to_string())
            );
            Some(read_json(path)?)
        }
        None => None,
    };
    if args.dry_run {
        eprintln!("{} is valid", args.file.display());
        return Ok(exit::OK);
    }
    // In CI without a registry token, trusted publishing: exchange the pipeline's OIDC token.
    let exchanged;
    let client = if !client.has_token() && crate::ci::available() {
        let name = document
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        exchanged = crate::ci::publishing_client(client, name).await?;
        &exchanged
    } else {
        client
    };
    // Nothing to store with it: the bare server.json, as any official-API client sends it.
    let published = if signatures.is_empty() && tools.is_none() {
        client.publish_server_json(&document).await?
    } else {
        client
            .publish(&PublishRequest {
                server: document,
                signatures,
                tools,
            })
            .await?
    };
    let (name, version) = published.name_and_version();
    match out {
        Output::Json => output::json(&published)?,
        Output::Table => println!(
            "published {name}@{version}{}{}",
            if published.meta.official.is_latest {
                " (latest)"
            } else {
                ""
            },
            published
                .meta
                .tools
                .as_ref()
                .map(|t| format!(", tools pin {}", t.tools_pin))
                .unwrap_or_default()
        ),
    }
    Ok(exit::OK)
}
