//! Review of versions: submitted → approved | rejected, approved → revoked.
//!
//! Rules, all checked in one transaction with the version locked:
//! - a decision names an exact version; nothing carries over from another version;
//! - the publisher of a version never approves it, and a reviewer's approval counts once;
//! - a version is approved when enough distinct reviewers approved it (`[review] approvals`);
//!   approvals may expire (`approval_days`), and then the version is submitted again. Whether an
//!   approval still counts is decided in one place, the database's `review_state_now` (over the
//!   `counting_approvals` view), by the database's clock: an approval's expiry is set by that
//!   clock too, never the application's;
//! - approving needs the gates to hold — a verified signature by a trusted signer, pinned
//!   digests, a pinned tool manifest, no finding at or above `block_severity` — or each failed
//!   gate overridden with a reason, which is recorded with the decision and in the audit trail;
//! - rejecting and revoking need a reason; both are final for the version.

use mcpreg_api::problem::ProblemCode;
use std::collections::BTreeMap;

use mcpreg_api::ServerName;
use mcpreg_api::problem::FieldIssue;
use mcpreg_api::review::{
    Gate, GateResult, ReviewAction, ReviewDecision, ReviewList, ReviewRequest, ReviewState,
    ReviewSummary, VersionReview,
};
use serde_json::json;
use sqlx::{PgExecutor, PgPool};

use crate::auth::config::ReviewConfig;
use crate::db::audit;
use crate::db::reviews::{self as db, DecisionRow, GateFacts, StoredReviewState};
use crate::db::versions::{self, VersionRef, VersionStatus};
use crate::error::{ApiError, ApiResult};

/// The longest reason accepted.
pub const MAX_REASON_CHARS: usize = 2000;

/// Evaluates the gates on a version's facts.
pub fn gates(config: &ReviewConfig, facts: &GateFacts) -> Vec<GateResult> {
    let result = |gate, required: bool, passed: bool, detail: String| GateResult {
        gate,
        passed: passed || !required,
        detail: if required {
            detail
        } else {
            format!("not required by this registry ({detail})")
        },
    };
    let signature = result(
        Gate::Signature,
        config.require_signature,
        facts.signatures > 0,
        match facts.signatures {
            0 => "no signature: attach one by a trusted signer (`mcpreg signature attach`)".into(),
            n => format!("{n} signature(s), each verified against a trusted signer on arrival"),
        },
    );
    let digests = result(
        Gate::Digests,
        config.require_digests,
        facts.unpinned == 0,
        match (facts.packages, facts.unpinned) {
            (0, _) => "no packages (remote only): nothing to pin".into(),
            (n, 0) => format!("all {n} package(s) pin their artifact digest"),
            (n, u) => format!("{u} of {n} package(s) pin no artifact digest"),
        },
    );
    let tools = result(
        Gate::Tools,
        config.require_tools,
        facts.tools_pin.is_some(),
        match &facts.tools_pin {
            Some(pin) => format!("tools pinned: {pin}"),
            None => "no tool manifest: attach one (`mcpreg tools attach`)".into(),
        },
    );
    let highest = facts.highest_severity;
    let findings = match config.blocking_severity() {
        None => result(
            Gate::Findings,
            false,
            true,
            format!(
                "highest finding {}",
                highest.map_or("none".to_owned(), |s| s.to_string())
            ),
        ),
        Some(block) => result(
            Gate::Findings,
            true,
            highest.is_none_or(|h| h < block),
            match highest {
                None => "no findings".into(),
                Some(h) if h < block => format!("highest finding {h}, below {block}"),
                Some(h) => format!(
                    "a finding is {h}, at or above {block} (`mcpreg scans show` lists them)"
                ),
            },
        ),
    };
    vec![signature, digests, tools, findings]
}

fn decision_of(row: DecisionRow) -> ApiResult<ReviewDecision> {
    Ok(ReviewDecision {
        id: row.id,
        action: row.action,
        actor: row.actor,
        reason: row.reason,
        gates: serde_json::from_value(row.gates).map_err(|e| {
            anyhow::anyhow!("stored gates of decision {} do not read back: {e}", row.id)
        })?,
        overrides: serde_json::from_value(row.overrides).map_err(|e| {
            anyhow::anyhow!(
                "stored overrides of decision {} do not read back: {e}",
                row.id
            )
        })?,
        expires_at: row.expires_at,
        at: row.at,
    })
}

