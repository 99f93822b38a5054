//! Areas (LSOAs, wards, local authorities…) from GeoJSON, and their population from
//! the ONS mid-year CSV layout. Boundaries are WGS84 Polygons or MultiPolygons; each
//! area keeps its geometry, bounding box and centroid (the area-weighted planar
//! centroid, as geo's `Centroid`, which the gap figures measure from).

use std::io::Read;

use entity::area;
use geo::{BoundingRect, Centroid};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::spatial;

const BATCH: usize = 200;

/// Which feature properties name an area.
pub struct AreaProperties {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
}

impl Default for AreaProperties {
    fn default() -> Self {
        Self {
            code: "area_code".into(),
            name: "area_name".into(),
            parent: None,
        }
    }
}

/// One feature as an area row; errors name the feature and the property.
fn area_row(
    feature: &Value,
    index: usize,
    area_type: &str,
    props: &AreaProperties,
) -> AppResult<area::Model> {
    let field = |what: &str| format!("features[{index}].{what}");
    let properties = &feature["properties"];
    let text = |name: &str| {
        properties
            .get(name)
            .and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    };
    let code = text(&props.code).ok_or_else(|| {
        AppError::bad_input(
            field(&format!("properties.{}", props.code)),
            "missing: name the code property with --code-property",
        )
    })?;
    let name = text(&props.name).unwrap_or_else(|| code.clone());
    let geometry = feature.get("geometry").cloned().unwrap_or(Value::Null);
    let shape = spatial::parse_polygons(&geometry.to_string())
        .map_err(|m| AppError::bad_input(field("geometry"), m))?;
    let (Some(rect), Some(centroid)) = (shape.bounding_rect(), shape.centroid()) else {
        return Err(AppError::bad_input(field("geometry"), "has no area"));
    };
    if rect.min().y < -90.0 || rect.max().y > 90.0 || rect.min().x < -180.0 || rect.max().x > 180.0
    {
        return Err(AppError::bad_input(
            field("geometry"),
            "coordinates are not WGS84 longitude, latitude",
        ));
    }
    Ok(area::Model {
        code,
        name,
        area_type: area_type.to_string(),
        parent_code: props.parent.as_deref().and_then(text),
        geometry: geometry.to_string(),
        population: None,
        population_by_age: None,
        centroid_latitude: centroid.y(),
        centroid_longitude: centroid.x(),
        min_latitude: rect.min().y,
        min_longitude: rect.min().x,
        max_latitude: rect.max().y,
        max_longitude: rect.max().x,
    })
}

/// Load a FeatureCollection of `area_type` areas; returns how many. Population
/// already loaded for an area is kept.
pub async fn import(
    db: &impl ConnectionTrait,
    reader: impl Read,
    area_type: &str,
    props: &AreaProperties,
) -> AppResult<usize> {
    let area_type = area_type.trim().to_ascii_lowercase();
    if area_type.is_empty() {
        return Err(AppError::bad_input(
            "type",
            "name the area type (lsoa, ward, …)",
        ));
    }
    let document: Value = serde_json::from_reader(reader)
        .map_err(|e| AppError::bad_input("file", format!("not GeoJSON: {e}")))?;
    let features = document["features"]
        .as_array()
        .ok_or_else(|| AppError::bad_input("features", "a FeatureCollection is needed"))?;
    // Check every feature before writing any: a bad file writes nothing.
    let rows = features
        .iter()
        .enumerate()
        .map(|(i, f)| area_row(f, i, &area_type, props))
        .collect::<AppResult<Vec<_>>>()?;
    let bar = super::progress(rows.len() as u64, "areas");
    let count = rows.len();
    for batch in rows.chunks(BATCH) {
        crate::db::upsert::<area::Entity>(
            db,
            batch,
            &[area::Column::Population, area::Column::PopulationByAge],
        )
        .await?;
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    Ok(count)
}

/// What a population load did.
#[derive(Debug, Default)]
pub struct PopulationSummary {
    pub updated: usize,
    /// Codes in the file with no loaded area of the type.
    pub unknown: Vec<String>,
}

impl std::fmt::Display for PopulationSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "population for {} areas", self.updated)?;
        if !self.unknown.is_empty() {
            write!(
                f,
                "; {} codes have no loaded area of this type (first: {})",
                self.unknown.len(),
                self.unknown[0]
            )?;
        }
        Ok(())
    }
}

/// Load the ONS mid-year layout (`area_code`, `sex`, `all_ages`, then one column per
/// year of age `0`..`89` and `90+`): the Persons rows.
pub async fn import_population(
    db: &impl ConnectionTrait,
    reader: impl Read,
    area_type: &str,
) -> AppResult<PopulationSummary> {
    let area_type = area_type.trim().to_ascii_lowercase();
    let mut csv = csv::Reader::from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| AppError::bad_input("file", e.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| AppError::bad_input("file", format!("no column '{name}'")))
    };
    let (code_at, sex_at, all_at) = (column("area_code")?, column("sex")?, column("all_ages")?);
    let ages: Vec<usize> = (0..90)
        .map(|age| column(&age.to_string()))
        .chain(std::iter::once(column("90+")))
        .collect::<AppResult<_>>()?;
    let mut summary = PopulationSummary::default();
    for (line, record) in csv.records().enumerate() {
        let record = record.map_err(|e| AppError::bad_input("file", e.to_string()))?;
        let cell = |i: usize| record.get(i).unwrap_or_default().trim();
        if !cell(sex_at).eq_ignore_ascii_case("persons") {
            continue;
        }
        let number = |i: usize| {
            cell(i).replace(',', "").parse::<i64>().map_err(|_| {
                AppError::bad_input(
                    format!("line {} column {}", line + 2, &headers[i]),
                    format!("'{}' is not a count", cell(i)),
                )
            })
        };
        let all = number(all_at)?;
        let by_age = ages
            .iter()
            .map(|i| number(*i))
            .collect::<AppResult<Vec<_>>>()?;
        let code = cell(code_at).to_string();
        let result = area::Entity::update_many()
            .col_expr(area::Column::Population, Expr::value(all))
            .col_expr(area::Column::PopulationByAge, Expr::value(json!(by_age)))
            .filter(area::Column::Code.eq(&code))
            .filter(area::Column::AreaType.eq(&area_type))
            .exec(db)
            .await?;
        if result.rows_affected == 0 {
            summary.unknown.push(code);
        } else {
            summary.updated += 1;
        }
    }
    Ok(summary)
}
