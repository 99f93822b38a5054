//! Demo neighbourhoods: a grid of cells over each demo town with a made-up
//! population and a made-up but place-like name, loaded through the same area and
//! population imports as real data, so the map's base layer and the gap view work
//! with nothing else loaded.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use super::{Rng, TOWNS};
use crate::error::AppResult;
use crate::import::areas;

/// The demo's area type.
pub const AREA_TYPE: &str = "neighbourhood";
/// Cells per side of each town's grid.
const CELLS: usize = 6;
const LAT_STEP: f64 = 0.01;
const LON_STEP: f64 = 0.016;
/// Name parts: a cell is named by its row's first part and its column's second, each
/// list shifted per town, so names are unique within a town and vary between towns.
const FIRST: &[&str] = &[
    "Ash", "Brook", "Oak", "Moss", "Thorn", "Elm", "Kings", "Lark", "Fern", "Hollin", "Stan",
    "Bram",
];
const SECOND: &[&str] = &[
    "field", "side", "ley", "hurst", "bank", "croft", "dale", "ford",
];

/// "Thornbank, Sale": deterministic, so codes and names stay put between loads.
fn cell_name(town_index: usize, town: &str, row: usize, col: usize) -> String {
    let first = FIRST[(row + 2 * town_index) % FIRST.len()];
    let second = SECOND[(col + town_index) % SECOND.len()];
    format!("{first}{second}, {town}")
}

fn boundaries() -> serde_json::Value {
    let mut features = Vec::new();
    for (t, (town, outward, lat, lon)) in TOWNS.iter().enumerate() {
        let (south, west) = (
            lat - LAT_STEP * CELLS as f64 / 2.0,
            lon - LON_STEP * CELLS as f64 / 2.0,
        );
        for row in 0..CELLS {
            for col in 0..CELLS {
                let (s, w) = (south + row as f64 * LAT_STEP, west + col as f64 * LON_STEP);
                let (n, e) = (s + LAT_STEP, w + LON_STEP);
                features.push(json!({
                    "type": "Feature",
                    "properties": {
                        "area_code": format!("DEMO-{outward}-{row}{col}"),
                        "area_name": cell_name(t, town, row, col),
                    },
                    "geometry": { "type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]] },
                }));
            }
        }
    }
    json!({ "type": "FeatureCollection", "features": features })
}

/// Population in the ONS mid-year layout: Persons, all ages, then 0..89 and 90+.
fn population() -> String {
    let mut rng = Rng(0xA9E5_2026);
    let mut csv = String::from("period,area_code,area_name,geography,sex,all_ages");
    for age in 0..90 {
        csv.push_str(&format!(",{age}"));
    }
    csv.push_str(",90+\n");
    for (_, outward, _, _) in TOWNS {
        for cell in 0..CELLS * CELLS {
            let (row, col) = (cell / CELLS, cell % CELLS);
            let by_age: Vec<usize> = (0..91)
                .map(|age| {
                    let base = if age < 90 { 12 } else { 20 };
                    base + rng.below(10) + if age >= 65 { rng.below(8) } else { 0 }
                })
                .collect();
            let all: usize = by_age.iter().sum();
            let ages: Vec<String> = by_age.iter().map(ToString::to_string).collect();
            csv.push_str(&format!(
                "2024-06-30,DEMO-{outward}-{row}{col},,demo,Persons,{all},{}\n",
                ages.join(",")
            ));
        }
    }
    csv
}

/// Load the demo neighbourhoods unless they are there already; returns how many.
pub async fn load(db: &DatabaseConnection) -> AppResult<usize> {
    let existing = entity::area::Entity::find()
        .filter(entity::area::Column::AreaType.eq(AREA_TYPE))
        .count(db)
        .await?;
    if existing > 0 {
        return Ok(0);
    }
    let text = boundaries().to_string();
    let count = areas::import(
        db,
        text.as_bytes(),
        AREA_TYPE,
        &areas::AreaProperties::default(),
    )
    .await?;
    areas::import_population(db, population().as_bytes(), AREA_TYPE).await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_neighbourhoods_have_distinct_place_names() {
        let features = boundaries();
        let names: Vec<&str> = features["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["area_name"].as_str().unwrap())
            .collect();
        let distinct: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert_eq!(names[0], "Ashfield, Sale");
    }
}
