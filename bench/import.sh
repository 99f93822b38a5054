#!/usr/bin/env bash
# Import throughput: services/s (`import hsds`) and postcodes/s (`import postcodes`) on
# SQLite and PostgreSQL. Baseline in the same run: each database's own bulk loader
# (sqlite3 .import, psql \copy) taking the same postcode CSV into a bare table, and an
# unchanged re-import of the same services (parsing and checking only).
# Usage: bench/import.sh            (N services, P postcodes; env N=, P=, PG_URL=)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/signpost-target}"
N="${N:-10000}"
P="${P:-200000}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"

cargo build --release --quiet -p signpost-api
bin="$CARGO_TARGET_DIR/release/signpost"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 bench/gen_hsds.py "$N" >"$work/services.json"
python3 bench/gen_onspd.py "$P" >"$work/onspd.csv"

# seconds <command...>: run quietly, print wall seconds.
seconds() {
  local start end
  start=$(date +%s%N)
  "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log"; return 1; }
  end=$(date +%s%N)
  python3 -c "print(f'{($end - $start) / 1e9:.2f}')"
}
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

run() { # run <label> <database url> <baseline command...>
  local label="$1" url="$2"
  shift 2
  export SIGNPOST_DATABASE_URL="$url"
  "$bin" migrate >/dev/null 2>&1
  local s1 s2 p1 b
  s1=$(seconds "$bin" import hsds "$work/services.json" --authority bench)
  s2=$(seconds "$bin" import hsds "$work/services.json" --authority bench)
  p1=$(seconds "$bin" import postcodes "$work/onspd.csv")
  b=$(seconds "$@")
  echo "| $label | $N services in ${s1}s: $(rate "$N" "$s1")/s | no-op re-import ${s2}s (first import $(ratio "$s1" "$s2")× its time) | $P rows in ${p1}s: $(rate "$P" "$p1")/s | raw bulk load ${b}s (ours $(ratio "$p1" "$b")× its time) |"
}

echo "| database | import hsds | baseline: re-import | import postcodes | baseline: database's own loader |"
echo "|---|---|---|---|---|"
run SQLite "sqlite://$work/bench.db" sqlite3 "$work/raw.db" ".mode csv" ".import $work/onspd.csv raw"

if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  db="signpost_bench_$$"
  psql "$PG_URL" -qc "CREATE DATABASE $db"
  pg="${PG_URL%/*}/$db"
  psql "$pg" -qc "CREATE TABLE raw (pcd text, pcd2 text, pcds text, dointr text, doterm text, oslaua text, osward text, lat float8, long float8, lsoa21 text, msoa21 text)"
  run "PostgreSQL (TCP)" "$pg" psql "$pg" -qc "\\copy raw FROM '$work/onspd.csv' WITH (FORMAT csv, HEADER true)"
  psql "$PG_URL" -qc "DROP DATABASE $db"
  # The same over the Unix socket: sqlx 0.9 leaves Nagle's algorithm on for TCP, which
  # stalls multi-packet statements (large import batches) ~40 ms each on loopback.
  if [ -S /var/run/postgresql/.s.PGSQL.5432 ]; then
    psql "$PG_URL" -qc "CREATE DATABASE $db"
    sock="postgres://postgres@localhost/$db?host=/var/run/postgresql"
    psql "$sock" -qc "CREATE TABLE raw (pcd text, pcd2 text, pcds text, dointr text, doterm text, oslaua text, osward text, lat float8, long float8, lsoa21 text, msoa21 text)"
    run "PostgreSQL (socket)" "$sock" psql "$sock" -qc "\\copy raw FROM '$work/onspd.csv' WITH (FORMAT csv, HEADER true)"
    psql "$PG_URL" -qc "DROP DATABASE $db"
  fi
else
  echo "PostgreSQL not reachable: skipped"
fi
