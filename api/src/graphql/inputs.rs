//! Mutation inputs: GraphQL shapes only; they become the domain's drafts, which do
//! every check. In updates, a field left out keeps what is stored and an explicit
//! null clears it; a list given replaces the stored list.

use async_graphql::{InputObject, Json, MaybeUndefined};
use chrono::{DateTime, NaiveDate, Utc};

use super::enums::{
    AccessibilityFeature, CapacityStatus, DayOfWeek, DeliveryMode, EligibilityCriterion,
    EligibilityRule, ReferralRoute,
};
use crate::domain::edit::capacity::CapacityDraft;
use crate::domain::edit::draft::{
    AddressDraft, CostDraft, Field, LocationDraft, RuleDraft, ScheduleDraft, ServiceAreaDraft,
    ServiceDraft,
};
use crate::domain::edit::organizations::{IdentifierDraft, OrganizationDraft};

fn field<T>(value: MaybeUndefined<T>) -> Field<T> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

fn set<T>(value: Option<T>) -> Field<T> {
    value.map(Some)
}

fn list<T, U>(value: Option<Vec<T>>, f: impl Fn(T) -> U) -> Option<Vec<U>> {
    value.map(|items| items.into_iter().map(f).collect())
}

#[derive(InputObject)]
pub struct CreateOrganizationInput {
    pub name: String,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    /// http(s) only.
    pub website: Option<String>,
    pub phone: Option<String>,
    /// Charity, company or other register numbers: the strongest sign that two
    /// listings are one service (`duplicateCandidates`).
    pub identifiers: Option<Vec<OrganizationIdentifierInput>>,
}

/// A register's number for an organization.
#[derive(InputObject)]
pub struct OrganizationIdentifierInput {
    /// An org-id.guide scheme: `GB-CHC` (charities in England and Wales), `GB-COH`
    /// (Companies House), …
    pub scheme: Option<String>,
    /// The register in words ("Charity number"), when there is no scheme.
    #[graphql(name = "type")]
    pub kind: Option<String>,
    pub identifier: String,
}

fn identifiers(items: Option<Vec<OrganizationIdentifierInput>>) -> Option<Vec<IdentifierDraft>> {
    items.map(|items| {
        items
            .into_iter()
            .map(|i| IdentifierDraft {
                scheme: i.scheme,
                kind: i.kind,
                identifier: i.identifier,
            })
            .collect()
    })
}

impl From<CreateOrganizationInput> for OrganizationDraft {
    fn from(i: CreateOrganizationInput) -> Self {
        Self {
            name: Some(i.name),
            alternate_name: set(i.alternate_name),
            description: set(i.description),
            email: set(i.email),
            website: set(i.website),
            phone: set(i.phone),
            identifiers: identifiers(i.identifiers),
        }
    }
}

#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    pub name: Option<String>,
    pub alternate_name: MaybeUndefined<String>,
    pub description: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
    pub website: MaybeUndefined<String>,
    pub phone: MaybeUndefined<String>,
    /// Replaces the register numbers held (an empty list removes them).
    pub identifiers: Option<Vec<OrganizationIdentifierInput>>,
}

impl From<UpdateOrganizationInput> for OrganizationDraft {
    fn from(i: UpdateOrganizationInput) -> Self {
        Self {
            name: i.name,
            alternate_name: field(i.alternate_name),
            description: field(i.description),
            email: field(i.email),
            website: field(i.website),
            phone: field(i.phone),
            identifiers: identifiers(i.identifiers),
        }
    }
}

/// A street address; the postcode is the location's.
#[derive(InputObject)]
pub struct AddressInput {
    pub address1: String,
    pub address2: Option<String>,
    pub city: String,
    pub region: Option<String>,
}

#[derive(InputObject)]
pub struct LocationInput {
    pub name: Option<String>,
    /// WGS84 degrees, -90..90.
    pub latitude: f64,
    /// WGS84 degrees, -180..180.
    pub longitude: f64,
    /// A UK postcode, any case and spacing.
    pub postcode: Option<String>,
    pub address: Option<AddressInput>,
    #[graphql(default)]
    pub accessibility: Vec<AccessibilityFeature>,
    /// How to get there.
    pub transportation: Option<String>,
}

impl From<LocationInput> for LocationDraft {
    fn from(l: LocationInput) -> Self {
        Self {
            name: l.name,
            latitude: l.latitude,
            longitude: l.longitude,
            postcode: l.postcode,
            address: l.address.map(|a| AddressDraft {
                address_1: a.address1,
                address_2: a.address2,
                city: a.city,
                region: a.region,
            }),
            accessibility: l.accessibility.into_iter().map(Into::into).collect(),
            transportation: l.transportation,
        }
    }
}

/// A gender or circumstance rule: RESTRICTED_TO excludes everyone else,
/// SUITABLE_FOR only ranks.
#[derive(InputObject)]
pub struct EligibilityRuleInput {
    pub criterion: EligibilityCriterion,
    /// A gender, or a circumstance term code.
    pub value: String,
    pub rule: EligibilityRule,
}

#[derive(InputObject)]
pub struct CostOptionInput {
    pub option: Option<String>,
    /// 0 for free.
    pub amount_pence: Option<i64>,
    pub amount_description: Option<String>,
    /// Circumstance codes that get this option as a concession.
    #[graphql(default)]
    pub concessions: Vec<String>,
}

