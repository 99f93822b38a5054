//! Turn one HSDS service record into the rows Signpost stores, checking every value
//! on the way. A problem names its field path within the record
//! (`service_at_locations[0].location.latitude`), and nothing is written for it.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    accessibility, address, capacity, cost_option, language, location, organization, schedule,
    service, service_area, service_at_location, taxonomy, taxonomy_term,
};
use serde_json::json;

use super::model;
use crate::domain::capacity::status_from_available;
use crate::domain::codes::{
    AccessibilityFeature, CapacityStatus, DayOfWeek, DeliveryMode, EligibilityCriterion,
    EligibilityRule, ReferralRoute, ServiceStatus,
};
use crate::domain::postcode::Postcode;
use crate::spatial::{self, Coordinates};

/// A value that failed a check, with its path in the record.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

fn error<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError {
        path: path.into(),
        message: message.into(),
    })
}

/// Everything one HSDS service becomes.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The nested organization, or None when the record names an existing one by id.
    pub organization: Option<organization::Model>,
    pub service: service::Model,
    pub taxonomies: Vec<taxonomy::Model>,
    pub terms: Vec<taxonomy_term::Model>,
    /// Category term ids, with the path that named each (checked to exist on write).
    pub categories: Vec<(String, String)>,
    /// (criterion, value, rule).
    pub eligibility: Vec<(EligibilityCriterion, String, EligibilityRule)>,
    pub locations: Vec<location::Model>,
    pub addresses: Vec<address::Model>,
    pub accessibility: Vec<accessibility::Model>,
    pub service_at_locations: Vec<service_at_location::Model>,
    pub schedules: Vec<schedule::Model>,
    pub cost_options: Vec<cost_option::Model>,
    pub service_areas: Vec<service_area::Model>,
    pub languages: Vec<language::Model>,
    pub capacities: Vec<capacity::Model>,
    /// Problems that did not stop the record (kept as given, e.g. a non-GeoJSON extent).
    pub warnings: Vec<FieldError>,
}

fn clean(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn required(text: &str, path: &str) -> Result<String, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        error(path, "must not be empty")
    } else {
        Ok(text.to_string())
    }
}

fn date(text: &Option<String>, path: &str) -> Result<Option<NaiveDate>, FieldError> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    let day = text.get(..10).unwrap_or(&text);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(Some)
        .or_else(|_| error(path, format!("'{text}' is not a date (YYYY-MM-DD)")))
}

fn timestamp(text: &Option<String>, path: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(&text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    match date(&Some(text.clone()), path)? {
        Some(day) => Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc())),
        None => error(path, format!("'{text}' is not a timestamp")),
    }
}

/// "HH:MM" or "HH:MM:SS" → "HH:MM:SS".
fn clock(text: &Option<String>, path: &str) -> Result<Option<String>, FieldError> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    let parsed = chrono::NaiveTime::parse_from_str(&text, "%H:%M:%S")
        .or_else(|_| chrono::NaiveTime::parse_from_str(&text, "%H:%M"));
    match parsed {
        Ok(time) => Ok(Some(time.format("%H:%M:%S").to_string())),
        Err(_) => error(path, format!("'{text}' is not a time (HH:MM or HH:MM:SS)")),
    }
}

fn byday(text: &Option<String>, path: &str) -> Result<Option<String>, FieldError> {
    let Some(text) = clean(text) else {
        return Ok(None);
    };
    let mut days = Vec::new();
    for part in text.split(',') {
        // RRULE allows an ordinal before the day ("1MO", "-1FR") in monthly rules.
        let (ordinal, day) = part.trim().split_at(
            part.trim()
                .find(|c: char| c.is_ascii_alphabetic())
                .unwrap_or(0),
        );
        let Some(day) = DayOfWeek::from_code(day) else {
            return error(path, format!("'{part}' is not an RRULE day (MO..SU)"));
        };
        days.push(format!("{ordinal}{}", day.code()));
    }
    Ok(Some(days.join(",")))
}

fn age(value: Option<f64>, path: &str) -> Result<Option<f64>, FieldError> {
    match value {
        Some(v) if !v.is_finite() || !(0.0..=130.0).contains(&v) => {
            error(path, format!("{v} is outside 0..130"))
        }
        other => Ok(other),
    }
}

fn count(value: Option<i64>, path: &str) -> Result<Option<i32>, FieldError> {
    match value {
        None => Ok(None),
        Some(v) if v < 0 => error(path, "must not be negative"),
        Some(v) => i32::try_from(v)
            .map(Some)
            .or_else(|_| error(path, "too large")),
    }
}

