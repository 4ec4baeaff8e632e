//! `mcpreg policy diff`: which audience × server@version decisions a proposed policy changes.

use crate::util::{facts, policy};
use mcpreg_api::Status;
use mcpreg_api::scans::FindingSeverity;
use mcpreg_policy::{DecisionReason, Effect, Subject, diff};
use serde_json::json;

const CURRENT: &str = r#"
apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: engineering-acme
    effect: allow
    subjects: [{allowlist: engineering}]
    resources: [{server: "com.acme/*"}]
    require: {reviewState: [approved]}
"#;

const PROPOSED: &str = r#"
apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: engineering-acme
    effect: allow
    subjects: [{allowlist: engineering}, {allowlist: sales}]
    resources: [{server: "com.acme/*"}]
    require: {reviewState: [approved], maxSeverity: medium}
"#;

/// `(allowlist, server, from, to, to_reason, deciding rules)` of every change.
type Row = (String, String, Effect, Effect, DecisionReason, Vec<String>);

fn rows(d: &mcpreg_policy::PolicyDiff) -> Vec<Row> {
    d.changes
        .iter()
        .map(|c| {
            (
                c.subject.allowlist.clone().unwrap_or_default(),
                c.server.to_string(),
                c.from,
                c.to,
                c.to_reason,
                c.deciding_rules.clone(),
            )
        })
        .collect()
}

fn row(
    allowlist: &str,
    server: &str,
    from: Effect,
    to: Effect,
    reason: DecisionReason,
    rules: &[&str],
) -> Row {
    (
        allowlist.to_owned(),
        server.to_owned(),
        from,
        to,
        reason,
        rules.iter().map(|r| (*r).to_owned()).collect(),
    )
}

#[test]
fn lists_only_the_decisions_that_flip() {
    let audiences = [
        Subject::allowlist("engineering"),
        Subject::allowlist("sales"),
        Subject::allowlist("support"),
    ];
    let mut risky = facts("com.acme/risky");
    risky.highest_severity = Some(FindingSeverity::High);
    let mut gone = facts("com.acme/gone");
    gone.status = Status::Deleted;
    let versions = [facts("com.acme/github"), risky, gone, facts("org.other/x")];

    let d = diff(
        Some(&policy(CURRENT)),
        &policy(PROPOSED),
        &audiences,
        &versions,
    );
    assert_eq!(d.evaluated, 12);
    assert_eq!(
        rows(&d),
        [
            row(
                "engineering",
                "com.acme/risky",
                Effect::Allow,
                Effect::Deny,
                DecisionReason::RequirementsNotMet,
                &["engineering-acme"]
            ),
            row(
                "sales",
                "com.acme/github",
                Effect::Deny,
                Effect::Allow,
                DecisionReason::Allowed,
                &["engineering-acme"]
            ),
        ]
    );
    assert_eq!((d.newly_allowed(), d.newly_denied()), (1, 1));
    assert_eq!(
        serde_json::to_value(&d.changes[0]).expect("serialises"),
        json!({
            "subject": {"allowlist": "engineering"},
            "server": "com.acme/risky",
            "version": "1.4.2",
            "from": "allow",
            "fromReason": "allowed",
            "to": "deny",
            "toReason": "requirements_not_met",
            "decidingRules": ["engineering-acme"],
            "summary": "denied: no allow rule has all its requirements met: `engineering-acme` (maxSeverity not met)"
        })
    );
}

#[test]
fn without_a_current_policy_everything_the_proposal_allows_is_new() {
    let audiences = [
        Subject::allowlist("engineering"),
        Subject::allowlist("sales"),
    ];
    let mut gone = facts("com.acme/gone");
    gone.status = Status::Deleted;
    let versions = [facts("com.acme/github"), gone, facts("org.other/x")];
    let d = diff(None, &policy(CURRENT), &audiences, &versions);
    assert_eq!(d.evaluated, 6);
    assert_eq!(
        rows(&d),
        [row(
            "engineering",
            "com.acme/github",
            Effect::Deny,
            Effect::Allow,
            DecisionReason::Allowed,
            &["engineering-acme"]
        )]
    );
    assert_eq!(d.changes[0].from_reason, DecisionReason::NoRuleAllows);
}

#[test]
fn an_identical_policy_changes_nothing() {
    let audiences = [Subject::allowlist("engineering")];
    let versions = [facts("com.acme/github")];
    let p = policy(CURRENT);
    let d = diff(Some(&p), &p, &audiences, &versions);
    assert_eq!(d.evaluated, 1);
    assert!(d.changes.is_empty());
}

#[test]
fn a_new_reason_for_the_same_effect_is_not_a_change() {
    // Deny by default before, deny by rule after: still deny.
    let deny_all = policy(
        "apiVersion: mcpreg.dev/v1\nkind: Policy\nrules:\n  - {name: nobody, effect: deny, subjects: [{anyone: true}], resources: [{server: '*/*'}]}\n",
    );
    let d = diff(
        None,
        &deny_all,
        &[Subject::allowlist("engineering")],
        &[facts("com.acme/github")],
    );
    assert!(d.changes.is_empty());
}
