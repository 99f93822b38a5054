//! Write one checked HSDS bundle. The caller wraps each call in its own savepoint,
//! so a record either lands whole or not at all. Rows upsert by HSDS id; a record
//! whose content hash is unchanged writes nothing (re-importing a file is a no-op).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{
    accessibility, address, audit_event, capacity, capacity_event, cost_option, eligibility,
    language, location, organization, schedule, service, service_area, service_at_location,
    service_taxonomy, taxonomy, taxonomy_term,
};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::bundle::{Bundle, FieldError};
use crate::import::upsert;

/// Why a record did not land.
#[derive(Debug)]
pub enum WriteError {
    Field(FieldError),
    Database(DbErr),
}

impl From<DbErr> for WriteError {
    fn from(err: DbErr) -> Self {
        Self::Database(err)
    }
}

fn refuse<T>(path: &str, message: impl Into<String>) -> Result<T, WriteError> {
    Err(WriteError::Field(FieldError {
        path: path.to_string(),
        message: message.into(),
    }))
}

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Written,
    Unchanged,
}

fn same_capacity(a: &capacity::Model, b: &capacity::Model) -> bool {
    (
        a.status.as_str(),
        a.available,
        a.maximum,
        a.waitlist_length,
        a.typical_wait_days,
        a.expires_at,
    ) == (
        b.status.as_str(),
        b.available,
        b.maximum,
        b.waitlist_length,
        b.typical_wait_days,
        b.expires_at,
    )
}

