-- Review of versions: every version starts submitted; reviewers approve or reject it, and an
-- approval can be revoked. Decisions are append-only; the current state is kept per version and
-- changed only in the transaction that records a decision.

create type review_state as enum ('submitted', 'approved', 'rejected', 'revoked');
comment on type review_state is 'Where a version is in review: submitted → approved | rejected; approved → revoked.';

create table review_decisions (
    id          bigint generated always as identity primary key,
    version_id  bigint not null references server_versions (id),
    action      text not null check (action in ('approve', 'reject', 'revoke')),
    actor       text not null,
    reason      text check (char_length(reason) <= 2000),
    gates       jsonb not null check (jsonb_typeof(gates) = 'array'),
    overrides   jsonb not null default '{}'::jsonb check (jsonb_typeof(overrides) = 'object'),
    expires_at  timestamptz,
    at          timestamptz not null default now(),
    check (action = 'approve' or reason is not null),
    check (action = 'approve' or expires_at is null)
);
comment on table review_decisions is 'Every review decision on a version: who approved, rejected or revoked it, when, why, the gates as they were evaluated then and the gates overridden (with their reasons). Append-only.';
comment on column review_decisions.action is 'approve, reject or revoke.';
comment on column review_decisions.actor is 'The reviewer (the audit actor); never the publisher of the version.';
comment on column review_decisions.reason is 'Why; required to reject or revoke.';
comment on column review_decisions.gates is 'The gates evaluated at decision time: [{gate, passed, detail}].';
comment on column review_decisions.overrides is 'Gates that failed and were overridden, each with the reviewer''s reason: {"gate": "reason"}.';
comment on column review_decisions.expires_at is 'When an approval stops counting (review.approval_days), null when approvals do not expire.';
create index review_decisions_version on review_decisions (version_id, id);

create table version_reviews (
    version_id  bigint primary key references server_versions (id),
    state       review_state not null,
    changed_at  timestamptz not null default now(),
    changed_by  text not null
);
comment on table version_reviews is 'The review state of each version that has a decision (a version without a row is submitted).';
comment on column version_reviews.state is 'The state after the latest decision. An approved version whose approvals expired counts as submitted again (computed on read).';
comment on column version_reviews.changed_by is 'Who made the decision that set the state.';

create function review_decisions_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'review decisions are append-only' using errcode = 'check_violation';
end
$$;
comment on function review_decisions_append_only() is 'Refuses updates and deletes of review decisions.';
create trigger review_decisions_append_only
    before update or delete on review_decisions
    for each row execute function review_decisions_append_only();
