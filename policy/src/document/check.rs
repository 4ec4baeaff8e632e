//! The checker: walks the untyped tree, records every problem, builds the typed policy.

use std::collections::HashMap;

use mcpreg_api::Status;
use mcpreg_api::review::ReviewState;
use mcpreg_api::scans::FindingSeverity;

use super::fields::{
    NO_HINTS, REQUIRE_FIELDS, REQUIRE_HINTS, RESOURCE_FIELDS, RESOURCE_HINTS, RULE_FIELDS,
    RULE_HINTS, SIGNER_FIELDS, SUBJECT_FIELDS, SUBJECT_HINTS, TOP_FIELDS, WHEN_FIELDS, WHEN_HINTS,
    list_names, unknown_field,
};
use super::{
    API_VERSION, Conditions, DenyCondition, Effect, IdentityMatch, KIND, MAX_DESCRIPTION_LEN,
    MAX_LIST_LEN, MAX_RULE_NAME_LEN, MAX_RULES, MAX_VALUE_LEN, Policy, PolicyIssue, REVIEW_STATES,
    Requirement, ResourceSelector, Rule, SignerSpec, SubjectSelector,
};
use crate::facts::Transport;
use crate::node::{Node, Path};
use crate::pattern::{AnchoredRegex, Glob, GlobKind};

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
pub(super) struct Checker {
    pub(super) issues: Vec<PolicyIssue>,
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

    pub(super) fn policy(&mut self, node: &Node, path: &Path) -> Option<Policy> {
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
