//! Service gaps by area: for each area of a type, how many matching services are in
//! it, their places, people per place, how far the nearest one is from the area's
//! centroid, and the searches made there that found nothing.
//!
//! "Matching" is search's own: the taxonomy terms (with descendants) and the person's
//! fit, read from the search index, so a gap is exactly where search comes up short.
//! One R*-tree of the matching locations per question makes each area cost a box
//! query and a few nearest neighbours.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::area;
use geo::{Centroid, Contains, Point};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use super::eligibility::{self, Fit, Person};
use super::search::SearchHandle;
use super::search::index::{Entry, Probe, SearchIndex};
use super::validate::{self, Fields};
use crate::error::{AppError, AppResult};
use crate::spatial::Coordinates;

/// Nearest candidates (by projected distance) re-measured geodesically.
const NEAREST_CANDIDATES: usize = 8;

#[derive(Clone, Debug, Default)]
pub struct GapRequest {
    pub area_type: String,
    pub taxonomy_terms: Vec<String>,
    /// Need codes: their mapped service types count as asked for.
    pub needs: Vec<String>,
    pub person: Person,
    pub max_distance_metres: f64,
    /// Only areas within this one (by `parent_code`, or else whose centroid it contains).
    pub within: Option<String>,
    /// The age band the question is about: population counts only these ages, and
    /// services must admit someone in the band.
    pub age_from: Option<u32>,
    pub age_to: Option<u32>,
    /// How the caller's protocol names the question's fields.
    pub fields: Fields,
}

/// A gap question as an adapter received it, before its checks.
#[derive(Clone, Debug, Default)]
pub struct GapQuestion {
    pub area_type: String,
    pub taxonomy_terms: Vec<String>,
    /// Need codes: the service types mapped to them count as asked for.
    pub needs: Vec<String>,
    pub person: Person,
    pub max_distance_metres: Option<i64>,
    pub within: Option<String>,
    pub age_from: Option<i64>,
    pub age_to: Option<i64>,
}

/// Metres from an area's centroid within which a service covers it, by default.
pub const DEFAULT_MAX_DISTANCE_METRES: i64 = 2000;

impl GapRequest {
    /// The needs asked for, in `needs` and the person's alike, once each.
    fn all_needs(&self) -> Vec<String> {
        let mut all = self.needs.clone();
        for need in self.person.needs.iter().flatten() {
            if !all.contains(need) {
                all.push(need.clone());
            }
        }
        all
    }

    /// Check a question once, for every adapter; `fields` names inputs as the
    /// caller's protocol does.
    pub fn check(question: GapQuestion, fields: Fields) -> AppResult<Self> {
        let metres = question
            .max_distance_metres
            .unwrap_or(DEFAULT_MAX_DISTANCE_METRES);
        if !(1..=100_000).contains(&metres) {
            return Err(AppError::bad_input(
                fields.name("maxDistanceMetres"),
                "must lie in 1..100000",
            ));
        }
        let age = |value: Option<i64>, field: &str| {
            value
                .map(|a| validate::age(&fields.name(field), a as f64).map(|a| a as u32))
                .transpose()
        };
        let age_from = age(question.age_from, "ageFrom")?;
        let age_to = age(question.age_to, "ageTo")?;
        if let (Some(from), Some(to)) = (age_from, age_to)
            && from > to
        {
            return Err(AppError::bad_input(
                fields.name("ageFrom"),
                "must not be above ageTo",
            ));
        }
        if question.area_type.trim().is_empty() {
            return Err(AppError::bad_input(
                fields.name("areaType"),
                "required (lsoa, ward, …)",
            ));
        }
        Ok(Self {
            area_type: question.area_type.trim().to_string(),
            taxonomy_terms: question.taxonomy_terms,
            needs: super::person::check_needs(&fields.name("needs"), &question.needs)?,
            person: Person {
                needs: question
                    .person
                    .needs
                    .as_deref()
                    .map(|n| super::person::check_needs(&fields.name("person.needs"), n))
                    .transpose()?,
                ..question.person
            },
            max_distance_metres: metres as f64,
            within: question.within,
            age_from,
            age_to,
            fields,
        })
    }
}

