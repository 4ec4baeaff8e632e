//! Review of versions: submitted → approved | rejected, approved → revoked, each decision with
//! its actor, time, reason and the gates as they stood
//! (`/api/v1/servers/{name}/versions/{version}/review`, `/api/v1/reviews`).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a version is in review.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "review_state", rename_all = "lowercase")
)]
pub enum ReviewState {
    /// Published, waiting for (enough) approvals. Every version starts here; nothing is
    /// inherited from earlier versions.
    Submitted,
    /// Approved by enough reviewers, none of them its publisher.
    Approved,
    /// Rejected by a reviewer (final for this version).
    Rejected,
    /// Approved once, then revoked (final for this version).
    Revoked,
}

impl ReviewState {
    /// `submitted`, `approved`, `rejected` or `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Revoked => "revoked",
        }
    }

    /// Parses one of the names [`Self::as_str`] gives.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Submitted,
            Self::Approved,
            Self::Rejected,
            Self::Revoked,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

impl fmt::Display for ReviewState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A review decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "text", rename_all = "lowercase")
)]
pub enum ReviewAction {
    /// Approve a submitted version (the gates must hold, or be overridden with a reason).
    Approve,
    /// Reject a submitted version (a reason is required).
    Reject,
    /// Revoke an approved version (a reason is required).
    Revoke,
}

impl ReviewAction {
    /// `approve`, `reject` or `revoke`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Revoke => "revoke",
        }
    }
}

/// What must hold before a version can be approved.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// At least one signature, verified on arrival against a trusted signer of the namespace.
    Signature,
    /// Every package pins its artifact digest.
    Digests,
    /// A tool manifest is pinned.
    Tools,
    /// No unsuppressed scan finding at or above the configured severity.
    Findings,
}

impl Gate {
    /// Every gate, in the order they are reported.
    pub const ALL: [Self; 4] = [Self::Signature, Self::Digests, Self::Tools, Self::Findings];

    /// `signature`, `digests`, `tools` or `findings`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::Digests => "digests",
            Self::Tools => "tools",
            Self::Findings => "findings",
        }
    }

    /// Parses one of the names [`Self::as_str`] gives.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// A gate as evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GateResult {
    /// Which gate.
    pub gate: Gate,
    /// Whether it holds (a gate the registry is configured not to require always holds).
    pub passed: bool,
    /// Why, in words.
    pub detail: String,
}

/// A review decision to make (`POST …/versions/{version}/review`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewRequest {
    /// approve, reject or revoke.
    pub action: ReviewAction,
    /// Why; required to reject or revoke, recorded with an approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Gates that do not hold and are overridden, each with the reason (recorded and audited):
    /// `{"signature": "internal build, signed out of band"}`. Only for approve.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
}

/// One recorded decision.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewDecision {
    /// Its id.
    pub id: i64,
    /// What was decided.
    pub action: ReviewAction,
    /// Who decided.
    pub actor: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The gates as they were evaluated then.
    pub gates: Vec<GateResult>,
    /// Gates overridden, with the reasons.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// When an approval stops counting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The review of a version.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionReview {
    /// Server name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The state now (an approved version whose approvals expired is `submitted` again).
    pub state: ReviewState,
    /// Who published it (who may not approve it).
    pub published_by: String,
    /// Approvals that count now (unexpired, since the version was submitted).
    pub approvals: u32,
    /// Approvals needed.
    pub approvals_required: u32,
    /// When the earliest counting approval expires, when approvals expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_until: Option<DateTime<Utc>>,
    /// The gates as they stand now.
    pub gates: Vec<GateResult>,
    /// Every decision, oldest first.
    pub decisions: Vec<ReviewDecision>,
}

/// One version in a review listing.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewSummary {
    /// Server name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Its state (approvals that expired are not counted).
    pub state: ReviewState,
    /// Who published it.
    pub published_by: String,
    /// When.
    pub published_at: DateTime<Utc>,
    /// Approvals that count now.
    pub approvals: u32,
}

/// A page of the review queue (`GET /api/v1/reviews`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewList {
    /// The versions, newest publication first.
    pub reviews: Vec<ReviewSummary>,
}
