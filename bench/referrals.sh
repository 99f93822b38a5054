#!/usr/bin/env bash
# Referral round trips per second over loopback at 8 connections (a figure to watch,
# no target): createReferral by a link-worker team, then OPENED and ACCEPTED by the
# group, against a release server on N generated services, per database. Baseline in
# the same run: three updateCapacity writes per round (as many write requests).
# Usage: N=1000 SECONDS_EACH=20 CONNECTIONS=8 DATABASES="sqlite postgres" bench/referrals.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/signpost-target}"
N="${N:-1000}"
SECONDS_EACH="${SECONDS_EACH:-20}"
CONNECTIONS="${CONNECTIONS:-8}"
DATABASES="${DATABASES:-sqlite postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
PORT="${PORT:-18097}"
# The limiter stays in the path, with room for the load generator's one address.
export SIGNPOST_RATE_LIMIT="${SIGNPOST_RATE_LIMIT:-100000}"
export SIGNPOST_RATE_BURST="${SIGNPOST_RATE_BURST:-100000}"
SIGNPOST_DATA_KEY="$(head -c 32 /dev/urandom | base64)"
export SIGNPOST_DATA_KEY

cargo build --release --quiet -p signpost-api --bin signpost --example referral_load
bin="$CARGO_TARGET_DIR/release/signpost"
load="$CARGO_TARGET_DIR/release/examples/referral_load"
data="${BENCH_DATA:-/var/tmp/signpost-bench}"
mkdir -p "$data"
[ -f "$data/services-$N.json" ] || python3 bench/gen_services.py "$N" >"$data/services-$N.json"

for database in $DATABASES; do
  url=$(fresh_database "$database" "signpost_referrals_$N") || { echo "$database: skipped, not reachable"; continue; }
  export SIGNPOST_DATABASE_URL="$url"
  "$bin" import hsds "$data/services-$N.json" --authority bench >/dev/null 2>&1
  group=$("$bin" key create --authority bench --role editor 2>/dev/null)
  "$bin" authority create bench-link-workers --name "Bench link workers" >/dev/null 2>&1
  team=$("$bin" key create --authority bench-link-workers --role referrer 2>/dev/null)
  serve_ready "$PORT" "$data/referrals-serve.txt"
  echo "### $database: $N services"
  "$load" "http://127.0.0.1:$PORT" "$team" "$group" "$N" "$CONNECTIONS" "$SECONDS_EACH"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo
done
