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

use crate::domain::codes::{
    AccessibilityFeature, DayOfWeek, DeliveryMode, EligibilityCriterion, EligibilityRule,
    ReferralRoute,
};
use crate::domain::validate::{self, Fields};
use crate::error::{AppError, AppResult};

mod rows;

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
    pub fn apply(&self, row: &mut service::Model, f: Fields) -> AppResult<()> {
        if let Some(name) = &self.name {
            row.name = validate::name(&f.name("name"), name)?;
        }
        let d = validate::description;
        apply_text(
            &mut row.alternate_name,
            &self.alternate_name,
            &f.name("alternateName"),
            short,
        )?;
        apply_text(
            &mut row.description,
            &self.description,
            &f.name("description"),
            d,
        )?;
        apply_text(
            &mut row.application_process,
            &self.application_process,
            &f.name("applicationProcess"),
            d,
        )?;
        apply_text(
            &mut row.fees_description,
            &self.fees_description,
            &f.name("feesDescription"),
            d,
        )?;
        apply_text(
            &mut row.eligibility_description,
            &self.eligibility_description,
            &f.name("eligibilityDescription"),
            d,
        )?;
        apply_text(
            &mut row.residency_area_code,
            &self.residency_area_code,
            &f.name("residencyAreaCode"),
            short,
        )?;
        apply_text(&mut row.url, &self.url, &f.name("url"), validate::url)?;
        apply_text(
            &mut row.email,
            &self.email,
            &f.name("email"),
            validate::email,
        )?;
        apply_text(
            &mut row.phone,
            &self.phone,
            &f.name("phone"),
            validate::phone,
        )?;
        let min = self.minimum_age.unwrap_or(row.minimum_age);
        let max = self.maximum_age.unwrap_or(row.maximum_age);
        let (min, max) =
            validate::age_range(&f.name("minimumAge"), min, &f.name("maximumAge"), max)?;
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
    pub fn parts(&self, service_id: &str, authority_id: i32, f: Fields) -> AppResult<Parts> {
        let mut parts = Parts {
            taxonomy_terms: self.taxonomy_terms.clone(),
            ..Parts::default()
        };
        if let Some(terms) = &self.taxonomy_terms {
            for (i, term) in terms.iter().enumerate() {
                code(&f.name(&format!("taxonomyTerms[{i}]")), term)?;
            }
        }
        if let Some(rules) = &self.eligibility {
            let mut rows = Vec::new();
            for (i, rule) in rules.iter().enumerate() {
                let value = code(&f.name(&format!("eligibility[{i}].value")), &rule.value)?;
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
                .map(|(i, l)| {
                    l.rows(
                        &f.name(&format!("locations[{i}]")),
                        service_id,
                        authority_id,
                    )
                })
                .collect::<AppResult<Vec<_>>>()?;
            parts.locations = Some(rows);
        }
        if let Some(costs) = &self.cost_options {
            let rows = costs
                .iter()
                .enumerate()
                .map(|(i, c)| c.row(&f.name(&format!("costOptions[{i}]")), service_id))
                .collect::<AppResult<Vec<_>>>()?;
            parts.cost_options = Some(rows);
        }
        if let Some(schedules) = &self.schedules {
            let rows = schedules
                .iter()
                .enumerate()
                .map(|(i, s)| s.row(&f.name(&format!("schedules[{i}]")), service_id))
                .collect::<AppResult<Vec<_>>>()?;
            parts.schedules = Some(rows);
        }
        if let Some(languages) = &self.languages {
            let mut rows = Vec::new();
            for (i, language) in languages.iter().enumerate() {
                let path = f.name(&format!("languages[{i}]"));
                let code = validate::language_code(&path, language)?;
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
                .map(|(i, a)| a.row(&f.name(&format!("serviceAreas[{i}]")), service_id))
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
