#!/usr/bin/env python3
"""Write N synthetic HSDS 3.1 services (deterministic) as a JSON array, for import benchmarks.

Each service has an organization, one location with an address and accessibility, a
schedule, a cost option, a language, a capacity and a category attribute: the shape of
a real council listing, spread over England's bounding box.
"""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rng = random.Random(42)
terms = ["walking-groups", "lunch-clubs", "befriending", "carers-support", "debt-advice", "food-support"]
services = []
for i in range(n):
    sid = f"bench-{i:07d}"
    lat = 50.5 + rng.random() * 4.5
    lon = -4.5 + rng.random() * 6.0
    term = terms[i % len(terms)]
    services.append({
        "id": sid,
        "name": f"Bench group {i}",
        "description": "A synthetic community group for benchmarking imports.",
        "status": "active",
        "minimum_age": 18,
        "organization": {"id": f"bench-org-{i // 10:06d}", "name": f"Bench organization {i // 10}"},
        "service_at_locations": [{
            "id": f"{sid}-sal",
            "location": {
                "id": f"{sid}-loc", "location_type": "physical",
                "latitude": round(lat, 6), "longitude": round(lon, 6),
                "addresses": [{"id": f"{sid}-addr", "address_1": f"{i} High Street", "city": "Town",
                               "state_province": "England", "postal_code": "M1 1AA", "country": "GB",
                               "address_type": "physical"}],
                "accessibility": [{"id": f"{sid}-acc", "details": "STEP_FREE"}],
            },
            "schedules": [{"id": f"{sid}-sch", "freq": "WEEKLY", "byday": "TU", "opens_at": "10:00", "closes_at": "12:00"}],
        }],
        "cost_options": [{"id": f"{sid}-cost", "option": "Free", "amount": 0, "currency": "GBP"}],
        "languages": [{"id": f"{sid}-lang", "name": "English", "code": "en"}],
        "capacities": [{"id": f"{sid}-cap", "available": rng.randint(0, 10), "maximum": 10,
                        "updated": "2026-11-20T10:00:00Z"}],
        "attributes": [{"link_type": "category", "taxonomy_term": {
            "id": f"bench-term-{term}", "code": term, "name": term, "taxonomy": "bench"}}],
    })
json.dump(services, sys.stdout)
