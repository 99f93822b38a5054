#!/usr/bin/env python3
"""Write N synthetic HSDS 3.1 services clustered on English towns (deterministic), for
the search benchmark. Realistic attributes: a category under a parent, age limits,
circumstance and gender rules, languages, weekly sessions, prices with concessions,
capacity with expiry, delivery modes and referral routes.

Usage: gen_services.py N > services.json   (also writes the query points to stderr)
"""
import json
import random
import sys

from towns import CATEGORIES, TOWNS, place, spread_degrees

LANGUAGES = ["ur", "pl", "pa", "bn", "ar", "so", "ro"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA"]
SLOTS = [("10:00", "12:00"), ("13:30", "15:30"), ("11:30", "14:00"), ("18:00", "20:00")]


def term(code, parent, vocabulary="bench"):
    return {"id": f"bench-{vocabulary}-{code}", "code": code, "name": code, "taxonomy": vocabulary,
            "parent_id": f"bench-{vocabulary}-{parent}" if parent else None}


def attribute(link_type, t):
    return {"link_type": link_type, "taxonomy_term": t}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rng = random.Random(2026)
    weights = [t[3] for t in TOWNS]
    out = sys.stdout
    out.write("[")
    for i in range(n):
        town = rng.choices(TOWNS, weights)[0]
        lat, lon = place(rng, town)
        category, parent = CATEGORIES[i % len(CATEGORIES)]
        sid = f"bench-{i:07d}"
        attributes = [attribute("category", term(category, parent))]
        if category == "carers-support":
            attributes.append(attribute("restricted_to", term("carer", None, "circumstance")))
        elif rng.random() < 0.1:
            attributes.append(attribute("suitable_for", term("veteran", None, "circumstance")))
        if rng.random() < 0.05:
            attributes.append(attribute("restricted_to", term("female", None, "gender")))
        # A fifth of debt advice is by phone and online, for its town's area.
        remote = category == "debt-advice" and rng.random() < 0.2
        modes = ["TELEPHONE", "ONLINE"] if remote else ["IN_PERSON"]
        attributes += [attribute("delivery_mode", term(m, None, "delivery-mode")) for m in modes]
        attributes += [attribute("referral_route", term(r, None, "referral-route")) for r in
                       (["SELF", "LINK_WORKER"] if rng.random() < 0.7 else ["GP"])]
        languages = [{"id": f"{sid}-en", "name": "English", "code": "en"}]
        if rng.random() < 0.3:
            languages.append({"id": f"{sid}-l2", "code": rng.choice(LANGUAGES)})
        opens, closes = rng.choice(SLOTS)
        paid = rng.random() < 0.3
        cost = [{"id": f"{sid}-c1", "option": "Per session", "amount": rng.choice([2, 3, 4.5]) if paid else 0}]
        if paid:
            cost.append({"id": f"{sid}-c2", "option": "Concession", "amount": 0,
                         "attributes": [attribute("concession", term("low-income", None, "circumstance"))]})
        record = {
            "id": sid, "name": f"{town[0]} {category.replace('-', ' ')} {i}",
            "description": f"A {category.replace('-', ' ')} group in {town[0]}.",
            "status": "active",
            "minimum_age": rng.choice([None, 16, 18, 18, 50, 65]),
            "assured_date": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
            "organization": {"id": f"bench-org-{i // 20:06d}", "name": f"{town[0]} charity {i // 20}"},
            "service_at_locations": [{"id": f"{sid}-sal", "location": {
                "id": f"{sid}-loc", "location_type": "physical", "latitude": round(lat, 6), "longitude": round(lon, 6),
                "accessibility": [{"id": f"{sid}-a", "details": "STEP_FREE"}] if rng.random() < 0.5 else []},
                "schedules": [{"id": f"{sid}-s", "freq": "WEEKLY", "byday": rng.choice(DAYS), "opens_at": opens, "closes_at": closes}]}],
            "languages": languages,
            "cost_options": cost,
            "capacities": [{"id": f"{sid}-cap", "available": rng.randint(0, 12), "maximum": 12,
                            "updated": "2026-11-20T10:00:00Z", "expires_at": "2027-06-01T00:00:00Z"}],
            "attributes": attributes,
        }
        if remote:
            # Phone and online services cover their town, not the whole country.
            dlat, dlon = spread_degrees(town)
            ring = [[town[2] + dx * dlon, town[1] + dy * dlat] for dx, dy in [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]]
            record["service_areas"] = [{"id": f"{sid}-area", "extent_type": "geojson",
                                        "extent": json.dumps({"type": "Polygon", "coordinates": [ring]})}]
        if i:
            out.write(",")
        out.write(json.dumps(record))
    out.write("]\n")


main()