#[derive(Clone, Debug)]
pub struct AreaGap {
    pub code: String,
    pub name: String,
    pub area_type: String,
    pub parent_code: Option<String>,
    /// People in the age band (all ages without one); None when not loaded.
    pub population: Option<i64>,
    pub services_in_area: usize,
    pub available_places: i64,
    pub places_per_1000: Option<f64>,
    pub nearest_service_metres: Option<f64>,
    pub covered: bool,
    pub searches: i64,
    pub unmet_searches: i64,
    /// The area-weighted centroid distances are measured from.
    pub centroid: Coordinates,
    /// The boundary as GeoJSON text, for maps.
    pub geometry: String,
}

/// A location projected so that planar distance approximates metres nearby:
/// (slot, point).
type Projected = GeomWithData<[f64; 2], (u32, Coordinates)>;

struct Projection {
    cos_lat: f64,
}

impl Projection {
    fn at(&self, c: Coordinates) -> [f64; 2] {
        [c.longitude * self.cos_lat, c.latitude]
    }
}

/// People of the band from single-year counts (0..89, then 90+).
fn band_population(
    by_age: Option<&serde_json::Value>,
    all: Option<i64>,
    from: Option<u32>,
    to: Option<u32>,
) -> Option<i64> {
    if from.is_none() && to.is_none() {
        return all;
    }
    let counts = by_age?.as_array()?;
    let (from, to) = (
        from.unwrap_or(0) as usize,
        to.map_or(usize::MAX, |t| t as usize),
    );
    Some(
        counts
            .iter()
            .enumerate()
            .filter(|(age, _)| *age >= from && (*age <= to || (*age == 90 && to >= 90)))
            .filter_map(|(_, n)| n.as_i64())
            .sum(),
    )
}

/// Whether a listing's age range (minimum, maximum) admits someone in the band.
fn admits_band(ages: (Option<f64>, Option<f64>), from: Option<u32>, to: Option<u32>) -> bool {
    let (band_from, band_to) = (
        f64::from(from.unwrap_or(0)),
        to.map_or(f64::INFINITY, |t| f64::from(t) + 1.0),
    );
    let (minimum, maximum) = ages;
    minimum.is_none_or(|min| min < band_to) && maximum.is_none_or(|max| max >= band_from)
}

/// Whether a service is for the band and suits the person: from its compact rules
/// where they hold it (no listing decoded, as for most of a million), else in full.
fn suits(
    index: &SearchIndex,
    (slot, entry): (u32, &Entry),
    probe: &Probe,
    request: &GapRequest,
    today: NaiveDate,
) -> bool {
    let band = |ages| admits_band(ages, request.age_from, request.age_to);
    if let (Some((suitable, _)), Some(ages)) = (index.verdict(slot, probe), index.ages(slot)) {
        return suitable && band(ages);
    }
    let listing = entry.listing.unpack();
    band((listing.minimum_age, listing.maximum_age))
        && Fit::from_reasons(eligibility::assess_with(
            &request.person,
            &listing,
            today,
            None,
        ))
        .suitable
}

