//! Policy documents: YAML or JSON text in, a checked [`Policy`] out, or every problem with its
//! path.
//!
//! The document is first read into an untyped tree (so that duplicate keys, unknown fields and
//! wrong types are all found, not just the first), then checked field by field into the types
//! below. A [`Policy`] that exists is valid: its patterns are compiled, its names unique, its
//! conditions meaningful for the rule's effect.
//!
//! This file holds the types; `check` walks the tree into them, and `fields` holds the fields
//! each mapping knows and the hints and suggestions for the ones it does not.

use std::fmt;

use mcpreg_api::Status;
use mcpreg_api::review::ReviewState;
use mcpreg_api::scans::FindingSeverity;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::facts::Transport;
use crate::node::{Node, Path};
use crate::pattern::{AnchoredRegex, Glob};
pub use mcpreg_api::policy::Effect;

mod check;
mod fields;

use check::Checker;

/// The only `apiVersion` this crate reads.
pub const API_VERSION: &str = "mcpreg.dev/v1";

/// The only `kind` of document this crate reads.
pub const KIND: &str = "Policy";

/// Every review state, in the order of the review (the order `reviewState` errors list them in).
const REVIEW_STATES: [ReviewState; 4] = [
    ReviewState::Submitted,
    ReviewState::Approved,
    ReviewState::Rejected,
    ReviewState::Revoked,
];

/// Largest document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Most rules a document may hold.
pub const MAX_RULES: usize = 500;

/// Most entries of any list in a rule (subjects, resources, the values of a condition).
pub const MAX_LIST_LEN: usize = 100;

/// Longest rule name.
pub const MAX_RULE_NAME_LEN: usize = 63;

/// Longest description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 1000;

/// Longest plain value (a group, user, client, allowlist, tag, issuer or key id).
pub const MAX_VALUE_LEN: usize = 256;

/// A checked policy: rules in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    description: Option<String>,
    rules: Vec<Rule>,
}

/// One rule: whom and what it is about, and what it does when it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    name: String,
    description: Option<String>,
    subjects: Vec<SubjectSelector>,
    resources: Vec<ResourceSelector>,
    conditions: Conditions,
}

/// A rule's conditions, typed by its effect, so that an allow rule can only hold requirements
/// and a deny rule only deny conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditions {
    /// An allow rule grants only when every requirement holds (`require:`).
    Allow(Vec<Requirement>),
    /// A deny rule denies when every condition matches (`when:`); with none, whenever it
    /// applies.
    Deny(Vec<DenyCondition>),
}

/// Who a rule is about. A rule lists several; any one matching is enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectSelector {
    /// Everyone, including a caller with no user, group, client or allowlist (`anyone: true`).
    Anyone,
    /// A user, exactly (`user:`).
    User(String),
    /// A member of a group, exactly (`group:`).
    Group(String),
    /// An OAuth client or agent, exactly (`client:`).
    Client(String),
    /// A named audience, exactly (`allowlist:`).
    Allowlist(String),
}

/// What a rule is about. A rule lists several; any one matching is enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceSelector {
    /// Servers whose full name matches (`server: "com.acme/*"`).
    Server(Glob),
    /// Servers whose namespace matches (`namespace: "io.github.*"`).
    Namespace(Glob),
    /// Servers with this tag, ignoring ASCII case (`tag:`).
    Tag(String),
}

/// A requirement of an allow rule (under `require:`). Each says what must be true of the
/// version for the rule to allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// The review state is one of these (`reviewState`; only `submitted` and `approved` can
    /// be allowed). Every allow rule states it.
    ReviewState(Vec<ReviewState>),
    /// The status is one of these (`status`; `active`, `deprecated`).
    Status(Vec<Status>),
    /// At least one verified signer matches at least one of these (`signedBy`).
    SignedBy(Vec<SignerSpec>),
    /// No unsuppressed finding is more severe than this (`maxSeverity`).
    MaxSeverity(FindingSeverity),
    /// Every transport the version offers is one of these (`transports`).
    Transports(Vec<Transport>),
    /// The host of every remote URL matches one of these (`remoteHosts`); holds for a version
    /// without remotes.
    RemoteHosts(Vec<Glob>),
    /// The version has a tools pin (`toolsPinned: true`).
    ToolsPinned,
    /// The context cost is known and at most this many tokens (`maxContextTokens`).
    MaxContextTokens(u64),
}

