#!/usr/bin/env bash
# How long a replica takes to load its read model, and the memory it holds, for a large catalog:
# BENCH_SERVERS servers (default 100,000) x 3 versions, written straight into the database with
# SQL (documents shaped like bench/run.sh's, ~1.1 KB), then the server restarted on it.
# Results: bench/results/startup.md. See bench/README.md.
#
#   BENCH_SERVERS=100000   servers (each in 3 versions)
#   BENCH_SKIP_BUILD=1     use the binary already in target/bench-build
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SERVERS=${BENCH_SERVERS:-100000}
BIN=$ROOT/target/bench-build/release/mcpreg-server
WORK=$BENCH_DIR/work/startup-$(date +%Y%m%d-%H%M%S)-$$
DATA=$WORK/data
RESULTS=$BENCH_DIR/results
log() { printf '%s startup: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building the release server"
  (cd "$ROOT" && nice -n 10 env CARGO_TARGET_DIR="$ROOT/target/bench-build" cargo build --release -p mcpreg-server)
fi
mkdir -p "$WORK" "$RESULTS"
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [[ ${BENCH_KEEP:-0} == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT

STARTS=0
start() { # sets SERVER_PID, URL and READY_MS (start to /readyz 200); never in $(…): the server would
  # hold the substitution's pipe open
  STARTS=$((STARTS + 1))
  local logfile=$WORK/server-$STARTS.log t0
  t0=$(date +%s%N)
  env -u DATABASE_URL MCPREG_LOG="warn,mcpreg_server::read_model=info,mcpreg_server=info" \
    "$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" 2>"$logfile" &
  SERVER_PID=$!
  local addr=
  for _ in $(seq 1 600); do
    addr=$(grep -o 'listening address=[0-9.:]*' "$logfile" 2>/dev/null | head -n1 | cut -d= -f2 || true)
    [[ -n $addr ]] && break
    sleep 0.1
  done
  [[ -n $addr ]] || { cat "$logfile" >&2; exit 1; }
  URL=http://$addr
  until curl -fsS "$URL/readyz" >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited:" >&2; cat "$logfile" >&2; exit 1; }
    sleep 0.01
  done
  READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
stop() {
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }

log "starting on a fresh data dir (migrations)"
start
RSS_EMPTY=$(rss_kib)
log "writing $SERVERS servers x 3 versions with SQL"
t0=$(date +%s)
psql -q -h "$DATA/run" -U mcpreg mcpreg -X -v ON_ERROR_STOP=1 -v servers="$SERVERS" <<'SQL'
insert into namespaces (name, created_by)
  select format('com.example.team%s', lpad(t::text, 3, '0')), 'bench' from generate_series(0, 99) t;
insert into servers (name, namespace)
  select format('com.example.team%s/server-%s', lpad((i % 100)::text, 3, '0'), lpad(i::text, 6, '0')),
         format('com.example.team%s', lpad((i % 100)::text, 3, '0'))
    from generate_series(0, :servers - 1) i;
insert into server_versions (server_id, server_name, version, document, schema_url, published_by,
                             is_latest, published_at, updated_at, status_changed_at)
  select s.id, s.name, v.version,
         json_build_object(
           '$schema', 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
           'name', s.name, 'title', 'Server ' || s.id, 'version', v.version,
           'description', 'A benchmark server that does many useful things for its users; ' || repeat('text ', 20),
           'websiteUrl', 'https://example.com/' || s.id,
           'repository', json_build_object('url', 'https://github.com/example/server-' || s.id, 'source', 'github'),
           'packages', json_build_array(json_build_object(
               'registryType', 'npm', 'identifier', '@example/server-' || s.id, 'version', v.version,
               'transport', json_build_object('type', 'stdio'),
               'packageArguments', json_build_array(json_build_object('type', 'positional', 'value', '--stdio')),
               'environmentVariables', json_build_array(
                   json_build_object('name', 'API_KEY', 'description', 'The key', 'isSecret', true),
                   json_build_object('name', 'REGION', 'description', 'Where', 'default', 'eu')))))::text,
         'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json', 'bench',
         v.version = '2.0.0', now(), now(), now()
    from servers s cross join (values ('1.0.0'), ('1.1.0'), ('2.0.0')) v (version);
vacuum analyze;
SQL
WRITE_S=$(( $(date +%s) - t0 ))
VERSIONS=$(psql -h "$DATA/run" -U mcpreg mcpreg -X -At -c 'select count(*) from server_versions')
DOC_BYTES=$(psql -h "$DATA/run" -U mcpreg mcpreg -X -At -c 'select round(avg(length(document))) from server_versions')
log "$VERSIONS versions written in $WRITE_S s; restarting"
stop
start
LINE=$(grep 'read model loaded' "$WORK/server-$STARTS.log" | tail -n1)
LOAD_MS=$(sed -n 's/.*millis=\([0-9]*\).*/\1/p' <<<"$LINE")
RSS_LOADED=$(rss_kib)
# One page and one search, to be sure the model answers from what it loaded.
curl -fsS "$URL/v0.1/servers?limit=1&version=latest&cursor=com.example.team050/server-050050:2.0.0" | grep -q 'server-050150' \
  || log "warning: the page after server-050050 is not server-050150"
curl -fsS "$URL/v0.1/servers?search=server-012345" >/dev/null
RSS_SEARCH=$(rss_kib)
log "loaded $VERSIONS versions in $LOAD_MS ms (ready in $READY_MS ms); RSS $((RSS_LOADED / 1024)) MiB"
per_version=$(( (RSS_LOADED - RSS_EMPTY) * 1024 / VERSIONS ))
{
  echo "# Read model start-up: $SERVERS servers x 3 versions"
  echo
  echo "Written by \`bench/startup.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ), commit \`$(git -C "$ROOT" rev-parse --short=12 HEAD)$(git -C "$ROOT" diff --quiet || echo -dirty)\`,"
  echo "$(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo) GiB. The data is written with SQL (documents ~$DOC_BYTES bytes, shaped like"
  echo "\`bench/run.sh\`'s), then the server is restarted on it: the read model loads every version"
  echo "from the database before \`/readyz\` answers 200."
  echo
  echo "| | |"
  echo "| --- | --- |"
  echo "| versions | $VERSIONS |"
  echo "| read model load (as logged) | **$LOAD_MS ms** |"
  echo "| process start to \`/readyz\` 200 | $READY_MS ms |"
  echo "| server RSS, empty catalog | $((RSS_EMPTY / 1024)) MiB |"
  echo "| server RSS, loaded | **$((RSS_LOADED / 1024)) MiB** |"
  echo "| server RSS after the first search (builds the name index) | $((RSS_SEARCH / 1024)) MiB |"
  echo "| memory per version (loaded − empty) | $per_version bytes |"
} >"$RESULTS/startup.md"
cat "$RESULTS/startup.md"