pub async fn service_gaps(
    db: &impl ConnectionTrait,
    search: &SearchHandle,
    request: &GapRequest,
    now: DateTime<Utc>,
) -> AppResult<Vec<AreaGap>> {
    let area_type = request.area_type.trim().to_ascii_lowercase();
    let mut query = area::Entity::find()
        .select_only()
        .columns([
            area::Column::Code,
            area::Column::Name,
            area::Column::ParentCode,
            area::Column::Population,
            area::Column::PopulationByAge,
            area::Column::Geometry,
        ])
        .filter(area::Column::AreaType.eq(&area_type))
        .order_by_asc(area::Column::Code);
    let mut parent_shape = None;
    if let Some(within) = &request.within {
        let parent = area::Entity::find_by_id(within.clone())
            .one(db)
            .await?
            .ok_or_else(|| {
                AppError::bad_input(request.fields.name("within"), format!("no area {within}"))
            })?;
        let by_code = area::Entity::find()
            .filter(area::Column::AreaType.eq(&area_type))
            .filter(area::Column::ParentCode.eq(within.as_str()))
            .count(db)
            .await?;
        if by_code > 0 {
            query = query.filter(area::Column::ParentCode.eq(within.as_str()));
        } else {
            parent_shape =
                Some(crate::spatial::parse_polygons(&parent.geometry).map_err(AppError::internal)?);
        }
    }
    type Row = (
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<serde_json::Value>,
        String,
    );
    let rows: Vec<Row> = query.into_tuple().all(db).await?;
    let today = now.date_naive();
    // A need stands for the service types mapped to it, in supply and in demand alike.
    let terms = {
        let index = search.read();
        let mut terms = request.taxonomy_terms.clone();
        let mut mapped = Vec::new();
        for (field, needs) in [
            ("needs", &request.needs[..]),
            (
                "person.needs",
                request.person.needs.as_deref().unwrap_or_default(),
            ),
        ] {
            mapped.extend(index.need_type_codes(needs).map_err(|unknown| {
                AppError::bad_input(
                    request.fields.name(field),
                    format!("unknown need: {} (see `needs`)", unknown.join(", ")),
                )
            })?);
        }
        for code in mapped {
            if !terms.contains(&code) {
                terms.push(code);
            }
        }
        terms
    };
    let events = demand(db, &terms).await?;

    let index = search.read();
    let needs = request.all_needs();
    let wanted = if terms.is_empty() && needs.is_empty() {
        None
    } else {
        let unknown_terms = |unknown: Vec<String>| {
            AppError::bad_input(
                request.fields.name("taxonomyTerms"),
                format!("unknown taxonomy term: {}", unknown.join(", ")),
            )
        };
        // Supply by the same terms a search by need finds: the mapped ids and
        // their descendants (demand above goes by code, as searches record it).
        let mut wanted = request.taxonomy_terms.clone();
        index.expand_terms(&wanted).map_err(unknown_terms)?;
        for (_, serves) in index.needs_asked(&needs).unwrap_or_default() {
            wanted.extend(serves);
        }
        Some(index.expand_terms(&wanted).map_err(unknown_terms)?)
    };
    let shapes: HashMap<&str, &super::search::index::Area> =
        index.areas().iter().map(|a| (a.code.as_str(), a)).collect();
    let latitudes: Vec<f64> = rows
        .iter()
        .filter_map(|r| shapes.get(r.0.as_str())?.shape.centroid())
        .map(|c| c.y())
        .collect();
    let mean_latitude = if latitudes.is_empty() {
        53.0
    } else {
        latitudes.iter().sum::<f64>() / latitudes.len() as f64
    };
    let projection = Projection {
        cos_lat: mean_latitude.to_radians().cos(),
    };
    let mut points = Vec::new();
    let mut covering = Vec::new();
    let mut places = HashMap::new();
    let probe = index.probe(&request.person, today);
    for (slot, entry) in index.entries() {
        let matches = wanted.as_ref().is_none_or(|t| t.matches(entry))
            && suits(&index, (slot, entry), &probe, request, today);
        if !matches {
            continue;
        }
        places.insert(slot, entry.available_places(now));
        for (_, at) in &entry.locations {
            points.push(Projected::new(projection.at(*at), (slot, *at)));
        }
        covering.extend(entry.service_areas.iter());
    }
    let tree = RTree::bulk_load(points);

    // Demand recorded in this area, or in a smaller area whose centroid lies in it.
    let codes: std::collections::HashSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let mut demand_in: HashMap<&str, (i64, i64)> = HashMap::new();
    for (event_area, (count, none)) in &events {
        let target = if let Some(code) = codes.get(event_area.as_str()) {
            Some(*code)
        } else {
            shapes
                .get(event_area.as_str())
                .and_then(|e| Some((e.size, e.shape.centroid()?)))
                .and_then(|(size, c)| {
                    rows.iter()
                        .filter_map(|r| shapes.get(r.0.as_str()).map(|a| (r.0.as_str(), a)))
                        .find(|(_, a)| a.size > size && a.shape.contains(&c))
                        .map(|(code, _)| code)
                })
        };
        if let Some(target) = target {
            let total = demand_in.entry(target).or_default();
            total.0 += count;
            total.1 += none;
        }
    }
    let demand_in: HashMap<String, (i64, i64)> = demand_in
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();

    let mut out = Vec::with_capacity(rows.len());
    for (code, name, parent_code, population, by_age, geometry) in rows {
        let Some(area) = shapes.get(code.as_str()) else {
            continue;
        };
        let Some(centroid) = area.shape.centroid() else {
            continue;
        };
        if let Some(parent) = &parent_shape
            && !parent.contains(&centroid)
        {
            continue;
        }
        let at = Coordinates {
            latitude: centroid.y(),
            longitude: centroid.x(),
        };
        let bbox = geo::BoundingRect::bounding_rect(&area.shape);
        let mut inside: Vec<u32> = match bbox {
            Some(rect) => {
                let envelope = rstar::AABB::from_corners(
                    projection.at(Coordinates {
                        latitude: rect.min().y,
                        longitude: rect.min().x,
                    }),
                    projection.at(Coordinates {
                        latitude: rect.max().y,
                        longitude: rect.max().x,
                    }),
                );
                tree.locate_in_envelope(&envelope)
                    .filter(|p| {
                        area.shape
                            .contains(&Point::new(p.data.1.longitude, p.data.1.latitude))
                    })
                    .map(|p| p.data.0)
                    .collect()
            }
            None => Vec::new(),
        };
        inside.sort_unstable();
        inside.dedup();
        let available: i64 = inside.iter().filter_map(|s| places.get(s)).sum();
        let nearest = tree
            .nearest_neighbor_iter(&projection.at(at))
            .take(NEAREST_CANDIDATES)
            .map(|p| at.distance_metres(p.data.1))
            .min_by(f64::total_cmp);
        let in_service_area = covering.iter().any(|shape| shape.contains(&centroid));
        let population = band_population(
            by_age.as_ref(),
            population,
            request.age_from,
            request.age_to,
        );
        let (searches, unmet) = demand_in.get(&code).copied().unwrap_or_default();
        out.push(AreaGap {
            code,
            name,
            area_type: area_type.clone(),
            parent_code,
            population,
            services_in_area: inside.len(),
            available_places: available,
            places_per_1000: population
                .filter(|p| *p > 0)
                .map(|p| available as f64 * 1000.0 / p as f64),
            nearest_service_metres: nearest.map(|m| (m * 10.0).round() / 10.0),
            covered: nearest.is_some_and(|m| m <= request.max_distance_metres) || in_service_area,
            searches,
            unmet_searches: unmet,
            centroid: at,
            geometry,
        });
    }
    Ok(out)
}

