//! Review of versions through the HTTP API against a real PostgreSQL: every transition
//! (submitted → approved | rejected, approved → revoked), every gate (signature, digests, tools,
//! findings) and its override, the publisher never approving, several approvals, approvals that
//! expire, nothing inherited by a new version, and the queue.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{TestApp, everything_manifest, malicious_manifest, server_json};
use axum::http::{Method, StatusCode};
use mcpreg_server::auth::config::AccessConfig;
use serde_json::{Value, json};

const NAME: &str = "com.acme/weather";

/// A registry with this access configuration where the test key is a trusted signer of
/// com.acme.
async fn registry(config: AccessConfig) -> TestApp {
    let r = TestApp::with_access(config).await;
    // The publisher's token makes the namespace the test key becomes a trusted signer of.
    r.publisher().await;
    r.trust_test_key("com.acme").await;
    r
}

/// Publishes a version of `com.acme/weather` as its publisher.
async fn publish(r: &TestApp, version: &str) {
    r.published(r.publisher().await, &server_json(NAME, version))
        .await;
}

fn gate(review: &Value, name: &str) -> bool {
    review["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gate"] == name)
        .unwrap()["passed"]
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn approval_needs_the_gates_and_a_reviewer_who_did_not_publish() {
    let r = registry(AccessConfig::default()).await;
    publish(&r, "1.0.0").await;
    let review = r.review(NAME, "1.0.0").await;
    assert_eq!(review["state"], "submitted");
    assert_eq!(review["publishedBy"], "token:ci");
    assert_eq!(review["approvalsRequired"], 1);
    assert!(!gate(&review, "signature"));
    assert!(!gate(&review, "tools"));
    assert!(gate(&review, "digests"), "no packages: nothing to pin");
    assert!(gate(&review, "findings"));

    // The gates that do not hold are each named.
    let refused = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.0",
            &json!({"action": "approve"}),
        )
        .await;
    refused.problem(422, "review_gate_failed");
    assert_eq!(refused.locations(), ["gates.signature", "gates.tools"]);

    // A publisher is no reviewer; an admin who published a version cannot approve it.
    let r2 = r
        .decide(
            r.publisher().await,
            NAME,
            "1.0.0",
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(r2.status, StatusCode::FORBIDDEN);
    let own = r
        .call(
            Method::POST,
            "/api/v1/publish",
            Some(&r.admin),
            Some(&server_json(NAME, "0.9.0")),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED);
    let r3 = r
        .decide(
            &r.admin,
            NAME,
            "0.9.0",
            &json!({"action": "approve", "overrides": {"signature": "x", "tools": "x"}}),
        )
        .await;
    assert_eq!(r3.status, StatusCode::FORBIDDEN, "{:#}", r3.body);
    assert!(
        r3.body["detail"]
            .as_str()
            .unwrap()
            .contains("cannot approve"),
        "{:#}",
        r3.body
    );

    // With a trusted signature and pinned tools, one reviewer approves.
    r.sign(r.publisher().await, &server_json(NAME, "1.0.0"))
        .await;
    r.attach_tools(r.publisher().await, NAME, "1.0.0", &everything_manifest())
        .await;
    let approved = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.0",
            &json!({"action": "approve", "reason": "reviewed the code"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:#}", approved.body);
    assert_eq!(approved.body["state"], "approved");
    assert_eq!(approved.body["approvals"], 1);
    let d = &approved.body["decisions"][0];
    assert_eq!(d["action"], "approve");
    assert_eq!(d["actor"], "token:rev");
    assert_eq!(d["reason"], "reviewed the code");
    insta::assert_json_snapshot!("approved_review", approved.body, {
        ".decisions[].id" => "[id]",
        ".**.at" => "[timestamp]",
        ".approvedUntil" => "[timestamp]",
    });
    assert!(
        d["gates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["passed"] == true)
    );
    let again = r
        .decide(
            r.second_reviewer().await,
            NAME,
            "1.0.0",
            &json!({"action": "approve"}),
        )
        .await;
    again.problem(409, "review_state_conflict");

    // A new version inherits nothing.
    publish(&r, "1.0.1").await;
    assert_eq!(r.review(NAME, "1.0.1").await["state"], "submitted");
    let latest = r
        .decide(
            r.reviewer().await,
            NAME,
            "latest",
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(latest.status, StatusCode::BAD_REQUEST);
    assert_eq!(latest.locations(), ["path.version"]);

    // Reject and revoke need a reason, and are final.
    let no_reason = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.1",
            &json!({"action": "reject"}),
        )
        .await;
    no_reason.problem(422, "reason_required");
    assert_eq!(no_reason.locations(), ["reason"]);
    let rejected = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.1",
            &json!({"action": "reject", "reason": "  "}),
        )
        .await;
    rejected.problem(422, "reason_required");
    let rejected = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.1",
            &json!({"action": "reject", "reason": "phones home"}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK);
    assert_eq!(rejected.body["state"], "rejected");
    let revoke_rejected = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.1",
            &json!({"action": "revoke", "reason": "x"}),
        )
        .await;
    assert_eq!(revoke_rejected.status, StatusCode::CONFLICT);
    r.sign(r.publisher().await, &server_json(NAME, "1.0.1"))
        .await;
    r.attach_tools(r.publisher().await, NAME, "1.0.1", &everything_manifest())
        .await;
    let after = r
        .decide(
            r.second_reviewer().await,
            NAME,
            "1.0.1",
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(after.status, StatusCode::CONFLICT, "rejected is final");

    let revoked = r
        .decide(
            r.second_reviewer().await,
            NAME,
            "1.0.0",
            &json!({"action": "revoke", "reason": "CVE-2026-1"}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(revoked.body["state"], "revoked");
    assert_eq!(revoked.body["decisions"].as_array().unwrap().len(), 2);
    let reapprove = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.0",
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(reapprove.status, StatusCode::CONFLICT);

    // Every decision is in the audit trail; decisions cannot be edited.
    let audit = r
        .call(Method::GET, "/api/v1/audit", Some(&r.admin), None)
        .await;
    let actions: Vec<&str> = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("review."))
        .collect();
    assert_eq!(
        actions,
        ["review.revoke", "review.reject", "review.approve"]
    );
    let edit = sqlx::query("update review_decisions set actor = 'someone-else'")
        .execute(&r.db.pool)
        .await;
    assert!(edit.is_err(), "review decisions must be append-only");
}

#[tokio::test]
async fn a_failed_gate_is_overridden_only_with_a_reason_that_is_recorded() {
    let r = registry(AccessConfig::default()).await;
    publish(&r, "2.0.0").await;
    r.attach_tools(r.publisher().await, NAME, "2.0.0", &malicious_manifest())
        .await;
    let review = r.review(NAME, "2.0.0").await;
    assert!(!gate(&review, "findings"), "{review:#}");

    let refused = r
        .decide(
            r.reviewer().await,
            NAME,
            "2.0.0",
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(refused.locations(), ["gates.signature", "gates.findings"]);
    for (overrides, location) in [
        (
            json!({"signature": "signed out of band", "findings": ""}),
            "overrides.findings",
        ),
        (
            json!({"signature": "x", "findings": "x", "speed": "x"}),
            "overrides.speed",
        ),
        (
            json!({"signature": "x", "findings": "x", "tools": "x"}),
            "overrides.tools",
        ),
    ] {
        let reply = r
            .decide(
                r.reviewer().await,
                NAME,
                "2.0.0",
                &json!({"action": "approve", "overrides": overrides}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{:#}",
            reply.body
        );
        assert!(
            reply.locations().contains(&location.to_owned()),
            "{:#}",
            reply.body
        );
    }
    let overrides = json!({"signature": "internal build, signed by the release team's HSM", "findings": "the flagged tools are test fixtures"});
    let approved = r
        .decide(
            r.reviewer().await,
            NAME,
            "2.0.0",
            &json!({"action": "approve", "overrides": overrides}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:#}", approved.body);
    assert_eq!(approved.body["state"], "approved");
    assert_eq!(approved.body["decisions"][0]["overrides"], overrides);
    let audit = r
        .call(Method::GET, "/api/v1/audit", Some(&r.admin), None)
        .await;
    let event = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "review.approve")
        .cloned()
        .unwrap();
    assert_eq!(event["details"]["overrides"], overrides);
    assert_eq!(
        event["details"]["failedGates"],
        json!(["signature", "findings"])
    );
    let overrides_on_reject = r
        .decide(
            r.reviewer().await,
            NAME,
            "2.0.0",
            &json!({"action": "revoke", "reason": "x", "overrides": {"tools": "x"}}),
        )
        .await;
    assert_eq!(overrides_on_reject.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn several_approvals_expiry_and_the_queue() {
    let config = AccessConfig::parse(
        "[review]\napprovals = 2\napproval_days = 30\nrequire_signature = false\nrequire_tools = false\n",
    )
    .unwrap();
    for bad in [
        "[review]\napprovals = 0\n",
        "[review]\nblock_severity = \"severe\"\n",
        "[review]\napproval_days = 0\n",
        "[review]\napprovers = 2\n",
    ] {
        assert!(AccessConfig::parse(bad).is_err(), "{bad}");
    }
    let r = registry(config).await;
    publish(&r, "3.0.0").await;
    let first = r
        .decide(
            r.reviewer().await,
            NAME,
            "3.0.0",
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
    assert_eq!(first.body["state"], "submitted");
    assert_eq!(first.body["approvals"], 1);
    assert!(first.body["decisions"][0]["expiresAt"].is_string());
    let twice = r
        .decide(
            r.reviewer().await,
            NAME,
            "3.0.0",
            &json!({"action": "approve"}),
        )
        .await;
    twice.problem(409, "already_approved");
    let second = r
        .decide(
            r.second_reviewer().await,
            NAME,
            "3.0.0",
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(second.body["state"], "approved");
    assert_eq!(second.body["approvals"], 2);
    assert!(second.body["approvedUntil"].is_string());

    let queue = async |query: &str| {
        r.call(
            Method::GET,
            &format!("/api/v1/reviews{query}"),
            Some(r.reviewer().await),
            None,
        )
        .await
    };
    publish(&r, "3.0.1").await;
    let approved = queue("?state=approved").await;
    assert_eq!(approved.status, StatusCode::OK);
    let names: Vec<&str> = approved.body["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["3.0.0"]);
    let submitted = queue("?state=submitted").await;
    assert_eq!(submitted.body["reviews"][0]["version"], "3.0.1");
    assert_eq!(
        queue("?state=pending").await.status,
        StatusCode::BAD_REQUEST
    );
    let bad = queue("?limit=0").await;
    assert_eq!(bad.locations(), ["query.limit"]);

    // One approval expires (recorded as given; decisions are append-only, so an expired one is
    // added the way a past approval would have been): the version is submitted again, and the
    // reviewer whose approval expired may approve again.
    let version_id: i64 =
        sqlx::query_scalar("select id from server_versions where version = '3.0.1'")
            .fetch_one(&r.db.pool)
            .await
            .unwrap();
    for actor in ["token:rev", "token:rev2"] {
        sqlx::query(
            "insert into review_decisions (version_id, action, actor, gates, expires_at)
             values ($1, 'approve', $2, '[]', now() - interval '1 hour')",
        )
        .bind(version_id)
        .bind(actor)
        .execute(&r.db.pool)
        .await
        .unwrap();
    }
    sqlx::query("insert into version_reviews (version_id, state, changed_by) values ($1, 'approved', 'token:rev2')")
        .bind(version_id)
        .execute(&r.db.pool)
        .await
        .unwrap();
    let expired = r.review(NAME, "3.0.1").await;
    assert_eq!(expired["state"], "submitted", "{expired:#}");
    assert_eq!(expired["approvals"], 0);
    assert_eq!(
        queue("?state=submitted").await.body["reviews"][0]["version"],
        "3.0.1"
    );
    let renewed = r
        .decide(
            r.reviewer().await,
            NAME,
            "3.0.1",
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{:#}", renewed.body);
    assert_eq!(renewed.body["approvals"], 1);
    assert_eq!(renewed.body["state"], "submitted");
}
