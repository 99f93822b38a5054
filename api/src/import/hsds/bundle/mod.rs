//! Turn one HSDS service record into the rows Signpost stores, checking every value
//! on the way with the API's own rules (`domain::validate`): an import refuses what
//! `createService` refuses. A problem names its field path within the record
//! (`service_at_locations[0].location.url`), and nothing is written for it.

use chrono::{DateTime, Utc};
use entity::{
    capacity, cost_option, language, organization, schedule, service, service_area, taxonomy,
    taxonomy_term,
};
use serde_json::json;

use super::fields::{
    byday, checked, clean, clock, count, error, first_phone, identifier, link, long, optional,
    organization_identifiers, period, required, short, timestamp,
};
use super::model;
use crate::domain::capacity::status_from_available;
use crate::domain::codes::{
    CapacityStatus, DeliveryMode, EligibilityCriterion, EligibilityRule, ReferralRoute,
    ServiceStatus,
};
use crate::domain::edit::record::{FieldError, ServiceRecord as Bundle};
use crate::domain::validate;
use crate::spatial;

fn term_row(term: &model::TaxonomyTerm, path: &str) -> Result<taxonomy_term::Model, FieldError> {
    let id = required(&term.id, &format!("{path}.id"))?;
    let code = short(&term.code, &format!("{path}.code"))?.unwrap_or_else(|| id.clone());
    Ok(taxonomy_term::Model {
        code,
        name: required(&term.name, &format!("{path}.name"))?,
        description: long(&term.description, &format!("{path}.description"))?.unwrap_or_default(),
        parent_id: short(&term.parent_id, &format!("{path}.parent_id"))?,
        taxonomy_id: term
            .taxonomy_detail
            .as_ref()
            .map(|t| t.id.trim().to_string()),
        vocabulary: short(&term.taxonomy, &format!("{path}.taxonomy"))?
            .or(match &term.taxonomy_detail {
                Some(t) => Some(required(&t.name, &format!("{path}.taxonomy_detail.name"))?),
                None => None,
            })
            .unwrap_or_else(|| "default".to_string()),
        term_uri: identifier(&term.term_uri, &format!("{path}.term_uri"))?,
        id,
    })
}

/// A checked HSDS `taxonomy_term` and, when it carries one, its `taxonomy_detail`
/// (for service records and `signpost import taxonomy` alike).
pub(crate) fn term_rows(
    term: &model::TaxonomyTerm,
    path: &str,
) -> Result<(taxonomy_term::Model, Option<taxonomy::Model>), FieldError> {
    let row = term_row(term, path)?;
    let vocabulary = match &term.taxonomy_detail {
        Some(t) => Some(taxonomy::Model {
            id: required(&t.id, &format!("{path}.taxonomy_detail.id"))?,
            name: required(&t.name, &format!("{path}.taxonomy_detail.name"))?,
            description: long(
                &t.description,
                &format!("{path}.taxonomy_detail.description"),
            )?
            .unwrap_or_default(),
            uri: identifier(&t.uri, &format!("{path}.taxonomy_detail.uri"))?,
            version: short(&t.version, &format!("{path}.taxonomy_detail.version"))?,
        }),
        None => None,
    };
    Ok((row, vocabulary))
}

/// Check one HSDS record and turn it into a service record owned by
/// `authority_id`, its rows stamped `now`.
pub fn build(
    record: &model::Service,
    authority_id: i32,
    now: DateTime<Utc>,
) -> Result<Bundle, FieldError> {
    Bundle::build(record, authority_id, now)
}

mod places;