/// Searches per recorded area for these terms (any of them; all searches when
/// none): (searches, searches with no suitable result). The database counts them
/// by area and term list, so the work grows with the kinds of search, not with
/// every search ever made. (The terms are compared as text: PostgreSQL cannot
/// group a `json` column.)
async fn demand(
    db: &impl ConnectionTrait,
    terms: &[String],
) -> AppResult<HashMap<String, (i64, i64)>> {
    let grouped = Statement::from_string(
        db.get_database_backend(),
        "SELECT area_code, CAST(taxonomy_terms AS TEXT) AS terms, COUNT(*) AS searches, \
         SUM(CASE WHEN suitable_results = 0 THEN 1 ELSE 0 END) AS unmet \
         FROM search_event WHERE area_code IS NOT NULL \
         GROUP BY area_code, CAST(taxonomy_terms AS TEXT)",
    );
    let mut out: HashMap<String, (i64, i64)> = HashMap::new();
    for row in db.query_all_raw(grouped).await? {
        let code: String = row.try_get("", "area_code")?;
        let searched: String = row.try_get("", "terms")?;
        let searched: Vec<String> = serde_json::from_str(&searched).unwrap_or_default();
        let asked = |t: &String| searched.iter().any(|s| s.eq_ignore_ascii_case(t));
        if !terms.is_empty() && !terms.iter().any(asked) {
            continue;
        }
        let entry = out.entry(code).or_default();
        entry.0 += row.try_get::<i64>("", "searches")?;
        entry.1 += row.try_get::<i64>("", "unmet")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_band_counts_its_single_years_and_90_plus_belongs_to_every_open_band() {
        let mut counts = vec![1; 90];
        counts.push(7);
        let by_age = json!(counts);
        assert_eq!(
            band_population(Some(&by_age), Some(97), None, None),
            Some(97)
        );
        assert_eq!(
            band_population(Some(&by_age), Some(97), Some(65), None),
            Some(25 + 7)
        );
        assert_eq!(
            band_population(Some(&by_age), Some(97), Some(0), Some(15)),
            Some(16)
        );
        assert_eq!(band_population(None, Some(97), Some(65), None), None);
    }

    #[test]
    fn a_listing_admits_a_band_when_their_ages_overlap() {
        assert!(admits_band((Some(60.0), None), Some(65), None));
        assert!(!admits_band((None, Some(25.0)), Some(65), None));
        assert!(admits_band((Some(18.0), Some(65.0)), Some(65), None));
        assert!(!admits_band((Some(16.0), None), Some(0), Some(15)));
    }
}
