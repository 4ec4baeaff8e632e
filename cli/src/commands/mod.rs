//! One module per subcommand.

pub mod import;
pub mod namespace;
pub mod publish;
pub mod server;
pub mod status;

use mcpreg_api::admin::Caller;

use crate::client::Client;
use crate::exit;
use crate::output::{self, Output};

/// Input refused before it reached the registry (local validation); exits with code 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

/// `mcpreg whoami`.
pub async fn whoami(client: &Client, out: Output) -> anyhow::Result<u8> {
    let me: Caller = client.get(client.url(&["api", "v1", "whoami"])).await?;
    match out {
        Output::Json => output::json(&me)?,
        Output::Table => output::table(
            &["NAME", "ROLE", "EXPIRES"],
            vec![vec![
                me.name,
                me.role.to_string(),
                me.expires_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "never".into()),
            ]],
        ),
    }
    Ok(exit::OK)
}

/// Splits `NAME@VERSION`.
pub fn split_name_version(s: &str) -> (&str, Option<&str>) {
    match s.rsplit_once('@') {
        Some((name, version)) if !version.is_empty() => (name, Some(version)),
        _ => (s, None),
    }
}
