//! The Open Referral UK read API under `/openreferral/`: services, services at
//! locations and taxonomies in the HSDS page envelope, with the ORUK filters. The
//! filters are the listing filter (`domain::listings`) and the place filter is the
//! search index's reach, so there is one implementation of each. CORS is open here
//! (and only here): any directory may read from a browser.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::routing::get;
use entity::{location, service, service_at_location, taxonomy, taxonomy_term};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};

use super::rest::RestError;
use super::state::AppState;
use crate::domain::listings::{ServiceFilter, select_services};
use crate::domain::place::postcode_point;
use crate::domain::postcode::Postcode;
use crate::domain::search::index::Reach;
use crate::error::AppError;
use crate::openreferral::hsds::services_full;
use crate::spatial::Coordinates;
use params::{day, moment, number, paging, text, time};

/// Metres around a postcode when `proximity` is not given.
const DEFAULT_PROXIMITY: f64 = 5000.0;
const MAX_PROXIMITY: f64 = 100_000.0;

mod params;

pub fn router() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::OPTIONS])
        .allow_headers(Any);
    Router::new()
        .route("/openreferral", get(about))
        .route("/openreferral/", get(about))
        .route("/openreferral/services", get(services))
        .route("/openreferral/services/{id}", get(one_service))
        .route(
            "/openreferral/service_at_locations",
            get(service_at_locations),
        )
        .route(
            "/openreferral/service_at_locations/{id}",
            get(one_service_at_location),
        )
        .route("/openreferral/taxonomies", get(taxonomies))
        .route("/openreferral/taxonomies/{id}", get(one_taxonomy))
        .route("/openreferral/taxonomy_terms", get(taxonomy_terms))
        .route("/openreferral/taxonomy_terms/{id}", get(one_taxonomy_term))
        .layer(cors)
}

/// A refusal in the REST shape (`rest`): 400 naming the parameter, 404, 503 while the
/// database is away, 500 for a bug (its cause logged, never sent).
type Refusal = RestError;

fn bad(parameter: &str, message: impl Into<String>) -> Refusal {
    RestError::parameter(parameter, message)
}

fn not_found(what: &str, id: &str) -> Refusal {
    RestError(AppError::NotFound(format!("no {what} with id {id}")))
}

type Answer = Result<Json<Value>, Refusal>;
type Params = Query<HashMap<String, String>>;

async fn about() -> Json<Value> {
    Json(json!({
        "version": "3.0",
        "profile": "https://github.com/openreferral/uk-profile",
        "openapi_url": "https://raw.githubusercontent.com/openreferral/uk-profile/main/openapi.json",
    }))
}

/// The HSDS page envelope around one page of `contents`.
fn envelope(contents: Vec<Value>, total: u64, page: u64, per_page: u64) -> Value {
    let total_pages = total.div_ceil(per_page).max(1);
    json!({
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": contents.len(),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": contents.is_empty(),
        "contents": contents,
    })
}

/// A postcode and radius from `postcode` and `proximity`.
struct Near {
    at: Coordinates,
    metres: f64,
    /// Services with a location in range, and those whose service area covers the
    /// place: one reach over the search index.
    in_range: Vec<String>,
    covering: std::collections::HashSet<String>,
}

async fn near(
    db: &impl ConnectionTrait,
    search: &crate::domain::search::SearchHandle,
    params: &HashMap<String, String>,
) -> Result<Option<Near>, Refusal> {
    let proximity = number(params, "proximity")?;
    let Some(code) = text(params, "postcode") else {
        return match proximity {
            Some(_) => Err(bad("proximity", "needs a postcode")),
            None => Ok(None),
        };
    };
    let code = Postcode::parse(code).map_err(|m| bad("postcode", m))?;
    let at = postcode_point(db, &code)
        .await?
        .ok_or_else(|| bad("postcode", format!("unknown postcode {code}")))?;
    let metres = proximity.unwrap_or(DEFAULT_PROXIMITY);
    if !(1.0..=MAX_PROXIMITY).contains(&metres) {
        return Err(bad(
            "proximity",
            format!("must lie in 1..{MAX_PROXIMITY} metres"),
        ));
    }
    let (mut in_range, mut covering) = (Vec::new(), std::collections::HashSet::new());
    {
        let index = search.read();
        for (slot, reach) in index.reach(at, metres, None, |_| true) {
            let Some(entry) = index.entry(slot) else {
                continue;
            };
            match reach {
                Reach::Remote => {}
                Reach::ServiceArea => {
                    in_range.push(entry.id.to_string());
                    covering.insert(entry.id.to_string());
                }
                Reach::AtLocation(..) => in_range.push(entry.id.to_string()),
            }
        }
    }
    Ok(Some(Near {
        at,
        metres,
        in_range,
        covering,
    }))
}

