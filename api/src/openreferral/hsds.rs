//! Services as HSDS 3.1 `service_full` JSON, the shape both the export and the Open
//! Referral UK API answer with, and the shape `import hsds` reads back: what
//! Signpost adds (eligibility rules, referral routes, delivery modes, concessions)
//! travels as attributes by `link_type`, capacity status and waits as extra fields.
//! Absent values are left out, never null (the schemas type them as strings).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    accessibility, address, capacity, cost_option, eligibility, language, location, organization,
    schedule, service, service_area, service_at_location, service_taxonomy, taxonomy,
    taxonomy_term,
};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value, json};

use crate::domain::codes::{self, ServiceStatus};

/// Namespace for ids Signpost derives (attributes, units, synthetic terms), so
/// an export is the same every time.
const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5e9b_05f1_7c1a_4d3e_9a55_0b2c_6e1d_4f70);

fn derived_id(parts: &[&str]) -> String {
    uuid::Uuid::new_v5(&NAMESPACE, parts.join("\u{1f}").as_bytes()).to_string()
}

/// Drop nulls, at every depth.
fn compact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, compact(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Option<String>) -> HashMap<String, Vec<T>> {
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    for row in rows {
        if let Some(k) = key(&row) {
            out.entry(k).or_default().push(row);
        }
    }
    out
}

/// Everything the services in one batch need, loaded in one query per table.
struct Parts {
    organizations: HashMap<String, organization::Model>,
    links: HashMap<String, Vec<service_at_location::Model>>,
    locations: HashMap<String, location::Model>,
    addresses: HashMap<String, Vec<address::Model>>,
    access: HashMap<String, Vec<accessibility::Model>>,
    location_languages: HashMap<String, Vec<language::Model>>,
    languages: HashMap<String, Vec<language::Model>>,
    schedules: HashMap<String, Vec<schedule::Model>>,
    link_schedules: HashMap<String, Vec<schedule::Model>>,
    areas: HashMap<String, Vec<service_area::Model>>,
    costs: HashMap<String, Vec<cost_option::Model>>,
    capacities: HashMap<String, Vec<capacity::Model>>,
    categories: HashMap<String, Vec<String>>,
    terms: HashMap<String, taxonomy_term::Model>,
    taxonomies: HashMap<String, taxonomy::Model>,
    rules: HashMap<String, Vec<eligibility::Model>>,
}

