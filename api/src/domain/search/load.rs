//! Filling the search index from the database: all of it at start-up, then only the
//! services that changed. A few set-wise queries per load (never one per service).

use std::collections::HashMap;

use chrono::{DateTime, NaiveTime, Utc};
use entity::{
    accessibility, area, capacity, cost_option, eligibility, language, location, schedule, service,
    service_area, service_at_location, service_taxonomy, taxonomy_term,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::index::{Area, Entry, Term};
use crate::domain::Policy;
use crate::domain::capacity as capacity_rules;
use crate::domain::codes::{
    AccessibilityFeature, CapacityStatus, DeliveryMode, EligibilityCriterion, EligibilityRule,
    ReferralRoute, ServiceStatus, codes_in as codes_of, days_in,
};
use crate::domain::eligibility::{Listing, Price, Session};
use crate::spatial::{self, Coordinates};

/// How many ids one `IN (...)` list carries.
const CHUNK: usize = 500;

fn minutes(text: &Option<String>) -> Option<u16> {
    let text = text.as_deref()?;
    let time = NaiveTime::parse_from_str(text, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()?;
    Some((chrono::Timelike::hour(&time) * 60 + chrono::Timelike::minute(&time)) as u16)
}

/// Rows of `E` whose `column` is in `ids` (all rows when `ids` is None), chunked.
async fn rows_for<E>(
    db: &impl ConnectionTrait,
    column: E::Column,
    ids: Option<&[String]>,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
{
    match ids {
        None => E::find().all(db).await,
        Some(ids) => {
            let mut out = Vec::new();
            for chunk in ids.chunks(CHUNK) {
                out.extend(
                    E::find()
                        .filter(column.is_in(chunk.iter().cloned()))
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

/// Index entries for the given services (all when `ids` is None). A service that is
/// retired or not active has no entry: it is not searchable.
pub async fn entries(
    db: &impl ConnectionTrait,
    ids: Option<&[String]>,
    policy: Policy,
) -> Result<Vec<Entry>, DbErr> {
    let services: Vec<service::Model> = rows_for::<service::Entity>(db, service::Column::Id, ids)
        .await?
        .into_iter()
        .filter(|s| {
            s.retired_at.is_none()
                && ServiceStatus::from_code(&s.status) == Some(ServiceStatus::Active)
        })
        .collect();
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Option<Vec<String>> = ids.map(|_| services.iter().map(|s| s.id.clone()).collect());
    let wanted = wanted.as_deref();

    let links =
        rows_for::<service_at_location::Entity>(db, service_at_location::Column::ServiceId, wanted)
            .await?;
    let location_ids: Vec<String> = links.iter().map(|l| l.location_id.clone()).collect();
    let location_filter = wanted.map(|_| location_ids.as_slice());
    let locations: HashMap<String, location::Model> =
        rows_for::<location::Entity>(db, location::Column::Id, location_filter)
            .await?
            .into_iter()
            .map(|l| (l.id.clone(), l))
            .collect();
    let access = group(
        rows_for::<accessibility::Entity>(db, accessibility::Column::LocationId, location_filter)
            .await?,
        |a| Some(a.location_id.clone()),
    );
    let languages = rows_for::<language::Entity>(db, language::Column::ServiceId, wanted).await?;
    let location_languages = match location_filter {
        Some(ids) => {
            rows_for::<language::Entity>(db, language::Column::LocationId, Some(ids)).await?
        }
        None => Vec::new(), // the full load above already read every language row
    };
    let languages_by_location = group(
        languages
            .iter()
            .chain(&location_languages)
            .cloned()
            .collect::<Vec<_>>(),
        |l| l.location_id.clone(),
    );
    let languages_by_service = group(languages, |l| l.service_id.clone());
    let links = group(links, |l| Some(l.service_id.clone()));
    let terms = group(
        rows_for::<service_taxonomy::Entity>(db, service_taxonomy::Column::ServiceId, wanted)
            .await?,
        |t| Some(t.service_id.clone()),
    );
    let rules = group(
        rows_for::<eligibility::Entity>(db, eligibility::Column::ServiceId, wanted).await?,
        |r| Some(r.service_id.clone()),
    );
    let prices = group(
        rows_for::<cost_option::Entity>(db, cost_option::Column::ServiceId, wanted).await?,
        |c| Some(c.service_id.clone()),
    );
    let schedules = group(
        rows_for::<schedule::Entity>(db, schedule::Column::ServiceId, wanted).await?,
        |s| s.service_id.clone(),
    );
    let capacities = group(
        rows_for::<capacity::Entity>(db, capacity::Column::ServiceId, wanted).await?,
        |c| Some(c.service_id.clone()),
    );
    let areas = group(
        rows_for::<service_area::Entity>(db, service_area::Column::ServiceId, wanted).await?,
        |a| Some(a.service_id.clone()),
    );

    let mut out = Vec::with_capacity(services.len());
    for s in services {
        let mut entry_locations = Vec::new();
        let mut access_features = Vec::new();
        let mut spoken: Vec<String> = Vec::new();
        for link in links.get(&s.id).into_iter().flatten() {
            let Some(loc) = locations.get(&link.location_id) else {
                continue;
            };
            if let (Some(lat), Some(lon)) = (loc.latitude, loc.longitude)
                && let Ok(point) = Coordinates::new(lat, lon)
            {
                entry_locations.push((loc.id.clone(), point));
            }
            for a in access.get(&loc.id).into_iter().flatten() {
                if let Some(f) = a
                    .feature
                    .as_deref()
                    .and_then(AccessibilityFeature::from_code)
                    && !access_features.contains(&f)
                {
                    access_features.push(f);
                }
            }
            spoken.extend(
                languages_by_location
                    .get(&loc.id)
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.code.clone()),
            );
        }
        spoken.extend(
            languages_by_service
                .get(&s.id)
                .into_iter()
                .flatten()
                .filter_map(|l| l.code.clone()),
        );
        spoken.sort();
        spoken.dedup();

        let mut listing = Listing {
            minimum_age: s.minimum_age,
            maximum_age: s.maximum_age,
            languages: spoken,
            access: access_features,
            delivery_modes: codes_of(&s.delivery_modes, DeliveryMode::from_code),
            referral_routes: codes_of(&s.referral_routes, ReferralRoute::from_code),
            ..Listing::default()
        };
        for rule in rules.get(&s.id).into_iter().flatten() {
            let value = rule.value.clone();
            match (
                EligibilityCriterion::from_code(&rule.criterion),
                EligibilityRule::from_code(&rule.rule),
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
            .get(&s.id)
            .into_iter()
            .flatten()
            .map(|c| Price {
                pence: c.amount_pence,
                concessions: codes_of(&c.concessions, |v| Some(v.to_string())),
            })
            .collect();
        listing.sessions = schedules
            .get(&s.id)
            .into_iter()
            .flatten()
            .map(|sch| Session {
                days: days_in(sch.byday.as_deref()),
                opens: minutes(&sch.opens_at),
                closes: minutes(&sch.closes_at),
                valid_from: sch.valid_from,
                valid_to: sch.valid_to,
            })
            .collect();
        let capacity = capacities
            .get(&s.id)
            .and_then(|rows| rows.iter().max_by_key(|c| c.updated_at))
            .map(|c| {
                let status =
                    CapacityStatus::from_code(&c.status).unwrap_or(CapacityStatus::Unknown);
                (
                    status,
                    capacity_rules::expires_at(
                        c.updated_at,
                        c.expires_at,
                        policy.capacity_expiry_days,
                    ),
                )
            });
        let service_areas = areas
            .get(&s.id)
            .into_iter()
            .flatten()
            .filter(|a| a.extent_type.as_deref() == Some("geojson"))
            .filter_map(|a| spatial::parse_polygons(a.extent.as_deref()?).ok())
            .collect();
        let remote = listing
            .delivery_modes
            .iter()
            .any(|m| matches!(m, DeliveryMode::Online | DeliveryMode::Telephone));
        out.push(Entry {
            text: format!(
                "{} {}",
                s.name,
                s.description.as_deref().unwrap_or_default()
            )
            .to_lowercase(),
            terms: terms
                .get(&s.id)
                .into_iter()
                .flatten()
                .map(|t| t.taxonomy_term_id.clone())
                .collect(),
            term_keys: Vec::new(),
            locations: entry_locations,
            listing,
            capacity,
            last_verified_at: s.last_verified_at,
            service_areas,
            remote,
            residency_area: s.residency_area_code.clone(),
            id: s.id,
        });
    }
    Ok(out)
}

pub async fn terms(db: &impl ConnectionTrait) -> Result<Vec<Term>, DbErr> {
    let rows: Vec<(String, String, Option<String>)> = taxonomy_term::Entity::find()
        .select_only()
        .columns([
            taxonomy_term::Column::Id,
            taxonomy_term::Column::Code,
            taxonomy_term::Column::ParentId,
        ])
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, code, parent_id)| Term {
            id,
            code,
            parent_id,
        })
        .collect())
}

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
