-- Allowlists: named audiences (a team, an environment). Each gets the versions policy allows it,
-- served as the official API under its own base URL and as a signed, versioned, expiring
-- document.

create table allowlists (
    name        text primary key check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    description text not null default '' check (char_length(description) <= 500),
    access      text not null check (access in ('anonymous', 'token', 'network')),
    networks    cidr[] not null default '{}',
    created_by  text not null,
    created_at  timestamptz not null default now(),
    check ((access = 'network') = (cardinality(networks) > 0))
);
comment on table allowlists is 'Named audiences; policy rules name them as subjects (`allowlist: NAME`).';
comment on column allowlists.access is 'Who may read the allowlist''s views and document: anonymous (anyone), token (any authenticated caller that may read the catalog), network (callers whose address is in networks).';
comment on column allowlists.networks is 'For access = network: the client networks allowed.';

create table allowlist_documents (
    allowlist      text primary key references allowlists (name),
    version        bigint not null check (version > 0),
    content_digest text not null check (content_digest ~ '^sha256:[0-9a-f]{64}$'),
    issued_at      timestamptz not null,
    expires_at     timestamptz not null check (expires_at > issued_at),
    signed         text not null
);
comment on table allowlist_documents is 'The latest signed document of each allowlist. Its version only grows: a new one is issued (version + 1) when the entries change or the current one nears its expiry.';
comment on column allowlist_documents.content_digest is 'sha256: of the RFC 8785 canonical JSON of the entries, to tell whether they changed.';
comment on column allowlist_documents.signed is 'The signed document as served (JSON text).';

create table signing_keysets (
    version    bigint generated always as identity primary key,
    digest     text not null unique,
    created_at timestamptz not null default now()
);
comment on table signing_keysets is 'Every set of allowlist signing keys (active and retired) the registry has published; the keyset document''s version is the row''s, so it only grows when the keys change.';
comment on column signing_keysets.digest is 'sha256: over the ids of the active and retired keys.';