async fn parts(db: &impl ConnectionTrait, services: &[service::Model]) -> Result<Parts, DbErr> {
    let ids: Vec<String> = services.iter().map(|s| s.id.clone()).collect();
    let org_ids: Vec<String> = services.iter().map(|s| s.organization_id.clone()).collect();
    let organizations = organization::Entity::find()
        .filter(organization::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let links = service_at_location::Entity::find()
        .filter(service_at_location::Column::ServiceId.is_in(ids.clone()))
        .order_by_asc(service_at_location::Column::Id)
        .all(db)
        .await?;
    let location_ids: Vec<String> = links.iter().map(|l| l.location_id.clone()).collect();
    let link_ids: Vec<String> = links.iter().map(|l| l.id.clone()).collect();
    let locations = location::Entity::find()
        .filter(location::Column::Id.is_in(location_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id.clone(), l))
        .collect();
    let addresses = address::Entity::find()
        .filter(address::Column::LocationId.is_in(location_ids.clone()))
        .order_by_asc(address::Column::Id)
        .all(db)
        .await?;
    let access = accessibility::Entity::find()
        .filter(accessibility::Column::LocationId.is_in(location_ids.clone()))
        .order_by_asc(accessibility::Column::Id)
        .all(db)
        .await?;
    let languages = language::Entity::find()
        .filter(
            language::Column::ServiceId
                .is_in(ids.clone())
                .or(language::Column::LocationId.is_in(location_ids)),
        )
        .order_by_asc(language::Column::Id)
        .all(db)
        .await?;
    let (location_languages, languages): (Vec<_>, Vec<_>) =
        languages.into_iter().partition(|l| l.service_id.is_none());
    let schedules = schedule::Entity::find()
        .filter(
            schedule::Column::ServiceId
                .is_in(ids.clone())
                .or(schedule::Column::ServiceAtLocationId.is_in(link_ids)),
        )
        .order_by_asc(schedule::Column::Id)
        .all(db)
        .await?;
    let (link_schedules, schedules): (Vec<_>, Vec<_>) = schedules
        .into_iter()
        .partition(|s| s.service_at_location_id.is_some());
    let categories = service_taxonomy::Entity::find()
        .filter(service_taxonomy::Column::ServiceId.is_in(ids.clone()))
        .order_by_asc(service_taxonomy::Column::TaxonomyTermId)
        .all(db)
        .await?;
    let term_ids: Vec<String> = categories
        .iter()
        .map(|c| c.taxonomy_term_id.clone())
        .collect();
    let terms: HashMap<String, taxonomy_term::Model> = taxonomy_term::Entity::find()
        .filter(taxonomy_term::Column::Id.is_in(term_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    let taxonomy_ids: Vec<String> = terms
        .values()
        .filter_map(|t| t.taxonomy_id.clone())
        .collect();
    let taxonomies = taxonomy::Entity::find()
        .filter(taxonomy::Column::Id.is_in(taxonomy_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), t))
        .collect();
    Ok(Parts {
        organizations,
        links: group(links, |l| Some(l.service_id.clone())),
        locations,
        addresses: group(addresses, |a| Some(a.location_id.clone())),
        access: group(access, |a| Some(a.location_id.clone())),
        location_languages: group(location_languages, |l| l.location_id.clone()),
        languages: group(languages, |l| l.service_id.clone()),
        schedules: group(schedules, |s| s.service_id.clone()),
        link_schedules: group(link_schedules, |s| s.service_at_location_id.clone()),
        areas: group(
            service_area::Entity::find()
                .filter(service_area::Column::ServiceId.is_in(ids.clone()))
                .order_by_asc(service_area::Column::Id)
                .all(db)
                .await?,
            |a| Some(a.service_id.clone()),
        ),
        costs: group(
            cost_option::Entity::find()
                .filter(cost_option::Column::ServiceId.is_in(ids.clone()))
                .order_by_asc(cost_option::Column::Id)
                .all(db)
                .await?,
            |c| Some(c.service_id.clone()),
        ),
        capacities: group(
            capacity::Entity::find()
                .filter(capacity::Column::ServiceId.is_in(ids.clone()))
                .order_by_asc(capacity::Column::Id)
                .all(db)
                .await?,
            |c| Some(c.service_id.clone()),
        ),
        categories: group(categories, |c| Some(c.service_id.clone()))
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(|c| c.taxonomy_term_id).collect()))
            .collect(),
        terms,
        taxonomies,
        rules: group(
            eligibility::Entity::find()
                .filter(eligibility::Column::ServiceId.is_in(ids))
                .order_by_asc(eligibility::Column::Id)
                .all(db)
                .await?,
            |r| Some(r.service_id.clone()),
        ),
    })
}

fn term_json(term: &taxonomy_term::Model, taxonomies: &HashMap<String, taxonomy::Model>) -> Value {
    let detail = term
        .taxonomy_id
        .as_ref()
        .and_then(|id| taxonomies.get(id))
        .map(|t| json!({ "id": t.id, "name": t.name, "description": t.description, "uri": t.uri, "version": t.version }));
    json!({
        "id": term.id,
        "code": term.code,
        "name": term.name,
        "description": term.description,
        "parent_id": term.parent_id,
        "taxonomy": term.vocabulary,
        "taxonomy_id": term.taxonomy_id,
        "taxonomy_detail": detail,
        "term_uri": term.term_uri,
    })
}

/// An attribute carrying one of Signpost's codes as a term of its own vocabulary.
fn coded_attribute(owner: &str, link_type: &str, vocabulary: &str, code: &str) -> Value {
    let term_id = derived_id(&["term", vocabulary, code]);
    json!({
        "id": derived_id(&["attribute", owner, link_type, vocabulary, code]),
        "link_id": owner,
        "link_type": link_type,
        "taxonomy_term_id": term_id,
        "taxonomy_term": { "id": term_id, "code": code, "name": code, "description": "", "taxonomy": vocabulary },
    })
}

fn schedule_json(s: &schedule::Model) -> Value {
    json!({
        "id": s.id,
        "service_id": s.service_id,
        "service_at_location_id": s.service_at_location_id,
        "valid_from": s.valid_from.map(|d| d.to_string()),
        "valid_to": s.valid_to.map(|d| d.to_string()),
        "freq": s.freq,
        "byday": s.byday,
        "opens_at": s.opens_at,
        "closes_at": s.closes_at,
        "description": s.description,
        "notes": s.notes,
        "attending_type": s.attending_type,
    })
}

