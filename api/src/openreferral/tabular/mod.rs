//! The HSDS tabular data package: a folder of CSV files (one per table) described by
//! `datapackage.json`. Export flattens the `service_full` objects; import nests the
//! rows back into `service_full` objects and hands them to `import::hsds`, so both
//! formats share one writer and one set of checks.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::AppError;

/// A table of the package: its file stem, its columns, and which of them are numbers.
struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    numbers: &'static [&'static str],
}

/// The HSDS 3.1 tables Signpost writes, with HSDS's column order; capacity carries
/// Signpost's status and waits after the standard columns.
const TABLES: &[Table] = &[
    Table {
        name: "services",
        columns: &[
            "id",
            "organization_id",
            "name",
            "alternate_name",
            "description",
            "url",
            "email",
            "status",
            "interpretation_services",
            "application_process",
            "fees_description",
            "accreditations",
            "eligibility_description",
            "minimum_age",
            "maximum_age",
            "assured_date",
            "alert",
            "last_modified",
        ],
        numbers: &["minimum_age", "maximum_age"],
    },
    Table {
        name: "organizations",
        columns: &[
            "id",
            "name",
            "alternate_name",
            "description",
            "email",
            "website",
            "uri",
        ],
        numbers: &[],
    },
    Table {
        name: "locations",
        columns: &[
            "id",
            "location_type",
            "url",
            "name",
            "alternate_name",
            "description",
            "transportation",
            "latitude",
            "longitude",
        ],
        numbers: &["latitude", "longitude"],
    },
    Table {
        name: "addresses",
        columns: &[
            "id",
            "location_id",
            "attention",
            "address_1",
            "address_2",
            "city",
            "region",
            "state_province",
            "postal_code",
            "country",
            "address_type",
        ],
        numbers: &[],
    },
    Table {
        name: "service_at_location",
        columns: &["id", "service_id", "location_id", "description"],
        numbers: &[],
    },
    Table {
        name: "attributes",
        columns: &[
            "id",
            "link_id",
            "taxonomy_term_id",
            "link_type",
            "link_entity",
        ],
        numbers: &[],
    },
    Table {
        name: "taxonomy_terms",
        columns: &[
            "id",
            "code",
            "name",
            "description",
            "parent_id",
            "taxonomy",
            "taxonomy_id",
            "term_uri",
        ],
        numbers: &[],
    },
    Table {
        name: "taxonomies",
        columns: &["id", "name", "description", "uri", "version"],
        numbers: &[],
    },
    Table {
        name: "schedules",
        columns: &[
            "id",
            "service_id",
            "service_at_location_id",
            "valid_from",
            "valid_to",
            "freq",
            "byday",
            "description",
            "opens_at",
            "closes_at",
            "attending_type",
            "notes",
        ],
        numbers: &[],
    },
    Table {
        name: "service_capacity",
        columns: &[
            "id",
            "service_id",
            "unit_id",
            "available",
            "maximum",
            "description",
            "updated",
            "status",
            "waitlist_length",
            "typical_wait_days",
            "expires_at",
        ],
        numbers: &[
            "available",
            "maximum",
            "waitlist_length",
            "typical_wait_days",
        ],
    },
    Table {
        name: "units",
        columns: &["id", "name"],
        numbers: &[],
    },
    Table {
        name: "cost_options",
        columns: &[
            "id",
            "service_id",
            "valid_from",
            "valid_to",
            "option",
            "currency",
            "amount",
            "amount_description",
        ],
        numbers: &["amount"],
    },
    Table {
        name: "languages",
        columns: &["id", "service_id", "location_id", "name", "code", "note"],
        numbers: &[],
    },
    Table {
        name: "service_areas",
        columns: &[
            "id",
            "service_id",
            "name",
            "description",
            "extent",
            "extent_type",
            "uri",
        ],
        numbers: &[],
    },
    Table {
        name: "accessibility",
        columns: &["id", "location_id", "description", "details", "url"],
        numbers: &[],
    },
    Table {
        name: "phones",
        columns: &["id", "service_id", "organization_id", "number"],
        numbers: &[],
    },
];

type Row = Map<String, Value>;

mod read;
mod write;

pub use read::{package_folder, records};
pub use write::export;

fn io(path: &Path, e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("{}: {e}", path.display()))
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
