#!/usr/bin/env bash
# The mcpreg read-path benchmark, in one command: build the release server, start it on a free
# port with a fresh private PostgreSQL cluster, publish 10,000 servers x 3 versions through the
# API, restart it (timing the read model's load and its memory), then measure latest lookups,
# list pages at random depths, name searches and /healthz with wrk.
# Results: bench/results/latest.md and bench/results/latest.json. See bench/README.md.
#
# BENCH_SUITE=allowlists (or bench/allowlists.sh) measures the allowlist read paths instead:
# 2,000 servers x 2 versions, approved by a reviewer token, an anonymous allowlist with a policy;
# the signed document (200 and 304 with If-None-Match), latest-allowed lookups and the
# allowlist's list, each on a warm replica and again (`-cold`) on a freshly restarted one (its
# first request, which reads the stored document, is recorded), and the 304s on a second replica
# while another client publishes 5 servers a second through the first (`document-etag-replica`).
# Results: bench/results/allowlists/latest.{md,json}.
#
# Settings (environment):
#   BENCH_SUITE=official        official (the default) or allowlists
#   BENCH_DURATION=20s          wrk duration of each measured scenario
#   BENCH_WARMUP=3s             unmeasured wrk run before each scenario (0 to skip)
#   BENCH_THREADS=1             wrk threads
#   BENCH_CONNECTIONS=32        wrk connections
#   BENCH_SCENARIOS=lookup,list,search,healthz   (allowlists: document,document-etag,lookup,list,healthz,
#                               document-etag-replica and the first four with -cold; before each -cold
#                               scenario the server is restarted)
#   BENCH_SERVERS=10000         servers to publish (each in 3 versions; allowlists: 2000 x 2)
#   BENCH_LOAD_CONCURRENCY=12   concurrent publishers during the load
#   BENCH_SERVER_ARGS=...        extra `serve` flags, e.g. --db-max-connections 8
#   BENCH_RESULTS=DIR             where results go (default bench/results, allowlists: bench/results/allowlists)
#   BENCH_WRK_TIMEOUT=10s       wrk --timeout (default: wrk's 2 s; allowlists: 10s)
#   BENCH_DB_MAX_CONNECTIONS=N  the server's --db-max-connections (default: the server's own default)
#   BENCH_IDLE_WAIT=300         before each scenario, wait up to this many seconds for the
#                               machine to be quiet (other builds skew the numbers)
#   BENCH_RETRIES=2             run a scenario again (keeping the least disturbed run) when other
#                               processes used more than 20 % of a core during it
#   BENCH_SKIP_BUILD=1          use the binary already in target/bench-build
#   BENCH_KEEP=1                keep bench/work/run-* (data dir, logs, wrk output) afterwards
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SUITE=${BENCH_SUITE:-official}
case $SUITE in
  official)
    DEFAULT_SCENARIOS=lookup,list,search,healthz DEFAULT_SERVERS=10000 DEFAULT_RESULTS=$BENCH_DIR/results DEFAULT_TIMEOUT= ;;
  allowlists)
    DEFAULT_SCENARIOS=document,document-etag,lookup,list,healthz,document-etag-replica,document-cold,document-etag-cold,lookup-cold,list-cold
    DEFAULT_SERVERS=2000 DEFAULT_RESULTS=$BENCH_DIR/results/allowlists DEFAULT_TIMEOUT=10s ;;
  *) echo "BENCH_SUITE must be official or allowlists, not $SUITE" >&2; exit 2 ;;
esac
DURATION=${BENCH_DURATION:-20s}
WARMUP=${BENCH_WARMUP:-3s}
THREADS=${BENCH_THREADS:-1}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
SCENARIOS=${BENCH_SCENARIOS:-$DEFAULT_SCENARIOS}
SERVERS=${BENCH_SERVERS:-$DEFAULT_SERVERS}
WRK_TIMEOUT=${BENCH_WRK_TIMEOUT:-$DEFAULT_TIMEOUT}
LOAD_CONCURRENCY=${BENCH_LOAD_CONCURRENCY:-12}
DB_MAX_CONNECTIONS=${BENCH_DB_MAX_CONNECTIONS:-}
TARGET_DIR=$ROOT/target/bench-build
BIN=$TARGET_DIR/release/mcpreg-server
WORK=$BENCH_DIR/work/run-$(date +%Y%m%d-%H%M%S)-$$
DATA=$WORK/data
RESULTS=${BENCH_RESULTS:-$DEFAULT_RESULTS}
PY="python3 $BENCH_DIR/bench.py"
export PYTHONDONTWRITEBYTECODE=1

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

