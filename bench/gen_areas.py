#!/usr/bin/env python3
"""Write about N synthetic LSOA-like areas (deterministic) tiling a box around each
benchmark town (bench/towns.py, where gen_services.py clusters its services), for the
gaps benchmark:

  OUTDIR/areas-N.geojson      FeatureCollection of Polygons, properties area_code, area_name
  OUTDIR/population-N.csv     ONS mid-year layout, Persons rows, single years 0..89 and 90+

Each town's box (3 standard deviations of gen_services.py's scatter) is cut into a grid,
finer for bigger towns, so areas hold similar numbers of people as LSOAs do. Interior
grid corners are jittered, so areas are square-ish quadrilaterals that still tile the
box. Where towns' boxes overlap (Manchester, Sale, Stretford, Altrincham), cells of a
smaller town that would overlap a bigger town's box are dropped: no two areas overlap.

Usage: gen_areas.py [N] [OUTDIR]     (N=2000, OUTDIR=/var/tmp/signpost-bench)
"""
import json
import math
import os
import random
import sys

from towns import TOWNS

# gen_services.py scatters a town's services with these standard deviations (degrees).
SD_LAT, SD_LON = 0.03, 0.045
HALF_LAT, HALF_LON = 3 * SD_LAT, 3 * SD_LON
JITTER = 0.2  # of a cell's side, for interior corners

# People per single year of age, relative (a broad England shape): 0..89, then 90+.
SHAPE = ([1.10] * 16 + [1.15] * 4 + [1.30] * 10 + [1.35] * 20 + [1.30] * 15
         + [1.05] * 10 + [0.70] * 10 + [0.32] * 5 + [0.90])
assert len(SHAPE) == 91


def boxes():
    """(town, south, west, north, east), biggest towns first."""
    ordered = sorted(TOWNS, key=lambda t: -t[3])
    return [(t, t[1] - HALF_LAT, t[2] - HALF_LON, t[1] + HALF_LAT, t[2] + HALF_LON) for t in ordered]


def overlaps(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def layout(scale):
    """Per town: (town, box, rows, cols, kept cells as a set of (row, col))."""
    out = []
    taken = []
    total_weight = sum(t[3] for t in TOWNS)
    for town, s, w, n, e in boxes():
        wanted = max(1.0, scale * town[3] / total_weight)
        # Square-ish cells: the box is ~20 km north-south by ~18 km east-west at 53°N.
        aspect = (HALF_LON * 2 * math.cos(math.radians(town[1]))) / (HALF_LAT * 2)
        rows = max(1, round(math.sqrt(wanted / aspect)))
        cols = max(1, round(wanted / rows))
        dlat, dlon = (n - s) / rows, (e - w) / cols
        kept = set()
        for r in range(rows):
            for c in range(cols):
                cell = (s + r * dlat, w + c * dlon, s + (r + 1) * dlat, w + (c + 1) * dlon)
                if not any(overlaps(cell, box) for box in taken):
                    kept.add((r, c))
        out.append((town, (s, w, n, e), rows, cols, kept))
        taken.append((s, w, n, e))
    return out


def count(plan):
    return sum(len(kept) for *_, kept in plan)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    outdir = sys.argv[2] if len(sys.argv) > 2 else "/var/tmp/signpost-bench"
    os.makedirs(outdir, exist_ok=True)

    # Scale the grids until the kept cells come to about N (overlaps drop some).
    scale, best = float(n), None
    for _ in range(8):
        plan = layout(scale)
        if best is None or abs(count(plan) - n) < abs(count(best) - n):
            best = plan
        scale *= n / max(1, count(plan))
    plan = best

    rng = random.Random(2027)
    features = []
    population = []
    serial = 0
    for town, (s, w, north, east), rows, cols, kept in plan:
        dlat, dlon = (north - s) / rows, (east - w) / cols

        def movable(r, c):
            # An interior corner whose four cells are all kept.
            return (0 < r < rows and 0 < c < cols
                    and all(cell in kept for cell in [(r - 1, c - 1), (r - 1, c), (r, c - 1), (r, c)]))

        corner = {}
        for r in range(rows + 1):
            for c in range(cols + 1):
                lat, lon = s + r * dlat, w + c * dlon
                if movable(r, c):
                    lat += rng.uniform(-JITTER, JITTER) * dlat
                    lon += rng.uniform(-JITTER, JITTER) * dlon
                corner[r, c] = [round(lon, 6), round(lat, 6)]
        k = 0
        for r in range(rows):
            for c in range(cols):
                if (r, c) not in kept:
                    continue
                k += 1
                serial += 1
                code = f"E01{900000 + serial:06d}"
                name = f"{town[0]} {k:03d}{'ABCDE'[(r + c) % 5]}"
                ring = [corner[r, c], corner[r, c + 1], corner[r + 1, c + 1], corner[r + 1, c], corner[r, c]]
                features.append({"type": "Feature",
                                 "properties": {"area_code": code, "area_name": name},
                                 "geometry": {"type": "Polygon", "coordinates": [ring]}})
                population.append((code, name, ages(rng)))

    with open(os.path.join(outdir, f"areas-{n}.geojson"), "w") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, separators=(",", ":"))
    with open(os.path.join(outdir, f"population-{n}.csv"), "w") as f:
        header = ["period", "area_code", "area_name", "geography", "sex", "all_ages", "aged_0_to_15",
                  "aged_16_to_64", "aged_65_and_over"] + [str(a) for a in range(90)] + ["90+"]
        f.write(",".join(header) + "\n")
        for code, name, counts in population:
            f.write(",".join(["2022", code, name, "LSOA", "Persons", str(sum(counts)), str(sum(counts[:16])),
                              str(sum(counts[16:65])), str(sum(counts[65:]))] + [str(x) for x in counts]) + "\n")
    print(f"{len(features)} areas around {len(plan)} towns, population {sum(sum(p[2]) for p in population):,}",
          file=sys.stderr)


def ages(rng):
    """Single-year counts (0..89, 90+) of an LSOA-sized area, summing to its total."""
    total = max(900, min(3200, round(rng.gauss(1700, 320))))
    older = math.exp(rng.gauss(0, 0.35))     # some areas are much older than others
    young_adults = math.exp(rng.gauss(0, 0.3))  # and some are student-heavy
    weights = []
    for age, base in enumerate(SHAPE):
        factor = older if age >= 65 else young_adults if 18 <= age < 30 else 1.0
        weights.append(base * factor * rng.uniform(0.85, 1.15))
    scale = total / sum(weights)
    exact = [wt * scale for wt in weights]
    counts = [math.floor(x) for x in exact]
    # Largest remainders take the people lost to rounding down.
    for i in sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])[:total - sum(counts)]:
        counts[i] += 1
    return counts


main()
