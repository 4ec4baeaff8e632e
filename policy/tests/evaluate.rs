//! Evaluation: every condition true and false for allow and deny rules, precedence, subjects,
//! resources, and the decision as it goes on the wire.

use std::collections::BTreeSet;

use crate::util::{GITHUB_ISSUER, KEY_ID, RELEASE_IDENTITY, facts, policy};
use mcpreg_api::scans::FindingSeverity;
use mcpreg_api::{ServerName, Status};
use mcpreg_policy::{
    ConditionResult, DecisionReason, Effect, ReviewState, RuleOutcome, SignerFact, Subject,
    Transport, VersionFacts, allowed_versions, evaluate, evaluate_many,
};
use serde_json::json;

const PATTERN: &str = r"^https://github\.com/acme/.*$";

fn alice() -> Subject {
    Subject::user("alice@acme.com", ["platform"])
}

fn evil_signer() -> SignerFact {
    SignerFact::Keyless {
        issuer: GITHUB_ISSUER.to_owned(),
        identity: "https://github.com/evil/x/.github/workflows/release.yml@refs/tags/v1".to_owned(),
    }
}

fn key_signer() -> SignerFact {
    SignerFact::Key {
        key_id: KEY_ID.to_ascii_uppercase().replace("SHA256:", "sha256:"),
    }
}

type Change = fn(&mut VersionFacts);

/// One condition checked against one version: `(condition YAML, change to the default facts,
/// whether it holds, why)`.
type Case = (String, Change, bool, String);

fn same(_: &mut VersionFacts) {}

fn transports(f: &mut VersionFacts, ts: &[Transport]) {
    f.transports = ts.iter().copied().collect::<BTreeSet<_>>();
}

fn remotes(f: &mut VersionFacts, urls: &[&str]) {
    f.remote_urls = urls.iter().map(|u| (*u).to_owned()).collect();
}

fn the_condition(results: &[ConditionResult], key: &str) -> ConditionResult {
    results
        .iter()
        .find(|c| c.condition == key)
        .cloned()
        .unwrap_or_else(|| panic!("no condition {key} in {results:?}"))
}

fn key_of(condition_yaml: &str) -> &str {
    condition_yaml
        .split_once(':')
        .map(|(k, _)| k.trim())
        .unwrap_or(condition_yaml)
}

