#!/usr/bin/env python3
"""Write N synthetic postcode rows in the ONS Postcode Directory layout (deterministic),
with 2% terminated and 1% without a grid reference, for import benchmarks."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
rng = random.Random(7)
letters = "ABDEFGHJLNPQRSTUWXYZ"
print("pcd,pcd2,pcds,dointr,doterm,oslaua,osward,lat,long,lsoa21,msoa21")
for i in range(n):
    outward = f"B{i // 4000 % 99 + 1}"
    inward = f"{i % 10}{letters[i // 10 % 20]}{letters[i // 200 % 20]}"
    code = f"{outward} {inward}"
    doterm = "200512" if rng.random() < 0.02 else ""
    if rng.random() < 0.01:
        lat, lon = "99.999999", "0.000000"
    else:
        lat, lon = f"{52.3 + rng.random() * 0.4:.6f}", f"{-2.1 + rng.random() * 0.5:.6f}"
    print(f"{code},{code},{code},199801,{doterm},E08000025,E05011111,{lat},{lon},E01009{i % 1000:03d},E02001{i % 100:03d}")
