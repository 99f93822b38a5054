//! Export: `service_full` objects flattened into one CSV per table, with the
//! package's `datapackage.json`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::{Row, TABLES, cell, io};
use crate::error::AppResult;

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

/// Write the package into `folder` (created if missing); returns how many services.
pub async fn export(db: &impl ConnectionTrait, folder: &Path) -> AppResult<usize> {
    std::fs::create_dir_all(folder).map_err(|e| io(folder, e))?;
    let mut tables = Tables::default();
    let count = crate::openreferral::export::for_each_batch(db, |batch| {
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
