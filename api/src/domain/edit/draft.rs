//! What a caller sends to create or change a service, and its check into rows.
//!
//! One shape serves create and update: a `Field` left out (None) keeps what is
//! stored, `Some(None)` clears it; a list left out keeps its rows, a list given
//! replaces them. Every problem names the input path (`input.locations[0].latitude`).

use chrono::NaiveDate;
use entity::{
    accessibility, address, cost_option, language, location, schedule, service, service_area,
    service_at_location,
};
use serde_json::json;

use super::super::codes::{
    AccessibilityFeature, DayOfWeek, DeliveryMode, EligibilityCriterion, EligibilityRule,
    ReferralRoute,
};
use super::super::validate;
use crate::error::{AppError, AppResult};
use crate::spatial;

/// An optional value: None keeps what is stored, Some(None) clears it.
pub type Field<T> = Option<Option<T>>;

#[derive(Clone, Debug, Default)]
pub struct ServiceDraft {
    pub organization_id: Option<String>,
    pub name: Option<String>,
    pub alternate_name: Field<String>,
    pub description: Field<String>,
    pub url: Field<String>,
    pub email: Field<String>,
    pub phone: Field<String>,
    pub application_process: Field<String>,
    pub fees_description: Field<String>,
    pub eligibility_description: Field<String>,
    pub minimum_age: Field<f64>,
    pub maximum_age: Field<f64>,
    pub residency_area_code: Field<String>,
    pub referral_routes: Option<Vec<ReferralRoute>>,
    pub delivery_modes: Option<Vec<DeliveryMode>>,
    pub taxonomy_terms: Option<Vec<String>>,
    pub eligibility: Option<Vec<RuleDraft>>,
    pub locations: Option<Vec<LocationDraft>>,
    pub cost_options: Option<Vec<CostDraft>>,
    pub schedules: Option<Vec<ScheduleDraft>>,
    pub languages: Option<Vec<String>>,
    pub service_areas: Option<Vec<ServiceAreaDraft>>,
}

#[derive(Clone, Debug)]
pub struct RuleDraft {
    pub criterion: EligibilityCriterion,
    /// A gender, or a circumstance term code.
    pub value: String,
    pub rule: EligibilityRule,
}

