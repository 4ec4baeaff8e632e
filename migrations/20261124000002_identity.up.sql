-- Identity and access: scoped API tokens, trusted publishers for CI, and replay protection for the
-- CI tokens they exchange.

alter table api_tokens add column namespaces text[] not null default '{}';
comment on column api_tokens.namespaces is 'For the publisher role: the namespaces the token may publish to.';
alter table api_tokens add column server_name text;
comment on column api_tokens.server_name is 'When set, the token may publish only this server (trusted-publishing tokens).';
alter table api_tokens add column kind text not null default 'api' check (kind in ('api', 'trusted_publishing'));
comment on column api_tokens.kind is 'api: made by an admin; trusted_publishing: short-lived, exchanged for a CI OIDC token.';
alter table api_tokens add column created_by text not null default 'cli:mcpreg-server';
comment on column api_tokens.created_by is 'Who made the token.';

create table trusted_publishers (
    id                  bigint generated always as identity primary key,
    namespace           text collate "C" not null references namespaces (name),
    server_name         text collate "C",
    issuer              text not null,
    repository          text not null,
    repository_owner_id text not null,
    workflow            text not null,
    environment         text,
    created_at          timestamptz not null default now(),
    created_by          text not null,
    check (server_name is null or server_name like namespace || '/%')
);
comment on table trusted_publishers is 'CI workflows that may exchange their OIDC token for a short-lived publish token.';
comment on column trusted_publishers.server_name is 'Null: any server of the namespace.';
comment on column trusted_publishers.repository is 'owner/name of the repository, e.g. acme/weather-mcp.';
comment on column trusted_publishers.repository_owner_id is 'Numeric id of the owner: survives renames, unlike the name.';
comment on column trusted_publishers.workflow is 'Workflow file name, e.g. release.yml.';
comment on column trusted_publishers.environment is 'When set, the job must run in this deployment environment.';

create table used_token_ids (
    issuer     text not null,
    jti        text not null,
    expires_at timestamptz not null,
    primary key (issuer, jti)
);
comment on table used_token_ids is 'CI OIDC token ids already exchanged: a token works once. Rows may go once expired.';
