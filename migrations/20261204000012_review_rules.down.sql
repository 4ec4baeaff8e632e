drop function worst_open_finding(bigint);
drop function review_state_now(bigint, bigint);
drop view counting_approvals;