SERVER_PID=
stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    log "stopping the server (SIGTERM to pid $SERVER_PID)"
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 90); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      log "the server did not stop within 90 s; killing it"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n ${PUBLISHER_PID:-} ]] && kill -TERM "$PUBLISHER_PID" 2>/dev/null
  [[ -n ${REPLICA_PID:-} ]] && kill -TERM "$REPLICA_PID" 2>/dev/null && wait "$REPLICA_PID" 2>/dev/null
  stop_server
  # The server stops its private cluster on SIGTERM; if it could not, stop the cluster here.
  if [[ -f $DATA/pg/postmaster.pid ]]; then
    local pg_ctl
    pg_ctl=$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n1)
    pg_ctl=${pg_ctl:-pg_ctl}
    log "stopping the leftover PostgreSQL cluster"
    if [[ $(id -u) == 0 ]]; then
      runuser -u postgres -- "$pg_ctl" -D "$DATA/pg" stop -m fast -w >/dev/null 2>&1 || true
    else
      "$pg_ctl" -D "$DATA/pg" stop -m fast -w >/dev/null 2>&1 || true
    fi
  fi
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  if [[ $rc != 0 ]]; then log "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools -----------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
  fi
fi
command -v python3 >/dev/null || { log "python3 is needed"; exit 1; }

# --- build -----------------------------------------------------------------------------------
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building the release server (target dir $TARGET_DIR)"
  (cd "$ROOT" && nice -n 10 env CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release -p mcpreg-server)
fi
[[ -x $BIN ]] || { log "no binary at $BIN"; exit 1; }

# --- start -----------------------------------------------------------------------------------
mkdir -p "$WORK" "$RESULTS"
SERVER_OPTIONS="--listen 127.0.0.1:0${DB_MAX_CONNECTIONS:+ --db-max-connections $DB_MAX_CONNECTIONS}${BENCH_SERVER_ARGS:+ $BENCH_SERVER_ARGS}"
if [[ $SUITE == allowlists ]]; then
  # Versions are approved without signatures, digests or tool manifests (the gates are the
  # review subsystem's business, not this benchmark's).
  printf '[review]\nrequire_signature = false\nrequire_digests = false\nrequire_tools = false\n' >"$WORK/access.toml"
  SERVER_OPTIONS+=" --config $WORK/access.toml"
