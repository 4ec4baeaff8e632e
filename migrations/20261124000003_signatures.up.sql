-- Supply-chain trust: the digests a version pins its artifacts to, the signatures verified on
-- arrival, and the signers each namespace trusts.

alter table server_versions add column server_json_digest text
    check (server_json_digest ~ '^sha256:[0-9a-f]{64}$');
comment on column server_versions.server_json_digest is
    'sha256: of the RFC 8785 canonical form of the document, computed at publish; what a signature "over the server.json" signs. Null for versions published before it was recorded.';

-- The immutability guard also covers the digest, once it is set.
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
        or new.published_by is distinct from old.published_by
        or (old.server_json_digest is not null
            and new.server_json_digest is distinct from old.server_json_digest) then
        raise exception 'server version %@% is immutable once published', old.server_name, old.version
            using errcode = 'check_violation';
    end if;
    return new;
end
$$;

create table version_packages (
    version_id    bigint not null references server_versions (id),
    package_index integer not null check (package_index >= 0),
    registry_type text not null,
    identifier    text not null,
    digest        text check (digest ~ '^sha256:[0-9a-f]{64}$'),
    primary key (version_id, package_index)
);
comment on table version_packages is 'The packages of each version and the artifact digest each pins; written with the version, never changed.';
comment on column version_packages.package_index is 'Position in the document''s `packages` array, from 0.';
comment on column version_packages.registry_type is 'The package''s registryType (npm, pypi, oci, mcpb, nuget, …).';
comment on column version_packages.digest is 'sha256: digest of the artifact: fileSha256 for files, the @sha256: manifest digest for OCI. Null: unpinned.';
create index version_packages_unpinned on version_packages (version_id) where digest is null;

-- Versions published before this migration: their package digests, by the same rule as publish.
insert into version_packages (version_id, package_index, registry_type, identifier, digest)
select v.id,
       (p.ordinality - 1)::integer,
       coalesce(p.package ->> 'registryType', p.package ->> 'registry_type', ''),
       coalesce(p.package ->> 'identifier', ''),
       case
           when coalesce(p.package ->> 'fileSha256', p.package ->> 'file_sha256') ~ '^[0-9a-f]{64}$'
               then 'sha256:' || coalesce(p.package ->> 'fileSha256', p.package ->> 'file_sha256')
           when coalesce(p.package ->> 'fileSha256', p.package ->> 'file_sha256') is null
                and coalesce(p.package ->> 'registryType', p.package ->> 'registry_type') = 'oci'
                and p.package ->> 'identifier' ~ '@sha256:[0-9a-f]{64}$'
               then substring(p.package ->> 'identifier' from '@(sha256:[0-9a-f]{64})$')
       end
  from server_versions v
 cross join lateral jsonb_array_elements(
           case when jsonb_typeof(v.document::jsonb -> 'packages') = 'array'
                then v.document::jsonb -> 'packages' else '[]'::jsonb end
       ) with ordinality as p (package, ordinality)
 where jsonb_typeof(p.package) = 'object';

