//! Bulk writes: `POST /api/v1/publish/batch` accepting or refusing each document on its own and
//! storing the accepted ones together, `mcpreg import` sending batches (and one by one to a
//! registry without the endpoint), and the audit chain — extended after commit by a chainer, not
//! under a lock every writer holds — still whole and verifiable after concurrent and bulk writes.

#![expect(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is a failed test, with its location"
)]

use axum::http::{Method, StatusCode};
use mcpreg_api::access::AuditEvent;
use mcpreg_api::admin::Role;
use mcpreg_api::problem::ProblemCode;
use mcpreg_api::publish::{PublishBatch, PublishOutcome};
use mcpreg_client::{AuditQuery, Client};
use serde_json::{Value, json};

use crate::util::{ServerProcess, TestApp, TestDb, expect_problem, mcpreg, serve, server_json};

/// Every event of the trail, read through the API (which chains what committed first).
async fn audit_events(client: &Client) -> Vec<AuditEvent> {
    let mut events = Vec::new();
    let mut before = None;
    loop {
        let page = client
            .audit(AuditQuery {
                limit: Some(500),
                before,
            })
            .await
            .unwrap();
        let last = page.events.last().map(|e| e.id);
        events.extend(page.events);
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
        assert_eq!(before, last);
    }
    events
}

