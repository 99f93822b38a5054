#!/usr/bin/env bash
# Writes to a PostgreSQL on another host: `createService` (a listing of realistic size,
# its statements longer than one Ethernet segment) and `updateCapacity`, p50/p99 and
# stalls of 40 ms or more, at CONNECTIONS in a closed loop. The database is a
# PostgreSQL of the bench's own in a network namespace behind a veth pair with MTU
# 1500 (`remote_postgres` in lib.sh; needs root). Baselines in the same run: the same
# writes to the machine's PostgreSQL over loopback, and with BASELINE=<git ref> that
# commit's build against the same remote database.
# Usage: N=1000 SECONDS_EACH=20 CONNECTIONS=4 [BASELINE=<ref>] bench/network.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/signpost-target}"
N="${N:-1000}"
SECONDS_EACH="${SECONDS_EACH:-20}"
CONNECTIONS="${CONNECTIONS:-4}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
PORT="${PORT:-18098}"
export SIGNPOST_RATE_LIMIT="${SIGNPOST_RATE_LIMIT:-100000}"
export SIGNPOST_RATE_BURST="${SIGNPOST_RATE_BURST:-100000}"

data="${BENCH_DATA:-/var/tmp/signpost-bench}"
remote="$data/remote-postgres"
mkdir -p "$data"
work="$(mktemp -d)"
trap 'stop_remote_postgres "$remote"; git worktree remove --force "$work/baseline-src" 2>/dev/null || true; rm -rf "$work"' EXIT
baseline_bin=""
if [ -n "${BASELINE:-}" ]; then
  # In a target dir of its own: the two checkouts' builds share cargo's fingerprints,
  # so in one dir the current build was taken as fresh and the baseline measured twice.
  git worktree add --quiet --detach "$work/baseline-src" "$BASELINE"
  (cd "$work/baseline-src" && CARGO_TARGET_DIR="$CARGO_TARGET_DIR-baseline" cargo build --release --quiet -p signpost-api --bin signpost)
  cp "$CARGO_TARGET_DIR-baseline/release/signpost" "$work/signpost-baseline"
  baseline_bin="$work/signpost-baseline"
fi
cargo build --release --quiet -p signpost-api --bin signpost --example write_load
this_bin="$CARGO_TARGET_DIR/release/signpost"
load="$CARGO_TARGET_DIR/release/examples/write_load"
[ -f "$data/services-$N.json" ] || python3 bench/gen_services.py "$N" >"$data/services-$N.json"

# writes <label> <binary> <database url>: import, then the writes against a server.
writes() {
  local label=$1 url=$3 start end key
  bin=$2
  export SIGNPOST_DATABASE_URL="$url"
  start=$(date +%s%N)
  "$bin" import hsds "$data/services-$N.json" --authority bench >"$work/import.log" 2>&1
  end=$(date +%s%N)
  key=$("$bin" key create --authority bench --role editor 2>/dev/null)
  serve_ready "$PORT" "$work/serve.log"
  echo "### $label"
  python3 -c "print(f'import hsds: $N services in {($end - $start) / 1e9:.2f} s, {$N / (($end - $start) / 1e9):,.0f} services/s')"
  "$load" "http://127.0.0.1:$PORT" "$key" "$N" "$CONNECTIONS" "$SECONDS_EACH"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo
}

remote_url=$(remote_postgres "$remote")
fresh_remote() {
  psql "$remote_url" -qc "DROP DATABASE IF EXISTS signpost_net" && psql "$remote_url" -qc "CREATE DATABASE signpost_net"
  echo "${remote_url%/*}/signpost_net"
}
writes "PostgreSQL on another host (veth, MTU 1500), this build" "$this_bin" "$(fresh_remote)"
if [ -n "$baseline_bin" ]; then
  writes "PostgreSQL on another host (veth, MTU 1500), $BASELINE" "$baseline_bin" "$(fresh_remote)"
fi
if url=$(fresh_database postgres signpost_net_loopback); then
  writes "PostgreSQL over loopback (MTU 65536), this build" "$this_bin" "$url"
fi
