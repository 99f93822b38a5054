//! Where a search is centred: a postcode (the postcode table, else the listings at
//! it), or a point.

use entity::{location, postcode};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::postcode::Postcode;
use crate::error::{AppError, AppResult};
use crate::spatial::Coordinates;

/// A place as a client gives it; `field` prefixes error paths (e.g. `input.near`).
pub struct PlaceQuery<'a> {
    pub postcode: Option<&'a str>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// Where a postcode is: from the postcode table, or else where the listings that
/// give it as their address are (so a listing's own postcode always finds it).
pub async fn postcode_point(
    db: &impl ConnectionTrait,
    code: &Postcode,
) -> AppResult<Option<Coordinates>> {
    if let Some(row) = postcode::Entity::find_by_id(code.as_str()).one(db).await? {
        return Coordinates::new(row.latitude, row.longitude)
            .map(Some)
            .map_err(|_| {
                AppError::internal(format!("postcode {code} has coordinates out of range"))
            });
    }
    let points: Vec<(Option<f64>, Option<f64>)> = location::Entity::find()
        .select_only()
        .columns([location::Column::Latitude, location::Column::Longitude])
        .filter(location::Column::Postcode.eq(code.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let points: Vec<(f64, f64)> = points
        .into_iter()
        .filter_map(|(lat, lon)| Some((lat?, lon?)))
        .collect();
    if points.is_empty() {
        return Ok(None);
    }
    let n = points.len() as f64;
    let (lat, lon) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (lat, lon)| (a + lat / n, b + lon / n));
    Ok(Coordinates::new(lat, lon).ok())
}

pub async fn resolve(
    db: &impl ConnectionTrait,
    place: PlaceQuery<'_>,
    field: &str,
) -> AppResult<Coordinates> {
    match (place.postcode, place.latitude, place.longitude) {
        (Some(text), None, None) => {
            let code = super::validate::postcode(&format!("{field}.postcode"), text)?;
            postcode_point(db, &code).await?.ok_or_else(|| {
                AppError::bad_input(
                    format!("{field}.postcode"),
                    format!("unknown postcode {code}"),
                )
            })
        }
        (None, Some(latitude), Some(longitude)) => {
            super::validate::coordinates(field, latitude, longitude)
        }
        (None, None, Some(_)) => Err(AppError::bad_input(
            format!("{field}.latitude"),
            "required with longitude",
        )),
        (None, Some(_), None) => Err(AppError::bad_input(
            format!("{field}.longitude"),
            "required with latitude",
        )),
        (None, None, None) => Err(AppError::bad_input(
            field,
            "give a postcode, or a latitude and longitude",
        )),
        (Some(_), _, _) => Err(AppError::bad_input(
            field,
            "give a postcode or coordinates, not both",
        )),
    }
}
