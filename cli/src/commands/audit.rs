//! `mcpreg audit list|verify`: the registry's audit trail, and proof that it was not edited.
//!
//! `verify` reads the whole trail, recomputes every event's hash (`mcpreg_trust::audit_event_hash`)
//! and checks that each names the one before it, so that an event edited, removed or reordered
//! in the database is found, with where. `--expect-head SEQ:HASH` also checks that a head recorded
//! earlier (outside the registry) is still in the chain: rewriting the whole chain then shows.

use mcpreg_api::access::AuditEvent;
use mcpreg_client::{AuditQuery, Client};
use serde::Serialize;

use super::Rejected;
use crate::exit;
use crate::output::{self, Output};

/// `audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// The newest events (auditors and admins).
    List {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Verify the hash chain of the whole trail; exit 6 if it is broken.
    Verify {
        /// A head recorded earlier (`SEQ:sha256:…`, as `verify` prints it) that must still be
        /// in the chain.
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<String>,
    },
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Verification {
    verified: bool,
    chained: usize,
    unchained: usize,
    /// Events committed while `verify` read the trail, not in the part of the chain it checked
    /// (the next `verify` checks them).
    #[serde(skip_serializing_if = "is_zero")]
    pending: usize,
    head: Option<String>,
    problems: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Runs `audit`.
pub async fn run(client: &Client, out: Output, command: AuditCommand) -> anyhow::Result<u8> {
    match command {
        AuditCommand::List { limit } => {
            let page = client
                .audit(AuditQuery {
                    limit: Some(i64::from(limit.clamp(1, 500))),
                    before: None,
                })
                .await?;
            match out {
                Output::Json => output::json(&page)?,
                Output::Table => output::table(
                    &["seq", "at", "actor", "action", "subject"],
                    page.events
                        .into_iter()
                        .map(|e| {
                            vec![
                                e.seq.map_or("-".to_owned(), |s| s.to_string()),
                                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                                e.actor,
                                e.action,
                                e.subject,
                            ]
                        })
                        .collect(),
                ),
            }
            Ok(exit::OK)
        }
        AuditCommand::Verify { expect_head } => {
            let expected = match expect_head.as_deref() {
                None => None,
                Some(h) => Some(parse_head(h)?),
            };
            let (events, head_seq) = all_events(client).await?;
            let report = verify(&events, head_seq, expected.as_ref());
            match out {
                Output::Json => output::json(&report)?,
                Output::Table => {
                    for p in &report.problems {
                        println!("FAIL {p}");
                    }
                    println!(
                        "{} {} chained events{}; head {}",
                        if report.verified { "ok  " } else { "FAIL" },
                        report.chained,
                        if report.unchained > 0 {
                            format!(
                                " ({} older events recorded before the chain existed)",
                                report.unchained
                            )
                        } else {
                            String::new()
                        },
                        report.head.as_deref().unwrap_or("(none)")
                    );
                    if report.pending > 0 {
                        println!(
                            "     {} events recorded while verifying are not checked yet",
                            report.pending
                        );
                    }
                }
            }
            Ok(if report.verified {
                exit::OK
            } else {
                exit::VERIFY_FAILED
            })
        }
    }
}

fn parse_head(s: &str) -> anyhow::Result<(i64, String)> {
    s.split_once(':')
        .and_then(|(seq, hash)| Some((seq.parse::<i64>().ok()?, hash.to_owned())))
        .filter(|(seq, hash)| *seq > 0 && hash.starts_with("sha256:") && hash.len() == 71)
        .ok_or_else(|| {
            Rejected(format!(
                "--expect-head {s}: write SEQ:sha256:<64 hex>, as `mcpreg audit verify` prints the head"
            ))
            .into()
        })
}

/// Every event, and the highest `seq` of the first page. The registry chains what committed
/// before each page is read, in commit order rather than id order, so events committed while the
/// later pages are read may be chained meanwhile: only the chain up to the first page's head is
/// certain to be read whole (every event chained by then had committed, so is on some page).
async fn all_events(client: &Client) -> anyhow::Result<(Vec<AuditEvent>, Option<i64>)> {
    let mut events = Vec::new();
    let mut before: Option<i64> = None;
    let mut head_seq = None;
    loop {
        let page = client
            .audit(AuditQuery {
                limit: Some(500),
                before,
            })
            .await?;
        if before.is_none() {
            head_seq = page.events.iter().filter_map(|e| e.seq).max();
        }
        events.extend(page.events);
        match page.next_before {
            Some(b) if Some(b) != before => before = Some(b),
            _ => break,
        }
    }
    Ok((events, head_seq))
}

/// Checks the chain up to `head_seq` (all of it when `None`). Events without `seq` recorded
/// before the first chained event are those from before the chain existed; later ones, and
/// events chained after `head_seq`, were committed while the trail was read.
fn verify(
    events: &[AuditEvent],
    head_seq: Option<i64>,
    expected: Option<&(i64, String)>,
) -> Verification {
    let mut problems = Vec::new();
    let first_chained_id = events
        .iter()
        .filter(|e| e.seq.is_some())
        .map(|e| e.id)
        .min();
    let in_checked_part = |seq: i64| head_seq.is_none_or(|h| seq <= h);
    let unchained = events
        .iter()
        .filter(|e| e.seq.is_none() && first_chained_id.is_none_or(|first| e.id < first))
        .count();
    let pending = events
        .iter()
        .filter(|e| match e.seq {
            None => first_chained_id.is_some_and(|first| e.id > first),
            Some(seq) => !in_checked_part(seq),
        })
        .count();
    let mut chained: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.seq.is_some_and(in_checked_part))
        .collect();
    chained.sort_by_key(|e| e.seq);
    let mut prev = mcpreg_trust::GENESIS.to_owned();
    let mut want_seq = 1;
    for e in &chained {
        let seq = e.seq.unwrap_or_default();
        if seq != want_seq {
            problems.push(format!(
                "event {want_seq} is missing (the next is {seq}): an event was removed"
            ));
        }
        let stated_prev = e.prev_hash.as_deref().unwrap_or_default();
        if stated_prev != prev {
            problems.push(format!(
                "event {seq} (id {}) names {stated_prev} as the hash before it, but that is {prev}",
                e.id
            ));
        }
        let computed = mcpreg_trust::audit_event_hash(&mcpreg_trust::ChainedEvent {
            seq,
            at_micros: e.at.timestamp_micros(),
            actor: &e.actor,
            action: &e.action,
            subject: &e.subject,
            details: &e.details,
            prev_hash: stated_prev,
        });
        let stated = e.hash.as_deref().unwrap_or_default();
        if computed != stated {
            problems.push(format!(
                "event {seq} (id {}, {} by {} on {}) does not match its hash: it was edited",
                e.id, e.action, e.actor, e.subject
            ));
        }
        prev = stated.to_owned();
        want_seq = seq + 1;
    }
    if let Some((seq, hash)) = expected {
        match chained.iter().find(|e| e.seq == Some(*seq)) {
            Some(e) if e.hash.as_deref() == Some(hash.as_str()) => {}
            Some(e) => problems.push(format!(
                "the expected head {seq}:{hash} is not in the chain: event {seq} now has hash {}",
                e.hash.as_deref().unwrap_or_default()
            )),
            None => problems.push(format!(
                "the expected head {seq}:{hash} is not in the chain: there is no event {seq}"
            )),
        }
    }
    Verification {
        verified: problems.is_empty(),
        chained: chained.len(),
        unchained,
        pending,
        head: chained.last().map(|e| {
            format!(
                "{}:{}",
                e.seq.unwrap_or_default(),
                e.hash.as_deref().unwrap_or_default()
            )
        }),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain of `n` events (ids from 100), each linked to the one before.
    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut prev = mcpreg_trust::GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEvent {
                    id: 99 + seq,
                    at: chrono::DateTime::from_timestamp_micros(1_764_614_400_000_000 + seq)
                        .unwrap_or_default(),
                    actor: "token:ci".to_owned(),
                    action: "version.publish".to_owned(),
                    subject: format!("com.acme/x@1.0.{seq}"),
                    details: serde_json::json!({"n": seq}),
                    seq: Some(seq),
                    prev_hash: Some(prev.clone()),
                    hash: None,
                };
                let hash = mcpreg_trust::audit_event_hash(&mcpreg_trust::ChainedEvent {
                    seq,
                    at_micros: e.at.timestamp_micros(),
                    actor: &e.actor,
                    action: &e.action,
                    subject: &e.subject,
                    details: &e.details,
                    prev_hash: &prev,
                });
                e.hash = Some(hash.clone());
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn events_chained_while_reading_are_not_a_gap_but_a_removal_is() {
        let mut events = chain(6);
        // Event 5 was chained after the first page was read, and is not among the pages read
        // (its id is on the first page's side of the cursor): what was read ends at 4, then 6.
        events.remove(4);
        let report = verify(&events, Some(4), None);
        assert!(report.verified, "{:?}", report.problems);
        assert_eq!((report.chained, report.pending), (4, 1));
        assert_eq!(
            report.head.as_deref(),
            events[3]
                .hash
                .as_deref()
                .map(|h| format!("4:{h}"))
                .as_deref()
        );
        // Without that excuse, the same trail has a gap.
        let report = verify(&events, None, None);
        assert!(!report.verified);
        assert!(
            report.problems[0].contains("event 5 is missing"),
            "{:?}",
            report.problems
        );
        // A removal below the head is found whatever the head.
        let mut events = chain(6);
        events.remove(1);
        assert!(!verify(&events, Some(6), None).verified);
    }

    #[test]
    fn unchained_events_before_the_chain_are_legacy_after_it_pending() {
        let mut events = chain(3);
        let unchained = |id| AuditEvent {
            id,
            seq: None,
            prev_hash: None,
            hash: None,
            ..events[0].clone()
        };
        let (legacy, pending) = (unchained(7), unchained(500));
        events.extend([legacy, pending]);
        let report = verify(&events, Some(3), None);
        assert!(report.verified, "{:?}", report.problems);
        assert_eq!(
            (report.chained, report.unchained, report.pending),
            (3, 1, 1)
        );
    }
}
