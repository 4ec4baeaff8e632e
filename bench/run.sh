#!/usr/bin/env bash
# The mcpreg read-path benchmark, in one command: build the release server, start it on a free
# port with a fresh private PostgreSQL cluster, publish 10,000 servers x 3 versions through the
# API, then measure latest lookups, list pages at random depths and /healthz with wrk.
# Results: bench/results/latest.md and bench/results/latest.json. See bench/README.md.
#
# Settings (environment):
#   BENCH_DURATION=20s          wrk duration of each measured scenario
#   BENCH_WARMUP=3s             unmeasured wrk run before each scenario (0 to skip)
#   BENCH_THREADS=1             wrk threads
#   BENCH_CONNECTIONS=32        wrk connections
#   BENCH_SCENARIOS=lookup,list,healthz
#   BENCH_SERVERS=10000         servers to publish (each in 3 versions)
#   BENCH_LOAD_CONCURRENCY=12   concurrent publishers during the load
#   BENCH_SERVER_ARGS=...        extra `serve` flags, e.g. --no-read-cache to measure the database path
#   BENCH_RESULTS=DIR             where results go (default bench/results)
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
DURATION=${BENCH_DURATION:-20s}
WARMUP=${BENCH_WARMUP:-3s}
THREADS=${BENCH_THREADS:-1}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
SCENARIOS=${BENCH_SCENARIOS:-lookup,list,healthz}
SERVERS=${BENCH_SERVERS:-10000}
LOAD_CONCURRENCY=${BENCH_LOAD_CONCURRENCY:-12}
DB_MAX_CONNECTIONS=${BENCH_DB_MAX_CONNECTIONS:-}
TARGET_DIR=$ROOT/target/bench-build
BIN=$TARGET_DIR/release/mcpreg-server
WORK=$BENCH_DIR/work/run-$(date +%Y%m%d-%H%M%S)-$$
DATA=$WORK/data
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results}
PY="python3 $BENCH_DIR/bench.py"
export PYTHONDONTWRITEBYTECODE=1

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

SERVER_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
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
log "starting the server on a fresh data dir $DATA"
# Info for the `listening` line only; per-publish and per-request logs stay off.
env -u DATABASE_URL MCPREG_LOG="warn,mcpreg_server=info,mcpreg_server::catalog=warn" \
  "$BIN" serve $SERVER_OPTIONS --data-dir "$DATA" 2>"$WORK/server.log" &
SERVER_PID=$!
ADDR=
for _ in $(seq 1 240); do
  ADDR=$(grep -o 'listening address=[0-9.:]*' "$WORK/server.log" 2>/dev/null | head -n1 | cut -d= -f2 || true)
  [[ -n $ADDR ]] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "the server exited during start-up:"; cat "$WORK/server.log" >&2; SERVER_PID=; exit 1
  fi
  sleep 0.5
done
[[ -n $ADDR ]] || { log "the server did not report its address within 120 s"; cat "$WORK/server.log" >&2; exit 1; }
URL=http://$ADDR
POSTMASTER_PID=$(head -n1 "$DATA/pg/postmaster.pid")
log "server pid $SERVER_PID at $URL; PostgreSQL postmaster pid $POSTMASTER_PID"
curl -fsS "$URL/healthz" >/dev/null 2>&1 || python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" "$URL/healthz"

TOKEN=$(env -u DATABASE_URL MCPREG_LOG=warn "$BIN" token create --name "bench-$$" --role admin --data-dir "$DATA" 2>"$WORK/token.log" | tail -n1)
[[ $TOKEN == mcpreg_* ]] || { log "token create printed no token"; exit 1; }

# --- load ------------------------------------------------------------------------------------
log "loading $SERVERS servers x 3 versions through POST /api/v1/publish ($LOAD_CONCURRENCY concurrent)"
$PY load --url "$URL" --token "$TOKEN" --servers "$SERVERS" --concurrency "$LOAD_CONCURRENCY" --out "$WORK/load.json"
# Fresh statistics for the planner, as autovacuum would have after a while in production.
psql -q -h "$DATA/run" -U mcpreg mcpreg -c 'vacuum analyze' >/dev/null 2>&1 || log "(vacuum analyze skipped: psql unavailable)"

log "preparing request paths and verifying cursors"
$PY prepare --url "$URL" --servers "$SERVERS" --dir "$WORK"

