//! The bulk writer: checked service records (imports, feeds) written in batches.
//! Rows upsert by HSDS id; a record whose content hash is unchanged writes nothing
//! (re-importing a file is a no-op). `write` takes one record
//! (the caller wraps it in a savepoint, so it lands whole or not at all); `write_new`
//! takes a batch of records not seen before in a few multi-row statements, and the
//! caller falls back to `write` one by one if the batch is refused.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    accessibility, address, audit_event, capacity, capacity_event, cost_option, eligibility,
    language, location, organization, schedule, service, service_area, service_at_location,
    service_taxonomy, taxonomy, taxonomy_term,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Iterable, QueryFilter,
};

use super::record::{FieldError, ServiceRecord};
use crate::db::rows::{self, Conflict};
use crate::db::upsert;
use crate::domain::codes::{RetireReason, ServiceStatus};

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

/// Check that organizations, locations and category terms the bundles touch exist
/// where needed and belong to their authority. Returns the ids of locations already
/// stored (whose parts are replaced).
async fn check_references(
    db: &impl ConnectionTrait,
    bundles: &[&ServiceRecord],
) -> Result<Vec<String>, WriteError> {
    let org_ids: Vec<String> = bundles
        .iter()
        .map(|b| b.service.organization_id.clone())
        .collect();
    let orgs: HashMap<String, i32> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.authority_id))
        .collect();
    let location_ids: Vec<String> = bundles
        .iter()
        .flat_map(|b| b.locations.iter().map(|l| l.id.clone()))
        .collect();
    let locations: HashMap<String, i32> = location::Entity::find()
        .filter(location::Column::Id.is_in(location_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l.authority_id))
        .collect();
    let batch_terms: HashSet<&str> = bundles
        .iter()
        .flat_map(|b| b.terms.iter().map(|t| t.id.as_str()))
        .collect();
    let wanted: Vec<String> = bundles
        .iter()
        .flat_map(|b| b.categories.iter().map(|(_, id)| id.clone()))
        .collect();
    let stored_terms: HashSet<String> = taxonomy_term::Entity::find()
        .filter(taxonomy_term::Column::Id.is_in(wanted))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    for b in bundles {
        let org = &b.service.organization_id;
        let authority = b.service.authority_id;
        match (orgs.get(org), &b.organization) {
            (Some(owner), Some(_)) if *owner != authority => {
                return refuse(
                    "organization.id",
                    format!("organization {org} belongs to another authority"),
                );
            }
            (Some(owner), None) if *owner != authority => {
                return refuse(
                    "organization_id",
                    format!("organization {org} belongs to another authority"),
                );
            }
            (None, None) => {
                return refuse("organization_id", format!("unknown organization {org}"));
            }
            _ => {}
        }
        if let Some(l) = b.locations.iter().find(|l| {
            locations
                .get(&l.id)
                .is_some_and(|owner| *owner != authority)
        }) {
            return refuse(
                "service_at_locations",
                format!("location {} belongs to another authority", l.id),
            );
        }
        if let Some((path, id)) = b
            .categories
            .iter()
            .find(|(_, id)| !stored_terms.contains(id) && !batch_terms.contains(id.as_str()))
        {
            return refuse(path, format!("unknown taxonomy term {id}"));
        }
    }
    Ok(locations.into_keys().collect())
}

/// What of a write's services may be stored already.
#[derive(Clone, Copy)]
enum Stored<'a> {
    /// None of them (a batch of new records): the services and their parts go in as
    /// plain inserts. A key stored after all (another service's part with the same
    /// id) fails the batch, which the caller then writes record by record.
    None,
    /// Some may be: `existing` holds the stored row of each one seen before (its parts
    /// already cleared), `old_capacities` their former capacities; rows are upserted.
    Maybe {
        existing: &'a HashMap<String, service::Model>,
        old_capacities: &'a [capacity::Model],
    },
}

impl Stored<'_> {
    fn conflict<'c, C>(self) -> Conflict<'c, C> {
        match self {
            Stored::None => Conflict::Fail,
            Stored::Maybe { .. } => Conflict::Update(&[]),
        }
    }
}

