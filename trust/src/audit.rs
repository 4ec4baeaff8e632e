//! The audit trail's hash chain, computed the same way by the server (when it records an event)
//! and by `mcpreg audit verify` (when an auditor checks the trail).
//!
//! Each event's hash is `sha256:` over the RFC 8785 canonical JSON of
//! `{"seq", "atMicros", "actor", "action", "subject", "details", "prevHash"}` — the time as
//! integer microseconds since the Unix epoch (PostgreSQL's precision), so that no date format is
//! part of the hash — and `prevHash` is the hash of the event before it (for the first, the
//! [`GENESIS`] value). Editing, removing or reordering an event changes every hash after it.

use serde_json::{Value, json};

use crate::digest::{Sha256Digest, canonical_json};

/// The `prevHash` of the first event in the chain.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an event that its hash covers.
#[derive(Debug, Clone, Copy)]
pub struct ChainedEvent<'a> {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When, in microseconds since the Unix epoch.
    pub at_micros: i64,
    /// Who.
    pub actor: &'a str,
    /// What (`version.publish`).
    pub action: &'a str,
    /// On what.
    pub subject: &'a str,
    /// Details, as recorded.
    pub details: &'a Value,
    /// The previous event's hash ([`GENESIS`] for the first).
    pub prev_hash: &'a str,
}

/// The hash of an event, `sha256:<hex>`.
pub fn audit_event_hash(event: &ChainedEvent<'_>) -> String {
    let covered = json!({
        "seq": event.seq,
        "atMicros": event.at_micros,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": event.details,
        "prevHash": event.prev_hash,
    });
    Sha256Digest::of_bytes(&canonical_json(&covered)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_covered_field_changes_the_hash() {
        let details = json!({"version": "1.0.0", "n": 1});
        let base = ChainedEvent {
            seq: 1,
            at_micros: 1_764_614_400_000_000,
            actor: "token:alice",
            action: "version.publish",
            subject: "com.acme/x@1.0.0",
            details: &details,
            prev_hash: GENESIS,
        };
        let h = audit_event_hash(&base);
        assert!(h.starts_with("sha256:") && h.len() == 71, "{h}");
        // The same content, keys in another order: the same hash (canonical JSON).
        let reordered = json!({"n": 1, "version": "1.0.0"});
        assert_eq!(
            audit_event_hash(&ChainedEvent {
                details: &reordered,
                ..base
            }),
            h
        );
        let other_details = json!({"version": "1.0.1", "n": 1});
        let changed = [
            ChainedEvent { seq: 2, ..base },
            ChainedEvent {
                at_micros: base.at_micros + 1,
                ..base
            },
            ChainedEvent {
                actor: "token:mallory",
                ..base
            },
            ChainedEvent {
                action: "version.status",
                ..base
            },
            ChainedEvent {
                subject: "com.acme/y@1.0.0",
                ..base
            },
            ChainedEvent {
                details: &other_details,
                ..base
            },
            ChainedEvent {
                prev_hash: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                ..base
            },
        ];
        for c in changed {
            assert_ne!(audit_event_hash(&c), h, "{c:?}");
        }
    }
}
