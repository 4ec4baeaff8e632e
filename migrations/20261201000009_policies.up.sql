-- Access policies: every applied version of the registry's one policy document, append-only. The
-- current policy is the highest version; with no row the policy is empty and denies everything.

create table policies (
    version     bigint generated always as identity primary key,
    source      text not null check (octet_length(source) <= 262144),
    format      text not null check (format in ('yaml', 'json')),
    document    jsonb not null check (jsonb_typeof(document) = 'object'),
    digest      text not null check (digest ~ '^sha256:[0-9a-f]{64}$'),
    applied_by  text not null,
    applied_at  timestamptz not null default now()
);
comment on table policies is 'Every applied version of the access policy (docs/policies.md). The current policy is the row with the highest version; without a row nothing is allowed. Append-only.';
comment on column policies.version is 'The policy version: grows by one (or more, after a rolled-back apply) with each apply that changes the canonical document.';
comment on column policies.source is 'The document exactly as the admin sent it (YAML or JSON text), comments included.';
comment on column policies.format is 'How source is written: yaml or json.';
comment on column policies.document is 'The canonical JSON of the parsed policy (Policy::to_json), for queries; jsonb orders keys its own way, so decisions are made from source. An apply whose canonical document equals the current one stores nothing.';
comment on column policies.digest is 'sha256: of the RFC 8785 canonical form of document.';
comment on column policies.applied_by is 'Who applied it (the audit actor).';
comment on column policies.applied_at is 'When it was applied.';

create function policies_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'policy versions are append-only' using errcode = 'check_violation';
end
$$;
comment on function policies_append_only() is 'Refuses updates, deletes and truncation of policy versions.';
create trigger policies_append_only
    before update or delete on policies
    for each row execute function policies_append_only();
create trigger policies_no_truncate
    before truncate on policies
    for each statement execute function policies_append_only();
