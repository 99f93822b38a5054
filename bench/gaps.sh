#!/usr/bin/env bash
# serviceGaps over HTTP: ~2,000 LSOA-like areas (bench/gen_areas.py) against 100,000
# services (bench/gen_services.py), on SQLite and PostgreSQL. Everything is loaded
# through the CLI (`import hsds`, `import areas`, `import population`) into a fresh
# database; after 2 warm-up requests, 10 timed `serviceGaps` requests (min / median /
# max), one `/gaps.geojson`, and the server's peak RSS. Baseline in the same run: the
# question's core (per area, the nearest matching location from its centroid and the
# matching locations inside it: bounding box, then the polygon) by brute force in
# Python over the same points, for 100 sampled areas, extrapolated to all areas; the
# sampled rows are also checked against the server's.
# Usage: bench/gaps.sh        (env N=100000 AREAS=2000 GAP_TERM=lunch-clubs DATABASES="sqlite postgres")
# REUSE=1 keeps the services of a SQLite gaps database an earlier run imported (or
# bench/search.sh's bench-N.db copied to gaps-N.db), and on PostgreSQL copies
# bench/search.sh's database of N services; areas and population load again.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/signpost-target}"
N="${N:-100000}"
AREAS="${AREAS:-2000}"
TERM_CODE="${GAP_TERM:-lunch-clubs}"
AGE_FROM="${AGE_FROM:-65}"
DATABASES="${DATABASES:-sqlite postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
PORT="${PORT:-18098}"
REQUESTS="${REQUESTS:-10}"

cargo build --release --quiet -p signpost-api --bin signpost
bin="$CARGO_TARGET_DIR/release/signpost"
data="${BENCH_DATA:-/var/tmp/signpost-bench}"
mkdir -p "$data"
services="$data/services-$N.json"
[ -s "$services" ] || python3 bench/gen_services.py "$N" >"$services"
python3 bench/gen_areas.py "$AREAS" "$data"
areas="$data/areas-$AREAS.geojson"
population="$data/population-$AREAS.csv"
url="http://127.0.0.1:$PORT"

python3 - "$TERM_CODE" "$AGE_FROM" >"$data/gaps-body.json" <<'PY'
import json, sys
query = ("query($input: GapInput!) { serviceGaps(input: $input) { area { code population } servicesInArea "
         "availablePlaces placesPer1000 nearestServiceMetres covered searches unmetSearches } }")
print(json.dumps({"query": query, "variables": {"input": {
    "areaType": "lsoa", "taxonomyTerms": [sys.argv[1]], "ageFrom": int(sys.argv[2])}}}))
PY

now() { date +%s%N; }
since() { python3 -c "print(f'{($(now) - $1) / 1e9:.2f}')"; }
# gaps_request <out file>: one serviceGaps request; prints "seconds bytes http_code".
gaps_request() {
  curl -s -o "$1" -w '%{time_total} %{size_download} %{http_code}\n' -H 'content-type: application/json' \
    --data-binary @"$data/gaps-body.json" "$url/graphql"
}
# check_gaps <response>: prints the number of rows, or the errors (exit 1).
check_gaps() {
  python3 - "$1" <<'PY'
import json, sys
try:
    body = json.load(open(sys.argv[1]))
except ValueError as e:
    print(f"not JSON: {e}: {open(sys.argv[1]).read()[:500]}"); sys.exit(1)
if body.get("errors"):
    print("GraphQL errors: " + json.dumps(body["errors"])); sys.exit(1)
rows = (body.get("data") or {}).get("serviceGaps")
if rows is None:
    print("no data: " + json.dumps(body)[:500]); sys.exit(1)
print(len(rows))
PY
}

# The baseline: brute force over the same matching points, for 100 sampled areas.
python3 - "$services" "$areas" "$TERM_CODE" "$AGE_FROM" >"$data/gaps-baseline.json" <<'PY'
import json, math, random, sys, time
services_file, areas_file, term, age_from = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
services = json.load(open(services_file))
areas = json.load(open(areas_file))["features"]

def matches(s):
    # The term or a child of it; an age range admitting someone of age_from or over.
    terms = [a["taxonomy_term"] for a in s.get("attributes", []) if a["link_type"] == "category"]
    if not any(t["code"] == term or (t.get("parent_id") or "").endswith("-" + term) for t in terms):
        return False
    return s.get("status") == "active" and (s.get("maximum_age") is None or s["maximum_age"] >= age_from)

