drop table allowlist_documents;
drop table allowlists;
