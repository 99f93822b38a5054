//! Maps over HTTP: the map page at `/` (HTML, CSS and JavaScript of our own, built
//! into the binary: no CDN, no tiles, so it works with no network), and
//! `/gaps.geojson`, the rows of `serviceGaps` as GeoJSON features for GIS tools.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use geojson::{Feature, FeatureCollection, Geometry};
use serde_json::{Map, Value, json};

use super::rest::RestError;
use super::state::AppState;
use crate::domain::gaps::{self, GapQuestion, GapRequest};
use crate::domain::validate::Fields;

/// Query parameters as `serviceGaps` names its input fields, checked by the same
/// rules (`GapRequest::check`).
fn request(params: &HashMap<String, String>) -> Result<GapRequest, RestError> {
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let whole = |name: &str| -> Result<Option<i64>, RestError> {
        get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| RestError::parameter(name, format!("'{v}' is not a whole number")))
            })
            .transpose()
    };
    let list = |name: &str| -> Vec<String> {
        get(name)
            .map(|t| {
                t.split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let question = GapQuestion {
        area_type: get("areaType").unwrap_or_default().to_string(),
        taxonomy_terms: list("taxonomyTerms"),
        needs: list("needs"),
        max_distance_metres: whole("maxDistanceMetres")?,
        within: get("within").map(str::to_string),
        age_from: whole("ageFrom")?,
        age_to: whole("ageTo")?,
        ..GapQuestion::default()
    };
    Ok(GapRequest::check(question, Fields::QUERY)?)
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
) -> Result<Response, RestError> {
    let request = request(&params)?;
    let rows = gaps::service_gaps(&state.db, &state.search, &request, Utc::now()).await?;
    let collection = FeatureCollection {
        bbox: None,
        features: rows.into_iter().map(feature).collect(),
        foreign_members: None,
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        Json(collection),
    )
        .into_response())
}

/// The map page and its three files.
pub async fn page() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("map/index.html"),
    )
}

const JAVASCRIPT: (axum::http::HeaderName, &str) = (
    axum::http::header::CONTENT_TYPE,
    "text/javascript; charset=utf-8",
);

/// The map itself: drawing, pan and zoom, areas described on hover and focus.
pub async fn script() -> impl IntoResponse {
    ([JAVASCRIPT], include_str!("map/map.js"))
}

/// The search and gap views drawn on the map.
pub async fn views() -> impl IntoResponse {
    ([JAVASCRIPT], include_str!("map/views.js"))
}

pub async fn style() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("map/map.css"),
    )
}