points = [(l["location"]["longitude"], l["location"]["latitude"])
          for s in services if matches(s) for l in s.get("service_at_locations", [])
          if l.get("location", {}).get("latitude") is not None]
del services

def centroid(ring):
    # Area-weighted planar centroid in degrees, as the server's (geo's) Centroid.
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
        cross = x0 * y1 - x1 * y0
        a += cross; cx += (x0 + x1) * cross; cy += (y0 + y1) * cross
    return cx / (3 * a), cy / (3 * a)

def inside(x, y, ring):
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit

R = 6371008.8
def metres(lon1, lat1, lon2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))

sample = random.Random(5).sample(areas, min(100, len(areas)))
rows = {}
start = time.perf_counter()
for f in sample:
    ring = f["geometry"]["coordinates"][0]
    cx, cy = centroid(ring)
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    w, e, s, n = min(xs), max(xs), min(ys), max(ys)
    nearest, count = math.inf, 0
    for x, y in points:
        d = metres(cx, cy, x, y)
        if d < nearest:
            nearest = d
        if w <= x <= e and s <= y <= n and inside(x, y, ring):
            count += 1
    rows[f["properties"]["area_code"]] = [count, round(nearest, 1) if points else None]
per_area = (time.perf_counter() - start) / len(sample)
json.dump({"points": len(points), "areas": len(areas), "sampled": len(sample), "per_area_s": per_area,
           "all_areas_s": per_area * len(areas), "rows": rows}, sys.stdout)
PY
baseline_s=$(python3 -c "import json; print(json.load(open('$data/gaps-baseline.json'))['all_areas_s'])")

echo "| database | import (hsds / areas / population) | start-up | serviceGaps min / median / max | response | areas returned | /gaps.geojson | peak RSS | brute force, all areas | brute force ÷ median |"
echo "|---|---|---|---|---|---|---|---|---|---|"
failed=0
for database in $DATABASES; do
  case "$database" in
    sqlite)
      reuse=0
      if [ "${REUSE:-}" = 1 ] && [ -f "$data/gaps-$N.db" ]; then reuse=1; else rm -f "$data/gaps-$N.db"*; fi
      import_url="sqlite://$data/gaps-$N.db"
      serve_url="$import_url"
      label=SQLite ;;
    postgres)
      reuse=0
      if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        echo "| PostgreSQL | skipped: not reachable at 127.0.0.1:5432 |"
        continue
      fi
      db=signpost_bench_gaps
      PGOPTIONS="-c client_min_messages=warning" psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db"
      # REUSE=1 copies the services bench/search.sh imported into PostgreSQL (a
      # template copy takes seconds where the import takes minutes at 1M).
      searched=signpost_search_bench_$N
      if [ "${REUSE:-}" = 1 ] && psql "$PG_URL" -Atc "SELECT 1 FROM pg_database WHERE datname = '$searched'" | grep -q 1; then
        psql "$PG_URL" -qc "CREATE DATABASE $db TEMPLATE $searched"
        reuse=1
      else
        psql "$PG_URL" -qc "CREATE DATABASE $db"
      fi
      serve_url="${PG_URL%/*}/$db"
      import_url="$serve_url"
      label="PostgreSQL (TCP)"
      # Bulk loads over the Unix socket when there is one: over TCP, sqlx leaves Nagle
      # on and multi-packet import batches stall ~40 ms each (see README, Import).
      if [ -S /var/run/postgresql/.s.PGSQL.5432 ]; then
        import_url="postgres://postgres@localhost/$db?host=/var/run/postgresql"
        label="PostgreSQL (TCP; imported over the socket)"
      fi ;;
    *) echo "unknown database $database"; exit 1 ;;
  esac
  export SIGNPOST_DATABASE_URL="$import_url"
  start=$(now)
  : >"$data/gaps-import.txt"
  if [ "$reuse" = 1 ]; then t_hsds=reused; else
    "$bin" import hsds "$services" --authority bench >"$data/gaps-import.txt" 2>&1 || { cat "$data/gaps-import.txt"; exit 1; }
    t_hsds="$(since "$start")s"
  fi
  start=$(now)
  "$bin" import areas "$areas" --type lsoa >>"$data/gaps-import.txt" 2>&1 || { cat "$data/gaps-import.txt"; exit 1; }
  t_areas=$(since "$start")
  start=$(now)
  "$bin" import population "$population" --type lsoa >>"$data/gaps-import.txt" 2>&1 || { cat "$data/gaps-import.txt"; exit 1; }
  t_population=$(since "$start")
  grep -E "^imported" "$data/gaps-import.txt" | sed "s/^/  [$database] /" >&2

  export SIGNPOST_DATABASE_URL="$serve_url"
  start=$(now)
  "$bin" serve --listen "127.0.0.1:$PORT" >"$data/gaps-serve.txt" 2>&1 &
  pid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$data/gaps-serve.txt"; exit 1; }
    sleep 0.05
  done
  startup=$(since "$start")
  rss_ready=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")

  ok=1
  for i in 1 2; do
    read -r _ _ code < <(gaps_request "$data/gaps-response.json")
    if ! rows=$(check_gaps "$data/gaps-response.json"); then
      echo "[$database] warm-up request $i (HTTP $code): $rows" >&2
      ok=0
      break
    fi
  done
  if [ "$ok" = 1 ]; then
    : >"$data/gaps-times.txt"
    for i in $(seq "$REQUESTS"); do
      gaps_request "$data/gaps-response.json" >>"$data/gaps-times.txt"
      if ! rows=$(check_gaps "$data/gaps-response.json"); then
        echo "[$database] request $i: $rows" >&2
        ok=0
        break
      fi
    done
  fi
  if [ "$ok" = 1 ]; then
    read -r g_s g_bytes g_code < <(curl -s -o "$data/gaps-response.geojson" -w '%{time_total} %{size_download} %{http_code}\n' \
      "$url/gaps.geojson?areaType=lsoa&taxonomyTerms=$TERM_CODE&ageFrom=$AGE_FROM")
    g_features=$(python3 -c "import json; print(len(json.load(open('$data/gaps-response.geojson')).get('features', [])))" 2>/dev/null || echo "?")
    [ "$g_code" = 200 ] || { echo "[$database] /gaps.geojson answered HTTP $g_code: $(head -c 500 "$data/gaps-response.geojson")" >&2; ok=0; }
  fi
  rss=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  if [ "$ok" != 1 ]; then
    echo "| $label | ${t_hsds} / ${t_areas}s / ${t_population}s | ${startup}s | FAILED: see above | | | | | | |"
    failed=1
    continue
  fi
  python3 - "$data/gaps-times.txt" "$data/gaps-response.json" "$data/gaps-baseline.json" <<PY
