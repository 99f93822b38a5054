//! `signpost import hsds`: Open Referral HSDS 3.1 JSON — one service, an array of
//! services, or a page `{ "contents": [...] }`. Records are written in chunks, each
//! record checked first; new records land together and any other (or a refused batch)
//! inside its own savepoint: a bad record is reported with its id and field path and
//! leaves nothing behind, while the good ones land.

pub(crate) mod bundle;
mod fields;
pub(crate) mod model;

use chrono::Utc;
use entity::authority;
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::domain::edit::bulk::{self as write, Outcome, WriteError};
pub use crate::domain::edit::record::FieldError;

use crate::domain::edit::record::ServiceRecord;
use crate::error::{AppError, AppResult};

const CHUNK: usize = 1000;

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

    /// Add another part of the same load (a feed's next page).
    pub fn merge(&mut self, other: Self) {
        self.written += other.written;
        self.unchanged += other.unchanged;
        self.failed.extend(other.failed);
        self.warnings.extend(other.warnings);
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

/// A record as read: a parsed JSON value (a document, a feed's page), or the raw
/// text of one element of a streamed array, parsed once, straight into the model
/// (building a value tree first was a third of a large import's parsing).
trait Record {
    /// Its id, or `#n` (its place in the file) when it has none.
    fn id(&self, index: usize) -> String;
    /// The model, or the failing path.
    fn model(&self) -> Result<model::Service, FieldError>;
    /// What tells a changed record from one imported before: a SHA-256 of its JSON.
    fn hash(&self) -> String;
    /// As a value (a feed's records are renamed before they are checked).
    fn value(&self) -> Result<Value, FieldError>;
}

fn named(id: Option<&str>, index: usize) -> String {
    match id {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => format!("#{}", index + 1),
    }
}

fn field_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> FieldError {
    FieldError {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    }
}

/// Check one record into a bundle and its hash, naming the failing path.
fn check<R: Record + ?Sized>(record: &R, authority_id: i32) -> Result<Bundled, FieldError> {
    let model = record.model()?;
    let bundle = bundle::build(&model, authority_id, Utc::now())?;
    Ok((bundle, record.hash()))
}

impl Record for Value {
    fn id(&self, index: usize) -> String {
        named(self.get("id").and_then(Value::as_str), index)
    }

    fn model(&self) -> Result<model::Service, FieldError> {
        serde_path_to_error::deserialize(self).map_err(field_error)
    }

    /// Of the JSON as serde_json writes it (keys in order), streamed into the hasher.
    fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        // Writing into a hasher cannot fail.
        let _ = serde_json::to_writer(&mut hasher, self);
        format!("{:x}", hasher.finalize())
    }

    fn value(&self) -> Result<Value, FieldError> {
        Ok(self.clone())
    }
}

impl Record for RawValue {
    fn id(&self, index: usize) -> String {
        #[derive(serde::Deserialize)]
        struct Id<'a> {
            #[serde(borrow)]
            id: Option<std::borrow::Cow<'a, str>>,
        }
        let id = serde_json::from_str::<Id>(self.get())
            .ok()
            .and_then(|r| r.id);
        named(id.as_deref(), index)
    }

    fn model(&self) -> Result<model::Service, FieldError> {
        let mut reader = serde_json::Deserializer::from_str(self.get());
        serde_path_to_error::deserialize(&mut reader).map_err(|e| {
            let mut error = field_error(e);
            // Positions are within the record's own text, not the file: left out.
            if let Some(at) = error.message.rfind(" at line ") {
                error.message.truncate(at);
            }
            error
        })
    }

    /// Of the record's text as the file has it (the same file imported again is
    /// byte for byte the same).
    fn hash(&self) -> String {
        format!("{:x}", Sha256::digest(self.get().as_bytes()))
    }

    fn value(&self) -> Result<Value, FieldError> {
        serde_json::from_str(self.get()).map_err(|e| FieldError {
            path: String::new(),
            message: e.to_string(),
        })
    }
}

/// Records pulled from a feed: their ids are moved into the feed's namespace (so two
/// feeds' ids never collide) and each service keeps where it came from.
#[derive(Clone, Debug)]
pub struct Pulled {
    pub feed_id: String,
    /// The feed's URL: writes are audited as `feed:<url>`.
    pub url: String,
    pub namespace: uuid::Uuid,
    pub fetched_at: chrono::DateTime<Utc>,
}