impl Bundle {
    fn build(
        record: &model::Service,
        authority_id: i32,
        now: DateTime<Utc>,
    ) -> Result<Self, FieldError> {
        let id = required(&record.id, "id")?;
        let status = match clean(&record.status) {
            None => ServiceStatus::Active,
            Some(s) => match ServiceStatus::from_code(&s) {
                Some(status) => status,
                None => {
                    return error(
                        "status",
                        format!("'{s}' is not active, inactive, defunct or temporarily closed"),
                    );
                }
            },
        };
        let (minimum_age, maximum_age) = checked(validate::age_range(
            "minimum_age",
            record.minimum_age,
            "maximum_age",
            record.maximum_age,
        ))?;
        let organization = match &record.organization {
            Some(org) => Some(organization::Model {
                id: required(&org.id, "organization.id")?,
                authority_id,
                name: required(&org.name, "organization.name")?,
                alternate_name: short(&org.alternate_name, "organization.alternate_name")?,
                description: long(&org.description, "organization.description")?,
                email: optional(&org.email, "organization.email", validate::email)?,
                website: link(&org.website, "organization.website")?,
                phone: first_phone(&org.phones, "organization.phones")?,
                uri: identifier(&org.uri, "organization.uri")?,
                identifiers: organization_identifiers(
                    &org.organization_identifiers,
                    "organization.organization_identifiers",
                )?,
                created_at: now,
                updated_at: now,
            }),
            None => None,
        };
        let organization_id = match (&organization, clean(&record.organization_id)) {
            (Some(org), _) => org.id.clone(),
            (None, Some(org_id)) => required(&org_id, "organization_id")?,
            (None, None) => {
                return error(
                    "organization",
                    "required: a nested organization or organization_id",
                );
            }
        };

        let mut bundle = Bundle {
            organization,
            service: service::Model {
                id: id.clone(),
                organization_id,
                authority_id,
                name: required(&record.name, "name")?,
                alternate_name: short(&record.alternate_name, "alternate_name")?,
                description: long(&record.description, "description")?,
                url: link(&record.url, "url")?,
                email: optional(&record.email, "email", validate::email)?,
                phone: first_phone(&record.phones, "phones")?,
                status: status.code().to_string(),
                interpretation_services: long(
                    &record.interpretation_services,
                    "interpretation_services",
                )?,
                application_process: long(&record.application_process, "application_process")?,
                fees_description: long(&record.fees_description, "fees_description")?,
                accreditations: long(&record.accreditations, "accreditations")?,
                alert: long(&record.alert, "alert")?,
                eligibility_description: long(
                    &record.eligibility_description,
                    "eligibility_description",
                )?,
                minimum_age,
                maximum_age,
                referral_routes: json!([]),
                delivery_modes: json!([]),
                residency_area_code: None,
                version: 1,
                last_verified_at: timestamp(&record.assured_date, "assured_date")?,
                created_at: now,
                updated_at: now,
                retired_at: None,
                import_hash: None,
                feed_id: None,
                source_id: None,
                fetched_at: None,
                retire_reason: None,
                replaced_by: None,
            },
            taxonomies: Vec::new(),
            terms: Vec::new(),
            categories: Vec::new(),
            eligibility: Vec::new(),
            locations: Vec::new(),
            addresses: Vec::new(),
            accessibility: Vec::new(),
            service_at_locations: Vec::new(),
            schedules: Vec::new(),
            cost_options: Vec::new(),
            service_areas: Vec::new(),
            languages: Vec::new(),
            capacities: Vec::new(),
            warnings: Vec::new(),
        };
        bundle.attributes(record)?;
        for (i, s) in record.schedules.iter().enumerate() {
            bundle.schedule(s, &format!("schedules[{i}]"), None)?;
        }
        for (i, area) in record.service_areas.iter().enumerate() {
            bundle.service_area(area, &format!("service_areas[{i}]"))?;
        }
        // Service-level rows first: HSDS examples reuse their ids at location level.
        for (i, l) in record.languages.iter().enumerate() {
            let row = language_row(l, &format!("languages[{i}]"), Some(id.clone()), None)?;
            bundle.languages.push(row);
        }
        for (i, sal) in record.service_at_locations.iter().enumerate() {
            bundle.service_at_location(sal, &format!("service_at_locations[{i}]"), authority_id)?;
        }
        for (i, c) in record.cost_options.iter().enumerate() {
            bundle.cost_option(c, &format!("cost_options[{i}]"))?;
        }
        for (i, c) in record.capacities.iter().enumerate() {
            bundle.capacity(c, &format!("capacities[{i}]"), now)?;
        }
        Ok(bundle)
    }

    fn add_term(
        &mut self,
        term: &model::TaxonomyTerm,
        path: &str,
    ) -> Result<taxonomy_term::Model, FieldError> {
        let (row, vocabulary) = term_rows(term, path)?;
        if let Some(vocabulary) = vocabulary
            && !self.taxonomies.iter().any(|x| x.id == vocabulary.id)
        {
            self.taxonomies.push(vocabulary);
        }
        if !self.terms.iter().any(|x| x.id == row.id) {
            self.terms.push(row.clone());
        }
        Ok(row)
    }