fn location_json(p: &Parts, id: &str) -> Option<Value> {
    let l = p.locations.get(id)?;
    let none = Vec::new();
    Some(json!({
        "id": l.id,
        "location_type": l.location_type,
        "url": l.url,
        "name": l.name,
        "alternate_name": l.alternate_name,
        "description": l.description,
        "transportation": l.transportation,
        "latitude": l.latitude,
        "longitude": l.longitude,
        "addresses": p.addresses.get(id).unwrap_or(&none).iter().map(|a| json!({
            "id": a.id, "location_id": a.location_id, "attention": a.attention, "address_1": a.address_1,
            "address_2": a.address_2, "city": a.city, "region": a.region, "state_province": a.state_province,
            "postal_code": a.postal_code, "country": a.country, "address_type": a.address_type,
        })).collect::<Vec<_>>(),
        "accessibility": p.access.get(id).map(|rows| rows.iter().map(|a| json!({
            "id": a.id,
            "location_id": a.location_id,
            // The controlled feature travels as details when no text was given.
            "description": a.description,
            "details": a.details.clone().or_else(|| if a.description.is_none() { a.feature.clone() } else { None }),
            "url": a.url,
        })).collect::<Vec<_>>()).unwrap_or_default(),
        "languages": p.location_languages.get(id).map(|rows| rows.iter().map(language_json).collect::<Vec<_>>()).unwrap_or_default(),
    }))
}

fn language_json(l: &language::Model) -> Value {
    json!({ "id": l.id, "service_id": l.service_id, "location_id": l.location_id, "name": l.name, "code": l.code, "note": l.note })
}

/// HSDS `organization_identifiers` from the stored `{ scheme, type, identifier }`
/// (HSDS requires a type: the scheme stands in when none was given).
fn organization_identifiers(o: &organization::Model) -> Vec<Value> {
    let stored = o.identifiers.as_ref().and_then(Value::as_array);
    stored
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let identifier = item.get("identifier")?.as_str()?;
            let scheme = item.get("scheme").and_then(Value::as_str);
            let kind = item.get("type").and_then(Value::as_str).or(scheme)?;
            Some(json!({
                "id": derived_id(&["organization_identifier", &o.id, scheme.unwrap_or(kind), identifier]),
                "organization_id": o.id,
                "identifier_scheme": scheme,
                "identifier_type": kind,
                "identifier": identifier,
            }))
        })
        .collect()
}