/// A condition of a deny rule (under `when:`). Each says what must be true of the version for
/// the rule to deny it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenyCondition {
    /// The review state is one of these (`reviewState`).
    ReviewState(Vec<ReviewState>),
    /// The status is one of these (`status`).
    Status(Vec<Status>),
    /// At least one verified signer matches one of these (`signedBy`): a compromised key.
    SignedBy(Vec<SignerSpec>),
    /// No verified signer matches any of these (`notSignedBy`).
    NotSignedBy(Vec<SignerSpec>),
    /// The version has no verified signature at all (`unsigned: true`).
    Unsigned,
    /// Some unsuppressed finding is at least this severe (`severityAtLeast`).
    SeverityAtLeast(FindingSeverity),
    /// The version offers at least one of these transports (`offersTransport`).
    OffersTransport(Vec<Transport>),
    /// The host of at least one remote URL matches one of these (`anyRemoteHostIn`).
    AnyRemoteHostIn(Vec<Glob>),
    /// The host of at least one remote URL matches none of these, or cannot be read
    /// (`anyRemoteHostNotIn`).
    AnyRemoteHostNotIn(Vec<Glob>),
    /// The version has no tools pin (`toolsUnpinned: true`).
    ToolsUnpinned,
    /// The context cost is above this many tokens, or unknown (`contextTokensAbove`).
    ContextTokensAbove(u64),
}

/// A signer a condition names: keyless (issuer and identity, exact or pattern) or a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerSpec {
    /// A keyless signer: the OIDC issuer exactly, and the certificate identity.
    Keyless {
        /// The OIDC issuer, exactly.
        issuer: String,
        /// How the identity is matched.
        identity: IdentityMatch,
    },
    /// A key signer, by key id (`sha256:<64 hex>`).
    Key {
        /// The key id.
        key_id: String,
    },
}

/// How a keyless signer's identity is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityMatch {
    /// Exactly this identity (`identity:`).
    Exact(String),
    /// An anchored regular expression (`identityPattern:`).
    Pattern(AnchoredRegex),
}

