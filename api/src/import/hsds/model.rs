//! HSDS 3.1 records as they arrive in JSON, read leniently: unknown fields are
//! ignored and a `null` list is an empty one. Shapes follow `service_full`.

use serde::{Deserialize, Deserializer};

/// `null` or absent → empty list.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// HSDS types counts as `number`: accept 8 and 8.0, refuse 8.5.
fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(Some(n as i64)),
        Some(n) => Err(serde::de::Error::custom(format!(
            "{n} is not a whole number"
        ))),
    }
}

#[derive(Deserialize, Debug)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub status: Option<String>,
    pub interpretation_services: Option<String>,
    pub application_process: Option<String>,
    pub fees_description: Option<String>,
    pub accreditations: Option<String>,
    pub eligibility_description: Option<String>,
    pub minimum_age: Option<f64>,
    pub maximum_age: Option<f64>,
    /// When the listing was last assured: our `last_verified_at`.
    pub assured_date: Option<String>,
    pub alert: Option<String>,
    pub organization: Option<Organization>,
    pub organization_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub phones: Vec<Phone>,
    #[serde(default, deserialize_with = "list")]
    pub schedules: Vec<Schedule>,
    #[serde(default, deserialize_with = "list")]
    pub service_areas: Vec<ServiceArea>,
    #[serde(default, deserialize_with = "list")]
    pub service_at_locations: Vec<ServiceAtLocation>,
    #[serde(default, deserialize_with = "list")]
    pub languages: Vec<Language>,
    #[serde(default, deserialize_with = "list")]
    pub cost_options: Vec<CostOption>,
    #[serde(default, deserialize_with = "list")]
    pub capacities: Vec<Capacity>,
    #[serde(default, deserialize_with = "list")]
    pub attributes: Vec<Attribute>,
}

#[derive(Deserialize, Debug)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub uri: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub phones: Vec<Phone>,
    #[serde(default, deserialize_with = "list")]
    pub organization_identifiers: Vec<OrganizationIdentifier>,
}

/// A charity, company or other register's number for the organization.
#[derive(Deserialize, Debug)]
pub struct OrganizationIdentifier {
    /// An org-id.guide scheme (`GB-CHC`, `GB-COH`).
    pub identifier_scheme: Option<String>,
    pub identifier_type: Option<String>,
    pub identifier: String,
}

#[derive(Deserialize, Debug)]
pub struct Phone {
    pub number: String,
}

#[derive(Deserialize, Debug)]
pub struct Schedule {
    pub id: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub freq: Option<String>,
    pub byday: Option<String>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub description: Option<String>,
    pub notes: Option<String>,
    pub attending_type: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct ServiceArea {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub extent: Option<String>,
    pub extent_type: Option<String>,
    pub uri: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct ServiceAtLocation {
    pub id: String,
    pub description: Option<String>,
    pub location: Option<Location>,
    pub location_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub schedules: Vec<Schedule>,
    #[serde(default, deserialize_with = "list")]
    pub service_areas: Vec<ServiceArea>,
}

#[derive(Deserialize, Debug)]
pub struct Location {
    pub id: String,
    pub location_type: Option<String>,
    pub url: Option<String>,
    pub name: Option<String>,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub transportation: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[serde(default, deserialize_with = "list")]
    pub languages: Vec<Language>,
    #[serde(default, deserialize_with = "list")]
    pub addresses: Vec<Address>,
    #[serde(default, deserialize_with = "list")]
    pub accessibility: Vec<Accessibility>,
}

#[derive(Deserialize, Debug)]
pub struct Address {
    pub id: String,
    pub attention: Option<String>,
    pub address_1: String,
    pub address_2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub state_province: String,
    pub postal_code: String,
    pub country: String,
    pub address_type: String,
}

#[derive(Deserialize, Debug)]
pub struct Accessibility {
    pub id: String,
    pub description: Option<String>,
    pub details: Option<String>,
    pub url: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct Language {
    pub id: String,
    pub name: Option<String>,
    pub code: Option<String>,
    pub note: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct CostOption {
    pub id: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub option: Option<String>,
    pub currency: Option<String>,
    /// Pounds (HSDS); stored as pence.
    pub amount: Option<f64>,
    pub amount_description: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub attributes: Vec<Attribute>,
}

#[derive(Deserialize, Debug)]
pub struct Capacity {
    pub id: String,
    pub unit: Option<Unit>,
    #[serde(default, deserialize_with = "whole")]
    pub available: Option<i64>,
    #[serde(default, deserialize_with = "whole")]
    pub maximum: Option<i64>,
    pub description: Option<String>,
    pub updated: Option<String>,
    // Signpost extensions; HSDS capacities carry none of these.
    pub status: Option<String>,
    #[serde(default, deserialize_with = "whole")]
    pub waitlist_length: Option<i64>,
    #[serde(default, deserialize_with = "whole")]
    pub typical_wait_days: Option<i64>,
    pub expires_at: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct Unit {
    pub name: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct Attribute {
    /// What the term says about the record: a category (default), `restricted_to`,
    /// `suitable_for`, `referral_route`, `delivery_mode` or `concession`.
    pub link_type: Option<String>,
    pub taxonomy_term_id: Option<String>,
    pub taxonomy_term: Option<TaxonomyTerm>,
}

#[derive(Deserialize, Debug)]
pub struct TaxonomyTerm {
    pub id: String,
    pub code: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<String>,
    /// Vocabulary name.
    pub taxonomy: Option<String>,
    pub taxonomy_detail: Option<Taxonomy>,
    pub term_uri: Option<String>,
}

#[derive(Deserialize, Debug)]
pub struct Taxonomy {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
}
