//! The registry's access policy: applied versions (append-only; the current one is the highest),
//! what applying a document would change, and decisions for one subject × version.
//!
//! The engine is `mcpreg_policy` (pure); this module reads the facts and the current policy from
//! the database and calls in. With no policy applied, nothing is allowed.

use mcpreg_api::problem::ProblemCode;
use std::sync::{Arc, Mutex};

use mcpreg_api::policy::{AppliedPolicy, CurrentPolicy, PolicyFormat};
use mcpreg_api::problem::FieldIssue;
use mcpreg_api::{ServerName, Version};
use mcpreg_policy::{Policy, PolicyError, Subject};
use serde_json::json;
use sqlx::PgPool;

use crate::auth::config::ReviewConfig;
use crate::db::audit;
use crate::db::policies::{self as db, NewPolicy, PolicyRow};
use crate::error::{ApiError, ApiResult};
use crate::facts;
use mcpreg_api::policy::{DecisionAnswer, DecisionRequest, DiffAnswer, DiffRequest};

/// The most subjects a diff request may name besides the allowlists.
pub const MAX_DIFF_SUBJECTS: usize = 100;

/// The `sha256:` digest of a policy: over the RFC 8785 canonical form of its canonical JSON, so
/// that formatting, comments, key order and YAML versus JSON do not change it.
pub fn digest(policy: &Policy) -> String {
    mcpreg_trust::Sha256Digest::of_bytes(&mcpreg_trust::canonical_json(&policy.to_json()))
        .to_string()
}

/// The issues of a document that is not a policy, each located in the request body as
/// `source.<path>` (`source` for the document as a whole).
pub fn invalid_policy(error: &PolicyError) -> ApiError {
    let issues = error
        .issues
        .iter()
        .map(|issue| {
            let location = if issue.path.is_empty() {
                "source".to_owned()
            } else if issue.path.starts_with('[') {
                format!("source{}", issue.path)
            } else {
                format!("source.{}", issue.path)
            };
            FieldIssue::new(location, issue.message.clone(), "policy")
        })
        .collect::<Vec<_>>();
    let detail = match issues.len() {
        1 => "the document is not a valid policy: 1 problem, listed in `errors`".to_owned(),
        n => format!("the document is not a valid policy: {n} problems, each listed in `errors`"),
    };
    ApiError::unprocessable(ProblemCode::InvalidPolicy, detail, issues)
}

/// Parses a document off the async threads (a large document with many patterns takes a while).
async fn parse(source: String) -> ApiResult<(Policy, String)> {
    tokio::task::spawn_blocking(move || {
        Policy::parse(source.as_bytes()).map_err(|e| invalid_policy(&e))
    })
    .await
    .map_err(|e| anyhow::anyhow!("policy parsing task failed: {e}"))?
    .map(|policy| {
        let digest = digest(&policy);
        (policy, digest)
    })
}

/// The last stored document parsed, by its source text: versions never change, and decisions
/// should not parse the same document again on every request.
static PARSED: Mutex<Option<(String, Arc<Policy>)>> = Mutex::new(None);

/// The policy of a stored version, read from its source as sent. (The `document` column is
/// jsonb, which reorders keys; the source keeps the order in which a rule states its
/// conditions, and decisions list them in that order.)
async fn stored_policy(row: &PolicyRow) -> ApiResult<Arc<Policy>> {
    if let Ok(cached) = PARSED.lock()
        && let Some((source, policy)) = cached.as_ref()
        && *source == row.source
    {
        return Ok(policy.clone());
    }
    let source = row.source.clone();
    let parsed = tokio::task::spawn_blocking(move || Policy::parse(source.as_bytes()))
        .await
        .map_err(|e| anyhow::anyhow!("policy parsing task failed: {e}"))?
        .map_err(|e| {
            anyhow::anyhow!(
                "stored policy version {} does not parse any more: {e}",
                row.version
            )
        })?;
    let policy = Arc::new(parsed);
    if let Ok(mut cached) = PARSED.lock() {
        *cached = Some((row.source.clone(), policy.clone()));
    }
    Ok(policy)
}

/// The current policy version and its policy; `None` when no policy was ever applied.
pub async fn current_policy(
    executor: impl sqlx::PgExecutor<'_>,
) -> ApiResult<Option<(PolicyRow, Arc<Policy>)>> {
    match db::current(executor).await? {
        None => Ok(None),
        Some(row) => {
            let policy = stored_policy(&row).await?;
            Ok(Some((row, policy)))
        }
    }
}

/// The current policy as stored; 404 `no_policy` when none was applied.
pub async fn current(pool: &PgPool) -> ApiResult<CurrentPolicy> {
    let (row, policy) = current_policy(pool).await?.ok_or_else(|| {
        ApiError::not_found(
            ProblemCode::NoPolicy,
            "no policy has been applied, so nothing is allowed: apply one with `mcpreg policy apply -f FILE`",
        )
    })?;
    let format = PolicyFormat::parse(&row.format).ok_or_else(|| {
        anyhow::anyhow!(
            "stored format `{}` of policy version {} is unknown",
            row.format,
            row.version
        )
    })?;
    Ok(CurrentPolicy {
        version: row.version,
        digest: row.digest,
        applied_by: row.applied_by,
        applied_at: row.applied_at,
        source: row.source,
        format,
        // Canonical, in the canonical key order (the stored jsonb has its own).
        document: policy.to_json(),
    })
}

