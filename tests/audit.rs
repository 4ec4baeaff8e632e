//! The audit trail's hash chain: every change recorded as the next link, concurrent writers never
//! forking it, and `mcpreg audit verify` (the real CLI against the real server) finding an event
//! edited, removed, or a whole chain rewritten after its head was recorded.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use crate::util::{ServerProcess, TestApp, TestDb, mcpreg, server_json};
use mcpreg_api::access::AuditPage;
use mcpreg_api::admin::Role;
use mcpreg_client::AuditQuery;
use serde_json::Value;

/// Runs SQL as the database owner would, triggers off: what an attacker with database access
/// (not the registry's API) could do.
async fn tamper(db: &TestDb, sql: &str) {
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("alter table audit_events disable trigger audit_events_no_rewrite")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("alter table audit_events enable trigger audit_events_no_rewrite")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writers_extend_one_chain() {
    let r = TestApp::new().await;
    let admin = r.admin_client();
    let mut tasks = Vec::new();
    for i in 0..24 {
        let admin = admin.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("com.acme{}/server-{i}", i % 3);
            admin
                .publish_server_json(&server_json(&name, "1.0.0"))
                .await
                .map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let page = admin
        .audit(AuditQuery {
            limit: Some(500),
            before: None,
        })
        .await
        .unwrap();
    let mut events = page.events;
    events.sort_by_key(|e| e.seq.unwrap());
    let count = |action: &str| events.iter().filter(|e| e.action == action).count();
    assert_eq!(count("version.publish"), 24, "{events:#?}");
    assert_eq!(count("namespace.create"), 3, "{events:#?}");
    let mut prev = mcpreg_trust::GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, Some(i as i64 + 1), "{e:#?}");
        assert_eq!(e.prev_hash.as_deref(), Some(prev.as_str()), "{e:#?}");
        let computed = mcpreg_trust::audit_event_hash(&mcpreg_trust::ChainedEvent {
            seq: i as i64 + 1,
            at_micros: e.at.timestamp_micros(),
            actor: &e.actor,
            action: &e.action,
            subject: &e.subject,
            details: &e.details,
            prev_hash: &prev,
        });
        assert_eq!(e.hash.as_deref(), Some(computed.as_str()), "{e:#?}");
        prev = computed;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_verify_finds_edits_removals_and_rewrites() {
    let db = TestDb::new().await;
    let admin = db.token("admin", Role::Admin).await;
    let auditor = db.token("auditor", Role::Auditor).await;
    let server = ServerProcess::start(&[], &[("DATABASE_URL", &db.url)]);
    let url = server.url.clone();
    let work = tempfile::tempdir().unwrap();
    for (name, version) in [
        ("com.acme/a", "1.0.0"),
        ("com.acme/a", "1.1.0"),
        ("com.acme/b", "0.1.0"),
    ] {
        let file = work
            .path()
            .join(format!("{}-{version}.json", name.replace('/', "-")));
        std::fs::write(&file, server_json(name, version).to_string()).unwrap();
        let run = mcpreg(&url, Some(&admin), &["publish", file.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let run = mcpreg(
        &url,
        Some(&admin),
        &["status", "com.acme/a@1.0.0", "--set", "deprecated"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let run = mcpreg(&url, Some(&auditor), &["audit", "verify"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("5 chained events"), "{}", run.stdout);
    let head = run.stdout.split("head ").nth(1).unwrap().trim().to_owned();
    assert!(head.starts_with("5:sha256:"), "{head}");
    let run = mcpreg(
        &url,
        Some(&auditor),
        &["audit", "verify", "--expect-head", &head],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = mcpreg(&url, Some(&admin), &["--output", "json", "audit", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed: AuditPage = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(listed.events[0].action, "version.status");

    // Someone with database access rewrites who published 1.1.0.
    tamper(
        &db,
        "update audit_events set actor = 'token:someone-else' where seq = 3",
    )
    .await;
    let run = mcpreg(&url, Some(&auditor), &["audit", "verify"]);
    assert_eq!(run.code, 6, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("event 3") && run.stdout.contains("it was edited"),
        "{}",
        run.stdout
    );

    // …and, to hide it, recomputes that hash: the next event no longer links to it.
    let row: (
        String,
        Value,
        String,
        String,
        chrono::DateTime<chrono::Utc>,
        String,
    ) = sqlx::query_as(
        "select action, details, subject, prev_hash, at, actor from audit_events where seq = 3",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let forged = mcpreg_trust::audit_event_hash(&mcpreg_trust::ChainedEvent {
        seq: 3,
        at_micros: row.4.timestamp_micros(),
        actor: &row.5,
        action: &row.0,
        subject: &row.2,
        details: &row.1,
        prev_hash: &row.3,
    });
    tamper(
        &db,
        &format!("update audit_events set hash = '{forged}' where seq = 3"),
    )
    .await;
    let run = mcpreg(&url, Some(&auditor), &["audit", "verify"]);
    assert_eq!(run.code, 6, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("event 4") && run.stdout.contains("as the hash before it"),
        "{}",
        run.stdout
    );
    // A head recorded earlier shows even a fully recomputed chain.
    let run = mcpreg(
        &url,
        Some(&auditor),
        &["audit", "verify", "--expect-head", &head],
    );
    assert_eq!(run.code, 6);

    // A removed event leaves a gap.
    tamper(&db, "delete from audit_events where seq = 2").await;
    let run = mcpreg(&url, Some(&auditor), &["audit", "verify"]);
    assert_eq!(run.code, 6);
    assert!(run.stdout.contains("event 2 is missing"), "{}", run.stdout);

    // The trail is for auditors and admins.
    let run = mcpreg(&url, None, &["audit", "verify"]);
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
}
