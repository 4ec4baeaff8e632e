//! The access policy on the wire: applied versions and the current one (`/api/v1/policy`), what a
//! proposed document would change (`/api/v1/policy/diff`), and decisions (`/api/v1/decisions`).
//!
//! The document format and how it decides are the `mcpreg-policy` crate's (`docs/policies.md`);
//! that crate produces the [`Decision`]s and [`PolicyDiff`]s defined here, so that the server
//! sends and the CLI reads one type.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ServerName, Version};

/// How a policy document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyFormat {
    /// YAML 1.2.
    Yaml,
    /// JSON.
    Json,
}

impl PolicyFormat {
    /// `yaml` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yaml => "yaml",
            Self::Json => "json",
        }
    }

    /// Parses one of the names [`Self::as_str`] gives.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Yaml, Self::Json]
            .into_iter()
            .find(|f| f.as_str() == s)
    }

    /// The format a document is read as: JSON when its first character (after a byte order
    /// mark and white space) is `{`, YAML otherwise — as `mcpreg_policy::Policy::parse` reads it.
    pub fn of_source(source: &str) -> Self {
        let text = source.strip_prefix('\u{feff}').unwrap_or(source);
        if text.trim_start().starts_with('{') {
            Self::Json
        } else {
            Self::Yaml
        }
    }
}

impl fmt::Display for PolicyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `PUT /api/v1/policy`: a policy document to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyPolicyRequest {
    /// The document, YAML or JSON text, as written (comments are kept with the version).
    pub source: String,
}

/// The answer to an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPolicy {
    /// The policy version now current.
    pub version: i64,
    /// `sha256:` of the RFC 8785 canonical form of the document.
    pub digest: String,
    /// Whether a new version was stored; `false` when the document is the current one.
    pub changed: bool,
    /// How many rules the policy has.
    pub rules: usize,
}

/// `GET /api/v1/policy`: the current policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrentPolicy {
    /// Its version.
    pub version: i64,
    /// `sha256:` of the RFC 8785 canonical form of `document`.
    pub digest: String,
    /// Who applied it.
    pub applied_by: String,
    /// When.
    pub applied_at: DateTime<Utc>,
    /// The document as it was sent.
    pub source: String,
    /// How `source` is written.
    pub format: PolicyFormat,
    /// The policy as canonical JSON: what decisions are made with.
    pub document: Value,
}

/// What a rule does when it decides: allow or deny.
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
pub enum Effect {
    /// The subject may use the version.
    Allow,
    /// The subject may not use the version.
    Deny,
}

impl Effect {
    /// `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asks: an authenticated user with their groups, the OAuth client or agent they ask
/// through, or a named audience (an allowlist) when the registry computes what that audience may
/// use. Any part may be absent; a rule's subject selector names the part it matches.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// The user (an email address or the identity provider's subject), matched exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The user's groups, matched exactly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The OAuth client or agent id, matched exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The named audience, matched exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowlist: Option<String>,
}

impl Subject {
    /// A named audience and nothing else: what an allowlist view is computed for.
    pub fn allowlist(name: impl Into<String>) -> Self {
        Self {
            allowlist: Some(name.into()),
            ..Self::default()
        }
    }

    /// A user with their groups.
    pub fn user(
        user: impl Into<String>,
        groups: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            user: Some(user.into()),
            groups: groups.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
}

impl fmt::Display for Subject {
    /// `user alice@acme.com (groups platform, sre) via client vscode`, `allowlist engineering`,
    /// or `anonymous`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(user) = &self.user {
            parts.push(format!("user {user}"));
        }
        if !self.groups.is_empty() {
            parts.push(format!("(groups {})", self.groups.join(", ")));
        }
        if let Some(client) = &self.client {
            parts.push(format!("via client {client}"));
        }
        if let Some(allowlist) = &self.allowlist {
            parts.push(format!("allowlist {allowlist}"));
        }
        if parts.is_empty() {
            f.write_str("anonymous")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

/// The answer for one (subject, version): allow or deny, why, and every applicable rule with
/// every condition checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Allow or deny.
    pub effect: Effect,
    /// Why, as a stable code.
    pub reason: DecisionReason,
    /// Why, in one sentence for a person.
    pub summary: String,
    /// The rules that decided: the deny rules that matched, the allow rules that allowed, or,
    /// for `requirements_not_met`, the allow rules that applied but fell short. Empty for
    /// `no_rule_allows` and `version_deleted`.
    pub deciding_rules: Vec<String>,
    /// Every rule that applied to the subject and server, in policy order, with its conditions.
    pub rules: Vec<RuleEvaluation>,
}

impl Decision {
    /// Whether the subject may use the version.
    pub fn is_allowed(&self) -> bool {
        self.effect == Effect::Allow
    }
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionReason {
    /// An allow rule applied and all its requirements held, and no deny rule matched.
    Allowed,
    /// A deny rule applied and all its conditions matched.
    DeniedByRule,
    /// The version is deleted; a deleted version is never allowed.
    VersionDeleted,
    /// Allow rules applied, but none had all its requirements hold.
    RequirementsNotMet,
    /// No allow rule applied to this subject and server (default deny).
    NoRuleAllows,
}

impl DecisionReason {
    /// The stable code: `allowed`, `denied_by_rule`, …
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionReason::Allowed => "allowed",
            DecisionReason::DeniedByRule => "denied_by_rule",
            DecisionReason::VersionDeleted => "version_deleted",
            DecisionReason::RequirementsNotMet => "requirements_not_met",
            DecisionReason::NoRuleAllows => "no_rule_allows",
        }
    }
}

