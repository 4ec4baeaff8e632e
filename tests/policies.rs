//! Access policies in the registry against a real PostgreSQL: applying versions (append-only;
//! the same document is no new version; an invalid one is refused at its exact places and
//! nothing is stored), the current policy, decisions (default deny, the deciding rule, deny wins,
//! review state, signers, scan findings), the diff over every allowlist, and the CLI end to end.
//!
//! Through the typed client, except for the bodies the typed requests cannot express (a field
//! the request does not have), which are sent as bytes.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{
    ServerProcess, TestApp, everything_manifest, expect_problem, locations, malicious_manifest,
    mcpreg, refused_status, server_json,
};
use axum::http::{Method, StatusCode};
use mcpreg_api::admin::StatusChange;
use mcpreg_api::policy::{
    AppliedPolicy, ApplyPolicyRequest, Decision, DecisionAnswer, DecisionReason, DecisionRequest,
    DiffAnswer, DiffRequest, Effect, PolicyFormat, RequestSubject, ServerTags,
};
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::registry::Status;
use mcpreg_client::AuditQuery;
use serde_json::json;

const NAME: &str = "com.acme/weather";

/// Platform may use approved Acme servers; engineering may use them once submitted; nobody may
/// use anything with a high finding.
const POLICY: &str = r#"# Acme's policy
apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: platform-approved
    effect: allow
    subjects: [{group: platform}]
    resources: [{server: "com.acme/*"}]
    require: {reviewState: [approved]}
  - name: engineering-early
    effect: allow
    subjects: [{allowlist: engineering}]
    resources: [{namespace: com.acme}]
    require: {reviewState: [submitted, approved]}
  - name: no-high-findings
    effect: deny
    subjects: [{anyone: true}]
    resources: [{server: "*/*"}]
    when: {severityAtLeast: high}
"#;

/// Publishes a version of `com.acme/weather` as its publisher.
async fn publish(r: &TestApp, version: &str) {
    r.published(r.publisher().await, &server_json(NAME, version))
        .await;
}

fn apply_request(source: &str) -> ApplyPolicyRequest {
    ApplyPolicyRequest {
        source: source.to_owned(),
    }
}

async fn apply(r: &TestApp, source: &str) -> mcpreg_client::Result<AppliedPolicy> {
    r.admin_client().apply_policy(&apply_request(source)).await
}

async fn decide(
    r: &TestApp,
    subject: RequestSubject,
    version: &str,
) -> mcpreg_client::Result<DecisionAnswer> {
    r.anonymous_client()
        .decide(&DecisionRequest {
            subject,
            server: NAME.to_owned(),
            version: version.to_owned(),
        })
        .await
}

async fn decision(r: &TestApp, subject: RequestSubject, version: &str) -> DecisionAnswer {
    decide(r, subject, version).await.unwrap()
}

fn diff_request(source: &str, subjects: Vec<RequestSubject>) -> DiffRequest {
    DiffRequest {
        source: source.to_owned(),
        subjects,
    }
}

async fn diff(r: &TestApp, request: DiffRequest) -> mcpreg_client::Result<DiffAnswer> {
    r.reviewer_client().await.policy_diff(&request).await
}

fn user(name: &str) -> RequestSubject {
    RequestSubject {
        user: Some(name.to_owned()),
        ..RequestSubject::default()
    }
}

fn groups(groups: &[&str]) -> RequestSubject {
    RequestSubject {
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        ..RequestSubject::default()
    }
}

fn allowlist(name: &str) -> RequestSubject {
    RequestSubject {
        allowlist: Some(name.to_owned()),
        ..RequestSubject::default()
    }
}

/// The conditions of one rule of a decision: `(condition, held)`.
fn conditions(decision: &Decision, rule: &str) -> Vec<(String, bool)> {
    decision
        .rules
        .iter()
        .find(|r| r.rule == rule)
        .unwrap_or_else(|| panic!("rule {rule} is not in {decision:#?}"))
        .conditions
        .iter()
        .map(|c| (c.condition.clone(), c.held))
        .collect()
}

