//! The rows the search index reads for a set of services, by name, and how they
//! become index entries. Only the columns the index needs are read (rows cross from
//! the database driver one by one, so narrow rows make start-up fast), a few
//! set-wise queries per load and never one per service. `entry` turns them into
//! index entries.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    accessibility, capacity, cost_option, eligibility, language, location, schedule, service,
    service_area, service_taxonomy,
};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;

use super::load::{Scope, tuples};
use crate::domain::codes::codes_in as codes_of;
use crate::domain::eligibility::Price;
use crate::spatial::Coordinates;

/// A service's own columns.
pub(in crate::domain::search) struct ServiceRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub retired_at: Option<DateTime<Utc>>,
    pub minimum_age: Option<f64>,
    pub maximum_age: Option<f64>,
    pub referral_routes: Value,
    pub delivery_modes: Value,
    pub residency_area_code: Option<String>,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

type ServiceTuple = (
    String,
    String,
    Option<String>,
    String,
    Option<DateTime<Utc>>,
    Option<f64>,
    Option<f64>,
    Value,
    Value,
    Option<String>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

impl ServiceRow {
    pub(in crate::domain::search) async fn read(
        db: &impl ConnectionTrait,
        scope: Scope<'_>,
    ) -> Result<Vec<Self>, DbErr> {
        use service::Column as S;
        let columns = vec![
            S::Id,
            S::Name,
            S::Description,
            S::Status,
            S::RetiredAt,
            S::MinimumAge,
            S::MaximumAge,
            S::ReferralRoutes,
            S::DeliveryModes,
            S::ResidencyAreaCode,
            S::LastVerifiedAt,
            S::UpdatedAt,
        ];
        let rows: Vec<ServiceTuple> =
            tuples::<service::Entity, ServiceTuple>(db, columns, S::Id, scope).await?;
        Ok(rows
            .into_iter()
            .map(|r| Self {
                id: r.0,
                name: r.1,
                description: r.2,
                status: r.3,
                retired_at: r.4,
                minimum_age: r.5,
                maximum_age: r.6,
                referral_routes: r.7,
                delivery_modes: r.8,
                residency_area_code: r.9,
                last_verified_at: r.10,
                updated_at: r.11,
            })
            .collect())
    }
}

/// A language spoken by a service or at a location.
#[derive(Clone)]
struct LanguageRow {
    service_id: Option<String>,
    location_id: Option<String>,
    code: Option<String>,
}

/// An eligibility rule: a criterion, its value and whether it restricts or suits.
struct RuleRow {
    criterion: String,
    value: String,
    rule: String,
}

/// A weekly session, its times of day as stored ("HH:MM:SS").
struct ScheduleRow {
    byday: Option<String>,
    opens_at: Option<String>,
    closes_at: Option<String>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

struct CapacityRow {
    status: String,
    updated_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    available: Option<i32>,
}

/// Everything but the service's own columns, grouped by service (or location) id.
#[derive(Default)]
pub(in crate::domain::search) struct Parts {
    /// Location ids of each service.
    links: HashMap<String, Vec<String>>,
    points: HashMap<String, Coordinates>,
    /// Accessibility feature codes by location.
    access: HashMap<String, Vec<Option<String>>>,
    languages_by_location: HashMap<String, Vec<LanguageRow>>,
    languages_by_service: HashMap<String, Vec<LanguageRow>>,
    /// Category term ids by service.
    terms: HashMap<String, Vec<String>>,
    rules: HashMap<String, Vec<RuleRow>>,
    prices: HashMap<String, Vec<Price>>,
    schedules: HashMap<String, Vec<ScheduleRow>>,
    capacities: HashMap<String, Vec<CapacityRow>>,
    /// GeoJSON extents by service (other extent types are not used to place one).
    areas: HashMap<String, Vec<String>>,
}

mod entry;

impl Parts {
    /// The parts of the services in `wanted` (their locations by id, or all when
    /// `scope` is all), read side by side on the pool's connections.
    pub(in crate::domain::search) async fn read(
        db: &impl ConnectionTrait,
        scope: Scope<'_>,
        wanted: Scope<'_>,
    ) -> Result<Self, DbErr> {
        use entity::service_at_location::{Column as Sal, Entity as SalEntity};
        let links: Vec<(String, String)> = tuples::<SalEntity, _>(
            db,
            vec![Sal::ServiceId, Sal::LocationId],
            Sal::ServiceId,
            wanted,
        )
        .await?;
        // A list of location ids only for a load by ids (a page goes through its services).
        let location_ids: Vec<String> = match scope {
            Scope::Ids(_) => links.iter().map(|l| l.1.clone()).collect(),
            _ => Vec::new(),
        };
        let by_location = match scope {
            Scope::All => Scope::All,
            Scope::Range(first, last) => Scope::LocationsOf(first, last),
            _ => Scope::Ids(&location_ids),
        };
        type Language = (Option<String>, Option<String>, Option<String>);
        let language_columns = || {
            vec![
                language::Column::ServiceId,
                language::Column::LocationId,
                language::Column::Code,
            ]
        };
        let (
            points,
            access,
            languages,
            location_languages,
            terms,
            rules,
            prices,
            schedules,
            capacities,
            areas,
        ) = tokio::try_join!(
            tuples::<location::Entity, (String, Option<f64>, Option<f64>)>(
                db,
                vec![
                    location::Column::Id,
                    location::Column::Latitude,
                    location::Column::Longitude
                ],
                location::Column::Id,
                by_location,
            ),
            tuples::<accessibility::Entity, (String, Option<String>)>(
                db,
                vec![
                    accessibility::Column::LocationId,
                    accessibility::Column::Feature
                ],
                accessibility::Column::LocationId,
                by_location,
            ),
            tuples::<language::Entity, Language>(
                db,
                language_columns(),
                language::Column::ServiceId,
                wanted
            ),
            async {
                match by_location {
                    // A full load already read every language row above.
                    Scope::All => Ok(Vec::new()),
                    ids => {
                        tuples::<language::Entity, Language>(
                            db,
                            language_columns(),
                            language::Column::LocationId,
                            ids,
                        )
                        .await
                    }
                }
            },
            tuples::<service_taxonomy::Entity, (String, String)>(
                db,
                vec![
                    service_taxonomy::Column::ServiceId,
                    service_taxonomy::Column::TaxonomyTermId
                ],
                service_taxonomy::Column::ServiceId,
                wanted,
            ),
            tuples::<eligibility::Entity, (String, String, String, String)>(
                db,
                vec![
                    eligibility::Column::ServiceId,
                    eligibility::Column::Criterion,
                    eligibility::Column::Value,
                    eligibility::Column::Rule,
                ],
                eligibility::Column::ServiceId,
                wanted,
            ),
            tuples::<cost_option::Entity, (String, Option<i64>, Value)>(
                db,
                vec![
                    cost_option::Column::ServiceId,
                    cost_option::Column::AmountPence,
                    cost_option::Column::Concessions
                ],
                cost_option::Column::ServiceId,
                wanted,
            ),
            tuples::<schedule::Entity, ScheduleTuple>(
                db,
                vec![
                    schedule::Column::ServiceId,
                    schedule::Column::Byday,
                    schedule::Column::OpensAt,
                    schedule::Column::ClosesAt,
                    schedule::Column::ValidFrom,
                    schedule::Column::ValidTo,
                ],
                schedule::Column::ServiceId,
                wanted,
            ),
            tuples::<capacity::Entity, CapacityTuple>(
                db,
                vec![
                    capacity::Column::ServiceId,
                    capacity::Column::Status,
                    capacity::Column::UpdatedAt,
                    capacity::Column::ExpiresAt,
                    capacity::Column::Available,
                ],
                capacity::Column::ServiceId,
                wanted,
            ),
            tuples::<service_area::Entity, (String, Option<String>, Option<String>)>(
                db,
                vec![
                    service_area::Column::ServiceId,
                    service_area::Column::ExtentType,
                    service_area::Column::Extent
                ],
                service_area::Column::ServiceId,
                wanted,
            ),
        )?;

        let languages: Vec<LanguageRow> = languages
            .into_iter()
            .chain(location_languages)
            .map(|(service_id, location_id, code)| LanguageRow {
                service_id,
                location_id,
                code,
            })
            .collect();
        Ok(Self {
            links: pairs(links),
            points: points
                .into_iter()
                .filter_map(|(id, lat, lon)| Some((id, Coordinates::new(lat?, lon?).ok()?)))
                .collect(),
            access: pairs(access),
            languages_by_location: pairs(
                languages
                    .iter()
                    .filter_map(|l| Some((l.location_id.clone()?, l.clone())))
                    .collect(),
            ),
            languages_by_service: pairs(
                languages
                    .into_iter()
                    .filter_map(|l| Some((l.service_id.clone()?, l)))
                    .collect(),
            ),
            terms: pairs(terms),
            rules: pairs(
                rules
                    .into_iter()
                    .map(|(service_id, criterion, value, rule)| {
                        (
                            service_id,
                            RuleRow {
                                criterion,
                                value,
                                rule,
                            },
                        )
                    })
                    .collect(),
            ),
            prices: pairs(
                prices
                    .into_iter()
                    .map(|(service_id, pence, concessions)| {
                        let concessions = codes_of(&concessions, |v| Some(v.to_string()));
                        (service_id, Price { pence, concessions })
                    })
                    .collect(),
            ),
            schedules: pairs(
                schedules
                    .into_iter()
                    .filter_map(
                        |(service_id, byday, opens_at, closes_at, valid_from, valid_to)| {
                            let row = ScheduleRow {
                                byday,
                                opens_at,
                                closes_at,
                                valid_from,
                                valid_to,
                            };
                            Some((service_id?, row))
                        },
                    )
                    .collect(),
            ),
            capacities: pairs(
                capacities
                    .into_iter()
                    .map(|(service_id, status, updated_at, expires_at, available)| {
                        let row = CapacityRow {
                            status,
                            updated_at,
                            expires_at,
                            available,
                        };
                        (service_id, row)
                    })
                    .collect(),
            ),
            areas: pairs(
                areas
                    .into_iter()
                    .filter(|(_, kind, _)| kind.as_deref() == Some("geojson"))
                    .filter_map(|(service_id, _, extent)| Some((service_id, extent?)))
                    .collect(),
            ),
        })
    }
}

type ScheduleTuple = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

type CapacityTuple = (
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<i32>,
);

/// (key, value) rows grouped by key, in the order read.
fn pairs<V>(rows: Vec<(String, V)>) -> HashMap<String, Vec<V>> {
    let mut map: HashMap<String, Vec<V>> = HashMap::new();
    for (key, value) in rows {
        map.entry(key).or_default().push(value);
    }
    map
}
