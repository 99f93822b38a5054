#!/usr/bin/env bash
# Soak: 10 minutes of mixed read (search) and write (updateCapacity) load over
# loopback at a fixed rate against a release server on N generated services, per
# database. Reports per minute: requests, p50/p99, non-2xx, 5xx, GraphQL errors and
# the server's RSS; then p99 and RSS drift against the first minute (the baseline).
# Usage: MINUTES=10 READS=200 WRITES=20 N=10000 DATABASES="sqlite postgres" bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/signpost-target}"
N="${N:-10000}"
MINUTES="${MINUTES:-10}"
READS="${READS:-200}"
WRITES="${WRITES:-20}"
DATABASES="${DATABASES:-sqlite postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
PORT="${PORT:-18098}"
# The limiter stays in the path, with room for the load generator's one address.
export SIGNPOST_RATE_LIMIT="${SIGNPOST_RATE_LIMIT:-2000}"
export SIGNPOST_RATE_BURST="${SIGNPOST_RATE_BURST:-2000}"

cargo build --release --quiet -p signpost-api --bin signpost --example soak
bin="$CARGO_TARGET_DIR/release/signpost"
soak="$CARGO_TARGET_DIR/release/examples/soak"
data="${BENCH_DATA:-/var/tmp/signpost-bench}"
mkdir -p "$data"
python3 bench/gen_queries.py "$data"
[ -f "$data/services-$N.json" ] || python3 bench/gen_services.py "$N" >"$data/services-$N.json"

for database in $DATABASES; do
  url=$(fresh_database "$database" "signpost_soak_$N") || { echo "$database: skipped, not reachable"; continue; }
  export SIGNPOST_DATABASE_URL="$url"
  "$bin" import hsds "$data/services-$N.json" --authority bench >/dev/null 2>&1
  key=$("$bin" key create --authority bench --role editor)
  serve_ready "$PORT" "$data/soak-serve.txt"
  echo "### $database: $N services, $READS reads/s + $WRITES writes/s for $MINUTES min"
  "$soak" "http://127.0.0.1:$PORT" "$pid" "$key" "$data/bodies.jsonl" "$N" "$MINUTES" "$READS" "$WRITES"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo
done
