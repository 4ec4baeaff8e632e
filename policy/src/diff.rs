//! What applying a policy would change: for each audience × server@version, whether the
//! decision flips (`mcpreg policy diff -f FILE`).

use mcpreg_api::{ServerName, Version};
use serde::{Deserialize, Serialize};

use crate::document::{Effect, Policy};
use crate::eval::{DecisionReason, evaluate};
use crate::facts::{Subject, VersionFacts};

/// The decisions that would change, and how many were compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDiff {
    /// How many (subject, version) pairs were decided under both policies.
    pub evaluated: usize,
    /// The pairs whose effect changes, subject by subject, versions in the order given.
    pub changes: Vec<DecisionChange>,
}

impl PolicyDiff {
    /// How many pairs go from deny to allow.
    pub fn newly_allowed(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.to == Effect::Allow)
            .count()
    }

    /// How many pairs go from allow to deny.
    pub fn newly_denied(&self) -> usize {
        self.changes.iter().filter(|c| c.to == Effect::Deny).count()
    }
}

/// One (subject, server@version) whose decision would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionChange {
    /// Who.
    pub subject: Subject,
    /// The server.
    pub server: ServerName,
    /// The version.
    pub version: Version,
    /// The effect under the current policy.
    pub from: Effect,
    /// Why, under the current policy.
    pub from_reason: DecisionReason,
    /// The effect under the proposed policy.
    pub to: Effect,
    /// Why, under the proposed policy.
    pub to_reason: DecisionReason,
    /// The rules of the proposed policy that decide the new effect.
    pub deciding_rules: Vec<String>,
    /// The new decision's summary.
    pub summary: String,
}

/// Compares the decisions of `current` (`None`: no policy yet, so everything is denied) and
/// `proposed` for every subject and version, and lists those whose effect changes. A change
/// of reason alone (deny for another reason) is not a change.
pub fn diff(
    current: Option<&Policy>,
    proposed: &Policy,
    subjects: &[Subject],
    versions: &[VersionFacts],
) -> PolicyDiff {
    let nothing = Policy::default();
    let current = current.unwrap_or(&nothing);
    let mut changes = Vec::new();
    for subject in subjects {
        for version in versions {
            let before = evaluate(current, subject, version);
            let after = evaluate(proposed, subject, version);
            if before.effect != after.effect {
                changes.push(DecisionChange {
                    subject: subject.clone(),
                    server: version.name.clone(),
                    version: version.version.clone(),
                    from: before.effect,
                    from_reason: before.reason,
                    to: after.effect,
                    to_reason: after.reason,
                    deciding_rules: after.deciding_rules,
                    summary: after.summary,
                });
            }
        }
    }
    PolicyDiff {
        evaluated: subjects.len() * versions.len(),
        changes,
    }
}