create table trusted_signers (
    id               bigint generated always as identity primary key,
    namespace        text collate "C" not null references namespaces (name),
    server_name      text collate "C",
    kind             text not null check (kind in ('identity', 'key')),
    identity         text,
    identity_pattern text,
    issuer           text,
    public_key_pem   text,
    key_id           text,
    key_algorithm    text check (key_algorithm in ('ecdsa-p256', 'ed25519')),
    created_at       timestamptz not null default now(),
    created_by       text not null,
    check (server_name is null or server_name like namespace || '/%'),
    check (
        (kind = 'identity' and issuer is not null and (identity is null) <> (identity_pattern is null)
            and public_key_pem is null and key_id is null and key_algorithm is null)
        or (kind = 'key' and public_key_pem is not null and key_id is not null and key_algorithm is not null
            and identity is null and identity_pattern is null and issuer is null)
    )
);
comment on table trusted_signers is 'Who may sign the versions of a namespace (or of one server): keyless identities with their OIDC issuer, or public keys. A signature from anyone else is refused.';
comment on column trusted_signers.server_name is 'Null: every server of the namespace.';
comment on column trusted_signers.identity is 'Exact certificate SAN (an email address, or a CI workflow URI).';
comment on column trusted_signers.identity_pattern is 'Anchored regular expression (^…$) the certificate SAN must match.';
comment on column trusted_signers.issuer is 'The OIDC issuer that must have vouched for the identity.';
comment on column trusted_signers.public_key_pem is 'PEM SubjectPublicKeyInfo of a trusted key (ECDSA P-256 or Ed25519).';
comment on column trusted_signers.key_id is 'sha256: of the key''s DER SubjectPublicKeyInfo.';
create unique index trusted_signers_unique on trusted_signers (
    namespace, coalesce(server_name, ''), coalesce(identity, ''), coalesce(identity_pattern, ''),
    coalesce(issuer, ''), coalesce(key_id, ''));

create table version_signatures (
    id              bigint generated always as identity primary key,
    version_id      bigint not null references server_versions (id),
    subject_kind    text not null check (subject_kind in ('server_json', 'artifact')),
    package_index   integer,
    subject_digest  text not null check (subject_digest ~ '^sha256:[0-9a-f]{64}$'),
    media_type      text not null,
    bundle          text not null,
    bundle_sha256   text not null,
    verified        jsonb not null,
    signer_kind     text not null check (signer_kind in ('certificate', 'key')),
    signer_identity text,
    signer_issuer   text,
    key_id          text,
    public_key_pem  text,
    signed_at       timestamptz,
    created_at      timestamptz not null default now(),
    created_by      text not null,
    check ((subject_kind = 'artifact') = (package_index is not null)),
    check ((signer_kind = 'certificate') = (signer_identity is not null and signer_issuer is not null)),
    check ((signer_kind = 'key') = (key_id is not null and public_key_pem is not null)),
    foreign key (version_id, package_index) references version_packages (version_id, package_index),
    constraint version_signatures_bundle_key unique (version_id, bundle_sha256)
);
comment on table version_signatures is 'Signatures of versions, verified on arrival against the trust root and the trusted signers. Append-only.';
comment on column version_signatures.subject_kind is 'server_json: over server_versions.server_json_digest; artifact: over the digest of package package_index.';
comment on column version_signatures.subject_digest is 'The digest the signature was verified over.';
comment on column version_signatures.bundle is 'The sigstore bundle (or mcpreg key signature) as sent, JSON text.';
comment on column version_signatures.bundle_sha256 is 'SHA-256 (hex) of bundle, so the same bundle is not stored twice for a version.';
comment on column version_signatures.verified is 'What verification established (mcpreg_trust::VerifiedSignature): signer, CI claims, signed time, log entries.';
comment on column version_signatures.signer_identity is 'Certificate SAN of a keyless signer.';
comment on column version_signatures.signer_issuer is 'OIDC issuer of a keyless signer.';
comment on column version_signatures.key_id is 'sha256: of the SubjectPublicKeyInfo of a key signer.';
comment on column version_signatures.public_key_pem is 'The trusted key that verified a key-based signature, as it was when it verified (trusted signers may be removed later).';
comment on column version_signatures.signed_at is 'Verified signing time (transparency log or RFC 3161); null for key signatures.';
create index version_signatures_version on version_signatures (version_id);
create index version_signatures_identity on version_signatures (signer_identity, signer_issuer);

-- Defence in depth: package digests and signatures never change once written.
create function supply_chain_append_only() returns trigger language plpgsql as $$
begin
    raise exception '% rows are append-only', tg_table_name using errcode = 'check_violation';
end
$$;
create trigger version_packages_immutable
    before update or delete on version_packages
    for each row execute function supply_chain_append_only();
create trigger version_signatures_append_only
    before update or delete on version_signatures
    for each row execute function supply_chain_append_only();