fi
SERVER_MODE=
STARTS=0
# start_server MODE: MODE is warm or cold (a restart: the replica has served nothing yet; the
# options are the same). Sets SERVER_PID, URL, POSTMASTER_PID and SERVER_MODE; the data dir (and
# its cluster) is reused.
start_server() {
  local options=$SERVER_OPTIONS
  STARTS=$((STARTS + 1))
  local logfile=$WORK/server.log
  [[ $STARTS -gt 1 ]] && logfile=$WORK/server-$STARTS.log
  log "starting the server ($1) on ${DATA}$([[ $STARTS == 1 ]] && echo ' (fresh)')"
  # Info for the `listening` line only; per-publish and per-request logs stay off.
  env -u DATABASE_URL MCPREG_LOG="warn,mcpreg_server=info,mcpreg_server::catalog=warn" \
    "$BIN" serve $options --data-dir "$DATA" 2>"$logfile" &
  SERVER_PID=$!
  ADDR=
  for _ in $(seq 1 240); do
    ADDR=$(grep -o 'listening address=[0-9.:]*' "$logfile" 2>/dev/null | head -n1 | cut -d= -f2 || true)
    [[ -n $ADDR ]] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "the server exited during start-up:"; cat "$logfile" >&2; SERVER_PID=; exit 1
    fi
    sleep 0.5
  done
  [[ -n $ADDR ]] || { log "the server did not report its address within 120 s"; cat "$logfile" >&2; exit 1; }
  URL=http://$ADDR
  POSTMASTER_PID=$(head -n1 "$DATA/pg/postmaster.pid")
  SERVER_MODE=$1
  CURRENT_OPTIONS=$options
  log "server pid $SERVER_PID at $URL; PostgreSQL postmaster pid $POSTMASTER_PID"
  curl -fsS "$URL/healthz" >/dev/null 2>&1 || python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" "$URL/healthz"
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
# wait_ready: until /readyz answers 200 (the read model has loaded); prints the milliseconds.
wait_ready() {
  python3 - "$URL" <<'PY'
import sys, time, urllib.request
t0 = time.monotonic()
while True:
    try:
        if urllib.request.urlopen(sys.argv[1] + "/readyz").status == 200:
            break
    except Exception:
        pass
    if time.monotonic() - t0 > 300:
        sys.exit("the server never became ready")
    time.sleep(0.01)
print(round((time.monotonic() - t0) * 1000))
PY
}
# start_replica: a second server process on the same cluster (by URL, with the first's signing
# key), as a second replica behind a load balancer would be. Sets REPLICA_PID, REPLICA_URL.
REPLICA_PID= PUBLISHER_PID=
start_replica() {
  local logfile=$WORK/replica.log
  REPLICA_OPTIONS="${SERVER_OPTIONS} --signing-key $DATA/allowlist-signing-key.pem"
  log "starting a second replica on the same cluster"
  env DATABASE_URL="postgres://mcpreg@localhost/mcpreg?host=$DATA/run" \
    MCPREG_LOG="warn,mcpreg_server=info,mcpreg_server::catalog=warn" \
    "$BIN" serve $REPLICA_OPTIONS 2>"$logfile" &
  REPLICA_PID=$!
  local addr=
  for _ in $(seq 1 240); do
    addr=$(grep -o 'listening address=[0-9.:]*' "$logfile" 2>/dev/null | head -n1 | cut -d= -f2 || true)
    [[ -n $addr ]] && break
    kill -0 "$REPLICA_PID" 2>/dev/null || { log "the replica exited during start-up:"; cat "$logfile" >&2; exit 1; }
    sleep 0.5
  done
  [[ -n $addr ]] || { log "the replica did not report its address within 120 s"; exit 1; }
  REPLICA_URL=http://$addr
  log "replica pid $REPLICA_PID at $REPLICA_URL"
}
stop_replica() {
  if [[ -n $REPLICA_PID ]]; then
    kill -TERM "$REPLICA_PID" 2>/dev/null || true
    wait "$REPLICA_PID" 2>/dev/null || true
    REPLICA_PID=
  fi
}
start_server warm
wait_ready >/dev/null
RSS_EMPTY=$(rss_kib)

token() { # token NAME ROLE
  local t
  t=$(env -u DATABASE_URL MCPREG_LOG=warn "$BIN" token create --name "$1" --role "$2" --data-dir "$DATA" 2>>"$WORK/token.log" | tail -n1)
  [[ $t == mcpreg_* ]] || { log "token create printed no token"; cat "$WORK/token.log" >&2; exit 1; }
  printf '%s' "$t"
}
TOKEN=$(token "bench-$$" admin)

# --- load ------------------------------------------------------------------------------------
if [[ $SUITE == allowlists ]]; then
  REVIEWER_TOKEN=$(token "bench-reviewer-$$" reviewer)
  log "loading $SERVERS servers x 2 versions, approving them, creating the allowlist and its policy ($LOAD_CONCURRENCY concurrent)"
  $PY load-allowlists --url "$URL" --token "$TOKEN" --reviewer-token "$REVIEWER_TOKEN" --servers "$SERVERS" \
    --concurrency "$LOAD_CONCURRENCY" --out "$WORK/load.json"
else
  log "loading $SERVERS servers x 3 versions through POST /api/v1/publish ($LOAD_CONCURRENCY concurrent)"
  $PY load --url "$URL" --token "$TOKEN" --servers "$SERVERS" --concurrency "$LOAD_CONCURRENCY" --out "$WORK/load.json"
fi
# Fresh statistics for the planner, as autovacuum would have after a while in production.
psql -q -h "$DATA/run" -U mcpreg mcpreg -c 'vacuum analyze' >/dev/null 2>&1 || log "(vacuum analyze skipped: psql unavailable)"

if [[ $SUITE == official ]]; then
  # Restart on the loaded data: the read model loads the whole catalog before /readyz says ready.
  stop_server
  STARTED_AT=$(date +%s%N)
  start_server warm
  wait_ready >/dev/null
  READY_MS=$(( ($(date +%s%N) - STARTED_AT) / 1000000 ))
  LOADED_LINE=$(grep 'read model loaded' "$WORK/server-$STARTS.log" | tail -n1)
  LOAD_MS=$(sed -n 's/.*millis=\([0-9]*\).*/\1/p' <<<"$LOADED_LINE")
  VERSIONS_LOADED=$(sed -n 's/.*versions=\([0-9]*\).*/\1/p' <<<"$LOADED_LINE")
  RSS_LOADED=$(rss_kib)
  log "read model: $VERSIONS_LOADED versions loaded in $LOAD_MS ms (ready after $READY_MS ms); RSS $((RSS_LOADED / 1024)) MiB (empty: $((RSS_EMPTY / 1024)) MiB)"
fi

log "preparing request paths and verifying them"
if [[ $SUITE == allowlists ]]; then
  $PY prepare-allowlists --url "$URL" --servers "$SERVERS" --dir "$WORK"
else
  $PY prepare --url "$URL" --servers "$SERVERS" --dir "$WORK"
fi

# --- measure ---------------------------------------------------------------------------------
FAILED=0
IFS=, read -ra SCENARIO_LIST <<<"$SCENARIOS"
for s in "${SCENARIO_LIST[@]}"; do
  base=${s%-cold}
  base=${base%-replica}
  mode=warm
  [[ $s == *-cold ]] && mode=cold
  # A cold scenario starts on a replica that has served nothing yet: restart before each.
  if [[ $mode != "$SERVER_MODE" || $mode == cold ]]; then
    stop_server
    start_server "$mode"
  fi
  extra=()
  [[ -n $WRK_TIMEOUT ]] && extra+=(--timeout "$WRK_TIMEOUT")
  if [[ $SUITE == allowlists && $base == document-etag ]]; then
    # If-None-Match with the document's current ETag: 304s, headers only.
    extra+=(--header "$(cat "$WORK/document-etag.header")" --expect-status 304 --max-bytes-per-response 1000)
  fi
  target_url=$URL target_pid=$SERVER_PID target_options=$CURRENT_OPTIONS idle_wait=${BENCH_IDLE_WAIT:-300} retries=${BENCH_RETRIES:-2}
  if [[ $s == *-replica ]]; then
    start_replica
    log "publishing 5 servers a second through the first replica while the second is measured"
    $PY publish-steady --url "$URL" --token "$TOKEN" --rate 5 --out "$WORK/$s.publisher.json" &
    PUBLISHER_PID=$!
    target_url=$REPLICA_URL target_pid=$REPLICA_PID target_options=$REPLICA_OPTIONS
    # The publisher and the first replica keep the machine busy on purpose: no idle wait, one run.
    idle_wait=0 retries=0
  fi
  log "scenario $s: wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up)"
  if ! $PY wrk --scenario "$s" --url "$target_url" --paths "$WORK/$base.paths" --script "$BENCH_DIR/paths.lua" \
      --threads "$THREADS" --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --idle-wait "$idle_wait" --retries "$retries" \
      --server-pid "$target_pid" --postmaster-pid "$POSTMASTER_PID" --server-options "$target_options" "${extra[@]}" --out "$WORK/$s.json"; then
    log "scenario $s FAILED: non-2xx responses or socket errors (see above)"
    FAILED=1
  fi
  if [[ $s == *-replica ]]; then
    kill -TERM "$PUBLISHER_PID" 2>/dev/null || true
    wait "$PUBLISHER_PID" 2>/dev/null || true
    PUBLISHER_PID=
    stop_replica
  fi
done

if [[ $SUITE == allowlists ]]; then
# The plans of the queries behind the allowlist reads, for the record (copies of the server's
# SQL in server/src/db/version_facts.rs, db/allowlists.rs and db/policies.rs: keep them in step),
# and the table access counters. None runs on a read's hot path any more: a replica's read model
# loads the rows, the policy and every version's facts once (then per changed server), and a
# replica reads the stored document only when it holds none or the view changed.
{
  echo "-- EXPLAIN (ANALYZE, BUFFERS) of the allowlist read queries on the benchmark dataset"
  echo "-- last statements of the server's connections:"
  psql -h "$DATA/run" -U mcpreg mcpreg -X -At -c \
    "select distinct regexp_replace(query, '\\s+', ' ', 'g') from pg_stat_activity where application_name = 'mcpreg' and query <> ''"
  psql -h "$DATA/run" -U mcpreg mcpreg -X -v ON_ERROR_STOP=1 <<'SQL'
\echo '-- authorize (every request): the allowlist row'
explain (analyze, buffers, costs off)
  select name, description, access, networks::text[] as networks, created_by, created_at from allowlists where name = 'engineering';
\echo '-- the current policy (every cold lookup and view)'
explain (analyze, buffers, costs off) select version, document from policies order by version desc limit 1;
\echo '-- facts of every version (the view: the document and the list)'
explain (analyze, buffers, costs off)
    select v.server_name, v.version, v.status, v.document,
           coalesce(r.state::text, 'submitted') as stored_state,
           (select count(distinct d.actor) from review_decisions d
             where d.version_id = v.id and d.action = 'approve'
               and (d.expires_at is null or d.expires_at > now())) as approvals,
           coalesce((select json_agg(json_build_object(
                        'identity', s.signer_identity, 'issuer', s.signer_issuer, 'keyId', s.key_id)
                        order by s.id)
                       from version_signatures s where s.version_id = v.id), '[]'::json) as signers,
           (select f.severity::text from scan_findings f
             where f.version_id = v.id and not f.suppressed
             order by f.severity desc limit 1) as highest_severity,
           t.tools_pin, t.context_cost_tokens,
           coalesce((select json_agg(p.digest order by p.package_index)
                       from version_packages p where p.version_id = v.id), '[]'::json) as package_digests
      from server_versions v
      left join version_reviews r on r.version_id = v.id
      left join tool_manifests t on t.version_id = v.id
     where v.status <> 'deleted' order by v.server_name, v.id;
\echo '-- the stored signed document (every document request that is not a cache hit)'
explain (analyze, buffers, costs off)
  select version, content_digest, issued_at, expires_at, signed from allowlist_documents where allowlist = 'engineering';
select allowlist, version, length(signed) as signed_bytes, issued_at, expires_at from allowlist_documents;
\echo '-- table access counters since the cluster was created (the load, then the measurements)'
select relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_live_tup,
       pg_size_pretty(pg_relation_size(relid)) as heap, pg_size_pretty(pg_indexes_size(relid)) as indexes
  from pg_stat_user_tables order by relname;
SQL
} >"$RESULTS/latest-explain.txt" 2>&1 || log "(EXPLAIN failed, see $RESULTS/latest-explain.txt)"
else
# Reads no longer reach PostgreSQL (the read model answers them); for the record, the plan of the
# publish path's per-server query, the change log's size and the table access counters.
{
  echo "-- the read path sends no SQL: reads are answered from each replica's read model"
  psql -h "$DATA/run" -U mcpreg mcpreg -X -v ON_ERROR_STOP=1 <<'SQL'
\echo '-- the publish path: every version of one server (catalog::publish, versions::facts)'
explain (analyze, buffers, costs off)
  select id, version, published_at, status, is_latest from server_versions
  where server_id = (select id from servers where name = 'com.example.team042/server-05042');
\echo '-- the change log the replicas follow'
select count(*) as changes, min(revision), max(revision) from catalog_changes;
\echo '-- table access counters since the cluster was created (the load, then the measurements)'
select relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_live_tup,
       pg_size_pretty(pg_relation_size(relid)) as heap, pg_size_pretty(pg_indexes_size(relid)) as indexes
  from pg_stat_user_tables order by relname;
SQL
} >"$RESULTS/latest-explain.txt" 2>&1 || log "(EXPLAIN failed, see $RESULTS/latest-explain.txt)"
fi

if [[ $SUITE == official ]]; then
  printf '{"versions": %s, "load_ms": %s, "ready_ms": %s, "rss_kib_empty": %s, "rss_kib_loaded": %s, "rss_kib_end": %s}\n' \
    "${VERSIONS_LOADED:-0}" "${LOAD_MS:-0}" "${READY_MS:-0}" "$RSS_EMPTY" "$RSS_LOADED" "$(rss_kib)" >"$WORK/model.json"
fi
$PY report --model "$WORK/model.json" --suite "$SUITE" --retries "${BENCH_RETRIES:-2}" --load "$WORK/load.json" --dir "$WORK" --scenarios "$SCENARIOS" --results "$RESULTS" \
  --warmup "$WARMUP" --server-options "$SERVER_OPTIONS" --binary "$BIN" \
  $([[ ${BENCH_SKIP_BUILD:-0} == 1 ]] && echo --prebuilt)
log "results: $RESULTS/latest.md, $RESULTS/latest.json"
cat "$RESULTS/latest.md"
exit "$FAILED"
