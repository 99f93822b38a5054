//! `search`: the link worker's question, "what near my client is suitable for them,
//! has space, and why?". Its contract types live here.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use chrono::Utc;

use super::enums::{AccessibilityFeature, CapacityStatus, DayOfWeek, DeliveryMode, ReferralRoute};
use super::loaders::LocationById;
use super::places::Location;
use super::services::Service;
use super::{db, load};
use crate::domain::eligibility::{self, Person, PersonQuestion, WindowQuestion};
use crate::domain::paging::Page;
use crate::domain::place::{self, PlaceQuery};
use crate::domain::search::{self, ReachKind, SearchHandle, SearchRequest};
use crate::domain::validate::Fields;
use crate::error::AppError;
use crate::live::demand::{DemandRecorder, SearchEvent};

pub use crate::domain::search::DEFAULT_RADIUS_METRES;

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
    /// What the person needs (codes from `needs`: loneliness, debt, caring …): widens
    /// a search to the service types that help, and each result says which it serves.
    pub needs: Option<Vec<String>>,
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
#[graphql(remote = "eligibility::Outcome")]
pub enum FitOutcome {
    Met,
    NotMet,
    Unknown,
}

/// What a fit reason is about.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "eligibility::Criterion")]
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
    /// Whether the service helps with a need the person has (`PersonInput.needs`).
    Need,
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
pub struct ServiceMatch {
    service: Service,
    distance_metres: Option<f64>,
    reach: Reach,
    nearest_location_id: Option<String>,
    fit: Fit,
}

#[Object]
impl ServiceMatch {
    async fn service(&self) -> &Service {
        &self.service
    }
    /// Geodesic metres (WGS84) to the nearest location in range; null when the
    /// service reaches the place by its service area or remotely.
    async fn distance_metres(&self) -> Option<f64> {
        self.distance_metres
    }
    async fn reach(&self) -> Reach {
        self.reach
    }
    /// The location `distanceMetres` is measured to.
    async fn nearest_location(&self, ctx: &Context<'_>) -> Result<Option<Location>> {
        let Some(id) = self.nearest_location_id.clone() else {
            return Ok(None);
        };
        Ok(load(ctx, LocationById(id)).await?.map(Location))
    }
    async fn fit(&self) -> &Fit {
        &self.fit
    }
}

impl PersonInput {
    /// The person in the domain's terms, checked there (`Person::check`).
    pub(crate) fn into_domain(self) -> Result<Person, AppError> {
        let question = PersonQuestion {
            age: self.age,
            gender: self.gender,
            circumstances: self.circumstances,
            languages: self.languages,
            access_needs: self
                .access_needs
                .map(|n| n.into_iter().map(Into::into).collect()),
            max_cost_pence: self.max_cost_pence.map(i64::from),
            availability: self.availability.map(|windows| {
                windows
                    .into_iter()
                    .map(|w| WindowQuestion {
                        day: w.day.into(),
                        from: w.from,
                        to: w.to,
                    })
                    .collect()
            }),
            delivery_modes: self
                .delivery_modes
                .map(|m| m.into_iter().map(Into::into).collect()),
            referral_route: self.referral_route.map(Into::into),
            needs: self.needs,
        };
        Person::check(question, Fields("input.person."))
    }
}

impl From<eligibility::Fit> for Fit {
    fn from(fit: eligibility::Fit) -> Self {
        Self {
            suitable: fit.suitable,
            reasons: fit
                .reasons
                .into_iter()
                .map(|r| FitReason {
                    criterion: r.criterion.into(),
                    outcome: r.outcome.into(),
                    detail: r.detail,
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Services near a place that suit a person: suitable first, then by distance
    /// (services reaching the place by area or remotely after those at a distance),
    /// then by id. Each says how it reaches the person and why it fits or not.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        input: SearchInput,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ServiceMatch>> {
        let has_previous = after.is_some();
        let page = Page::new(first, after)?;
        let radius_metres = search::radius("input.radiusMetres", input.radius_metres)?;
        if input.verified_within_days.is_some_and(|d| d < 0) {
            return Err(
                AppError::bad_input("input.verifiedWithinDays", "must not be negative").into(),
            );
        }
        let near = PlaceQuery {
            postcode: input.near.postcode.as_deref(),
            latitude: input.near.latitude,
            longitude: input.near.longitude,
        };
        let point = place::resolve(db(ctx)?, near, "input.near").await?;
        let request = SearchRequest {
            near: point,
            radius_metres,
            taxonomy_terms: input.taxonomy_terms.unwrap_or_default(),
            text: crate::domain::validate::query_text("input.text", input.text)?,
            person: input
                .person
                .map(PersonInput::into_domain)
                .transpose()?
                .unwrap_or_default(),
            capacity: input
                .capacity
                .map(|c| c.into_iter().map(Into::into).collect()),
            verified_within_days: input.verified_within_days.map(|d| d as u32),
            include_unsuitable: input.include_unsuitable,
            fields: Fields::GRAPHQL_INPUT,
        };
        let handle = ctx
            .data::<SearchHandle>()
            .map_err(|_| AppError::internal("no search index"))?;
        let needs = request.person.needs.clone().unwrap_or_default();
        let (results, area, demand_terms) = {
            let index = handle.read();
            let results = search::run(&index, &request, &page, Utc::now())?;
            let area = index
                .area_at(point)
                .map(|a| a.code.clone())
                .unwrap_or_else(|| search::grid_cell(point));
            // Demand is counted by category: a search by need asked for the types
            // mapped to it, so gaps by need and by those types agree.
            let mut terms = request.taxonomy_terms.clone();
            for code in index.need_type_codes(&needs).unwrap_or_default() {
                if !terms.contains(&code) {
                    terms.push(code);
                }
            }
            (results, area, terms)
        };
        if let Ok(demand) = ctx.data::<DemandRecorder>() {
            demand.record(SearchEvent {
                at: Utc::now(),
                area_code: area,
                taxonomy_terms: demand_terms,
                needs,
                suitable_results: results.suitable_total,
            });
        }
        let mut connection = Connection::new(has_previous, results.has_next);
        for found in results.found {
            let node = ServiceMatch {
                service: Service::known(found.service_id, found.name),
                distance_metres: found.distance_metres.map(|m| (m * 10.0).round() / 10.0),
                reach: match found.reach {
                    ReachKind::AtLocation => Reach::AtLocation,
                    ReachKind::ServiceArea => Reach::ServiceArea,
                    ReachKind::Remote => Reach::Remote,
                },
                nearest_location_id: found.nearest_location_id,
                fit: found.fit.into(),
            };
            connection.edges.push(Edge::new(found.cursor, node));
        }
        Ok(connection)
    }
}
