#!/usr/bin/env bash
# Import throughput: services/s (`import hsds`) and postcodes/s (`import postcodes`) on
# SQLite and PostgreSQL. Baseline in the same run: each database's own bulk loader
# (sqlite3 .import, psql \copy) taking the same postcode CSV into a bare table, and an
# unchanged re-import of the same services (parsing and checking only).
# BASELINE=<git ref> also builds that commit and imports the same services with it,
# so a change's import speed is compared with before in one run.
# Usage: bench/import.sh            (N services, P postcodes; env N=, P=, PG_URL=, BASELINE=,
#                                   SERVICES=<file> N=<its records>, PG_SOCKET=0 skips the socket)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/signpost-target}"
N="${N:-10000}"
P="${P:-200000}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"

work="$(mktemp -d)"
trap 'git worktree remove --force "$work/baseline-src" 2>/dev/null || true; rm -rf "$work"' EXIT
baseline_bin=""
if [ -n "${BASELINE:-}" ]; then
  # In a target dir of its own: the two checkouts' builds share cargo's fingerprints,
  # so in one dir the current build was taken as fresh and the baseline measured twice.
  git worktree add --quiet --detach "$work/baseline-src" "$BASELINE"
  (cd "$work/baseline-src" && CARGO_TARGET_DIR="$CARGO_TARGET_DIR-baseline" cargo build --release --quiet -p signpost-api)
  cp "$CARGO_TARGET_DIR-baseline/release/signpost" "$work/signpost-baseline"
  baseline_bin="$work/signpost-baseline"
fi
cargo build --release --quiet -p signpost-api
bin="$CARGO_TARGET_DIR/release/signpost"
# SERVICES=<file> imports that file instead (e.g. gen_services.py's realistic records;
# N must then be its number of records, for the rates).
if [ -n "${SERVICES:-}" ]; then
  ln -s "$(realpath "$SERVICES")" "$work/services.json"
else
  python3 bench/gen_hsds.py "$N" >"$work/services.json"
fi
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
  local before=""
  if [ -n "$baseline_bin" ]; then
    # The baseline's own import, into a fresh database of the same kind.
    local base_url="$url"
    case "$url" in
      sqlite://*) base_url="sqlite://$work/baseline.db" ;;
      *) psql "$PG_URL" -qc "CREATE DATABASE ${db}_base" && base_url="${url/$db/${db}_base}" ;;
    esac
    SIGNPOST_DATABASE_URL="$base_url" "$baseline_bin" migrate >/dev/null 2>&1
    local s0
    s0=$(SIGNPOST_DATABASE_URL="$base_url" seconds "$baseline_bin" import hsds "$work/services.json" --authority bench)
    before=" | $BASELINE: ${s0}s, $(rate "$N" "$s0")/s (this build $(ratio "$s0" "$s1")× its speed)"
    case "$url" in sqlite://*) ;; *) psql "$PG_URL" -qc "DROP DATABASE ${db}_base" ;; esac
  fi
  echo "| $label | $N services in ${s1}s: $(rate "$N" "$s1")/s | no-op re-import ${s2}s (first import $(ratio "$s1" "$s2")× its time) | $P rows in ${p1}s: $(rate "$P" "$p1")/s | raw bulk load ${b}s (ours $(ratio "$p1" "$b")× its time)$before |"
}

if [ -n "$baseline_bin" ]; then
  echo "| database | import hsds | baseline: re-import | import postcodes | baseline: database's own loader | baseline: import hsds at $BASELINE |"
  echo "|---|---|---|---|---|---|"
else
  echo "| database | import hsds | baseline: re-import | import postcodes | baseline: database's own loader |"
  echo "|---|---|---|---|---|"
fi
db=""
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
  if [ -S /var/run/postgresql/.s.PGSQL.5432 ] && [ "${PG_SOCKET:-1}" = 1 ]; then
    psql "$PG_URL" -qc "CREATE DATABASE $db"
    sock="postgres://postgres@localhost/$db?host=/var/run/postgresql"
    psql "$sock" -qc "CREATE TABLE raw (pcd text, pcd2 text, pcds text, dointr text, doterm text, oslaua text, osward text, lat float8, long float8, lsoa21 text, msoa21 text)"
    run "PostgreSQL (socket)" "$sock" psql "$sock" -qc "\\copy raw FROM '$work/onspd.csv' WITH (FORMAT csv, HEADER true)"
    psql "$PG_URL" -qc "DROP DATABASE $db"
  fi
else
  echo "PostgreSQL not reachable: skipped"
fi
