//! What applying a policy would change: for each audience × server@version, whether the
//! decision flips (`mcpreg policy diff -f FILE`).

pub use mcpreg_api::policy::{DecisionChange, PolicyDiff};

use crate::document::Policy;
use crate::eval::evaluate;
use crate::facts::{Subject, VersionFacts};

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
