//! The HSDS tabular data package: a folder of CSV files (one per table) described by
//! `datapackage.json`. Export flattens the `service_full` objects; import nests the
//! rows back into `service_full` objects and hands them to `import::hsds`, so both
//! formats share one writer and one set of checks.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use sea_orm::ConnectionTrait;
use serde_json::{Map, Value, json};

use crate::error::{AppError, AppResult};

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

/// Rows by table, each table's rows unique by id, in first-seen order.
#[derive(Default)]
struct Tables {
    rows: BTreeMap<&'static str, Vec<Row>>,
    seen: HashSet<(&'static str, String)>,
}

impl Tables {
    fn add(&mut self, table: &'static str, value: &Value, extra: &[(&str, &Value)]) {
        let Some(object) = value.as_object() else {
            return;
        };
        let id = object.get("id").and_then(Value::as_str).unwrap_or_default();
        if !self.seen.insert((table, id.to_string())) {
            return;
        }
        let mut row = object.clone();
        for (key, value) in extra {
            row.insert((*key).to_string(), (*value).clone());
        }
        self.rows.entry(table).or_default().push(row);
    }

    fn flatten(&mut self, service: &Value) {
        let none = Vec::new();
        let list = |v: &Value, key: &str| v.get(key).and_then(Value::as_array).cloned();
        let sid = service.get("id").cloned().unwrap_or(Value::Null);
        self.add("services", service, &[]);
        if let Some(org) = service.get("organization") {
            self.add("organizations", org, &[]);
            for phone in list(org, "phones").unwrap_or_default() {
                self.add("phones", &phone, &[]);
            }
        }
        for phone in list(service, "phones").unwrap_or_default() {
            self.add("phones", &phone, &[]);
        }
        for schedule in list(service, "schedules").unwrap_or_default() {
            self.add("schedules", &schedule, &[]);
        }
        for area in list(service, "service_areas").unwrap_or_default() {
            self.add("service_areas", &area, &[]);
        }
        for language in list(service, "languages").unwrap_or_default() {
            self.add("languages", &language, &[]);
        }
        for link in list(service, "service_at_locations").unwrap_or_default() {
            self.add("service_at_location", &link, &[]);
            for schedule in list(&link, "schedules").unwrap_or_default() {
                self.add("schedules", &schedule, &[]);
            }
            if let Some(location) = link.get("location") {
                self.add("locations", location, &[]);
                for address in list(location, "addresses").unwrap_or_default() {
                    self.add("addresses", &address, &[]);
                }
                for access in list(location, "accessibility").unwrap_or_default() {
                    self.add("accessibility", &access, &[]);
                }
                for language in list(location, "languages").unwrap_or_default() {
                    self.add("languages", &language, &[]);
                }
            }
        }
        for cost in list(service, "cost_options").unwrap_or_default() {
            self.add("cost_options", &cost, &[]);
            for attribute in list(&cost, "attributes").unwrap_or_default() {
                self.attribute(&attribute, "cost_option");
            }
        }
        for capacity in list(service, "capacities").unwrap_or_default() {
            let unit = capacity.get("unit").cloned().unwrap_or(Value::Null);
            let unit_id = unit.get("id").cloned().unwrap_or(Value::Null);
            self.add("units", &unit, &[]);
            self.add(
                "service_capacity",
                &capacity,
                &[("service_id", &sid), ("unit_id", &unit_id)],
            );
        }
        for attribute in service
            .get("attributes")
            .and_then(Value::as_array)
            .unwrap_or(&none)
        {
            self.attribute(attribute, "service");
        }
    }

