//! Analysts' questions: loaded areas, and where supply falls short of need.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::Utc;
use entity::area;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::db;
use super::search::PersonInput;
use crate::domain::gaps::{self, GapQuestion, GapRequest};
use crate::domain::search::SearchHandle;
use crate::domain::validate::Fields;
use crate::error::AppError;

/// A loaded area (LSOA, ward, local authority, …).
#[derive(SimpleObject)]
pub struct Area {
    pub code: String,
    pub name: String,
    #[graphql(name = "type")]
    pub area_type: String,
    /// People of the relevant age band (all ages in `areas`); null when not loaded.
    pub population: Option<i64>,
    pub parent_code: Option<String>,
    /// The area-weighted centroid of the boundary, WGS84 degrees.
    pub centroid_latitude: f64,
    pub centroid_longitude: f64,
}

/// What to measure gaps in.
#[derive(InputObject)]
pub struct GapInput {
    /// lsoa, msoa, ward, local_authority, … (as loaded).
    pub area_type: String,
    /// Term codes; a term matches its descendants. All services when absent.
    pub taxonomy_terms: Option<Vec<String>>,
    /// Need codes (`needs`): the service types mapped to them count as asked for,
    /// alongside `taxonomyTerms`.
    pub needs: Option<Vec<String>>,
    /// Who the services must suit, as in search.
    pub person: Option<PersonInput>,
    /// An area counts as covered when a matching service is this close to its centroid.
    #[graphql(default_with = "gaps::DEFAULT_MAX_DISTANCE_METRES as i32")]
    pub max_distance_metres: i32,
    /// Only areas within this area (its code).
    pub within: Option<String>,
    /// The age band asked about (65 for "65 and over"): population counts these ages,
    /// and services must admit someone in the band.
    pub age_from: Option<i32>,
    pub age_to: Option<i32>,
}

impl GapInput {
    pub(crate) fn into_domain(self) -> Result<GapRequest, AppError> {
        let question = GapQuestion {
            area_type: self.area_type,
            taxonomy_terms: self.taxonomy_terms.unwrap_or_default(),
            needs: self.needs.unwrap_or_default(),
            person: self
                .person
                .map(PersonInput::into_domain)
                .transpose()?
                .unwrap_or_default(),
            max_distance_metres: Some(i64::from(self.max_distance_metres)),
            within: self.within,
            age_from: self.age_from.map(i64::from),
            age_to: self.age_to.map(i64::from),
        };
        GapRequest::check(question, Fields::GRAPHQL_INPUT)
    }
}

/// Supply against need in one area.
#[derive(SimpleObject)]
pub struct AreaGap {
    pub area: Area,
    /// Matching active services with a location inside the area.
    pub services_in_area: i32,
    /// Their places available now (expired capacity counts 0).
    pub available_places: i64,
    /// Places per 1,000 people of the age band; null without population.
    pub places_per_1000: Option<f64>,
    /// Geodesic metres from the area's centroid to the nearest matching location.
    pub nearest_service_metres: Option<f64>,
    /// A matching service within `maxDistanceMetres`, or a service area over the centroid.
    pub covered: bool,
    /// Searches made in the area for these terms.
    pub searches: i64,
    /// Of those, searches that found no suitable service.
    pub unmet_searches: i64,
}

impl From<gaps::AreaGap> for AreaGap {
    fn from(g: gaps::AreaGap) -> Self {
        Self {
            area: Area {
                code: g.code,
                name: g.name,
                area_type: g.area_type,
                population: g.population,
                parent_code: g.parent_code,
                centroid_latitude: g.centroid.latitude,
                centroid_longitude: g.centroid.longitude,
            },
            services_in_area: g.services_in_area as i32,
            available_places: g.available_places,
            places_per_1000: g.places_per_1000.map(|p| (p * 100.0).round() / 100.0),
            nearest_service_metres: g.nearest_service_metres,
            covered: g.covered,
            searches: g.searches,
            unmet_searches: g.unmet_searches,
        }
    }
}

#[derive(Default)]
pub struct GapsQuery;

#[Object]
impl GapsQuery {
    /// The types of the loaded areas (lsoa, ward, …), in order.
    async fn area_types(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let types: Vec<String> = area::Entity::find()
            .select_only()
            .column(area::Column::AreaType)
            .distinct()
            .order_by_asc(area::Column::AreaType)
            .into_tuple()
            .all(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        Ok(types)
    }

    /// Loaded areas of a type, in code order.
    async fn areas(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type")] area_type: String,
    ) -> Result<Vec<Area>> {
        let rows = area::Entity::find()
            .filter(area::Column::AreaType.eq(area_type.trim().to_ascii_lowercase()))
            .order_by_asc(area::Column::Code)
            .all(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        Ok(rows
            .into_iter()
            .map(|a| Area {
                code: a.code,
                name: a.name,
                area_type: a.area_type,
                population: a.population,
                parent_code: a.parent_code,
                centroid_latitude: a.centroid_latitude,
                centroid_longitude: a.centroid_longitude,
            })
            .collect())
    }

    /// One row per area of the type: matching services in it, their places, places
    /// per 1,000 people, distance to the nearest, coverage, and unmet demand.
    async fn service_gaps(&self, ctx: &Context<'_>, input: GapInput) -> Result<Vec<AreaGap>> {
        let request = input.into_domain()?;
        let search = ctx
            .data::<SearchHandle>()
            .map_err(|_| AppError::internal("no search index"))?;
        let rows = gaps::service_gaps(db(ctx)?, search, &request, Utc::now()).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
