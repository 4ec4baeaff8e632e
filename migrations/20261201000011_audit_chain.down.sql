alter table audit_events
    drop constraint audit_events_chained,
    drop column hash,
    drop column prev_hash,
    drop column seq;
