//! Evaluation: a pure, deterministic function from (policy, subject, version facts) to a
//! [`Decision`] that explains itself.
//!
//! The order of precedence, first match wins:
//!
//! 1. a deleted version is denied (`version_deleted`), whatever the rules say;
//! 2. an applicable deny rule whose `when` conditions all match denies (`denied_by_rule`);
//! 3. an applicable allow rule whose `require` requirements all hold allows (`allowed`);
//! 4. otherwise deny: `requirements_not_met` when some allow rule applied but fell short,
//!    `no_rule_allows` when none applied. Nothing is allowed by default.
//!
//! A rule *applies* when one of its subject selectors and one of its resource selectors match.

use std::fmt;

use mcpreg_api::Status;
pub use mcpreg_api::policy::{
    ConditionResult, Decision, DecisionReason, RuleEvaluation, RuleOutcome,
};

use crate::document::{
    Conditions, DenyCondition, Effect, Policy, Requirement, ResourceSelector, Rule, SignerSpec,
    SubjectSelector,
};
use crate::facts::{SignerFact, Subject, Transport, VersionFacts};
use crate::pattern::Glob;

/// One cell of a decision matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluated<'a> {
    /// Who asked.
    pub subject: &'a Subject,
    /// About which version.
    pub version: &'a VersionFacts,
    /// The answer.
    pub decision: Decision,
}

/// Decides whether `subject` may use the version `facts` describes under `policy`.
pub fn evaluate(policy: &Policy, subject: &Subject, facts: &VersionFacts) -> Decision {
    let rules: Vec<RuleEvaluation> = policy
        .rules()
        .iter()
        .filter_map(|rule| evaluate_rule(rule, subject, facts))
        .collect();
    let named = |outcome: RuleOutcome| -> Vec<String> {
        rules
            .iter()
            .filter(|r| r.outcome == outcome)
            .map(|r| r.rule.clone())
            .collect()
    };
    let denying = named(RuleOutcome::Denies);
    let allowing = named(RuleOutcome::Allows);
    let short = named(RuleOutcome::RequirementsNotMet);

    let (effect, reason, deciding_rules, summary) = if facts.status == Status::Deleted {
        (
            Effect::Deny,
            DecisionReason::VersionDeleted,
            Vec::new(),
            format!(
                "{} is deleted; a deleted version is never allowed",
                facts.label()
            ),
        )
    } else if !denying.is_empty() {
        let summary = format!("denied by {}", rule_list(&denying));
        (Effect::Deny, DecisionReason::DeniedByRule, denying, summary)
    } else if !allowing.is_empty() {
        let summary = format!("allowed by {}", rule_list(&allowing));
        (Effect::Allow, DecisionReason::Allowed, allowing, summary)
    } else if !short.is_empty() {
        let failing: Vec<String> = rules
            .iter()
            .filter(|r| r.outcome == RuleOutcome::RequirementsNotMet)
            .map(|r| {
                let unmet: Vec<&str> = r
                    .conditions
                    .iter()
                    .filter(|c| !c.held)
                    .map(|c| c.condition.as_str())
                    .collect();
                format!("`{}` ({} not met)", r.rule, unmet.join(", "))
            })
            .collect();
        let summary = format!(
            "denied: no allow rule has all its requirements met: {}",
            failing.join("; ")
        );
        (
            Effect::Deny,
            DecisionReason::RequirementsNotMet,
            short,
            summary,
        )
    } else {
        (
            Effect::Deny,
            DecisionReason::NoRuleAllows,
            Vec::new(),
            format!(
                "denied: no allow rule applies to {subject} and {}; nothing is allowed by default",
                facts.name
            ),
        )
    };
    Decision {
        effect,
        reason,
        summary,
        deciding_rules,
        rules,
    }
}

/// Decides every (subject, version) pair, subject by subject, versions in the order given.
pub fn evaluate_many<'a>(
    policy: &Policy,
    subjects: &'a [Subject],
    versions: &'a [VersionFacts],
) -> Vec<Evaluated<'a>> {
    subjects
        .iter()
        .flat_map(|subject| {
            versions.iter().map(move |version| Evaluated {
                subject,
                version,
                decision: evaluate(policy, subject, version),
            })
        })
        .collect()
}