impl Pulled {
    /// The id a feed's own id becomes here.
    pub fn local_id(&self, source_id: &str) -> String {
        uuid::Uuid::new_v5(&self.namespace, source_id.trim().as_bytes()).to_string()
    }

    /// Move the ids of the record's own objects (the service, its organization,
    /// locations, schedules, …) into the namespace. Category terms and vocabularies
    /// are shared between publishers and keep theirs.
    fn rename(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    match key.as_str() {
                        "attributes" | "taxonomy_term" | "taxonomy_detail" | "taxonomy_term_id"
                        | "taxonomy_id" | "parent_id" => {}
                        _ if key == "id" || key.ends_with("_id") => {
                            if let Value::String(id) = value
                                && !id.trim().is_empty()
                            {
                                *id = self.local_id(id);
                            }
                        }
                        _ => self.rename(value),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.rename(item)),
            _ => {}
        }
    }
}

/// A record's bundle and its content hash.
type Bundled = (ServiceRecord, String);

/// A chunk of records, checked: each with its id (or `#n`), and the bundle and
/// content hash it makes or the reason it fails, and the warnings of those that pass.
struct Checked {
    records: Vec<(String, Result<Bundled, FieldError>)>,
    warnings: Vec<(String, FieldError)>,
}

/// Check one chunk of records; `first` is the index of its first record in the file
/// (to name records without an id). Pure work, run on the parser's thread when
/// streaming so it overlaps the database's.
fn check_chunk<R: Record + ?Sized>(
    chunk: &[impl std::borrow::Borrow<R>],
    first: usize,
    authority_id: i32,
    pulled: Option<&Pulled>,
) -> Checked {
    let mut checked = Checked {
        records: Vec::with_capacity(chunk.len()),
        warnings: Vec::new(),
    };
    for (offset, record) in chunk.iter().enumerate() {
        let record: &R = record.borrow();
        // Reported by the id its publisher knows it by.
        let id = record.id(first + offset);
        let outcome = match pulled {
            None => check(record, authority_id),
            Some(pulled) => record.value().and_then(|mut renamed| {
                pulled.rename(&mut renamed);
                let (mut bundle, hash) = check(&renamed, authority_id)?;
                bundle.service.feed_id = Some(pulled.feed_id.clone());
                bundle.service.source_id = Some(id.trim().to_string());
                bundle.service.fetched_at = Some(pulled.fetched_at);
                Ok((bundle, hash))
            }),
        };
        if let Ok((bundle, _)) = &outcome {
            let warnings = bundle.warnings.iter().map(|w| (id.clone(), w.clone()));
            checked.warnings.extend(warnings);
        }
        checked.records.push((id, outcome));
    }
    checked
}