impl fmt::Display for DecisionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule that applied, and what came of its conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleEvaluation {
    /// The rule's name.
    pub rule: String,
    /// Its effect.
    pub effect: Effect,
    /// The first of its subject selectors that matched (`group platform`, `anyone`).
    pub matched_subject: String,
    /// The first of its resource selectors that matched (`server com.acme/*`).
    pub matched_resource: String,
    /// What it came to.
    pub outcome: RuleOutcome,
    /// Every condition, in the order the rule states them.
    pub conditions: Vec<ConditionResult>,
}

/// What an applicable rule came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleOutcome {
    /// An allow rule whose requirements all held.
    Allows,
    /// An allow rule with a requirement that did not hold.
    RequirementsNotMet,
    /// A deny rule whose conditions all matched.
    Denies,
    /// A deny rule with a condition that did not match.
    ConditionsNotMatched,
}

/// One condition of a rule, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConditionResult {
    /// The field that states it (`maxSeverity`, `severityAtLeast`, …).
    pub condition: String,
    /// Whether it held (for an allow rule: the requirement is met; for a deny rule: the
    /// condition matches, which counts towards denying).
    pub held: bool,
    /// Why, in words: `highest finding severity high is above maxSeverity medium`.
    pub detail: String,
}

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

/// Who asks, as a request states it: the parts of `mcpreg_policy::Subject`, any of them absent.
/// Unknown fields are refused, so that a misspelt part (`group` for `groups`) is not silently
/// decided as an anonymous caller.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestSubject {
    /// The user (an email address or the identity provider's subject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The user's groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The OAuth client or agent id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// A named audience (an allowlist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowlist: Option<String>,
}

impl From<Subject> for RequestSubject {
    fn from(s: Subject) -> Self {
        RequestSubject {
            user: s.user,
            groups: s.groups,
            client: s.client,
            allowlist: s.allowlist,
        }
    }
}

impl From<RequestSubject> for Subject {
    fn from(s: RequestSubject) -> Self {
        Subject {
            user: s.user,
            groups: s.groups,
            client: s.client,
            allowlist: s.allowlist,
        }
    }
}

/// `POST /api/v1/policy/diff`: a document to compare with the current policy.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiffRequest {
    /// The proposed document, YAML or JSON text.
    pub source: String,
    /// Subjects to decide for besides every allowlist (at most 100), such as a user with their
    /// groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<RequestSubject>,
}

/// What applying a document would change.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffAnswer {
    /// The current policy version; `null` when none was applied (everything is denied).
    pub current_version: Option<i64>,
    /// The current policy's digest; `null` when none was applied.
    pub current_digest: Option<String>,
    /// The proposed document's digest (`sha256:` of its canonical JSON); equal to
    /// `currentDigest` when applying it would change nothing.
    pub proposed_digest: String,
    /// The decisions that would change.
    #[serde(flatten)]
    pub diff: PolicyDiff,
}

/// `POST /api/v1/decisions`: who asks for which version.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionRequest {
    /// Who asks; absent or empty: an anonymous caller.
    #[serde(default)]
    pub subject: RequestSubject,
    /// The server's full name, `namespace/name`.
    pub server: String,
    /// The version, or `latest`.
    pub version: String,
}

/// The current policy's decision.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionAnswer {
    /// The policy version that decided; `null` when none was applied (everything is denied).
    pub policy_version: Option<i64>,
    /// The server decided about.
    pub server: ServerName,
    /// The version decided about (`latest` resolved).
    pub version: Version,
    /// Who asked.
    pub subject: Subject,
    /// The decision with its reason, the deciding rules, and every condition of every applicable
    /// rule with why it held or not.
    pub decision: Decision,
}

// `GET|PUT /api/v1/servers/{serverName}/tags`: what a policy's resource selectors can name
// (`resources: [{tag: …}]`).
/// A server's tags.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerTags {
    /// Lower-case letters, digits and `-` (1–63 characters), at most 32; stored sorted and
    /// without duplicates.
    pub tags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_read_as_the_policy_parser_reads_it() {
        assert_eq!(
            PolicyFormat::of_source("{\"rules\": []}"),
            PolicyFormat::Json
        );
        assert_eq!(
            PolicyFormat::of_source("\u{feff}\n  {\"rules\": []}"),
            PolicyFormat::Json
        );
        assert_eq!(
            PolicyFormat::of_source("# {\nrules: []"),
            PolicyFormat::Yaml
        );
        assert_eq!(PolicyFormat::of_source(""), PolicyFormat::Yaml);
        for f in [PolicyFormat::Yaml, PolicyFormat::Json] {
            assert_eq!(PolicyFormat::parse(f.as_str()), Some(f));
        }
        assert_eq!(PolicyFormat::parse("toml"), None);
    }
}
