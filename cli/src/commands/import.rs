//! `mcpreg import FILE` and `mcpreg import --from URL`: bring server.json documents into the
//! registry. Each document is reported accepted, unchanged or rejected with its reason; a
//! rejection never stops the import. Mirroring another registry is incremental: the next run
//! asks only for what changed since the newest `updatedAt` seen.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use mcpreg_api::admin::StatusChange;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::registry::{ServerResponse, Status};
use mcpreg_client::{Client, ClientError, ServerListQuery};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Rejected;
use crate::exit;
use crate::output::{self, Output};

/// Import arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A JSON file holding an array of server.json documents (or a `/v0.1/servers` list response).
    #[arg(required_unless_present = "from", conflicts_with = "from")]
    file: Option<PathBuf>,
    /// Mirror another registry: walk its `/v0.1/servers` by cursor.
    #[arg(long)]
    from: Option<Url>,
    /// Where the mirror remembers how far it got (default: the user's state directory).
    #[arg(long, requires = "from")]
    state: Option<PathBuf>,
    /// Ignore the remembered position and walk the whole source registry.
    #[arg(long, requires = "from")]
    full: bool,
}

/// What happened to one document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Outcome {
    name: String,
    version: String,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The whole import.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    accepted: usize,
    unchanged: usize,
    rejected: usize,
    documents: Vec<Outcome>,
}

/// How far a mirror got.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MirrorState {
    source: String,
    updated_since: DateTime<Utc>,
}

