drop table used_token_ids;
drop table trusted_publishers;
alter table api_tokens drop column created_by;
alter table api_tokens drop column kind;
alter table api_tokens drop column server_name;
alter table api_tokens drop column namespaces;