#[test]
fn every_allow_requirement_holds_or_not_and_says_why() {
    let signed = format!("signedBy: [{{issuer: '{GITHUB_ISSUER}', identityPattern: '{PATTERN}'}}]");
    let by_key = format!("signedBy: [{{keyId: '{KEY_ID}'}}]");
    let either = format!(
        "signedBy: [{{issuer: 'https://accounts.google.com', identity: '{RELEASE_IDENTITY}'}}, {{keyId: '{KEY_ID}'}}]"
    );
    let cases: Vec<Case> = vec![
        ("reviewState: [approved]".into(), same, true, "review state approved is in [approved]".into()),
        ("reviewState: [approved]".into(), |f| f.review = ReviewState::Submitted, false, "review state submitted is not in [approved]".into()),
        ("reviewState: [submitted, approved]".into(), |f| f.review = ReviewState::Submitted, true, "review state submitted is in [submitted, approved]".into()),
        ("reviewState: [approved]".into(), |f| f.review = ReviewState::Revoked, false, "review state revoked is not in [approved]".into()),
        ("status: [active]".into(), same, true, "status active is in [active]".into()),
        ("status: [active]".into(), |f| f.status = Status::Deprecated, false, "status deprecated is not in [active]".into()),
        (signed.clone(), same, true, format!("signed by identity {RELEASE_IDENTITY} (issuer {GITHUB_ISSUER}), which matches issuer {GITHUB_ISSUER} identity pattern {PATTERN}")),
        (signed.clone(), |f| f.signers = vec![evil_signer()], false, format!("no signer matches issuer {GITHUB_ISSUER} identity pattern {PATTERN} (signed by identity https://github.com/evil/x/.github/workflows/release.yml@refs/tags/v1 (issuer {GITHUB_ISSUER}))")),
        (signed.clone(), |f| f.signers = vec![SignerFact::Keyless { issuer: "https://accounts.google.com".into(), identity: RELEASE_IDENTITY.into() }], false, format!("no signer matches issuer {GITHUB_ISSUER} identity pattern {PATTERN} (signed by identity {RELEASE_IDENTITY} (issuer https://accounts.google.com))")),
        (signed.clone(), |f| f.signers.clear(), false, format!("the version has no verified signature; no signer matches issuer {GITHUB_ISSUER} identity pattern {PATTERN}")),
        (by_key.clone(), |f| f.signers = vec![evil_signer(), key_signer()], true, format!("signed by key {}, which matches key {KEY_ID}", key_signer_id())),
        (either.clone(), same, false, format!("no signer matches any of [issuer https://accounts.google.com identity {RELEASE_IDENTITY}; key {KEY_ID}] (signed by identity {RELEASE_IDENTITY} (issuer {GITHUB_ISSUER}))")),
        ("maxSeverity: medium".into(), same, true, "highest finding severity low is at most maxSeverity medium".into()),
        ("maxSeverity: medium".into(), |f| f.highest_severity = Some(FindingSeverity::Medium), true, "highest finding severity medium is at most maxSeverity medium".into()),
        ("maxSeverity: medium".into(), |f| f.highest_severity = Some(FindingSeverity::High), false, "highest finding severity high is above maxSeverity medium".into()),
        ("maxSeverity: info".into(), |f| f.highest_severity = None, true, "no unsuppressed findings".into()),
        ("transports: [stdio]".into(), same, true, "every transport offered (stdio) is in [stdio]".into()),
        ("transports: [stdio]".into(), |f| transports(f, &[Transport::Stdio, Transport::Remote]), false, "the version offers remote, which is not in [stdio]".into()),
        ("transports: [stdio, remote]".into(), |f| transports(f, &[Transport::Stdio, Transport::Remote]), true, "every transport offered (stdio, remote) is in [stdio, remote]".into()),
        ("transports: [remote]".into(), |f| transports(f, &[]), false, "the version offers no transport".into()),
        ("remoteHosts: ['*.acme.internal']".into(), same, true, "the version has no remotes".into()),
        ("remoteHosts: ['*.acme.internal']".into(), |f| remotes(f, &["https://mcp.acme.internal/mcp"]), true, "every remote host (mcp.acme.internal) is in [*.acme.internal]".into()),
        ("remoteHosts: ['*.acme.internal']".into(), |f| remotes(f, &["https://MCP.Acme.Internal./mcp"]), true, "every remote host (mcp.acme.internal) is in [*.acme.internal]".into()),
        ("remoteHosts: ['*.acme.internal']".into(), |f| remotes(f, &["https://mcp.acme.internal/mcp", "https://evil.example/mcp"]), false, "remote host evil.example is not in [*.acme.internal]".into()),
        ("remoteHosts: ['*.acme.internal']".into(), |f| remotes(f, &["https://mcp.acme.internal@evil.example/"]), false, "remote host evil.example is not in [*.acme.internal]".into()),
        ("remoteHosts: ['*.acme.internal']".into(), |f| remotes(f, &["not a url"]), false, "remote URL `not a url` has no host that can be checked".into()),
        ("toolsPinned: true".into(), same, true, "tools are pinned (sha256:feed)".into()),
        ("toolsPinned: true".into(), |f| f.tools_pin = None, false, "the version has no tools pin (no tool manifest is attached)".into()),
        ("maxContextTokens: 20000".into(), same, true, "context cost 1200 tokens is at most maxContextTokens 20000".into()),
        ("maxContextTokens: 20000".into(), |f| f.context_tokens = Some(20000), true, "context cost 20000 tokens is at most maxContextTokens 20000".into()),
        ("maxContextTokens: 20000".into(), |f| f.context_tokens = Some(20001), false, "context cost 20001 tokens is above maxContextTokens 20000".into()),
        ("maxContextTokens: 20000".into(), |f| f.context_tokens = None, false, "context cost is unknown (no tool manifest is attached), so it cannot be shown to be at most maxContextTokens 20000".into()),
    ];
    for (condition, change, held, detail) in cases {
        let condition = condition.as_str();
        let key = key_of(condition);
        let require = if key == "reviewState" {
            condition.to_owned()
        } else {
            format!("reviewState: [approved, submitted], {condition}")
        };
        let p = policy(&format!(
            "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - name: r\n    effect: allow\n    subjects: [{{anyone: true}}]\n    resources: [{{server: '*/*'}}]\n    require: {{{require}}}\n"
        ));
        let mut f = facts("com.acme/github");
        change(&mut f);
        let decision = evaluate(&p, &alice(), &f);
        let result = the_condition(&decision.rules[0].conditions, key);
        assert_eq!(
            result,
            ConditionResult {
                condition: key.to_owned(),
                held,
                detail
            },
            "{condition}"
        );
        let (effect, reason, outcome) = if held {
            (Effect::Allow, DecisionReason::Allowed, RuleOutcome::Allows)
        } else {
            (
                Effect::Deny,
                DecisionReason::RequirementsNotMet,
                RuleOutcome::RequirementsNotMet,
            )
        };
        assert_eq!(
            (decision.effect, decision.reason, decision.rules[0].outcome),
            (effect, reason, outcome),
            "{condition}"
        );
        assert_eq!(decision.deciding_rules, ["r"], "{condition}");
    }
}

