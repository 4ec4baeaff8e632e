//! `mcpreg namespace list|create`.

use clap::Subcommand;
use mcpreg_api::NamespaceName;
use mcpreg_api::admin::NewNamespace;
use mcpreg_client::Client;

use crate::exit;
use crate::output::{self, Output};

/// Namespace subcommands.
#[derive(Debug, Subcommand)]
pub enum NamespaceCommand {
    /// List namespaces.
    List,
    /// Create a namespace.
    Create {
        /// The namespace, e.g. `com.acme`.
        #[arg(value_parser = |s: &str| NamespaceName::parse(s).map_err(|e| e.to_string()))]
        name: NamespaceName,
        /// What it is for.
        #[arg(long)]
        description: Option<String>,
    },
}

/// Runs a namespace subcommand.
pub async fn run(client: &Client, out: Output, command: NamespaceCommand) -> anyhow::Result<u8> {
    let namespaces = match command {
        NamespaceCommand::List => client.namespaces().await?.namespaces,
        NamespaceCommand::Create { name, description } => {
            let created = client
                .create_namespace(&NewNamespace { name, description })
                .await?;
            vec![created]
        }
    };
    match out {
        Output::Json => output::json(&namespaces)?,
        Output::Table => output::table(
            &["NAMESPACE", "SERVERS", "CREATED", "BY", "DESCRIPTION"],
            namespaces
                .into_iter()
                .map(|n| {
                    vec![
                        n.name.to_string(),
                        n.server_count.to_string(),
                        n.created_at.format("%Y-%m-%d").to_string(),
                        n.created_by,
                        n.description.unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
    }
    Ok(exit::OK)
}