/// The versions `subject` may use, in the order given: an allowlist view.
pub fn allowed_versions<'a>(
    policy: &Policy,
    subject: &Subject,
    versions: &'a [VersionFacts],
) -> Vec<&'a VersionFacts> {
    versions
        .iter()
        .filter(|version| evaluate(policy, subject, version).is_allowed())
        .collect()
}

fn rule_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [one] => format!("rule {one}"),
        many => format!("rules {}", many.join(", ")),
    }
}

fn evaluate_rule(rule: &Rule, subject: &Subject, facts: &VersionFacts) -> Option<RuleEvaluation> {
    let matched_subject = rule
        .subjects()
        .iter()
        .find(|s| subject_matches(s, subject))?;
    let matched_resource = rule
        .resources()
        .iter()
        .find(|r| resource_matches(r, facts))?;
    let (outcome, conditions) = match rule.conditions() {
        Conditions::Allow(requirements) => {
            let results: Vec<ConditionResult> = requirements
                .iter()
                .map(|r| {
                    let (held, detail) = requirement(r, facts);
                    ConditionResult {
                        condition: r.key().to_owned(),
                        held,
                        detail,
                    }
                })
                .collect();
            let outcome = if results.iter().all(|c| c.held) {
                RuleOutcome::Allows
            } else {
                RuleOutcome::RequirementsNotMet
            };
            (outcome, results)
        }
        Conditions::Deny(conditions) => {
            let results: Vec<ConditionResult> = conditions
                .iter()
                .map(|c| {
                    let (held, detail) = deny_condition(c, facts);
                    ConditionResult {
                        condition: c.key().to_owned(),
                        held,
                        detail,
                    }
                })
                .collect();
            let outcome = if results.iter().all(|c| c.held) {
                RuleOutcome::Denies
            } else {
                RuleOutcome::ConditionsNotMatched
            };
            (outcome, results)
        }
    };
    Some(RuleEvaluation {
        rule: rule.name().to_owned(),
        effect: rule.effect(),
        matched_subject: matched_subject.to_string(),
        matched_resource: matched_resource.to_string(),
        outcome,
        conditions,
    })
}

fn subject_matches(selector: &SubjectSelector, subject: &Subject) -> bool {
    match selector {
        SubjectSelector::Anyone => true,
        SubjectSelector::User(user) => subject.user.as_deref() == Some(user.as_str()),
        SubjectSelector::Group(group) => subject.groups.iter().any(|g| g == group),
        SubjectSelector::Client(client) => subject.client.as_deref() == Some(client.as_str()),
        SubjectSelector::Allowlist(name) => subject.allowlist.as_deref() == Some(name.as_str()),
    }
}

fn resource_matches(selector: &ResourceSelector, facts: &VersionFacts) -> bool {
    match selector {
        ResourceSelector::Server(glob) => glob.matches(facts.name.as_str()),
        ResourceSelector::Namespace(glob) => {
            let (namespace, _) = facts
                .name
                .as_str()
                .split_once('/')
                .unwrap_or((facts.name.as_str(), ""));
            glob.matches(namespace)
        }
        ResourceSelector::Tag(tag) => facts.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)),
    }
}

// --- conditions -------------------------------------------------------------------------------

