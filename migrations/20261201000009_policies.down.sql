drop table policies;
drop function policies_append_only();