/// One problem in a document and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyIssue {
    /// Where, as a dotted path: `rules[2].resources[0].server`; empty for the document as a
    /// whole (a syntax error, a document too large).
    pub path: String,
    /// The same place as an RFC 6901 JSON pointer: `/rules/2/resources/0/server`.
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for PolicyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "document: {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a document is not a policy: every problem found, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The problems; never empty.
    pub issues: Vec<PolicyIssue>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.issues.as_slice() {
            [one] => write!(f, "invalid policy: {one}"),
            many => {
                write!(f, "invalid policy, {} problems:", many.len())?;
                for issue in many {
                    write!(f, "\n  {issue}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PolicyError {}

impl PolicyError {
    fn document(message: impl Into<String>) -> Self {
        Self {
            issues: vec![PolicyIssue {
                path: String::new(),
                pointer: String::new(),
                message: message.into(),
            }],
        }
    }
}

impl Policy {
    /// Reads a YAML document (YAML 1.2; one document; no tags).
    pub fn parse_yaml(text: &str) -> Result<Self, PolicyError> {
        check_size(text.len())?;
        let node: Node = serde_yaml_ng::from_str(text)
            .map_err(|e| PolicyError::document(format!("not valid YAML: {e}")))?;
        Self::from_node(&node)
    }

    /// Reads a JSON document.
    pub fn parse_json(text: &str) -> Result<Self, PolicyError> {
        check_size(text.len())?;
        let node: Node = serde_json::from_str(text)
            .map_err(|e| PolicyError::document(format!("not valid JSON: {e}")))?;
        Self::from_node(&node)
    }

    /// Reads a document in either format: JSON when its first character (after a byte order
    /// mark and white space) is `{`, YAML otherwise.
    pub fn parse(bytes: &[u8]) -> Result<Self, PolicyError> {
        check_size(bytes.len())?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            PolicyError::document(format!(
                "not UTF-8 text: invalid byte at offset {}",
                e.valid_up_to()
            ))
        })?;
        if text.trim_start().starts_with('{') {
            Self::parse_json(text)
        } else {
            Self::parse_yaml(text)
        }
    }

    fn from_node(node: &Node) -> Result<Self, PolicyError> {
        let mut checker = Checker::default();
        let policy = checker.policy(node, &Path::root());
        match policy {
            Some(policy) if checker.issues.is_empty() => Ok(policy),
            _ => Err(PolicyError {
                issues: checker.issues,
            }),
        }
    }

    /// The document's description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The rules, in document order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this name.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.name == name)
    }

    /// The policy as a canonical JSON document, which [`Policy::parse_json`] reads back to an
    /// equal policy: what to store and show.
    pub fn to_json(&self) -> Value {
        let mut doc = serde_json::Map::new();
        doc.insert("apiVersion".into(), API_VERSION.into());
        doc.insert("kind".into(), KIND.into());
        if let Some(description) = &self.description {
            doc.insert("description".into(), description.as_str().into());
        }
        doc.insert(
            "rules".into(),
            self.rules.iter().map(Rule::to_json).collect(),
        );
        Value::Object(doc)
    }
}

fn check_size(len: usize) -> Result<(), PolicyError> {
    if len > MAX_DOCUMENT_BYTES {
        return Err(PolicyError::document(format!(
            "document is {len} bytes, at most {MAX_DOCUMENT_BYTES} are allowed"
        )));
    }
    Ok(())
}

impl Rule {
    /// The rule's name: unique in its policy, `[a-z0-9-]`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Allow or deny.
    pub fn effect(&self) -> Effect {
        match self.conditions {
            Conditions::Allow(_) => Effect::Allow,
            Conditions::Deny(_) => Effect::Deny,
        }
    }

    /// Whom it is about: any of these.
    pub fn subjects(&self) -> &[SubjectSelector] {
        &self.subjects
    }

    /// What it is about: any of these.
    pub fn resources(&self) -> &[ResourceSelector] {
        &self.resources
    }

    /// Its conditions, typed by its effect.
    pub fn conditions(&self) -> &Conditions {
        &self.conditions
    }

    fn to_json(&self) -> Value {
        let mut rule = serde_json::Map::new();
        rule.insert("name".into(), self.name.as_str().into());
        if let Some(description) = &self.description {
            rule.insert("description".into(), description.as_str().into());
        }
        rule.insert("effect".into(), self.effect().as_str().into());
        rule.insert(
            "subjects".into(),
            self.subjects.iter().map(SubjectSelector::to_json).collect(),
        );
        rule.insert(
            "resources".into(),
            self.resources
                .iter()
                .map(ResourceSelector::to_json)
                .collect(),
        );
        match &self.conditions {
            Conditions::Allow(requirements) => {
                let map = requirements
                    .iter()
                    .map(|r| (r.key().to_owned(), r.value_json()))
                    .collect();
                rule.insert("require".into(), Value::Object(map));
            }
            Conditions::Deny(conditions) if conditions.is_empty() => {}
            Conditions::Deny(conditions) => {
                let map = conditions
                    .iter()
                    .map(|c| (c.key().to_owned(), c.value_json()))
                    .collect();
                rule.insert("when".into(), Value::Object(map));
            }
        }
        Value::Object(rule)
    }
}

impl SubjectSelector {
    fn to_json(&self) -> Value {
        match self {
            SubjectSelector::Anyone => json!({"anyone": true}),
            SubjectSelector::User(v) => json!({"user": v}),
            SubjectSelector::Group(v) => json!({"group": v}),
            SubjectSelector::Client(v) => json!({"client": v}),
            SubjectSelector::Allowlist(v) => json!({"allowlist": v}),
        }
    }
}

impl fmt::Display for SubjectSelector {
    /// `group platform`, `anyone`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectSelector::Anyone => f.write_str("anyone"),
            SubjectSelector::User(v) => write!(f, "user {v}"),
            SubjectSelector::Group(v) => write!(f, "group {v}"),
            SubjectSelector::Client(v) => write!(f, "client {v}"),
            SubjectSelector::Allowlist(v) => write!(f, "allowlist {v}"),
        }
    }
}

impl ResourceSelector {
    fn to_json(&self) -> Value {
        match self {
            ResourceSelector::Server(g) => json!({"server": g.as_str()}),
            ResourceSelector::Namespace(g) => json!({"namespace": g.as_str()}),
            ResourceSelector::Tag(t) => json!({"tag": t}),
        }
    }
}

impl fmt::Display for ResourceSelector {
    /// `server com.acme/*`, `namespace io.github.acme`, `tag internal`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceSelector::Server(g) => write!(f, "server {g}"),
            ResourceSelector::Namespace(g) => write!(f, "namespace {g}"),
            ResourceSelector::Tag(t) => write!(f, "tag {t}"),
        }
    }
}

impl Requirement {
    /// The field that states it under `require:` (`maxSeverity`, …).
    pub fn key(&self) -> &'static str {
        match self {
            Requirement::ReviewState(_) => "reviewState",
            Requirement::Status(_) => "status",
            Requirement::SignedBy(_) => "signedBy",
            Requirement::MaxSeverity(_) => "maxSeverity",
            Requirement::Transports(_) => "transports",
            Requirement::RemoteHosts(_) => "remoteHosts",
            Requirement::ToolsPinned => "toolsPinned",
            Requirement::MaxContextTokens(_) => "maxContextTokens",
        }
    }

    fn value_json(&self) -> Value {
        match self {
            Requirement::ReviewState(states) => names(states, |s| s.as_str()),
            Requirement::Status(statuses) => names(statuses, |s| s.as_str()),
            Requirement::SignedBy(specs) => specs.iter().map(SignerSpec::to_json).collect(),
            Requirement::MaxSeverity(s) => s.as_str().into(),
            Requirement::Transports(ts) => names(ts, |t| t.as_str()),
            Requirement::RemoteHosts(globs) => names(globs, Glob::as_str),
            Requirement::ToolsPinned => true.into(),
            Requirement::MaxContextTokens(n) => (*n).into(),
        }
    }
}