    fn attributes(&mut self, record: &model::Service) -> Result<(), FieldError> {
        let mut routes = Vec::new();
        let mut modes = Vec::new();
        for (i, attribute) in record.attributes.iter().enumerate() {
            let path = format!("attributes[{i}]");
            let link_type = clean(&attribute.link_type)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let term = match &attribute.taxonomy_term {
                Some(term) => Some(self.add_term(term, &format!("{path}.taxonomy_term"))?),
                None => None,
            };
            let term_path = format!("{path}.taxonomy_term.code");
            match link_type.as_str() {
                "restricted_to" | "suitable_for" | "referral_route" | "delivery_mode" => {
                    let Some(term) = term else {
                        return error(
                            format!("{path}.taxonomy_term"),
                            format!("required for link_type {link_type}"),
                        );
                    };
                    match link_type.as_str() {
                        "referral_route" => match ReferralRoute::from_code(&term.code) {
                            Some(route) => routes.push(route.code()),
                            None => {
                                return error(
                                    term_path,
                                    format!("'{}' is not a referral route", term.code),
                                );
                            }
                        },
                        "delivery_mode" => match DeliveryMode::from_code(&term.code) {
                            Some(mode) => modes.push(mode.code()),
                            None => {
                                return error(
                                    term_path,
                                    format!("'{}' is not a delivery mode", term.code),
                                );
                            }
                        },
                        _ => {
                            let rule = if link_type == "restricted_to" {
                                EligibilityRule::RestrictedTo
                            } else {
                                EligibilityRule::SuitableFor
                            };
                            let criterion = if term.vocabulary.eq_ignore_ascii_case("gender") {
                                EligibilityCriterion::Gender
                            } else {
                                EligibilityCriterion::Circumstance
                            };
                            self.eligibility.push((criterion, term.code.clone(), rule));
                        }
                    }
                }
                _ => {
                    let term_id = match (term, clean(&attribute.taxonomy_term_id)) {
                        (Some(term), _) => term.id,
                        (None, Some(id)) => required(&id, &format!("{path}.taxonomy_term_id"))?,
                        (None, None) => {
                            return error(path, "needs taxonomy_term or taxonomy_term_id");
                        }
                    };
                    if !self.categories.iter().any(|(_, id)| *id == term_id) {
                        self.categories
                            .push((format!("{path}.taxonomy_term_id"), term_id));
                    }
                }
            }
        }
        self.service.referral_routes = json!(routes);
        self.service.delivery_modes = json!(modes);
        Ok(())
    }

    fn schedule(
        &mut self,
        s: &model::Schedule,
        path: &str,
        sal: Option<&str>,
    ) -> Result<(), FieldError> {
        let id = required(&s.id, &format!("{path}.id"))?;
        if self.schedules.iter().any(|x| x.id == id) {
            return Ok(()); // HSDS repeats a schedule at service and location level.
        }
        let opens_at = clock(&s.opens_at, &format!("{path}.opens_at"))?;
        let closes_at = clock(&s.closes_at, &format!("{path}.closes_at"))?;
        checked(validate::closes_after_opens(
            &format!("{path}.opens_at"),
            opens_at.as_deref(),
            &format!("{path}.closes_at"),
            closes_at.as_deref(),
        ))?;
        let (valid_from, valid_to) = period(&s.valid_from, &s.valid_to, path)?;
        self.schedules.push(schedule::Model {
            id,
            // Service-level and location-level schedules both belong to the service.
            service_id: Some(self.service.id.clone()),
            location_id: None,
            service_at_location_id: sal.map(str::to_string),
            freq: short(&s.freq, &format!("{path}.freq"))?.map(|f| f.to_ascii_uppercase()),
            byday: byday(&s.byday, &format!("{path}.byday"))?,
            opens_at,
            closes_at,
            valid_from,
            valid_to,
            description: long(&s.description, &format!("{path}.description"))?,
            notes: long(&s.notes, &format!("{path}.notes"))?,
            attending_type: short(&s.attending_type, &format!("{path}.attending_type"))?,
        });
        Ok(())
    }

    fn service_area(&mut self, area: &model::ServiceArea, path: &str) -> Result<(), FieldError> {
        let id = required(&area.id, &format!("{path}.id"))?;
        if self.service_areas.iter().any(|x| x.id == id) {
            return Ok(());
        }
        let extent = long(&area.extent, &format!("{path}.extent"))?;
        let extent_type = short(&area.extent_type, &format!("{path}.extent_type"))?
            .map(|t| t.to_ascii_lowercase());
        if let (Some(text), Some("geojson")) = (&extent, extent_type.as_deref())
            && let Err(message) = spatial::parse_polygons(text)
        {
            self.warnings.push(FieldError {
                path: format!("{path}.extent"),
                message: format!("{message}; kept as text, not used to place the service"),
            });
        }
        self.service_areas.push(service_area::Model {
            id,
            service_id: self.service.id.clone(),
            name: short(&area.name, &format!("{path}.name"))?,
            description: long(&area.description, &format!("{path}.description"))?,
            extent,
            extent_type,
            area_code: None,
            uri: link(&area.uri, &format!("{path}.uri"))?,
        });
        Ok(())
    }

