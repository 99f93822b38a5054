//! Maps over HTTP: the map page at `/` (HTML, CSS and JavaScript of our own, built
//! into the binary: no CDN, no tiles, so it works with no network), and
//! `/gaps.geojson`, the rows of `serviceGaps` as GeoJSON features for GIS tools.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use geojson::{Feature, FeatureCollection, Geometry};
use serde_json::{Map, Value, json};

use crate::domain::gaps::{self, GapRequest};
use crate::error::AppError;
use crate::state::AppState;

/// A 400 naming the parameter.
struct BadParameter(String, String);

fn refuse(parameter: &str, message: &str) -> BadParameter {
    BadParameter(parameter.to_string(), message.to_string())
}

impl IntoResponse for BadParameter {
    fn into_response(self) -> Response {
        let BadParameter(parameter, message) = self;
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": { "status": 400, "parameter": parameter, "message": format!("{parameter}: {message}") } })),
        )
            .into_response()
    }
}

/// Query parameters as `serviceGaps` names its input fields.
fn request(params: &HashMap<String, String>) -> Result<GapRequest, BadParameter> {
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let whole =
        |name: &str, range: std::ops::RangeInclusive<i64>| -> Result<Option<i64>, BadParameter> {
            get(name)
                .map(|v| match v.parse::<i64>() {
                    Ok(n) if range.contains(&n) => Ok(n),
                    _ => Err(refuse(
                        name,
                        &format!("'{v}' must be a whole number in {range:?}"),
                    )),
                })
                .transpose()
        };
    let area_type =
        get("areaType").ok_or_else(|| refuse("areaType", "required (lsoa, ward, …)"))?;
    Ok(GapRequest {
        area_type: area_type.to_string(),
        taxonomy_terms: get("taxonomyTerms")
            .map(|t| {
                t.split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        max_distance_metres: whole("maxDistanceMetres", 1..=100_000)?.unwrap_or(2000) as f64,
        within: get("within").map(str::to_string),
        age_from: whole("ageFrom", 0..=130)?.map(|a| a as u32),
        age_to: whole("ageTo", 0..=130)?.map(|a| a as u32),
        ..GapRequest::default()
    })
}

fn feature(gap: gaps::AreaGap) -> Feature {
    let geometry = serde_json::from_str::<Geometry>(&gap.geometry).ok();
    let properties: Map<String, Value> = json!({
        "code": gap.code,
        "name": gap.name,
        "type": gap.area_type,
        "population": gap.population,
        "servicesInArea": gap.services_in_area,
        "availablePlaces": gap.available_places,
        "placesPer1000": gap.places_per_1000,
        "nearestServiceMetres": gap.nearest_service_metres,
        "covered": gap.covered,
        "searches": gap.searches,
        "unmetSearches": gap.unmet_searches,
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    Feature {
        bbox: None,
        geometry,
        id: None,
        properties: Some(properties),
        foreign_members: None,
    }
}

pub async fn gaps_geojson(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let request = match request(&params) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    match gaps::service_gaps(&state.db, &state.search, &request, Utc::now()).await {
        Ok(rows) => {
            let collection = FeatureCollection {
                bbox: None,
                features: rows.into_iter().map(feature).collect(),
                foreign_members: None,
            };
            (
                [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
                Json(collection),
            )
                .into_response()
        }
        Err(AppError::BadUserInput { field, message }) => {
            let parameter = match field.as_str() {
                "input.taxonomyTerms" => "taxonomyTerms",
                "input.within" => "within",
                other => other,
            };
            refuse(parameter, &message).into_response()
        }
        Err(other) => {
            tracing::error!(cause = %other.detail(), "gaps.geojson failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": { "status": 503, "message": "try again shortly" } })),
            )
                .into_response()
        }
    }
}

/// The map page and its two files.
pub async fn page() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("map/index.html"),
    )
}

pub async fn script() -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/javascript; charset=utf-8",
        )],
        include_str!("map/map.js"),
    )
}

pub async fn style() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("map/map.css"),
    )
}