impl DenyCondition {
    /// The field that states it under `when:` (`severityAtLeast`, …).
    pub fn key(&self) -> &'static str {
        match self {
            DenyCondition::ReviewState(_) => "reviewState",
            DenyCondition::Status(_) => "status",
            DenyCondition::SignedBy(_) => "signedBy",
            DenyCondition::NotSignedBy(_) => "notSignedBy",
            DenyCondition::Unsigned => "unsigned",
            DenyCondition::SeverityAtLeast(_) => "severityAtLeast",
            DenyCondition::OffersTransport(_) => "offersTransport",
            DenyCondition::AnyRemoteHostIn(_) => "anyRemoteHostIn",
            DenyCondition::AnyRemoteHostNotIn(_) => "anyRemoteHostNotIn",
            DenyCondition::ToolsUnpinned => "toolsUnpinned",
            DenyCondition::ContextTokensAbove(_) => "contextTokensAbove",
        }
    }

    fn value_json(&self) -> Value {
        match self {
            DenyCondition::ReviewState(states) => names(states, |s| s.as_str()),
            DenyCondition::Status(statuses) => names(statuses, |s| s.as_str()),
            DenyCondition::SignedBy(specs) | DenyCondition::NotSignedBy(specs) => {
                specs.iter().map(SignerSpec::to_json).collect()
            }
            DenyCondition::Unsigned | DenyCondition::ToolsUnpinned => true.into(),
            DenyCondition::SeverityAtLeast(s) => s.as_str().into(),
            DenyCondition::OffersTransport(ts) => names(ts, |t| t.as_str()),
            DenyCondition::AnyRemoteHostIn(globs) | DenyCondition::AnyRemoteHostNotIn(globs) => {
                names(globs, Glob::as_str)
            }
            DenyCondition::ContextTokensAbove(n) => (*n).into(),
        }
    }
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> Value {
    items.iter().map(|item| Value::from(name(item))).collect()
}

impl SignerSpec {
    fn to_json(&self) -> Value {
        match self {
            SignerSpec::Keyless {
                issuer,
                identity: IdentityMatch::Exact(identity),
            } => json!({"issuer": issuer, "identity": identity}),
            SignerSpec::Keyless {
                issuer,
                identity: IdentityMatch::Pattern(pattern),
            } => json!({"issuer": issuer, "identityPattern": pattern.as_str()}),
            SignerSpec::Key { key_id } => json!({"keyId": key_id}),
        }
    }

    /// Whether this verified signer is one this spec names.
    pub fn matches(&self, signer: &crate::facts::SignerFact) -> bool {
        use crate::facts::SignerFact;
        match (self, signer) {
            (
                SignerSpec::Keyless {
                    issuer: want_issuer,
                    identity: matcher,
                },
                SignerFact::Keyless { issuer, identity },
            ) => {
                want_issuer == issuer
                    && match matcher {
                        IdentityMatch::Exact(want) => want == identity,
                        IdentityMatch::Pattern(pattern) => pattern.matches(identity),
                    }
            }
            (SignerSpec::Key { key_id: want }, SignerFact::Key { key_id }) => {
                want.eq_ignore_ascii_case(key_id)
            }
            _ => false,
        }
    }
}

impl fmt::Display for SignerSpec {
    /// `issuer X identity Y`, `issuer X identity pattern Y`, `key sha256:…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignerSpec::Keyless {
                issuer,
                identity: IdentityMatch::Exact(identity),
            } => write!(f, "issuer {issuer} identity {identity}"),
            SignerSpec::Keyless {
                issuer,
                identity: IdentityMatch::Pattern(pattern),
            } => write!(f, "issuer {issuer} identity pattern {pattern}"),
            SignerSpec::Key { key_id } => write!(f, "key {key_id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_states_lists_every_state_once_in_review_order() {
        // Exhaustive: a state added to `ReviewState` fails to compile here until it is listed.
        let position = |s: ReviewState| match s {
            ReviewState::Submitted => 0,
            ReviewState::Approved => 1,
            ReviewState::Rejected => 2,
            ReviewState::Revoked => 3,
        };
        for (i, state) in REVIEW_STATES.into_iter().enumerate() {
            assert_eq!(position(state), i, "{state}");
            assert_eq!(ReviewState::parse(state.as_str()), Some(state));
        }
    }
}