fn key_signer_id() -> String {
    match key_signer() {
        SignerFact::Key { key_id } => key_id,
        SignerFact::Keyless { .. } => unreachable!(),
    }
}

#[test]
fn every_deny_condition_matches_or_not_and_says_why() {
    let by_key = format!("signedBy: [{{keyId: '{KEY_ID}'}}]");
    let not_signed =
        format!("notSignedBy: [{{issuer: '{GITHUB_ISSUER}', identityPattern: '{PATTERN}'}}]");
    let cases: Vec<Case> = vec![
        ("reviewState: [revoked]".into(), |f| f.review = ReviewState::Revoked, true, "review state revoked is in [revoked]".into()),
        ("reviewState: [revoked]".into(), same, false, "review state approved is not in [revoked]".into()),
        ("status: [deprecated]".into(), |f| f.status = Status::Deprecated, true, "status deprecated is in [deprecated]".into()),
        ("status: [deprecated]".into(), same, false, "status active is not in [deprecated]".into()),
        (by_key.clone(), |f| f.signers = vec![key_signer()], true, format!("signed by key {}, which matches key {KEY_ID}", key_signer_id())),
        (by_key.clone(), same, false, format!("no signer matches key {KEY_ID} (signed by identity {RELEASE_IDENTITY} (issuer {GITHUB_ISSUER}))")),
        (not_signed.clone(), same, false, format!("signed by identity {RELEASE_IDENTITY} (issuer {GITHUB_ISSUER}), which matches issuer {GITHUB_ISSUER} identity pattern {PATTERN}")),
        (not_signed.clone(), |f| f.signers = vec![evil_signer()], true, format!("no signer matches issuer {GITHUB_ISSUER} identity pattern {PATTERN} (signed by identity https://github.com/evil/x/.github/workflows/release.yml@refs/tags/v1 (issuer {GITHUB_ISSUER}))")),
        (not_signed.clone(), |f| f.signers.clear(), true, format!("the version has no verified signature; no signer matches issuer {GITHUB_ISSUER} identity pattern {PATTERN}")),
        ("unsigned: true".into(), |f| f.signers.clear(), true, "the version has no verified signature".into()),
        ("unsigned: true".into(), same, false, "the version has 1 verified signature".into()),
        ("unsigned: true".into(), |f| f.signers.push(key_signer()), false, "the version has 2 verified signatures".into()),
        ("severityAtLeast: high".into(), |f| f.highest_severity = Some(FindingSeverity::High), true, "highest finding severity high is at least severityAtLeast high".into()),
        ("severityAtLeast: high".into(), |f| f.highest_severity = Some(FindingSeverity::Critical), true, "highest finding severity critical is at least severityAtLeast high".into()),
        ("severityAtLeast: high".into(), |f| f.highest_severity = Some(FindingSeverity::Medium), false, "highest finding severity medium is below severityAtLeast high".into()),
        ("severityAtLeast: info".into(), |f| f.highest_severity = None, false, "no unsuppressed findings".into()),
        ("offersTransport: [remote]".into(), |f| transports(f, &[Transport::Stdio, Transport::Remote]), true, "the version offers remote, which is in [remote]".into()),
        ("offersTransport: [remote]".into(), same, false, "the version offers only stdio, none of which is in [remote]".into()),
        ("offersTransport: [remote]".into(), |f| transports(f, &[]), false, "the version offers no transport".into()),
        ("anyRemoteHostIn: ['*.example']".into(), |f| remotes(f, &["https://mcp.acme.internal/", "https://evil.example/x"]), true, "remote host evil.example is in [*.example]".into()),
        ("anyRemoteHostIn: ['*.example']".into(), |f| remotes(f, &["https://mcp.acme.internal/"]), false, "no remote host (mcp.acme.internal) is in [*.example]".into()),
        ("anyRemoteHostIn: ['*.example']".into(), same, false, "the version has no remotes".into()),
        ("anyRemoteHostIn: ['*.example']".into(), |f| remotes(f, &["::"]), false, "remote URL `::` has no host that can be checked".into()),
        ("anyRemoteHostNotIn: ['*.acme.internal']".into(), |f| remotes(f, &["https://mcp.acme.internal/", "https://evil.example/"]), true, "remote host evil.example is not in [*.acme.internal]".into()),
        ("anyRemoteHostNotIn: ['*.acme.internal']".into(), |f| remotes(f, &["https://mcp.acme.internal@evil.example/"]), true, "remote host evil.example is not in [*.acme.internal]".into()),
        ("anyRemoteHostNotIn: ['*.acme.internal']".into(), |f| remotes(f, &["https://a.acme.internal/", "https://b.acme.internal/"]), false, "every remote host (a.acme.internal, b.acme.internal) is in [*.acme.internal]".into()),
        ("anyRemoteHostNotIn: ['*.acme.internal']".into(), same, false, "the version has no remotes".into()),
        ("anyRemoteHostNotIn: ['*.acme.internal']".into(), |f| remotes(f, &["not a url"]), true, "remote URL `not a url` has no host that can be checked".into()),
        ("toolsUnpinned: true".into(), |f| f.tools_pin = None, true, "the version has no tools pin (no tool manifest is attached)".into()),
        ("toolsUnpinned: true".into(), same, false, "tools are pinned (sha256:feed)".into()),
        ("contextTokensAbove: 50000".into(), |f| f.context_tokens = Some(50001), true, "context cost 50001 tokens is above contextTokensAbove 50000".into()),
        ("contextTokensAbove: 50000".into(), |f| f.context_tokens = Some(50000), false, "context cost 50000 tokens is at most contextTokensAbove 50000".into()),
        ("contextTokensAbove: 50000".into(), |f| f.context_tokens = None, true, "context cost is unknown (no tool manifest is attached), which counts as above contextTokensAbove 50000".into()),
    ];
    for (condition, change, held, detail) in cases {
        let condition = condition.as_str();
        let key = key_of(condition);
        // An allow rule that holds for every version the cases build (revoked ones aside), and
        // the deny rule under test.
        let p = policy(&format!(
            "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - name: everyone\n    effect: allow\n    subjects: [{{anyone: true}}]\n    resources: [{{server: '*/*'}}]\n    require: {{reviewState: [approved]}}\n  - name: d\n    effect: deny\n    subjects: [{{anyone: true}}]\n    resources: [{{server: '*/*'}}]\n    when: {{{condition}}}\n"
        ));
        let mut f = facts("com.acme/github");
        change(&mut f);
        let decision = evaluate(&p, &alice(), &f);
        let deny = decision
            .rules
            .iter()
            .find(|r| r.rule == "d")
            .expect("the deny rule applies");
        assert_eq!(
            deny.conditions,
            [ConditionResult {
                condition: key.to_owned(),
                held,
                detail
            }],
            "{condition}"
        );
        if held {
            assert_eq!(deny.outcome, RuleOutcome::Denies, "{condition}");
            assert_eq!(
                (decision.effect, decision.reason, decision.deciding_rules),
                (
                    Effect::Deny,
                    DecisionReason::DeniedByRule,
                    vec!["d".to_owned()]
                ),
                "{condition}"
            );
        } else {
            assert_eq!(
                deny.outcome,
                RuleOutcome::ConditionsNotMatched,
                "{condition}"
            );
            assert_eq!(
                (decision.effect, decision.reason, decision.deciding_rules),
                (
                    Effect::Allow,
                    DecisionReason::Allowed,
                    vec!["everyone".to_owned()]
                ),
                "{condition}"
            );
        }
    }
}