fn term_row(term: &model::TaxonomyTerm, path: &str) -> Result<taxonomy_term::Model, FieldError> {
    let id = required(&term.id, &format!("{path}.id"))?;
    let code = clean(&term.code).unwrap_or_else(|| id.clone());
    Ok(taxonomy_term::Model {
        code,
        name: required(&term.name, &format!("{path}.name"))?,
        description: clean(&term.description).unwrap_or_default(),
        parent_id: clean(&term.parent_id),
        taxonomy_id: term
            .taxonomy_detail
            .as_ref()
            .map(|t| t.id.trim().to_string()),
        vocabulary: clean(&term.taxonomy)
            .or_else(|| term.taxonomy_detail.as_ref().map(|t| t.name.clone()))
            .unwrap_or_else(|| "default".to_string()),
        term_uri: clean(&term.term_uri),
        id,
    })
}

impl Bundle {
    /// Check and convert. `now` stamps rows; `authority_id` owns them.
    pub fn build(
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
        let minimum_age = age(record.minimum_age, "minimum_age")?;
        let maximum_age = age(record.maximum_age, "maximum_age")?;
        if let (Some(min), Some(max)) = (minimum_age, maximum_age)
            && min > max
        {
            return error("minimum_age", format!("{min} is above maximum_age {max}"));
        }
        let organization = match &record.organization {
            Some(org) => Some(organization::Model {
                id: required(&org.id, "organization.id")?,
                authority_id,
                name: required(&org.name, "organization.name")?,
                alternate_name: clean(&org.alternate_name),
                description: clean(&org.description),
                email: clean(&org.email),
                website: clean(&org.website),
                phone: org
                    .phones
                    .first()
                    .map(|p| p.number.trim_matches(|c| c == '"' || c == ' ').to_string()),
                uri: clean(&org.uri),
                created_at: now,
                updated_at: now,
            }),
            None => None,
        };
        let organization_id = match (&organization, clean(&record.organization_id)) {
            (Some(org), _) => org.id.clone(),
            (None, Some(org_id)) => org_id,
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
                alternate_name: clean(&record.alternate_name),
                description: clean(&record.description),
                url: clean(&record.url),
                email: clean(&record.email),
                phone: record
                    .phones
                    .first()
                    .map(|p| p.number.trim_matches(|c| c == '"' || c == ' ').to_string()),
                status: status.code().to_string(),
                interpretation_services: clean(&record.interpretation_services),
                application_process: clean(&record.application_process),
                fees_description: clean(&record.fees_description),
                accreditations: clean(&record.accreditations),
                alert: clean(&record.alert),
                eligibility_description: clean(&record.eligibility_description),
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
        let row = term_row(term, path)?;
        if let Some(t) = &term.taxonomy_detail
            && !self.taxonomies.iter().any(|x| x.id == t.id)
        {
            self.taxonomies.push(taxonomy::Model {
                id: required(&t.id, &format!("{path}.taxonomy_detail.id"))?,
                name: required(&t.name, &format!("{path}.taxonomy_detail.name"))?,
                description: clean(&t.description).unwrap_or_default(),
                uri: clean(&t.uri),
                version: clean(&t.version),
            });
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
                        (None, Some(id)) => id,
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
        self.schedules.push(schedule::Model {
            id,
            // Service-level and location-level schedules both belong to the service.
            service_id: Some(self.service.id.clone()),
            location_id: None,
            service_at_location_id: sal.map(str::to_string),
            freq: clean(&s.freq).map(|f| f.to_ascii_uppercase()),
            byday: byday(&s.byday, &format!("{path}.byday"))?,
            opens_at: clock(&s.opens_at, &format!("{path}.opens_at"))?,
            closes_at: clock(&s.closes_at, &format!("{path}.closes_at"))?,
            valid_from: date(&s.valid_from, &format!("{path}.valid_from"))?,
            valid_to: date(&s.valid_to, &format!("{path}.valid_to"))?,
            description: clean(&s.description),
            notes: clean(&s.notes),
            attending_type: clean(&s.attending_type),
        });
        Ok(())
    }

    fn service_area(&mut self, area: &model::ServiceArea, path: &str) -> Result<(), FieldError> {
        let id = required(&area.id, &format!("{path}.id"))?;
        if self.service_areas.iter().any(|x| x.id == id) {
            return Ok(());
        }
        let extent = clean(&area.extent);
        let extent_type = clean(&area.extent_type).map(|t| t.to_ascii_lowercase());
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
            name: clean(&area.name),
            description: clean(&area.description),
            extent,
            extent_type,
            area_code: None,
            uri: clean(&area.uri),
        });
        Ok(())
    }

    fn service_at_location(
        &mut self,
        sal: &model::ServiceAtLocation,
        path: &str,
        authority_id: i32,
    ) -> Result<(), FieldError> {
        let sal_id = required(&sal.id, &format!("{path}.id"))?;
        let location_id = match (&sal.location, clean(&sal.location_id)) {
            (Some(location), _) => {
                self.location(location, &format!("{path}.location"), authority_id)?
            }
            (None, Some(id)) => id,
            (None, None) => {
                return error(
                    format!("{path}.location"),
                    "required: a nested location or location_id",
                );
            }
        };
        self.service_at_locations.push(service_at_location::Model {
            id: sal_id.clone(),
            service_id: self.service.id.clone(),
            location_id,
            description: clean(&sal.description),
        });
        for (i, s) in sal.schedules.iter().enumerate() {
            self.schedule(s, &format!("{path}.schedules[{i}]"), Some(&sal_id))?;
        }
        for (i, area) in sal.service_areas.iter().enumerate() {
            self.service_area(area, &format!("{path}.service_areas[{i}]"))?;
        }
        Ok(())
    }