/// The status of a refusal and the locations of its problem's errors.
#[track_caller]
fn refused_at<T: std::fmt::Debug>(result: mcpreg_client::Result<T>) -> (u16, Vec<String>) {
    let e = result.unwrap_err();
    let failure = e.api_failure().unwrap();
    (
        failure.status.as_u16(),
        locations(&failure.problem)
            .into_iter()
            .map(str::to_owned)
            .collect(),
    )
}

#[tokio::test]
async fn applied_versions_grow_and_the_same_document_is_no_new_version() {
    let r = TestApp::new().await;
    let none = r.anonymous_client().policy().await;
    expect_problem(none, 404, ProblemCode::NoPolicy);

    let first = apply(&r, POLICY).await.unwrap();
    assert!(first.changed);
    assert_eq!(first.rules, 3);
    let v1 = first.version;
    let digest = first.digest.clone();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    // The same policy written as JSON, in another key order and without the comment, is the
    // same canonical document: nothing is stored.
    let current = r.anonymous_client().policy().await.unwrap();
    let mut as_json = current.document.clone();
    as_json.as_object_mut().unwrap().remove("kind");
    as_json["kind"] = json!("Policy");
    let same = apply(&r, &serde_json::to_string_pretty(&as_json).unwrap())
        .await
        .unwrap();
    assert!(!same.changed);
    assert_eq!(same.version, v1);
    assert_eq!(same.digest, digest);
    assert_eq!(r.count("select count(*) from policies").await, 1);

    // A changed document is a new, higher version; the current policy is the highest.
    let changed = POLICY.replace("[submitted, approved]", "[approved]");
    let second = apply(&r, &changed).await.unwrap();
    assert!(second.changed);
    let v2 = second.version;
    assert!(v2 > v1);
    assert_ne!(second.digest, digest);
    // Going back to the first document is a change too: a third version, not the first again.
    let third = apply(&r, POLICY).await.unwrap();
    assert!(third.changed);
    let v3 = third.version;
    assert!(v3 > v2);
    assert_eq!(third.digest, digest);

    // The current policy: the source as sent, comments included, and its canonical form.
    let c = r.reader_client().await.policy().await.unwrap();
    assert_eq!(c.version, v3);
    assert_eq!(c.digest, digest);
    assert_eq!(c.source, POLICY);
    assert_eq!(c.format, PolicyFormat::Yaml);
    assert_eq!(c.applied_by, "token:admin");
    assert_eq!(c.document["apiVersion"], "mcpreg.dev/v1");
    assert_eq!(c.document["rules"][1]["name"], "engineering-early");

    // Every stored version is audited with its version, digest and rule count.
    let audit = r.admin_client().audit(AuditQuery::default()).await.unwrap();
    let applies: Vec<_> = audit
        .events
        .iter()
        .filter(|e| e.action == "policy.apply")
        .collect();
    assert_eq!(applies.len(), 3, "{audit:#?}");
    assert_eq!(applies[0].actor, "token:admin");
    assert_eq!(applies[0].details["version"], v3);
    assert_eq!(applies[0].details["digest"], digest.as_str());
    assert_eq!(applies[0].details["rules"], 3);
    assert_eq!(applies[0].details["previousVersion"], v2);

    // Only admins apply; versions cannot be edited or removed.
    for token in [r.reviewer().await, r.publisher().await, r.reader().await] {
        let refused = r
            .client(Some(token))
            .apply_policy(&apply_request(POLICY))
            .await;
        assert_eq!(refused_status(refused), 403);
    }
    for statement in [
        "update policies set applied_by = 'someone-else'",
        "delete from policies",
        "truncate policies",
    ] {
        let edit = sqlx::query(statement).execute(&r.db.pool).await;
        assert!(
            edit.is_err(),
            "{statement}: policy versions are append-only"
        );
    }
    assert_eq!(r.count("select count(*) from policies").await, 3);
}

