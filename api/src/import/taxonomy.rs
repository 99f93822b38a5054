//! `signpost import taxonomy`: vocabularies as HSDS 3.1 / Open Referral UK publish
//! them — `taxonomy_term` JSON (an array, a page with `contents`, or one term) or CSV
//! with the HSDS tabular columns (`id, code, name, description, parent_id, taxonomy`).
//! Terms are checked by the same rules as terms inside service records, upserted by
//! id, and written all or nothing: a parent that is neither in the file nor loaded,
//! or a parent chain that loops, refuses the file naming the term and its field.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use entity::{taxonomy, taxonomy_term};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::Value;

use super::hsds::bundle::term_rows;
use super::hsds::model::TaxonomyTerm;
use crate::domain::edit::record::FieldError;
use crate::error::{AppError, AppResult};

/// What an import did; `failed` non-empty means nothing was written.
#[derive(Debug, Default)]
pub struct TaxonomyReport {
    pub written: usize,
    pub unchanged: usize,
    pub failed: Vec<FieldError>,
}

impl std::fmt::Display for TaxonomyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.failed.is_empty() {
            return write!(
                f,
                "{} terms written, {} unchanged",
                self.written, self.unchanged
            );
        }
        writeln!(f, "nothing written: {} problem(s)", self.failed.len())?;
        for e in &self.failed {
            writeln!(f, "  {}: {}", e.path, e.message)?;
        }
        Ok(())
    }
}

/// The HSDS tabular `taxonomy_term.csv` row.
#[derive(Deserialize)]
struct CsvTerm {
    id: String,
    code: Option<String>,
    name: String,
    description: Option<String>,
    parent_id: Option<String>,
    taxonomy: Option<String>,
    term_uri: Option<String>,
}

/// Terms from HSDS JSON: an array, a page with `contents`, or one term.
pub fn from_json(reader: impl Read) -> AppResult<Vec<TaxonomyTerm>> {
    let document: Value = serde_json::from_reader(reader)
        .map_err(|e| AppError::bad_input("file", format!("not JSON: {e}")))?;
    let items = match document {
        Value::Array(items) => items,
        Value::Object(mut page) => match page.remove("contents") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(AppError::bad_input("contents", "must be an array of terms")),
            None => vec![Value::Object(page)],
        },
        _ => {
            return Err(AppError::bad_input(
                "file",
                "expected a taxonomy term, an array of them or a page with contents",
            ));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value(item)
                .map_err(|e| AppError::bad_input(format!("[{i}]"), e.to_string()))
        })
        .collect()
}

/// Terms from the HSDS tabular CSV (a header row naming the columns).
pub fn from_csv(reader: impl Read) -> AppResult<Vec<TaxonomyTerm>> {
    let mut csv = csv::Reader::from_reader(reader);
    csv.deserialize::<CsvTerm>()
        .enumerate()
        .map(|(i, row)| {
            let row =
                row.map_err(|e| AppError::bad_input(format!("row {}", i + 2), e.to_string()))?;
            let blank = |t: Option<String>| t.filter(|t| !t.trim().is_empty());
            Ok(TaxonomyTerm {
                id: row.id,
                code: blank(row.code),
                name: row.name,
                description: blank(row.description),
                parent_id: blank(row.parent_id),
                taxonomy: blank(row.taxonomy),
                taxonomy_detail: None,
                term_uri: blank(row.term_uri),
            })
        })
        .collect()
}

/// The loop a term's parent chain makes, if it makes one: `a → b → a`.
fn cycle(start: &str, parents: &HashMap<String, Option<String>>) -> Option<String> {
    let mut chain = vec![start.to_string()];
    let mut seen = HashSet::from([start.to_string()]);
    let mut at = start.to_string();
    while let Some(Some(parent)) = parents.get(&at) {
        chain.push(parent.clone());
        if !seen.insert(parent.clone()) {
            return Some(chain.join(" → "));
        }
        at = parent.clone();
    }
    None
}