fn requirement(requirement: &Requirement, facts: &VersionFacts) -> (bool, String) {
    match requirement {
        Requirement::ReviewState(states) => {
            let held = states.contains(&facts.review);
            (held, in_list("review state", facts.review, states, held))
        }
        Requirement::Status(statuses) => {
            let held = statuses.contains(&facts.status);
            (held, in_list("status", facts.status, statuses, held))
        }
        Requirement::SignedBy(specs) => signed_by(specs, &facts.signers),
        Requirement::MaxSeverity(max) => match facts.highest_severity {
            None => (true, "no unsuppressed findings".to_owned()),
            Some(s) if s <= *max => (
                true,
                format!("highest finding severity {s} is at most maxSeverity {max}"),
            ),
            Some(s) => (
                false,
                format!("highest finding severity {s} is above maxSeverity {max}"),
            ),
        },
        Requirement::Transports(allowed) => {
            if facts.transports.is_empty() {
                return (false, "the version offers no transport".to_owned());
            }
            let outside: Vec<Transport> = facts
                .transports
                .iter()
                .copied()
                .filter(|t| !allowed.contains(t))
                .collect();
            if outside.is_empty() {
                let offered: Vec<Transport> = facts.transports.iter().copied().collect();
                (
                    true,
                    format!(
                        "every transport offered ({}) is in {}",
                        joined(&offered),
                        bracketed(allowed)
                    ),
                )
            } else {
                (
                    false,
                    format!(
                        "the version offers {}, which {} not in {}",
                        joined(&outside),
                        if outside.len() == 1 { "is" } else { "are" },
                        bracketed(allowed)
                    ),
                )
            }
        }
        Requirement::RemoteHosts(globs) => match remote_hosts(&facts.remote_urls) {
            Hosts::None => (true, "the version has no remotes".to_owned()),
            Hosts::Unreadable(url) => (false, unreadable(&url)),
            Hosts::Read(hosts) => match hosts.iter().find(|h| !any_glob(globs, h)) {
                Some(outside) => (
                    false,
                    format!("remote host {outside} is not in {}", bracketed(globs)),
                ),
                None => (
                    true,
                    format!(
                        "every remote host ({}) is in {}",
                        hosts.join(", "),
                        bracketed(globs)
                    ),
                ),
            },
        },
        Requirement::ToolsPinned => match &facts.tools_pin {
            Some(pin) => (true, format!("tools are pinned ({pin})")),
            None => (
                false,
                "the version has no tools pin (no tool manifest is attached)".to_owned(),
            ),
        },
        Requirement::MaxContextTokens(max) => match facts.context_tokens {
            None => (
                false,
                format!(
                    "context cost is unknown (no tool manifest is attached), so it cannot be shown to be at most maxContextTokens {max}"
                ),
            ),
            Some(cost) if cost <= *max => (
                true,
                format!("context cost {cost} tokens is at most maxContextTokens {max}"),
            ),
            Some(cost) => (
                false,
                format!("context cost {cost} tokens is above maxContextTokens {max}"),
            ),
        },
    }
}

fn deny_condition(condition: &DenyCondition, facts: &VersionFacts) -> (bool, String) {
    match condition {
        DenyCondition::ReviewState(states) => {
            let held = states.contains(&facts.review);
            (held, in_list("review state", facts.review, states, held))
        }
        DenyCondition::Status(statuses) => {
            let held = statuses.contains(&facts.status);
            (held, in_list("status", facts.status, statuses, held))
        }
        DenyCondition::SignedBy(specs) => signed_by(specs, &facts.signers),
        DenyCondition::NotSignedBy(specs) => {
            let (signed, detail) = signed_by(specs, &facts.signers);
            (!signed, detail)
        }
        DenyCondition::Unsigned => match facts.signers.len() {
            0 => (true, "the version has no verified signature".to_owned()),
            1 => (false, "the version has 1 verified signature".to_owned()),
            n => (false, format!("the version has {n} verified signatures")),
        },
        DenyCondition::SeverityAtLeast(min) => match facts.highest_severity {
            None => (false, "no unsuppressed findings".to_owned()),
            Some(s) if s >= *min => (
                true,
                format!("highest finding severity {s} is at least severityAtLeast {min}"),
            ),
            Some(s) => (
                false,
                format!("highest finding severity {s} is below severityAtLeast {min}"),
            ),
        },
        DenyCondition::OffersTransport(listed) => {
            let offered: Vec<Transport> = facts.transports.iter().copied().collect();
            let hit: Vec<Transport> = offered
                .iter()
                .copied()
                .filter(|t| listed.contains(t))
                .collect();
            if !hit.is_empty() {
                (
                    true,
                    format!(
                        "the version offers {}, which {} in {}",
                        joined(&hit),
                        if hit.len() == 1 { "is" } else { "are" },
                        bracketed(listed)
                    ),
                )
            } else if offered.is_empty() {
                (false, "the version offers no transport".to_owned())
            } else {
                (
                    false,
                    format!(
                        "the version offers only {}, none of which is in {}",
                        joined(&offered),
                        bracketed(listed)
                    ),
                )
            }
        }
        DenyCondition::AnyRemoteHostIn(globs) => match remote_hosts(&facts.remote_urls) {
            Hosts::None => (false, "the version has no remotes".to_owned()),
            // A host that cannot be read cannot be shown to be in the list; other deny
            // rules (`anyRemoteHostNotIn`) and allow requirements catch it.
            Hosts::Unreadable(url) => (false, unreadable(&url)),
            Hosts::Read(hosts) => match hosts.iter().find(|h| any_glob(globs, h)) {
                Some(inside) => (
                    true,
                    format!("remote host {inside} is in {}", bracketed(globs)),
                ),
                None => (
                    false,
                    format!(
                        "no remote host ({}) is in {}",
                        hosts.join(", "),
                        bracketed(globs)
                    ),
                ),
            },
        },
        DenyCondition::AnyRemoteHostNotIn(globs) => match remote_hosts(&facts.remote_urls) {
            Hosts::None => (false, "the version has no remotes".to_owned()),
            Hosts::Unreadable(url) => (true, unreadable(&url)),
            Hosts::Read(hosts) => match hosts.iter().find(|h| !any_glob(globs, h)) {
                Some(outside) => (
                    true,
                    format!("remote host {outside} is not in {}", bracketed(globs)),
                ),
                None => (
                    false,
                    format!(
                        "every remote host ({}) is in {}",
                        hosts.join(", "),
                        bracketed(globs)
                    ),
                ),
            },
        },
        DenyCondition::ToolsUnpinned => match &facts.tools_pin {
            Some(pin) => (false, format!("tools are pinned ({pin})")),
            None => (
                true,
                "the version has no tools pin (no tool manifest is attached)".to_owned(),
            ),
        },
        DenyCondition::ContextTokensAbove(limit) => match facts.context_tokens {
            None => (
                true,
                format!(
                    "context cost is unknown (no tool manifest is attached), which counts as above contextTokensAbove {limit}"
                ),
            ),
            Some(cost) if cost > *limit => (
                true,
                format!("context cost {cost} tokens is above contextTokensAbove {limit}"),
            ),
            Some(cost) => (
                false,
                format!("context cost {cost} tokens is at most contextTokensAbove {limit}"),
            ),
        },
    }
}

