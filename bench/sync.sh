#!/usr/bin/env bash
# Feeds and duplicates (`signpost sync oruk`), per database:
#  1. pull N services (gen_services.py) from a local publisher (another Signpost's
#     /openreferral, SQLite): services/s; baseline in the same run, `import hsds` of
#     the same file into an empty database of the same kind (the importer without
#     HTTP, paging and namespacing); then the same pull again (nothing changed: every
#     record comes back under modified_after's margin and is found unchanged);
#  2. duplicates: a database holding E services of an authority (E=100000) pulls a
#     feed of D new services (D=1000: a fifth of them copies of existing ones, renamed
#     and moved a few metres; the rest new groups), and the matching step is timed on
#     its own: comparing the D with their neighbours and storing the candidates
#     (target: well under a second), beside the time to read the search index.
# Usage: bench/sync.sh   (env N=10000 E=100000 D=1000 DATABASES="sqlite postgres" PG_URL=)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/signpost-target}"
N="${N:-10000}"
E="${E:-100000}"
D="${D:-1000}"
DATABASES="${DATABASES:-sqlite postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
data="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$data"' EXIT
source bench/lib.sh

cargo build --release --quiet -p signpost-api
bin="$CARGO_TARGET_DIR/release/signpost"
python3 bench/gen_services.py "$N" >"$data/feed.json" 2>/dev/null
python3 bench/gen_services.py "$E" >"$data/existing.json" 2>/dev/null
python3 - "$data/existing.json" "$D" >"$data/new.json" <<'PY'
import json, random, sys
existing = json.load(open(sys.argv[1]))
d = int(sys.argv[2])
rng = random.Random(7)
words = ["Oak", "Heron", "Meadow", "Bridge", "Lantern", "Kestrel", "Willow", "Harbour",
         "Orchard", "Compass", "Beacon", "Thistle", "Rowan", "Skylark", "Millstone"]
out = []
for i, record in enumerate(rng.sample(existing, d)):
    record = json.loads(json.dumps(record).replace(record["id"], f"feed-{i:05d}"))
    record["organization"]["id"] = f"feed-org-{i:05d}"
    loc = record["service_at_locations"][0]["location"]
    if i % 5 == 0:
        # A copy of an existing group: renamed a little, moved a few metres.
        record["name"] = "The " + record["name"]
        loc["latitude"] = round(loc["latitude"] + 0.00005, 6)
    else:
        # A new group somewhere near: another name, a few hundred metres off.
        record["name"] = f"{rng.choice(words)} {rng.choice(words)} group {i}"
        loc["latitude"] = round(loc["latitude"] + rng.uniform(-0.004, 0.004), 6)
        loc["longitude"] = round(loc["longitude"] + rng.uniform(-0.006, 0.006), 6)
    out.append(record)
json.dump(out, sys.stdout)
PY

seconds_of() { python3 -c "print(f'{($2 - $1) / 1e9:.2f}')"; }
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }

# A publisher of a file, on SQLite: prints its base URL.
publish() {
  local name=$1 file=$2 port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  SIGNPOST_DATABASE_URL="sqlite://$data/$name.db" "$bin" import hsds "$file" --authority partner >"$data/$name-import.log"
  serve_ready "$port" "$data/$name.log" --database-url "sqlite://$data/$name.db" --index-snapshot off --rate-limit 0
  pids+=("$pid")
  echo "http://127.0.0.1:$port/openreferral"
}

feed_url=$(publish publisher "$data/feed.json")
new_url=$(publish newfeed "$data/new.json")

echo "| database | pull $N services (sync oruk) | baseline: import hsds of the file | pull again, nothing changed | $D new against $E: matching | reading the index | candidates |"
echo "|---|---|---|---|---|---|---|"
for kind in $DATABASES; do
  url=$(fresh_database "$kind" "signpost_sync_$$") || { echo "| $kind | skipped: not reachable | | | | | |"; continue; }
  base=$(fresh_database "$kind" "signpost_sync_base_$$")
  export SIGNPOST_DATABASE_URL="$url"
  "$bin" migrate >/dev/null
  t0=$(date +%s%N)
  "$bin" sync oruk "$feed_url" --authority council >"$data/pull1.log"
  t1=$(date +%s%N)
  "$bin" sync oruk "$feed_url" --authority council >"$data/pull2.log"
  t2=$(date +%s%N)
  SIGNPOST_DATABASE_URL="$base" "$bin" import hsds "$data/feed.json" --authority council >"$data/base.log"
  t3=$(date +%s%N)
  grep -q "$N services landed ($N written" "$data/pull1.log" || { cat "$data/pull1.log"; exit 1; }
  grep -q "$N services landed (0 written, $N unchanged" "$data/pull2.log" || { cat "$data/pull2.log"; exit 1; }
  pull=$(seconds_of "$t0" "$t1") again=$(seconds_of "$t1" "$t2") file=$(seconds_of "$t2" "$t3")

  # Duplicates: E services of the county, then the feed of D.
  dup=$(fresh_database "$kind" "signpost_sync_dup_$$")
  SIGNPOST_DATABASE_URL="$dup" "$bin" import hsds "$data/existing.json" --authority county >/dev/null
  SIGNPOST_DATABASE_URL="$dup" "$bin" sync oruk "$new_url" --authority council >"$data/dup.log"
  matched=$(grep -o 'matched in [0-9.]*s' "$data/dup.log" | grep -o '[0-9.]*') || { cat "$data/dup.log"; exit 1; }
  index=$(grep -o 'search index in [0-9.]*s' "$data/dup.log" | grep -o '[0-9.]*')
  found=$(grep -o '^[0-9]* duplicate candidate' "$data/dup.log" | grep -o '^[0-9]*')
  # Recall: the planted copies (every fifth) that are in a candidate.
  planted_sql="SELECT COUNT(DISTINCT s.source_id) FROM duplicate_candidate c JOIN service s
    ON s.id IN (c.first_service_id, c.second_service_id)
    WHERE s.source_id LIKE 'feed-%' AND CAST(SUBSTR(s.source_id, 6) AS INTEGER) % 5 = 0"
  case "$dup" in
    sqlite://*) planted=$(sqlite3 "${dup#sqlite://}" "$planted_sql") ;;
    *) planted=$(psql "$dup" -tAc "$planted_sql") ;;
  esac
  echo "| $kind | ${pull}s: $(rate "$N" "$pull")/s | ${file}s: $(rate "$N" "$file")/s (the pull $(python3 -c "print(f'{$pull / $file:.2f}')")× its time) | ${again}s | ${matched}s | ${index}s | $found, with $planted of the $((D / 5)) planted copies |"
  if [ "$kind" = postgres ]; then
    for name in signpost_sync_$$ signpost_sync_base_$$ signpost_sync_dup_$$; do psql "$PG_URL" -qc "DROP DATABASE $name"; done
  fi
done