/// Weekly opening.
#[derive(InputObject)]
pub struct ScheduleInput {
    pub days: Vec<DayOfWeek>,
    /// "HH:MM", local time.
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct ServiceAreaInput {
    pub name: Option<String>,
    pub description: Option<String>,
    /// A GeoJSON Polygon or MultiPolygon (geometry or Feature), WGS84.
    pub extent: Option<Json<serde_json::Value>>,
    /// Code of a loaded area instead of a polygon.
    pub area_code: Option<String>,
}

macro_rules! service_input {
    ($(#[$meta:meta])* $name:ident, $text:ty, $age:ty, $convert:path) => {
        $(#[$meta])*
        #[derive(InputObject)]
        pub struct $name {
            pub organization_id: Option<async_graphql::ID>,
            pub name: Option<String>,
            pub alternate_name: $text,
            pub description: $text,
            /// http(s) only.
            pub url: $text,
            pub email: $text,
            pub phone: $text,
            pub application_process: $text,
            pub fees_description: $text,
            pub eligibility_description: $text,
            /// Years, decimals allowed, 0..130. A hard rule.
            pub minimum_age: $age,
            pub maximum_age: $age,
            /// Code of the area a person must live in.
            pub residency_area_code: $text,
            pub referral_routes: Option<Vec<ReferralRoute>>,
            pub delivery_modes: Option<Vec<DeliveryMode>>,
            /// Taxonomy term codes.
            pub taxonomy_terms: Option<Vec<String>>,
            pub eligibility: Option<Vec<EligibilityRuleInput>>,
            pub locations: Option<Vec<LocationInput>>,
            pub cost_options: Option<Vec<CostOptionInput>>,
            pub schedules: Option<Vec<ScheduleInput>>,
            /// ISO 639 codes (en, pl, urd).
            pub languages: Option<Vec<String>>,
            pub service_areas: Option<Vec<ServiceAreaInput>>,
        }

        impl From<$name> for ServiceDraft {
            fn from(i: $name) -> Self {
                Self {
                    organization_id: i.organization_id.map(|id| id.0),
                    name: i.name,
                    alternate_name: $convert(i.alternate_name),
                    description: $convert(i.description),
                    url: $convert(i.url),
                    email: $convert(i.email),
                    phone: $convert(i.phone),
                    application_process: $convert(i.application_process),
                    fees_description: $convert(i.fees_description),
                    eligibility_description: $convert(i.eligibility_description),
                    minimum_age: $convert(i.minimum_age),
                    maximum_age: $convert(i.maximum_age),
                    residency_area_code: $convert(i.residency_area_code),
                    referral_routes: list(i.referral_routes, Into::into),
                    delivery_modes: list(i.delivery_modes, Into::into),
                    taxonomy_terms: i.taxonomy_terms,
                    eligibility: list(i.eligibility, |r| RuleDraft {
                        criterion: r.criterion.into(),
                        value: r.value,
                        rule: r.rule.into(),
                    }),
                    locations: list(i.locations, Into::into),
                    cost_options: list(i.cost_options, |c| CostDraft {
                        option: c.option,
                        amount_pence: c.amount_pence,
                        amount_description: c.amount_description,
                        concessions: c.concessions,
                    }),
                    schedules: list(i.schedules, |s| ScheduleDraft {
                        days: s.days.into_iter().map(Into::into).collect(),
                        opens_at: s.opens_at,
                        closes_at: s.closes_at,
                        valid_from: s.valid_from,
                        valid_to: s.valid_to,
                        description: s.description,
                    }),
                    languages: i.languages,
                    service_areas: list(i.service_areas, |a| ServiceAreaDraft {
                        name: a.name,
                        description: a.description,
                        extent: a.extent.map(|j| j.0),
                        area_code: a.area_code,
                    }),
                }
            }
        }
    };
}

service_input!(
    /// A new service; `organizationId` and `name` are required. Its owner is the
    /// caller's authority.
    CreateServiceInput,
    Option<String>,
    Option<f64>,
    set
);

service_input!(
    /// Changes to a service: the same fields, all optional.
    UpdateServiceInput,
    MaybeUndefined<String>,
    MaybeUndefined<f64>,
    field
);

#[derive(InputObject)]
pub struct CapacityInput {
    /// Defaults from `available`: ACCEPTING when above 0, FULL at 0.
    pub status: Option<CapacityStatus>,
    pub available: Option<i32>,
    pub maximum: Option<i32>,
    /// What a place is (a seat, a session).
    pub unit: Option<String>,
    pub waitlist_length: Option<i32>,
    pub typical_wait_days: Option<i32>,
    pub description: Option<String>,
    /// When this stops being trusted (default: the configured days after now).
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<CapacityInput> for CapacityDraft {
    fn from(i: CapacityInput) -> Self {
        Self {
            status: i.status.map(Into::into),
            available: i.available,
            maximum: i.maximum,
            unit: i.unit,
            waitlist_length: i.waitlist_length,
            typical_wait_days: i.typical_wait_days,
            description: i.description,
            expires_at: i.expires_at,
        }
    }
}
