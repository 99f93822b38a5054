#!/usr/bin/env python3
"""Write the search benchmark's queries (deterministic): points near the generator's
towns, a category and a person. Writes queries.json (for the rstar floor),
bodies.jsonl (GraphQL requests, one per line, for wrk) and ceiling.jsonl (the
ceiling comparison's requests).

Usage: gen_queries.py OUT_DIR
"""
import json
import random
import sys

from towns import CATEGORIES, TOWNS, place

out = sys.argv[1]
rng = random.Random(99)
QUERY = """query($input: SearchInput!) { search(input: $input, first: 20) { edges { node {
  service { id name } distanceMetres reach fit { suitable reasons { criterion outcome detail } } } } } }"""
queries, bodies = [], []
for i in range(200):
    town = rng.choices(TOWNS, [t[3] for t in TOWNS])[0]
    lat, lon = place(rng, town)
    category = CATEGORIES[i % len(CATEGORIES)][0]
    queries.append({"latitude": lat, "longitude": lon, "category": category})
    person = {"age": rng.choice([25, 45, 70, 82]), "languages": ["en"], "maxCostPence": 300,
              "availability": [{"day": "TUESDAY", "from": "09:00", "to": "17:00"}]}
    variables = {"input": {"near": {"latitude": lat, "longitude": lon}, "radiusMetres": 5000,
                           "taxonomyTerms": [category], "person": person}}
    bodies.append(json.dumps({"query": QUERY, "variables": variables}))
json.dump(queries, open(f"{out}/queries.json", "w"))
open(f"{out}/bodies.jsonl", "w").write("\n".join(bodies) + "\n")

# The ceiling comparison (issue 18): 10,000 points, 10 km, a category, an age and open
# capacity; the nearest 20 by id, name and distance. The same document goes to Signpost
# and to the ceiling server (api/examples/search_ceiling.rs).
CEILING = """query($input: SearchInput!) { search(input: $input, first: 20) { edges { node {
  service { id name } distanceMetres } } } }"""
ceiling = []
for i in range(10_000):
    town = rng.choices(TOWNS, [t[3] for t in TOWNS])[0]
    lat, lon = place(rng, town)
    variables = {"input": {"near": {"latitude": lat, "longitude": lon}, "radiusMetres": 10_000,
                           "taxonomyTerms": [CATEGORIES[i % len(CATEGORIES)][0]],
                           "person": {"age": rng.choice([25, 45, 70, 82])},
                           "capacity": ["ACCEPTING"]}}
    ceiling.append(json.dumps({"query": CEILING, "variables": variables}))
open(f"{out}/ceiling.jsonl", "w").write("\n".join(ceiling) + "\n")
