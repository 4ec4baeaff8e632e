-- Tags of servers, set by reviewers and admins (never by publishers: policy rules can name
-- tags, and a publisher must not be able to untag their own server out of a deny rule).

alter table servers
    add column tags text[] not null default '{}'
        check (cardinality(tags) <= 32 and array_to_string(tags, ',') ~ '^([a-z0-9][a-z0-9-]{0,62}(,[a-z0-9][a-z0-9-]{0,62})*)?$');
comment on column servers.tags is 'Tags that policy rules name (`resources: [{tag: internal}]`): lower-case letters, digits and -, at most 32, sorted and unique. Set with PUT /api/v1/servers/{name}/tags by reviewers and admins.';
