-- Tool manifests (what a version's server advertises, pinned by one digest) and scan reports
-- (findings of the built-in scanner and of other scanners, normalised), per version.

create table tool_manifests (
    version_id          bigint primary key references server_versions (id),
    received            text not null,
    manifest            text not null,
    tools_pin           text not null check (tools_pin ~ '^sha256:[0-9a-f]{64}$'),
    context_cost        jsonb not null check (jsonb_typeof(context_cost -> 'totalTokens') = 'number'),
    context_cost_tokens bigint generated always as ((context_cost ->> 'totalTokens')::bigint) stored,
    tool_count          integer not null check (tool_count >= 0),
    server_info_name    text not null,
    attached_at         timestamptz not null default now(),
    attached_by         text not null
);
comment on table tool_manifests is 'The tool manifest of a version: its tools, prompts, resource templates and instructions as the server advertises them, pinned by one digest. At most one per version; immutable once attached.';
comment on column tool_manifests.version_id is 'The version (server_versions.id) the manifest belongs to.';
comment on column tool_manifests.received is 'The manifest exactly as it was received (JSON text), kept for audit.';
comment on column tool_manifests.manifest is 'The manifest as the registry serves it: parsed, lists sorted, toolsPin, toolDigests and contextCost computed by the registry; RFC 8785 canonical JSON.';
comment on column tool_manifests.tools_pin is 'sha256: over the RFC 8785 canonical JSON of the pinned content (see docs/tool-manifests.md); what a client compares the live server with.';
comment on column tool_manifests.context_cost is 'Estimated context cost computed by the registry (mcpreg_scan::ContextCost: encoding, totalTokens, toolsTokens, instructionsTokens, per tool).';
comment on column tool_manifests.context_cost_tokens is 'context_cost.totalTokens, as a column for listings.';
comment on column tool_manifests.tool_count is 'How many tools the manifest lists.';
comment on column tool_manifests.server_info_name is 'serverInfo.name: what the server calls itself.';
comment on column tool_manifests.attached_at is 'When the manifest was attached (with the publish, or later).';
comment on column tool_manifests.attached_by is 'Who attached it (the audit actor).';

-- The order of the values is the order of severities: max() and "order by" rank them.
create type finding_severity as enum ('info', 'low', 'medium', 'high', 'critical');
comment on type finding_severity is 'Severity of a scan finding, in increasing order.';

create table scan_reports (
    id              bigint generated always as identity primary key,
    version_id      bigint not null references server_versions (id),
    format          text not null check (format in ('sarif', 'cisco-mcp-scanner', 'mcp-scan', 'builtin')),
    builtin         boolean not null,
    scanner_name    text not null,
    scanner_version text,
    scanned_at      timestamptz,
    scanned_digest  text check (scanned_digest ~ '^sha256:[0-9a-f]{64}$'),
    subject         text,
    notes           jsonb not null default '[]'::jsonb check (jsonb_typeof(notes) = 'array'),
    report          text not null,
    report_sha256   text not null check (report_sha256 ~ '^[0-9a-f]{64}$'),
    finding_count   integer not null check (finding_count >= 0),
    uploaded_at     timestamptz not null default now(),
    uploaded_by     text not null,
    check (builtin = (format = 'builtin')),
    constraint scan_reports_report_key unique (version_id, report_sha256),
    unique (id, version_id)
);
comment on table scan_reports is 'Scan reports of versions: the registry''s built-in scan of each tool manifest it receives, and reports uploaded from other scanners (SARIF 2.1.0, Cisco mcp-scanner, mcp-scan). Append-only.';
comment on column scan_reports.format is 'The format the report arrived in; builtin for the registry''s own scan.';
comment on column scan_reports.builtin is 'True for the registry''s own scan (run on every manifest it receives).';
comment on column scan_reports.scanner_name is 'The scanner, as the report names it (Bandit, cisco-ai-mcp-scanner, mcp-scan, mcpreg-scan).';
comment on column scan_reports.scanner_version is 'The scanner''s version, when the report says.';
comment on column scan_reports.scanned_at is 'When the scan ran, as the report says (the upload time is uploaded_at).';
comment on column scan_reports.scanned_digest is 'The digest of what was scanned: the tools pin for the built-in scan; for uploads, the digest the uploader declared (the version''s tools pin, server.json digest or a package digest), else null.';
comment on column scan_reports.subject is 'What the report says it scanned (a server URL, a config path); informational.';
comment on column scan_reports.notes is 'What the report said besides findings (failed analyzers, servers that did not start), as an array of strings.';
comment on column scan_reports.report is 'The report as uploaded (JSON text); for the built-in scan, its normalised report.';
comment on column scan_reports.report_sha256 is 'SHA-256 (hex) of report, so that the same report is not stored twice for a version.';
comment on column scan_reports.finding_count is 'How many findings the report has (suppressed ones included).';
comment on column scan_reports.uploaded_by is 'Who uploaded it (the audit actor); for the built-in scan, who attached the manifest.';
create index scan_reports_version on scan_reports (version_id);

create table scan_findings (
    report_id  bigint not null,
    version_id bigint not null,
    position   integer not null check (position >= 0),
    rule       text not null,
    severity   finding_severity not null,
    category   text not null,
    message    text not null,
    location   jsonb not null check (jsonb_typeof(location) = 'object'),
    evidence   text,
    suppressed boolean not null,
    primary key (report_id, position),
    foreign key (report_id, version_id) references scan_reports (id, version_id)
);
comment on table scan_findings is 'The findings of each scan report, normalised (mcpreg_scan::Finding). Append-only.';
comment on column scan_findings.version_id is 'The report''s version, repeated here so that a version''s worst finding is one index lookup.';
comment on column scan_findings.position is 'Order of the finding in its report, from 0.';
comment on column scan_findings.rule is 'The scanner''s rule id (hidden-instructions, B602, yara_analyzer/CODE EXECUTION).';
comment on column scan_findings.category is 'Kind of problem, lower-case words joined by - (prompt-injection, cwe-78).';
comment on column scan_findings.location is 'Where (mcpreg_scan::Location as JSON: {"kind": "tool", "name": …, "pointer": …}, a file and line, …).';
comment on column scan_findings.evidence is 'The text that triggered the finding, shortened, invisible characters made visible.';
comment on column scan_findings.suppressed is 'The scanner marked the finding as suppressed; suppressed findings do not count towards a version''s highest severity.';
-- The highest unsuppressed severity of a version: `order by severity desc limit 1` reads one entry.
create index scan_findings_version_severity on scan_findings (version_id, severity desc) where not suppressed;

-- Defence in depth: manifests, reports and findings never change once written.
create function scan_evidence_append_only() returns trigger language plpgsql as $$
begin
    raise exception '% rows are append-only', tg_table_name using errcode = 'check_violation';
end
$$;
comment on function scan_evidence_append_only() is 'Refuses updates and deletes of tool manifests, scan reports and findings.';
create trigger tool_manifests_immutable
    before update or delete on tool_manifests
    for each row execute function scan_evidence_append_only();
create trigger scan_reports_append_only
    before update or delete on scan_reports
    for each row execute function scan_evidence_append_only();
create trigger scan_findings_append_only
    before update or delete on scan_findings
    for each row execute function scan_evidence_append_only();
