drop table scan_findings;
drop table scan_reports;
drop table tool_manifests;
drop function scan_evidence_append_only();
drop type finding_severity;