fn in_list<T: fmt::Display>(what: &str, value: T, list: &[T], held: bool) -> String {
    let verb = if held { "is in" } else { "is not in" };
    format!("{what} {value} {verb} {}", bracketed(list))
}

/// Whether a verified signer matches a spec; the detail names the pair, or what was there.
fn signed_by(specs: &[SignerSpec], signers: &[SignerFact]) -> (bool, String) {
    for signer in signers {
        if let Some(spec) = specs.iter().find(|spec| spec.matches(signer)) {
            return (true, format!("signed by {signer}, which matches {spec}"));
        }
    }
    let wanted = match specs {
        [one] => one.to_string(),
        many => format!("any of [{}]", joined_with(many, "; ")),
    };
    if signers.is_empty() {
        (
            false,
            format!("the version has no verified signature; no signer matches {wanted}"),
        )
    } else {
        (
            false,
            format!(
                "no signer matches {wanted} (signed by {})",
                joined_with(signers, "; ")
            ),
        )
    }
}

enum Hosts {
    None,
    /// The first remote URL whose host cannot be read.
    Unreadable(String),
    /// The hosts of all remote URLs, lower case, without a trailing dot.
    Read(Vec<String>),
}

/// The hosts of the remote URLs, parsed as a browser would, so that
/// `https://mcp.acme.internal@evil.example/` is read as `evil.example`.
fn remote_hosts(urls: &[String]) -> Hosts {
    if urls.is_empty() {
        return Hosts::None;
    }
    let mut hosts = Vec::with_capacity(urls.len());
    for raw in urls {
        let host = url::Url::parse(raw)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        match host {
            Some(host) if !host.is_empty() => {
                let host = host.strip_suffix('.').unwrap_or(&host).to_owned();
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
            _ => return Hosts::Unreadable(raw.clone()),
        }
    }
    Hosts::Read(hosts)
}

fn unreadable(url: &str) -> String {
    format!("remote URL `{url}` has no host that can be checked")
}

fn any_glob(globs: &[Glob], host: &str) -> bool {
    globs.iter().any(|g| g.matches(host))
}

fn joined<T: fmt::Display>(items: &[T]) -> String {
    joined_with(items, ", ")
}

fn joined_with<T: fmt::Display>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

fn bracketed<T: fmt::Display>(items: &[T]) -> String {
    format!("[{}]", joined(items))
}
