#!/usr/bin/env bash
# Search throughput over HTTP with wrk at 1, 8 and 32 connections, on SQLite and
# PostgreSQL, for each size in SIZES; in the same run, the same queries answered by a
# bare in-memory rstar lookup over the same rows (the floor), and the ceiling: the
# ceiling document (10 km, a category, an age, open capacity, nearest 20) at 8
# connections against Signpost and against the same HTTP + GraphQL stack over one
# bare R*-tree (api/examples/search_ceiling.rs), with CPU per request for both. Services are generated
# (bench/gen_services.py) and loaded through `signpost import hsds`.
# Usage: SIZES="10000 100000" bench/search.sh     (needs wrk: apt-get install wrk)
# REUSE=1 keeps a SQLite database an earlier run imported (1M takes minutes to import).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/signpost-target}"
SIZES="${SIZES:-10000 100000}"
DATABASES="${DATABASES:-sqlite postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
DURATION="${DURATION:-10s}"
PORT="${PORT:-18099}"
# One load generator on loopback is one client: the per-client rate limit is off here.
export SIGNPOST_RATE_LIMIT=0
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }

cargo build --release --quiet -p signpost-api --bin signpost --example rstar_floor --example search_ceiling
bin="$CARGO_TARGET_DIR/release/signpost"
floor="$CARGO_TARGET_DIR/release/examples/rstar_floor"
ceiling="$CARGO_TARGET_DIR/release/examples/search_ceiling"
ceiling_rows=()
data="${BENCH_DATA:-/var/tmp/signpost-bench}"
mkdir -p "$data"
python3 bench/gen_queries.py "$data"

wrk_run() { # connections -> "req/s p50 p99"
  local c="$1" threads=2
  [ "$c" -lt 2 ] && threads=1
  BODIES="$data/bodies.jsonl" wrk -t"$threads" -c"$c" -d"$DURATION" --latency -s bench/search.lua "http://127.0.0.1:$PORT" >"$data/wrk.txt"
  python3 - "$data/wrk.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def ms(p):
    m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:,.0f} req/s, p50 {ms(50):.2f} ms, p99 {ms(99):.2f} ms" + (f", {errors.group(1)} non-2xx" if errors else ""))
PY
}

# wrk_cpu <pid> <bodies>: 8 connections over the bodies; prints "req/s p50 p99 µs" with
# the server's CPU time per request (user + system from /proc, steadier than req/s).
wrk_cpu() {
  local pid=$1 before after
  before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  BODIES="$2" wrk -t2 -c8 -d"$DURATION" --latency -s bench/search.lua "http://127.0.0.1:$PORT" >"$data/wrk.txt"
  after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  python3 - "$data/wrk.txt" "$((after - before))" "$(getconf CLK_TCK)" <<'PY'
import re, sys
text, ticks, hz = open(sys.argv[1]).read(), int(sys.argv[2]), int(sys.argv[3])
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
n = int(re.search(r"(\d+) requests in", text).group(1))
def ms(p):
    m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
print(f"{rps:.0f} {ms(50):.2f} {ms(99):.2f} {ticks / hz / n * 1e6:.0f}")
PY
}

