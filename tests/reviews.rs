//! Review of versions through the HTTP API against a real PostgreSQL: every transition
//! (submitted → approved | rejected, approved → revoked), every gate (signature, digests, tools,
//! findings) and its override, the publisher never approving, several approvals, approvals that
//! expire, nothing inherited by a new version, and the queue.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use std::collections::BTreeMap;

use crate::util::{
    TestApp, everything_manifest, expect_problem, locations, malicious_manifest, refused_status,
    server_json,
};
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::review::{Gate, ReviewAction, ReviewRequest, ReviewState, VersionReview};
use mcpreg_client::{AuditQuery, ReviewQuery};
use mcpreg_server::auth::config::AccessConfig;

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

fn gate(review: &VersionReview, gate: Gate) -> bool {
    review.gates.iter().find(|g| g.gate == gate).unwrap().passed
}

/// A decision with this action, reason and overrides.
fn decision(
    action: ReviewAction,
    reason: Option<&str>,
    overrides: &[(&str, &str)],
) -> ReviewRequest {
    ReviewRequest {
        action,
        reason: reason.map(str::to_owned),
        overrides: overrides_of(overrides),
    }
}

fn overrides_of(overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
    overrides
        .iter()
        .map(|(gate, reason)| ((*gate).to_owned(), (*reason).to_owned()))
        .collect()
}

/// `{"action": "approve"}`.
fn approve() -> ReviewRequest {
    decision(ReviewAction::Approve, None, &[])
}