    fn cost_option(&mut self, c: &model::CostOption, path: &str) -> Result<(), FieldError> {
        let amount_pence = match c.amount {
            None => None,
            Some(a) if !a.is_finite() || a < 0.0 => {
                return error(format!("{path}.amount"), "must not be negative");
            }
            Some(a) if a > 1_000_000.0 => {
                return error(format!("{path}.amount"), "implausibly large");
            }
            Some(a) => Some((a * 100.0).round() as i64),
        };
        let mut concessions = Vec::new();
        for (i, attribute) in c.attributes.iter().enumerate() {
            let is_concession =
                clean(&attribute.link_type).is_some_and(|t| t.eq_ignore_ascii_case("concession"));
            if let (true, Some(term)) = (is_concession, &attribute.taxonomy_term) {
                let term = self.add_term(term, &format!("{path}.attributes[{i}].taxonomy_term"))?;
                concessions.push(term.code);
            }
        }
        let (valid_from, valid_to) = period(&c.valid_from, &c.valid_to, path)?;
        self.cost_options.push(cost_option::Model {
            id: required(&c.id, &format!("{path}.id"))?,
            service_id: self.service.id.clone(),
            option: short(&c.option, &format!("{path}.option"))?,
            amount_pence,
            currency: short(&c.currency, &format!("{path}.currency"))?
                .map(|c| c.to_ascii_uppercase()),
            amount_description: long(&c.amount_description, &format!("{path}.amount_description"))?,
            valid_from,
            valid_to,
            concessions: json!(concessions),
        });
        Ok(())
    }

    fn capacity(
        &mut self,
        c: &model::Capacity,
        path: &str,
        now: DateTime<Utc>,
    ) -> Result<(), FieldError> {
        let available = count(c.available, &format!("{path}.available"))?;
        let maximum = count(c.maximum, &format!("{path}.maximum"))?;
        // The API refuses this on an update; HSDS's own example publishes it (12 of
        // 10 beds), so an import keeps the figures as published and says so.
        if let Err(e) =
            validate::available_within_maximum(&format!("{path}.available"), available, maximum)
        {
            let mut warning = FieldError::from(e);
            warning.message.push_str("; kept as published");
            self.warnings.push(warning);
        }
        let status = match clean(&c.status) {
            None => status_from_available(available),
            Some(s) => match CapacityStatus::from_code(&s) {
                Some(status) => status,
                None => {
                    return error(
                        format!("{path}.status"),
                        format!("'{s}' is not a capacity status"),
                    );
                }
            },
        };
        self.capacities.push(capacity::Model {
            id: required(&c.id, &format!("{path}.id"))?,
            service_id: self.service.id.clone(),
            status: status.code().to_string(),
            available,
            maximum,
            unit: match &c.unit {
                Some(unit) => short(&unit.name, &format!("{path}.unit.name"))?,
                None => None,
            },
            waitlist_length: count(c.waitlist_length, &format!("{path}.waitlist_length"))?,
            typical_wait_days: count(c.typical_wait_days, &format!("{path}.typical_wait_days"))?,
            description: long(&c.description, &format!("{path}.description"))?,
            updated_at: timestamp(&c.updated, &format!("{path}.updated"))?.unwrap_or(now),
            updated_by: Some("import".to_string()),
            expires_at: timestamp(&c.expires_at, &format!("{path}.expires_at"))?,
        });
        Ok(())
    }
}

fn language_row(
    l: &model::Language,
    path: &str,
    service_id: Option<String>,
    location_id: Option<String>,
) -> Result<language::Model, FieldError> {
    let code = clean(&l.code).map(|c| c.to_ascii_lowercase());
    if let Some(code) = &code
        && (!(2..=3).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return error(
            format!("{path}.code"),
            format!("'{code}' is not an ISO 639 code"),
        );
    }
    Ok(language::Model {
        id: required(&l.id, &format!("{path}.id"))?,
        service_id,
        location_id,
        name: short(&l.name, &format!("{path}.name"))?,
        code,
        note: long(&l.note, &format!("{path}.note"))?,
    })
}