/// Write one checked chunk in one transaction.
async fn write_chunk(
    db: &DatabaseConnection,
    chunk: Checked,
    actor: &str,
    report: &mut ImportReport,
) -> AppResult<()> {
    report.warnings.extend(chunk.warnings);
    let mut checked: Vec<(String, ServiceRecord, String)> = Vec::new();
    for (id, outcome) in chunk.records {
        match outcome {
            Ok((bundle, hash)) => checked.push((id, bundle, hash)),
            Err(e) => report.failed.push((id, e)),
        }
    }
    let txn = crate::db::begin_write(db).await?;
    crate::db::for_bulk_load(&txn).await?;
    // Records not stored yet (the bulk of a first load) go in together; the rest,
    // and a batch the database refuses, go one by one to find the culprit.
    let ids: Vec<String> = checked
        .iter()
        .map(|(_, b, _)| b.service.id.clone())
        .collect();
    let stored: HashMap<String, (i32, Option<String>)> = entity::service::Entity::find()
        .select_only()
        .columns([
            entity::service::Column::Id,
            entity::service::Column::AuthorityId,
            entity::service::Column::ImportHash,
        ])
        .filter(entity::service::Column::Id.is_in(ids))
        .into_tuple::<(String, i32, Option<String>)>()
        .all(&txn)
        .await?
        .into_iter()
        .map(|(id, owner, hash)| (id, (owner, hash)))
        .collect();
    // Unchanged records of this authority (a re-import) need no write at all.
    let before = checked.len();
    checked.retain(|(_, b, hash)| {
        !matches!(stored.get(&b.service.id),
            Some((owner, Some(stored_hash))) if *owner == b.service.authority_id && stored_hash == hash)
    });
    report.unchanged += before - checked.len();
    let mut seen = HashSet::new();
    let (fresh, mut one_by_one): (Vec<_>, Vec<_>) = checked.into_iter().partition(|(_, b, _)| {
        !stored.contains_key(&b.service.id) && seen.insert(b.service.id.clone())
    });
    if !fresh.is_empty() {
        let (names, batch): (Vec<String>, Vec<Bundled>) =
            fresh.into_iter().map(|(id, b, h)| (id, (b, h))).unzip();
        let savepoint = txn.begin().await?;
        match write::write_new(&savepoint, &batch, actor, Utc::now()).await {
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
                let fresh = names.into_iter().zip(batch).map(|(id, (b, h))| (id, b, h));
                one_by_one.splice(0..0, fresh);
            }
        }
    }
    for (id, bundle, hash) in one_by_one {
        let savepoint = txn.begin().await?;
        match write::write(&savepoint, bundle, hash, actor, Utc::now()).await {
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
    Ok(())
}

/// Say that the records so far are committed: a load stopped at any point (even
/// by kill -9) holds every batch acknowledged before it stopped, and no part of a
/// batch that was not.
fn acknowledge(records: usize) {
    tracing::debug!(records, "batch committed");
}

/// Import records owned by `authority`. Fails as a whole only if the database does.
pub async fn import(
    db: &DatabaseConnection,
    records: Vec<Value>,
    authority: &authority::Model,
) -> AppResult<ImportReport> {
    let bar = super::progress(records.len() as u64, "services");
    let report = import_records(db, &records, authority, None, &bar).await?;
    bar.finish_and_clear();
    if report.written > 0 {
        crate::db::after_bulk_load(db).await?;
    }
    Ok(report)
}

/// Import one page of records pulled from a feed, owned by `authority`.
pub async fn import_pulled(
    db: &DatabaseConnection,
    records: &[Value],
    authority: &authority::Model,
    pulled: &Pulled,
) -> AppResult<ImportReport> {
    let bar = indicatif::ProgressBar::hidden();
    import_records(db, records, authority, Some(pulled), &bar).await
}

async fn import_records(
    db: &DatabaseConnection,
    records: &[Value],
    authority: &authority::Model,
    pulled: Option<&Pulled>,
    bar: &indicatif::ProgressBar,
) -> AppResult<ImportReport> {
    let actor = match pulled {
        Some(pulled) => format!("feed:{}", pulled.url),
        None => format!("import:{}", authority.slug),
    };
    let mut report = ImportReport::default();
    for (index, chunk) in records.chunks(CHUNK).enumerate() {
        let checked = check_chunk::<Value>(chunk, index * CHUNK, authority.id, pulled);
        write_chunk(db, checked, &actor, &mut report).await?;
        bar.inc(chunk.len() as u64);
        acknowledge(index * CHUNK + chunk.len());
    }
    Ok(report)
}

/// Import a top-level JSON array without holding it: a blocking task parses records
/// a chunk at a time and hands each chunk over, so memory stays at a few chunks
/// however large the file (a 1.8 GB file of a million services took 19 GB read whole).
async fn import_array(
    db: &DatabaseConnection,
    reader: impl std::io::Read + Send + 'static,
    authority: &authority::Model,
) -> AppResult<ImportReport> {
    let (chunks, mut incoming) = tokio::sync::mpsc::channel::<(Checked, usize)>(2);
    let authority_id = authority.id;
    let parser = tokio::task::spawn_blocking(move || {
        use serde::Deserializer as _;
        serde_json::Deserializer::from_reader(reader).deserialize_seq(Chunks {
            chunks,
            authority_id,
        })
    });
    let actor = format!("import:{}", authority.slug);
    let mut report = ImportReport::default();
    while let Some((chunk, end)) = incoming.recv().await {
        write_chunk(db, chunk, &actor, &mut report).await?;
        acknowledge(end);
    }
    parser
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::bad_input("file", format!("not an array of JSON records: {e}")))?;
    if report.written > 0 {
        crate::db::after_bulk_load(db).await?;
    }
    Ok(report)
}