/// The actions of the audit trail, newest first.
async fn audit_actions(r: &TestApp) -> Vec<String> {
    r.admin_client()
        .audit(AuditQuery::default())
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn approval_needs_the_gates_and_a_reviewer_who_did_not_publish() {
    let r = registry(AccessConfig::default()).await;
    publish(&r, "1.0.0").await;
    let review = r.review(NAME, "1.0.0").await;
    assert_eq!(review.state, ReviewState::Submitted);
    assert_eq!(review.published_by, "token:ci");
    assert_eq!(review.approvals_required, 1);
    assert!(!gate(&review, Gate::Signature));
    assert!(!gate(&review, Gate::Tools));
    assert!(gate(&review, Gate::Digests), "no packages: nothing to pin");
    assert!(gate(&review, Gate::Findings));

    // The gates that do not hold are each named.
    let refused = r
        .decide(r.reviewer().await, NAME, "1.0.0", &approve())
        .await;
    let refused = expect_problem(refused, 422, ProblemCode::ReviewGateFailed);
    assert_eq!(locations(&refused), ["gates.signature", "gates.tools"]);

    // A publisher is no reviewer; an admin who published a version cannot approve it.
    let r2 = r
        .decide(r.publisher().await, NAME, "1.0.0", &approve())
        .await;
    assert_eq!(refused_status(r2), 403);
    r.published(&r.admin, &server_json(NAME, "0.9.0")).await;
    let r3 = r
        .decide(
            &r.admin,
            NAME,
            "0.9.0",
            &decision(
                ReviewAction::Approve,
                None,
                &[("signature", "x"), ("tools", "x")],
            ),
        )
        .await;
    let r3 = r3.unwrap_err();
    let r3 = r3.api_failure().unwrap();
    assert_eq!(r3.status.as_u16(), 403, "{:#?}", r3.problem);
    assert!(
        r3.problem.detail.contains("cannot approve"),
        "{:#?}",
        r3.problem
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
            &decision(ReviewAction::Approve, Some("reviewed the code"), &[]),
        )
        .await
        .unwrap();
    assert_eq!(approved.state, ReviewState::Approved);
    assert_eq!(approved.approvals, 1);
    let d = &approved.decisions[0];
    assert_eq!(d.action, ReviewAction::Approve);
    assert_eq!(d.actor, "token:rev");
    assert_eq!(d.reason.as_deref(), Some("reviewed the code"));
    insta::assert_json_snapshot!("approved_review", serde_json::to_value(&approved).unwrap(), {
        ".decisions[].id" => "[id]",
        ".**.at" => "[timestamp]",
        ".approvedUntil" => "[timestamp]",
    });
    assert!(d.gates.iter().all(|g| g.passed));
    let again = r
        .decide(r.second_reviewer().await, NAME, "1.0.0", &approve())
        .await;
    expect_problem(again, 409, ProblemCode::ReviewStateConflict);

    // A new version inherits nothing.
    publish(&r, "1.0.1").await;
    assert_eq!(r.review(NAME, "1.0.1").await.state, ReviewState::Submitted);
    let latest = r
        .decide(r.reviewer().await, NAME, "latest", &approve())
        .await
        .unwrap_err();
    let latest = latest.api_failure().unwrap();
    assert_eq!(latest.status.as_u16(), 400, "{:#?}", latest.problem);
    assert_eq!(locations(&latest.problem), ["path.version"]);

    // Reject and revoke need a reason, and are final.
    let no_reason = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.1",
            &decision(ReviewAction::Reject, None, &[]),
        )
        .await;
    let no_reason = expect_problem(no_reason, 422, ProblemCode::ReasonRequired);
    assert_eq!(locations(&no_reason), ["reason"]);
    let rejected = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.1",
            &decision(ReviewAction::Reject, Some("  "), &[]),
        )
        .await;
    expect_problem(rejected, 422, ProblemCode::ReasonRequired);
    let rejected = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.1",
            &decision(ReviewAction::Reject, Some("phones home"), &[]),
        )
        .await
        .unwrap();
    assert_eq!(rejected.state, ReviewState::Rejected);
    let revoke_rejected = r
        .decide(
            r.reviewer().await,
            NAME,
            "1.0.1",
            &decision(ReviewAction::Revoke, Some("x"), &[]),
        )
        .await;
    assert_eq!(refused_status(revoke_rejected), 409);
    r.sign(r.publisher().await, &server_json(NAME, "1.0.1"))
        .await;
    r.attach_tools(r.publisher().await, NAME, "1.0.1", &everything_manifest())
        .await;
    let after = r
        .decide(r.second_reviewer().await, NAME, "1.0.1", &approve())
        .await;
    assert_eq!(refused_status(after), 409, "rejected is final");

    let revoked = r
        .decide(
            r.second_reviewer().await,
            NAME,
            "1.0.0",
            &decision(ReviewAction::Revoke, Some("CVE-2026-1"), &[]),
        )
        .await
        .unwrap();
    assert_eq!(revoked.state, ReviewState::Revoked);
    assert_eq!(revoked.decisions.len(), 2);
    let reapprove = r
        .decide(r.reviewer().await, NAME, "1.0.0", &approve())
        .await;
    assert_eq!(refused_status(reapprove), 409);

    // Every decision is in the audit trail; decisions cannot be edited.
    let actions = audit_actions(&r).await;
    let actions: Vec<&str> = actions
        .iter()
        .map(String::as_str)
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
    assert!(!gate(&review, Gate::Findings), "{review:#?}");

    let refused = r
        .decide(r.reviewer().await, NAME, "2.0.0", &approve())
        .await
        .unwrap_err();
    let refused = refused.api_failure().unwrap();
    assert_eq!(
        locations(&refused.problem),
        ["gates.signature", "gates.findings"]
    );
    for (overrides, location) in [
        (
            [("signature", "signed out of band"), ("findings", "")].as_slice(),
            "overrides.findings",
        ),
        (
            [("signature", "x"), ("findings", "x"), ("speed", "x")].as_slice(),
            "overrides.speed",
        ),
        (
            [("signature", "x"), ("findings", "x"), ("tools", "x")].as_slice(),
            "overrides.tools",
        ),
    ] {
        let reply = r
            .decide(
                r.reviewer().await,
                NAME,
                "2.0.0",
                &decision(ReviewAction::Approve, None, overrides),
            )
            .await
            .unwrap_err();
        let failure = reply.api_failure().unwrap();
        assert_eq!(failure.status.as_u16(), 422, "{:#?}", failure.problem);
        assert!(
            locations(&failure.problem).contains(&location),
            "{:#?}",
            failure.problem
        );
    }
    let overrides = [
        (
            "signature",
            "internal build, signed by the release team's HSM",
        ),
        ("findings", "the flagged tools are test fixtures"),
    ];
    let approved = r
        .decide(
            r.reviewer().await,
            NAME,
            "2.0.0",
            &decision(ReviewAction::Approve, None, &overrides),
        )
        .await
        .unwrap();
    assert_eq!(approved.state, ReviewState::Approved);
    assert_eq!(approved.decisions[0].overrides, overrides_of(&overrides));
    let audit = r.admin_client().audit(AuditQuery::default()).await.unwrap();
    let event = audit
        .events
        .into_iter()
        .find(|e| e.action == "review.approve")
        .unwrap();
    assert_eq!(
        event.details["overrides"],
        serde_json::to_value(overrides_of(&overrides)).unwrap()
    );
    assert_eq!(
        event.details["failedGates"],
        serde_json::json!(["signature", "findings"])
    );
    let overrides_on_reject = r
        .decide(
            r.reviewer().await,
            NAME,
            "2.0.0",
            &decision(ReviewAction::Revoke, Some("x"), &[("tools", "x")]),
        )
        .await;
    assert_eq!(refused_status(overrides_on_reject), 422);
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
        .decide(r.reviewer().await, NAME, "3.0.0", &approve())
        .await
        .unwrap();
    assert_eq!(first.state, ReviewState::Submitted);
    assert_eq!(first.approvals, 1);
    assert!(first.decisions[0].expires_at.is_some());
    let twice = r
        .decide(r.reviewer().await, NAME, "3.0.0", &approve())
        .await;
    expect_problem(twice, 409, ProblemCode::AlreadyApproved);
    let second = r
        .decide(r.second_reviewer().await, NAME, "3.0.0", &approve())
        .await
        .unwrap();
    assert_eq!(second.state, ReviewState::Approved);
    assert_eq!(second.approvals, 2);
    assert!(second.approved_until.is_some());

    let reviewer = r.reviewer_client().await;
    let queue = async |state: Option<&str>, limit: Option<u32>| {
        reviewer
            .reviews(&ReviewQuery {
                limit: limit.map(|n: u32| n.to_string()),
                state: state.map(str::to_owned),
            })
            .await
    };
    publish(&r, "3.0.1").await;
    let approved = queue(Some("approved"), None).await.unwrap();
    let names: Vec<&str> = approved
        .reviews
        .iter()
        .map(|v| v.version.as_str())
        .collect();
    assert_eq!(names, ["3.0.0"]);
    let submitted = queue(Some("submitted"), None).await.unwrap();
    assert_eq!(submitted.reviews[0].version, "3.0.1");
    assert_eq!(refused_status(queue(Some("pending"), None).await), 400);
    let bad = queue(None, Some(0)).await.unwrap_err();
    assert_eq!(
        locations(&bad.api_failure().unwrap().problem),
        ["query.limit"]
    );

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
    assert_eq!(expired.state, ReviewState::Submitted, "{expired:#?}");
    assert_eq!(expired.approvals, 0);
    assert_eq!(
        queue(Some("submitted"), None).await.unwrap().reviews[0].version,
        "3.0.1"
    );
    let renewed = r
        .decide(r.reviewer().await, NAME, "3.0.1", &approve())
        .await
        .unwrap();
    assert_eq!(renewed.approvals, 1);
    assert_eq!(renewed.state, ReviewState::Submitted);
}
