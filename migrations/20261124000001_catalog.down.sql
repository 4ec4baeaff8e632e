drop table audit_events;
drop function audit_events_append_only();
drop table api_tokens;
drop table server_versions;
drop function server_versions_guard();
drop table servers;
drop table namespaces;