const PRECEDENCE: &str = r#"
apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: no-critical
    effect: deny
    subjects: [{anyone: true}]
    resources: [{server: "*/*"}]
    when: {severityAtLeast: critical}
  - name: platform-acme
    effect: allow
    subjects: [{group: platform}]
    resources: [{server: "com.acme/*"}]
    require: {reviewState: [approved], maxSeverity: high}
  - name: platform-pinned
    effect: allow
    subjects: [{group: platform}]
    resources: [{server: "com.acme/*"}]
    require: {reviewState: [approved], toolsPinned: true}
  - name: contractors-nothing-remote
    effect: deny
    subjects: [{group: contractors}]
    resources: [{server: "*/*"}]
    when: {offersTransport: [remote]}
"#;

#[test]
fn deny_wins_over_allow_whatever_the_order() {
    let p = policy(PRECEDENCE);
    let mut f = facts("com.acme/github");
    f.highest_severity = Some(FindingSeverity::Critical);
    let decision = evaluate(&p, &alice(), &f);
    assert_eq!(decision.effect, Effect::Deny);
    assert_eq!(decision.reason, DecisionReason::DeniedByRule);
    assert_eq!(decision.deciding_rules, ["no-critical"]);
    assert_eq!(decision.summary, "denied by rule `no-critical`");
    let outcomes: Vec<(&str, RuleOutcome)> = decision
        .rules
        .iter()
        .map(|r| (r.rule.as_str(), r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("no-critical", RuleOutcome::Denies),
            ("platform-acme", RuleOutcome::RequirementsNotMet),
            ("platform-pinned", RuleOutcome::Allows),
        ]
    );

    // The same rules with the deny rule last decide the same.
    let reordered = PRECEDENCE.replacen(
        "  - name: no-critical\n    effect: deny\n    subjects: [{anyone: true}]\n    resources: [{server: \"*/*\"}]\n    when: {severityAtLeast: critical}\n",
        "",
        1,
    ) + "  - name: no-critical\n    effect: deny\n    subjects: [{anyone: true}]\n    resources: [{server: \"*/*\"}]\n    when: {severityAtLeast: critical}\n";
    let last = evaluate(&policy(&reordered), &alice(), &f);
    assert_eq!(
        (last.effect, last.reason, last.deciding_rules),
        (
            Effect::Deny,
            DecisionReason::DeniedByRule,
            vec!["no-critical".to_owned()]
        )
    );
}

