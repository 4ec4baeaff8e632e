drop index server_versions_server_id;