    fn attribute(&mut self, attribute: &Value, entity: &str) {
        self.add("attributes", attribute, &[("link_entity", &json!(entity))]);
        if let Some(term) = attribute.get("taxonomy_term") {
            if let Some(taxonomy) = term.get("taxonomy_detail") {
                self.add("taxonomies", taxonomy, &[]);
            }
            self.add("taxonomy_terms", term, &[]);
        }
    }
}

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

/// Write the package into `folder` (created if missing); returns how many services.
pub async fn export(db: &impl ConnectionTrait, folder: &Path) -> AppResult<usize> {
    std::fs::create_dir_all(folder).map_err(|e| io(folder, e))?;
    let mut tables = Tables::default();
    let count = super::export::for_each_batch(db, |batch| {
        for service in &batch {
            tables.flatten(service);
        }
        Ok(())
    })
    .await?;
    let mut resources = Vec::new();
    for table in TABLES {
        let path = folder.join(format!("{}.csv", table.name));
        let mut writer = csv::Writer::from_path(&path).map_err(|e| io(&path, e))?;
        writer
            .write_record(table.columns)
            .map_err(|e| io(&path, e))?;
        for row in tables.rows.get(table.name).into_iter().flatten() {
            let record: Vec<String> = table.columns.iter().map(|c| cell(row.get(*c))).collect();
            writer.write_record(&record).map_err(|e| io(&path, e))?;
        }
        writer.flush().map_err(|e| io(&path, e))?;
        let fields: Vec<Value> = table
            .columns
            .iter()
            .map(|c| {
                let kind = if table.numbers.contains(c) {
                    "number"
                } else {
                    "string"
                };
                json!({ "name": c, "type": kind })
            })
            .collect();
        resources.push(json!({
            "name": table.name,
            "path": format!("{}.csv", table.name),
            "profile": "tabular-data-resource",
            "format": "csv",
            "schema": { "fields": fields, "primaryKey": "id" },
        }));
    }
    let package = json!({
        "name": "signpost-hsds",
        "title": "Signpost services as Open Referral HSDS 3.1",
        "profile": "tabular-data-package",
        "resources": resources,
    });
    let path = folder.join("datapackage.json");
    let text = serde_json::to_string_pretty(&package).map_err(|e| io(&path, e))?;
    std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    Ok(count)
}

/// The folder of a package given as the folder or its datapackage.json.
pub fn package_folder(path: &Path) -> Option<PathBuf> {
    if path.is_dir() {
        Some(path.to_path_buf())
    } else if path.file_name().is_some_and(|n| n == "datapackage.json") {
        Some(path.parent().unwrap_or(Path::new(".")).to_path_buf())
    } else {
        None
    }
}

/// Read a table's rows; a missing file is an empty table. Numbers become numbers;
/// an empty number is left out, an empty text stays "" (the importer reads "" as
/// absent, and HSDS requires some texts, such as `state_province`, even when empty).
fn read(folder: &Path, table: &Table) -> AppResult<Vec<Row>> {
    let path = folder.join(format!("{}.csv", table.name));
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(&path).map_err(|e| io(&path, e))?;
    let headers = reader.headers().map_err(|e| io(&path, e))?.clone();
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| io(&path, e))?;
        let mut row = Row::new();
        for (header, text) in headers.iter().zip(record.iter()) {
            let number = table.numbers.contains(&header);
            if text.is_empty() && number {
                continue;
            }
            let value = if number {
                match (text.parse::<i64>(), text.parse::<f64>()) {
                    (Ok(n), _) => json!(n),
                    (_, Ok(n)) => json!(n),
                    _ => {
                        return Err(AppError::bad_input(
                            format!("{}.csv row {} {header}", table.name, line + 2),
                            format!("'{text}' is not a number"),
                        ));
                    }
                }
            } else {
                json!(text)
            };
            row.insert(header.to_string(), value);
        }
        rows.push(row);
    }
    Ok(rows)
}

fn by<'a>(rows: &'a [Row], key: &str) -> HashMap<String, Vec<&'a Row>> {
    let mut out: HashMap<String, Vec<&Row>> = HashMap::new();
    for row in rows {
        if let Some(k) = row.get(key).and_then(Value::as_str) {
            out.entry(k.to_string()).or_default().push(row);
        }
    }
    out
}

fn rows_of(index: &HashMap<String, Vec<&Row>>, key: &str) -> Vec<Value> {
    index
        .get(key)
        .map(|rows| rows.iter().map(|r| Value::Object((*r).clone())).collect())
        .unwrap_or_default()
}