#[tokio::test]
async fn an_invalid_document_is_refused_at_every_place_and_nothing_is_stored() {
    let r = TestApp::new().await;
    let invalid = r#"apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: ok
    effect: allow
    subjects: [{group: platform}]
    resources: [{server: "com.acme/*"}]
    require: {reviewstate: [approved]}
  - name: ok
    effect: deny
    subjects: [{anyone: false}]
    resources: [{server: "com.acme"}]
"#;
    let refused = apply(&r, invalid).await;
    let refused = expect_problem(refused, 422, ProblemCode::InvalidPolicy);
    assert_eq!(
        locations(&refused),
        [
            "source.rules[0].require.reviewstate",
            "source.rules[0].require.reviewState",
            "source.rules[1].subjects[0].anyone",
            "source.rules[1].resources[0].server",
            "source.rules[1].name",
        ],
        "{refused:#?}"
    );
    let first = &refused.errors[0];
    assert_eq!(first.source, "policy");
    assert!(
        first.message.contains("did you mean `reviewState`?"),
        "{first:#?}"
    );

    // A document that is not YAML at all is located at the source as a whole.
    let syntax = apply(&r, "rules: [unclosed").await;
    assert_eq!(refused_at(syntax), (422, vec!["source".to_owned()]));
    let json_syntax = apply(&r, "{\"apiVersion\": ").await;
    assert_eq!(refused_at(json_syntax), (422, vec!["source".to_owned()]));
    // A body that is not `{source}` is a 400 naming the field: as bytes, since the typed
    // request has no other field.
    let wrong = r
        .call(
            Method::PUT,
            "/api/v1/policy",
            Some(&r.admin),
            Some(&json!({"document": POLICY})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{:#}", wrong.body);

    assert_eq!(r.count("select count(*) from policies").await, 0);
    assert_eq!(
        r.count("select count(*) from audit_events where action = 'policy.apply'")
            .await,
        0
    );
    let none = r.anonymous_client().policy().await;
    assert_eq!(refused_status(none), 404);
}

#[tokio::test]
async fn tags_set_by_reviewers_decide_deny_rules() {
    let r = TestApp::new().await;
    publish(&r, "1.0.0").await;
    let tagged = r#"apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: everyone-may-use-acme
    effect: allow
    subjects: [{anyone: true}]
    resources: [{server: "com.acme/*"}]
    require: {reviewState: [submitted, approved]}
  - name: nothing-untrusted
    effect: deny
    subjects: [{anyone: true}]
    resources: [{tag: untrusted}]
"#;
    apply(&r, tagged).await.unwrap();
    let before = decision(&r, user("alice"), "1.0.0").await;
    assert_eq!(before.decision.effect, Effect::Allow, "{before:#?}");

    let tags = |tags: &[&str]| ServerTags {
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    };
    // A publisher cannot tag (or untag) its own server.
    let refused = r
        .publisher_client()
        .await
        .set_server_tags(NAME, &tags(&["untrusted"]))
        .await;
    assert_eq!(refused_status(refused), 403);
    let reviewer = r.reviewer_client().await;
    let invalid = reviewer
        .set_server_tags(NAME, &tags(&["ok", "Not OK"]))
        .await;
    assert_eq!(refused_at(invalid), (422, vec!["tags[1]".to_owned()]));
    // Too many tags and an invalid one: both problems in one answer (the limit counts every
    // distinct tag asked for).
    let many: Vec<String> = (0..32)
        .map(|i| format!("t{i}"))
        .chain(["Not OK".to_owned()])
        .collect();
    let both = reviewer
        .set_server_tags(NAME, &ServerTags { tags: many })
        .await;
    assert_eq!(
        refused_at(both),
        (422, vec!["tags[32]".to_owned(), "tags".to_owned()])
    );
    let set = reviewer
        .set_server_tags(NAME, &tags(&["untrusted", "internal", "untrusted"]))
        .await
        .unwrap();
    assert_eq!(set.tags, ["internal", "untrusted"]);
    let shown = r.anonymous_client().server_tags(NAME).await.unwrap();
    assert_eq!(shown.tags, ["internal", "untrusted"]);

    let after = decision(&r, user("alice"), "1.0.0").await;
    assert_eq!(after.decision.effect, Effect::Deny, "{after:#?}");
    assert_eq!(after.decision.reason, DecisionReason::DeniedByRule);
    assert_eq!(after.decision.deciding_rules, ["nothing-untrusted"]);
    let audit = r.admin_client().audit(AuditQuery::default()).await.unwrap();
    assert!(
        audit
            .events
            .iter()
            .any(|e| e.action == "server.tags" && e.actor == "token:rev"),
        "{audit:#?}"
    );
}

#[tokio::test]
async fn decisions_follow_the_rules_the_review_the_signers_and_the_findings() {
    let r = TestApp::new().await;
    publish(&r, "1.0.0").await;
    publish(&r, "2.0.0").await;
    let platform = RequestSubject {
        user: Some("alice@acme.com".to_owned()),
        ..groups(&["platform"])
    };
    let engineering = allowlist("engineering");

    // No policy: nothing is allowed.
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d.policy_version, None);
    assert_eq!(d.decision.effect, Effect::Deny);
    assert_eq!(d.decision.reason, DecisionReason::NoRuleAllows);

    let v = apply(&r, POLICY).await.unwrap().version;

    // Submitted: platform's rule applies but wants an approval; engineering's allows.
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d.policy_version, Some(v));
    assert_eq!(d.server.as_str(), NAME);
    assert_eq!(d.version.as_str(), "1.0.0");
    insta::assert_json_snapshot!(
        "decision_requirements_not_met",
        serde_json::to_value(&d).unwrap()
    );
    assert_eq!(d.decision.effect, Effect::Deny);
    assert_eq!(d.decision.reason, DecisionReason::RequirementsNotMet);
    assert_eq!(d.decision.deciding_rules, ["platform-approved"]);
    assert_eq!(
        conditions(&d.decision, "platform-approved"),
        [("reviewState".to_owned(), false)]
    );
    assert_eq!(
        d.decision.rules[0].conditions[0].detail,
        "review state submitted is not in [approved]"
    );
    let d = decision(&r, engineering.clone(), "1.0.0").await;
    assert_eq!(d.decision.effect, Effect::Allow, "{d:#?}");
    assert_eq!(d.decision.reason, DecisionReason::Allowed);
    assert_eq!(d.decision.deciding_rules, ["engineering-early"]);
    // The deny rule applied to everyone and did not match: it is listed, with why.
    assert_eq!(
        conditions(&d.decision, "no-high-findings"),
        [("severityAtLeast".to_owned(), false)]
    );

    // Default deny: a subject no rule names, and a server no rule covers.
    let d = decision(&r, groups(&["sales"]), "1.0.0").await;
    assert_eq!(d.decision.effect, Effect::Deny);
    assert_eq!(d.decision.reason, DecisionReason::NoRuleAllows);
    assert!(d.decision.deciding_rules.is_empty());
    let anonymous = decision(&r, RequestSubject::default(), "latest").await;
    assert_eq!(anonymous.version.as_str(), "2.0.0", "latest is resolved");
    assert_eq!(anonymous.decision.reason, DecisionReason::NoRuleAllows);

    // Approved through the review API (signed by the trusted key, tools pinned): platform may
    // use it, and the approval's rule decides.
    let key_id = r.trust_test_key("com.acme").await;
    r.sign(r.publisher().await, &server_json(NAME, "1.0.0"))
        .await;
    r.attach_tools(r.publisher().await, NAME, "1.0.0", &everything_manifest())
        .await;
    r.approve(NAME, "1.0.0").await;
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d.decision.effect, Effect::Allow, "{d:#?}");
    assert_eq!(d.decision.deciding_rules, ["platform-approved"]);
    assert_eq!(
        conditions(&d.decision, "platform-approved"),
        [("reviewState".to_owned(), true)]
    );

    // Deny wins: 2.0.0 carries the tools of Cisco's malicious examples (high or worse findings);
    // approved with the findings gate overridden, engineering's and platform's rules would allow
    // it, but the deny rule matches.
    r.sign(r.publisher().await, &server_json(NAME, "2.0.0"))
        .await;
    r.attach_tools(r.publisher().await, NAME, "2.0.0", &malicious_manifest())
        .await;
    r.approve_overriding(NAME, "2.0.0", &[("findings", "accepted for the test")])
        .await;
    for subject in [&platform, &engineering] {
        let d = decision(&r, subject.clone(), "2.0.0").await;
        assert_eq!(d.decision.effect, Effect::Deny, "{d:#?}");
        assert_eq!(d.decision.reason, DecisionReason::DeniedByRule);
        assert_eq!(d.decision.deciding_rules, ["no-high-findings"]);
        assert_eq!(
            conditions(&d.decision, "no-high-findings"),
            [("severityAtLeast".to_owned(), true)]
        );
    }

    // Signers: a rule that wants the test key allows the version it signed, and one that wants
    // another key does not.
    let signed = format!(
        r#"apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: signed-by-release-key
    effect: allow
    subjects: [{{group: platform}}]
    resources: [{{server: "com.acme/*"}}]
    require:
      reviewState: [approved]
      signedBy: [{{keyId: "{key_id}"}}]
      maxSeverity: medium
"#
    );
    apply(&r, &signed).await.unwrap();
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d.decision.effect, Effect::Allow, "{d:#?}");
    assert_eq!(
        conditions(&d.decision, "signed-by-release-key"),
        [
            ("reviewState".to_owned(), true),
            ("signedBy".to_owned(), true),
            ("maxSeverity".to_owned(), true)
        ]
    );
    // The same rule without deny rules: 2.0.0 fails only on its findings.
    let d = decision(&r, platform.clone(), "2.0.0").await;
    assert_eq!(
        d.decision.reason,
        DecisionReason::RequirementsNotMet,
        "{d:#?}"
    );
    assert_eq!(
        conditions(&d.decision, "signed-by-release-key"),
        [
            ("reviewState".to_owned(), true),
            ("signedBy".to_owned(), true),
            ("maxSeverity".to_owned(), false)
        ]
    );
    let other_key = format!("sha256:{}", "0".repeat(64));
    apply(&r, &signed.replace(&key_id, &other_key))
        .await
        .unwrap();
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(
        d.decision.reason,
        DecisionReason::RequirementsNotMet,
        "{d:#?}"
    );
    assert_eq!(
        conditions(&d.decision, "signed-by-release-key")[1],
        ("signedBy".to_owned(), false)
    );

    // A deleted version is found, and never allowed.
    r.admin_client()
        .set_version_status(
            NAME,
            "1.0.0",
            &StatusChange {
                status: Status::Deleted,
                status_message: None,
            },
        )
        .await
        .unwrap();
    apply(&r, &signed).await.unwrap();
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d.decision.effect, Effect::Deny, "{d:#?}");
    assert_eq!(d.decision.reason, DecisionReason::VersionDeleted, "{d:#?}");

    // Unknown versions are 404; names and versions that cannot be are 422 at their field.
    let unknown = decide(&r, platform.clone(), "9.9.9").await;
    expect_problem(unknown, 404, ProblemCode::VersionNotFound);
    let bad_name = r
        .anonymous_client()
        .decide(&DecisionRequest {
            subject: RequestSubject::default(),
            server: "not a name".to_owned(),
            version: "1.0.0".to_owned(),
        })
        .await;
    assert_eq!(refused_at(bad_name), (422, vec!["server".to_owned()]));
    let bad_version = decide(&r, platform.clone(), "").await;
    assert_eq!(refused_at(bad_version), (422, vec!["version".to_owned()]));
    // A subject with a part the typed request does not have, as bytes.
    let bad_subject = r
        .call(
            Method::POST,
            "/api/v1/decisions",
            None,
            Some(&json!({"subject": {"team": "platform"}, "server": NAME, "version": "1.0.0"})),
        )
        .await;
    assert_eq!(
        bad_subject.status,
        StatusCode::BAD_REQUEST,
        "{:#}",
        bad_subject.body
    );
}

