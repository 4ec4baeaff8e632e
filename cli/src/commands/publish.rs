//! `mcpreg publish FILE`.

use std::path::PathBuf;

use mcpreg_api::registry::ServerResponse;
use mcpreg_api::server_json;
use reqwest::Method;
use serde_json::Value;

use super::Rejected;
use crate::client::Client;
use crate::exit;
use crate::output::{self, Output};

/// Publish arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server.json file (`-` for standard input).
    file: PathBuf,
    /// Only validate the document locally; publish nothing.
    #[arg(long)]
    dry_run: bool,
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
    let published: ServerResponse = client
        .send(
            Method::POST,
            client.url(&["api", "v1", "publish"]),
            Some(&document),
        )
        .await?;
    let (name, version) = published.name_and_version();
    match out {
        Output::Json => output::json(&published)?,
        Output::Table => println!(
            "published {name}@{version}{}",
            if published.meta.official.is_latest {
                " (latest)"
            } else {
                ""
            }
        ),
    }
    Ok(exit::OK)
}