fn service_json(p: &Parts, s: &service::Model) -> Value {
    let none = Vec::new();
    let org = p.organizations.get(&s.organization_id).map(|o| {
        json!({
            "id": o.id,
            "name": o.name,
            "alternate_name": o.alternate_name,
            "description": o.description.clone().unwrap_or_default(),
            "email": o.email,
            "website": o.website,
            "uri": o.uri,
            "phones": o.phone.as_ref().map(|n| vec![json!({ "id": derived_id(&["phone", &o.id]), "organization_id": o.id, "number": n })]),
            "organization_identifiers": organization_identifiers(o),
        })
    });
    let mut attributes: Vec<Value> = p
        .categories
        .get(&s.id)
        .unwrap_or(&none)
        .iter()
        .filter_map(|term_id| p.terms.get(term_id))
        .map(|t| {
            json!({
                "id": derived_id(&["attribute", &s.id, "category", &t.id]),
                "link_id": s.id,
                "link_type": "category",
                "taxonomy_term_id": t.id,
                "taxonomy_term": term_json(t, &p.taxonomies),
            })
        })
        .collect();
    for rule in p.rules.get(&s.id).into_iter().flatten() {
        let link_type = match codes::EligibilityRule::from_code(&rule.rule) {
            Some(codes::EligibilityRule::RestrictedTo) => "restricted_to",
            _ => "suitable_for",
        };
        let vocabulary = match codes::EligibilityCriterion::from_code(&rule.criterion) {
            Some(codes::EligibilityCriterion::Gender) => "gender",
            _ => "circumstance",
        };
        attributes.push(coded_attribute(&s.id, link_type, vocabulary, &rule.value));
    }
    for route in codes::codes_in(&s.referral_routes, codes::ReferralRoute::from_code) {
        attributes.push(coded_attribute(
            &s.id,
            "referral_route",
            "referral-route",
            route.code(),
        ));
    }
    for mode in codes::codes_in(&s.delivery_modes, codes::DeliveryMode::from_code) {
        attributes.push(coded_attribute(
            &s.id,
            "delivery_mode",
            "delivery-mode",
            mode.code(),
        ));
    }
    let status = if s.retired_at.is_some() {
        ServiceStatus::Inactive.code().to_string()
    } else {
        s.status.clone()
    };
    json!({
        "id": s.id,
        "organization_id": s.organization_id,
        "name": s.name,
        "alternate_name": s.alternate_name,
        "description": s.description,
        "url": s.url,
        "email": s.email,
        "status": status,
        "interpretation_services": s.interpretation_services,
        "application_process": s.application_process,
        "fees_description": s.fees_description,
        "accreditations": s.accreditations,
        "eligibility_description": s.eligibility_description,
        "minimum_age": s.minimum_age,
        "maximum_age": s.maximum_age,
        "assured_date": s.last_verified_at.map(|t| t.date_naive().to_string()),
        "alert": s.alert,
        "last_modified": timestamp(s.updated_at),
        "phones": s.phone.as_ref().map(|n| vec![json!({ "id": derived_id(&["phone", &s.id]), "service_id": s.id, "number": n })]),
        "organization": org,
        "schedules": p.schedules.get(&s.id).unwrap_or(&Vec::new()).iter().map(schedule_json).collect::<Vec<_>>(),
        "service_areas": p.areas.get(&s.id).unwrap_or(&Vec::new()).iter().map(|a| json!({
            "id": a.id, "service_id": a.service_id, "name": a.name, "description": a.description,
            "extent": a.extent, "extent_type": a.extent_type, "uri": a.uri,
        })).collect::<Vec<_>>(),
        "service_at_locations": p.links.get(&s.id).unwrap_or(&Vec::new()).iter().map(|l| json!({
            "id": l.id,
            "service_id": l.service_id,
            "location_id": l.location_id,
            "description": l.description,
            "location": location_json(p, &l.location_id),
            "schedules": p.link_schedules.get(&l.id).unwrap_or(&Vec::new()).iter().map(schedule_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "languages": p.languages.get(&s.id).unwrap_or(&Vec::new()).iter().map(language_json).collect::<Vec<_>>(),
        "cost_options": p.costs.get(&s.id).unwrap_or(&Vec::new()).iter().map(|c| json!({
            "id": c.id,
            "service_id": c.service_id,
            "valid_from": c.valid_from.map(|d| d.to_string()),
            "valid_to": c.valid_to.map(|d| d.to_string()),
            "option": c.option,
            "currency": c.currency,
            "amount": c.amount_pence.map(|p| p as f64 / 100.0),
            "amount_description": c.amount_description,
            "attributes": codes::codes_in(&c.concessions, |code| Some(code.to_string()))
                .iter()
                .map(|code| coded_attribute(&c.id, "concession", "circumstance", code))
                .collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "capacities": p.capacities.get(&s.id).unwrap_or(&Vec::new()).iter().map(|c| {
            let unit = c.unit.clone().unwrap_or_else(|| "places".to_string());
            json!({
                "id": c.id,
                "service_id": c.service_id,
                // HSDS requires a figure; a status without one (PAUSED, say) reads 0.
                "available": c.available.unwrap_or(0),
                "maximum": c.maximum,
                "unit": { "id": derived_id(&["unit", &unit]), "name": unit },
                "description": c.description,
                "updated": timestamp(c.updated_at),
                "status": c.status,
                "waitlist_length": c.waitlist_length,
                "typical_wait_days": c.typical_wait_days,
                "expires_at": c.expires_at.map(timestamp),
            })
        }).collect::<Vec<_>>(),
        "attributes": attributes,
    })
}

/// The services with these rows, as HSDS `service_full` objects, in the given order.
pub async fn services_full(
    db: &impl ConnectionTrait,
    services: &[service::Model],
) -> Result<Vec<Value>, DbErr> {
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let parts = parts(db, services).await?;
    Ok(services
        .iter()
        .map(|s| compact(service_json(&parts, s)))
        .collect())
}
