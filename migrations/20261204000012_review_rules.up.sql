-- One home for two rules every read shares: whether an approval still counts (and so the review
-- state of a version now), and the worst open finding of a version. Both read the database's
-- clock (`now()`), never the application's.

create view counting_approvals as
select distinct on (version_id, actor) version_id, actor, id as decision_id, expires_at
  from review_decisions
 where action = 'approve' and (expires_at is null or expires_at > now())
 order by version_id, actor, id;
comment on view counting_approvals is 'The approvals that count now: one per reviewer and version (the first), not expired by the database''s clock.';

create function review_state_now(p_version_id bigint, p_required bigint)
returns table (stored_state review_state, state review_state, approvals bigint, approved_until timestamptz)
language sql stable as $$
    select coalesce(r.state, 'submitted'),
           case when r.state = 'approved' and a.approvals < p_required then 'submitted'::review_state
                else coalesce(r.state, 'submitted') end,
           a.approvals,
           a.approved_until
      from (select count(*) as approvals, min(c.expires_at) as approved_until
              from counting_approvals c where c.version_id = p_version_id) a
      left join version_reviews r on r.version_id = p_version_id
$$;
comment on function review_state_now(bigint, bigint) is 'The review state of a version now, given the approvals the registry requires (review.approvals): an approved version with fewer counting approvals is submitted again. Also the stored state, the counting approvals and when the first of them expires.';

create function worst_open_finding(p_version_id bigint) returns finding_severity
language sql stable as $$
    select f.severity from scan_findings f
     where f.version_id = p_version_id and not f.suppressed
     order by f.severity desc limit 1
$$;
comment on function worst_open_finding(bigint) is 'The highest severity among the version''s unsuppressed findings; null when there is none.';
