//! `mcpreg import FILE` and `mcpreg import --from URL`: bring server.json documents into the
//! registry. Each document is reported accepted, unchanged or rejected with its reason; a
//! rejection never stops the import. Mirroring another registry is incremental: the next run
//! asks only for what changed since the newest `updatedAt` seen.
//!
//! Documents travel in batches (`POST /api/v1/publish/batch`, a few requests in flight), each
//! document accepted or refused on its own; a registry without the batch endpoint (404/405) gets
//! them one by one, as before it existed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use mcpreg_api::Problem;
use mcpreg_api::admin::StatusChange;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::publish::{MAX_PUBLISH_BATCH, PublishBatch, PublishBatchItem, PublishOutcome};
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

/// Most documents one batch request carries.
const BATCH_DOCUMENTS: usize = 200;
/// Most bytes of documents one batch request carries (the registry's default body limit is
/// 1 MiB; a batch it still finds too large is split).
const BATCH_BYTES: usize = 512 * 1024;
const _: () = assert!(BATCH_DOCUMENTS <= MAX_PUBLISH_BATCH);
/// Batch requests in flight at once.
const BATCHES_IN_FLIGHT: usize = 3;

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
        let publisher = Publisher::new(client);
        let mut batches = futures::stream::iter(batches(documents))
            .map(|batch| publisher.publish(batch))
            .buffered(BATCHES_IN_FLIGHT);
        while let Some(outcomes) = batches.next().await {
            for (i, outcome) in outcomes? {
                note(&progress, &mut report, outcome, &format!("document {i}"));
            }
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

/// Splits documents into batches of at most [`BATCH_DOCUMENTS`] documents and about
/// [`BATCH_BYTES`], each document with its place in the file.
fn batches(documents: Vec<Value>) -> Vec<Vec<(usize, Value)>> {
    let mut batches = Vec::new();
    let mut batch = Vec::new();
    let mut bytes = 0;
    for (i, document) in documents.into_iter().enumerate() {
        let size = serde_json::to_vec(&document).map_or(0, |b| b.len());
        if !batch.is_empty() && (batch.len() == BATCH_DOCUMENTS || bytes + size > BATCH_BYTES) {
            batches.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        bytes += size;
        batch.push((i, document));
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

/// Publishes documents through the batch endpoint, or one by one to a registry without it.
struct Publisher<'a> {
    client: &'a Client,
    /// Cleared when the registry answers the batch endpoint with 404 or 405.
    batches: AtomicBool,
}

impl<'a> Publisher<'a> {
    fn new(client: &'a Client) -> Self {
        Self {
            client,
            batches: AtomicBool::new(true),
        }
    }

    /// Each document's outcome, in the order given.
    async fn publish(
        &self,
        documents: Vec<(usize, Value)>,
    ) -> anyhow::Result<Vec<(usize, Outcome)>> {
        let mut pending = vec![documents];
        let mut outcomes = Vec::new();
        // Depth first, so that the outcomes keep the documents' order.
        while let Some(mut documents) = pending.pop() {
            if !self.batches.load(Ordering::Relaxed) || documents.len() == 1 {
                for (i, document) in documents {
                    outcomes.push((i, publish_one(self.client, document).await?));
                }
                continue;
            }
            let batch = PublishBatch {
                documents: documents.iter().map(|(_, d)| d.clone()).collect(),
            };
            match self.client.publish_batch(&batch).await {
                Ok(answer) => {
                    if answer.results.len() != documents.len() {
                        anyhow::bail!(
                            "the registry answered a batch of {} documents with {} results",
                            documents.len(),
                            answer.results.len()
                        );
                    }
                    for ((i, document), item) in documents.iter().zip(answer.results) {
                        outcomes.push((*i, batch_outcome(self.client, document, item)?));
                    }
                }
                Err(ClientError::Api(f))
                    if f.status == StatusCode::NOT_FOUND
                        || f.status == StatusCode::METHOD_NOT_ALLOWED =>
                {
                    // An older registry: one by one, as it expects.
                    self.batches.store(false, Ordering::Relaxed);
                    pending.push(documents);
                }
                Err(ClientError::Api(f)) if f.status == StatusCode::PAYLOAD_TOO_LARGE => {
                    let second = documents.split_off(documents.len() / 2);
                    pending.push(second);
                    pending.push(documents);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(outcomes)
    }
}

/// A document's name and version as its outcome reports them.
fn outcome_for(document: &Value, result: &'static str, reason: Option<String>) -> Outcome {
    let field = |key| {
        document
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Outcome {
        name: field("name"),
        version: field("version"),
        result,
        reason,
    }
}

/// A refusal as the reason an import reports: the detail, then each problem with its place.
fn reason(problem: &Problem) -> String {
    let mut reason = problem.detail.clone();
    for issue in &problem.errors {
        reason.push_str(&format!("; {}: {}", issue.location, issue.message));
    }
    reason
}

/// Whether a refusal is the document's own (reported, the import goes on), rather than the
/// credentials' or the registry's (which stop the whole import).
fn is_documents_own(status: StatusCode) -> bool {
    status.is_client_error()
        && status != StatusCode::UNAUTHORIZED
        && status != StatusCode::FORBIDDEN
}

/// Publishes one document through `POST /api/v1/publish`.
async fn publish_one(client: &Client, document: Value) -> anyhow::Result<Outcome> {
    Ok(match client.publish_server_json(&document).await {
        Ok(_) => outcome_for(&document, "accepted", None),
        Err(ClientError::Api(f)) if ProblemCode::VersionExists == f.problem.code.as_str() => {
            outcome_for(&document, "unchanged", None)
        }
        // Credentials stop the whole import; any other refusal is this document's.
        Err(ClientError::Api(f)) if is_documents_own(f.status) => {
            outcome_for(&document, "rejected", Some(reason(&f.problem)))
        }
        Err(e) => return Err(e.into()),
    })
}

/// One document's result in a batch answer, read as [`publish_one`] reads the single answer.
fn batch_outcome(
    client: &Client,
    document: &Value,
    item: PublishBatchItem,
) -> anyhow::Result<Outcome> {
    let problem = match (item.result, item.problem) {
        (PublishOutcome::Published, _) => return Ok(outcome_for(document, "accepted", None)),
        (PublishOutcome::Exists, _) => return Ok(outcome_for(document, "unchanged", None)),
        (PublishOutcome::Refused, Some(problem)) => problem,
        (PublishOutcome::Refused, None) => anyhow::bail!(
            "the registry refused document {} of a batch without saying why",
            item.index
        ),
    };
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if is_documents_own(status) {
        return Ok(outcome_for(document, "rejected", Some(reason(&problem))));
    }
    // As the single publish's answer would have: credentials stop the whole import.
    Err(client.batch_refusal(problem).into())
}

/// After a mirrored document was published (or found published), gives it the source's status.
async fn mirror_status(
    client: &Client,
    outcome: &Outcome,
    upstream: &ServerResponse,
) -> anyhow::Result<()> {
    let status = upstream.meta.official.status;
    // A new version is active already; an existing one follows the source's status.
    if outcome.result == "unchanged" || status != Status::Active {
        let change = StatusChange {
            status,
            status_message: upstream.meta.official.status_message.clone(),
        };
        client
            .set_version_status(&outcome.name, &outcome.version, &change)
            .await?;
    }
    Ok(())
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
    let publisher = Publisher::new(client);
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
        let documents = page
            .servers
            .iter()
            .enumerate()
            .map(|(i, item)| (i, item.server_value()))
            .collect();
        let outcomes = publisher.publish(documents).await?;
        for (i, outcome) in outcomes {
            let item = &page.servers[i];
            newest = newest.max(Some(item.meta.official.updated_at));
            mirror_status(client, &outcome, item).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_200_documents_and_about_512_kib_in_file_order() {
        let small: Vec<Value> = (0..450).map(|i| serde_json::json!({"n": i})).collect();
        let sizes: Vec<usize> = batches(small).iter().map(Vec::len).collect();
        assert_eq!(sizes, [200, 200, 50]);
        let big = serde_json::json!({"description": "x".repeat(100 * 1024)});
        let split = batches(vec![big; 11]);
        assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 1]);
        let order: Vec<usize> = split.iter().flatten().map(|(i, _)| *i).collect();
        assert_eq!(order, (0..11).collect::<Vec<_>>());
        // A document larger than a batch still travels, alone.
        let huge = serde_json::json!({"description": "x".repeat(600 * 1024)});
        assert_eq!(batches(vec![huge.clone(), huge]).len(), 2);
    }
}
