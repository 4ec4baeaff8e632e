#!/usr/bin/env python3
"""Helpers of bench/run.sh (Python standard library only).

Subcommands:
  load     publish N servers x 3 versions through POST /api/v1/publish, report throughput
  prepare  write the wrk path files (random latest lookups, list pages at random depths) and
           check that the list API returns what the precomputed cursors expect
  wrk      run one wrk scenario, with CPU accounting of the server, PostgreSQL and wrk
  report   turn the scenario results into results/latest.md and results/latest.json

The import suite (bench/import.sh):
  import-file    write N servers x 3 versions as one `mcpreg import` file (pass by pass)
  report-import  turn the import and publish measurements into results/import.md and .json

The allowlist suite (BENCH_SUITE=allowlists bench/run.sh, or bench/allowlists.sh):
  load-allowlists     publish N servers x 2 versions, approve them with a reviewer token,
                      create the allowlist and apply the policy
  prepare-allowlists  write the wrk path files of the allowlist reads and verify the document,
                      its 304, latest-allowed lookups and the allowlist's list
  (`wrk` and `report --suite allowlists` as above)
"""

import argparse
import datetime
import http.client
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
VERSIONS = ["1.0.0", "1.1.0", "2.0.0"]
NAMESPACES = 100
PAGE = 50

# ---------------------------------------------------------------------------------------------
# Dataset


def server_name(i):
    """`com.example.team042/server-00042`: 100 namespaces, so that name order != load order."""
    return f"com.example.team{i % NAMESPACES:03d}/server-{i:05d}"


def all_names(n):
    return [server_name(i) for i in range(1, n + 1)]


def document(i, version):
    """A realistic ~1 KB server.json."""
    name = server_name(i)
    team = f"team{i % NAMESPACES:03d}"
    slug = f"server-{i:05d}"
    doc = {
        "$schema": SCHEMA,
        "name": name,
        "title": f"Bench Server {i}",
        "description": f"Bench server {i}: reads and updates {team} tickets, docs and dashboards over MCP",
        "version": version,
        "websiteUrl": f"https://{team}.example.com/mcp/{slug}",
        "repository": {
            "url": f"https://github.com/example-{team}/{slug}",
            "source": "github",
            "id": f"{i:08d}-b7e2-4c1d-9a3e-{i:012d}",
        },
        "packages": [
            {
                "registryType": "npm",
                "registryBaseUrl": "https://registry.npmjs.org",
                "identifier": f"@example-{team}/{slug}",
                "version": version,
                "transport": {"type": "stdio"},
                "packageArguments": [
                    {
                        "type": "named",
                        "name": "--region",
                        "description": "Data region of the tenant",
                        "default": "eu-west-1",
                        "isRequired": False,
                    }
                ],
                "environmentVariables": [
                    {
                        "name": f"{team.upper()}_API_TOKEN",
                        "description": f"API token for the {team} ticket service, from the admin console",
                        "isRequired": True,
                        "isSecret": True,
                        "format": "string",
                    },
                    {
                        "name": "LOG_LEVEL",
                        "description": "Log verbosity",
                        "default": "info",
                        "choices": ["debug", "info", "warn", "error"],
                    },
                ],
            }
        ],
    }
    if i % 3 == 0:
        doc["remotes"] = [
            {
                "type": "streamable-http",
                "url": f"https://mcp.{team}.example.com/{slug}/mcp",
                "headers": [
                    {
                        "name": "Authorization",
                        "description": "Bearer token for the hosted server",
                        "isRequired": True,
                        "isSecret": True,
                    }
                ],
            }
        ]
    return doc


def encoded(name):
    return urllib.parse.quote(name, safe="")


# ---------------------------------------------------------------------------------------------
# HTTP


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.local.conn = c
        return c

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            c = self.conn()
            try:
                c.request(method, path, body=body, headers=headers or {})
                r = c.getresponse()
                data = r.read()
                return r.status, data
            except (http.client.HTTPException, ConnectionError, OSError):
                c.close()
                self.local.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


def split_url(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


# ---------------------------------------------------------------------------------------------
# load


def cmd_load(a):
    host, port = split_url(a.url)
    client = Client(host, port)
    headers = {"Authorization": f"Bearer {a.token}", "Content-Type": "application/json"}
    sizes = []
    passes = []
    total_start = time.monotonic()
    for version in VERSIONS:
        bodies = [json.dumps(document(i, version), separators=(",", ":")).encode() for i in range(1, a.servers + 1)]
        sizes.extend(len(b) for b in bodies[:100])
        failures = []
        lat = []
        lock = threading.Lock()

        def publish(body):
            t0 = time.monotonic()
            status, data = client.request("POST", "/api/v1/publish", body, headers)
            dt = time.monotonic() - t0
            with lock:
                lat.append(dt)
                if status != 201:
                    failures.append((status, data[:300]))

        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=a.concurrency) as pool:
            list(pool.map(publish, bodies))
        elapsed = time.monotonic() - start
        if failures:
            print(f"load: {len(failures)} publishes of {version} failed, e.g. {failures[0]}", file=sys.stderr)
            sys.exit(1)
        lat.sort()
        p = {
            "version": version,
            "requests": len(bodies),
            "seconds": round(elapsed, 2),
            "rps": round(len(bodies) / elapsed, 1),
            "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
        }
        passes.append(p)
        print(f"load: published {p['requests']} x {version} in {p['seconds']} s = {p['rps']} publishes/s "
              f"(p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms)", file=sys.stderr)
    total = time.monotonic() - total_start
    n = a.servers * len(VERSIONS)
    result = {
        "servers": a.servers,
        "versions_per_server": len(VERSIONS),
        "publishes": n,
        "concurrency": a.concurrency,
        "seconds": round(total, 2),
        "rps": round(n / total, 1),
        "avg_document_bytes": round(sum(sizes) / len(sizes)),
        "passes": passes,
    }
    print(f"load: {n} publishes in {result['seconds']} s = {result['rps']} publishes/s "
          f"(concurrency {a.concurrency}, documents ~{result['avg_document_bytes']} bytes)", file=sys.stderr)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)


# ---------------------------------------------------------------------------------------------
# import suite


def cmd_import_file(a):
    """The load's dataset as one file: every 1.0.0, then every 1.1.0, then every 2.0.0."""
    documents = [document(i, version) for version in VERSIONS for i in range(1, a.servers + 1)]
    with open(a.out, "w") as f:
        json.dump(documents, f, separators=(",", ":"))
    print(f"import-file: {len(documents)} documents, {os.path.getsize(a.out):,} bytes", file=sys.stderr)


