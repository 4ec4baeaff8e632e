//! Policy documents: YAML or JSON text in, a checked [`Policy`] out, or every problem with its
//! path.
//!
//! The document is first read into an untyped tree (so that duplicate keys, unknown fields and
//! wrong types are all found, not just the first), then checked field by field into the types
//! below. A [`Policy`] that exists is valid: its patterns are compiled, its names unique, its
//! conditions meaningful for the rule's effect.

use std::collections::HashMap;
use std::fmt;

use mcpreg_api::Status;
use mcpreg_api::review::ReviewState;
use mcpreg_api::scans::FindingSeverity;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::facts::Transport;
use crate::node::{Node, Path};
use crate::pattern::{AnchoredRegex, Glob, GlobKind};
pub use mcpreg_api::policy::Effect;

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

// ---------------------------------------------------------------------------------------------
// The checker: walks the untyped tree, records every problem, builds the typed policy.

const TOP_FIELDS: &[&str] = &["apiVersion", "kind", "description", "rules"];
const RULE_FIELDS: &[&str] = &[
    "name",
    "description",
    "effect",
    "subjects",
    "resources",
    "require",
    "when",
];
const SUBJECT_FIELDS: &[&str] = &["group", "user", "client", "allowlist", "anyone"];
const RESOURCE_FIELDS: &[&str] = &["server", "namespace", "tag"];
const REQUIRE_FIELDS: &[&str] = &[
    "reviewState",
    "status",
    "signedBy",
    "maxSeverity",
    "transports",
    "remoteHosts",
    "toolsPinned",
    "maxContextTokens",
];
const WHEN_FIELDS: &[&str] = &[
    "reviewState",
    "status",
    "signedBy",
    "notSignedBy",
    "unsigned",
    "severityAtLeast",
    "offersTransport",
    "anyRemoteHostIn",
    "anyRemoteHostNotIn",
    "toolsUnpinned",
    "contextTokensAbove",
];
const SIGNER_FIELDS: &[&str] = &["issuer", "identity", "identityPattern", "keyId"];

/// Fields people reach for in the wrong place, and what to write instead.
const RULE_HINTS: &[(&str, &str)] = &[(
    "conditions",
    "conditions go under `require` in an allow rule (all must hold for it to allow) and under `when` in a deny rule (all must match for it to deny)",
)];
const SUBJECT_HINTS: &[(&str, &str)] = &[
    ("everyone", "to match everyone write `anyone: true`"),
    ("all", "to match everyone write `anyone: true`"),
    ("groups", "name one group per entry: `- group: NAME`"),
    ("users", "name one user per entry: `- user: NAME`"),
];
const RESOURCE_HINTS: &[(&str, &str)] = &[
    ("servers", "name one pattern per entry: `- server: PATTERN`"),
    ("tags", "name one tag per entry: `- tag: NAME`"),
    (
        "name",
        "servers are matched with `server: PATTERN` on the full name `namespace/name`",
    ),
];
const REQUIRE_HINTS: &[(&str, &str)] = &[
    (
        "severityAtLeast",
        "`severityAtLeast` is a deny condition (under `when`); an allow rule requires `maxSeverity`",
    ),
    (
        "offersTransport",
        "`offersTransport` is a deny condition (under `when`); an allow rule requires `transports`",
    ),
    (
        "anyRemoteHostIn",
        "`anyRemoteHostIn` is a deny condition (under `when`); an allow rule requires `remoteHosts`",
    ),
    (
        "anyRemoteHostNotIn",
        "`anyRemoteHostNotIn` is a deny condition (under `when`); an allow rule requires `remoteHosts`",
    ),
    (
        "toolsUnpinned",
        "`toolsUnpinned` is a deny condition (under `when`); an allow rule requires `toolsPinned: true`",
    ),
    (
        "contextTokensAbove",
        "`contextTokensAbove` is a deny condition (under `when`); an allow rule requires `maxContextTokens`",
    ),
    (
        "notSignedBy",
        "`notSignedBy` is a deny condition (under `when`); an allow rule requires `signedBy`",
    ),
    (
        "unsigned",
        "`unsigned` is a deny condition (under `when`); an allow rule requires `signedBy`",
    ),
    (
        "signer",
        "an allow rule requires `signedBy: [{issuer, identity | identityPattern} | {keyId}]`",
    ),
];
const WHEN_HINTS: &[(&str, &str)] = &[
    (
        "maxSeverity",
        "`maxSeverity` is a requirement of allow rules (under `require`); a deny rule matches `severityAtLeast`",
    ),
    ("minSeverity", "a deny rule matches `severityAtLeast`"),
    (
        "transports",
        "`transports` is a requirement of allow rules (under `require`); a deny rule matches `offersTransport`",
    ),
    (
        "remoteHosts",
        "`remoteHosts` is a requirement of allow rules (under `require`); a deny rule matches `anyRemoteHostNotIn` (some remote host is outside the list) or `anyRemoteHostIn`",
    ),
    (
        "toolsPinned",
        "`toolsPinned` is a requirement of allow rules (under `require`); a deny rule matches `toolsUnpinned: true`",
    ),
    (
        "maxContextTokens",
        "`maxContextTokens` is a requirement of allow rules (under `require`); a deny rule matches `contextTokensAbove`",
    ),
    (
        "signer",
        "a deny rule matches `signedBy` (some signer is one of these) or `notSignedBy` (no signer is)",
    ),
];
const NO_HINTS: &[(&str, &str)] = &[];

