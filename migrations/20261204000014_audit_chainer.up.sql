-- The audit chain is extended after commit by a chainer (db::audit::chain_pending) instead of by
-- each writer under a transaction-level advisory lock held until commit, which serialised every
-- write transaction of the registry. A writer now only inserts its events, marked pending; the
-- chainer, alone under its own advisory lock, gives the committed pending events their seq,
-- prev_hash and hash in id order and clears the mark.
--
-- Two kinds of events have no seq: those recorded before the chain existed (migration
-- 20261201000011; chain_pending false, never chained) and those committed but not chained yet
-- (chain_pending true, chained within moments). Existing rows take false; new rows default to true.

alter table audit_events add column chain_pending boolean not null default false;
alter table audit_events alter column chain_pending set default true;
alter table audit_events
    add constraint audit_events_pending_unchained check (not chain_pending or seq is null);
comment on column audit_events.chain_pending is 'True from insert until the chainer (db::audit::chain_pending) links the event into the hash chain; false for chained events and for events recorded before the chain existed (seq null).';
comment on column audit_events.seq is 'Position in the hash chain (1, 2, …), assigned after commit by the chainer in id order of the pending events it sees; null while pending (chain_pending) and for events recorded before the chain existed.';

-- During a rolling upgrade, replicas from before this migration still chain their own events as
-- they insert them (seq set, under the same advisory lock the chainer takes, so the two never fork
-- the chain): such an event is not pending.
create function audit_events_chained_on_insert() returns trigger language plpgsql as $$
begin
    if new.seq is not null then
        new.chain_pending := false;
    end if;
    return new;
end
$$;
create trigger audit_events_chained_on_insert
    before insert on audit_events
    for each row execute function audit_events_chained_on_insert();

-- The chainer's work queue.
create index audit_events_pending on audit_events (id) where chain_pending;

-- Still append-only: the one update allowed is the chainer linking a pending event, which
-- changes nothing the event says.
create or replace function audit_events_append_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE'
       and old.chain_pending and not new.chain_pending
       and old.seq is null and new.seq is not null
       and new.id = old.id and new.at = old.at and new.actor = old.actor
       and new.action = old.action and new.subject = old.subject
       and new.details = old.details then
        return new;
    end if;
    raise exception 'audit events are append-only' using errcode = 'check_violation';
end
$$;
