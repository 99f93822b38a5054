//! SeaORM entities for Signpost: the HSDS 3.1 data model plus what link workers,
//! authorities and analysts need (capacity history, areas, postcodes, keys, audit,
//! demand signals). Entities only: no GraphQL, no HTTP, no business rules.
//!
//! Multi-valued eligibility lists (genders, referral routes, delivery modes) and
//! concession lists are JSON arrays of codes; everything a query filters or joins on
//! has its own column or table.

pub mod accessibility;
pub mod address;
pub mod api_key;
pub mod area;
pub mod audit_event;
pub mod authority;
pub mod capacity;
pub mod capacity_event;
pub mod cost_option;
pub mod duplicate_candidate;
pub mod eligibility;
pub mod feed;
pub mod instance;
pub mod language;
pub mod location;
pub mod need_service_type;
pub mod organization;
pub mod outdated_report;
pub mod postcode;
pub mod referral;
pub mod referral_area;
pub mod referral_event;
pub mod schedule;
pub mod search_event;
pub mod service;
pub mod service_area;
pub mod service_at_location;
pub mod service_taxonomy;
pub mod taxonomy;
pub mod taxonomy_term;

pub mod prelude {
    pub use super::accessibility::Entity as Accessibility;
    pub use super::address::Entity as Address;
    pub use super::api_key::Entity as ApiKey;
    pub use super::area::Entity as Area;
    pub use super::audit_event::Entity as AuditEvent;
    pub use super::authority::Entity as Authority;
    pub use super::capacity::Entity as Capacity;
    pub use super::capacity_event::Entity as CapacityEvent;
    pub use super::cost_option::Entity as CostOption;
    pub use super::eligibility::Entity as Eligibility;
    pub use super::instance::Entity as Instance;
    pub use super::language::Entity as Language;
    pub use super::location::Entity as Location;
    pub use super::need_service_type::Entity as NeedServiceType;
    pub use super::organization::Entity as Organization;
    pub use super::postcode::Entity as Postcode;
    pub use super::referral::Entity as Referral;
    pub use super::referral_area::Entity as ReferralArea;
    pub use super::referral_event::Entity as ReferralEvent;
    pub use super::schedule::Entity as Schedule;
    pub use super::search_event::Entity as SearchEvent;
    pub use super::service::Entity as Service;
    pub use super::service_area::Entity as ServiceArea;
    pub use super::service_at_location::Entity as ServiceAtLocation;
    pub use super::service_taxonomy::Entity as ServiceTaxonomy;
    pub use super::taxonomy::Entity as Taxonomy;
    pub use super::taxonomy_term::Entity as TaxonomyTerm;
}