async fn review_of(
    db: impl PgExecutor<'_> + Copy,
    config: &ReviewConfig,
    v: VersionRef,
) -> ApiResult<VersionReview> {
    let decisions = db::decisions(db, v.id).await?;
    let now = db::state_now(db, v.id, i64::from(config.approvals)).await?;
    let state = now.state;
    let facts = db::gate_facts(db, v.id).await?;
    Ok(VersionReview {
        name: v.server_name,
        version: v.version,
        state,
        published_by: v.published_by,
        approvals: u32::try_from(now.approvals).unwrap_or(u32::MAX),
        approvals_required: config.approvals,
        approved_until: (state == ReviewState::Approved)
            .then_some(now.approved_until)
            .flatten(),
        gates: gates(config, &facts),
        decisions: decisions
            .into_iter()
            .map(decision_of)
            .collect::<ApiResult<Vec<_>>>()?,
    })
}

/// The review of a version (`latest` allowed).
pub async fn get(
    pool: &PgPool,
    config: &ReviewConfig,
    name: &ServerName,
    version: &str,
) -> ApiResult<VersionReview> {
    let v = versions::resolve(pool, name.as_str(), version)
        .await?
        .ok_or_else(|| ApiError::version_not_found(name, version))?;
    review_of(pool, config, v).await
}

/// The review queue.
pub async fn list(
    pool: &PgPool,
    config: &ReviewConfig,
    state: Option<ReviewState>,
    limit: i64,
) -> ApiResult<ReviewList> {
    let rows = db::queue(pool, i64::from(config.approvals), state, limit).await?;
    Ok(ReviewList {
        reviews: rows
            .into_iter()
            .map(|r| {
                Ok(ReviewSummary {
                    state: r.state,
                    name: r.server_name,
                    version: r.version,
                    published_by: r.published_by,
                    published_at: r.published_at,
                    approvals: u32::try_from(r.approvals).unwrap_or_default(),
                })
            })
            .collect::<ApiResult<Vec<_>>>()?,
    })
}

fn invalid(code: ProblemCode, detail: String, location: &str, message: &str) -> ApiError {
    ApiError::unprocessable(
        code,
        detail,
        vec![FieldIssue::new(location, message, "review")],
    )
}

fn state_conflict(action: ReviewAction, state: ReviewState, label: &str) -> ApiError {
    let why = match (action, state) {
        (ReviewAction::Approve, ReviewState::Approved) => "it is approved already".to_owned(),
        (ReviewAction::Revoke, ReviewState::Submitted) => {
            "it is not approved (only an approval can be revoked; reject it instead)".to_owned()
        }
        (_, ReviewState::Rejected | ReviewState::Revoked) => {
            format!("it was {state}, which is final for this version: publish a new version")
        }
        _ => format!("it is {state}"),
    };
    ApiError::conflict(
        ProblemCode::ReviewStateConflict,
        format!("cannot {} {label}: {why}", action.as_str()),
    )
}

