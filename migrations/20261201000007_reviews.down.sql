drop table version_reviews;
drop table review_decisions;
drop function review_decisions_append_only();
drop type review_state;