# Seconds from `serve` until /healthz answers. Meanwhile the process's anonymous
# memory is sampled into $data/anon-peak.txt (MB): VmHWM also counts the database
# pages SQLite maps, so it is not the process's own peak.
start_server() {
  local start kb peak=0
  start=$(date +%s%N)
  "$bin" serve --listen "127.0.0.1:$PORT" >>"$data/serve.txt" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do
    kb=$(awk '/RssAnon/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$peak" ] && peak=$kb
    sleep 0.02
  done
  echo $((peak / 1024)) >"$data/anon-peak.txt"
  python3 -c "print(f'{($(date +%s%N) - $start) / 1e9:.2f}')"
}

# The process's peak resident memory so far, and its anonymous peak while starting.
peak_mb() {
  awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status"
  echo ", anonymous $(cat "$data/anon-peak.txt") MB"
}

# Start-up is measured twice: after the import (every listing read from the database;
# the index snapshot is then saved), and on a restart (restored from the snapshot).
echo "| services | database | import | start-up | restarts (five) | 1 conn | 8 conns | 32 conns | peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in $SIZES; do
  [ -f "$data/services-$n.json" ] || python3 bench/gen_services.py "$n" >"$data/services-$n.json"
  for database in $DATABASES; do
    case "$database" in
      sqlite)
        url="sqlite://$data/bench-$n.db"
        if [ "${REUSE:-}" = 1 ] && [ -f "$data/bench-$n.db" ]; then reuse=1; else
          reuse=0
          rm -f "$data/bench-$n.db"*
        fi ;;
      postgres)
        pg_isready -q -h 127.0.0.1 -p 5432 || { echo "| $n | PostgreSQL | skipped: not reachable |"; continue; }
        db="signpost_search_bench_$n"
        psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db" && psql "$PG_URL" -qc "CREATE DATABASE $db"
        url="${PG_URL%/*}/$db"
        reuse=0 ;;
    esac
    # Bulk loads on the database host go over its Unix socket when there is one
    # (bench/README.md: over TCP the driver waits out delayed ACKs); searches use TCP.
    import_url="$url"
    if [ "$database" = postgres ] && [ -S /var/run/postgresql/.s.PGSQL.5432 ]; then
      import_url="$url?host=/var/run/postgresql"
    fi
    export SIGNPOST_DATABASE_URL="$url"
    export SIGNPOST_INDEX_SNAPSHOT="$data/bench-$n-$database.search-index"
    rm -f "$SIGNPOST_INDEX_SNAPSHOT"
    start=$(date +%s%N)
    if [ "$reuse" = 1 ]; then import_s="reused"; else
      SIGNPOST_DATABASE_URL="$import_url" "$bin" import hsds "$data/services-$n.json" --authority bench >"$data/import.txt" 2>&1
      import_s=$(python3 -c "print(f'{($(date +%s%N) - $start) / 1e9:.0f} s')")
    fi
    : >"$data/serve.txt"
    start_server >"$data/startup.txt"
    # The first start's peak: every listing read from the database and indexed.
    startup="$(cat "$data/startup.txt")s (peak $(peak_mb "$pid"))"
    kill -TERM "$pid" # saves the snapshot on the way out
    wait "$pid" 2>/dev/null || true
    # Five restarts in a row from the snapshot; the last one stays up for the runs.
    restart=""
    for i in 1 2 3 4 5; do
      if [ "$i" -gt 1 ]; then
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null || true
      fi
      start_server >"$data/startup.txt"
      restart="$restart${restart:+ / }$(cat "$data/startup.txt")s"
    done
    BODIES="$data/bodies.jsonl" wrk -t1 -c4 -d3s -s bench/search.lua "http://127.0.0.1:$PORT" >/dev/null
    r1=$(wrk_run 1)
    r8=$(wrk_run 8)
    r32=$(wrk_run 32)
    read -r c_rps c_p50 c_p99 c_cpu < <(wrk_cpu "$pid" "$data/ceiling.jsonl")
    ceiling_rows+=("$n $database $c_rps $c_p50 $c_p99 $c_cpu")
    # Peak RSS counts the database file's pages SQLite maps (per connection, shared
    # with the page cache); the anonymous part is the process's own memory.
    rss=$(awk '/VmHWM/ { hwm = $2 } /RssAnon/ { anon = $2 }
      END { printf "%.0f MB (anonymous %.0f MB)", hwm / 1024, anon / 1024 }' "/proc/$pid/status")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "| $n | $database | $import_s | ${startup} | ${restart} | $r1 | $r8 | $r32 | $rss |"
  done
  echo "| $n | floor | | | | $("$floor" "$data/services-$n.json" "$data/queries.json") | | | |"
  # The ceiling: the same HTTP + GraphQL stack over one bare R*-tree, same document.
  "$ceiling" "$data/services-$n.json" "127.0.0.1:$PORT" >"$data/ceiling.txt" 2>&1 &
  pid=$!
  until grep -q ready "$data/ceiling.txt" 2>/dev/null; do sleep 0.2; done
  BODIES="$data/ceiling.jsonl" wrk -t1 -c4 -d3s -s bench/search.lua "http://127.0.0.1:$PORT" >/dev/null
  read -r c_rps c_p50 c_p99 c_cpu < <(wrk_cpu "$pid" "$data/ceiling.jsonl")
  ceiling_rows+=("$n ceiling $c_rps $c_p50 $c_p99 $c_cpu")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done

# Signpost against the ceiling, 8 connections, 10 km, category, age, open capacity.
echo
echo "| services | server | req/s | p50 ms | p99 ms | CPU µs/request | ÷ ceiling (req/s) | ÷ ceiling (CPU) |"
echo "|---|---|---|---|---|---|---|---|"
for row in "${ceiling_rows[@]}"; do
  read -r n server rps p50 p99 cpu <<<"$row"
  top=$(printf '%s\n' "${ceiling_rows[@]}" | awk -v n="$n" '$1 == n && $2 == "ceiling" { print $3, $6 }')
  python3 -c "
rps, cpu = $rps, $cpu
top_rps, top_cpu = map(float, '$top'.split())
print(f'| $n | $server | {rps:,.0f} | $p50 | $p99 | {cpu:.0f} | {rps / top_rps:.2f}× | {top_cpu / cpu:.2f}× |')"
done
