drop table catalog_changes;