#[test]
fn every_allow_rule_that_holds_is_named() {
    let decision = evaluate(&policy(PRECEDENCE), &alice(), &facts("com.acme/github"));
    assert_eq!(
        (decision.effect, decision.reason),
        (Effect::Allow, DecisionReason::Allowed)
    );
    assert_eq!(
        decision.deciding_rules,
        ["platform-acme", "platform-pinned"]
    );
    assert_eq!(
        decision.summary,
        "allowed by rules `platform-acme`, `platform-pinned`"
    );
}

#[test]
fn one_holding_allow_rule_is_enough() {
    let mut f = facts("com.acme/github");
    f.tools_pin = None;
    let decision = evaluate(&policy(PRECEDENCE), &alice(), &f);
    assert_eq!(decision.effect, Effect::Allow);
    assert_eq!(decision.deciding_rules, ["platform-acme"]);
}

#[test]
fn allow_rules_that_fall_short_are_named_with_what_failed() {
    let mut f = facts("com.acme/github");
    f.tools_pin = None;
    f.highest_severity = Some(FindingSeverity::High);
    f.review = ReviewState::Submitted;
    let decision = evaluate(&policy(PRECEDENCE), &alice(), &f);
    assert_eq!(
        (decision.effect, decision.reason),
        (Effect::Deny, DecisionReason::RequirementsNotMet)
    );
    assert_eq!(
        decision.deciding_rules,
        ["platform-acme", "platform-pinned"]
    );
    assert_eq!(
        decision.summary,
        "denied: no allow rule has all its requirements met: `platform-acme` (reviewState not met); `platform-pinned` (reviewState, toolsPinned not met)"
    );
}