# --- measure ---------------------------------------------------------------------------------
FAILED=0
IFS=, read -ra SCENARIO_LIST <<<"$SCENARIOS"
for s in "${SCENARIO_LIST[@]}"; do
  log "scenario $s: wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up)"
  if ! $PY wrk --scenario "$s" --url "$URL" --paths "$WORK/$s.paths" --script "$BENCH_DIR/paths.lua" \
      --threads "$THREADS" --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --idle-wait "${BENCH_IDLE_WAIT:-300}" --retries "${BENCH_RETRIES:-2}" \
      --server-pid "$SERVER_PID" --postmaster-pid "$POSTMASTER_PID" --out "$WORK/$s.json"; then
    log "scenario $s FAILED: non-2xx responses or socket errors (see above)"
    FAILED=1
  fi
done

# The plans of the two read queries, for the record: as the server sends them (sqlx prepares
# each statement once per connection; the list query, built with sea-query, binds every value,
# `is_latest` and the limit included), with PostgreSQL's choice of custom or generic plan
# (it may switch to a generic plan after 5 executions) and with each forced.
{
  echo "-- EXPLAIN (ANALYZE, BUFFERS) of the read queries on the benchmark dataset"
  echo "-- last statements of the server's connections:"
  psql -h "$DATA/run" -U mcpreg mcpreg -X -At -c \
    "select distinct regexp_replace(query, '\\s+', ' ', 'g') from pg_stat_activity where application_name = 'mcpreg' and query <> ''"
  psql -h "$DATA/run" -U mcpreg mcpreg -X -v ON_ERROR_STOP=1 <<'SQL'
prepare latest(text) as
  select server_name, version, document, status, status_message, is_latest, published_at, updated_at
  from server_versions where server_name = $1 and is_latest;
explain (analyze, buffers, costs off) execute latest('com.example.team042/server-05042');
prepare page(bool, text, text, text, bigint) as
  SELECT "server_name", "version", "document", "status", "status_message", "is_latest", "published_at", "updated_at"
  FROM "server_versions" WHERE "is_latest" = $1 AND "status" <> $2 AND ("server_name", "version") > ($3, $4)
  ORDER BY "server_name" ASC, "version" ASC LIMIT $5;
\echo '-- list page, shallow and deep, plan_cache_mode = force_custom_plan'
set plan_cache_mode = force_custom_plan;
explain (analyze, buffers, costs off) execute page(true, 'deleted', 'com.example.team000/server-00100', '2.0.0', 51);
explain (analyze, buffers, costs off) execute page(true, 'deleted', 'com.example.team099/server-09899', '2.0.0', 51);
\echo '-- list page, shallow and deep, plan_cache_mode = force_generic_plan (what a cached statement may get)'
set plan_cache_mode = force_generic_plan;
explain (analyze, buffers, costs off) execute page(true, 'deleted', 'com.example.team000/server-00100', '2.0.0', 51);
explain (analyze, buffers, costs off) execute page(true, 'deleted', 'com.example.team099/server-09899', '2.0.0', 51);
\echo '-- the publish path: every version of one server (catalog::publish, versions::facts)'
set plan_cache_mode = auto;
explain (analyze, buffers, costs off)
  select id, version, published_at, status, is_latest from server_versions
  where server_id = (select id from servers where name = 'com.example.team042/server-05042');
\echo '-- table access counters since the cluster was created (the load, then the measurements)'
select relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_live_tup,
       pg_size_pretty(pg_relation_size(relid)) as heap, pg_size_pretty(pg_indexes_size(relid)) as indexes
  from pg_stat_user_tables order by relname;
SQL
} >"$RESULTS/latest-explain.txt" 2>&1 || log "(EXPLAIN failed, see $RESULTS/latest-explain.txt)"

$PY report --load "$WORK/load.json" --dir "$WORK" --scenarios "$SCENARIOS" --results "$RESULTS" \
  --warmup "$WARMUP" --server-options "$SERVER_OPTIONS" --binary "$BIN" \
  $([[ ${BENCH_SKIP_BUILD:-0} == 1 ]] && echo --prebuilt)
log "results: $RESULTS/latest.md, $RESULTS/latest.json"
cat "$RESULTS/latest.md"
exit "$FAILED"
