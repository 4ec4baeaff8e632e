//! `mcpreg check [--config FILE]… [--allowlist NAME | --allowlist-file FILE --key FILE]`: the
//! MCP servers configured on this machine (VS Code, Claude Desktop, Cursor) against a verified
//! allowlist.
//!
//! The allowlist is the one `mcpreg allowlist pull` stored, verified again (signature with the
//! pinned keys, expiry), or a signed allowlist file verified with `--key`. Every configured server
//! gets one row: allowed, or why not (unknown, wrong version, unpinned, remote not allowed, local,
//! digest mismatch). Exit code 0 only when every server is allowed; 7 when any is not, or when the
//! allowlist cannot be trusted.

use std::path::PathBuf;

use anyhow::Context as _;
use mcpreg_api::allowlist::AllowlistDocument;
use mcpreg_client::Client;
use mcpreg_trust::{check_fresh, check_subject, verify_allowlist_json};
use serde::Serialize;

use super::Rejected;
use super::allowlist::{Untrusted, check_name, denied, load_verified, read_keys, stored_names};
use crate::exit;
use crate::mcp_config::{self, ConfiguredServer, Verdict};
use crate::output::{self, Output};

/// `check` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An MCP client configuration file to check (VS Code `mcp.json` or `settings.json`, Claude
    /// Desktop `claude_desktop_config.json`, Cursor `mcp.json`); repeatable. Default: the usual
    /// places of each client, for this workspace and this user.
    #[arg(long = "config", value_name = "FILE")]
    configs: Vec<PathBuf>,
    /// The stored allowlist to check against (default: the only one stored for this registry).
    #[arg(long, value_name = "NAME")]
    allowlist: Option<String>,
    /// Check against this signed allowlist file instead of a stored one (offline; needs --key).
    #[arg(long, value_name = "FILE", requires = "keys")]
    allowlist_file: Option<PathBuf>,
    /// A public key the --allowlist-file must be signed by (PEM `PUBLIC KEY` or base64 of the raw
    /// Ed25519 key); repeatable.
    #[arg(long = "key", value_name = "FILE", requires = "allowlist_file")]
    keys: Vec<PathBuf>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    client: String,
    file: String,
    name: String,
    runs: String,
    result: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<String>,
    why: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AllowlistRef<'a> {
    name: &'a str,
    registry: &'a str,
    version: u64,
    expires_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    allowlist: AllowlistRef<'a>,
    allowed: bool,
    servers: Vec<Row>,
}

/// Runs `check`.
pub async fn run(client: &Client, out: Output, args: Args) -> anyhow::Result<u8> {
    let doc = match allowlist(client, &args) {
        Ok(doc) => doc,
        Err(e) => return denied(e),
    };
    let servers = configured_servers(&args)?;
    let rows: Vec<Row> = servers
        .iter()
        .map(|s| {
            let f = mcp_config::check(s, &doc);
            Row {
                client: s.client.to_string(),
                file: s.file.display().to_string(),
                name: s.name.clone(),
                runs: mcp_config::describe(s),
                result: f.verdict,
                entry: f.entry,
                why: f.why,
            }
        })
        .collect();
    let refused = rows.iter().filter(|r| r.result != Verdict::Allowed).count();
    let report = Report {
        allowlist: AllowlistRef {
            name: &doc.allowlist,
            registry: &doc.registry,
            version: doc.version,
            expires_at: doc.expires_at.to_rfc3339(),
        },
        allowed: refused == 0,
        servers: rows,
    };
    match out {
        Output::Json => output::json(&report)?,
        Output::Table => output::table(
            &["client", "file", "name", "runs", "result", "why"],
            report
                .servers
                .iter()
                .map(|r| {
                    vec![
                        r.client.clone(),
                        r.file.clone(),
                        r.name.clone(),
                        r.runs.clone(),
                        r.result.as_str().to_owned(),
                        r.why.clone(),
                    ]
                })
                .collect(),
        ),
    }
    let total = report.servers.len();
    if refused == 0 {
        eprintln!(
            "mcpreg: {total} configured MCP server{} allowed by allowlist `{}` version {}",
            if total == 1 { " is" } else { "s are" },
            doc.allowlist,
            doc.version
        );
        Ok(exit::OK)
    } else {
        eprintln!(
            "mcpreg: {refused} of {total} configured MCP servers {} not allowed by allowlist `{}` version {}",
            if refused == 1 { "is" } else { "are" },
            doc.allowlist,
            doc.version
        );
        Ok(exit::DENIED)
    }
}

/// The allowlist to check against, verified.
fn allowlist(client: &Client, args: &Args) -> anyhow::Result<AllowlistDocument> {
    if let Some(file) = &args.allowlist_file {
        let trusted = read_keys(&args.keys)?;
        let body =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let doc = verify_allowlist_json(&body, &trusted)
            .with_context(|| format!("the allowlist file {}", file.display()))?;
        if let Some(name) = &args.allowlist {
            check_name(name)?;
            check_subject(&doc, name, None)?;
        }
        // A file has no history on this machine: no rollback check, but the expiry holds.
        check_fresh(&doc, None, chrono::Utc::now())?;
        return Ok(doc);
    }
    let registry = client.registry_key();
    let name = match &args.allowlist {
        Some(name) => name.clone(),
        None => {
            let names = stored_names(registry)?;
            match names.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(Untrusted(format!(
                        "no allowlist is stored for {registry}: run `mcpreg allowlist pull NAME` (or check against a file with --allowlist-file FILE --key FILE)"
                    ))
                    .into());
                }
                several => {
                    return Err(Rejected(format!(
                        "several allowlists are stored for {registry} ({}): say which with --allowlist NAME",
                        several.join(", ")
                    ))
                    .into());
                }
            }
        }
    };
    load_verified(registry, &name)
}

/// The servers of the given configuration files, or of those found in the usual places.
fn configured_servers(args: &Args) -> anyhow::Result<Vec<ConfiguredServer>> {
    let mut servers = Vec::new();
    if !args.configs.is_empty() {
        for file in &args.configs {
            servers.extend(mcp_config::read_config(file, None)?);
        }
        return Ok(servers);
    }
    let cwd = std::env::current_dir().context("cannot tell the current directory")?;
    let candidates = mcp_config::default_config_files(&cwd);
    let mut found = 0;
    for (client, file) in &candidates {
        if !file.is_file() {
            continue;
        }
        found += 1;
        servers.extend(mcp_config::read_config(file, Some(*client))?);
    }
    if found == 0 {
        eprintln!(
            "mcpreg: found no MCP client configuration (looked for {}); give one with --config FILE",
            candidates
                .iter()
                .map(|(_, f)| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(servers)
}