#[test]
fn nothing_is_allowed_by_default() {
    let empty = policy("apiVersion: mcpreg.dev/v1\nkind: Policy\nrules: []\n");
    let decision = evaluate(&empty, &alice(), &facts("com.acme/github"));
    assert_eq!(decision.effect, Effect::Deny);
    assert_eq!(decision.reason, DecisionReason::NoRuleAllows);
    assert!(decision.deciding_rules.is_empty());
    assert!(decision.rules.is_empty());
    assert_eq!(
        decision.summary,
        "denied: no allow rule applies to user alice@acme.com (groups platform) and com.acme/github; nothing is allowed by default"
    );

    // A server outside every allow rule's resources, and a subject outside its subjects.
    let p = policy(PRECEDENCE);
    let elsewhere = evaluate(&p, &alice(), &facts("io.github.other/x"));
    assert_eq!(elsewhere.reason, DecisionReason::NoRuleAllows);
    assert_eq!(
        elsewhere
            .rules
            .iter()
            .map(|r| (r.rule.as_str(), r.outcome))
            .collect::<Vec<_>>(),
        [("no-critical", RuleOutcome::ConditionsNotMatched)]
    );
    let bob = Subject::user("bob@acme.com", ["sales"]);
    assert_eq!(
        evaluate(&p, &bob, &facts("com.acme/github")).reason,
        DecisionReason::NoRuleAllows
    );
}

#[test]
fn a_deleted_version_is_never_allowed() {
    let p = policy(PRECEDENCE);
    let mut f = facts("com.acme/github");
    assert!(evaluate(&p, &alice(), &f).is_allowed());
    f.status = Status::Deleted;
    let decision = evaluate(&p, &alice(), &f);
    assert_eq!(decision.effect, Effect::Deny);
    assert_eq!(decision.reason, DecisionReason::VersionDeleted);
    assert!(decision.deciding_rules.is_empty());
    assert_eq!(
        decision.summary,
        "com.acme/github@1.4.2 is deleted; a deleted version is never allowed"
    );
    // The rules are still explained.
    assert_eq!(decision.rules.len(), 3);
}

#[test]
fn subjects_match_by_kind_exactly_and_anyone_only_when_written() {
    let p = policy(
        r#"
apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: named
    effect: allow
    subjects: [{user: alice@acme.com}, {group: platform}, {client: vscode}, {allowlist: engineering}]
    resources: [{server: "com.acme/*"}]
    require: {reviewState: [approved]}
  - name: open
    effect: allow
    subjects: [{anyone: true}]
    resources: [{server: "io.github.public/*"}]
    require: {reviewState: [approved]}
"#,
    );
    let acme = facts("com.acme/github");
    let public = facts("io.github.public/weather");
    let cases: Vec<(Subject, &str, Option<&str>, Option<&str>)> = vec![
        // (who, which subject selector of `named` matched, for com.acme and io.github.public)
        (
            Subject::user("alice@acme.com", Vec::<String>::new()),
            "alice",
            Some("user alice@acme.com"),
            Some("anyone"),
        ),
        (
            Subject::user("Alice@acme.com", Vec::<String>::new()),
            "users match exactly",
            None,
            Some("anyone"),
        ),
        (
            Subject::user("bob@acme.com", ["platform"]),
            "group",
            Some("group platform"),
            Some("anyone"),
        ),
        (
            Subject::user("bob@acme.com", ["platform-admins"]),
            "groups match exactly",
            None,
            Some("anyone"),
        ),
        (
            Subject {
                client: Some("vscode".into()),
                ..Subject::default()
            },
            "client",
            Some("client vscode"),
            Some("anyone"),
        ),
        (
            Subject::allowlist("engineering"),
            "allowlist",
            Some("allowlist engineering"),
            Some("anyone"),
        ),
        (
            Subject::allowlist("sales"),
            "other allowlist",
            None,
            Some("anyone"),
        ),
        (Subject::default(), "anonymous", None, Some("anyone")),
    ];
    for (subject, label, on_acme, on_public) in cases {
        let decision = evaluate(&p, &subject, &acme);
        assert_eq!(
            decision.rules.first().map(|r| r.matched_subject.as_str()),
            on_acme,
            "{label} on com.acme"
        );
        assert_eq!(
            decision.is_allowed(),
            on_acme.is_some(),
            "{label} on com.acme"
        );
        let decision = evaluate(&p, &subject, &public);
        assert_eq!(
            decision.rules.first().map(|r| r.matched_subject.as_str()),
            on_public,
            "{label} on io.github.public"
        );
        assert!(decision.is_allowed(), "{label} on io.github.public");
    }
}