pub async fn write(
    db: &impl ConnectionTrait,
    mut bundle: Bundle,
    hash: String,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, WriteError> {
    let authority_id = bundle.service.authority_id;
    let existing = service::Entity::find_by_id(bundle.service.id.clone())
        .one(db)
        .await?;
    if let Some(old) = &existing {
        if old.authority_id != authority_id {
            return refuse(
                "id",
                format!("service {} belongs to another authority", old.id),
            );
        }
        if old.import_hash.as_deref() == Some(hash.as_str()) {
            return Ok(Outcome::Unchanged);
        }
    }

    match bundle.organization.take() {
        Some(org) => {
            if let Some(old) = organization::Entity::find_by_id(org.id.clone())
                .one(db)
                .await?
                && old.authority_id != authority_id
            {
                return refuse(
                    "organization.id",
                    format!("organization {} belongs to another authority", old.id),
                );
            }
            upsert::<organization::Entity>(db, vec![org], &[organization::Column::CreatedAt])
                .await?;
        }
        None => {
            let org = organization::Entity::find_by_id(bundle.service.organization_id.clone())
                .one(db)
                .await?;
            match org {
                None => {
                    return refuse(
                        "organization_id",
                        format!("unknown organization {}", bundle.service.organization_id),
                    );
                }
                Some(org) if org.authority_id != authority_id => {
                    return refuse(
                        "organization_id",
                        format!("organization {} belongs to another authority", org.id),
                    );
                }
                Some(_) => {}
            }
        }
    }

    upsert::<taxonomy::Entity>(db, bundle.taxonomies, &[]).await?;
    upsert::<taxonomy_term::Entity>(db, bundle.terms, &[]).await?;
    let wanted: Vec<String> = bundle.categories.iter().map(|(_, id)| id.clone()).collect();
    let known: HashSet<String> = taxonomy_term::Entity::find()
        .filter(taxonomy_term::Column::Id.is_in(wanted))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    if let Some((path, id)) = bundle.categories.iter().find(|(_, id)| !known.contains(id)) {
        return refuse(path, format!("unknown taxonomy term {id}"));
    }

    let wanted: Vec<String> = bundle.locations.iter().map(|l| l.id.clone()).collect();
    let known_locations = location::Entity::find()
        .filter(location::Column::Id.is_in(wanted))
        .all(db)
        .await?;
    if let Some(old) = known_locations
        .iter()
        .find(|l| l.authority_id != authority_id)
    {
        return refuse(
            "service_at_locations",
            format!("location {} belongs to another authority", old.id),
        );
    }

    let mut row = bundle.service;
    row.import_hash = Some(hash);
    if let Some(old) = &existing {
        row.version = old.version + 1;
        row.created_at = old.created_at;
        row.retired_at = old.retired_at;
        row.last_verified_at = row.last_verified_at.or(old.last_verified_at);
    }
    let service_id = row.id.clone();
    let after = serde_json::to_value(&row).ok();
    upsert::<service::Entity>(db, vec![row], &[]).await?;

    // A record seen before has its parts replaced; a new one has none to clear.
    let old_capacities = match &existing {
        Some(_) => clear_service_parts(db, &service_id).await?,
        None => Vec::new(),
    };

    let location_ids: Vec<String> = known_locations.into_iter().map(|l| l.id).collect();
    if !location_ids.is_empty() {
        clear_location_parts(db, location_ids).await?;
    }
    upsert::<location::Entity>(db, bundle.locations, &[]).await?;
    upsert::<address::Entity>(db, bundle.addresses, &[]).await?;
    upsert::<accessibility::Entity>(db, bundle.accessibility, &[]).await?;
    upsert::<service_at_location::Entity>(db, bundle.service_at_locations, &[]).await?;
    upsert::<schedule::Entity>(db, bundle.schedules, &[]).await?;
    upsert::<cost_option::Entity>(db, bundle.cost_options, &[]).await?;
    upsert::<service_area::Entity>(db, bundle.service_areas, &[]).await?;
    upsert::<language::Entity>(db, bundle.languages, &[]).await?;
    let taxonomy_links = bundle
        .categories
        .into_iter()
        .map(|(_, term)| service_taxonomy::Model {
            service_id: service_id.clone(),
            taxonomy_term_id: term,
        })
        .collect();
    upsert::<service_taxonomy::Entity>(db, taxonomy_links, &[]).await?;
    if !bundle.eligibility.is_empty() {
        eligibility::Entity::insert_many(bundle.eligibility.into_iter().map(
            |(criterion, value, rule)| eligibility::ActiveModel {
                service_id: Set(service_id.clone()),
                criterion: Set(criterion.code().to_string()),
                value: Set(value),
                rule: Set(rule.code().to_string()),
                ..Default::default()
            },
        ))
        .exec_without_returning(db)
        .await?;
    }

    let events: Vec<capacity_event::ActiveModel> = bundle
        .capacities
        .iter()
        .filter(|new| {
            !old_capacities
                .iter()
                .any(|old| old.id == new.id && same_capacity(old, new))
        })
        .map(|c| capacity_event::ActiveModel {
            capacity_id: Set(c.id.clone()),
            service_id: Set(c.service_id.clone()),
            status: Set(c.status.clone()),
            available: Set(c.available),
            maximum: Set(c.maximum),
            waitlist_length: Set(c.waitlist_length),
            typical_wait_days: Set(c.typical_wait_days),
            expires_at: Set(c.expires_at),
            actor: Set(Some(actor.to_string())),
            source: Set("import".to_string()),
            recorded_at: Set(now),
            ..Default::default()
        })
        .collect();
    upsert::<capacity::Entity>(db, bundle.capacities, &[]).await?;
    if !events.is_empty() {
        capacity_event::Entity::insert_many(events)
            .exec_without_returning(db)
            .await?;
    }

    audit_event::Entity::insert(audit_event::ActiveModel {
        authority_id: Set(Some(authority_id)),
        actor: Set(actor.to_string()),
        entity: Set("service".to_string()),
        entity_id: Set(service_id),
        action: Set(if existing.is_some() {
            "import_update"
        } else {
            "import_create"
        }
        .to_string()),
        before: Set(existing.and_then(|old| serde_json::to_value(old).ok())),
        after: Set(after),
        request_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(Outcome::Written)
}

/// Remove a service's parts before they are written anew; returns its old capacities
/// (to record only real capacity changes). Schedules hang off its
/// service_at_locations too.
async fn clear_service_parts(
    db: &impl ConnectionTrait,
    service_id: &str,
) -> Result<Vec<capacity::Model>, DbErr> {
    let service_id = service_id.to_string();
    let old_sals: Vec<String> = service_at_location::Entity::find()
        .filter(service_at_location::Column::ServiceId.eq(&service_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    schedule::Entity::delete_many()
        .filter(
            schedule::Column::ServiceId
                .eq(&service_id)
                .or(schedule::Column::ServiceAtLocationId.is_in(old_sals)),
        )
        .exec(db)
        .await?;
    service_at_location::Entity::delete_many()
        .filter(service_at_location::Column::ServiceId.eq(&service_id))
        .exec(db)
        .await?;
    cost_option::Entity::delete_many()
        .filter(cost_option::Column::ServiceId.eq(&service_id))
        .exec(db)
        .await?;
    service_area::Entity::delete_many()
        .filter(service_area::Column::ServiceId.eq(&service_id))
        .exec(db)
        .await?;
    language::Entity::delete_many()
        .filter(language::Column::ServiceId.eq(&service_id))
        .exec(db)
        .await?;
    eligibility::Entity::delete_many()
        .filter(eligibility::Column::ServiceId.eq(&service_id))
        .exec(db)
        .await?;
    service_taxonomy::Entity::delete_many()
        .filter(service_taxonomy::Column::ServiceId.eq(&service_id))
        .exec(db)
        .await?;
    let old_capacities = capacity::Entity::find()
        .filter(capacity::Column::ServiceId.eq(&service_id))
        .all(db)
        .await?;
    capacity::Entity::delete_many()
        .filter(capacity::Column::ServiceId.eq(&service_id))
        .exec(db)
        .await?;

    Ok(old_capacities)
}

/// Remove the parts of locations that are about to be written anew.
async fn clear_location_parts(
    db: &impl ConnectionTrait,
    location_ids: Vec<String>,
) -> Result<(), DbErr> {
    address::Entity::delete_many()
        .filter(address::Column::LocationId.is_in(location_ids.clone()))
        .exec(db)
        .await?;
    accessibility::Entity::delete_many()
        .filter(accessibility::Column::LocationId.is_in(location_ids.clone()))
        .exec(db)
        .await?;
    language::Entity::delete_many()
        .filter(language::Column::LocationId.is_in(location_ids))
        .exec(db)
        .await?;
    Ok(())
}
