//! `mcpreg server list|show|versions`.

use clap::Subcommand;
use mcpreg_api::policy::ServerTags;
use mcpreg_api::registry::ServerResponse;
use mcpreg_client::{Client, ServerListQuery};

use crate::exit;
use crate::output::{self, Output};

/// Server subcommands.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// List servers (their latest versions, unless --all-versions).
    List {
        /// Only servers whose name contains this (case-insensitive).
        #[arg(long)]
        search: Option<String>,
        /// Every version, not only the latest.
        #[arg(long)]
        all_versions: bool,
        /// Include deleted versions.
        #[arg(long)]
        include_deleted: bool,
        /// Stop after this many entries (default: all).
        #[arg(long)]
        max: Option<usize>,
    },
    /// Show one version (the latest unless --version).
    Show {
        /// The server's name, e.g. `com.acme/github` (or `NAME@VERSION`).
        name: String,
        /// The version.
        #[arg(long)]
        version: Option<String>,
        /// Show it even when deleted.
        #[arg(long)]
        include_deleted: bool,
    },
    /// List every version of a server.
    Versions {
        /// The server's name.
        name: String,
        /// Include deleted versions.
        #[arg(long)]
        include_deleted: bool,
    },
    /// Show a server's tags, or replace them with `--set` (reviewers and admins).
    Tags {
        /// The server's name.
        name: String,
        /// A tag the server gets (repeatable); the others are removed.
        #[arg(long = "set", value_name = "TAG")]
        set: Vec<String>,
        /// Remove every tag.
        #[arg(long, conflicts_with = "set")]
        clear: bool,
    },
}

/// Runs a server subcommand.
pub async fn run(client: &Client, out: Output, command: ServerCommand) -> anyhow::Result<u8> {
    match command {
        ServerCommand::List {
            search,
            all_versions,
            include_deleted,
            max,
        } => {
            let mut all = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = client
                    .servers(
                        &ServerListQuery::default()
                            .limit(100)
                            .latest_only(!all_versions)
                            .include_deleted(include_deleted)
                            .search(search.clone())
                            .cursor(cursor.take()),
                    )
                    .await?;
                all.extend(page.servers);
                cursor = page.metadata.next_cursor;
                if cursor.is_none() || max.is_some_and(|m| all.len() >= m) {
                    break;
                }
            }
            if let Some(m) = max {
                all.truncate(m);
            }
            print_list(out, all)
        }
        ServerCommand::Show {
            name,
            version,
            include_deleted,
        } => {
            let (name, at_version) = super::split_name_version(&name);
            let version = version.as_deref().or(at_version).unwrap_or("latest");
            let found = client.version(name, version, include_deleted).await?;
            match out {
                Output::Json => output::json(&found)?,
                Output::Table => {
                    print_list(Output::Table, vec![found.clone()])?;
                    println!("{}", serde_json::to_string_pretty(&found.server_value())?);
                }
            }
            Ok(exit::OK)
        }
        ServerCommand::Tags { name, set, clear } => {
            let tags = if set.is_empty() && !clear {
                client.server_tags(&name).await?
            } else {
                client
                    .set_server_tags(&name, &ServerTags { tags: set })
                    .await?
            };
            match out {
                Output::Json => output::json(&tags)?,
                Output::Table => {
                    println!(
                        "{name}: {}",
                        if tags.tags.is_empty() {
                            "no tags".to_owned()
                        } else {
                            tags.tags.join(", ")
                        }
                    );
                }
            }
            Ok(exit::OK)
        }
        ServerCommand::Versions {
            name,
            include_deleted,
        } => {
            let list = client.server_versions(&name, include_deleted).await?;
            print_list(out, list.servers)
        }
    }
}

fn print_list(out: Output, servers: Vec<ServerResponse>) -> anyhow::Result<u8> {
    match out {
        Output::Json => output::json(&servers)?,
        Output::Table => {
            let rows = servers
                .iter()
                .map(|s| {
                    let (name, version) = s.name_and_version();
                    let m = &s.meta.official;
                    vec![
                        name,
                        version,
                        m.status.to_string(),
                        if m.is_latest {
                            "yes".into()
                        } else {
                            String::new()
                        },
                        m.published_at.format("%Y-%m-%d %H:%M").to_string(),
                        m.status_message.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "NAME",
                    "VERSION",
                    "STATUS",
                    "LATEST",
                    "PUBLISHED",
                    "MESSAGE",
                ],
                rows,
            );
        }
    }
    Ok(exit::OK)
}