#[test]
fn resources_match_by_glob_namespace_and_tag_ignoring_case() {
    let p = policy(
        r#"
apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: r
    effect: allow
    subjects: [{anyone: true}]
    resources: [{server: "com.acme/git*"}, {namespace: "io.github.*"}, {tag: Internal}]
    require: {reviewState: [approved]}
"#,
    );
    let untagged = |name: &str| {
        let mut f = facts(name);
        f.tags.clear();
        f
    };
    let cases: Vec<(VersionFacts, Option<&str>)> = vec![
        (untagged("com.acme/github"), Some("server com.acme/git*")),
        (untagged("Com.Acme/GitLab"), Some("server com.acme/git*")),
        (untagged("com.acme/jira"), None),
        (untagged("com.acme.evil/github"), None),
        (
            untagged("io.github.acme/weather"),
            Some("namespace io.github.*"),
        ),
        (
            untagged("IO.GitHub.Acme/weather"),
            Some("namespace io.github.*"),
        ),
        (untagged("io.gitlab.acme/weather"), None),
        (facts("org.other/thing"), Some("tag Internal")),
        (
            {
                let mut f = facts("org.other/thing");
                f.tags = vec!["INTERNAL".into()];
                f
            },
            Some("tag Internal"),
        ),
        (
            {
                let mut f = facts("org.other/thing");
                f.tags = vec!["internal-only".into()];
                f
            },
            None,
        ),
    ];
    for (f, matched) in cases {
        let decision = evaluate(&p, &Subject::default(), &f);
        assert_eq!(
            decision.rules.first().map(|r| r.matched_resource.as_str()),
            matched,
            "{}",
            f.name
        );
        assert_eq!(decision.is_allowed(), matched.is_some(), "{}", f.name);
    }
}

#[test]
fn deny_conditions_must_all_match() {
    let p = policy(
        r#"
apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - {name: all, effect: allow, subjects: [{anyone: true}], resources: [{server: "*/*"}], require: {reviewState: [approved]}}
  - name: risky-remote
    effect: deny
    subjects: [{anyone: true}]
    resources: [{server: "*/*"}]
    when: {offersTransport: [remote], severityAtLeast: high}
"#,
    );
    let mut f = facts("com.acme/github");
    f.transports = BTreeSet::from([Transport::Remote]);
    let decision = evaluate(&p, &Subject::default(), &f);
    assert!(decision.is_allowed());
    let held: Vec<bool> = decision.rules[1]
        .conditions
        .iter()
        .map(|c| c.held)
        .collect();
    assert_eq!(held, [true, false]);
    f.highest_severity = Some(FindingSeverity::High);
    let decision = evaluate(&p, &Subject::default(), &f);
    assert_eq!(decision.reason, DecisionReason::DeniedByRule);
}