/// Applies a document: parses it (422 `invalid_policy` listing every problem), and stores it as
/// a new version unless its canonical form is the current policy's. The version, the audit event
/// and the change notice to every replica are written in one transaction.
pub async fn apply(pool: &PgPool, actor: &str, source: String) -> ApiResult<AppliedPolicy> {
    let format = PolicyFormat::of_source(&source);
    let (policy, digest) = parse(source.clone()).await?;
    let rules = policy.rules().len();
    let document = policy.to_json();

    let mut tx = pool.begin().await?;
    db::lock(&mut *tx).await?;
    let current = db::current(&mut *tx).await?;
    if let Some(current) = current.as_ref().filter(|c| c.digest == digest) {
        return Ok(AppliedPolicy {
            version: current.version,
            digest,
            changed: false,
            rules,
        });
    }
    let row = db::insert(
        &mut *tx,
        &NewPolicy {
            source: &source,
            format: format.as_str(),
            document: &document,
            digest: &digest,
            applied_by: actor,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        "policy.apply",
        "policy",
        json!({
            "version": row.version,
            "digest": digest,
            "rules": rules,
            "previousVersion": current.as_ref().map(|c| c.version),
            "previousDigest": current.as_ref().map(|c| c.digest.as_str()),
        }),
    )
    .await?;
    // Every allowlist view and cached answer depends on the policy.
    crate::db::changes::notify(&mut *tx, "").await?;
    tx.commit().await?;
    tracing::info!(
        policy.version = row.version,
        policy.digest = %digest,
        policy.rules = rules,
        actor,
        "policy applied"
    );
    Ok(AppliedPolicy {
        version: row.version,
        digest,
        changed: true,
        rules,
    })
}

/// What applying a document would change for every allowlist and every subject of the request,
/// over every version that is not deleted.
pub async fn diff(
    pool: &PgPool,
    review: &ReviewConfig,
    request: DiffRequest,
) -> ApiResult<DiffAnswer> {
    if request.subjects.len() > MAX_DIFF_SUBJECTS {
        return Err(ApiError::unprocessable(
            ProblemCode::InvalidDiffRequest,
            format!(
                "{} subjects given, at most {MAX_DIFF_SUBJECTS} are allowed (the allowlists are included without naming them)",
                request.subjects.len()
            ),
            vec![FieldIssue::new(
                "subjects",
                format!("at most {MAX_DIFF_SUBJECTS} entries"),
                "semantic",
            )],
        ));
    }
    let (proposed, proposed_digest) = parse(request.source).await?;
    let current = current_policy(pool).await?;
    let mut subjects: Vec<Subject> = crate::db::allowlists::names(pool)
        .await?
        .into_iter()
        .map(Subject::allowlist)
        .collect();
    for subject in request.subjects.into_iter().map(Subject::from) {
        if !subjects.contains(&subject) {
            subjects.push(subject);
        }
    }
    let versions: Vec<_> = facts::all(pool, review)
        .await?
        .into_iter()
        .map(|v| v.facts)
        .collect();
    let (current_version, current_digest, current_policy) = match current {
        Some((row, policy)) => (Some(row.version), Some(row.digest), Some(policy)),
        None => (None, None, None),
    };
    let diff = tokio::task::spawn_blocking(move || {
        mcpreg_policy::diff(current_policy.as_deref(), &proposed, &subjects, &versions)
    })
    .await
    .map_err(|e| anyhow::anyhow!("policy diff task failed: {e}"))?;
    Ok(DiffAnswer {
        current_version,
        current_digest,
        proposed_digest,
        diff,
    })
}

fn invalid_decision_request(location: &str, message: String) -> ApiError {
    ApiError::unprocessable(
        ProblemCode::InvalidDecisionRequest,
        format!("`{location}`: {message}"),
        vec![FieldIssue::new(location, message, "semantic")],
    )
}

/// The current policy's decision for a subject and a server version (`latest` allowed; a deleted
/// version is found, and denied).
pub async fn decide(
    pool: &PgPool,
    review: &ReviewConfig,
    request: DecisionRequest,
) -> ApiResult<DecisionAnswer> {
    let name = ServerName::parse(&request.server)
        .map_err(|e| invalid_decision_request("server", e.to_string()))?;
    if request.version != "latest" {
        Version::parse(&request.version)
            .map_err(|e| invalid_decision_request("version", format!("{e} (or write `latest`)")))?;
    }
    let version = facts::one(pool, review, name.as_str(), &request.version)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                ProblemCode::VersionNotFound,
                format!("server {name} has no version {}", request.version),
            )
        })?;
    let subject = Subject::from(request.subject);
    let current = current_policy(pool).await?;
    let (policy_version, decision) = match &current {
        Some((row, policy)) => (
            Some(row.version),
            mcpreg_policy::evaluate(policy, &subject, &version.facts),
        ),
        None => (
            None,
            mcpreg_policy::evaluate(&Policy::default(), &subject, &version.facts),
        ),
    };
    Ok(DecisionAnswer {
        policy_version,
        server: version.facts.name,
        version: version.facts.version,
        subject,
        decision,
    })
}
