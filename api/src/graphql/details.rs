//! The parts of a service: capacity, costs, opening, languages, areas, eligibility.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{capacity, cost_option, language, schedule, service, service_area};

use super::enums::{CapacityStatus, DayOfWeek, EligibilityCriterion, EligibilityRule};
use super::load_list;
use super::loaders::EligibilityOfService;
use crate::domain::Policy;
use crate::domain::capacity as rules;
use crate::domain::codes;

/// How much room a service has. `status` is UNKNOWN once `expiresAt` has passed.
pub struct Capacity {
    row: capacity::Model,
    expires_at: DateTime<Utc>,
}

impl Capacity {
    pub fn read(row: capacity::Model, policy: Policy) -> Self {
        let expires_at =
            rules::expires_at(row.updated_at, row.expires_at, policy.capacity_expiry_days);
        Self { row, expires_at }
    }
}

#[Object]
impl Capacity {
    /// The status now: the recorded one until it expires, then UNKNOWN.
    async fn status(&self) -> CapacityStatus {
        let recorded = codes::CapacityStatus::from_code(&self.row.status)
            .unwrap_or(codes::CapacityStatus::Unknown);
        rules::effective_status(recorded, self.expires_at, Utc::now()).into()
    }
    /// Whether the recorded figures are past their expiry.
    async fn expired(&self) -> bool {
        Utc::now() >= self.expires_at
    }
    /// Places free now, in `unit`.
    async fn available(&self) -> Option<i32> {
        self.row.available
    }
    async fn maximum(&self) -> Option<i32> {
        self.row.maximum
    }
    /// What a place is (people, sessions, beds ...).
    async fn unit(&self) -> Option<&str> {
        self.row.unit.as_deref()
    }
    /// People waiting.
    async fn waitlist_length(&self) -> Option<i32> {
        self.row.waitlist_length
    }
    /// Typical wait for a place, in days.
    async fn typical_wait_days(&self) -> Option<i32> {
        self.row.typical_wait_days
    }
    async fn description(&self) -> Option<&str> {
        self.row.description.as_deref()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    /// When these figures stop being trusted (given, or a configured age after the update).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

/// A price or a way of paying (HSDS `cost_option`).
pub struct CostOption(pub cost_option::Model);

#[Object]
impl CostOption {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Who or what this price applies to.
    async fn option(&self) -> Option<&str> {
        self.0.option.as_deref()
    }
    /// Amount in pence; 0 is free; null when only described.
    async fn amount_pence(&self) -> Option<i64> {
        self.0.amount_pence
    }
    async fn currency(&self) -> Option<&str> {
        self.0.currency.as_deref()
    }
    async fn amount_description(&self) -> Option<&str> {
        self.0.amount_description.as_deref()
    }
    async fn valid_from(&self) -> Option<NaiveDate> {
        self.0.valid_from
    }
    async fn valid_to(&self) -> Option<NaiveDate> {
        self.0.valid_to
    }
    /// Circumstance term codes that qualify for this option as a concession.
    async fn concessions(&self) -> Vec<String> {
        codes::codes_in(&self.0.concessions, |c| Some(c.to_string()))
    }
}

/// A weekly opening (HSDS `schedule`), in local time.
pub struct Schedule(pub schedule::Model);

#[Object]
impl Schedule {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn days(&self) -> Vec<DayOfWeek> {
        codes::days_in(self.0.byday.as_deref())
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// "HH:MM:SS".
    async fn opens_at(&self) -> Option<&str> {
        self.0.opens_at.as_deref()
    }
    async fn closes_at(&self) -> Option<&str> {
        self.0.closes_at.as_deref()
    }
    /// RRULE frequency (WEEKLY, MONTHLY).
    async fn freq(&self) -> Option<&str> {
        self.0.freq.as_deref()
    }
    async fn valid_from(&self) -> Option<NaiveDate> {
        self.0.valid_from
    }
    async fn valid_to(&self) -> Option<NaiveDate> {
        self.0.valid_to
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
}

/// A language spoken at the service.
pub struct Language(pub language::Model);

#[Object]
impl Language {
    /// ISO 639 code.
    async fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// An area a service covers.
pub struct ServiceArea(pub service_area::Model);

#[Object]
impl ServiceArea {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The boundary as a GeoJSON geometry (WGS84), when it is one.
    async fn extent(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        let text = self.0.extent.as_deref()?;
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(|v| v.is_object())
            .map(async_graphql::Json)
    }
    async fn extent_type(&self) -> Option<&str> {
        self.0.extent_type.as_deref()
    }
    /// Code of a loaded `area` this refers to.
    async fn area_code(&self) -> Option<&str> {
        self.0.area_code.as_deref()
    }
}

/// One eligibility rule beyond age.
#[derive(SimpleObject)]
pub struct EligibilityRuleEntry {
    pub criterion: EligibilityCriterion,
    /// A gender, or a circumstance term code.
    pub value: String,
    pub rule: EligibilityRule,
}

/// Who a service is for.
pub struct Eligibility(pub service::Model);

#[Object]
impl Eligibility {
    /// Youngest age served, in years (decimals allowed). A hard rule.
    async fn minimum_age(&self) -> Option<f64> {
        self.0.minimum_age
    }
    /// Oldest age served, in years. A hard rule.
    async fn maximum_age(&self) -> Option<f64> {
        self.0.maximum_age
    }
    /// Free text as published.
    async fn description(&self) -> Option<&str> {
        self.0.eligibility_description.as_deref()
    }
    /// Code of the area a person must live in, if any.
    async fn residency_area_code(&self) -> Option<&str> {
        self.0.residency_area_code.as_deref()
    }
    /// Gender and circumstance rules: RESTRICTED_TO excludes, SUITABLE_FOR only ranks.
    async fn rules(&self, ctx: &Context<'_>) -> Result<Vec<EligibilityRuleEntry>> {
        let rows = load_list(ctx, EligibilityOfService(self.0.id.clone())).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(EligibilityRuleEntry {
                    criterion: codes::EligibilityCriterion::from_code(&r.criterion)?.into(),
                    value: r.value,
                    rule: codes::EligibilityRule::from_code(&r.rule)?.into(),
                })
            })
            .collect())
    }
}