/// The listing filter the ORUK parameters ask for, and the place, if any.
async fn filter(
    state: &AppState,
    params: &HashMap<String, String>,
) -> Result<(ServiceFilter, Option<Near>), Refusal> {
    let near = near(&state.db, &state.search, params).await?;
    let ids = near.as_ref().map(|near| near.in_range.clone());
    let filter = ServiceFilter {
        taxonomy_terms: text(params, "taxonomy_term_id")
            .map(|t| vec![t.to_string()])
            .unwrap_or_default(),
        taxonomy_id: text(params, "taxonomy_id").map(str::to_string),
        text: crate::domain::validate::query_text(
            if params.contains_key("text") {
                "text"
            } else {
                "search"
            },
            text(params, "text")
                .or_else(|| text(params, "search"))
                .map(str::to_string),
        )?,
        modified_after: moment(params, "modified_after")?,
        minimum_age_from: number(params, "minimum_age")?,
        maximum_age_to: number(params, "maximum_age")?,
        day: day(params)?,
        opens_from: time(params, "start_time")?,
        closes_by: time(params, "end_time")?,
        ids,
        ..ServiceFilter::default()
    };
    Ok((filter, near))
}

/// The services a request selects, unordered; an unknown term selects nothing.
async fn selected(
    state: &AppState,
    filter: &ServiceFilter,
) -> Result<Option<sea_orm::Select<service::Entity>>, Refusal> {
    match select_services(&state.db, filter, "taxonomy_term_id").await {
        Ok(query) => Ok(Some(query)),
        Err(AppError::BadUserInput { field, .. }) if field == "taxonomy_term_id" => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn services(State(state): State<AppState>, Query(params): Params) -> Answer {
    let (page, per_page) = paging(&params)?;
    let (filter, _) = filter(&state, &params).await?;
    let Some(query) = selected(&state, &filter).await? else {
        return Ok(Json(envelope(Vec::new(), 0, page, per_page)));
    };
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .order_by_asc(service::Column::Id)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(&state.db)
        .await?;
    let contents = services_full(&state.db, &rows).await?;
    Ok(Json(envelope(contents, total, page, per_page)))
}

async fn one_service(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let row = service::Entity::find_by_id(id.clone())
        .one(&state.db)
        .await?
        .ok_or_else(|| not_found("service", &id))?;
    let mut full = services_full(&state.db, std::slice::from_ref(&row)).await?;
    Ok(Json(full.pop().unwrap_or_default()))
}

/// A service at a location: the link, its location and its service (without the
/// service's other locations).
fn link_json(link: &Value, service: &Value) -> Value {
    let mut service = service.clone();
    if let Some(object) = service.as_object_mut() {
        object.remove("service_at_locations");
    }
    let mut out = link.clone();
    out["service"] = service;
    out
}

async fn service_at_locations(State(state): State<AppState>, Query(params): Params) -> Answer {
    let (page, per_page) = paging(&params)?;
    let (filter, near) = filter(&state, &params).await?;
    let Some(query) = selected(&state, &filter).await? else {
        return Ok(Json(envelope(Vec::new(), 0, page, per_page)));
    };
    let service_ids: Vec<String> = query
        .select_only()
        .column(service::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut links: Vec<(String, String, String)> = Vec::new();
    for chunk in service_ids.chunks(1000) {
        let rows: Vec<(String, String, String)> = service_at_location::Entity::find()
            .select_only()
            .columns([
                service_at_location::Column::Id,
                service_at_location::Column::ServiceId,
                service_at_location::Column::LocationId,
            ])
            .filter(service_at_location::Column::ServiceId.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(&state.db)
            .await?;
        links.extend(rows);
    }
    if let Some(near) = &near {
        // Near means this location is in range (or the service covers the place).
        let location_ids: Vec<String> = links.iter().map(|l| l.2.clone()).collect();
        let mut points: HashMap<String, Coordinates> = HashMap::new();
        for chunk in location_ids.chunks(1000) {
            let rows: Vec<(String, Option<f64>, Option<f64>)> = location::Entity::find()
                .select_only()
                .columns([
                    location::Column::Id,
                    location::Column::Latitude,
                    location::Column::Longitude,
                ])
                .filter(location::Column::Id.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(&state.db)
                .await?;
            points.extend(
                rows.into_iter()
                    .filter_map(|(id, lat, lon)| Some((id, Coordinates::new(lat?, lon?).ok()?))),
            );
        }
        let covering = &near.covering;
        links.retain(|(_, service_id, location_id)| {
            covering.contains(service_id)
                || points
                    .get(location_id)
                    .is_some_and(|p| p.distance_metres(near.at) <= near.metres)
        });
    }
    links.sort();
    let total = links.len() as u64;
    let start = ((page - 1) * per_page).min(total) as usize;
    let page_links: Vec<_> = links
        .into_iter()
        .skip(start)
        .take(per_page as usize)
        .collect();
    let contents = link_contents(&state, &page_links).await?;
    Ok(Json(envelope(contents, total, page, per_page)))
}

/// Each link with its location and service, from the services' HSDS objects.
async fn link_contents(
    state: &AppState,
    links: &[(String, String, String)],
) -> Result<Vec<Value>, Refusal> {
    let mut ids: Vec<String> = links.iter().map(|l| l.1.clone()).collect();
    ids.sort();
    ids.dedup();
    let rows = service::Entity::find()
        .filter(service::Column::Id.is_in(ids))
        .all(&state.db)
        .await?;
    let full: HashMap<String, Value> = services_full(&state.db, &rows)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.get("id")?.as_str()?.to_string(), s)))
        .collect();
    Ok(links
        .iter()
        .filter_map(|(link_id, service_id, _)| {
            let service = full.get(service_id)?;
            let link = service
                .get("service_at_locations")?
                .as_array()?
                .iter()
                .find(|l| l.get("id").and_then(Value::as_str) == Some(link_id))?;
            Some(link_json(link, service))
        })
        .collect())
}

async fn one_service_at_location(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let link = service_at_location::Entity::find_by_id(id.clone())
        .one(&state.db)
        .await?
        .ok_or_else(|| not_found("service_at_location", &id))?;
    let mut contents =
        link_contents(&state, &[(link.id, link.service_id, link.location_id)]).await?;
    contents
        .pop()
        .map(Json)
        .ok_or_else(|| not_found("service_at_location", &id))
}

fn taxonomy_json(t: taxonomy::Model) -> Value {
    json!({ "id": t.id, "name": t.name, "description": t.description, "uri": t.uri, "version": t.version })
}

fn term_json(t: taxonomy_term::Model) -> Value {
    let mut out = json!({
        "id": t.id, "code": t.code, "name": t.name, "description": t.description,
        "parent_id": t.parent_id, "taxonomy": t.vocabulary, "taxonomy_id": t.taxonomy_id,
        "term_uri": t.term_uri,
    });
    if let Some(object) = out.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    out
}

/// One page of `query` in the envelope, each row through `to_json`.
async fn paged<E>(
    state: &AppState,
    params: &HashMap<String, String>,
    query: sea_orm::Select<E>,
    to_json: fn(E::Model) -> Value,
) -> Answer
where
    E: EntityTrait,
    E::Model: Sync,
{
    let (page, per_page) = paging(params)?;
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(&state.db)
        .await?;
    let contents = rows.into_iter().map(to_json).collect();
    Ok(Json(envelope(contents, total, page, per_page)))
}

/// One row by id, or 404.
async fn by_id<E>(
    state: &AppState,
    what: &str,
    id: String,
    to_json: fn(E::Model) -> Value,
) -> Answer
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<String>,
{
    let row = E::find_by_id(id.clone())
        .one(&state.db)
        .await?
        .ok_or_else(|| not_found(what, &id))?;
    Ok(Json(to_json(row)))
}

async fn taxonomies(State(state): State<AppState>, Query(params): Params) -> Answer {
    let query = taxonomy::Entity::find().order_by_asc(taxonomy::Column::Id);
    paged(&state, &params, query, taxonomy_json).await
}

async fn one_taxonomy(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    by_id::<taxonomy::Entity>(&state, "taxonomy", id, taxonomy_json).await
}

async fn taxonomy_terms(State(state): State<AppState>, Query(params): Params) -> Answer {
    let mut query = taxonomy_term::Entity::find().order_by_asc(taxonomy_term::Column::Id);
    if let Some(taxonomy_id) = text(&params, "taxonomy_id") {
        query = query.filter(taxonomy_term::Column::TaxonomyId.eq(taxonomy_id));
    }
    paged(&state, &params, query, term_json).await
}

async fn one_taxonomy_term(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    by_id::<taxonomy_term::Entity>(&state, "taxonomy_term", id, term_json).await
}