/// Asserts that the chained events form one chain 1..=n whose every hash recomputes from the
/// event as read; returns n.
#[track_caller]
fn assert_chain_verifies(events: &[AuditEvent]) -> usize {
    let mut chained: Vec<&AuditEvent> = events.iter().filter(|e| e.seq.is_some()).collect();
    chained.sort_by_key(|e| e.seq);
    let mut prev = mcpreg_trust::GENESIS.to_owned();
    for (i, e) in chained.iter().enumerate() {
        assert_eq!(e.seq, Some(i as i64 + 1), "a gap before {e:#?}");
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
    chained.len()
}

fn version_publishes(events: &[AuditEvent]) -> Vec<&str> {
    let mut subjects: Vec<&str> = events
        .iter()
        .filter(|e| e.action == "version.publish")
        .map(|e| e.subject.as_str())
        .collect();
    subjects.sort_unstable();
    subjects
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_accepts_or_refuses_each_document_on_its_own() {
    let r = TestApp::new().await;
    let publisher = r.publisher_client().await;
    for (name, version) in [("com.acme/existing", "1.0.0"), ("com.acme/Mixed", "1.0.0")] {
        publisher
            .publish_server_json(&server_json(name, version))
            .await
            .unwrap();
    }
    let documents = vec![
        server_json("com.acme/a", "1.0.0"),
        server_json("com.acme/bad", "^1"),
        server_json("com.acme/existing", "1.0.0"),
        // Differs only in case from a server stored before the batch…
        server_json("com.acme/mixed", "2.0.0"),
        json!({"server": server_json("com.acme/b", "1.0.0")}),
        // …the same version twice in one batch…
        server_json("com.acme/a", "1.0.0"),
        server_json("com.other/x", "1.0.0"),
        server_json("com.acme/a", "1.1.0"),
        // …and differs only in case from a server stored earlier in the same batch.
        server_json("com.acme/B", "2.0.0"),
        json!({"server": server_json("com.acme/c", "1.0.0"), "bogus": 1}),
    ];
    let answer = publisher
        .publish_batch(&PublishBatch {
            documents: documents.clone(),
        })
        .await
        .unwrap();
    use PublishOutcome::{Exists, Published, Refused};
    let expected = [
        (Published, None),
        (Refused, Some(ProblemCode::InvalidServerJson)),
        (Exists, Some(ProblemCode::VersionExists)),
        (Refused, Some(ProblemCode::NameConflict)),
        (Published, None),
        (Exists, Some(ProblemCode::VersionExists)),
        (Refused, Some(ProblemCode::Forbidden)),
        (Published, None),
        (Refused, Some(ProblemCode::NameConflict)),
        (Refused, Some(ProblemCode::InvalidPublishRequest)),
    ];
    assert_eq!(answer.results.len(), documents.len(), "{answer:#?}");
    for (i, (item, (outcome, code))) in answer.results.iter().zip(expected).enumerate() {
        assert_eq!(item.index, i, "{item:#?}");
        assert_eq!(item.result, outcome, "document {i}: {item:#?}");
        assert_eq!(
            item.problem.as_ref().map(|p| p.code.clone()),
            code.map(|c| c.as_str().to_owned()),
            "document {i}: {item:#?}"
        );
    }
    assert_eq!(answer.results[4].name.as_deref(), Some("com.acme/b"));
    assert_eq!(answer.results[1].version.as_deref(), Some("^1"));
    assert_eq!((answer.published, answer.exists, answer.refused), (3, 2, 5));

    // Each refusal is exactly the problem the single publish answers for the same document.
    for (item, document) in answer.results.iter().zip(&documents) {
        if let Some(problem) = &item.problem {
            let single = expect_problem(
                publisher.publish_server_json(document).await,
                problem.status,
                ProblemCode::ALL
                    .iter()
                    .copied()
                    .find(|c| c.as_str() == problem.code)
                    .unwrap(),
            );
            assert_eq!(&single, problem, "document {}", item.index);
        }
    }

    // The accepted ones are all stored, the refused ones not at all.
    let versions = serde_json::to_value(
        r.anonymous_client()
            .server_versions("com.acme/a", false)
            .await
            .unwrap(),
    )
    .unwrap();
    let listed: Vec<&str> = versions["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["server"]["version"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{versions:#}");
    assert!(listed.contains(&"1.0.0") && listed.contains(&"1.1.0"));
    let latest = r
        .anonymous_client()
        .version("com.acme/a", "latest", false)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&latest).unwrap()["server"]["version"],
        "1.1.0"
    );
    r.anonymous_client()
        .version("com.acme/b", "1.0.0", false)
        .await
        .unwrap();
    for (name, version) in [
        ("com.acme/mixed", "2.0.0"),
        ("com.acme/Mixed", "2.0.0"),
        ("com.acme/B", "2.0.0"),
        ("com.acme/c", "1.0.0"),
    ] {
        let status = r
            .anonymous_client()
            .version(name, version, true)
            .await
            .unwrap_err()
            .status()
            .unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}@{version}");
    }

    // One event per version stored, none for the refused ones, and the chain verifies.
    let events = audit_events(&r.admin_client()).await;
    assert_eq!(
        version_publishes(&events),
        [
            "com.acme/Mixed@1.0.0",
            "com.acme/a@1.0.0",
            "com.acme/a@1.1.0",
            "com.acme/b@1.0.0",
            "com.acme/existing@1.0.0",
        ]
    );
    assert_eq!(assert_chain_verifies(&events), events.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_over_the_limits_or_without_rights_is_refused_whole() {
    let r = TestApp::new().await;
    let admin = r.admin_client();
    let too_many = PublishBatch {
        documents: (0..501)
            .map(|i| server_json(&format!("com.acme/s{i}"), "1.0.0"))
            .collect(),
    };
    let problem = expect_problem(
        admin.publish_batch(&too_many).await,
        413,
        ProblemCode::PayloadTooLarge,
    );
    assert_eq!(problem.errors[0].location, "documents", "{problem:#?}");
    assert!(problem.detail.contains("501"), "{problem:#?}");
    // Within 500 documents but over the body limit (1 MiB).
    let too_big = PublishBatch {
        documents: (0..300)
            .map(|i| {
                let mut d = server_json(&format!("com.acme/s{i}"), "1.0.0");
                d["description"] = json!("x".repeat(4000));
                d
            })
            .collect(),
    };
    expect_problem(
        admin.publish_batch(&too_big).await,
        413,
        ProblemCode::PayloadTooLarge,
    );
    let reply = r
        .call(
            Method::POST,
            "/api/v1/publish/batch",
            Some(&r.admin),
            Some(&json!({"docs": [server_json("com.acme/s", "1.0.0")]})),
        )
        .await;
    reply.problem(400, "invalid_body");

    // A caller who may publish nothing is refused as a whole; no credentials, 401.
    let one = PublishBatch {
        documents: vec![server_json("com.acme/s", "1.0.0")],
    };
    let problem = expect_problem(
        r.reader_client().await.publish_batch(&one).await,
        403,
        ProblemCode::Forbidden,
    );
    assert!(problem.detail.contains("publisher"), "{problem:#?}");
    expect_problem(
        r.anonymous_client().publish_batch(&one).await,
        401,
        ProblemCode::MissingCredentials,
    );

    // Nothing was stored, nothing recorded.
    let list = admin
        .servers(&mcpreg_client::ServerListQuery::default())
        .await
        .unwrap();
    assert!(list.servers.is_empty(), "{list:#?}");
    assert!(audit_events(&admin).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_events_committed_concurrently_are_chained_once_each_without_gaps() {
    let db = TestDb::new().await;
    // An event from before the chain existed: stays outside it.
    sqlx::query(
        "insert into audit_events (actor, action, subject, chain_pending)
         values ('cli:old', 'token.create', 'old', false)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let mut writers = Vec::new();
    for w in 0..12 {
        let pool = db.pool.clone();
        writers.push(tokio::spawn(async move {
            let mut committed = 0;
            for t in 0..10 {
                let mut tx = pool.begin().await.unwrap();
                for e in 0..3 {
                    mcpreg_server::db::audit::record(
                        &mut tx,
                        &format!("token:w{w}"),
                        "test.write",
                        &format!("w{w}/t{t}/e{e}"),
                        json!({"w": w, "t": t, "e": e, "x": 1.5}),
                    )
                    .await
                    .unwrap();
                }
                // Every fourth transaction rolls back: its events never reach the chain.
                if t % 4 == 3 {
                    tx.rollback().await.unwrap();
                } else {
                    tx.commit().await.unwrap();
                    committed += 3;
                }
            }
            committed
        }));
    }
    // Three replicas' chainers, chaining while the writers write.
    let mut chainers = Vec::new();
    for _ in 0..3 {
        let pool = db.pool.clone();
        chainers.push(tokio::spawn(async move {
            let mut linked = 0;
            for _ in 0..40 {
                linked += mcpreg_server::db::audit::chain_pending(&pool)
                    .await
                    .unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            linked
        }));
    }
    let mut committed = 0;
    for w in writers {
        committed += w.await.unwrap();
    }
    let mut linked = 0;
    for c in chainers {
        linked += c.await.unwrap();
    }
    linked += mcpreg_server::db::audit::chain_pending(&db.pool)
        .await
        .unwrap();
    assert_eq!(committed, 12 * 8 * 3);
    assert_eq!(
        linked, committed as u64,
        "each event is chained exactly once"
    );

    let events = mcpreg_server::db::audit::list(&db.pool, None, 1000)
        .await
        .unwrap();
    assert_eq!(events.len(), committed + 1);
    assert_eq!(assert_chain_verifies(&events), committed);
    assert!(
        !events
            .iter()
            .any(|e| e.subject.contains("/t3/") || e.subject.contains("/t7/")),
        "rolled-back events are nowhere"
    );
    let old: Vec<_> = events.iter().filter(|e| e.actor == "cli:old").collect();
    assert_eq!(old.len(), 1);
    assert_eq!(
        old[0].seq, None,
        "an event from before the chain stays out of it"
    );

    // Still append-only: neither a chained nor a pending event can be edited.
    let mut tx = db.pool.begin().await.unwrap();
    mcpreg_server::db::audit::record(&mut tx, "token:x", "test.write", "pending", json!({}))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for sql in [
        "update audit_events set actor = 'token:mallory' where seq = 1",
        "update audit_events set actor = 'token:mallory' where subject = 'pending'",
        "update audit_events set seq = 100000, prev_hash = hash, hash = prev_hash, actor = 'token:mallory', chain_pending = false where subject = 'pending'",
        "delete from audit_events where subject = 'pending'",
    ] {
        let refused = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&db.pool)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("append-only"),
            "{sql}: {refused}"
        );
    }
}

/// `count` servers of `com.acme`, three versions each, as `mcpreg import` reads them.
fn import_documents(count: usize) -> Vec<Value> {
    (0..count)
        .flat_map(|i| {
            ["1.0.0", "1.1.0", "2.0.0"].map(|v| server_json(&format!("com.acme/server-{i:04}"), v))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn import_sends_batches_reports_every_document_and_the_chain_verifies() {
    let db = TestDb::new().await;
    let admin = db.token("admin", Role::Admin).await;
    let auditor = db.token("auditor", Role::Auditor).await;
    let server = ServerProcess::start(&[], &[("DATABASE_URL", &db.url)]);
    let mut documents = import_documents(150);
    // Rejected ones and repeats among them, spread over several batches.
    for at in [3, 250, 449] {
        documents.insert(at, server_json("com.acme/bad", "^1"));
    }
    for at in [10, 300] {
        let again = documents[at - 5].clone();
        documents.insert(at, again);
    }
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("import.json");
    std::fs::write(&file, serde_json::to_vec(&documents).unwrap()).unwrap();

    let run = mcpreg(
        &server.url,
        Some(&admin),
        &["import", file.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (
            &report["accepted"],
            &report["unchanged"],
            &report["rejected"]
        ),
        (&json!(450), &json!(2), &json!(3)),
        "{}",
        run.stderr
    );
    // One outcome per document, in the file's order.
    let reported: Vec<(&str, &str)> = report["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["version"].as_str().unwrap()))
        .collect();
    let sent: Vec<(&str, &str)> = documents
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["version"].as_str().unwrap()))
        .collect();
    assert_eq!(reported, sent);
    assert_eq!(
        run.stderr.matches("rejected com.acme/bad@^1: ").count(),
        3,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("import finished: 450 accepted, 2 unchanged, 3 rejected")
    );

    let again = mcpreg(
        &server.url,
        Some(&admin),
        &["import", file.to_str().unwrap(), "-o", "json"],
    );
    let report: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(
        (
            &report["accepted"],
            &report["unchanged"],
            &report["rejected"]
        ),
        (&json!(0), &json!(452), &json!(3))
    );

    // 450 versions and the namespace made by the first of them, all chained.
    let verify = mcpreg(&server.url, Some(&auditor), &["audit", "verify"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("ok   451 chained events"),
        "{}",
        verify.stdout
    );

    // A publisher without the namespace stops the import (exit 5), as with single publishes.
    let other = db
        .scoped_token("other", Role::Publisher, &["com.other"])
        .await;
    let run = mcpreg(
        &server.url,
        Some(&other),
        &["import", file.to_str().unwrap()],
    );
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn import_publishes_one_by_one_to_a_registry_without_batches() {
    let r = TestApp::new().await;
    // A registry from before the batch endpoint: no such route.
    let older = r.app.clone().layer(axum::middleware::from_fn(
        |request: axum::extract::Request, next: axum::middleware::Next| async move {
            if request.uri().path() == "/api/v1/publish/batch" {
                return axum::response::IntoResponse::into_response((
                    StatusCode::NOT_FOUND,
                    "no route",
                ));
            }
            next.run(request).await
        },
    ));
    let url = serve(older).await;
    let mut documents = import_documents(80);
    documents.insert(7, server_json("com.acme/bad", "^1"));
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("import.json");
    std::fs::write(&file, serde_json::to_vec(&documents).unwrap()).unwrap();
    let admin = r.admin.clone();
    let path = file.to_str().unwrap().to_owned();
    let run = tokio::task::spawn_blocking(move || {
        mcpreg(&url, Some(&admin), &["import", &path, "-o", "json"])
    })
    .await
    .unwrap();
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (
            &report["accepted"],
            &report["unchanged"],
            &report["rejected"]
        ),
        (&json!(240), &json!(0), &json!(1)),
        "{}",
        run.stderr
    );
    let events = audit_events(&r.admin_client()).await;
    assert_eq!(version_publishes(&events).len(), 240);
    assert_eq!(assert_chain_verifies(&events), events.len());
}
