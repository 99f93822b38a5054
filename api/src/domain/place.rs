//! Where a search is centred: a postcode looked up in the postcode table, or a point.

use entity::postcode;
use sea_orm::{ConnectionTrait, EntityTrait};

use super::postcode::Postcode;
use crate::error::{AppError, AppResult};
use crate::spatial::{CoordinateError, Coordinates};

/// A place as a client gives it; `field` prefixes error paths (e.g. `input.near`).
pub struct PlaceQuery<'a> {
    pub postcode: Option<&'a str>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

pub async fn resolve(
    db: &impl ConnectionTrait,
    place: PlaceQuery<'_>,
    field: &str,
) -> AppResult<Coordinates> {
    match (place.postcode, place.latitude, place.longitude) {
        (Some(text), None, None) => {
            let code = Postcode::parse(text)
                .map_err(|m| AppError::bad_input(format!("{field}.postcode"), m))?;
            let row = postcode::Entity::find_by_id(code.as_str()).one(db).await?;
            let row = row.ok_or_else(|| {
                AppError::bad_input(
                    format!("{field}.postcode"),
                    format!("unknown postcode {code}"),
                )
            })?;
            Coordinates::new(row.latitude, row.longitude).map_err(|_| {
                AppError::internal(format!(
                    "postcode {code} has stored coordinates out of range"
                ))
            })
        }
        (None, Some(latitude), Some(longitude)) => {
            Coordinates::new(latitude, longitude).map_err(|e| match e {
                CoordinateError::Latitude(v) => AppError::bad_input(
                    format!("{field}.latitude"),
                    format!("{v} is outside -90..90"),
                ),
                CoordinateError::Longitude(v) => AppError::bad_input(
                    format!("{field}.longitude"),
                    format!("{v} is outside -180..180"),
                ),
            })
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
