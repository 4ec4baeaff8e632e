//! Tool manifests of versions: what a version's server advertises, pinned by one digest, with its
//! estimated context cost, and scanned by the built-in scanner the moment the registry receives
//! it.
//!
//! A manifest arrives with a publish (`{"server", "tools"}`) or later
//! (`PUT …/versions/{version}/tools`). It is parsed and sealed by `mcpreg-scan` (lists sorted,
//! tools pin, tool digests and context cost computed here, never taken from the sender; a stated
//! pin that does not match the content is refused), then scanned, all before any transaction
//! starts. The manifest, the built-in scan report and its findings are stored in the caller's
//! transaction, so a version never has a manifest without its scan.

use mcpreg_api::ServerName;
use mcpreg_api::problem::FieldIssue;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::tools::{ContextCost, ContextCostTotal, ToolCost, ToolsMeta, VersionTools};
use mcpreg_scan::finding::max_severity;
use mcpreg_scan::{ManifestError, ScanReport, ToolManifest, check_server_name};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use crate::db::{audit, scans as scan_db, tool_manifests as db};
use crate::error::{ApiError, ApiResult};
use crate::scans;

/// A manifest that parsed, with its built-in scan: ready to store.
#[derive(Debug)]
pub struct Prepared {
    /// The manifest as received (JSON text), kept for audit.
    received: String,
    /// The sealed manifest.
    manifest: ToolManifest,
    /// The built-in scanner's report on it.
    scan: ScanReport,
}

impl Prepared {
    /// The version's tools pin and context cost, for the official API's `_meta`.
    pub fn meta(&self) -> ToolsMeta {
        let cost = self.manifest.context_cost.as_ref();
        ToolsMeta {
            tools_pin: self.tools_pin(),
            context_cost: ContextCostTotal {
                encoding: cost.map(|c| c.encoding.clone()).unwrap_or_default(),
                total_tokens: cost.map(|c| c.total_tokens).unwrap_or_default(),
            },
        }
    }

    /// The tools pin.
    pub fn tools_pin(&self) -> String {
        self.manifest
            .tools_pin
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default()
    }
}

/// Parses a manifest sent to the registry and scans it, on the blocking pool (tokenizing for
/// the context cost and the scanner's checks take milliseconds). `at` prefixes the location of
/// problems (`tools` inside a publish request, empty for a body of its own). The names of the
/// catalog's other servers are what the look-alike check compares `name` and the manifest's
/// `serverInfo.name` with.
pub async fn prepare(
    pool: &PgPool,
    name: &ServerName,
    body: Value,
    at: &'static str,
) -> ApiResult<Prepared> {
    if !body.is_object() {
        return Err(invalid(
            ProblemCode::ToolManifestInvalid,
            vec![FieldIssue::new(
                if at.is_empty() { "body" } else { at },
                "must be a tool manifest object (`mcpreg tools capture` writes one)",
                "tool-manifest",
            )],
        ));
    }
    let known = db::other_server_names(pool, name.as_str()).await?;
    let name = name.clone();
    tokio::task::spawn_blocking(move || prepare_blocking(&name, body, at, &known))
        .await
        .map_err(|e| anyhow::anyhow!("tool manifest task failed: {e}"))?
}

fn prepare_blocking(
    name: &ServerName,
    body: Value,
    at: &str,
    known: &[String],
) -> ApiResult<Prepared> {
    let received = body.to_string();
    let manifest = ToolManifest::parse(received.as_bytes()).map_err(|e| manifest_error(e, at))?;
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut findings = mcpreg_scan::scan_manifest(&manifest, &known);
    // The registry name is checked too: a publisher picks it, and a client shows it.
    for f in check_server_name(name.as_str(), &known) {
        if !findings.contains(&f) {
            findings.push(f);
        }
    }
    let scan = mcpreg_scan::scanner::report(findings, manifest.tools_pin);
    Ok(Prepared {
        received,
        manifest,
        scan,
    })
}

fn invalid(code: ProblemCode, issues: Vec<FieldIssue>) -> ApiError {
    let first = issues
        .first()
        .map(|i| format!("{}: {}", i.location, i.message))
        .unwrap_or_default();
    ApiError::unprocessable(
        code,
        format!("the tool manifest was refused: {first}"),
        issues,
    )
}

fn manifest_error(e: ManifestError, at: &str) -> ApiError {
    let join = |path: &str| match (at, path) {
        ("", "$") => "body".to_owned(),
        ("", p) => p.to_owned(),
        (a, "$") => a.to_owned(),
        (a, p) => format!("{a}.{p}"),
    };
    match e {
        ManifestError::Invalid { path, message } => invalid(
            ProblemCode::ToolManifestInvalid,
            vec![FieldIssue::new(join(&path), message, "tool-manifest")],
        ),
        ManifestError::UnsupportedVersion(v) => invalid(
            ProblemCode::ToolManifestUnsupported,
            vec![FieldIssue::new(
                join("manifestVersion"),
                format!(
                    "{v} is not supported (this registry reads manifest version {})",
                    mcpreg_scan::manifest::MANIFEST_VERSION
                ),
                "tool-manifest",
            )],
        ),
        ManifestError::PinMismatch {
            path,
            stated,
            computed,
        } => invalid(
            ProblemCode::ToolsPinMismatch,
            vec![FieldIssue::new(
                join(&path),
                format!(
                    "the manifest states {stated} but its content digests to {computed}: it was edited after capture"
                ),
                "tool-manifest",
            )],
        ),
    }
}

