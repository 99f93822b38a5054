//! `signpost import hsds`: Open Referral HSDS 3.1 JSON — one service, an array of
//! services, or a page `{ "contents": [...] }`. Records are written in chunks, each
//! record checked first; new records land together and any other (or a refused batch)
//! inside its own savepoint: a bad record is reported with its id and field path and
//! leaves nothing behind, while the good ones land.

mod bundle;
mod model;
mod write;

use chrono::Utc;
use entity::authority;
use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use bundle::FieldError;
use write::{Outcome, WriteError};

use crate::error::{AppError, AppResult};

const CHUNK: usize = 200;

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub written: usize,
    pub unchanged: usize,
    /// (record id, problem).
    pub failed: Vec<(String, FieldError)>,
    pub warnings: Vec<(String, FieldError)>,
}

impl ImportReport {
    pub fn landed(&self) -> usize {
        self.written + self.unchanged
    }
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (id, w) in &self.warnings {
            writeln!(f, "warning: service {id}: {}: {}", w.path, w.message)?;
        }
        for (id, e) in &self.failed {
            writeln!(f, "failed: service {id}: {}: {}", e.path, e.message)?;
        }
        write!(
            f,
            "{} services landed ({} written, {} unchanged), {} failed",
            self.landed(),
            self.written,
            self.unchanged,
            self.failed.len()
        )
    }
}

/// The service records in a document of any of the three shapes.
pub fn records(document: Value) -> AppResult<Vec<Value>> {
    match document {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => match map.remove("contents") {
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(AppError::bad_input(
                "contents",
                "must be an array of services",
            )),
            None => Ok(vec![Value::Object(map)]),
        },
        _ => Err(AppError::bad_input(
            "file",
            "expected a service, an array of services or a page with contents",
        )),
    }
}

fn record_id(record: &Value, index: usize) -> String {
    match record.get("id").and_then(Value::as_str) {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => format!("#{}", index + 1),
    }
}

/// Check one record into a bundle, naming the failing path.
fn check(record: &Value, authority_id: i32) -> Result<bundle::Bundle, FieldError> {
    let parsed: model::Service =
        serde_path_to_error::deserialize(record).map_err(|e| FieldError {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        })?;
    bundle::Bundle::build(&parsed, authority_id, Utc::now())
}

/// Import records owned by `authority`. Fails as a whole only if the database does.
pub async fn import(
    db: &DatabaseConnection,
    records: Vec<Value>,
    authority: &authority::Model,
) -> AppResult<ImportReport> {
    let bar = super::progress(records.len() as u64, "services");
    let mut report = ImportReport::default();
    let actor = format!("import:{}", authority.slug);
    for (chunk_index, chunk) in records.chunks(CHUNK).enumerate() {
        let mut checked: Vec<(String, bundle::Bundle, String)> = Vec::new();
        for (offset, record) in chunk.iter().enumerate() {
            bar.inc(1);
            let id = record_id(record, chunk_index * CHUNK + offset);
            match check(record, authority.id) {
                Ok(bundle) => {
                    let warnings = bundle.warnings.iter().map(|w| (id.clone(), w.clone()));
                    report.warnings.extend(warnings);
                    let hash = format!("{:x}", Sha256::digest(record.to_string().as_bytes()));
                    checked.push((id, bundle, hash));
                }
                Err(e) => report.failed.push((id, e)),
            }
        }
        let txn = crate::db::begin_write(db).await?;
        // Records not stored yet (the bulk of a first load) go in together; the rest,
        // and a batch the database refuses, go one by one to find the culprit.
        let ids: Vec<String> = checked
            .iter()
            .map(|(_, b, _)| b.service.id.clone())
            .collect();
        let stored: HashSet<String> = entity::service::Entity::find()
            .select_only()
            .column(entity::service::Column::Id)
            .filter(entity::service::Column::Id.is_in(ids))
            .into_tuple::<String>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let mut seen = HashSet::new();
        let (fresh, mut one_by_one): (Vec<_>, Vec<_>) =
            checked.into_iter().partition(|(_, b, _)| {
                !stored.contains(&b.service.id) && seen.insert(b.service.id.clone())
            });
        if !fresh.is_empty() {
            let batch = fresh
                .iter()
                .map(|(_, b, h)| (b.clone(), h.clone()))
                .collect();
            let savepoint = txn.begin().await?;
            match write::write_new(&savepoint, batch, &actor, Utc::now()).await {
                Ok(written) => {
                    savepoint.commit().await?;
                    report.written += written;
                }
                Err(e) => {
                    savepoint.rollback().await?;
                    tracing::debug!(
                        ?e,
                        "a batch of new records was refused; writing them one by one"
                    );
                    one_by_one.splice(0..0, fresh);
                }
            }
        }
        for (id, bundle, hash) in one_by_one {
            let savepoint = txn.begin().await?;
            match write::write(&savepoint, bundle, hash, &actor, Utc::now()).await {
                Ok(outcome) => {
                    savepoint.commit().await?;
                    match outcome {
                        Outcome::Written => report.written += 1,
                        Outcome::Unchanged => report.unchanged += 1,
                    }
                }
                Err(e) => {
                    savepoint.rollback().await?;
                    let error = match e {
                        WriteError::Field(e) => e,
                        WriteError::Database(e) => FieldError {
                            path: String::new(),
                            message: format!("database refused the record: {e}"),
                        },
                    };
                    report.failed.push((id, error));
                }
            }
        }
        txn.commit().await?;
    }
    bar.finish_and_clear();
    if report.written > 0 {
        crate::db::after_bulk_load(db).await?;
    }
    Ok(report)
}

/// Read a JSON file, or a tabular data package (its folder or its
/// datapackage.json), and import it.
pub async fn import_file(
    db: &DatabaseConnection,
    path: &std::path::Path,
    authority: &authority::Model,
) -> AppResult<ImportReport> {
    if let Some(folder) = crate::openreferral::tabular::package_folder(path) {
        let records = crate::openreferral::tabular::records(&folder)?;
        return import(db, records, authority).await;
    }
    let bytes = std::fs::read(path)
        .map_err(|e| AppError::bad_input("file", format!("{}: {e}", path.display())))?;
    let document: Value = serde_json::from_slice(&bytes)
        .map_err(|e| AppError::bad_input("file", format!("{} is not JSON: {e}", path.display())))?;
    import(db, records(document)?, authority).await
}
