//! Access policies in the registry against a real PostgreSQL: applying versions (append-only;
//! the same document is no new version; an invalid one is refused at its exact places and
//! nothing is stored), the current policy, decisions (default deny, the deciding rule, deny wins,
//! review state, signers, scan findings), the diff over every allowlist, and the CLI end to end.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{
    Reply, ServerProcess, TestApp, call, everything_manifest, malicious_manifest, mcpreg,
    server_json,
};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const NAME: &str = "com.acme/weather";
const URI: &str = "com.acme%2Fweather";

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

async fn apply(r: &TestApp, source: &str) -> Reply {
    r.call(
        Method::PUT,
        "/api/v1/policy",
        Some(&r.admin),
        Some(&json!({ "source": source })),
    )
    .await
}

async fn decide(r: &TestApp, subject: Value, version: &str) -> Reply {
    r.call(
        Method::POST,
        "/api/v1/decisions",
        None,
        Some(&json!({"subject": subject, "server": NAME, "version": version})),
    )
    .await
}

async fn decision(r: &TestApp, subject: Value, version: &str) -> Value {
    let reply = decide(r, subject, version).await;
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body
}

async fn diff(r: &TestApp, body: Value) -> Reply {
    r.call(
        Method::POST,
        "/api/v1/policy/diff",
        Some(r.reviewer().await),
        Some(&body),
    )
    .await
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The conditions of one rule of a decision: `(condition, held)`.
fn conditions(decision: &Value, rule: &str) -> Vec<(String, bool)> {
    decision["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("rule {rule} is not in {decision:#}"))["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["condition"].as_str().unwrap().to_owned(),
                c["held"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn applied_versions_grow_and_the_same_document_is_no_new_version() {
    let r = TestApp::new().await;
    let none = r.call(Method::GET, "/api/v1/policy", None, None).await;
    none.problem(404, "no_policy");

    let first = apply(&r, POLICY).await;
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
    assert_eq!(first.body["changed"], true);
    assert_eq!(first.body["rules"], 3);
    let v1 = first.body["version"].as_i64().unwrap();
    let digest = first.body["digest"].as_str().unwrap().to_owned();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    // The same policy written as JSON, in another key order and without the comment, is the
    // same canonical document: nothing is stored.
    let current = r.call(Method::GET, "/api/v1/policy", None, None).await;
    assert_eq!(current.status, StatusCode::OK, "{:#}", current.body);
    let mut as_json = current.body["document"].clone();
    as_json.as_object_mut().unwrap().remove("kind");
    as_json["kind"] = json!("Policy");
    let same = apply(&r, &serde_json::to_string_pretty(&as_json).unwrap()).await;
    assert_eq!(same.status, StatusCode::OK, "{:#}", same.body);
    assert_eq!(same.body["changed"], false);
    assert_eq!(same.body["version"], v1);
    assert_eq!(same.body["digest"], digest.as_str());
    assert_eq!(r.count("select count(*) from policies").await, 1);

    // A changed document is a new, higher version; the current policy is the highest.
    let changed = POLICY.replace("[submitted, approved]", "[approved]");
    let second = apply(&r, &changed).await;
    assert_eq!(second.status, StatusCode::OK, "{:#}", second.body);
    assert_eq!(second.body["changed"], true);
    let v2 = second.body["version"].as_i64().unwrap();
    assert!(v2 > v1);
    assert_ne!(second.body["digest"], digest.as_str());
    // Going back to the first document is a change too: a third version, not the first again.
    let third = apply(&r, POLICY).await;
    assert_eq!(third.body["changed"], true);
    let v3 = third.body["version"].as_i64().unwrap();
    assert!(v3 > v2);
    assert_eq!(third.body["digest"], digest.as_str());

    // The current policy: the source as sent, comments included, and its canonical form.
    let current = r
        .call(Method::GET, "/api/v1/policy", Some(r.reader().await), None)
        .await;
    assert_eq!(current.status, StatusCode::OK);
    let c = &current.body;
    assert_eq!(c["version"], v3);
    assert_eq!(c["digest"], digest.as_str());
    assert_eq!(c["source"], POLICY);
    assert_eq!(c["format"], "yaml");
    assert_eq!(c["appliedBy"], "token:admin");
    assert!(c["appliedAt"].is_string());
    assert_eq!(c["document"]["apiVersion"], "mcpreg.dev/v1");
    assert_eq!(c["document"]["rules"][1]["name"], "engineering-early");

    // Every stored version is audited with its version, digest and rule count.
    let audit = r
        .call(Method::GET, "/api/v1/audit", Some(&r.admin), None)
        .await;
    let applies: Vec<&Value> = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "policy.apply")
        .collect();
    assert_eq!(applies.len(), 3, "{:#}", audit.body);
    assert_eq!(applies[0]["actor"], "token:admin");
    assert_eq!(applies[0]["details"]["version"], v3);
    assert_eq!(applies[0]["details"]["digest"], digest.as_str());
    assert_eq!(applies[0]["details"]["rules"], 3);
    assert_eq!(applies[0]["details"]["previousVersion"], v2);

    // Only admins apply; versions cannot be edited or removed.
    for token in [r.reviewer().await, r.publisher().await, r.reader().await] {
        let refused = r
            .call(
                Method::PUT,
                "/api/v1/policy",
                Some(token),
                Some(&json!({ "source": POLICY })),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:#}", refused.body);
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
    refused.problem(422, "invalid_policy");
    assert_eq!(
        refused.locations(),
        [
            "source.rules[0].require.reviewstate",
            "source.rules[0].require.reviewState",
            "source.rules[1].subjects[0].anyone",
            "source.rules[1].resources[0].server",
            "source.rules[1].name",
        ],
        "{:#}",
        refused.body
    );
    let first = &refused.body["errors"][0];
    assert_eq!(first["source"], "policy");
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `reviewState`?"),
        "{first:#}"
    );

    // A document that is not YAML at all is located at the source as a whole.
    let syntax = apply(&r, "rules: [unclosed").await;
    assert_eq!(syntax.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(syntax.locations(), ["source"]);
    let json_syntax = apply(&r, "{\"apiVersion\": ").await;
    assert_eq!(json_syntax.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_syntax.locations(), ["source"]);
    // A body that is not `{source}` is a 400 naming the field.
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
    let none = r.call(Method::GET, "/api/v1/policy", None, None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
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
    let applied = apply(&r, tagged).await;
    assert_eq!(applied.status, StatusCode::OK, "{:#}", applied.body);
    let before = decision(&r, json!({"user": "alice"}), "1.0.0").await;
    assert_eq!(before["decision"]["effect"], "allow", "{before:#}");

    let uri = format!("/api/v1/servers/{}/tags", NAME.replace('/', "%2F"));
    let tag = |token: String, tags: Value| {
        let app = r.app.clone();
        let uri = uri.clone();
        async move {
            call(
                &app,
                Method::PUT,
                &uri,
                Some(&token),
                Some(&json!({"tags": tags})),
            )
            .await
        }
    };
    // A publisher cannot tag (or untag) its own server.
    let refused = tag(r.publisher().await.to_owned(), json!(["untrusted"])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let invalid = tag(r.reviewer().await.to_owned(), json!(["ok", "Not OK"])).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.locations(), ["tags[1]"]);
    let set = tag(
        r.reviewer().await.to_owned(),
        json!(["untrusted", "internal", "untrusted"]),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{:#}", set.body);
    assert_eq!(set.body["tags"], json!(["internal", "untrusted"]));
    let shown = r.call(Method::GET, &uri, None, None).await;
    assert_eq!(shown.body["tags"], json!(["internal", "untrusted"]));

    let after = decision(&r, json!({"user": "alice"}), "1.0.0").await;
    assert_eq!(after["decision"]["effect"], "deny", "{after:#}");
    assert_eq!(after["decision"]["reason"], "denied_by_rule");
    assert_eq!(
        after["decision"]["decidingRules"],
        json!(["nothing-untrusted"])
    );
    let audit = r
        .call(Method::GET, "/api/v1/audit", Some(&r.admin), None)
        .await;
    assert!(
        audit.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "server.tags" && e["actor"] == "token:rev"),
        "{:#}",
        audit.body
    );
}

#[tokio::test]
async fn decisions_follow_the_rules_the_review_the_signers_and_the_findings() {
    let r = TestApp::new().await;
    publish(&r, "1.0.0").await;
    publish(&r, "2.0.0").await;
    let platform = json!({"user": "alice@acme.com", "groups": ["platform"]});
    let engineering = json!({"allowlist": "engineering"});

    // No policy: nothing is allowed.
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d["policyVersion"], Value::Null);
    assert_eq!(d["decision"]["effect"], "deny");
    assert_eq!(d["decision"]["reason"], "no_rule_allows");

    let applied = apply(&r, POLICY).await;
    let v = applied.body["version"].as_i64().unwrap();

    // Submitted: platform's rule applies but wants an approval; engineering's allows.
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d["policyVersion"], v);
    assert_eq!(d["server"], NAME);
    assert_eq!(d["version"], "1.0.0");
    insta::assert_json_snapshot!("decision_requirements_not_met", d);
    assert_eq!(d["decision"]["effect"], "deny");
    assert_eq!(d["decision"]["reason"], "requirements_not_met");
    assert_eq!(
        strings(&d["decision"]["decidingRules"]),
        ["platform-approved"]
    );
    assert_eq!(
        conditions(&d["decision"], "platform-approved"),
        [("reviewState".to_owned(), false)]
    );
    assert_eq!(
        d["decision"]["rules"][0]["conditions"][0]["detail"],
        "review state submitted is not in [approved]"
    );
    let d = decision(&r, engineering.clone(), "1.0.0").await;
    assert_eq!(d["decision"]["effect"], "allow", "{d:#}");
    assert_eq!(d["decision"]["reason"], "allowed");
    assert_eq!(
        strings(&d["decision"]["decidingRules"]),
        ["engineering-early"]
    );
    // The deny rule applied to everyone and did not match: it is listed, with why.
    assert_eq!(
        conditions(&d["decision"], "no-high-findings"),
        [("severityAtLeast".to_owned(), false)]
    );

    // Default deny: a subject no rule names, and a server no rule covers.
    let d = decision(&r, json!({"groups": ["sales"]}), "1.0.0").await;
    assert_eq!(d["decision"]["effect"], "deny");
    assert_eq!(d["decision"]["reason"], "no_rule_allows");
    assert_eq!(d["decision"]["decidingRules"], json!([]));
    let anonymous = r
        .call(
            Method::POST,
            "/api/v1/decisions",
            None,
            Some(&json!({"server": NAME, "version": "latest"})),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::OK, "{:#}", anonymous.body);
    assert_eq!(anonymous.body["version"], "2.0.0", "latest is resolved");
    assert_eq!(anonymous.body["decision"]["reason"], "no_rule_allows");

    // Approved through the review API (signed by the trusted key, tools pinned): platform may
    // use it, and the approval's rule decides.
    let key_id = r.trust_test_key("com.acme").await;
    r.sign(r.publisher().await, &server_json(NAME, "1.0.0"))
        .await;
    r.attach_tools(r.publisher().await, NAME, "1.0.0", &everything_manifest())
        .await;
    r.approve(NAME, "1.0.0").await;
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d["decision"]["effect"], "allow", "{d:#}");
    assert_eq!(
        strings(&d["decision"]["decidingRules"]),
        ["platform-approved"]
    );
    assert_eq!(
        conditions(&d["decision"], "platform-approved"),
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
        assert_eq!(d["decision"]["effect"], "deny", "{d:#}");
        assert_eq!(d["decision"]["reason"], "denied_by_rule");
        assert_eq!(
            strings(&d["decision"]["decidingRules"]),
            ["no-high-findings"]
        );
        assert_eq!(
            conditions(&d["decision"], "no-high-findings"),
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
    assert_eq!(apply(&r, &signed).await.status, StatusCode::OK);
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d["decision"]["effect"], "allow", "{d:#}");
    assert_eq!(
        conditions(&d["decision"], "signed-by-release-key"),
        [
            ("reviewState".to_owned(), true),
            ("signedBy".to_owned(), true),
            ("maxSeverity".to_owned(), true)
        ]
    );
    // The same rule without deny rules: 2.0.0 fails only on its findings.
    let d = decision(&r, platform.clone(), "2.0.0").await;
    assert_eq!(d["decision"]["reason"], "requirements_not_met", "{d:#}");
    assert_eq!(
        conditions(&d["decision"], "signed-by-release-key"),
        [
            ("reviewState".to_owned(), true),
            ("signedBy".to_owned(), true),
            ("maxSeverity".to_owned(), false)
        ]
    );
    let other_key = format!("sha256:{}", "0".repeat(64));
    assert_eq!(
        apply(&r, &signed.replace(&key_id, &other_key)).await.status,
        StatusCode::OK
    );
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d["decision"]["reason"], "requirements_not_met", "{d:#}");
    assert_eq!(
        conditions(&d["decision"], "signed-by-release-key")[1],
        ("signedBy".to_owned(), false)
    );

    // A deleted version is found, and never allowed.
    let deleted = r
        .call(
            Method::PATCH,
            &format!("/api/v1/servers/{URI}/versions/1.0.0/status"),
            Some(&r.admin),
            Some(&json!({"status": "deleted"})),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{:#}", deleted.body);
    assert_eq!(apply(&r, &signed).await.status, StatusCode::OK);
    let d = decision(&r, platform.clone(), "1.0.0").await;
    assert_eq!(d["decision"]["effect"], "deny", "{d:#}");
    assert_eq!(d["decision"]["reason"], "version_deleted", "{d:#}");

    // Unknown versions are 404; names and versions that cannot be are 422 at their field.
    let unknown = decide(&r, platform.clone(), "9.9.9").await;
    unknown.problem(404, "version_not_found");
    let bad_name = r
        .call(
            Method::POST,
            "/api/v1/decisions",
            None,
            Some(&json!({"server": "not a name", "version": "1.0.0"})),
        )
        .await;
    assert_eq!(bad_name.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_name.locations(), ["server"]);
    let bad_version = decide(&r, platform.clone(), "").await;
    assert_eq!(bad_version.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_version.locations(), ["version"]);
    let bad_subject = decide(&r, json!({"team": "platform"}), "1.0.0").await;
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
    let d = diff(&r, json!({ "source": POLICY })).await;
    assert_eq!(d.status, StatusCode::OK, "{:#}", d.body);
    assert_eq!(d.body["currentVersion"], Value::Null);
    assert_eq!(d.body["currentDigest"], Value::Null);
    assert!(
        d.body["proposedDigest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(d.body["evaluated"], 4, "2 allowlists × 2 versions");
    let changes = d.body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{:#}", d.body);
    for (change, version) in changes.iter().zip(["1.0.0", "2.0.0"]) {
        assert_eq!(change["subject"], json!({"allowlist": "engineering"}));
        assert_eq!(change["server"], NAME);
        assert_eq!(change["version"], version);
        assert_eq!(change["from"], "deny");
        assert_eq!(change["fromReason"], "no_rule_allows");
        assert_eq!(change["to"], "allow");
        assert_eq!(change["toReason"], "allowed");
        assert_eq!(strings(&change["decidingRules"]), ["engineering-early"]);
    }

    // Subjects of the request are decided too (an allowlist named again counts once).
    let d = diff(
        &r,
        json!({
            "source": POLICY,
            "subjects": [{"groups": ["platform"]}, {"allowlist": "engineering"}],
        }),
    )
    .await;
    assert_eq!(d.status, StatusCode::OK, "{:#}", d.body);
    assert_eq!(d.body["evaluated"], 6);
    assert_eq!(
        d.body["changes"].as_array().unwrap().len(),
        2,
        "not approved"
    );

    // Applied, the same document changes nothing; narrowing it takes the versions away.
    let applied = apply(&r, POLICY).await;
    let d = diff(&r, json!({ "source": POLICY })).await;
    assert_eq!(d.body["currentVersion"], applied.body["version"]);
    assert_eq!(d.body["currentDigest"], applied.body["digest"]);
    assert_eq!(d.body["proposedDigest"], applied.body["digest"]);
    assert_eq!(d.body["changes"], json!([]));
    let narrower = POLICY.replace("[submitted, approved]", "[approved]");
    let d = diff(&r, json!({ "source": narrower })).await;
    let changes = d.body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{:#}", d.body);
    assert!(changes.iter().all(|c| c["from"] == "allow"
        && c["to"] == "deny"
        && c["toReason"] == "requirements_not_met"));
    // Previewing stores nothing.
    assert_eq!(r.count("select count(*) from policies").await, 1);

    // An invalid proposal is refused at its place; only reviewers and admins preview.
    let invalid = diff(
        &r,
        json!({"source": POLICY.replace("effect: deny", "effect: block")}),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.locations(), ["source.rules[2].effect"]);
    let too_many: Vec<Value> = (0..101).map(|i| json!({"user": format!("u{i}")})).collect();
    let refused = diff(&r, json!({"source": POLICY, "subjects": too_many})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.locations(), ["subjects"]);
    for token in [r.reader().await, r.publisher().await] {
        let refused = r
            .call(
                Method::POST,
                "/api/v1/policy/diff",
                Some(token),
                Some(&json!({ "source": POLICY })),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let by_admin = r
        .call(
            Method::POST,
            "/api/v1/policy/diff",
            Some(&r.admin),
            Some(&json!({ "source": POLICY })),
        )
        .await;
    assert_eq!(by_admin.status, StatusCode::OK);
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
    let diff: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(diff["changes"].as_array().unwrap().len(), 1, "{diff:#}");

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
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer["decision"]["reason"], "no_rule_allows");
    // An unknown version is not found (4), not a denial.
    let run = mcpreg(&url, None, &["policy", "test", "com.acme/weather@9.9.9"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
}
