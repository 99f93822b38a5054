//! A service's parts (locations, terms, rules, costs, schedules, languages, areas):
//! replaced whole when a write gives them, and read back for the audit trail.

use entity::{
    accessibility, address, cost_option, eligibility, language, location, schedule, service,
    service_area, service_at_location, service_taxonomy, taxonomy_term,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use super::draft::Parts;
use crate::domain::validate::Fields;
use crate::error::{AppError, AppResult};

/// Ids of the terms these codes name (`taxonomy::resolve`); unknown codes are named.
async fn term_ids(
    db: &impl ConnectionTrait,
    codes: &[String],
    field: &str,
) -> AppResult<Vec<String>> {
    let terms = crate::domain::taxonomy::all_terms(db).await?;
    let mut ids = Vec::new();
    let mut unknown = Vec::new();
    for code in codes {
        let found: Vec<&str> = crate::domain::taxonomy::resolve(&terms, code)
            .into_iter()
            .map(|t| t.id.as_str())
            .collect();
        if found.is_empty() {
            unknown.push(code.trim().to_string());
        }
        for id in found {
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_string());
            }
        }
    }
    if unknown.is_empty() {
        Ok(ids)
    } else {
        Err(AppError::bad_input(
            field,
            format!("unknown taxonomy term: {}", unknown.join(", ")),
        ))
    }
}

/// Which of a service's own rows a write replaces.
#[derive(Clone, Copy, Default)]
pub(super) struct Kinds {
    pub terms: bool,
    pub eligibility: bool,
    pub locations: bool,
    pub cost_options: bool,
    pub schedules: bool,
    pub languages: bool,
    pub service_areas: bool,
}

impl Kinds {
    pub const ALL: Kinds = Kinds {
        terms: true,
        eligibility: true,
        locations: true,
        cost_options: true,
        schedules: true,
        languages: true,
        service_areas: true,
    };
}

