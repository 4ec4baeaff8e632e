-- The catalog: namespaces, servers, immutable versions, API tokens and an append-only audit trail.

create table namespaces (
    name        text collate "C" primary key,
    description text,
    created_at  timestamptz not null default now(),
    created_by  text not null
);
comment on table namespaces is 'Reverse-DNS prefixes (com.acme) that group servers and carry publish rights.';
-- Case-insensitively unique, so that Com.Acme cannot impersonate com.acme.
create unique index namespaces_name_ci on namespaces (lower(name));

create table servers (
    id         bigint generated always as identity primary key,
    name       text collate "C" not null unique,
    namespace  text collate "C" not null references namespaces (name),
    created_at timestamptz not null default now()
);
comment on table servers is 'One row per server name (namespace/name); its versions hold the documents.';
create unique index servers_name_ci on servers (lower(name));

create table server_versions (
    id                bigint generated always as identity primary key,
    server_id         bigint not null references servers (id),
    server_name       text collate "C" not null,
    version           text collate "C" not null,
    document          text not null,
    schema_url        text not null,
    status            text not null default 'active' check (status in ('active', 'deprecated', 'deleted')),
    status_message    text check (char_length(status_message) <= 500),
    status_changed_at timestamptz not null default now(),
    is_latest         boolean not null default false,
    published_at      timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    published_by      text not null,
    constraint server_versions_name_version_key unique (server_name, version)
);
comment on table server_versions is 'Published versions. The document, name and version never change once written.';
comment on column server_versions.document is 'The server.json exactly as published (compact JSON text, key order kept).';
comment on column server_versions.server_name is 'Copy of servers.name, so that listing pages walk one index.';
comment on column server_versions.is_latest is 'Exactly one row per server: decided as the official registry does.';
comment on column server_versions.updated_at is 'Last change of registry metadata (status); drives updated_since.';
comment on column server_versions.published_by is 'Who published it: the API token name or the subject.';

create unique index server_versions_one_latest on server_versions (server_id) where is_latest;
-- Keyset pagination of `version=latest` listings walks this index: cost is the same at any depth.
create index server_versions_latest_page on server_versions (server_name, version) where is_latest;
create index server_versions_updated_at on server_versions (updated_at);

-- Defence in depth: a published version is immutable and never deleted, whatever the caller.
create function server_versions_guard() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        raise exception 'server versions cannot be deleted; set their status to deleted instead'
            using errcode = 'check_violation';
    end if;
    if new.document is distinct from old.document
        or new.version is distinct from old.version
        or new.server_name is distinct from old.server_name
        or new.server_id is distinct from old.server_id
        or new.schema_url is distinct from old.schema_url
        or new.published_at is distinct from old.published_at
        or new.published_by is distinct from old.published_by then
        raise exception 'server version %@% is immutable once published', old.server_name, old.version
            using errcode = 'check_violation';
    end if;
    return new;
end
$$;
create trigger server_versions_immutable
    before update or delete on server_versions
    for each row execute function server_versions_guard();

create table api_tokens (
    id           bigint generated always as identity primary key,
    name         text not null,
    role         text not null check (role in ('admin', 'publisher', 'reviewer', 'auditor', 'reader')),
    token_sha256 bytea not null unique check (octet_length(token_sha256) = 32),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
comment on table api_tokens is 'Registry API tokens. Only the SHA-256 of a token is stored; the token is shown once.';
create unique index api_tokens_live_name on api_tokens (name) where revoked_at is null;

create table audit_events (
    id      bigint generated always as identity primary key,
    at      timestamptz not null default now(),
    actor   text not null,
    action  text not null,
    subject text not null,
    details jsonb not null default '{}'::jsonb
);
comment on table audit_events is 'Append-only record of every change: who, what, on which subject, when.';

create function audit_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit events are append-only' using errcode = 'check_violation';
end
$$;
create trigger audit_events_no_rewrite
    before update or delete on audit_events
    for each row execute function audit_events_append_only();
