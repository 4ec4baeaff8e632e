-- Publishing reads every version of the server it publishes (to decide "latest"); without this
-- index that was a scan of the whole table, and publishing slowed as the catalog grew.
create index server_versions_server_id on server_versions (server_id);