/// Sends the elements of a JSON array in checked chunks of `CHUNK`, each with the
/// count of records read so far.
struct Chunks {
    chunks: tokio::sync::mpsc::Sender<(Checked, usize)>,
    authority_id: i32,
}

impl Chunks {
    fn send<E: serde::de::Error>(&self, chunk: &[Box<RawValue>], first: usize) -> Result<(), E> {
        let checked = check_chunk::<RawValue>(chunk, first, self.authority_id, None);
        // The importer stopped (a database failure): stop reading too.
        self.chunks
            .blocking_send((checked, first + chunk.len()))
            .map_err(|_| E::custom("the import stopped"))
    }
}

impl<'de> serde::de::Visitor<'de> for Chunks {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of services")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut first = 0;
        while let Some(record) = seq.next_element::<Box<RawValue>>()? {
            chunk.push(record);
            if chunk.len() == CHUNK {
                self.send(&chunk, first)?;
                first += chunk.len();
                chunk.clear();
            }
        }
        if !chunk.is_empty() {
            self.send(&chunk, first)?;
        }
        Ok(())
    }
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
    let unreadable =
        |e: std::io::Error| AppError::bad_input("file", format!("{}: {e}", path.display()));
    let mut file = std::io::BufReader::new(std::fs::File::open(path).map_err(unreadable)?);
    let starts_array = {
        use std::io::BufRead;
        let head = file.fill_buf().map_err(unreadable)?;
        head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
    };
    if starts_array {
        // A first, light pass over the syntax, so a truncated file writes nothing.
        let checked = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&checked)?;
            serde_json::from_reader::<_, Vec<serde::de::IgnoredAny>>(std::io::BufReader::new(file))
                .map(|_| ())
                .map_err(std::io::Error::other)
        })
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::bad_input("file", format!("{} is not JSON: {e}", path.display())))?;
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let bar = super::progress_bytes(size);
        // Buffered above the bar: the parser reads a byte at a time, and a bar
        // told of every byte spent a quarter of the import reading the clock.
        let reader = std::io::BufReader::with_capacity(1 << 16, bar.wrap_read(file));
        let report = import_array(db, reader, authority).await;
        bar.finish_and_clear();
        return report;
    }
    let document: Value = serde_json::from_reader(file)
        .map_err(|e| AppError::bad_input("file", format!("{} is not JSON: {e}", path.display())))?;
    import(db, records(document)?, authority).await
}

#[cfg(test)]
mod tests {
    use super::{Record, Value};
    use serde_json::value::RawValue;

    const RECORD: &str = r#"{"id": "s-1", "name": "Lunch club",
        "service_at_locations": [{"id": "sal-1", "location": {"id": "l-1", "latitude": "north"}}]}"#;

    #[test]
    fn raw_text_and_value_fail_alike_with_the_path_and_no_position() {
        let raw: Box<RawValue> = serde_json::from_str(RECORD).unwrap();
        let value: Value = serde_json::from_str(RECORD).unwrap();
        let (from_raw, from_value) = (raw.model().unwrap_err(), value.model().unwrap_err());
        assert_eq!(from_raw.path, "service_at_locations[0].location.latitude");
        assert_eq!(from_raw, from_value);
        assert_eq!(raw.id(0), "s-1");
        assert_eq!(value.id(0), "s-1");
    }

    #[test]
    fn a_raw_record_without_an_id_is_named_by_its_place() {
        let raw: Box<RawValue> = serde_json::from_str(r#"{"id": 7, "name": "x"}"#).unwrap();
        assert_eq!(raw.id(4), "#5");
    }

    #[test]
    fn the_same_text_hashes_the_same_and_any_change_differs() {
        let a: Box<RawValue> = serde_json::from_str(RECORD).unwrap();
        let b: Box<RawValue> = serde_json::from_str(RECORD).unwrap();
        let c: Box<RawValue> = serde_json::from_str(&RECORD.replace("Lunch", "Supper")).unwrap();
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
    }
}