/// Runs `import`.
pub async fn run(client: &Client, out: Output, args: Args) -> anyhow::Result<u8> {
    let mut report = Report::default();
    if let Some(file) = &args.file {
        let documents = read_documents(file)?;
        let progress = progress_bar(Some(documents.len() as u64));
        for (i, document) in documents.into_iter().enumerate() {
            let outcome = import_one(client, document, None).await?;
            note(&progress, &mut report, outcome, &format!("document {i}"));
        }
        progress.finish_and_clear();
    } else if let Some(source) = &args.from {
        mirror(client, source, &args, &mut report).await?;
    }
    eprintln!(
        "import finished: {} accepted, {} unchanged, {} rejected",
        report.accepted, report.unchanged, report.rejected
    );
    match out {
        Output::Json => output::json(&report)?,
        Output::Table => {
            let rejected: Vec<_> = report
                .documents
                .iter()
                .filter(|d| d.result == "rejected")
                .map(|d| {
                    vec![
                        d.name.clone(),
                        d.version.clone(),
                        d.reason.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            if !rejected.is_empty() {
                output::table(&["REJECTED", "VERSION", "REASON"], rejected);
            }
        }
    }
    Ok(if report.rejected > 0 {
        exit::REJECTED
    } else {
        exit::OK
    })
}

fn progress_bar(len: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match len {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {pos} documents {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    }
}

fn note(progress: &ProgressBar, report: &mut Report, outcome: Outcome, label: &str) {
    match outcome.result {
        "accepted" => report.accepted += 1,
        "unchanged" => report.unchanged += 1,
        _ => {
            report.rejected += 1;
            let who = if outcome.name.is_empty() {
                label.to_owned()
            } else {
                format!("{}@{}", outcome.name, outcome.version)
            };
            progress.suspend(|| {
                eprintln!(
                    "rejected {who}: {}",
                    outcome.reason.as_deref().unwrap_or("")
                );
            });
        }
    }
    progress.inc(1);
    report.documents.push(outcome);
}

/// Reads an array of server.json documents, or a list response whose items carry `server`.
fn read_documents(path: &Path) -> anyhow::Result<Vec<Value>> {
    let value = super::publish::read_json(path)?;
    match value {
        Value::Array(items) => Ok(items),
        Value::Object(mut o) if o.get("servers").is_some_and(Value::is_array) => Ok(o
            .remove("servers")
            .and_then(|s| s.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .map(|mut item| item.get_mut("server").map(Value::take).unwrap_or(item))
            .collect()),
        _ => Err(Rejected(format!(
            "{} must hold a JSON array of server.json documents (or a /v0.1/servers list response)",
            path.display()
        ))
        .into()),
    }
}

/// Publishes one document; when it came from a mirror, also mirrors its status.
async fn import_one(
    client: &Client,
    document: Value,
    upstream: Option<&ServerResponse>,
) -> anyhow::Result<Outcome> {
    let name = document
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let version = document
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let outcome = |result, reason| Outcome {
        name: name.clone(),
        version: version.clone(),
        result,
        reason,
    };
    let result = match client.publish_server_json(&document).await {
        Ok(_) => outcome("accepted", None),
        Err(ClientError::Api(f)) if ProblemCode::VersionExists == f.problem.code.as_str() => {
            outcome("unchanged", None)
        }
        // Credentials stop the whole import; any other refusal is this document's.
        Err(ClientError::Api(f))
            if f.status.is_client_error()
                && f.status != StatusCode::UNAUTHORIZED
                && f.status != StatusCode::FORBIDDEN =>
        {
            let mut reason = f.problem.detail.clone();
            for issue in &f.problem.errors {
                reason.push_str(&format!("; {}: {}", issue.location, issue.message));
            }
            outcome("rejected", Some(reason))
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(upstream) = upstream {
        let status = upstream.meta.official.status;
        // A new version is active already; an existing one follows the source's status.
        if result.result == "unchanged" || status != Status::Active {
            let change = StatusChange {
                status,
                status_message: upstream.meta.official.status_message.clone(),
            };
            client.set_version_status(&name, &version, &change).await?;
        }
    }
    Ok(result)
}

fn default_state_path(source: &Url) -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state")))
        .ok_or_else(|| {
            anyhow::anyhow!("cannot find a state directory: set --state, HOME or XDG_STATE_HOME")
        })?;
    let key: String = source
        .as_str()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Ok(base
        .join("mcpreg")
        .join("mirror")
        .join(format!("{key}.json")))
}

async fn mirror(
    client: &Client,
    source: &Url,
    args: &Args,
    report: &mut Report,
) -> anyhow::Result<()> {
    let state_path = match &args.state {
        Some(p) => p.clone(),
        None => default_state_path(source)?,
    };
    let since = if args.full {
        None
    } else {
        std::fs::read_to_string(&state_path)
            .ok()
            .and_then(|t| serde_json::from_str::<MirrorState>(&t).ok())
            .filter(|s| s.source == source.as_str())
            .map(|s| s.updated_since)
    };
    if let Some(t) = since {
        eprintln!("mirroring changes since {} from {source}", t.to_rfc3339());
    }
    let upstream = Client::new(source.as_str(), None, std::time::Duration::from_secs(60))?;
    let progress = progress_bar(None);
    let mut newest = since;
    let mut cursor: Option<String> = None;
    loop {
        let page = upstream
            .servers(
                &ServerListQuery::default()
                    .limit(100)
                    .updated_since(since)
                    .cursor(cursor.take()),
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot read {source}: {:#}", anyhow::Error::from(e)))?;
        for item in &page.servers {
            newest = newest.max(Some(item.meta.official.updated_at));
            let document = item.server_value();
            let outcome = import_one(client, document, Some(item)).await?;
            note(&progress, report, outcome, "document");
        }
        cursor = page.metadata.next_cursor.filter(|c| !c.is_empty());
        if cursor.is_none() || page.servers.is_empty() {
            break;
        }
    }
    progress.finish_and_clear();
    if let Some(updated_since) = newest {
        if let Some(dir) = state_path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let state = MirrorState {
            source: source.to_string(),
            updated_since,
        };
        std::fs::write(&state_path, serde_json::to_vec_pretty(&state)?).map_err(|e| {
            anyhow::anyhow!(
                "cannot save the mirror position to {}: {e}",
                state_path.display()
            )
        })?;
    }
    Ok(())
}