/// Check every term, then write them all (or, when any fails, none).
pub async fn import(
    db: &DatabaseConnection,
    terms: Vec<TaxonomyTerm>,
) -> AppResult<TaxonomyReport> {
    let mut report = TaxonomyReport::default();
    let mut rows: Vec<taxonomy_term::Model> = Vec::new();
    let mut vocabularies: Vec<taxonomy::Model> = Vec::new();
    for term in &terms {
        let path = if term.id.trim().is_empty() {
            format!("[{}]", rows.len() + report.failed.len())
        } else {
            term.id.trim().to_string()
        };
        match term_rows(term, &path) {
            Ok((row, vocabulary)) => {
                if rows.iter().any(|r| r.id == row.id) {
                    report.failed.push(FieldError {
                        path: format!("{path}.id"),
                        message: "appears twice in the file".into(),
                    });
                    continue;
                }
                if let Some(v) = vocabulary.filter(|v| !vocabularies.iter().any(|x| x.id == v.id)) {
                    vocabularies.push(v);
                }
                rows.push(row);
            }
            Err(e) => report.failed.push(e),
        }
    }
    // Parents: in the file or loaded already; the file's own parent wins.
    let mut parents: HashMap<String, Option<String>> = crate::domain::taxonomy::all_terms(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.parent_id))
        .collect();
    for row in &rows {
        parents.insert(row.id.clone(), row.parent_id.clone());
    }
    for row in &rows {
        let Some(parent) = &row.parent_id else {
            continue;
        };
        if !parents.contains_key(parent) {
            report.failed.push(FieldError {
                path: format!("{}.parent_id", row.id),
                message: format!("'{parent}' is not a term in this file or already loaded"),
            });
        } else if let Some(chain) = cycle(&row.id, &parents) {
            report.failed.push(FieldError {
                path: format!("{}.parent_id", row.id),
                message: format!("makes a cycle: {chain}"),
            });
        }
    }
    if !report.failed.is_empty() {
        return Ok(report);
    }
    // What is there already, to write only what changed (a re-import writes nothing).
    let mut existing: HashMap<String, taxonomy_term::Model> = HashMap::new();
    for chunk in rows.chunks(500) {
        let ids = chunk.iter().map(|r| r.id.clone());
        for row in taxonomy_term::Entity::find()
            .filter(taxonomy_term::Column::Id.is_in(ids))
            .all(db)
            .await?
        {
            existing.insert(row.id.clone(), row);
        }
    }
    let (changed, same): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|row| existing.get(&row.id) != Some(row));
    report.unchanged = same.len();
    report.written = changed.len();
    let txn = crate::db::begin_write(db).await?;
    crate::db::upsert::<taxonomy::Entity>(&txn, &vocabularies, &[]).await?;
    for chunk in changed.chunks(500) {
        crate::db::upsert::<taxonomy_term::Entity>(&txn, chunk, &[]).await?;
    }
    txn.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parent_chain_that_loops_is_named() {
        let parents: HashMap<String, Option<String>> = [
            ("a", Some("b")),
            ("b", Some("c")),
            ("c", Some("a")),
            ("d", Some("a")),
            ("e", None),
            ("f", Some("f")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect();
        assert_eq!(cycle("a", &parents).as_deref(), Some("a → b → c → a"));
        assert_eq!(cycle("d", &parents).as_deref(), Some("d → a → b → c → a"));
        assert_eq!(cycle("e", &parents), None);
        assert_eq!(cycle("f", &parents).as_deref(), Some("f → f"));
    }

    #[test]
    fn csv_and_json_read_the_same_terms() {
        let csv = "id,code,name,description,parent_id,taxonomy\n\
                   t1,walks,Walks,,,mine\n\
                   t2,short-walks,Short walks,Under an hour,t1,mine\n";
        let json = r#"{"contents": [
            {"id": "t1", "code": "walks", "name": "Walks", "taxonomy": "mine"},
            {"id": "t2", "code": "short-walks", "name": "Short walks",
             "description": "Under an hour", "parent_id": "t1", "taxonomy": "mine"}]}"#;
        let from_csv = from_csv(csv.as_bytes()).unwrap_or_default();
        let from_json = from_json(json.as_bytes()).unwrap_or_default();
        let ids = |terms: &[TaxonomyTerm]| -> Vec<(String, Option<String>, Option<String>)> {
            terms
                .iter()
                .map(|t| (t.id.clone(), t.parent_id.clone(), t.description.clone()))
                .collect()
        };
        assert_eq!(ids(&from_csv), ids(&from_json));
        assert_eq!(from_csv.len(), 2);
    }
}
