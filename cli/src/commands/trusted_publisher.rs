//! `mcpreg trusted-publisher add|list|remove`: CI workflows allowed to publish without secrets.

use clap::Subcommand;
use mcpreg_api::access::NewTrustedPublisher;
use mcpreg_client::Client;

use crate::exit;
use crate::output::{self, Output};

/// Trusted-publisher subcommands.
#[derive(Debug, Subcommand)]
pub enum TrustedPublisherCommand {
    /// Trust a CI workflow to publish a namespace (or one server of it).
    Add {
        /// The namespace, e.g. `com.acme`.
        namespace: String,
        /// Only this server of the namespace.
        #[arg(long)]
        server: Option<String>,
        /// The CI's OIDC issuer.
        #[arg(long, default_value = "https://token.actions.githubusercontent.com")]
        issuer: String,
        /// `owner/name` of the repository.
        #[arg(long)]
        repository: String,
        /// Numeric id of the repository owner (GitHub: `gh api users/OWNER --jq .id`).
        #[arg(long)]
        owner_id: String,
        /// Workflow file name, e.g. `release.yml`.
        #[arg(long)]
        workflow: String,
        /// Deployment environment the job must run in.
        #[arg(long)]
        environment: Option<String>,
    },
    /// List a namespace's trusted publishers.
    List {
        /// The namespace.
        namespace: String,
    },
    /// Stop trusting one.
    Remove {
        /// The namespace.
        namespace: String,
        /// Its id (from `list`).
        id: i64,
    },
}

/// Runs a trusted-publisher subcommand.
pub async fn run(
    client: &Client,
    out: Output,
    command: TrustedPublisherCommand,
) -> anyhow::Result<u8> {
    let publishers = match command {
        TrustedPublisherCommand::Add {
            namespace,
            server,
            issuer,
            repository,
            owner_id,
            workflow,
            environment,
        } => {
            let body = NewTrustedPublisher {
                server,
                issuer,
                repository,
                repository_owner_id: owner_id,
                workflow,
                environment,
            };
            let created = client.add_trusted_publisher(&namespace, &body).await?;
            vec![created]
        }
        TrustedPublisherCommand::List { namespace } => {
            client
                .trusted_publishers(&namespace)
                .await?
                .trusted_publishers
        }
        TrustedPublisherCommand::Remove { namespace, id } => {
            client.remove_trusted_publisher(&namespace, id).await?;
            eprintln!("removed trusted publisher {id} of {namespace}");
            return Ok(exit::OK);
        }
    };
    match out {
        Output::Json => output::json(&publishers)?,
        Output::Table => output::table(
            &[
                "ID",
                "SERVER",
                "REPOSITORY",
                "OWNER ID",
                "WORKFLOW",
                "ENVIRONMENT",
                "ISSUER",
            ],
            publishers
                .into_iter()
                .map(|p| {
                    vec![
                        p.id.to_string(),
                        p.server.unwrap_or_else(|| format!("{}/*", p.namespace)),
                        p.repository,
                        p.repository_owner_id,
                        p.workflow,
                        p.environment.unwrap_or_default(),
                        p.issuer,
                    ]
                })
                .collect(),
        ),
    }
    Ok(exit::OK)
}