#[derive(Clone, Debug, Default)]
pub struct LocationDraft {
    pub name: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub postcode: Option<String>,
    pub address: Option<AddressDraft>,
    pub accessibility: Vec<AccessibilityFeature>,
    pub transportation: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct AddressDraft {
    pub address_1: String,
    pub address_2: Option<String>,
    pub city: String,
    pub region: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct CostDraft {
    pub option: Option<String>,
    pub amount_pence: Option<i64>,
    pub amount_description: Option<String>,
    pub concessions: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ScheduleDraft {
    pub days: Vec<DayOfWeek>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ServiceAreaDraft {
    pub name: Option<String>,
    pub description: Option<String>,
    /// A GeoJSON Polygon or MultiPolygon (geometry or Feature), WGS84.
    pub extent: Option<serde_json::Value>,
    pub area_code: Option<String>,
}

/// Rows for the parts a draft replaces (None: keep the stored ones).
#[derive(Default)]
pub struct Parts {
    pub locations: Option<Vec<LocatedRows>>,
    pub cost_options: Option<Vec<cost_option::Model>>,
    pub schedules: Option<Vec<schedule::Model>>,
    pub languages: Option<Vec<language::Model>>,
    pub service_areas: Option<Vec<service_area::Model>>,
    /// (criterion, value, rule)
    pub eligibility: Option<Vec<(String, String, String)>>,
    /// Term codes as sent, checked against the vocabulary when written.
    pub taxonomy_terms: Option<Vec<String>>,
}

/// One location with its address, features and link to the service.
pub struct LocatedRows {
    pub location: location::Model,
    pub address: Option<address::Model>,
    pub accessibility: Vec<accessibility::Model>,
    pub link: service_at_location::Model,
}

/// Ids in creation order (UUID v7), so parts read back in the order they were given.
pub(super) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Apply a checked optional text: left out keeps `target`, null or blank clears it.
pub(super) fn apply_text(
    target: &mut Option<String>,
    value: &Field<String>,
    path: &str,
    check: impl Fn(&str, &str) -> AppResult<String>,
) -> AppResult<()> {
    match value {
        None => {}
        Some(None) => *target = None,
        Some(Some(text)) => {
            let checked = check(path, text)?;
            *target = (!checked.is_empty()).then_some(checked);
        }
    }
    Ok(())
}

pub(super) fn short(path: &str, text: &str) -> AppResult<String> {
    validate::short_text(path, text, validate::MAX_NAME_CHARS)
}

fn optional_short(value: &Option<String>, path: &str) -> AppResult<Option<String>> {
    value
        .as_deref()
        .map(|t| short(path, t))
        .transpose()
        .map(|t| t.filter(|t| !t.is_empty()))
}

fn optional_description(value: &Option<String>, path: &str) -> AppResult<Option<String>> {
    value
        .as_deref()
        .map(|t| validate::description(path, t))
        .transpose()
        .map(|t| t.filter(|t| !t.is_empty()))
}

/// A code such as a circumstance or gender: short, no spaces at the ends.
fn code(path: &str, text: &str) -> AppResult<String> {
    let code = validate::short_text(path, text, 100)?;
    if code.is_empty() {
        return Err(AppError::bad_input(path, "must not be empty"));
    }
    Ok(code)
}

fn clock(path: &str, text: &str) -> AppResult<String> {
    validate::time_of_day(path, text).map(validate::stored_time)
}

impl ServiceDraft {
    /// Check the scalar fields and apply them to `row` (a new row, or the stored one).
    pub fn apply(&self, row: &mut service::Model) -> AppResult<()> {
        if let Some(name) = &self.name {
            row.name = validate::name("input.name", name)?;
        }
        let d = validate::description;
        apply_text(
            &mut row.alternate_name,
            &self.alternate_name,
            "input.alternateName",
            short,
        )?;
        apply_text(
            &mut row.description,
            &self.description,
            "input.description",
            d,
        )?;
        apply_text(
            &mut row.application_process,
            &self.application_process,
            "input.applicationProcess",
            d,
        )?;
        apply_text(
            &mut row.fees_description,
            &self.fees_description,
            "input.feesDescription",
            d,
        )?;
        apply_text(
            &mut row.eligibility_description,
            &self.eligibility_description,
            "input.eligibilityDescription",
            d,
        )?;
        apply_text(
            &mut row.residency_area_code,
            &self.residency_area_code,
            "input.residencyAreaCode",
            short,
        )?;
        apply_text(&mut row.url, &self.url, "input.url", validate::url)?;
        apply_text(&mut row.email, &self.email, "input.email", validate::email)?;
        apply_text(&mut row.phone, &self.phone, "input.phone", validate::phone)?;
        let min = self.minimum_age.unwrap_or(row.minimum_age);
        let max = self.maximum_age.unwrap_or(row.maximum_age);
        let (min, max) = validate::age_range("input.minimumAge", min, "input.maximumAge", max)?;
        row.minimum_age = min;
        row.maximum_age = max;
        if let Some(routes) = &self.referral_routes {
            row.referral_routes =
                json!(unique(routes).iter().map(|r| r.code()).collect::<Vec<_>>());
        }
        if let Some(modes) = &self.delivery_modes {
            row.delivery_modes = json!(unique(modes).iter().map(|m| m.code()).collect::<Vec<_>>());
        }
        Ok(())
    }

    /// Check the lists and turn them into rows for `service` owned by `authority_id`.
    pub fn parts(&self, service_id: &str, authority_id: i32) -> AppResult<Parts> {
        let mut parts = Parts {
            taxonomy_terms: self.taxonomy_terms.clone(),
            ..Parts::default()
        };
        if let Some(terms) = &self.taxonomy_terms {
            for (i, term) in terms.iter().enumerate() {
                code(&format!("input.taxonomyTerms[{i}]"), term)?;
            }
        }
        if let Some(rules) = &self.eligibility {
            let mut rows = Vec::new();
            for (i, rule) in rules.iter().enumerate() {
                let value = code(&format!("input.eligibility[{i}].value"), &rule.value)?;
                rows.push((
                    rule.criterion.code().to_string(),
                    value,
                    rule.rule.code().to_string(),
                ));
            }
            parts.eligibility = Some(rows);
        }
        if let Some(locations) = &self.locations {
            let rows = locations
                .iter()
                .enumerate()
                .map(|(i, l)| l.rows(&format!("input.locations[{i}]"), service_id, authority_id))
                .collect::<AppResult<Vec<_>>>()?;
            parts.locations = Some(rows);
        }
        if let Some(costs) = &self.cost_options {
            let rows = costs
                .iter()
                .enumerate()
                .map(|(i, c)| c.row(&format!("input.costOptions[{i}]"), service_id))
                .collect::<AppResult<Vec<_>>>()?;
            parts.cost_options = Some(rows);
        }
        if let Some(schedules) = &self.schedules {
            let rows = schedules
                .iter()
                .enumerate()
                .map(|(i, s)| s.row(&format!("input.schedules[{i}]"), service_id))
                .collect::<AppResult<Vec<_>>>()?;
            parts.schedules = Some(rows);
        }
        if let Some(languages) = &self.languages {
            let mut rows = Vec::new();
            for (i, language) in languages.iter().enumerate() {
                let path = format!("input.languages[{i}]");
                let code = language.trim().to_ascii_lowercase();
                if !(2..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_lowercase()) {
                    return Err(AppError::bad_input(
                        path,
                        format!(
                            "'{language}' is not an ISO 639 language code (such as en, pl, urd)"
                        ),
                    ));
                }
                if rows
                    .iter()
                    .any(|r: &language::Model| r.code.as_deref() == Some(&code))
                {
                    continue;
                }
                rows.push(language::Model {
                    id: new_id(),
                    service_id: Some(service_id.to_string()),
                    location_id: None,
                    name: None,
                    code: Some(code),
                    note: None,
                });
            }
            parts.languages = Some(rows);
        }
        if let Some(areas) = &self.service_areas {
            let rows = areas
                .iter()
                .enumerate()
                .map(|(i, a)| a.row(&format!("input.serviceAreas[{i}]"), service_id))
                .collect::<AppResult<Vec<_>>>()?;
            parts.service_areas = Some(rows);
        }
        Ok(parts)
    }
}

fn unique<T: Copy + Ord>(items: &[T]) -> Vec<T> {
    let mut items = items.to_vec();
    items.sort();
    items.dedup();
    items
}

impl LocationDraft {
    fn rows(&self, path: &str, service_id: &str, authority_id: i32) -> AppResult<LocatedRows> {
        let at = validate::coordinates(path, self.latitude, self.longitude)?;
        let postcode = self
            .postcode
            .as_deref()
            .map(|p| validate::postcode(&format!("{path}.postcode"), p))
            .transpose()?;
        let id = new_id();
        let address = match &self.address {
            Some(a) => Some(address::Model {
                id: new_id(),
                location_id: id.clone(),
                attention: None,
                address_1: validate::name(&format!("{path}.address.address1"), &a.address_1)?,
                address_2: optional_short(&a.address_2, &format!("{path}.address.address2"))?,
                city: validate::name(&format!("{path}.address.city"), &a.city)?,
                region: optional_short(&a.region, &format!("{path}.address.region"))?,
                state_province: optional_short(&a.region, &format!("{path}.address.region"))?
                    .unwrap_or_default(),
                postal_code: postcode.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                country: "GB".into(),
                address_type: "physical".into(),
            }),
            None => None,
        };
        let accessibility = unique(&self.accessibility)
            .into_iter()
            .map(|feature| accessibility::Model {
                id: new_id(),
                location_id: id.clone(),
                feature: Some(feature.code().to_string()),
                description: None,
                details: None,
                url: None,
            })
            .collect();
        Ok(LocatedRows {
            location: location::Model {
                id: id.clone(),
                authority_id,
                name: optional_short(&self.name, &format!("{path}.name"))?,
                alternate_name: None,
                description: None,
                location_type: "physical".into(),
                latitude: Some(at.latitude),
                longitude: Some(at.longitude),
                postcode: postcode.map(|p| p.to_string()),
                transportation: optional_description(
                    &self.transportation,
                    &format!("{path}.transportation"),
                )?,
                url: None,
            },
            address,
            accessibility,
            link: service_at_location::Model {
                id: new_id(),
                service_id: service_id.to_string(),
                location_id: id,
                description: None,
            },
        })
    }
}

impl CostDraft {
    fn row(&self, path: &str, service_id: &str) -> AppResult<cost_option::Model> {
        if let Some(amount) = self.amount_pence
            && amount < 0
        {
            return Err(AppError::bad_input(
                format!("{path}.amountPence"),
                "must not be negative (a free service costs 0)",
            ));
        }
        let concessions = self
            .concessions
            .iter()
            .enumerate()
            .map(|(i, c)| code(&format!("{path}.concessions[{i}]"), c))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(cost_option::Model {
            id: new_id(),
            service_id: service_id.to_string(),
            option: optional_short(&self.option, &format!("{path}.option"))?,
            amount_pence: self.amount_pence,
            currency: Some("GBP".into()),
            amount_description: optional_description(
                &self.amount_description,
                &format!("{path}.amountDescription"),
            )?,
            valid_from: None,
            valid_to: None,
            concessions: json!(concessions),
        })
    }
}

impl ScheduleDraft {
    fn row(&self, path: &str, service_id: &str) -> AppResult<schedule::Model> {
        if self.days.is_empty() {
            return Err(AppError::bad_input(
                format!("{path}.days"),
                "name at least one day",
            ));
        }
        let opens_at = self
            .opens_at
            .as_deref()
            .map(|t| clock(&format!("{path}.opensAt"), t))
            .transpose()?;
        let closes_at = self
            .closes_at
            .as_deref()
            .map(|t| clock(&format!("{path}.closesAt"), t))
            .transpose()?;
        validate::closes_after_opens(
            &format!("{path}.opensAt"),
            opens_at.as_deref(),
            &format!("{path}.closesAt"),
            closes_at.as_deref(),
        )?;
        validate::date_order(
            &format!("{path}.validFrom"),
            self.valid_from,
            &format!("{path}.validTo"),
            self.valid_to,
        )?;
        let days: Vec<&str> = unique(&self.days).iter().map(|d| d.code()).collect();
        Ok(schedule::Model {
            id: new_id(),
            service_id: Some(service_id.to_string()),
            location_id: None,
            service_at_location_id: None,
            freq: Some("WEEKLY".into()),
            byday: Some(days.join(",")),
            opens_at,
            closes_at,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            description: optional_description(&self.description, &format!("{path}.description"))?,
            notes: None,
            attending_type: None,
        })
    }
}

impl ServiceAreaDraft {
    fn row(&self, path: &str, service_id: &str) -> AppResult<service_area::Model> {
        let extent = match &self.extent {
            Some(value) => {
                let text = value.to_string();
                spatial::parse_polygons(&text)
                    .map_err(|message| AppError::bad_input(format!("{path}.extent"), message))?;
                Some(text)
            }
            None => None,
        };
        let area_code = optional_short(&self.area_code, &format!("{path}.areaCode"))?;
        if extent.is_none() && area_code.is_none() {
            return Err(AppError::bad_input(
                format!("{path}.extent"),
                "give a GeoJSON polygon or an areaCode",
            ));
        }
        Ok(service_area::Model {
            id: new_id(),
            service_id: service_id.to_string(),
            name: optional_short(&self.name, &format!("{path}.name"))?,
            description: optional_description(&self.description, &format!("{path}.description"))?,
            extent_type: extent.as_ref().map(|_| "geojson".to_string()),
            extent,
            area_code,
            uri: None,
        })
    }
}
