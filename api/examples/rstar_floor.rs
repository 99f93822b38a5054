//! The floor for the search benchmark: the same queries answered by a bare in-memory
//! R*-tree over the same rows (points and a category per service), with no HTTP,
//! no GraphQL, no fit and no database. Reads the generated services and queries.
//!
//! Usage: cargo run --release --example rstar_floor -- services.json queries.json

use std::time::Instant;

use geo::{Distance, Haversine, Point};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use serde_json::Value;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (services, queries) = match args.as_slice() {
        [_, s, q] => (s, q),
        _ => return Err("usage: rstar_floor services.json queries.json".into()),
    };
    let services: Vec<Value> = serde_json::from_slice(&std::fs::read(services)?)?;
    let queries: Vec<Value> = serde_json::from_slice(&std::fs::read(queries)?)?;
    let started = Instant::now();
    let points: Vec<GeomWithData<[f64; 2], (usize, String)>> = services
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let location = &s["service_at_locations"][0]["location"];
            let category = s["attributes"][0]["taxonomy_term"]["code"]
                .as_str()?
                .to_string();
            Some(GeomWithData::new(
                [
                    location["longitude"].as_f64()?,
                    location["latitude"].as_f64()?,
                ],
                (i, category),
            ))
        })
        .collect();
    let tree = RTree::bulk_load(points);
    let build = started.elapsed();

    let mut latencies = Vec::new();
    let rounds = 20;
    let total = Instant::now();
    for _ in 0..rounds {
        for q in &queries {
            let t = Instant::now();
            let (lat, lon) = (
                q["latitude"].as_f64().unwrap_or(0.0),
                q["longitude"].as_f64().unwrap_or(0.0),
            );
            let category = q["category"].as_str().unwrap_or_default();
            let radius = 5000.0;
            let here = Point::new(lon, lat);
            let dlat = radius / 110_000.0;
            let dlon = radius / (110_000.0 * lat.to_radians().cos());
            let envelope =
                rstar::AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat]);
            let mut hits: Vec<(f64, usize)> = tree
                .locate_in_envelope(&envelope)
                .filter(|p| p.data.1 == category)
                .map(|p| {
                    (
                        Haversine.distance(here, Point::new(p.geom()[0], p.geom()[1])),
                        p.data.0,
                    )
                })
                .filter(|(d, _)| *d <= radius)
                .collect();
            hits.sort_by(|a, b| a.0.total_cmp(&b.0));
            hits.truncate(20);
            std::hint::black_box(&hits);
            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let elapsed = total.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "rstar floor: {} services, built in {:.2}s; {:.0} queries/s on one core, p50 {:.3} ms, p99 {:.3} ms",
        services.len(),
        build.as_secs_f64(),
        latencies.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}