/// Records a decision on a version (the exact version) and returns its review.
pub async fn decide(
    pool: &PgPool,
    config: &ReviewConfig,
    actor: &str,
    name: &ServerName,
    version: &str,
    request: ReviewRequest,
) -> ApiResult<VersionReview> {
    // Nothing is approved by inheritance.
    ApiError::require_exact_version(version, "the decision is for")?;
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(r) = reason
        && r.chars().count() > MAX_REASON_CHARS
    {
        return Err(invalid(
            ProblemCode::InvalidReview,
            "the reason is too long".into(),
            "reason",
            &format!("at most {MAX_REASON_CHARS} characters"),
        ));
    }
    if request.action != ReviewAction::Approve && reason.is_none() {
        return Err(invalid(
            ProblemCode::ReasonRequired,
            format!("a reason is required to {}", request.action.as_str()),
            "reason",
            "is required",
        ));
    }
    let mut overrides: BTreeMap<Gate, String> = BTreeMap::new();
    for (gate, why) in &request.overrides {
        let location = format!("overrides.{gate}");
        if request.action != ReviewAction::Approve {
            return Err(invalid(
                ProblemCode::InvalidReview,
                "only an approval overrides gates".into(),
                &location,
                "overrides are only for approve",
            ));
        }
        let Some(g) = Gate::parse(gate) else {
            return Err(invalid(
                ProblemCode::InvalidReview,
                format!(
                    "unknown gate `{}`",
                    gate.chars().take(50).collect::<String>()
                ),
                &location,
                "not a gate: signature, digests, tools or findings",
            ));
        };
        let why = why.trim();
        if why.is_empty() || why.chars().count() > MAX_REASON_CHARS {
            return Err(invalid(
                ProblemCode::InvalidReview,
                format!("overriding the {gate} gate needs a reason"),
                &location,
                &format!("a reason of 1 to {MAX_REASON_CHARS} characters is required"),
            ));
        }
        overrides.insert(g, why.to_owned());
    }

    let mut tx = pool.begin().await?;
    let v = versions::resolve(&mut *tx, name.as_str(), version)
        .await?
        .filter(|v| v.version == version)
        .ok_or_else(|| ApiError::version_not_found(name, version))?;
    db::lock(&mut *tx, v.id).await?;
    let label = format!("{}@{}", v.server_name, v.version);
    let now = db::state_now(&mut *tx, v.id, i64::from(config.approvals)).await?;
    let state = now.state;
    let facts = db::gate_facts(&mut *tx, v.id).await?;
    let evaluated = gates(config, &facts);

    let (next, approval_days) = match request.action {
        ReviewAction::Approve => {
            if state != ReviewState::Submitted {
                return Err(state_conflict(request.action, state, &label));
            }
            if v.status == VersionStatus::Deleted {
                return Err(ApiError::conflict(
                    ProblemCode::ReviewStateConflict,
                    format!("cannot approve {label}: it is deleted"),
                ));
            }
            if actor == v.published_by {
                return Err(ApiError::forbidden(format!(
                    "{actor} published {label} and cannot approve it: another reviewer must"
                )));
            }
            if db::approval_counts(&mut *tx, v.id, actor).await? {
                return Err(ApiError::conflict(
                    ProblemCode::AlreadyApproved,
                    format!(
                        "{actor} has approved {label} already; it needs {} approval(s) by different reviewers",
                        config.approvals
                    ),
                ));
            }
            let mut issues = Vec::new();
            for g in &evaluated {
                if !g.passed && !overrides.contains_key(&g.gate) {
                    issues.push(FieldIssue::new(
                        format!("gates.{}", g.gate.as_str()),
                        format!(
                            "{} (override with a reason: overrides.{})",
                            g.detail,
                            g.gate.as_str()
                        ),
                        "review",
                    ));
                }
            }
            for gate in overrides.keys() {
                if evaluated.iter().any(|g| g.gate == *gate && g.passed) {
                    issues.push(FieldIssue::new(
                        format!("overrides.{}", gate.as_str()),
                        "this gate holds: there is nothing to override",
                        "review",
                    ));
                }
            }
            if !issues.is_empty() {
                let failed = issues.len();
                return Err(ApiError::unprocessable(
                    ProblemCode::ReviewGateFailed,
                    format!(
                        "{label} cannot be approved: {failed} gate problem(s); each is listed in `errors`"
                    ),
                    issues,
                ));
            }
            let next = if now.approvals + 1 >= i64::from(config.approvals) {
                ReviewState::Approved
            } else {
                ReviewState::Submitted
            };
            let days = config
                .approval_days
                .map(|d| i32::try_from(d).unwrap_or(i32::MAX));
            (next, days)
        }
        ReviewAction::Reject => {
            if state != ReviewState::Submitted {
                return Err(state_conflict(request.action, state, &label));
            }
            (ReviewState::Rejected, None)
        }
        ReviewAction::Revoke => {
            // A stored approval can be revoked even once it expired, so it is never renewed.
            if now.stored_state != StoredReviewState::Approved {
                return Err(state_conflict(request.action, state, &label));
            }
            (ReviewState::Revoked, None)
        }
    };
    let gates_json = serde_json::to_value(&evaluated).map_err(anyhow::Error::from)?;
    let overrides_json = json!(
        overrides
            .iter()
            .map(|(g, r)| (g.as_str(), r.as_str()))
            .collect::<BTreeMap<_, _>>()
    );
    let (id, expires_at) = db::insert_decision(
        &mut *tx,
        &db::NewDecision {
            version_id: v.id,
            action: request.action.as_str(),
            actor,
            reason,
            gates: &gates_json,
            overrides: &overrides_json,
            approval_days,
        },
    )
    .await?;
    db::set_state(&mut *tx, v.id, next, actor).await?;
    audit::record(
        &mut tx,
        actor,
        &format!("review.{}", request.action.as_str()),
        &label,
        json!({
            "decision": id,
            "state": next.as_str(),
            "reason": reason,
            "overrides": overrides_json,
            "failedGates": evaluated.iter().filter(|g| !g.passed).map(|g| g.gate.as_str()).collect::<Vec<_>>(),
            "expiresAt": expires_at,
        }),
    )
    .await?;
    crate::db::changes::notify(&mut *tx, &v.server_name).await?;
    tx.commit().await?;
    tracing::info!(
        server.name = %name,
        server.version = version,
        review.action = request.action.as_str(),
        review.state = next.as_str(),
        actor,
        "review decision recorded"
    );
    let v = versions::resolve(pool, name.as_str(), version)
        .await?
        .filter(|v| v.version == version)
        .ok_or_else(|| ApiError::version_not_found(name, version))?;
    review_of(pool, config, v).await
}
