-- Events still pending when this runs stay unchained (seq null), indistinguishable from those
-- recorded before the chain existed: let a registry chain them (any audit read does) first.
create or replace function audit_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit events are append-only' using errcode = 'check_violation';
end
$$;
drop trigger audit_events_chained_on_insert on audit_events;
drop function audit_events_chained_on_insert();
drop index audit_events_pending;
alter table audit_events
    drop constraint audit_events_pending_unchained,
    drop column chain_pending;
comment on column audit_events.seq is 'Position in the hash chain (1, 2, …), assigned under a transaction-level advisory lock so that the chain never forks; null for events recorded before the chain existed.';