/// Nest a package's rows into `service_full` records, one per row of services.csv.
pub fn records(folder: &Path) -> AppResult<Vec<Value>> {
    let mut loaded: HashMap<&str, Vec<Row>> = HashMap::new();
    for table in TABLES {
        loaded.insert(table.name, read(folder, table)?);
    }
    let table = |name: &str| loaded.get(name).map(Vec::as_slice).unwrap_or_default();
    let ids = |name: &str| by(table(name), "id");
    let (organizations, locations, terms, taxonomies, units) = (
        ids("organizations"),
        ids("locations"),
        ids("taxonomy_terms"),
        ids("taxonomies"),
        ids("units"),
    );
    let phones_of_service = by(table("phones"), "service_id");
    let phones_of_org = by(table("phones"), "organization_id");
    let links = by(table("service_at_location"), "service_id");
    let addresses = by(table("addresses"), "location_id");
    let access = by(table("accessibility"), "location_id");
    let languages_of_location = by(table("languages"), "location_id");
    let languages_of_service = by(table("languages"), "service_id");
    let schedules_of_service = by(table("schedules"), "service_id");
    let schedules_of_link = by(table("schedules"), "service_at_location_id");
    let areas = by(table("service_areas"), "service_id");
    let costs = by(table("cost_options"), "service_id");
    let capacities = by(table("service_capacity"), "service_id");
    let attributes = by(table("attributes"), "link_id");
    let first = |index: &HashMap<String, Vec<&Row>>, id: &str| {
        index
            .get(id)
            .and_then(|r| r.first())
            .map(|r| Value::Object((*r).clone()))
    };
    let attributes_of = |owner: &str| -> Vec<Value> {
        rows_of(&attributes, owner)
            .into_iter()
            .map(|mut a| {
                let term = a
                    .get("taxonomy_term_id")
                    .and_then(Value::as_str)
                    .and_then(|id| first(&terms, id));
                if let Some(mut term) = term {
                    let detail = term
                        .get("taxonomy_id")
                        .and_then(Value::as_str)
                        .and_then(|id| first(&taxonomies, id));
                    if let Some(detail) = detail {
                        term["taxonomy_detail"] = detail;
                    }
                    a["taxonomy_term"] = term;
                }
                a
            })
            .collect()
    };
    let mut records = Vec::new();
    for row in table("services") {
        let mut service = Value::Object(row.clone());
        let id = cell(row.get("id"));
        let org_id = cell(row.get("organization_id"));
        if let Some(mut org) = first(&organizations, &org_id) {
            org["phones"] = json!(rows_of(&phones_of_org, &org_id));
            service["organization"] = org;
        }
        service["phones"] = json!(rows_of(&phones_of_service, &id));
        service["schedules"] = json!(
            rows_of(&schedules_of_service, &id)
                .into_iter()
                .filter(|s| cell(s.get("service_at_location_id")).is_empty())
                .collect::<Vec<_>>()
        );
        service["service_areas"] = json!(rows_of(&areas, &id));
        service["languages"] = json!(rows_of(&languages_of_service, &id));
        service["service_at_locations"] = json!(
            rows_of(&links, &id)
                .into_iter()
                .map(|mut link| {
                    let link_id = cell(link.get("id"));
                    let location_id = cell(link.get("location_id"));
                    if let Some(mut location) = first(&locations, &location_id) {
                        location["addresses"] = json!(rows_of(&addresses, &location_id));
                        location["accessibility"] = json!(rows_of(&access, &location_id));
                        location["languages"] =
                            json!(rows_of(&languages_of_location, &location_id));
                        link["location"] = location;
                    }
                    link["schedules"] = json!(rows_of(&schedules_of_link, &link_id));
                    link
                })
                .collect::<Vec<_>>()
        );
        service["cost_options"] = json!(
            rows_of(&costs, &id)
                .into_iter()
                .map(|mut cost| {
                    cost["attributes"] = json!(attributes_of(&cell(cost.get("id"))));
                    cost
                })
                .collect::<Vec<_>>()
        );
        service["capacities"] = json!(
            rows_of(&capacities, &id)
                .into_iter()
                .map(|mut capacity| {
                    if let Some(unit) = capacity
                        .get("unit_id")
                        .and_then(Value::as_str)
                        .and_then(|u| first(&units, u))
                    {
                        capacity["unit"] = unit;
                    }
                    capacity
                })
                .collect::<Vec<_>>()
        );
        service["attributes"] = json!(attributes_of(&id));
        records.push(service);
    }
    Ok(records)
}
