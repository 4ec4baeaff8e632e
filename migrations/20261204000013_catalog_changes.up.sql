-- The catalog revision: every committed change to what replicas serve from memory appends a row
-- here in its own transaction. The revision is the row's number; replicas follow the log with
-- LISTEN/NOTIFY and a periodic check, and read it by transaction id, not by revision, because
-- revisions are taken before commit and so commit out of order (see server/src/read_model/follow.rs).

create table catalog_changes (
    revision    bigint generated always as identity primary key,
    xid         xid8 not null default pg_current_xact_id(),
    server_name text collate "C",
    at          timestamptz not null default now()
);
comment on table catalog_changes is 'One row per change replicas must apply to their read model: a server whose versions or facts changed (server_name), or a change of policy or allowlists (server_name null). Pruned after a day.';
comment on column catalog_changes.xid is 'The writing transaction: a replica reads the rows of transactions at or above the oldest one running when it last read, so no change committed late is skipped.';

create index catalog_changes_xid on catalog_changes (xid);
create index catalog_changes_at on catalog_changes (at);