/// The known fields of a mapping, first occurrence of each.
struct Fields<'a>(Vec<(&'a str, &'a Node)>);

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a Node> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    fn present(&self) -> Vec<&'a str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
}

#[derive(Default)]
struct Checker {
    issues: Vec<PolicyIssue>,
}

impl Checker {
    fn issue(&mut self, path: &Path, message: impl Into<String>) {
        self.issues.push(PolicyIssue {
            path: path.to_string(),
            pointer: path.pointer(),
            message: message.into(),
        });
    }

    fn expected(&mut self, path: &Path, what: &str, node: &Node) {
        self.issue(path, format!("expected {what}, found {}", node.kind()));
    }

    /// A mapping's known fields; duplicates and unknown fields are reported.
    fn fields<'a>(
        &mut self,
        node: &'a Node,
        path: &Path,
        known: &[&str],
        hints: &[(&str, &str)],
    ) -> Option<Fields<'a>> {
        let Node::Map(entries) = node else {
            self.expected(path, "a mapping", node);
            return None;
        };
        let mut fields: Vec<(&str, &Node)> = Vec::new();
        let mut seen: HashMap<&str, ()> = HashMap::new();
        for (key, value) in entries {
            let here = path.field(key);
            if seen.insert(key.as_str(), ()).is_some() {
                self.issue(&here, format!("duplicate field `{key}`"));
                continue;
            }
            if known.contains(&key.as_str()) {
                fields.push((key.as_str(), value));
            } else {
                self.issue(&here, unknown_field(key, known, hints));
            }
        }
        Some(Fields(fields))
    }

    fn required<'a>(&mut self, fields: &Fields<'a>, path: &Path, name: &str) -> Option<&'a Node> {
        let found = fields.get(name);
        if found.is_none() {
            self.issue(
                &path.field(name),
                format!("missing required field `{name}`"),
            );
        }
        found
    }

    fn string<'a>(&mut self, node: &'a Node, path: &Path) -> Option<&'a str> {
        match node {
            Node::Str(s) => Some(s),
            other => {
                self.expected(path, "a string", other);
                None
            }
        }
    }

    /// A plain value: a non-empty string without control characters or surrounding white
    /// space (which would silently never match), at most [`MAX_VALUE_LEN`] long.
    fn value(&mut self, node: &Node, path: &Path) -> Option<String> {
        let s = self.string(node, path)?;
        if s.is_empty() {
            self.issue(path, "must not be empty");
            return None;
        }
        if s.chars().count() > MAX_VALUE_LEN {
            self.issue(path, format!("is longer than {MAX_VALUE_LEN} characters"));
            return None;
        }
        if s.chars().any(char::is_control) {
            self.issue(path, "must not contain control characters");
            return None;
        }
        if s.trim() != s {
            self.issue(
                path,
                format!("`{s}` has white space at its start or end, so it would never match"),
            );
            return None;
        }
        Some(s.to_owned())
    }

    fn description(&mut self, node: Option<&Node>, path: &Path) -> Option<String> {
        let s = self.string(node?, path)?;
        if s.chars().count() > MAX_DESCRIPTION_LEN {
            self.issue(
                path,
                format!("is longer than {MAX_DESCRIPTION_LEN} characters"),
            );
            return None;
        }
        Some(s.to_owned())
    }

    /// A list, at most [`MAX_LIST_LEN`] long; `empty` says why it must not be empty.
    fn list<'a>(
        &mut self,
        node: &'a Node,
        path: &Path,
        max: usize,
        empty: &str,
    ) -> Option<&'a [Node]> {
        let Node::Seq(items) = node else {
            self.expected(path, "a list", node);
            return None;
        };
        if items.is_empty() {
            self.issue(path, format!("must not be empty: {empty}"));
            return None;
        }
        if items.len() > max {
            self.issue(
                path,
                format!("has {} entries, at most {max} are allowed", items.len()),
            );
            return None;
        }
        Some(items)
    }

    /// Checks every item (so that every problem is reported); `None` if any failed.
    fn each<T>(
        &mut self,
        items: &[Node],
        path: &Path,
        mut check: impl FnMut(&mut Self, &Node, &Path) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match check(self, item, &path.index(i)) {
                Some(value) => out.push(value),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// One of a fixed set of names.
    fn one_of<T: Copy>(
        &mut self,
        node: &Node,
        path: &Path,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let s = self.string(node, path)?;
        if let Some((_, value)) = options.iter().find(|(name, _)| *name == s) {
            return Some(*value);
        }
        let expected = options
            .iter()
            .map(|(name, _)| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ");
        self.issue(
            path,
            format!("`{s}` is not {what}; expected one of {expected}"),
        );
        None
    }

    fn must_be_true(&mut self, node: &Node, path: &Path, if_false: &str) -> bool {
        match node {
            Node::Bool(true) => true,
            Node::Bool(false) => {
                self.issue(path, if_false.to_owned());
                false
            }
            other => {
                self.expected(path, "`true`", other);
                false
            }
        }
    }

    fn tokens(&mut self, node: &Node, path: &Path) -> Option<u64> {
        match node {
            Node::Int(i) => match u64::try_from(*i) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.issue(
                        path,
                        format!("expected a number of tokens (0 or more), found {i}"),
                    );
                    None
                }
            },
            other => {
                self.expected(path, "a number of tokens (an integer)", other);
                None
            }
        }
    }

    // --- the document -----------------------------------------------------------------------

    fn policy(&mut self, node: &Node, path: &Path) -> Option<Policy> {
        let fields = self.fields(node, path, TOP_FIELDS, NO_HINTS)?;
        if let Some(v) = self.required(&fields, path, "apiVersion") {
            let here = path.field("apiVersion");
            if let Some(s) = self.string(v, &here)
                && s != API_VERSION
            {
                self.issue(
                    &here,
                    format!("`{s}` is not supported; expected `{API_VERSION}`"),
                );
            }
        }
        if let Some(v) = self.required(&fields, path, "kind") {
            let here = path.field("kind");
            if let Some(s) = self.string(v, &here)
                && s != KIND
            {
                self.issue(&here, format!("`{s}` is not supported; expected `{KIND}`"));
            }
        }
        let description = self.description(fields.get("description"), &path.field("description"));
        let rules_node = self.required(&fields, path, "rules")?;
        let rules_path = path.field("rules");
        let rules = match rules_node {
            // An empty policy is valid: it allows nothing.
            Node::Seq(items) if items.is_empty() => Some(Vec::new()),
            _ => {
                let items = self.list(rules_node, &rules_path, MAX_RULES, "")?;
                let rules = self.each(items, &rules_path, Self::rule);
                self.unique_names(items, &rules_path);
                rules
            }
        }?;
        Some(Policy { description, rules })
    }

    fn unique_names(&mut self, items: &[Node], path: &Path) {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let Node::Map(entries) = item else { continue };
            let Some((_, Node::Str(name))) = entries.iter().find(|(k, _)| k == "name") else {
                continue;
            };
            match first.get(name.as_str()) {
                Some(&earlier) => self.issue(
                    &path.index(i).field("name"),
                    format!("rule name `{name}` is already used by rules[{earlier}]"),
                ),
                None => {
                    first.insert(name, i);
                }
            }
        }
    }

    fn rule(&mut self, node: &Node, path: &Path) -> Option<Rule> {
        let fields = self.fields(node, path, RULE_FIELDS, RULE_HINTS)?;
        let name = self
            .required(&fields, path, "name")
            .and_then(|n| self.rule_name(n, &path.field("name")));
        let description = self.description(fields.get("description"), &path.field("description"));
        let effect = self.required(&fields, path, "effect").and_then(|e| {
            self.one_of(
                e,
                &path.field("effect"),
                "an effect",
                &[("allow", Effect::Allow), ("deny", Effect::Deny)],
            )
        });
        let subjects = self.required(&fields, path, "subjects").and_then(|s| {
            let here = path.field("subjects");
            let items = self.list(
                s,
                &here,
                MAX_LIST_LEN,
                "a rule names at least one subject (write `anyone: true` to match everyone)",
            )?;
            self.each(items, &here, Self::subject)
        });
        let resources = self.required(&fields, path, "resources").and_then(|r| {
            let here = path.field("resources");
            let items = self.list(
                r,
                &here,
                MAX_LIST_LEN,
                "a rule names at least one resource (write `server: \"*/*\"` to match every server)",
            )?;
            self.each(items, &here, Self::resource)
        });
        let require = fields.get("require");
        let when = fields.get("when");
        let conditions = match effect {
            Some(Effect::Allow) => {
                if when.is_some() {
                    self.issue(
                        &path.field("when"),
                        "an allow rule states what it needs under `require` (all must hold for it to allow); `when` is for deny rules",
                    );
                }
                match require {
                    Some(r) => self.requirements(r, &path.field("require")),
                    None => {
                        self.issue(
                            &path.field("require"),
                            "missing required field `require`: an allow rule must state at least `reviewState`, such as `require: {reviewState: [approved]}`",
                        );
                        None
                    }
                }
                .map(Conditions::Allow)
            }
            Some(Effect::Deny) => {
                if require.is_some() {
                    self.issue(
                        &path.field("require"),
                        "a deny rule states when it denies under `when` (all must match for it to deny); `require` is for allow rules",
                    );
                }
                match when {
                    Some(w) => self.deny_conditions(w, &path.field("when")),
                    None => Some(Vec::new()),
                }
                .map(Conditions::Deny)
            }
            None => {
                // Still check what is there, so that one pass reports everything.
                if let Some(r) = require {
                    self.requirements(r, &path.field("require"));
                }
                if let Some(w) = when {
                    self.deny_conditions(w, &path.field("when"));
                }
                None
            }
        };
        Some(Rule {
            name: name?,
            description,
            subjects: subjects?,
            resources: resources?,
            conditions: conditions?,
        })
    }

    fn rule_name(&mut self, node: &Node, path: &Path) -> Option<String> {
        let s = self.string(node, path)?;
        let valid = !s.is_empty()
            && s.len() <= MAX_RULE_NAME_LEN
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && !s.ends_with('-')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            self.issue(
                path,
                format!(
                    "rule name `{s}` must be 1 to {MAX_RULE_NAME_LEN} lower-case letters, digits and `-`, not starting or ending with `-`"
                ),
            );
            return None;
        }
        Some(s.to_owned())
    }

    /// The one field of a selector: exactly one of `known` must be present.
    fn only_field<'a>(
        &mut self,
        node: &'a Node,
        path: &Path,
        known: &[&str],
        hints: &[(&str, &str)],
        what: &str,
    ) -> Option<(&'a str, &'a Node)> {
        let fields = self.fields(node, path, known, hints)?;
        match fields.0.as_slice() {
            [one] => Some(*one),
            [] => {
                // Unknown fields were reported already; say what is needed only if nothing was.
                if matches!(node, Node::Map(entries) if entries.is_empty()) {
                    self.issue(path, format!("{what} needs one of {}", list_names(known)));
                }
                None
            }
            _ => {
                let present = fields.present();
                self.issue(
                    path,
                    format!(
                        "{what} names exactly one of {}; found {}: write each as its own list entry",
                        list_names(known),
                        list_names(&present)
                    ),
                );
                None
            }
        }
    }

    fn subject(&mut self, node: &Node, path: &Path) -> Option<SubjectSelector> {
        let (key, value) =
            self.only_field(node, path, SUBJECT_FIELDS, SUBJECT_HINTS, "a subject")?;
        let here = path.field(key);
        match key {
            "anyone" => self
                .must_be_true(
                    value,
                    &here,
                    "`anyone` can only be `true`; to match nobody, remove the subject",
                )
                .then_some(SubjectSelector::Anyone),
            "user" => self.value(value, &here).map(SubjectSelector::User),
            "group" => self.value(value, &here).map(SubjectSelector::Group),
            "client" => self.value(value, &here).map(SubjectSelector::Client),
            _ => self.value(value, &here).map(SubjectSelector::Allowlist),
        }
    }

    fn resource(&mut self, node: &Node, path: &Path) -> Option<ResourceSelector> {
        let (key, value) =
            self.only_field(node, path, RESOURCE_FIELDS, RESOURCE_HINTS, "a resource")?;
        let here = path.field(key);
        match key {
            "server" => self
                .glob(value, &here, GlobKind::Server)
                .map(ResourceSelector::Server),
            "namespace" => self
                .glob(value, &here, GlobKind::Namespace)
                .map(ResourceSelector::Namespace),
            _ => self.value(value, &here).map(ResourceSelector::Tag),
        }
    }

    fn glob(&mut self, node: &Node, path: &Path, kind: GlobKind) -> Option<Glob> {
        let s = self.string(node, path)?;
        Glob::parse(s, kind).map_err(|e| self.issue(path, e)).ok()
    }

    fn globs(&mut self, node: &Node, path: &Path, kind: GlobKind) -> Option<Vec<Glob>> {
        let items = self.list(node, path, MAX_LIST_LEN, "list at least one pattern")?;
        self.each(items, path, |c, item, here| c.glob(item, here, kind))
    }

    fn review_states(&mut self, node: &Node, path: &Path, allow: bool) -> Option<Vec<ReviewState>> {
        let items = self.list(node, path, MAX_LIST_LEN, "list at least one review state")?;
        let options: Vec<(&str, ReviewState)> =
            REVIEW_STATES.iter().map(|s| (s.as_str(), *s)).collect();
        let states = self.each(items, path, |c, item, here| {
            let state = c.one_of(item, here, "a review state", &options)?;
            if allow && matches!(state, ReviewState::Rejected | ReviewState::Revoked) {
                c.issue(
                    here,
                    format!("a {state} version can never be allowed; an allow rule may require `submitted` or `approved`"),
                );
                return None;
            }
            Some(state)
        })?;
        Some(dedup(states))
    }

    fn statuses(&mut self, node: &Node, path: &Path, allow: bool) -> Option<Vec<Status>> {
        let items = self.list(node, path, MAX_LIST_LEN, "list at least one status")?;
        let options = [
            ("active", Status::Active),
            ("deprecated", Status::Deprecated),
            ("deleted", Status::Deleted),
        ];
        let statuses = self.each(items, path, |c, item, here| {
            let status = c.one_of(item, here, "a status", &options)?;
            if allow && status == Status::Deleted {
                c.issue(
                    here,
                    "a deleted version can never be allowed; an allow rule may require `active` or `deprecated`",
                );
                return None;
            }
            Some(status)
        })?;
        Some(dedup(statuses))
    }

    fn transports(&mut self, node: &Node, path: &Path) -> Option<Vec<Transport>> {
        let items = self.list(node, path, MAX_LIST_LEN, "list at least one transport")?;
        let options: Vec<(&str, Transport)> =
            Transport::ALL.iter().map(|t| (t.as_str(), *t)).collect();
        let transports = self.each(items, path, |c, item, here| {
            c.one_of(item, here, "a transport", &options)
        })?;
        Some(dedup(transports))
    }

    fn severity(&mut self, node: &Node, path: &Path) -> Option<FindingSeverity> {
        let options = [
            ("info", FindingSeverity::Info),
            ("low", FindingSeverity::Low),
            ("medium", FindingSeverity::Medium),
            ("high", FindingSeverity::High),
            ("critical", FindingSeverity::Critical),
        ];
        self.one_of(node, path, "a severity", &options)
    }

    fn signers(&mut self, node: &Node, path: &Path) -> Option<Vec<SignerSpec>> {
        let items = self.list(node, path, MAX_LIST_LEN, "list at least one signer")?;
        self.each(items, path, Self::signer)
    }

    fn signer(&mut self, node: &Node, path: &Path) -> Option<SignerSpec> {
        let fields = self.fields(node, path, SIGNER_FIELDS, NO_HINTS)?;
        let issuer = fields.get("issuer");
        let identity = fields.get("identity");
        let pattern = fields.get("identityPattern");
        let key_id = fields.get("keyId");
        if let Some(key_id) = key_id {
            if issuer.is_some() || identity.is_some() || pattern.is_some() {
                self.issue(
                    path,
                    "a key signer has only `keyId`; `issuer`, `identity` and `identityPattern` are for keyless signers: write them as another list entry",
                );
                return None;
            }
            return self.key_id(key_id, &path.field("keyId"));
        }
        let identity = match (identity, pattern) {
            (Some(_), Some(_)) => {
                self.issue(path, "give `identity` or `identityPattern`, not both");
                None
            }
            (Some(exact), None) => self
                .value(exact, &path.field("identity"))
                .map(IdentityMatch::Exact),
            (None, Some(pattern)) => {
                let here = path.field("identityPattern");
                self.string(pattern, &here).and_then(|s| {
                    AnchoredRegex::parse(s)
                        .map_err(|e| self.issue(&here, e))
                        .ok()
                        .map(IdentityMatch::Pattern)
                })
            }
            (None, None) => {
                self.issue(
                    path,
                    "a signer needs `issuer` with `identity` or `identityPattern` (keyless), or `keyId` (a key)",
                );
                return None;
            }
        };
        let issuer = match issuer {
            Some(issuer) => self.issuer(issuer, &path.field("issuer")),
            None => {
                self.issue(
                    &path.field("issuer"),
                    "missing required field `issuer`: a keyless signer is trusted only together with the OIDC issuer that vouched for it",
                );
                None
            }
        };
        Some(SignerSpec::Keyless {
            issuer: issuer?,
            identity: identity?,
        })
    }

    fn issuer(&mut self, node: &Node, path: &Path) -> Option<String> {
        let s = self.value(node, path)?;
        match url::Url::parse(&s) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Some(s),
            _ => {
                self.issue(
                    path,
                    format!("issuer `{s}` is not an OIDC issuer URL such as `https://token.actions.githubusercontent.com`"),
                );
                None
            }
        }
    }

    fn key_id(&mut self, node: &Node, path: &Path) -> Option<SignerSpec> {
        let s = self.value(node, path)?;
        let valid = s.strip_prefix("sha256:").is_some_and(|hex| {
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if !valid {
            self.issue(
                path,
                format!("key id `{s}` must be `sha256:` followed by 64 lower-case hex digits (the digest of the key's DER SubjectPublicKeyInfo)"),
            );
            return None;
        }
        Some(SignerSpec::Key { key_id: s })
    }

    fn requirements(&mut self, node: &Node, path: &Path) -> Option<Vec<Requirement>> {
        let fields = self.fields(node, path, REQUIRE_FIELDS, REQUIRE_HINTS)?;
        if fields.get("reviewState").is_none() {
            self.issue(
                &path.field("reviewState"),
                "missing required field `reviewState`: an allow rule must say which review states it allows, such as `[approved]`",
            );
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (key, value) in &fields.0 {
            let here = path.field(key);
            let requirement = match *key {
                "reviewState" => self
                    .review_states(value, &here, true)
                    .map(Requirement::ReviewState),
                "status" => self.statuses(value, &here, true).map(Requirement::Status),
                "signedBy" => self.signers(value, &here).map(Requirement::SignedBy),
                "maxSeverity" => self.severity(value, &here).map(Requirement::MaxSeverity),
                "transports" => self.transports(value, &here).map(Requirement::Transports),
                "remoteHosts" => self
                    .globs(value, &here, GlobKind::Host)
                    .map(Requirement::RemoteHosts),
                "toolsPinned" => self
                    .must_be_true(
                        value,
                        &here,
                        "`toolsPinned: false` would require nothing; remove it (to deny unpinned versions, use a deny rule with `toolsUnpinned: true`)",
                    )
                    .then_some(Requirement::ToolsPinned),
                _ => self.tokens(value, &here).map(Requirement::MaxContextTokens),
            };
            match requirement {
                Some(r) => out.push(r),
                None => ok = false,
            }
        }
        (ok && fields.get("reviewState").is_some()).then_some(out)
    }

    fn deny_conditions(&mut self, node: &Node, path: &Path) -> Option<Vec<DenyCondition>> {
        let fields = self.fields(node, path, WHEN_FIELDS, WHEN_HINTS)?;
        let mut out = Vec::new();
        let mut ok = true;
        for (key, value) in &fields.0 {
            let here = path.field(key);
            let condition = match *key {
                "reviewState" => self
                    .review_states(value, &here, false)
                    .map(DenyCondition::ReviewState),
                "status" => self.statuses(value, &here, false).map(DenyCondition::Status),
                "signedBy" => self.signers(value, &here).map(DenyCondition::SignedBy),
                "notSignedBy" => self.signers(value, &here).map(DenyCondition::NotSignedBy),
                "unsigned" => self
                    .must_be_true(
                        value,
                        &here,
                        "`unsigned: false` would match every version; remove it (to require a signature, use `notSignedBy` or an allow rule's `signedBy`)",
                    )
                    .then_some(DenyCondition::Unsigned),
                "severityAtLeast" => self
                    .severity(value, &here)
                    .map(DenyCondition::SeverityAtLeast),
                "offersTransport" => self
                    .transports(value, &here)
                    .map(DenyCondition::OffersTransport),
                "anyRemoteHostIn" => self
                    .globs(value, &here, GlobKind::Host)
                    .map(DenyCondition::AnyRemoteHostIn),
                "anyRemoteHostNotIn" => self
                    .globs(value, &here, GlobKind::Host)
                    .map(DenyCondition::AnyRemoteHostNotIn),
                "toolsUnpinned" => self
                    .must_be_true(
                        value,
                        &here,
                        "`toolsUnpinned: false` would match every version; remove it",
                    )
                    .then_some(DenyCondition::ToolsUnpinned),
                _ => self
                    .tokens(value, &here)
                    .map(DenyCondition::ContextTokensAbove),
            };
            match condition {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn list_names(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_field(key: &str, known: &[&str], hints: &[(&str, &str)]) -> String {
    if let Some((_, hint)) = hints.iter().find(|(k, _)| *k == key) {
        return format!("unknown field `{key}`: {hint}");
    }
    let close = known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(key))
        .or_else(|| {
            known
                .iter()
                .filter(|k| key.len() >= 3 && edit_distance(k, key) <= 2)
                .min_by_key(|k| edit_distance(k, key))
        });
    match close {
        Some(suggestion) => format!("unknown field `{key}`; did you mean `{suggestion}`?"),
        None => format!(
            "unknown field `{key}`; expected one of {}",
            list_names(known)
        ),
    }
}

/// Levenshtein distance, for "did you mean" on short field names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
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

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("reviewState", "reviewState"), 0);
        assert_eq!(edit_distance("reviewState", "reviewStat"), 1);
        assert_eq!(edit_distance("group", "grop"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn unknown_fields_suggest_the_nearest_known_one() {
        assert_eq!(
            unknown_field("reviewstate", REQUIRE_FIELDS, REQUIRE_HINTS),
            "unknown field `reviewstate`; did you mean `reviewState`?"
        );
        assert_eq!(
            unknown_field("zzz", RESOURCE_FIELDS, NO_HINTS),
            "unknown field `zzz`; expected one of `server`, `namespace`, `tag`"
        );
    }
}
