//! Import: a package's rows nested back into `service_full` objects for
//! `import::hsds`, so both formats share one writer and one set of checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Row, TABLES, Table, cell, io};
use crate::error::{AppError, AppResult};

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