#[test]
fn the_decision_on_the_wire() {
    let p = policy(PRECEDENCE);
    let mut f = facts("com.acme/github");
    f.highest_severity = Some(FindingSeverity::Critical);
    f.tools_pin = None;
    let decision = evaluate(&p, &alice(), &f);
    let wire = serde_json::to_value(&decision).expect("serialises");
    assert_eq!(
        wire,
        json!({
            "effect": "deny",
            "reason": "denied_by_rule",
            "summary": "denied by rule `no-critical`",
            "decidingRules": ["no-critical"],
            "rules": [
                {
                    "rule": "no-critical",
                    "effect": "deny",
                    "matchedSubject": "anyone",
                    "matchedResource": "server */*",
                    "outcome": "denies",
                    "conditions": [{
                        "condition": "severityAtLeast",
                        "held": true,
                        "detail": "highest finding severity critical is at least severityAtLeast critical"
                    }]
                },
                {
                    "rule": "platform-acme",
                    "effect": "allow",
                    "matchedSubject": "group platform",
                    "matchedResource": "server com.acme/*",
                    "outcome": "requirements_not_met",
                    "conditions": [
                        {"condition": "reviewState", "held": true, "detail": "review state approved is in [approved]"},
                        {"condition": "maxSeverity", "held": false, "detail": "highest finding severity critical is above maxSeverity high"}
                    ]
                },
                {
                    "rule": "platform-pinned",
                    "effect": "allow",
                    "matchedSubject": "group platform",
                    "matchedResource": "server com.acme/*",
                    "outcome": "requirements_not_met",
                    "conditions": [
                        {"condition": "reviewState", "held": true, "detail": "review state approved is in [approved]"},
                        {"condition": "toolsPinned", "held": false, "detail": "the version has no tools pin (no tool manifest is attached)"}
                    ]
                }
            ]
        })
    );
    let back: mcpreg_policy::Decision = serde_json::from_value(wire).expect("deserialises");
    assert_eq!(back, decision);
}

#[test]
fn facts_and_subjects_read_from_json() {
    let f: VersionFacts = serde_json::from_value(json!({
        "name": "com.acme/github",
        "version": "1.4.2",
        "status": "active",
        "review": "approved",
        "signers": [
            {"kind": "keyless", "issuer": GITHUB_ISSUER, "identity": RELEASE_IDENTITY},
            {"kind": "key", "keyId": KEY_ID}
        ],
        "highestSeverity": "low",
        "transports": ["stdio"],
        "toolsPin": "sha256:feed",
        "contextTokens": 1200
    }))
    .expect("valid facts");
    let mut expected = facts("com.acme/github");
    expected.tags.clear();
    expected.signers.push(SignerFact::Key {
        key_id: KEY_ID.to_owned(),
    });
    assert_eq!(f, expected);
    let s: Subject =
        serde_json::from_value(json!({"user": "alice@acme.com", "groups": ["platform"]}))
            .expect("valid subject");
    assert_eq!(s, alice());
    assert!(serde_json::from_value::<VersionFacts>(json!({"name": "no-slash"})).is_err());
}

#[test]
fn evaluation_is_deterministic_and_decides_matrices() {
    let p = policy(PRECEDENCE);
    let subjects = [alice(), Subject::user("carol@acme.com", ["contractors"])];
    let mut remote = facts("com.acme/remote");
    remote.transports = BTreeSet::from([Transport::Remote]);
    let versions = [facts("com.acme/github"), remote, facts("io.github.other/x")];
    assert_eq!(
        evaluate(&p, &subjects[0], &versions[0]),
        evaluate(&p, &subjects[0], &versions[0])
    );
    let matrix = evaluate_many(&p, &subjects, &versions);
    let cells: Vec<(String, String, DecisionReason)> = matrix
        .iter()
        .map(|cell| {
            (
                cell.subject.user.clone().unwrap_or_default(),
                cell.version.name.to_string(),
                cell.decision.reason,
            )
        })
        .collect();
    let expected: Vec<(String, String, DecisionReason)> = [
        ("alice@acme.com", "com.acme/github", DecisionReason::Allowed),
        ("alice@acme.com", "com.acme/remote", DecisionReason::Allowed),
        (
            "alice@acme.com",
            "io.github.other/x",
            DecisionReason::NoRuleAllows,
        ),
        (
            "carol@acme.com",
            "com.acme/github",
            DecisionReason::NoRuleAllows,
        ),
        (
            "carol@acme.com",
            "com.acme/remote",
            DecisionReason::DeniedByRule,
        ),
        (
            "carol@acme.com",
            "io.github.other/x",
            DecisionReason::NoRuleAllows,
        ),
    ]
    .into_iter()
    .map(|(s, v, r)| (s.to_owned(), v.to_owned(), r))
    .collect();
    assert_eq!(cells, expected);

    let allowed: Vec<&ServerName> = allowed_versions(&p, &subjects[0], &versions)
        .into_iter()
        .map(|v| &v.name)
        .collect();
    assert_eq!(
        allowed.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["com.acme/github", "com.acme/remote"]
    );
}