def cmd_report_import(a):
    with open(a.measurements) as f:
        m = json.load(f)
    with open(a.load) as f:
        load = json.load(f)
    commit = git("rev-parse", "--short=12", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "commit": commit + ("-dirty" if dirty else ""),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "prebuilt": a.prebuilt,
    }
    imp = m["import"]
    verify = m["verify"]
    versions = imp["accepted"] + imp["unchanged"] + imp["rejected"]
    rate = versions / imp["seconds"]
    lines = [
        "# mcpreg bulk write benchmark",
        "",
        f"- date: {env['date']}",
        f"- commit: {env['commit']}",
        f"- machine: {env['cpu']} x {env['cores']}",
        f"- server: release build, fresh private PostgreSQL cluster per measurement, default settings",
        "",
        "| measurement | result | target |",
        "| --- | --- | --- |",
        f"| `mcpreg import` of {versions:,} versions ({imp['servers']:,} servers x 3) | "
        f"{imp['seconds']:.2f} s = **{rate:,.0f} versions/s** "
        f"({imp['accepted']:,} accepted, {imp['unchanged']:,} unchanged, {imp['rejected']:,} rejected) | "
        f"≥ 1,500 versions/s (under 20 s): **{'met' if rate >= 1500 else 'not met'}** |",
        f"| `mcpreg audit verify` after the import | exit {verify['exit']} in {verify['seconds']:.2f} s: "
        f"{verify['summary']} | the chain verifies: **{'yes' if verify['exit'] == 0 else 'NO'}** |",
        f"| publish, {load['concurrency']} concurrent clients, single `POST /api/v1/publish` | "
        f"{load['publishes']:,} publishes in {load['seconds']} s = **{load['rps']:,} publishes/s** | "
        f"≥ 1,000/s: **{'met' if load['rps'] >= 1000 else 'not met'}** (before: 437.8/s, `latest.md`) |",
        "",
        "Publish passes (each version of every server in a pass of its own):",
        "",
        "| version | publishes | seconds | publishes/s | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in load["passes"]:
        lines.append(f"| {p['version']} | {p['requests']:,} | {p['seconds']} | {p['rps']} | {p['p50_ms']} | {p['p99_ms']} |")
    lines.append("")
    with open(os.path.join(a.results, "import.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(a.results, "import.json"), "w") as f:
        json.dump({"environment": env, "import": imp, "verify": verify, "publish": load}, f, indent=2)
    print("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# prepare


def list_path(cursor):
    path = f"/v0.1/servers?limit={PAGE}&version=latest"
    if cursor is not None:
        path += "&cursor=" + encoded(cursor)
    return path


def cmd_prepare(a):
    host, port = split_url(a.url)
    client = Client(host, port)
    rng = random.Random(a.seed)
    names = all_names(a.servers)
    ordered = sorted(names, key=lambda s: s.encode())  # the C collation: byte order
    latest = VERSIONS[-1]

    # (a) latest lookups of random servers.
    with open(os.path.join(a.dir, "lookup.paths"), "w") as f:
        for _ in range(a.samples):
            f.write(f"/v0.1/servers/{encoded(rng.choice(names))}/versions/latest\n")
    status, data = client.request("GET", f"/v0.1/servers/{encoded(names[0])}/versions/latest")
    doc = json.loads(data)
    if status != 200 or doc["server"]["version"] != latest or not doc["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"]:
        sys.exit(f"prepare: latest lookup of {names[0]} gave {status}: {data[:300]!r}")

    # Walk the whole list once: it must hold every server once, in byte order, latest only.
    walked, cursor, pages = [], None, 0
    t0 = time.monotonic()
    while True:
        status, data = client.request("GET", list_path(cursor))
        if status != 200:
            sys.exit(f"prepare: list page after {cursor!r} gave {status}: {data[:300]!r}")
        body = json.loads(data)
        pages += 1
        for s in body["servers"]:
            walked.append((s["server"]["name"], s["server"]["version"]))
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            break
    walk_s = time.monotonic() - t0
    if [n for n, _ in walked] != ordered or any(v != latest for _, v in walked):
        sys.exit(f"prepare: walking the list gave {len(walked)} items, not the {len(ordered)} servers in name order at {latest}")
    print(f"prepare: walked {pages} list pages ({len(walked)} servers) in {walk_s:.2f} s; order and count verified",
          file=sys.stderr)

    # (b) list pages at random depths: a cursor `name:version` names the item before the page.
    # Offsets are uniform over every position that still leaves a full page after it; offset 0
    # is the first page (no cursor).
    offsets = [rng.randint(0, len(ordered) - PAGE) for _ in range(a.samples)]
    cursors = [None if o == 0 else f"{ordered[o - 1]}:{latest}" for o in offsets]
    with open(os.path.join(a.dir, "list.paths"), "w") as f:
        for c in cursors:
            f.write(list_path(c) + "\n")
    # Check a sample (and the deepest full page) against the API: a full page, starting where expected.
    checks = list(range(0, len(offsets), max(1, len(offsets) // 50)))
    deepest = len(ordered) - PAGE
    for o, c in [(offsets[k], cursors[k]) for k in checks] + [(deepest, f"{ordered[deepest - 1]}:{latest}")]:
        status, data = client.request("GET", list_path(c))
        body = json.loads(data)
        got = [s["server"]["name"] for s in body.get("servers", [])]
        if status != 200 or got != ordered[o:o + PAGE]:
            sys.exit(f"prepare: page after cursor {c!r} (offset {o}) gave {status}, {len(got)} items, "
                     f"first {got[:1]}, expected {ordered[o:o + 1]}")
    print(f"prepare: {a.samples} lookup paths, {a.samples} list cursors (depths 0..{deepest}); "
          f"{len(checks) + 1} cursors verified to give full pages", file=sys.stderr)

    # (c) search: a substring of one random server's name (`server-01234`: that server's
    # versions, the default page size), checked once.
    with open(os.path.join(a.dir, "search.paths"), "w") as f:
        for _ in range(a.samples):
            f.write(f"/v0.1/servers?search={rng.choice(names).split('/')[1]}\n")
    status, data = client.request("GET", f"/v0.1/servers?search={names[7].split('/')[1]}")
    got = [(s["server"]["name"], s["server"]["version"]) for s in json.loads(data).get("servers", [])]
    if status != 200 or got != [(names[7], v) for v in sorted(VERSIONS)]:
        sys.exit(f"prepare: search for {names[7]} gave {status}: {got}")

    # (d) health.
    with open(os.path.join(a.dir, "healthz.paths"), "w") as f:
        f.write("/healthz\n")


# ---------------------------------------------------------------------------------------------
# The allowlist suite: dataset, load and prepare

ALLOWLIST = "engineering"
ALLOWLIST_VERSIONS = ["1.0.0", "2.0.0"]
# What the allowlist's policy allows: every approved version of the benchmark's servers.
ALLOWLIST_POLICY = f"""apiVersion: mcpreg.dev/v1
kind: Policy
rules:
  - name: {ALLOWLIST}-approved
    effect: allow
    subjects: [{{allowlist: {ALLOWLIST}}}]
    resources: [{{server: "com.example.*/*"}}]
    require: {{reviewState: [approved]}}
"""


def approved_latest(i):
    """The latest version of server i that the allowlist's policy allows: 1.0.0 of every server is
    approved, 2.0.0 of the even-numbered half only."""
    return "2.0.0" if i % 2 == 0 else "1.0.0"


def timed_pass(label, client, method, items, headers, concurrency, expect):
    """Sends (path, body) items with `concurrency` clients; exits on any status not in `expect`.
    Returns throughput and latency of the pass."""
    failures, lat = [], []
    lock = threading.Lock()

    def send(item):
        path, body = item
        t0 = time.monotonic()
        status, data = client.request(method, path, body, headers)
        dt = time.monotonic() - t0
        with lock:
            lat.append(dt)
            if status not in expect:
                failures.append((path, status, data[:300]))

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(send, items))
    elapsed = time.monotonic() - start
    if failures:
        sys.exit(f"load: {len(failures)} of {len(items)} requests of `{label}` failed, e.g. {failures[0]}")
    lat.sort()
    p = {
        "pass": label,
        "requests": len(items),
        "seconds": round(elapsed, 2),
        "rps": round(len(items) / elapsed, 1),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
    }
    print(f"load: {label}: {p['requests']} requests in {p['seconds']} s = {p['rps']}/s "
          f"(p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms)", file=sys.stderr)
    return p


def cmd_load_allowlists(a):
    host, port = split_url(a.url)
    client = Client(host, port)
    admin = {"Authorization": f"Bearer {a.token}", "Content-Type": "application/json"}
    reviewer = {"Authorization": f"Bearer {a.reviewer_token}", "Content-Type": "application/json"}
    ids = range(1, a.servers + 1)
    passes, sizes = [], []
    total_start = time.monotonic()
    for version in ALLOWLIST_VERSIONS:
        bodies = [json.dumps(document(i, version), separators=(",", ":")).encode() for i in ids]
        sizes.extend(len(b) for b in bodies[:100])
        passes.append(timed_pass(f"publish {version}", client, "POST", [("/api/v1/publish", b) for b in bodies],
                                 admin, a.concurrency, {201}))
    approve = json.dumps({"action": "approve", "reason": "benchmark"}).encode()
    for version, which in (("1.0.0", ids), ("2.0.0", [i for i in ids if approved_latest(i) == "2.0.0"])):
        items = [(f"/api/v1/servers/{encoded(server_name(i))}/versions/{version}/review", approve) for i in which]
        passes.append(timed_pass(f"approve {version}", client, "POST", items, reviewer, a.concurrency, {200}))
    status, data = client.request("POST", "/api/v1/allowlists",
                                  json.dumps({"name": ALLOWLIST, "access": "anonymous",
                                              "description": "benchmark allowlist"}).encode(), admin)
    if status != 201:
        sys.exit(f"load: creating allowlist {ALLOWLIST} gave {status}: {data[:300]!r}")
    status, data = client.request("PUT", "/api/v1/policy", json.dumps({"source": ALLOWLIST_POLICY}).encode(), admin)
    if status != 200:
        sys.exit(f"load: applying the policy gave {status}: {data[:500]!r}")
    total = time.monotonic() - total_start
    approvals = sum(p["requests"] for p in passes if p["pass"].startswith("approve"))
    result = {
        "suite": "allowlists",
        "servers": a.servers,
        "versions_per_server": len(ALLOWLIST_VERSIONS),
        "publishes": a.servers * len(ALLOWLIST_VERSIONS),
        "approvals": approvals,
        "allowed_versions": approvals,
        "concurrency": a.concurrency,
        "seconds": round(total, 2),
        "avg_document_bytes": round(sum(sizes) / len(sizes)),
        "policy": ALLOWLIST_POLICY,
        "passes": passes,
    }
    print(f"load: {result['publishes']} publishes and {approvals} approvals in {result['seconds']} s; "
          f"allowlist `{ALLOWLIST}` (anonymous) created and policy applied", file=sys.stderr)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)


def cmd_publish_steady(a):
    """Publishes new servers (outside the allowlist's view: nobody approves them) at --rate per
    second through --url until SIGTERM, as another client of the registry would; writes what it
    did to --out."""
    import signal
    host, port = split_url(a.url)
    client = Client(host, port)
    admin = {"Authorization": f"Bearer {a.token}", "Content-Type": "application/json"}
    done, failed, lat = 0, 0, []
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    start = time.monotonic()
    i = 100_000
    while not stop:
        i += 1
        body = json.dumps(document(i, "1.0.0"), separators=(",", ":")).encode()
        t0 = time.monotonic()
        status, _ = client.request("POST", "/api/v1/publish", body, admin)
        lat.append(time.monotonic() - t0)
        if status == 201:
            done += 1
        else:
            failed += 1
        next_at = start + (done + failed) / a.rate
        time.sleep(max(0.0, next_at - time.monotonic()))
    elapsed = time.monotonic() - start
    lat.sort()
    result = {
        "publishes": done,
        "failed": failed,
        "seconds": round(elapsed, 1),
        "rate": round(done / max(elapsed, 1e-9), 2),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 1) if lat else None,
    }
    print(f"publisher: {done} publishes ({failed} failed) in {result['seconds']} s", file=sys.stderr)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)


def verify_signatures(client, body, problems):
    """Checks the document's Ed25519 signatures against /.well-known/mcpreg-keys.json when the
    `cryptography` package is importable (the suite needs only the standard library otherwise).
    The signature is over the RFC 8785 canonical JSON of `signed`; for this document (ASCII keys,
    integers, plain strings) that is sorted keys without whitespace. Returns what was checked."""
    try:
        import base64
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return "structure only (python3 has no `cryptography` module)"
    status, data = client.request("GET", "/.well-known/mcpreg-keys.json")
    if status != 200:
        problems.append(f"GET /.well-known/mcpreg-keys.json gave {status}")
        return "failed"
    keys = {k["keyId"]: k["publicKey"] for k in json.loads(data)["signed"]["keys"] if k["status"] == "active"}
    message = json.dumps(body["signed"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    for sig in body.get("signatures", []):
        if sig.get("keyId") not in keys:
            problems.append(f"signature by unknown key {sig.get('keyId')}")
            continue
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[sig["keyId"]])).verify(
                base64.b64decode(sig["sig"]), message)
        except Exception as e:  # cryptography raises InvalidSignature
            problems.append(f"signature by {sig['keyId']} does not verify ({type(e).__name__})")
    return f"{len(body.get('signatures', []))} Ed25519 signature(s) verified against /.well-known/mcpreg-keys.json"


def allowlist_list_path(cursor):
    path = f"/a/{ALLOWLIST}/v0.1/servers?limit={PAGE}&version=latest"
    if cursor is not None:
        path += "&cursor=" + encoded(cursor)
    return path


def cmd_prepare_allowlists(a):
    host, port = split_url(a.url)
    client = Client(host, port)
    rng = random.Random(a.seed)
    ids = list(range(1, a.servers + 1))
    expected_entries = sorted([(server_name(i), "1.0.0") for i in ids]
                              + [(server_name(i), "2.0.0") for i in ids if approved_latest(i) == "2.0.0"],
                              key=lambda nv: (nv[0].encode(), nv[1]))
    doc_path = f"/api/v1/allowlists/{ALLOWLIST}"

    # (a) the signed document: its structure, its entries, its ETag; then the 304.
    c = client.conn()
    c.request("GET", doc_path)
    r = c.getresponse()
    data = r.read()
    etag = r.getheader("ETag")
    if r.status != 200:
        sys.exit(f"prepare: GET {doc_path} gave {r.status}: {data[:300]!r}")
    body = json.loads(data)
    signed = body.get("signed", {})
    entries = signed.get("entries", [])
    got = sorted(((e["name"], e["version"]) for e in entries), key=lambda nv: (nv[0].encode(), nv[1]))
    problems = []
    if signed.get("type") != "mcpreg.allowlist.v1" or signed.get("allowlist") != ALLOWLIST:
        problems.append(f"type/allowlist are {signed.get('type')!r}/{signed.get('allowlist')!r}")
    if got != expected_entries:
        problems.append(f"{len(entries)} entries, expected {len(expected_entries)} "
                        f"(first differing: {next((x for x in zip(got, expected_entries) if x[0] != x[1]), None)})")
    if not body.get("signatures") or not all(s.get("sig") and s.get("keyId") for s in body["signatures"]):
        problems.append(f"signatures: {str(body.get('signatures'))[:200]}")
    if etag != f"\"{signed.get('version')}\"":
        problems.append(f"ETag {etag!r} is not the quoted version {signed.get('version')!r}")
    if not signed.get("expiresAt") or not signed.get("issuedAt"):
        problems.append("no issuedAt/expiresAt")
    verified = verify_signatures(client, body, problems)
    if problems:
        sys.exit("prepare: the signed document is wrong: " + "; ".join(problems))
    doc_bytes = len(data)
    c.request("GET", doc_path, headers={"If-None-Match": etag})
    r = c.getresponse()
    nm = r.read()
    if r.status != 304 or nm or r.getheader("ETag") != etag:
        sys.exit(f"prepare: GET {doc_path} with If-None-Match: {etag} gave {r.status} "
                 f"({len(nm)} body bytes, ETag {r.getheader('ETag')!r}), not an empty 304")
    c.request("GET", doc_path, headers={"If-None-Match": '"0"'})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"prepare: GET {doc_path} with a stale If-None-Match gave {r.status}, not 200")
    print(f"prepare: document version {signed['version']}: {len(entries)} entries as expected, "
          f"{verified}, {doc_bytes:,} bytes; ETag {etag}; If-None-Match answers 304, "
          "a stale one 200", file=sys.stderr)
    for name in ("document", "document-etag"):
        with open(os.path.join(a.dir, f"{name}.paths"), "w") as f:
            f.write(doc_path + "\n")
    with open(os.path.join(a.dir, "document-etag.header"), "w") as f:
        f.write(f"If-None-Match: {etag}\n")
    with open(os.path.join(a.dir, "document.info.json"), "w") as f:
        json.dump({"version": signed["version"], "etag": etag, "entries": len(entries), "bytes": doc_bytes,
                   "signatures": verified}, f)

    # (b) latest-allowed lookups: 2.0.0 where it is approved, 1.0.0 where only that is.
    def lookup(i):
        return f"/a/{ALLOWLIST}/v0.1/servers/{encoded(server_name(i))}/versions/latest"

    checks = [1, 2, 3, 4] + rng.sample(ids, min(len(ids), 50))
    for i in checks:
        if i > a.servers:
            continue
        status, data = client.request("GET", lookup(i))
        d = json.loads(data) if status == 200 else {}
        if (status != 200 or d["server"]["version"] != approved_latest(i)
                or not d["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"]):
            sys.exit(f"prepare: GET {lookup(i)} gave {status}: {data[:300]!r}; expected {approved_latest(i)} as latest")
    status, data = client.request("GET", f"/v0.1/servers/{encoded(server_name(1))}/versions/latest")
    if status != 200 or json.loads(data)["server"]["version"] != "2.0.0":
        sys.exit(f"prepare: the catalog's latest of {server_name(1)} is not 2.0.0: {status} {data[:200]!r}")
    with open(os.path.join(a.dir, "lookup.paths"), "w") as f:
        for _ in range(a.samples):
            f.write(lookup(rng.choice(ids)) + "\n")
    print(f"prepare: {len(checks)} lookups verified ({server_name(1)}: catalog latest 2.0.0, allowlist latest 1.0.0); "
          f"{a.samples} lookup paths", file=sys.stderr)

    # (c) the allowlist's list: walk it once (every server once, by name, at its latest allowed
    # version), then random-depth cursors as in the official suite.
    ordered = sorted(ids, key=lambda i: server_name(i).encode())
    walked, cursor, pages = [], None, 0
    t0 = time.monotonic()
    while True:
        status, data = client.request("GET", allowlist_list_path(cursor))
        if status != 200:
            sys.exit(f"prepare: list page after {cursor!r} gave {status}: {data[:300]!r}")
        body = json.loads(data)
        pages += 1
        walked.extend((s["server"]["name"], s["server"]["version"]) for s in body["servers"])
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            break
    walk_s = time.monotonic() - t0
    want = [(server_name(i), approved_latest(i)) for i in ordered]
    if walked != want:
        sys.exit(f"prepare: walking the allowlist's list gave {len(walked)} items, not the {len(want)} servers "
                 "in name order at their latest allowed version")
    print(f"prepare: walked {pages} allowlist list pages ({len(walked)} servers) in {walk_s:.2f} s; "
          "order, count and versions verified", file=sys.stderr)
    offsets = [rng.randint(0, len(ordered) - PAGE) for _ in range(a.samples)]
    cursors = [None if o == 0 else f"{want[o - 1][0]}:{want[o - 1][1]}" for o in offsets]
    with open(os.path.join(a.dir, "list.paths"), "w") as f:
        for cur in cursors:
            f.write(allowlist_list_path(cur) + "\n")
    sample = list(range(0, len(offsets), max(1, len(offsets) // 20)))
    for k in sample:
        status, data = client.request("GET", allowlist_list_path(cursors[k]))
        got = [s["server"]["name"] for s in json.loads(data).get("servers", [])] if status == 200 else []
        if got != [n for n, _ in want[offsets[k]:offsets[k] + PAGE]]:
            sys.exit(f"prepare: allowlist page after {cursors[k]!r} gave {status}, {len(got)} items")
    print(f"prepare: {a.samples} allowlist list cursors, {len(sample)} verified", file=sys.stderr)

    # (d) health, for the HTTP stack's ceiling.
    with open(os.path.join(a.dir, "healthz.paths"), "w") as f:
        f.write("/healthz\n")


# ---------------------------------------------------------------------------------------------
# wrk with CPU accounting

CLK = os.sysconf("SC_CLK_TCK")
# CPU of other processes during a run (% of one core) above which the run counts as disturbed.
OTHER_LIMIT = 20.0


def proc_cpu(pid):
    """utime + stime of a process, in seconds (0 if gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid:
                out.append(int(d))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return out


def total_cpu():
    """(all, busy, user+nice+system, irq+softirq, steal) CPU seconds of the machine so far."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v[:8]) / CLK, (sum(v[:8]) - idle) / CLK, (v[0] + v[1] + v[2]) / CLK,
            (v[5] + v[6]) / CLK, v[7] / CLK)


def snapshot(server_pid, postmaster_pid):
    pg = {postmaster_pid: proc_cpu(postmaster_pid)}
    for c in children(postmaster_pid):
        pg[c] = proc_cpu(c)
    return {"server": proc_cpu(server_pid), "pg": pg, "total": total_cpu()}


def pg_cpu_delta(before, after):
    # Backends that existed before and after, plus ones born during the run (counted from 0).
    # A backend that exited during the run is lost; the pool keeps its connections, so none do.
    return sum(t - before["pg"].get(pid, 0.0) for pid, t in after["pg"].items())


def run_wrk(a, duration):
    cmd = ["wrk", f"-t{a.threads}", f"-c{a.connections}", f"-d{duration}", "--latency"]
    if a.timeout:
        cmd.append(f"--timeout={a.timeout}")
    for h in a.header:
        cmd += ["-H", h]  # paths.lua's wrk.format() sends wrk.headers, which hold these
    cmd += ["-s", a.script, a.url, "--", a.paths]
    before_ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = snapshot(a.server_pid, a.postmaster_pid)
    p = subprocess.run(cmd, capture_output=True, text=True)
    after = snapshot(a.server_pid, a.postmaster_pid)
    after_ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"wrk failed ({p.returncode}): {p.stderr}{p.stdout}")
    wall = after["total"][0] - before["total"][0]  # summed over all cores
    ncpu = os.cpu_count() or 1
    elapsed = wall / ncpu
    cpu = {
        "server": after["server"] - before["server"],
        "postgres": pg_cpu_delta(before, after),
        "wrk": (after_ru.ru_utime + after_ru.ru_stime) - (before_ru.ru_utime + before_ru.ru_stime),
        "machine_busy": after["total"][1] - before["total"][1],
    }
    # Interrupt handling (the loopback network's softirqs run there, charged to no process), time
    # taken by the hypervisor (steal), and other processes (kernel threads, other people's builds).
    cpu["irq"] = after["total"][3] - before["total"][3]
    cpu["steal"] = after["total"][4] - before["total"][4]
    processes = after["total"][2] - before["total"][2]
    cpu["other"] = max(0.0, processes - cpu["server"] - cpu["postgres"] - cpu["wrk"])
    # As a share of one core (100 % = one core busy for the whole run; the machine has ncpu).
    shares = {k: round(100 * v / elapsed, 1) for k, v in cpu.items()}
    return p.stdout, shares


def wait_idle(a):
    """Waits (up to --idle-wait seconds) until the machine is quiet, so that other work on it
    (builds, tests) does not skew the measurement; returns the busy share seen last."""
    deadline = time.monotonic() + a.idle_wait
    told = False
    while True:
        t0, b0 = total_cpu()[:2]
        time.sleep(1)
        t1, b1 = total_cpu()[:2]
        busy = 100 * (b1 - b0) / max(t1 - t0, 1e-9) * (os.cpu_count() or 1)  # % of one core
        if busy <= a.idle_threshold or time.monotonic() >= deadline:
            if told or busy > a.idle_threshold:
                print(f"{a.scenario:>8}: machine {'quiet' if busy <= a.idle_threshold else 'still busy'} "
                      f"({busy:.0f} % of one core busy)", file=sys.stderr)
            return round(busy, 1)
        if not told:
            print(f"{a.scenario:>8}: waiting up to {a.idle_wait} s for other work on the machine to end "
                  f"({busy:.0f} % of one core busy)", file=sys.stderr)
            told = True


def check_first_path(a):
    """One request of the scenario's first path, with its headers: it must answer
    --expect-status (wrk counts only statuses >= 400 as errors, so a wrong 2xx/3xx would pass)."""
    with open(a.paths) as f:
        path = next(l.strip() for l in f if l.strip())
    headers = dict(h.split(":", 1) for h in a.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    host, port = split_url(a.url)
    t0 = time.monotonic()
    status, data = Client(host, port).request("GET", path, headers=headers)
    elapsed_ms = (time.monotonic() - t0) * 1000
    if status != a.expect_status:
        sys.exit(f"{a.scenario}: GET {path} {headers or ''} answered {status}, not {a.expect_status}: {data[:200]!r}")
    return round(elapsed_ms, 2)


def cmd_wrk(a):
    first_ms = check_first_path(a)
    # On a shared machine (a developer's, CI's) other work may start during a run: such a run is
    # repeated (up to --retries times) and the least disturbed one is kept.
    best = None
    for attempt in range(1 + a.retries):
        idle_before = wait_idle(a)
        if a.warmup and a.warmup != "0" and a.warmup != "0s":
            run_wrk(a, a.warmup)
        out, cpu = run_wrk(a, a.duration)
        if best is None or cpu["other"] < best[1]["other"]:
            best = (out, cpu, idle_before, attempt + 1)
        if cpu["other"] <= OTHER_LIMIT:
            break
        if attempt < a.retries:
            print(f"{a.scenario:>8}: other processes used {cpu['other']} % of a core during the run; running it again",
                  file=sys.stderr)
    out, cpu, idle_before, attempts = best
    line = next((l for l in out.splitlines() if l.startswith("BENCH_RESULT ")), None)
    if line is None:
        sys.exit(f"wrk printed no BENCH_RESULT line:\n{out}")
    r = json.loads(line[len("BENCH_RESULT "):])
    r["scenario"] = a.scenario
    r["cpu_percent_of_one_core"] = cpu
    r["wrk_args"] = f"-t{a.threads} -c{a.connections} -d{a.duration}"
    r["busy_before_percent_of_one_core"] = idle_before
    r["attempts"] = attempts
    r["first_request_ms"] = first_ms
    if a.server_options:
        r["server_options"] = a.server_options
    r["bytes_per_response"] = round(r["bytes"] / max(r["requests"], 1), 1)
    if a.header:
        r["headers"] = a.header
    if a.timeout:
        r["wrk_args"] += f" --timeout={a.timeout}"
    with open(a.out, "w") as f:
        json.dump(r, f, indent=2)
    with open(a.out.replace(".json", ".wrk.txt"), "w") as f:
        f.write(out)
    e = r["errors"]
    bad = r["non2xx"] + e["connect"] + e["read"] + e["write"] + e["timeout"]
    print(f"{a.scenario:>8}: {r['rps']:>9.1f} req/s  p50 {r['p50_ms']:.2f} ms  p90 {r['p90_ms']:.2f} ms  "
          f"p99 {r['p99_ms']:.2f} ms  max {r['max_ms']:.2f} ms  non-2xx {r['non2xx']}  socket errors "
          f"{e['connect'] + e['read'] + e['write'] + e['timeout']}  | CPU (% of one core): server "
          f"{cpu['server']}, postgres {cpu['postgres']}, wrk {cpu['wrk']}, irq {cpu['irq']}, steal {cpu['steal']}, "
          f"other {cpu['other']}, machine {cpu['machine_busy']}",
          file=sys.stderr)
    if a.max_bytes_per_response and r["bytes_per_response"] > a.max_bytes_per_response:
        # E.g. the ETag scenario: 304s are headers only; full documents mean If-None-Match failed.
        print(f"{a.scenario:>8}: {r['bytes_per_response']} bytes per response, more than the "
              f"{a.max_bytes_per_response} expected", file=sys.stderr)
        bad = True
    sys.exit(1 if bad else 0)


# ---------------------------------------------------------------------------------------------
# report

# Issue 11's targets. `lookup` is also compared with `healthz` of the same run (>= 0.8x), in
# the report's text.
TARGETS = {
    "lookup": {"rps": 15000, "p99_ms": 10.0, "text": ">= 15,000 req/s, p99 < 10 ms; >= 0.8x healthz"},
    "list": {"rps": 20000, "p99_ms": 5.0, "text": ">= 20,000 req/s, p99 < 5 ms at any depth"},
    "search": {"rps": 10000, "text": ">= 10,000 req/s"},
}
TITLES = {
    "lookup": "GET /v0.1/servers/{name}/versions/latest (random name)",
    "list": "GET /v0.1/servers?limit=50&version=latest&cursor=… (random depth)",
    "search": "GET /v0.1/servers?search=server-01234 (substring of a random name)",
    "healthz": "GET /healthz",
}


def target_met(name, r, targets=TARGETS):
    t = targets.get(name)
    if not t:
        return None
    ok = True
    if "rps" in t:
        ok = ok and r["rps"] >= t["rps"]
    if "p99_ms" in t:
        ok = ok and r["p99_ms"] < t["p99_ms"]
    return ok


def git(*args):
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, check=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def environment(a):
    """When, what and where: the first keys of every results file."""
    commit = git("rev-parse", "--short=12", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    try:
        pg_version = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:
        pg_version = "unknown"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_version = (wrk_version.stdout + wrk_version.stderr).split(" Copyright")[0].strip() or "wrk"
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return {
        "date": now.isoformat().replace("+00:00", "Z"),
        "git_commit": commit + ("-dirty" if dirty else ""),
        "binary": {
            "path": a.binary,
            "built": datetime.datetime.fromtimestamp(os.path.getmtime(a.binary), datetime.timezone.utc)
            .replace(microsecond=0).isoformat().replace("+00:00", "Z") if a.binary else None,
            "prebuilt": a.prebuilt,
        },
        "machine": {
            "nproc": os.cpu_count(),
            "cpu_model": cpu_model(),
            "memory_gib": round(mem_kb / 1024 / 1024, 1),
            "kernel": os.uname().release,
            "note": "wrk, the server and PostgreSQL share these cores",
        },
        "software": {"postgresql": pg_version, "wrk": wrk_version},
    }


def read_scenarios(a):
    scenarios = []
    for name in a.scenarios.split(","):
        path = os.path.join(a.dir, f"{name}.json")
        if os.path.exists(path):
            with open(path) as f:
                scenarios.append(json.load(f))
    return scenarios


def cmd_report(a):
    if a.suite == "allowlists":
        return cmd_report_allowlists(a)
    with open(a.load) as f:
        load = json.load(f)
    scenarios = read_scenarios(a)
    env = environment(a)
    pg_version, wrk_version = env["software"]["postgresql"], env["software"]["wrk"]
    result = env | {
        "server_options": a.server_options,
        "dataset": {
            "servers": load["servers"],
            "versions_per_server": load["versions_per_server"],
            "server_versions": load["publishes"],
            "avg_document_bytes": load["avg_document_bytes"],
        },
        "load": load,
        "scenarios": {
            s["scenario"]: {k: v for k, v in s.items() if k != "scenario"} | {"target_met": target_met(s["scenario"], s)}
            for s in scenarios
        },
    }
    with open(os.path.join(a.results, "latest.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    m = result["machine"]
    lines = [
        "# mcpreg benchmark: latest run",
        "",
        "Written by `bench/run.sh`; see `bench/README.md` for what is measured and the targets.",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {result['date']} |",
        f"| git commit | `{result['git_commit']}` (`-dirty`: the work tree had changes; the binary is built from the work tree) |",
        f"| binary | built {result['binary']['built']}"
        + (" — **prebuilt** (`BENCH_SKIP_BUILD=1`): it may predate the commit above" if a.prebuilt else " by this run")
        + " |",
        f"| machine | {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Linux {m['kernel']} |",
        f"| software | {pg_version}; {wrk_version} |",
        f"| server | `mcpreg-server serve {a.server_options}` (private PostgreSQL cluster, default settings) |",
        f"| dataset | {load['servers']:,} servers × {load['versions_per_server']} versions = "
        f"{load['publishes']:,} server versions, documents ~{load['avg_document_bytes']} bytes |",
        f"| load | {load['publishes']:,} publishes in {load['seconds']} s = **{load['rps']:,} publishes/s** "
        f"({load['concurrency']} concurrent clients) |",
        f"| wrk | `{scenarios[0]['wrk_args'] if scenarios else ''}` per scenario, after a `{a.warmup}` warm-up; "
        "wrk shares the cores with the server and PostgreSQL |",
        "",
        "| scenario | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | socket errors | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for s in scenarios:
        e = s["errors"]
        met = target_met(s["scenario"], s)
        lines.append(
            f"| {TITLES.get(s['scenario'], s['scenario'])} | {s['rps']:,.0f} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | "
            f"{s['p99_ms']:.2f} | {s['max_ms']:.2f} | {s['non2xx']} | {e['connect'] + e['read'] + e['write'] + e['timeout']} | "
            f"{TARGETS.get(s['scenario'], {}).get('text', '—')} | {'—' if met is None else ('yes' if met else '**no**')} |")
    lines += [
        "",
        "CPU during each measured run, in % of one core (the machine has "
        f"{m['nproc']}, so {100 * m['nproc']} % is everything):",
        "",
        "| scenario | server | PostgreSQL | wrk | interrupts (loopback network) | steal | other processes | whole machine | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scenarios:
        c = s["cpu_percent_of_one_core"]
        lines.append(f"| {s['scenario']} | {c['server']} | {c['postgres']} | {c['wrk']} | {c['irq']} | {c['steal']} | "
                     f"{c['other']} | {c['machine_busy']} | {s.get('attempts', 1)} |")
    lines += ["", "A scenario whose run was disturbed by other processes (over "
              f"{OTHER_LIMIT:.0f} % of a core) is run again, up to 3 runs; `runs` counts them and the least "
              "disturbed is kept."]
    noisy = [s["scenario"] for s in scenarios if s["cpu_percent_of_one_core"]["other"] > OTHER_LIMIT]
    if noisy:
        lines += ["", f"**Warning:** other processes used more than {OTHER_LIMIT:.0f} % of a core during {', '.join(noisy)}: "
                  "those numbers are understated; run again on a quiet machine."]
    rps = {s["scenario"]: s["rps"] for s in scenarios}
    if "lookup" in rps and rps.get("healthz"):
        ratio = rps["lookup"] / rps["healthz"]
        lines += ["", f"Latest lookups ran at **{ratio:.2f}x** `/healthz` of the same process "
                  f"(target >= 0.8x: {'met' if ratio >= 0.8 else '**not met**'})."]
    model = None
    if a.model and os.path.exists(a.model):
        with open(a.model) as f:
            model = json.load(f)
        result["read_model"] = model
        with open(os.path.join(a.results, "latest.json"), "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        per_version = (model["rss_kib_loaded"] - model["rss_kib_empty"]) * 1024 / max(1, model["versions"])
        lines += [
            "",
            "The read model (the server restarted on the loaded data, so it loads the catalog from the database):",
            "",
            "| | |",
            "| --- | --- |",
            f"| versions loaded | {model['versions']:,} |",
            f"| load at start-up (read model, as logged) | **{model['load_ms']:,} ms** (target < 2,000 ms for 30,000) |",
            f"| start to ready (`/readyz` 200, migrations included) | {model['ready_ms']:,} ms |",
            f"| server RSS with an empty catalog | {model['rss_kib_empty'] / 1024:.0f} MiB |",
            f"| server RSS after the load | **{model['rss_kib_loaded'] / 1024:.0f} MiB** (target <= 200 MB) |",
            f"| server RSS after the measurements | {model['rss_kib_end'] / 1024:.0f} MiB |",
            f"| memory per version (RSS loaded − empty) | {per_version / 1024:.1f} KiB |",
        ]
    lines += [
        "",
        "Load (publish) passes:",
        "",
        "| version | publishes | seconds | publishes/s | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in load["passes"]:
        lines.append(f"| {p['version']} | {p['requests']:,} | {p['seconds']} | {p['rps']:,} | {p['p50_ms']} | {p['p99_ms']} |")
    lines.append("")
    with open(os.path.join(a.results, "latest.md"), "w") as f:
        f.write("\n".join(lines))


# The allowlist suite's scenarios; `-cold` runs the same requests against a replica restarted just
# before (its first request is recorded), `-replica` against a second replica while another client
# publishes through the first.
ALLOWLIST_TARGETS = {
    "document-etag": {"rps": 20000, "text": ">= 20,000 req/s (304s)"},
    "document-etag-cold": {"rps": 20000, "text": ">= 20,000 req/s (304s)"},
    "document-etag-replica": {"rps": 20000, "text": ">= 20,000 req/s (304s)"},
}
ALLOWLIST_REPLICAS = {"warm": "warm", "cold": "restarted", "replica": "second, 5 publishes/s"}


def replica_of(name):
    return "cold" if name.endswith("-cold") else "replica" if name.endswith("-replica") else "warm"


def base_of(name):
    return name.removesuffix("-cold").removesuffix("-replica")
ALLOWLIST_TITLES = {
    "document": f"GET /api/v1/allowlists/{ALLOWLIST} (the signed document, 200)",
    "document-etag": f"GET /api/v1/allowlists/{ALLOWLIST} + If-None-Match: current ETag (304)",
    "lookup": f"GET /a/{ALLOWLIST}/v0.1/servers/{{name}}/versions/latest (random name)",
    "list": f"GET /a/{ALLOWLIST}/v0.1/servers?limit=50&version=latest&cursor=… (random depth)",
    "healthz": "GET /healthz",
}


def cmd_report_allowlists(a):
    with open(a.load) as f:
        load = json.load(f)
    info = {}
    if os.path.exists(os.path.join(a.dir, "document.info.json")):
        with open(os.path.join(a.dir, "document.info.json")) as f:
            info = json.load(f)
    scenarios = read_scenarios(a)
    env = environment(a)

    def met(s):
        return target_met(s["scenario"], s, ALLOWLIST_TARGETS)

    result = env | {
        "suite": "allowlists",
        "server_options": a.server_options,
        "dataset": {
            "servers": load["servers"],
            "versions_per_server": load["versions_per_server"],
            "server_versions": load["publishes"],
            "approved_versions": load["approvals"],
            "avg_document_bytes": load["avg_document_bytes"],
            "allowlist": ALLOWLIST,
            "allowlist_document": info,
        },
        "load": load,
        "targets": ALLOWLIST_TARGETS,
        "scenarios": {
            s["scenario"]: {k: v for k, v in s.items() if k != "scenario"} | {"target_met": met(s)}
            for s in scenarios
        },
    }
    with open(os.path.join(a.results, "latest.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    m = result["machine"]
    # The run's work dir is deleted afterwards: show where it was, not its full name.
    short = lambda o: o and o.replace(a.dir.rstrip("/") + "/", "bench/work/run-…/")
    warm = short(next((s.get("server_options") for s in scenarios if replica_of(s["scenario"]) == "warm"), None))
    cold = short(next((s.get("server_options") for s in scenarios if replica_of(s["scenario"]) == "cold"), None))
    second = short(next((s.get("server_options") for s in scenarios if replica_of(s["scenario"]) == "replica"), None))
    publishers = {}
    for s in scenarios:
        path = os.path.join(a.dir, f"{s['scenario']}.publisher.json")
        if os.path.exists(path):
            with open(path) as f:
                publishers[s["scenario"]] = json.load(f)
    lines = [
        "# mcpreg benchmark: allowlist read paths, latest run",
        "",
        "Written by `BENCH_SUITE=allowlists bench/run.sh` (`bench/allowlists.sh`); see `bench/README.md`.",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {result['date']} |",
        f"| git commit | `{result['git_commit']}` (`-dirty`: the work tree had changes; the binary is built from the work tree) |",
        f"| binary | built {result['binary']['built']}"
        + (" — **prebuilt** (`BENCH_SKIP_BUILD=1`): it may predate the commit above" if a.prebuilt else " by this run")
        + " |",
        f"| machine | {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Linux {m['kernel']} |",
        f"| software | {env['software']['postgresql']}; {env['software']['wrk']} |",
    ]
    if warm is not None:
        lines.append(f"| server (warm) | `mcpreg-server serve {warm}` (private PostgreSQL cluster, default settings) |")
    if cold is not None:
        lines.append(f"| server (`-cold`) | `mcpreg-server serve {cold}`, restarted on the same data dir before each `-cold` scenario: "
                     "a replica that has not served the document yet (`first ms`: its first request) |")
    if second is not None:
        pub = "; ".join(f"{p['publishes']} publishes ({p['failed']} failed) in {p['seconds']} s, p50 {p['p50_ms']} ms"
                        for p in publishers.values())
        lines.append(f"| second replica (`-replica`) | `DATABASE_URL=… mcpreg-server serve {second}` on the same cluster, "
                     f"while another client publishes 5 new servers a second (not in the view) through the first: {pub or 'no publisher record'} |")
    lines += [
        f"| dataset | {load['servers']:,} servers × {load['versions_per_server']} versions (1.0.0, 2.0.0) = "
        f"{load['publishes']:,} versions, documents ~{load['avg_document_bytes']} bytes; "
        f"{load['approvals']:,} approved (every 1.0.0, the 2.0.0 of every second server) |",
        f"| allowlist | `{ALLOWLIST}` (anonymous access), policy: allow `com.example.*/*` when approved; "
        + (f"document version {info['version']}, {info['entries']:,} entries, {info['bytes']:,} bytes; {info['signatures']}"
           if info else "document not read")
        + " |",
        f"| load | {load['publishes']:,} publishes + {load['approvals']:,} approvals in {load['seconds']} s "
        f"({load['concurrency']} concurrent clients) |",
        f"| wrk | `{scenarios[0]['wrk_args'] if scenarios else ''}` per scenario, after a `{a.warmup}` warm-up; "
        "wrk shares the cores with the server and PostgreSQL |",
        "",
    ]
    etag = [s for s in scenarios if s["scenario"] in ALLOWLIST_TARGETS]
    if etag:
        lines.append("**Target ≥ 20,000 req/s for 304s:** " + "; ".join(
            f"`{s['scenario']}` {s['rps']:,.0f} req/s — **{'met' if met(s) else 'not met'}**" for s in etag))
        lines.append("")
    lines += [
        "| scenario | request | replica | first ms | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | bytes/response | status ≥ 400 | socket errors | target | met |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for s in scenarios:
        e = s["errors"]
        base = base_of(s["scenario"])
        ok = met(s)
        first = s.get("first_request_ms")
        lines.append(
            f"| `{s['scenario']}` | {ALLOWLIST_TITLES.get(base, base)} | {ALLOWLIST_REPLICAS[replica_of(s['scenario'])]} | "
            f"{'—' if first is None else f'{first:,.1f}'} | "
            f"{s['rps']:,.0f} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | {s['p99_ms']:.2f} | {s['p999_ms']:.2f} | "
            f"{s['max_ms']:.2f} | {s.get('bytes_per_response', 0):,.0f} | {s['non2xx']} | "
            f"{e['connect'] + e['read'] + e['write'] + e['timeout']} | "
            f"{ALLOWLIST_TARGETS.get(s['scenario'], {}).get('text', '—')} | {'—' if ok is None else ('yes' if ok else '**no**')} |")
    lines += [
        "",
        "`status ≥ 400` is wrk's error count (it counts statuses above 399), so the 304s of the ETag scenarios "
        "are successes; before each run its first request is checked to answer 200 (304 for the ETag "
        "scenarios), and the ETag runs fail if responses average more than 1,000 bytes (a 304 is headers only).",
        "",
        "CPU during each measured run, in % of one core (the machine has "
        f"{m['nproc']}, so {100 * m['nproc']} % is everything):",
        "",
        "| scenario | server | PostgreSQL | wrk | interrupts (loopback network) | steal | other processes | whole machine | server CPU µs/request | PostgreSQL CPU µs/request | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scenarios:
        c = s["cpu_percent_of_one_core"]
        # % of one core x duration / requests = CPU time per request.
        per = lambda pct: f"{pct / 100 * s['duration_s'] / max(s['requests'], 1) * 1e6:,.0f}"
        lines.append(f"| `{s['scenario']}` | {c['server']} | {c['postgres']} | {c['wrk']} | {c['irq']} | {c['steal']} | "
                     f"{c['other']} | {c['machine_busy']} | {per(c['server'])} | {per(c['postgres'])} | {s.get('attempts', 1)} |")
    stalls = [s for s in scenarios if s["max_ms"] > max(20 * s["p90_ms"], 100)]
    if stalls:
        lines += ["", "**Stalls:** " + "; ".join(
            f"`{s['scenario']}` max {s['max_ms']:,.0f} ms against p90 {s['p90_ms']:.1f} ms" for s in stalls)
            + ". Answers come from the replica's memory; a stall is the machine (wrk, the server and PostgreSQL "
            "share 2 cores) or the server's allocator, not a database round trip. wrk 4.1 pads its latency histogram for the "
            "requests a stall kept it from sending, so one stall of the whole server shows as a p99/p99.9 of about "
            "its length (see `bench/README.md`)."]
    lines += ["", "A scenario whose run was disturbed by other processes (over "
              f"{OTHER_LIMIT:.0f} % of a core) is run again, up to {1 + a.retries} runs; `runs` counts them and the "
              "least disturbed is kept."]
    noisy = [s["scenario"] for s in scenarios if s["cpu_percent_of_one_core"]["other"] > OTHER_LIMIT]
    if noisy:
        lines += ["", f"**Warning:** other processes used more than {OTHER_LIMIT:.0f} % of a core during {', '.join(noisy)}: "
                  "those numbers are understated; run again on a quiet machine."]
    lines += [
        "",
        "Load passes (through the API):",
        "",
        "| pass | requests | seconds | requests/s | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in load["passes"]:
        lines.append(f"| {p['pass']} | {p['requests']:,} | {p['seconds']} | {p['rps']:,} | {p['p50_ms']} | {p['p99_ms']} |")
    lines.append("")
    with open(os.path.join(a.results, "latest.md"), "w") as f:
        f.write("\n".join(lines))


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("load")
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--servers", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=12)
    p.add_argument("--out", required=True)

    p = sub.add_parser("prepare")
    p.add_argument("--url", required=True)
    p.add_argument("--servers", type=int, default=10000)
    p.add_argument("--samples", type=int, default=5000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dir", required=True)

    p = sub.add_parser("wrk")
    p.add_argument("--scenario", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--paths", required=True)
    p.add_argument("--script", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--duration", default="20s")
    p.add_argument("--warmup", default="3s")
    p.add_argument("--idle-wait", type=int, default=300)
    p.add_argument("--idle-threshold", type=float, default=15.0)
    p.add_argument("--retries", type=int, default=2)
    p.add_argument("--header", action="append", default=[], help="extra request header (wrk -H)")
    p.add_argument("--expect-status", type=int, default=200, help="what the first path must answer before the run")
    p.add_argument("--max-bytes-per-response", type=float, default=0, help="fail above this (0: no check)")
    p.add_argument("--timeout", default="", help="wrk --timeout (default: wrk's 2 s)")
    p.add_argument("--server-options", default="", help="recorded with the result")
    p.add_argument("--server-pid", type=int, required=True)
    p.add_argument("--postmaster-pid", type=int, required=True)
    p.add_argument("--out", required=True)

    p = sub.add_parser("load-allowlists")
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True, help="an admin token (publishes, creates, applies the policy)")
    p.add_argument("--reviewer-token", required=True, help="a reviewer token (approves)")
    p.add_argument("--servers", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=12)
    p.add_argument("--out", required=True)

    p = sub.add_parser("prepare-allowlists")
    p.add_argument("--url", required=True)
    p.add_argument("--servers", type=int, default=2000)
    p.add_argument("--samples", type=int, default=5000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dir", required=True)

    p = sub.add_parser("publish-steady")
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True, help="an admin token")
    p.add_argument("--rate", type=float, default=5.0, help="publishes per second")
    p.add_argument("--out", required=True)

    p = sub.add_parser("report")
    p.add_argument("--suite", default="official", choices=["official", "allowlists"])
    p.add_argument("--load", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--scenarios", default="lookup,list,search,healthz")
    p.add_argument("--results", required=True)
    p.add_argument("--warmup", default="3s")
    p.add_argument("--server-options", default="")
    p.add_argument("--binary", default="")
    p.add_argument("--prebuilt", action="store_true")
    p.add_argument("--retries", type=int, default=2)
    p.add_argument("--model", default="", help="the read model's figures (run.sh writes them)")

    p = sub.add_parser("import-file")
    p.add_argument("--servers", type=int, default=10000)
    p.add_argument("--out", required=True)

    p = sub.add_parser("report-import")
    p.add_argument("--measurements", required=True)
    p.add_argument("--load", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--binary", default="")
    p.add_argument("--prebuilt", action="store_true")

    a = ap.parse_args()
    {"import-file": cmd_import_file, "report-import": cmd_report_import, "load": cmd_load, "prepare": cmd_prepare,
     "wrk": cmd_wrk, "report": cmd_report, "load-allowlists": cmd_load_allowlists,
     "prepare-allowlists": cmd_prepare_allowlists, "publish-steady": cmd_publish_steady}[a.cmd](a)


if __name__ == "__main__":
    main()
