//! GraphQL faces of the domain's controlled vocabularies (`remote` keeps one source
//! of truth: the variants must match `domain::codes`).

use async_graphql::Enum;

use crate::domain::{codes, freshness};

/// Whether a service can take someone now. Expired capacity reads UNKNOWN.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::CapacityStatus")]
pub enum CapacityStatus {
    Accepting,
    Waitlist,
    Full,
    Paused,
    Unknown,
}

/// How a service reaches people.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::DeliveryMode")]
pub enum DeliveryMode {
    InPerson,
    Online,
    Telephone,
    HomeVisit,
}

/// Who may refer someone to a service.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::ReferralRoute")]
pub enum ReferralRoute {
    #[graphql(name = "SELF")]
    SelfReferral,
    LinkWorker,
    Gp,
    Professional,
    DropIn,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::DayOfWeek")]
pub enum DayOfWeek {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

/// HSDS service status. Retired services read INACTIVE.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::ServiceStatus")]
pub enum ServiceStatus {
    Active,
    Inactive,
    Defunct,
    TemporarilyClosed,
}

/// Physical access features of a location.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::AccessibilityFeature")]
pub enum AccessibilityFeature {
    StepFree,
    WheelchairAccess,
    AccessibleToilet,
    HearingLoop,
    BslInterpreter,
    LargePrint,
    QuietSpace,
    Parking,
    PublicTransport,
}

#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::EligibilityCriterion")]
pub enum EligibilityCriterion {
    Gender,
    Circumstance,
}

/// RESTRICTED_TO excludes everyone else; SUITABLE_FOR only ranks.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::EligibilityRule")]
pub enum EligibilityRule {
    RestrictedTo,
    SuitableFor,
}

/// How recently a human confirmed a listing (ages are configurable).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "freshness::Freshness")]
pub enum Freshness {
    Fresh,
    Due,
    Stale,
}

/// What an API key may do.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::Role")]
pub enum Role {
    /// Edits its authority's listings.
    Editor,
    /// Edits its authority's listings and manages its keys.
    Admin,
    /// Reads the gap views.
    Analyst,
    /// A link-worker team: refers people to services; owns no listings.
    Referrer,
    /// A community group, scoped to one organization: answers referrals to its
    /// services and updates their capacity, nothing else.
    Provider,
}

/// Where a referral stands (FHIR Task: requested, received, accepted, rejected,
/// completed, failed, cancelled, entered-in-error).
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::ReferralStatus")]
pub enum ReferralStatus {
    /// Sent; the group has not read the person yet.
    Requested,
    /// The group read the person.
    Opened,
    Accepted,
    Declined,
    /// The person took part.
    Completed,
    NotAttended,
    /// The referring team withdrew it.
    Withdrawn,
    /// Made by mistake; counted nowhere.
    EnteredInError,
}

/// Why a group declined a referral.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::DeclineReason")]
pub enum DeclineReason {
    NoCapacity,
    NotEligible,
    CouldNotContact,
    PersonDeclined,
    Other,
}

/// How soon the referring team asks the group to answer.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "codes::Urgency")]
pub enum Urgency {
    Routine,
    Soon,
}
