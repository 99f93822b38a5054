//! `search`: the link worker's question, "what near my client is suitable for them,
//! has space, and why?". Its contract types live here.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};

use super::db;
use super::enums::{AccessibilityFeature, CapacityStatus, DayOfWeek, DeliveryMode, ReferralRoute};
use super::places::Location;
use super::services::Service;
use crate::domain::paging::Page;
use crate::domain::place::{self, PlaceQuery};
use crate::error::AppError;

/// Default search radius in metres.
pub const DEFAULT_RADIUS_METRES: i32 = 5000;
/// Largest search radius in metres.
pub const MAX_RADIUS_METRES: i32 = 100_000;

/// Where to search from: a postcode, or a latitude and longitude (WGS84 degrees).
#[derive(InputObject)]
pub struct PlaceInput {
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// A time window on a day, local time "HH:MM".
#[derive(InputObject)]
pub struct AvailabilityInput {
    pub day: DayOfWeek,
    /// Earliest start, "HH:MM"; the whole day when absent.
    pub from: Option<String>,
    /// Latest end, "HH:MM".
    pub to: Option<String>,
}

/// The person a link worker is helping. Every field is optional; a silent field is not assessed.
#[derive(InputObject)]
pub struct PersonInput {
    /// Age in years (decimals allowed).
    pub age: Option<f64>,
    pub gender: Option<String>,
    /// Circumstance term codes (carer, veteran, ...).
    pub circumstances: Option<Vec<String>>,
    /// ISO 639 language codes the person speaks.
    pub languages: Option<Vec<String>>,
    pub access_needs: Option<Vec<AccessibilityFeature>>,
    /// Most the person can pay per session, in pence.
    pub max_cost_pence: Option<i32>,
    /// When the person can attend.
    pub availability: Option<Vec<AvailabilityInput>>,
    /// Ways the person can take part.
    pub delivery_modes: Option<Vec<DeliveryMode>>,
    /// How the person is being referred.
    pub referral_route: Option<ReferralRoute>,
}

/// What to search for.
#[derive(InputObject)]
pub struct SearchInput {
    pub near: PlaceInput,
    /// 1..100000 metres.
    #[graphql(default_with = "DEFAULT_RADIUS_METRES")]
    pub radius_metres: i32,
    /// Term codes; a term matches its descendants.
    pub taxonomy_terms: Option<Vec<String>>,
    pub text: Option<String>,
    pub person: Option<PersonInput>,
    /// Only services whose current capacity is one of these (expired capacity is UNKNOWN).
    pub capacity: Option<Vec<CapacityStatus>>,
    /// Only services a person verified within this many days.
    pub verified_within_days: Option<i32>,
    /// Also return unsuitable services, each with its NOT_MET reasons.
    #[graphql(default = false)]
    pub include_unsuitable: bool,
}

/// How a service reaches the person.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum Reach {
    /// At one of its locations, within the radius.
    AtLocation,
    /// Its service area contains the person's place.
    ServiceArea,
    /// Online or by telephone.
    Remote,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum FitOutcome {
    Met,
    NotMet,
    Unknown,
}

/// What a fit reason is about.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum FitCriterion {
    Age,
    Gender,
    Circumstances,
    Language,
    Access,
    Cost,
    Availability,
    DeliveryMode,
    ReferralRoute,
    Residency,
}

/// One criterion assessed, with a sentence a link worker can read aloud.
#[derive(SimpleObject)]
pub struct FitReason {
    pub criterion: FitCriterion,
    pub outcome: FitOutcome,
    pub detail: String,
}

/// Whether a service suits the person: `suitable` is false exactly when a reason is NOT_MET.
#[derive(SimpleObject)]
pub struct Fit {
    pub suitable: bool,
    pub reasons: Vec<FitReason>,
}

/// A service found by `search`, with how it reaches the person and why it fits.
#[derive(SimpleObject)]
pub struct ServiceMatch {
    pub service: Service,
    /// Geodesic metres to the nearest location; null when reached by area or remotely.
    pub distance_metres: Option<f64>,
    pub reach: Reach,
    pub nearest_location: Option<Location>,
    pub fit: Fit,
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Services near a place that suit a person, suitable first, then by distance.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        input: SearchInput,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ServiceMatch>> {
        let _page = Page::new(first, after.clone())?;
        if !(1..=MAX_RADIUS_METRES).contains(&input.radius_metres) {
            return Err(AppError::bad_input(
                "input.radiusMetres",
                format!("must lie in 1..{MAX_RADIUS_METRES}"),
            )
            .into());
        }
        let near = PlaceQuery {
            postcode: input.near.postcode.as_deref(),
            latitude: input.near.latitude,
            longitude: input.near.longitude,
        };
        let _point = place::resolve(db(ctx)?, near, "input.near").await?;
        // Matching and ranking arrive with the search issue; until then no candidates.
        Ok(Connection::new(after.is_some(), false))
    }
}