import json, statistics, sys
times = [float(line.split()[0]) * 1000 for line in open(sys.argv[1])]
sizes = {int(line.split()[1]) for line in open(sys.argv[1])}
codes = {line.split()[2] for line in open(sys.argv[1])}
rows = {r["area"]["code"]: r for r in json.load(open(sys.argv[2]))["data"]["serviceGaps"]}
base = json.load(open(sys.argv[3]))
median = statistics.median(times)
# The sampled areas, against the brute force: counts exactly; distances within 0.6%
# (haversine on a sphere against the server's ellipsoid).
wrong = []
for code, (count, nearest) in base["rows"].items():
    r = rows.get(code)
    if r is None or r["servicesInArea"] != count or (nearest is None) != (r["nearestServiceMetres"] is None) or (
            nearest is not None and abs(r["nearestServiceMetres"] - nearest) > 0.006 * nearest + 1):
        wrong.append((code, [count, nearest], r and [r["servicesInArea"], r["nearestServiceMetres"]]))
for w in wrong[:5]:
    print(f"  [$database] differs from brute force: {w[0]}: brute force {w[1]}, server {w[2]}", file=sys.stderr)
check = f"{base['sampled'] - len(wrong)}/{base['sampled']} sampled rows agree"
covered = sum(r["covered"] for r in rows.values())
print(f"| $label | ${t_hsds} / ${t_areas}s / ${t_population}s | ${startup}s "
      f"| {min(times):.0f} / {median:.0f} / {max(times):.0f} ms (HTTP {','.join(sorted(codes))}) "
      f"| {'/'.join(f'{s / 1024:,.0f}' for s in sorted(sizes))} KiB | {len(rows):,} ({covered:,} covered; {check}) "
      f"| {float('$g_s') * 1000:.0f} ms, {int('$g_bytes') / 1048576:.1f} MiB, $g_features features | $rss MB ($rss_ready MB at ready) "
      f"| {base['all_areas_s']:.1f} s ({base['per_area_s'] * 1000:.1f} ms/area × {base['areas']:,}, {base['points']:,} points) "
      f"| {base['all_areas_s'] * 1000 / median:,.0f}× |")
PY
done
[ "$failed" = 0 ]