/// The version a manifest is stored with.
#[derive(Debug, Clone, Copy)]
pub struct VersionKey<'a> {
    /// Row id.
    pub id: i64,
    /// Server name.
    pub server_name: &'a str,
    /// Version string.
    pub version: &'a str,
}

/// Stores a prepared manifest and its built-in scan for a version, in the caller's transaction;
/// a version that already has a manifest is a 409 (manifests are immutable: a server that
/// advertises other tools is a new version).
pub async fn store(
    tx: &mut PgConnection,
    version: VersionKey<'_>,
    actor: &str,
    prepared: &Prepared,
) -> ApiResult<()> {
    let manifest_json = String::from_utf8(prepared.manifest.to_canonical_json())
        .map_err(|e| anyhow::anyhow!("canonical JSON is not UTF-8: {e}"))?;
    let context_cost =
        serde_json::to_value(&prepared.manifest.context_cost).map_err(anyhow::Error::from)?;
    let tools_pin = prepared.tools_pin();
    let inserted = db::insert(
        &mut *tx,
        &db::NewManifest {
            version_id: version.id,
            received: &prepared.received,
            manifest: &manifest_json,
            tools_pin: &tools_pin,
            context_cost: &context_cost,
            tool_count: i32::try_from(prepared.manifest.tools.len()).unwrap_or(i32::MAX),
            server_info_name: &prepared.manifest.server_info.name,
            attached_by: actor,
        },
    )
    .await?;
    if inserted.is_none() {
        return Err(ApiError::conflict(
            ProblemCode::ToolsExist,
            format!(
                "{}@{} already has a tool manifest; manifests are immutable — a server that advertises other tools is a new version",
                version.server_name, version.version
            ),
        ));
    }
    scans::store_report(&mut *tx, version.id, actor, &prepared.scan, true, None).await?;
    let worst = max_severity(&prepared.scan.findings);
    audit::record(
        &mut *tx,
        actor,
        "tools.attach",
        &format!("{}@{}", version.server_name, version.version),
        json!({
            "toolsPin": tools_pin,
            "toolCount": prepared.manifest.tools.len(),
            "contextTokens": prepared.manifest.context_cost.as_ref().map(|c| c.total_tokens),
            "builtinFindings": prepared.scan.findings.len(),
            "highestSeverity": worst.map(|s| s.as_str()),
        }),
    )
    .await?;
    crate::db::changes::notify(&mut *tx, version.server_name).await?;
    Ok(())
}

/// Attaches a manifest to a published version (the exact version; not `latest`).
pub async fn attach(
    pool: &PgPool,
    actor: &str,
    name: &ServerName,
    version: &str,
    body: Value,
) -> ApiResult<VersionTools> {
    let v = scans::exact_version(pool, name, version).await?;
    let prepared = prepare(pool, name, body, "").await?;
    let mut tx = pool.begin().await?;
    let key = VersionKey {
        id: v.id,
        server_name: &v.server_name,
        version: &v.version,
    };
    store(&mut tx, key, actor, &prepared).await?;
    tx.commit().await?;
    tracing::info!(
        server.name = %name,
        server.version = version,
        tools.pin = %prepared.tools_pin(),
        actor,
        "tool manifest attached"
    );
    get(pool, name, version).await
}

/// A version's manifest, with its highest finding severity.
pub async fn get(pool: &PgPool, name: &ServerName, version: &str) -> ApiResult<VersionTools> {
    let v = scans::any_version(pool, name, version).await?;
    let row = db::get(pool, v.id).await?.ok_or_else(|| {
        ApiError::not_found(
            ProblemCode::ToolsNotFound,
            format!(
                "{}@{} has no tool manifest; attach one with `mcpreg tools attach` or publish with `--tools`",
                v.server_name, v.version
            ),
        )
    })?;
    let manifest = serde_json::value::RawValue::from_string(row.manifest).map_err(|e| {
        anyhow::anyhow!(
            "stored manifest of {}@{} is not JSON: {e}",
            v.server_name,
            v.version
        )
    })?;
    let cost: mcpreg_scan::ContextCost = serde_json::from_value(row.context_cost)
        .map_err(|e| anyhow::anyhow!("stored context cost does not read back: {e}"))?;
    let highest = scan_db::highest_severity(pool, v.id).await?;
    Ok(VersionTools {
        name: v.server_name,
        version: v.version,
        manifest,
        tools_pin: row.tools_pin,
        context_cost: ContextCost {
            encoding: cost.encoding,
            total_tokens: cost.total_tokens,
            tools_tokens: cost.tools_tokens,
            instructions_tokens: cost.instructions_tokens,
            tools: cost
                .tools
                .into_iter()
                .map(|t| ToolCost {
                    name: t.name,
                    tokens: t.tokens,
                })
                .collect(),
        },
        tool_count: u32::try_from(row.tool_count).unwrap_or_default(),
        server_info_name: row.server_info_name,
        highest_severity: highest,
        attached_by: row.attached_by,
        attached_at: row.attached_at,
    })
}
