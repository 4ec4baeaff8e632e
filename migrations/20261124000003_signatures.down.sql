drop table version_signatures;
drop table trusted_signers;
drop table version_packages;
drop function supply_chain_append_only();

create or replace function server_versions_guard() returns trigger language plpgsql as $$
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

alter table server_versions drop column server_json_digest;