/// Remove a service's rows of these kinds: the one place both writers (the API's
/// and the bulk writer) clear what they are about to write anew. Unlinked locations
/// no other service uses go too, with their addresses, features, languages and
/// schedules.
pub(super) async fn clear(
    db: &impl ConnectionTrait,
    service_id: &str,
    kinds: Kinds,
) -> Result<(), DbErr> {
    let id = service_id.to_string();
    if kinds.terms {
        service_taxonomy::Entity::delete_many()
            .filter(service_taxonomy::Column::ServiceId.eq(&id))
            .exec(db)
            .await?;
    }
    if kinds.eligibility {
        eligibility::Entity::delete_many()
            .filter(eligibility::Column::ServiceId.eq(&id))
            .exec(db)
            .await?;
    }
    if kinds.locations {
        clear_locations(db, &id).await?;
    }
    if kinds.cost_options {
        cost_option::Entity::delete_many()
            .filter(cost_option::Column::ServiceId.eq(&id))
            .exec(db)
            .await?;
    }
    if kinds.schedules {
        schedule::Entity::delete_many()
            .filter(schedule::Column::ServiceId.eq(&id))
            .exec(db)
            .await?;
    }
    if kinds.languages {
        language::Entity::delete_many()
            .filter(language::Column::ServiceId.eq(&id))
            .exec(db)
            .await?;
    }
    if kinds.service_areas {
        service_area::Entity::delete_many()
            .filter(service_area::Column::ServiceId.eq(&id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Write the parts a draft gives, replacing what is stored for them.
pub async fn replace(
    db: &impl ConnectionTrait,
    service_id: &str,
    parts: Parts,
    fields: Fields,
) -> AppResult<()> {
    let id = service_id.to_string();
    let term_ids = match &parts.taxonomy_terms {
        Some(codes) => Some(term_ids(db, codes, &fields.name("taxonomyTerms")).await?),
        None => None,
    };
    let kinds = Kinds {
        terms: term_ids.is_some(),
        eligibility: parts.eligibility.is_some(),
        locations: parts.locations.is_some(),
        cost_options: parts.cost_options.is_some(),
        schedules: parts.schedules.is_some(),
        languages: parts.languages.is_some(),
        service_areas: parts.service_areas.is_some(),
    };
    clear(db, &id, kinds).await?;
    if let Some(ids) = term_ids
        && !ids.is_empty()
    {
        service_taxonomy::Entity::insert_many(ids.into_iter().map(|term| {
            service_taxonomy::ActiveModel {
                service_id: Set(id.clone()),
                taxonomy_term_id: Set(term),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    if let Some(rules) = parts.eligibility
        && !rules.is_empty()
    {
        eligibility::Entity::insert_many(rules.into_iter().map(|(criterion, value, rule)| {
            eligibility::ActiveModel {
                service_id: Set(id.clone()),
                criterion: Set(criterion),
                value: Set(value),
                rule: Set(rule),
                ..Default::default()
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    if let Some(located) = parts.locations {
        let mut locations = Vec::new();
        let mut addresses = Vec::new();
        let mut features = Vec::new();
        let mut links = Vec::new();
        for rows in located {
            locations.push(rows.location);
            addresses.extend(rows.address);
            features.extend(rows.accessibility);
            links.push(rows.link);
        }
        insert::<location::Entity, _>(db, locations).await?;
        insert::<address::Entity, _>(db, addresses).await?;
        insert::<accessibility::Entity, _>(db, features).await?;
        insert::<service_at_location::Entity, _>(db, links).await?;
    }
    if let Some(rows) = parts.cost_options {
        insert::<cost_option::Entity, _>(db, rows).await?;
    }
    if let Some(rows) = parts.schedules {
        insert::<schedule::Entity, _>(db, rows).await?;
    }
    if let Some(rows) = parts.languages {
        insert::<language::Entity, _>(db, rows).await?;
    }
    if let Some(rows) = parts.service_areas {
        insert::<service_area::Entity, _>(db, rows).await?;
    }
    Ok(())
}

async fn insert<E, M>(db: &impl ConnectionTrait, rows: Vec<M>) -> AppResult<()>
where
    E: EntityTrait,
    M: sea_orm::IntoActiveModel<E::ActiveModel>,
{
    if !rows.is_empty() {
        E::insert_many(rows.into_iter().map(M::into_active_model))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Unlink the service's locations (and the schedules on those links), and remove
/// those no other service uses, with their addresses, features, languages and
/// schedules.
async fn clear_locations(db: &impl ConnectionTrait, service_id: &str) -> Result<(), DbErr> {
    let links: Vec<(String, String)> = service_at_location::Entity::find()
        .select_only()
        .columns([
            service_at_location::Column::Id,
            service_at_location::Column::LocationId,
        ])
        .filter(service_at_location::Column::ServiceId.eq(service_id))
        .into_tuple()
        .all(db)
        .await?;
    if links.is_empty() {
        return Ok(());
    }
    let (link_ids, location_ids): (Vec<String>, Vec<String>) = links.into_iter().unzip();
    schedule::Entity::delete_many()
        .filter(schedule::Column::ServiceAtLocationId.is_in(link_ids.clone()))
        .exec(db)
        .await?;
    service_at_location::Entity::delete_many()
        .filter(service_at_location::Column::Id.is_in(link_ids))
        .exec(db)
        .await?;
    let still_used: Vec<String> = service_at_location::Entity::find()
        .select_only()
        .column(service_at_location::Column::LocationId)
        .filter(service_at_location::Column::LocationId.is_in(location_ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let orphans: Vec<String> = location_ids
        .into_iter()
        .filter(|l| !still_used.contains(l))
        .collect();
    if orphans.is_empty() {
        return Ok(());
    }
    address::Entity::delete_many()
        .filter(address::Column::LocationId.is_in(orphans.clone()))
        .exec(db)
        .await?;
    accessibility::Entity::delete_many()
        .filter(accessibility::Column::LocationId.is_in(orphans.clone()))
        .exec(db)
        .await?;
    language::Entity::delete_many()
        .filter(language::Column::LocationId.is_in(orphans.clone()))
        .exec(db)
        .await?;
    schedule::Entity::delete_many()
        .filter(schedule::Column::LocationId.is_in(orphans.clone()))
        .exec(db)
        .await?;
    location::Entity::delete_many()
        .filter(location::Column::Id.is_in(orphans))
        .exec(db)
        .await?;
    Ok(())
}

/// The service as stored, parts included: the before and after of its audit events.
pub async fn snapshot(db: &impl ConnectionTrait, row: &service::Model) -> AppResult<Value> {
    let id = row.id.clone();
    let terms: Vec<String> = taxonomy_term::Entity::find()
        .select_only()
        .column(taxonomy_term::Column::Code)
        .filter(
            taxonomy_term::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(service_taxonomy::Column::TaxonomyTermId)
                    .from(service_taxonomy::Entity)
                    .and_where(service_taxonomy::Column::ServiceId.eq(&id))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    let location_ids: Vec<String> = service_at_location::Entity::find()
        .select_only()
        .column(service_at_location::Column::LocationId)
        .filter(service_at_location::Column::ServiceId.eq(&id))
        .into_tuple()
        .all(db)
        .await?;
    let locations = location::Entity::find()
        .filter(location::Column::Id.is_in(location_ids))
        .all(db)
        .await?;
    let rules = eligibility::Entity::find()
        .filter(eligibility::Column::ServiceId.eq(&id))
        .all(db)
        .await?;
    let costs = cost_option::Entity::find()
        .filter(cost_option::Column::ServiceId.eq(&id))
        .all(db)
        .await?;
    let schedules = schedule::Entity::find()
        .filter(schedule::Column::ServiceId.eq(&id))
        .all(db)
        .await?;
    let languages = language::Entity::find()
        .filter(language::Column::ServiceId.eq(&id))
        .all(db)
        .await?;
    let areas = service_area::Entity::find()
        .filter(service_area::Column::ServiceId.eq(&id))
        .all(db)
        .await?;
    Ok(json!({
        "service": row,
        "taxonomyTerms": terms,
        "locations": locations,
        "eligibility": rules.iter().map(|r| json!({ "criterion": r.criterion, "value": r.value, "rule": r.rule })).collect::<Vec<_>>(),
        "costOptions": costs,
        "schedules": schedules,
        "languages": languages.iter().filter_map(|l| l.code.clone()).collect::<Vec<_>>(),
        "serviceAreas": areas,
    }))
}