#[tokio::test]
async fn the_diff_lists_what_would_change_for_every_allowlist() {
    let r = TestApp::new().await;
    publish(&r, "1.0.0").await;
    publish(&r, "2.0.0").await;
    sqlx::query(
        "insert into allowlists (name, access, created_by)
         values ('engineering', 'anonymous', 'test'), ('contractors', 'anonymous', 'test')",
    )
    .execute(&r.db.pool)
    .await
    .unwrap();

    // No current policy: engineering gains both versions, contractors nothing.
    let d = diff(&r, diff_request(POLICY, Vec::new())).await.unwrap();
    assert_eq!(d.current_version, None);
    assert_eq!(d.current_digest, None);
    assert!(d.proposed_digest.starts_with("sha256:"));
    assert_eq!(d.diff.evaluated, 4, "2 allowlists × 2 versions");
    let changes = &d.diff.changes;
    assert_eq!(changes.len(), 2, "{d:#?}");
    for (change, version) in changes.iter().zip(["1.0.0", "2.0.0"]) {
        assert_eq!(
            serde_json::to_value(&change.subject).unwrap(),
            json!({"allowlist": "engineering"})
        );
        assert_eq!(change.server.as_str(), NAME);
        assert_eq!(change.version.as_str(), version);
        assert_eq!(change.from, Effect::Deny);
        assert_eq!(change.from_reason, DecisionReason::NoRuleAllows);
        assert_eq!(change.to, Effect::Allow);
        assert_eq!(change.to_reason, DecisionReason::Allowed);
        assert_eq!(change.deciding_rules, ["engineering-early"]);
    }

    // Subjects of the request are decided too (an allowlist named again counts once).
    let d = diff(
        &r,
        diff_request(
            POLICY,
            vec![groups(&["platform"]), allowlist("engineering")],
        ),
    )
    .await
    .unwrap();
    assert_eq!(d.diff.evaluated, 6);
    assert_eq!(d.diff.changes.len(), 2, "not approved");

    // Applied, the same document changes nothing; narrowing it takes the versions away.
    let applied = apply(&r, POLICY).await.unwrap();
    let d = diff(&r, diff_request(POLICY, Vec::new())).await.unwrap();
    assert_eq!(d.current_version, Some(applied.version));
    assert_eq!(d.current_digest.as_deref(), Some(applied.digest.as_str()));
    assert_eq!(d.proposed_digest, applied.digest);
    assert!(d.diff.changes.is_empty());
    let narrower = POLICY.replace("[submitted, approved]", "[approved]");
    let d = diff(&r, diff_request(&narrower, Vec::new())).await.unwrap();
    let changes = &d.diff.changes;
    assert_eq!(changes.len(), 2, "{d:#?}");
    assert!(changes.iter().all(|c| c.from == Effect::Allow
        && c.to == Effect::Deny
        && c.to_reason == DecisionReason::RequirementsNotMet));
    // Previewing stores nothing.
    assert_eq!(r.count("select count(*) from policies").await, 1);

    // An invalid proposal is refused at its place; only reviewers and admins preview.
    let invalid = diff(
        &r,
        diff_request(&POLICY.replace("effect: deny", "effect: block"), Vec::new()),
    )
    .await;
    assert_eq!(
        refused_at(invalid),
        (422, vec!["source.rules[2].effect".to_owned()])
    );
    let too_many: Vec<RequestSubject> = (0..101).map(|i| user(&format!("u{i}"))).collect();
    let refused = diff(&r, diff_request(POLICY, too_many)).await;
    assert_eq!(refused_at(refused), (422, vec!["subjects".to_owned()]));
    for token in [r.reader().await, r.publisher().await] {
        let refused = r
            .client(Some(token))
            .policy_diff(&diff_request(POLICY, Vec::new()))
            .await;
        assert_eq!(refused_status(refused), 403);
    }
    r.admin_client()
        .policy_diff(&diff_request(POLICY, Vec::new()))
        .await
        .unwrap();
}

