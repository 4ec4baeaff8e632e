drop table signing_keysets;
drop table allowlist_documents;
drop table allowlists;
