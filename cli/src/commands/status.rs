//! `mcpreg status NAME[@VERSION] [--set STATUS [--message M]]`.

use mcpreg_api::admin::StatusChange;
use mcpreg_api::registry::Status;
use mcpreg_client::Client;

use crate::exit;
use crate::output::{self, Output};

/// Status arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server (`com.acme/github`), or one version (`com.acme/github@1.2.0`).
    target: String,
    /// The new status; without it, the current status is shown.
    #[arg(long, value_parser = parse_status)]
    set: Option<Status>,
    /// Why (for deprecated or deleted; shown to clients).
    #[arg(long, requires = "set")]
    message: Option<String>,
}

fn parse_status(s: &str) -> Result<Status, String> {
    Status::parse(s).ok_or_else(|| format!("unknown status `{s}`: active, deprecated or deleted"))
}

/// Runs `status`.
pub async fn run(client: &Client, out: Output, args: Args) -> anyhow::Result<u8> {
    let (name, version) = super::split_name_version(&args.target);
    let Some(status) = args.set else {
        let list = client.server_versions(name, true).await?;
        let rows: Vec<_> = list
            .servers
            .iter()
            .filter(|s| version.is_none_or(|v| s.name_and_version().1 == v))
            .map(|s| {
                vec![
                    s.name_and_version().1,
                    s.meta.official.status.to_string(),
                    s.meta.official.status_message.clone().unwrap_or_default(),
                ]
            })
            .collect();
        match out {
            Output::Json => output::json(&list.servers)?,
            Output::Table => output::table(&["VERSION", "STATUS", "MESSAGE"], rows),
        }
        return Ok(exit::OK);
    };
    let change = StatusChange {
        status,
        status_message: args.message,
    };
    let result = match version {
        Some(v) => client.set_version_status(name, v, &change).await?,
        None => client.set_server_status(name, &change).await?,
    };
    match out {
        Output::Json => output::json(&result)?,
        Output::Table if result.versions.is_empty() => println!("{name}: nothing to change"),
        Output::Table => println!(
            "{name}: {} now {}",
            result.versions.join(", "),
            result.status
        ),
    }
    Ok(exit::OK)
}
