//! A service record as an import or a feed brings it: every row of one service,
//! already checked with the API's rules, for the bulk writer (`bulk`). A problem
//! names its field path within the record as the source spells it.

use entity::{
    accessibility, address, capacity, cost_option, language, location, organization, schedule,
    service, service_area, service_at_location, taxonomy, taxonomy_term,
};

use super::super::codes::{EligibilityCriterion, EligibilityRule};
use crate::error::AppError;

/// A value that failed a check, with its path in the record.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl From<AppError> for FieldError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::BadUserInput { field, message } => Self {
                path: field,
                message,
            },
            other => Self {
                path: String::new(),
                message: other.public_message(),
            },
        }
    }
}

/// Everything one service record becomes.
#[derive(Clone, Debug)]
pub struct ServiceRecord {
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