    fn location(
        &mut self,
        l: &model::Location,
        path: &str,
        authority_id: i32,
    ) -> Result<String, FieldError> {
        let id = required(&l.id, &format!("{path}.id"))?;
        let (latitude, longitude) = match (l.latitude, l.longitude) {
            (Some(lat), Some(lon)) => match Coordinates::new(lat, lon) {
                Ok(c) => (Some(c.latitude), Some(c.longitude)),
                Err(crate::spatial::CoordinateError::Latitude(v)) => {
                    return error(
                        format!("{path}.latitude"),
                        format!("{v} is outside -90..90"),
                    );
                }
                Err(crate::spatial::CoordinateError::Longitude(v)) => {
                    return error(
                        format!("{path}.longitude"),
                        format!("{v} is outside -180..180"),
                    );
                }
            },
            (None, None) => (None, None),
            (Some(_), None) => return error(format!("{path}.longitude"), "required with latitude"),
            (None, Some(_)) => return error(format!("{path}.latitude"), "required with longitude"),
        };
        let mut postcode = None;
        for (i, a) in l.addresses.iter().enumerate() {
            let apath = format!("{path}.addresses[{i}]");
            let row = address::Model {
                id: required(&a.id, &format!("{apath}.id"))?,
                location_id: id.clone(),
                attention: clean(&a.attention),
                address_1: a.address_1.trim().to_string(),
                address_2: clean(&a.address_2),
                city: a.city.trim().to_string(),
                region: clean(&a.region),
                state_province: a.state_province.trim().to_string(),
                postal_code: a.postal_code.trim().to_string(),
                country: a.country.trim().to_string(),
                address_type: a.address_type.trim().to_ascii_lowercase(),
            };
            if postcode.is_none() || row.address_type == "physical" {
                postcode = Postcode::parse(&row.postal_code)
                    .ok()
                    .map(|p| p.to_string())
                    .or(postcode);
            }
            self.addresses.push(row);
        }
        for (i, a) in l.accessibility.iter().enumerate() {
            let text = [a.details.as_deref(), a.description.as_deref()];
            self.accessibility.push(accessibility::Model {
                id: required(&a.id, &format!("{path}.accessibility[{i}].id"))?,
                location_id: id.clone(),
                feature: text
                    .iter()
                    .flatten()
                    .find_map(|t| AccessibilityFeature::recognise(t))
                    .map(|f| f.code().to_string()),
                description: clean(&a.description),
                details: clean(&a.details),
                url: clean(&a.url),
            });
        }
        for (i, lang) in l.languages.iter().enumerate() {
            let row = language_row(
                lang,
                &format!("{path}.languages[{i}]"),
                None,
                Some(id.clone()),
            )?;
            self.languages.push(row);
        }
        let location_type = clean(&l.location_type)
            .unwrap_or_else(|| "physical".into())
            .to_ascii_lowercase();
        if !["physical", "postal", "virtual"].contains(&location_type.as_str()) {
            return error(
                format!("{path}.location_type"),
                format!("'{location_type}' is not physical, postal or virtual"),
            );
        }
        if !self.locations.iter().any(|x| x.id == id) {
            self.locations.push(location::Model {
                id: id.clone(),
                authority_id,
                name: clean(&l.name),
                alternate_name: clean(&l.alternate_name),
                description: clean(&l.description),
                location_type,
                latitude,
                longitude,
                postcode,
                transportation: clean(&l.transportation),
                url: clean(&l.url),
            });
        }
        Ok(id)
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
        self.cost_options.push(cost_option::Model {
            id: required(&c.id, &format!("{path}.id"))?,
            service_id: self.service.id.clone(),
            option: clean(&c.option),
            amount_pence,
            currency: clean(&c.currency).map(|c| c.to_ascii_uppercase()),
            amount_description: clean(&c.amount_description),
            valid_from: date(&c.valid_from, &format!("{path}.valid_from"))?,
            valid_to: date(&c.valid_to, &format!("{path}.valid_to"))?,
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
            maximum: count(c.maximum, &format!("{path}.maximum"))?,
            unit: c.unit.as_ref().and_then(|u| clean(&u.name)),
            waitlist_length: count(c.waitlist_length, &format!("{path}.waitlist_length"))?,
            typical_wait_days: count(c.typical_wait_days, &format!("{path}.typical_wait_days"))?,
            description: clean(&c.description),
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
        name: clean(&l.name),
        code,
        note: clean(&l.note),
    })
}