/// The CLI against the real server binary: `policy apply` (a local check listing every problem
/// first), `policy show`, `policy diff` (exit 0 either way) and `policy test` (exit 0 allowed,
/// 7 denied).
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_applies_previews_and_tests_policies() {
    let r = TestApp::new().await;
    publish(&r, "1.0.0").await;
    sqlx::query(
        "insert into allowlists (name, access, created_by) values ('engineering', 'anonymous', 'test')",
    )
    .execute(&r.db.pool)
    .await
    .unwrap();
    let server = ServerProcess::start(&[], &[("DATABASE_URL", &r.db.url)]);
    let url = server.url.clone();
    let admin = Some(r.admin.as_str());
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("policy.yaml");
    let file_arg = file.to_str().unwrap();

    // Checked here first: every problem with its path, exit 3, nothing sent.
    std::fs::write(
        &file,
        POLICY
            .replace("effect: deny", "effect: block")
            .replace("namespace: com.acme", "namespace: com.acme/x"),
    )
    .unwrap();
    let run = mcpreg(&url, admin, &["policy", "apply", "-f", file_arg]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("rules[1].resources[0].namespace")
            && run.stderr.contains("rules[2].effect"),
        "{}",
        run.stderr
    );
    assert_eq!(r.count("select count(*) from policies").await, 0);

    std::fs::write(&file, POLICY).unwrap();
    // The preview: engineering would gain 1.0.0; exit 0.
    let run = mcpreg(&url, admin, &["policy", "diff", "-f", file_arg]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("allowlist engineering"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("com.acme/weather@1.0.0"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("deny → allow"), "{}", run.stdout);
    assert!(run.stdout.contains("engineering-early"), "{}", run.stdout);
    let run = mcpreg(
        &url,
        admin,
        &["--output", "json", "policy", "diff", "-f", file_arg],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let diff: DiffAnswer = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(diff.diff.changes.len(), 1, "{diff:#?}");

    // Not allowed before the policy is applied.
    let run = mcpreg(
        &url,
        None,
        &[
            "policy",
            "test",
            "com.acme/weather@1.0.0",
            "--allowlist",
            "engineering",
        ],
    );
    assert_eq!(run.code, 7, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("no policy applied"), "{}", run.stdout);

    let run = mcpreg(&url, admin, &["policy", "apply", "-f", file_arg]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("applied policy version"),
        "{}",
        run.stdout
    );
    let run = mcpreg(&url, admin, &["policy", "apply", "-f", file_arg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("unchanged"), "{}", run.stdout);
    // Only admins apply.
    let reader = Some(r.reader().await);
    let run = mcpreg(&url, reader, &["policy", "apply", "-f", file_arg]);
    assert_eq!(run.code, 5, "{}", run.stderr);

    let run = mcpreg(&url, None, &["policy", "show"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("# Acme's policy"), "{}", run.stdout);

    // Nothing changes now: still exit 0.
    let run = mcpreg(&url, admin, &["policy", "diff", "-f", file_arg]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("0 of 1 decision(s)"), "{}", run.stdout);

    // Allowed, with the deciding rule and every condition.
    let run = mcpreg(
        &url,
        None,
        &[
            "policy",
            "test",
            "com.acme/weather@1.0.0",
            "--allowlist",
            "engineering",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("ALLOW"), "{}", run.stdout);
    assert!(run.stdout.contains("engineering-early"), "{}", run.stdout);
    assert!(run.stdout.contains("severityAtLeast"), "{}", run.stdout);
    // Denied: platform needs an approval. Exit 7, and the reason.
    let run = mcpreg(
        &url,
        None,
        &[
            "policy",
            "test",
            "com.acme/weather",
            "--user",
            "alice@acme.com",
            "--group",
            "platform",
        ],
    );
    assert_eq!(run.code, 7, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("DENY"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("review state submitted is not in [approved]"),
        "{}",
        run.stdout
    );
    let run = mcpreg(
        &url,
        None,
        &[
            "--output",
            "json",
            "policy",
            "test",
            "com.acme/weather@1.0.0",
        ],
    );
    assert_eq!(run.code, 7, "{}", run.stderr);
    let answer: DecisionAnswer = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer.decision.reason, DecisionReason::NoRuleAllows);
    // An unknown version is not found (4), not a denial.
    let run = mcpreg(&url, None, &["policy", "test", "com.acme/weather@9.9.9"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
}
