//! `mcpreg token create|list|revoke`: registry API tokens for robot accounts.

use clap::Subcommand;
use mcpreg_api::NamespaceName;
use mcpreg_api::access::NewToken;
use mcpreg_api::admin::Role;
use mcpreg_client::Client;
use serde_json::json;

use crate::exit;
use crate::output::{self, Output};

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once (`--output json` gives `{"token": …}`).
    Create {
        /// A name, unique among live tokens.
        #[arg(long)]
        name: String,
        /// admin, publisher (with --namespace), reviewer, auditor or reader.
        #[arg(long, value_parser = |s: &str| Role::parse(s).ok_or_else(|| format!("unknown role `{s}`")))]
        role: Role,
        /// For a publisher: a namespace it may publish to (repeat for several).
        #[arg(long = "namespace", value_parser = |s: &str| NamespaceName::parse(s).map_err(|e| e.to_string()))]
        namespaces: Vec<NamespaceName>,
        /// Expire after this many days.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke the live token with this name.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// Runs a token subcommand.
pub async fn run(client: &Client, out: Output, command: TokenCommand) -> anyhow::Result<u8> {
    match command {
        TokenCommand::Create {
            name,
            role,
            namespaces,
            expires_in_days,
        } => {
            let body = NewToken {
                name,
                role,
                namespaces,
                expires_in_days,
            };
            let created = client.create_token(&body).await?;
            match out {
                Output::Json => {
                    output::json(&json!({"token": created.token, "info": created.info}))?
                }
                Output::Table => {
                    eprintln!(
                        "Created token `{}` ({}). It is shown once; store it now:",
                        created.info.name, created.info.role
                    );
                    println!("{}", created.token);
                }
            }
        }
        TokenCommand::List => {
            let list = client.tokens().await?;
            match out {
                Output::Json => output::json(&list.tokens)?,
                Output::Table => output::table(
                    &[
                        "NAME",
                        "ROLE",
                        "NAMESPACES",
                        "CREATED BY",
                        "EXPIRES",
                        "STATE",
                    ],
                    list.tokens
                        .into_iter()
                        .map(|t| {
                            let state = if t.revoked_at.is_some() {
                                "revoked"
                            } else if t.expires_at.is_some_and(|e| e <= chrono::Utc::now()) {
                                "expired"
                            } else {
                                "live"
                            };
                            vec![
                                t.name,
                                t.role.to_string(),
                                t.namespaces.join(", "),
                                t.created_by,
                                t.expires_at
                                    .map(|e| e.format("%Y-%m-%d").to_string())
                                    .unwrap_or_else(|| "never".into()),
                                state.into(),
                            ]
                        })
                        .collect(),
                ),
            }
        }
        TokenCommand::Revoke { name } => {
            client.revoke_token(&name).await?;
            eprintln!("revoked token `{name}`");
        }
    }
    Ok(exit::OK)
}
