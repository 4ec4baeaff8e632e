#!/usr/bin/env bash
# The mcpreg bulk-write benchmark, in one command: build the release server and CLI, then
#   1. on a fresh private PostgreSQL cluster, `mcpreg import` 10,000 servers x 3 versions (30,000
#      documents, ~1.1 KB each, the read benchmark's dataset) and report versions/s; then
#      `mcpreg audit verify` the chain the import left;
#   2. on another fresh cluster, publish the same 30,000 versions through single
#      `POST /api/v1/publish` calls from 12 concurrent clients (bench.py load) and report
#      publishes/s.
# Results: bench/results/import.md and bench/results/import.json. See bench/README.md.
#
# Settings (environment):
#   BENCH_SERVERS=10000         servers (each in 3 versions)
#   BENCH_LOAD_CONCURRENCY=12   concurrent single publishers in step 2
#   BENCH_SKIP_BUILD=1          use the binaries already in target/bench-build
#   BENCH_KEEP=1                keep bench/work/import-* (data dirs, logs) afterwards
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SERVERS=${BENCH_SERVERS:-10000}
LOAD_CONCURRENCY=${BENCH_LOAD_CONCURRENCY:-12}
TARGET_DIR=$ROOT/target/bench-build
BIN=$TARGET_DIR/release/mcpreg-server
CLI=$TARGET_DIR/release/mcpreg
WORK=$BENCH_DIR/work/import-$(date +%Y%m%d-%H%M%S)-$$
RESULTS=$BENCH_DIR/results
PY="python3 $BENCH_DIR/bench.py"
export PYTHONDONTWRITEBYTECODE=1

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

SERVER_PID= DATA=
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
  # The server stops its private cluster on SIGTERM; if it could not, stop the cluster here.
  if [[ -n $DATA && -f $DATA/pg/postmaster.pid ]]; then
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
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  if [[ $rc != 0 ]]; then log "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v python3 >/dev/null || { log "python3 is needed"; exit 1; }
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building the release server and CLI (target dir $TARGET_DIR)"
  (cd "$ROOT" && nice -n 10 env CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release -p mcpreg-server -p mcpreg-cli)
fi
[[ -x $BIN && -x $CLI ]] || { log "no binaries in $TARGET_DIR/release"; exit 1; }
mkdir -p "$WORK" "$RESULTS"

# start_server NAME: a fresh data dir and cluster; sets SERVER_PID, URL, DATA, TOKEN.
start_server() {
  DATA=$WORK/$1
  local logfile=$WORK/$1.log
  log "starting the server on a fresh $DATA"
  env -u DATABASE_URL MCPREG_LOG="warn,mcpreg_server=info,mcpreg_server::catalog=warn" \
    "$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" 2>"$logfile" &
  SERVER_PID=$!
  local addr=
  for _ in $(seq 1 240); do
    addr=$(grep -o 'listening address=[0-9.:]*' "$logfile" 2>/dev/null | head -n1 | cut -d= -f2 || true)
    [[ -n $addr ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { log "the server exited during start-up:"; cat "$logfile" >&2; SERVER_PID=; exit 1; }
    sleep 0.5
  done
  [[ -n $addr ]] || { log "the server did not report its address within 120 s"; exit 1; }
  URL=http://$addr
  TOKEN=$(env -u DATABASE_URL MCPREG_LOG=warn "$BIN" token create --name "bench-$$" --role admin --data-dir "$DATA" 2>>"$WORK/token.log" | tail -n1)
  [[ $TOKEN == mcpreg_* ]] || { log "token create printed no token"; cat "$WORK/token.log" >&2; exit 1; }
  log "server pid $SERVER_PID at $URL"
}

now() { date +%s.%N; }

# --- 1. import -------------------------------------------------------------------------------
$PY import-file --servers "$SERVERS" --out "$WORK/import.json"
start_server import
log "mcpreg import of $((SERVERS * 3)) documents"
t0=$(now)
set +e
MCPREG_URL=$URL MCPREG_TOKEN=$TOKEN "$CLI" --output json import "$WORK/import.json" >"$WORK/import-report.json" 2>"$WORK/import.err"
import_exit=$?
set -e
t1=$(now)
tail -n1 "$WORK/import.err" >&2
[[ $import_exit == 0 ]] || { log "mcpreg import exited $import_exit"; tail -n 20 "$WORK/import.err" >&2; exit 1; }
log "mcpreg audit verify"
v0=$(now)
set +e
MCPREG_URL=$URL MCPREG_TOKEN=$TOKEN "$CLI" audit verify >"$WORK/verify.out" 2>&1
verify_exit=$?
set -e
v1=$(now)
cat "$WORK/verify.out" >&2
stop_server
python3 - "$WORK" "$SERVERS" "$t0" "$t1" "$import_exit" "$v0" "$v1" "$verify_exit" <<'EOF'
import json, sys
work, servers, t0, t1, ie, v0, v1, ve = sys.argv[1:]
with open(f"{work}/import-report.json") as f:
    report = json.load(f)
with open(f"{work}/verify.out") as f:
    summary = f.read().strip().splitlines()[-1]
json.dump({
    "import": {"servers": int(servers), "seconds": round(float(t1) - float(t0), 2), "exit": int(ie),
               "accepted": report["accepted"], "unchanged": report["unchanged"], "rejected": report["rejected"]},
    "verify": {"seconds": round(float(v1) - float(v0), 2), "exit": int(ve), "summary": summary},
}, open(f"{work}/measurements.json", "w"), indent=2)
EOF
[[ $verify_exit == 0 ]] || { log "mcpreg audit verify exited $verify_exit"; exit 1; }

# --- 2. concurrent single publishes ----------------------------------------------------------
start_server publish
log "publishing $SERVERS servers x 3 versions through POST /api/v1/publish ($LOAD_CONCURRENCY concurrent)"
$PY load --url "$URL" --token "$TOKEN" --servers "$SERVERS" --concurrency "$LOAD_CONCURRENCY" --out "$WORK/load.json"
stop_server

$PY report-import --measurements "$WORK/measurements.json" --load "$WORK/load.json" --results "$RESULTS" \
  --binary "$BIN" $([[ ${BENCH_SKIP_BUILD:-0} == 1 ]] && echo --prebuilt)
