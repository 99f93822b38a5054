//! Business rules, independent of GraphQL and HTTP: validated values, codes,
//! capacity and freshness rules, paging, and the read queries the API is built on.

pub mod auth;
pub mod capacity;
pub mod codes;
pub mod duplicates;
pub mod edit;
pub mod eligibility;
pub mod feeds;
pub mod freshness;
pub mod gaps;
pub mod history;
pub mod listings;
pub mod needs;
pub mod owned;
pub mod paging;
pub mod person;
pub mod place;
pub mod postcode;
pub mod referral;
pub mod review;
pub mod search;
pub mod taxonomy;
pub mod validate;
pub mod wire;

/// How listings are read; from configuration.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub due_after_days: u32,
    pub stale_after_days: u32,
    pub capacity_expiry_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            due_after_days: 90,
            stale_after_days: 180,
            capacity_expiry_days: 28,
        }
    }
}
