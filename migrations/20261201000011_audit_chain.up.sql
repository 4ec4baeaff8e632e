-- A hash chain over the audit trail: each event carries the hash of the one before it, so that
-- editing, removing or reordering an event breaks every hash after it (`mcpreg audit verify`).
-- Events recorded before this migration stay unchained (seq is null).

alter table audit_events
    add column seq       bigint unique check (seq > 0),
    add column prev_hash text check (prev_hash ~ '^sha256:[0-9a-f]{64}$'),
    add column hash      text check (hash ~ '^sha256:[0-9a-f]{64}$'),
    add constraint audit_events_chained check ((seq is null) = (hash is null) and (seq is null) = (prev_hash is null));
comment on column audit_events.seq is 'Position in the hash chain (1, 2, …), assigned under a transaction-level advisory lock so that the chain never forks; null for events recorded before the chain existed.';
comment on column audit_events.prev_hash is 'The hash of the event at seq - 1 (for seq 1: sha256: and 64 zeros).';
comment on column audit_events.hash is 'sha256: over the RFC 8785 canonical JSON of {seq, atMicros, actor, action, subject, details, prevHash} (mcpreg_trust::audit_event_hash).';
