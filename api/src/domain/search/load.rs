//! Filling the search index from the database: all of it at start-up, then only the
//! services that changed. A few set-wise queries per load (never one per service).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    accessibility, area, capacity, cost_option, eligibility, language, location, schedule, service,
    service_area, service_at_location, service_taxonomy,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::index::{Area, Entry};
use crate::domain::Policy;
use crate::domain::capacity as capacity_rules;
use crate::domain::codes::{
    AccessibilityFeature, CapacityStatus, DeliveryMode, EligibilityCriterion, EligibilityRule,
    ReferralRoute, ServiceStatus, codes_in as codes_of, days_in,
};
use crate::domain::eligibility::{Listing, Price, Session};
use crate::spatial::{self, Coordinates};

/// How many ids one `IN (...)` list carries (well under SQLite's 32,766 variables).
const CHUNK: usize = 5000;

/// Ids of services after `after`, in id order, a page at a time: start-up
/// loads the index page by page so its peak memory stays bounded.
pub async fn searchable_ids(
    db: &impl ConnectionTrait,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let mut query = searchable().select_only().column(service::Column::Id);
    if let Some(after) = after {
        query = query.filter(service::Column::Id.gt(after));
    }
    query
        .order_by_asc(service::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

fn minutes(text: &Option<String>) -> Option<u16> {
    use crate::domain::validate;
    validate::time_of_day("", text.as_deref()?)
        .ok()
        .map(validate::minutes_of)
}

/// Which services (or locations) a load covers.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    All,
    /// Exactly these ids.
    Ids(&'a [String]),
    /// Every id from the first to the last, inclusive: a page of ids in order.
    Range(&'a str, &'a str),
}

/// The named columns of `E` as tuples, for rows whose `key` is in `scope`. Only what
/// the index needs is read: rows cross from the database driver one by one, so
/// narrow rows are what makes start-up fast.
async fn tuples<E, T>(
    db: &impl ConnectionTrait,
    columns: Vec<E::Column>,
    key: E::Column,
    scope: Scope<'_>,
) -> Result<Vec<T>, DbErr>
where
    E: EntityTrait,
    T: sea_orm::TryGetableMany,
{
    let select = || E::find().select_only().columns(columns.clone());
    match scope {
        Scope::All => select().into_tuple().all(db).await,
        Scope::Range(first, last) => {
            select()
                .filter(key.between(first, last))
                .into_tuple()
                .all(db)
                .await
        }
        Scope::Ids(ids) => {
            let mut out = Vec::new();
            for chunk in ids.chunks(CHUNK) {
                out.extend(
                    select()
                        .filter(key.is_in(chunk.iter().cloned()))
                        .into_tuple()
                        .all(db)
                        .await?,
                );
            }
            Ok(out)
        }
    }
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Option<String>) -> HashMap<String, Vec<T>> {
    let mut map: HashMap<String, Vec<T>> = HashMap::new();
    for row in rows {
        if let Some(k) = key(&row) {
            map.entry(k).or_default().push(row);
        }
    }
    map
}

type ServiceRow = (
    String,
    String,
    Option<String>,
    String,
    Option<DateTime<Utc>>,
    Option<f64>,
    Option<f64>,
    serde_json::Value,
    serde_json::Value,
    Option<String>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

/// Index entries for the services in `scope`. A service that is retired or not active
/// has no entry: it is not searchable.
pub async fn entries(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    policy: Policy,
) -> Result<Vec<Entry>, DbErr> {
    use service::Column as S;
    let services: Vec<ServiceRow> = tuples::<service::Entity, ServiceRow>(
        db,
        vec![
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
        ],
        S::Id,
        scope,
    )
    .await?
    .into_iter()
    .filter(|s| s.4.is_none() && ServiceStatus::from_code(&s.3) == Some(ServiceStatus::Active))
    .collect();
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let searchable: Vec<String> = match scope {
        Scope::Ids(_) => services.iter().map(|s| s.0.clone()).collect(),
        _ => Vec::new(),
    };
    let wanted = match scope {
        Scope::Ids(_) => Scope::Ids(&searchable),
        other => other,
    };

    use service_at_location::Column as Sal;
    let links: Vec<(String, String)> = tuples::<service_at_location::Entity, _>(
        db,
        vec![Sal::ServiceId, Sal::LocationId],
        Sal::ServiceId,
        wanted,
    )
    .await?;
    let location_ids: Vec<String> = links.iter().map(|l| l.1.clone()).collect();
    let by_location = match scope {
        Scope::All => Scope::All,
        _ => Scope::Ids(&location_ids),
    };

    // The rest are independent: read them side by side on the pool's connections.
    let (
        locations,
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
        tuples::<language::Entity, (Option<String>, Option<String>, Option<String>)>(
            db,
            vec![
                language::Column::ServiceId,
                language::Column::LocationId,
                language::Column::Code
            ],
            language::Column::ServiceId,
            wanted,
        ),
        async {
            match by_location {
                // A full load already read every language row above.
                Scope::All => Ok(Vec::new()),
                ids => {
                    tuples::<language::Entity, (Option<String>, Option<String>, Option<String>)>(
                        db,
                        vec![
                            language::Column::ServiceId,
                            language::Column::LocationId,
                            language::Column::Code,
                        ],
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
        tuples::<cost_option::Entity, (String, Option<i64>, serde_json::Value)>(
            db,
            vec![
                cost_option::Column::ServiceId,
                cost_option::Column::AmountPence,
                cost_option::Column::Concessions
            ],
            cost_option::Column::ServiceId,
            wanted,
        ),
        tuples::<schedule::Entity, ScheduleRow>(
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
        tuples::<
            capacity::Entity,
            (
                String,
                String,
                DateTime<Utc>,
                Option<DateTime<Utc>>,
                Option<i32>,
            ),
        >(
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

    let locations: HashMap<String, Coordinates> = locations
        .into_iter()
        .filter_map(|(id, lat, lon)| Some((id, Coordinates::new(lat?, lon?).ok()?)))
        .collect();
    let access = group(access, |a| Some(a.0.clone()));
    let all_languages: Vec<_> = languages.into_iter().chain(location_languages).collect();
    let languages_by_location = group(all_languages.clone(), |l| l.1.clone());
    let languages_by_service = group(all_languages, |l| l.0.clone());
    let links = group(links, |l| Some(l.0.clone()));
    let terms = group(terms, |t| Some(t.0.clone()));
    let rules = group(rules, |r| Some(r.0.clone()));
    let prices = group(prices, |c| Some(c.0.clone()));
    let schedules = group(schedules, |s| s.0.clone());
    let capacities = group(capacities, |c| Some(c.0.clone()));
    let areas = group(areas, |a| Some(a.0.clone()));

    let mut out = Vec::with_capacity(services.len());
    for (
        id,
        name,
        description,
        _,
        _,
        minimum_age,
        maximum_age,
        referral_routes,
        delivery_modes,
        residency,
        verified,
        updated_at,
    ) in services
    {
        let mut entry_locations = Vec::new();
        let mut access_features = Vec::new();
        let mut spoken: Vec<String> = Vec::new();
        for (_, location_id) in links.get(&id).into_iter().flatten() {
            if let Some(point) = locations.get(location_id) {
                entry_locations.push((location_id.clone(), *point));
            }
            for (_, feature) in access.get(location_id).into_iter().flatten() {
                if let Some(f) = feature.as_deref().and_then(AccessibilityFeature::from_code)
                    && !access_features.contains(&f)
                {
                    access_features.push(f);
                }
            }
            spoken.extend(
                languages_by_location
                    .get(location_id)
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.2.clone()),
            );
        }
        spoken.extend(
            languages_by_service
                .get(&id)
                .into_iter()
                .flatten()
                .filter_map(|l| l.2.clone()),
        );
        spoken.sort();
        spoken.dedup();

        let mut listing = Listing {
            minimum_age,
            maximum_age,
            languages: spoken,
            access: access_features,
            delivery_modes: codes_of(&delivery_modes, DeliveryMode::from_code),
            referral_routes: codes_of(&referral_routes, ReferralRoute::from_code),
            ..Listing::default()
        };
        for (_, criterion, value, rule) in rules.get(&id).into_iter().flatten() {
            let value = value.clone();
            match (
                EligibilityCriterion::from_code(criterion),
                EligibilityRule::from_code(rule),
            ) {
                (Some(EligibilityCriterion::Gender), Some(EligibilityRule::RestrictedTo)) => {
                    listing.genders_restricted.push(value)
                }
                (Some(EligibilityCriterion::Gender), Some(EligibilityRule::SuitableFor)) => {
                    listing.genders_suitable.push(value)
                }
                (Some(EligibilityCriterion::Circumstance), Some(EligibilityRule::RestrictedTo)) => {
                    listing.circumstances_restricted.push(value)
                }
                (Some(EligibilityCriterion::Circumstance), Some(EligibilityRule::SuitableFor)) => {
                    listing.circumstances_suitable.push(value)
                }
                _ => {}
            }
        }
        listing.prices = prices
            .get(&id)
            .into_iter()
            .flatten()
            .map(|(_, pence, concessions)| Price {
                pence: *pence,
                concessions: codes_of(concessions, |v| Some(v.to_string())),
            })
            .collect();
        listing.sessions = schedules
            .get(&id)
            .into_iter()
            .flatten()
            .map(|(_, byday, opens, closes, valid_from, valid_to)| Session {
                days: days_in(byday.as_deref()),
                opens: minutes(opens),
                closes: minutes(closes),
                valid_from: *valid_from,
                valid_to: *valid_to,
            })
            .collect();
        let capacity = capacities
            .get(&id)
            .and_then(|rows| rows.iter().max_by_key(|c| c.2))
            .map(|c| {
                let status = CapacityStatus::from_code(&c.1).unwrap_or(CapacityStatus::Unknown);
                (
                    status,
                    capacity_rules::expires_at(c.2, c.3, policy.capacity_expiry_days),
                    c.4,
                )
            });
        let service_areas = areas
            .get(&id)
            .into_iter()
            .flatten()
            .filter(|a| a.1.as_deref() == Some("geojson"))
            .filter_map(|a| spatial::parse_polygons(a.2.as_deref()?).ok())
            .collect();
        let remote = listing
            .delivery_modes
            .iter()
            .any(|m| matches!(m, DeliveryMode::Online | DeliveryMode::Telephone));
        out.push(Entry {
            text: format!("{name} {}", description.as_deref().unwrap_or_default()).to_lowercase(),
            name,
            terms: terms
                .get(&id)
                .into_iter()
                .flatten()
                .map(|t| t.1.clone())
                .collect(),
            term_keys: Vec::new(),
            locations: entry_locations,
            listing,
            capacity,
            last_verified_at: verified,
            updated_at,
            service_areas,
            remote,
            residency_area: residency,
            id,
        });
    }
    Ok(out)
}

type ScheduleRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<chrono::NaiveDate>,
    Option<chrono::NaiveDate>,
);

pub async fn areas(db: &impl ConnectionTrait) -> Result<Vec<Area>, DbErr> {
    let rows = area::Entity::find()
        .order_by_asc(area::Column::Code)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|a| {
            let shape = spatial::parse_polygons(&a.geometry).ok()?;
            let size = geo::Area::unsigned_area(&shape);
            Some(Area {
                code: a.code,
                shape,
                size,
            })
        })
        .collect())
}

/// Services changed at or after `since`: (id, updated_at).
/// Services a search can find: active and not retired.
fn searchable() -> sea_orm::Select<service::Entity> {
    service::Entity::find()
        .filter(service::Column::RetiredAt.is_null())
        .filter(service::Column::Status.eq(ServiceStatus::Active.code()))
}

/// How many services a search can find: an index holding a different number is wrong.
pub async fn searchable_count(db: &impl ConnectionTrait) -> Result<usize, DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(searchable().count(db).await? as usize)
}

/// The newest service change, retired services included.
pub async fn newest_change(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    service::Entity::find()
        .select_only()
        .column_as(service::Column::UpdatedAt.max(), "newest")
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await
        .map(Option::flatten)
}

pub async fn changed_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>)>, DbErr> {
    service::Entity::find()
        .select_only()
        .columns([service::Column::Id, service::Column::UpdatedAt])
        .filter(service::Column::UpdatedAt.gte(since))
        .into_tuple()
        .all(db)
        .await
}

pub async fn area_count(db: &impl ConnectionTrait) -> Result<usize, DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(area::Entity::find().count(db).await? as usize)
}