/// Write everything in the bundles. Organizations, vocabularies and locations, which
/// services share, are always upserted.
async fn insert_all(
    db: &impl ConnectionTrait,
    bundles: &[(ServiceRecord, String)],
    stored: Stored<'_>,
    known_locations: Vec<String>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    let (existing, old_capacities) = match stored {
        Stored::None => (None, &[][..]),
        Stored::Maybe {
            existing,
            old_capacities,
        } => (Some(existing), old_capacities),
    };
    let mut organizations = Vec::new();
    let mut taxonomies = Vec::new();
    let mut terms = Vec::new();
    let mut services = Vec::new();
    let mut locations = Vec::new();
    let mut addresses = Vec::new();
    let mut access = Vec::new();
    let mut sals = Vec::new();
    let mut schedules = Vec::new();
    let mut costs = Vec::new();
    let mut areas = Vec::new();
    let mut languages = Vec::new();
    let mut links = Vec::new();
    let mut rules = Vec::new();
    let mut capacities = Vec::new();
    let mut events = Vec::new();
    let mut audits = Vec::new();
    for (bundle, hash) in bundles {
        let mut row = bundle.service.clone();
        row.import_hash = Some(hash.clone());
        let old = existing.and_then(|e| e.get(&row.id));
        if let Some(old) = old {
            row.version = old.version + 1;
            row.created_at = old.created_at;
            row.retired_at = old.retired_at;
            row.last_verified_at = row.last_verified_at.or(old.last_verified_at);
            row.replaced_by = old.replaced_by.clone();
            row.retire_reason = old.retire_reason.clone();
        }
        settle_retirement(&mut row, now);
        let id = row.id.clone();
        organizations.extend(&bundle.organization);
        taxonomies.extend(&bundle.taxonomies);
        terms.extend(&bundle.terms);
        locations.extend(&bundle.locations);
        addresses.extend(&bundle.addresses);
        access.extend(&bundle.accessibility);
        sals.extend(&bundle.service_at_locations);
        schedules.extend(&bundle.schedules);
        costs.extend(&bundle.cost_options);
        areas.extend(&bundle.service_areas);
        languages.extend(&bundle.languages);
        links.extend(
            bundle
                .categories
                .iter()
                .map(|(_, term)| service_taxonomy::Model {
                    service_id: id.clone(),
                    taxonomy_term_id: term.clone(),
                }),
        );
        rules.extend(bundle.eligibility.iter().map(|(criterion, value, rule)| {
            eligibility::Model {
                id: 0, // generated
                service_id: id.clone(),
                criterion: criterion.code().to_string(),
                value: value.clone(),
                rule: rule.code().to_string(),
            }
        }));
        for c in &bundle.capacities {
            if old_capacities
                .iter()
                .any(|o| o.id == c.id && same_capacity(o, c))
            {
                continue;
            }
            events.push(capacity_event::Model {
                id: 0, // generated
                capacity_id: c.id.clone(),
                service_id: c.service_id.clone(),
                status: c.status.clone(),
                available: c.available,
                maximum: c.maximum,
                waitlist_length: c.waitlist_length,
                typical_wait_days: c.typical_wait_days,
                expires_at: c.expires_at,
                actor: Some(actor.to_string()),
                source: "import".to_string(),
                recorded_at: now,
            });
        }
        capacities.extend(&bundle.capacities);
        audits.push(audit_event::Model {
            id: 0, // generated
            authority_id: Some(row.authority_id),
            actor: actor.to_string(),
            entity: "service".to_string(),
            entity_id: id,
            action: if old.is_some() {
                "import_update"
            } else {
                "import_create"
            }
            .to_string(),
            before: old.and_then(|o| serde_json::to_value(o).ok()),
            after: serde_json::to_value(&row).ok(),
            request_id: None,
            created_at: now,
        });
        services.push(row);
    }

    upsert::<organization::Entity>(db, organizations, &[organization::Column::CreatedAt]).await?;
    // A feed may add terms but not rewrite the vocabularies other listings share.
    let pulled = services.iter().any(|s| s.feed_id.is_some());
    let (keep_taxonomies, keep_terms): (Vec<_>, Vec<_>) = if pulled {
        (
            taxonomy::Column::iter().collect(),
            taxonomy_term::Column::iter().collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    upsert::<taxonomy::Entity>(db, taxonomies, &keep_taxonomies).await?;
    upsert::<taxonomy_term::Entity>(db, terms, &keep_terms).await?;
    rows::insert::<service::Entity>(db, &services, stored.conflict()).await?;
    if !known_locations.is_empty() {
        clear_location_parts(db, known_locations).await?;
    }
    upsert::<location::Entity>(db, locations, &[]).await?;
    // A stored location's parts were cleared above: they are new as well.
    rows::insert::<address::Entity>(db, addresses, stored.conflict()).await?;
    rows::insert::<accessibility::Entity>(db, access, stored.conflict()).await?;
    rows::insert::<service_at_location::Entity>(db, sals, stored.conflict()).await?;
    rows::insert::<schedule::Entity>(db, schedules, stored.conflict()).await?;
    rows::insert::<cost_option::Entity>(db, costs, stored.conflict()).await?;
    rows::insert::<service_area::Entity>(db, areas, stored.conflict()).await?;
    rows::insert::<language::Entity>(db, languages, stored.conflict()).await?;
    rows::insert::<service_taxonomy::Entity>(db, &links, stored.conflict()).await?;
    rows::insert::<capacity::Entity>(db, capacities, stored.conflict()).await?;
    rows::insert::<eligibility::Entity>(db, &rules, Conflict::None).await?;
    rows::insert::<capacity_event::Entity>(db, &events, Conflict::None).await?;
    rows::insert::<audit_event::Entity>(db, &audits, Conflict::None).await?;
    Ok(())
}

/// A feed is the source of its services' status, as far as it retired them itself:
/// one it marks inactive is retired (since it was first, if it already was), one
/// it lists as anything else comes back. One an editor retired, or replaced by a
/// duplicate, stays retired and reads inactive whatever is imported.
fn settle_retirement(row: &mut service::Model, now: DateTime<Utc>) {
    let reason = row
        .retire_reason
        .as_deref()
        .and_then(RetireReason::from_code);
    let sticky = row.retired_at.is_some() && reason != Some(RetireReason::Feed);
    if sticky {
        row.status = ServiceStatus::Inactive.code().to_string();
    } else if row.feed_id.is_some() {
        let inactive = ServiceStatus::from_code(&row.status) == Some(ServiceStatus::Inactive);
        row.retired_at = inactive.then(|| row.retired_at.unwrap_or(now));
        row.retire_reason = inactive.then(|| RetireReason::Feed.code().to_string());
    }
}

/// Retire these services (a feed no longer lists them): gone from search and lists,
/// kept for history, each change audited. Already retired ones are left alone.
/// Returns how many were retired.
pub async fn retire(
    db: &impl ConnectionTrait,
    ids: &[String],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let mut retired = 0;
    for chunk in ids.chunks(500) {
        let rows = service::Entity::find()
            .filter(service::Column::Id.is_in(chunk.iter().cloned()))
            .filter(service::Column::RetiredAt.is_null())
            .all(db)
            .await?;
        if rows.is_empty() {
            continue;
        }
        let audits = rows.iter().map(|old| {
            let mut new = old.clone();
            new.retired_at = Some(now);
            new.status = ServiceStatus::Inactive.code().to_string();
            new.version += 1;
            new.updated_at = now;
            new.import_hash = None;
            new.retire_reason = Some(RetireReason::Feed.code().to_string());
            audit_event::ActiveModel {
                authority_id: Set(Some(old.authority_id)),
                actor: Set(actor.to_string()),
                entity: Set("service".to_string()),
                entity_id: Set(old.id.clone()),
                action: Set("retire".to_string()),
                before: Set(serde_json::to_value(old).ok()),
                after: Set(serde_json::to_value(&new).ok()),
                request_id: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
        });
        audit_event::Entity::insert_many(audits.collect::<Vec<_>>())
            .exec_without_returning(db)
            .await?;
        service::Entity::update_many()
            .col_expr(service::Column::RetiredAt, Expr::value(now))
            .col_expr(
                service::Column::Status,
                Expr::value(ServiceStatus::Inactive.code()),
            )
            .col_expr(
                service::Column::Version,
                Expr::col(service::Column::Version).add(1),
            )
            .col_expr(service::Column::UpdatedAt, Expr::value(now))
            // No longer what its source says: listed again, it is written again.
            .col_expr(
                service::Column::ImportHash,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                service::Column::RetireReason,
                Expr::value(RetireReason::Feed.code()),
            )
            .filter(service::Column::Id.is_in(rows.iter().map(|r| r.id.clone())))
            .exec(db)
            .await?;
        retired += rows.len();
    }
    Ok(retired)
}

/// Write one record, new or seen before.
pub async fn write(
    db: &impl ConnectionTrait,
    bundle: ServiceRecord,
    hash: String,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Outcome, WriteError> {
    let existing = service::Entity::find_by_id(bundle.service.id.clone())
        .one(db)
        .await?;
    if let Some(old) = &existing {
        if old.authority_id != bundle.service.authority_id {
            return refuse(
                "id",
                format!("service {} belongs to another authority", old.id),
            );
        }
        if old.import_hash.as_deref() == Some(hash.as_str()) {
            return Ok(Outcome::Unchanged);
        }
    }
    let known_locations = check_references(db, &[&bundle]).await?;
    // A record seen before has its parts replaced; a new one has none to clear.
    let old_capacities = match &existing {
        Some(old) => clear_service_parts(db, &old.id).await?,
        None => Vec::new(),
    };
    let existing: HashMap<String, service::Model> =
        existing.into_iter().map(|s| (s.id.clone(), s)).collect();
    let stored = Stored::Maybe {
        existing: &existing,
        old_capacities: &old_capacities,
    };
    insert_all(db, &[(bundle, hash)], stored, known_locations, actor, now).await?;
    Ok(Outcome::Written)
}

/// Write records none of which is stored yet, together. Any refusal refuses the batch.
pub async fn write_new(
    db: &impl ConnectionTrait,
    batch: &[(ServiceRecord, String)],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<usize, WriteError> {
    let bundles: Vec<&ServiceRecord> = batch.iter().map(|(b, _)| b).collect();
    let known_locations = check_references(db, &bundles).await?;
    let count = batch.len();
    insert_all(db, batch, Stored::None, known_locations, actor, now).await?;
    Ok(count)
}

/// Remove a service's parts before they are written anew (as the API's writer
/// does, `parts::clear`); returns its old capacities (to record only real capacity
/// changes).
async fn clear_service_parts(
    db: &impl ConnectionTrait,
    service_id: &str,
) -> Result<Vec<capacity::Model>, DbErr> {
    super::parts::clear(db, service_id, super::parts::Kinds::ALL).await?;
    let old_capacities = capacity::Entity::find()
        .filter(capacity::Column::ServiceId.eq(service_id))
        .all(db)
        .await?;
    capacity::Entity::delete_many()
        .filter(capacity::Column::ServiceId.eq(service_id))
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
