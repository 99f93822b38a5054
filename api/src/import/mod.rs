//! Bulk loading: HSDS 3.1 JSON and UK postcode files. Imports report what landed and
//! what failed (with the record's id and the field path) and never half-write a record.

pub mod areas;
pub mod hsds;
pub mod postcodes;

use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashSet;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, IdenStatic, IntoActiveModel, Iterable, ModelTrait,
    PrimaryKeyToColumn,
};

/// A progress bar on stderr; indicatif draws nothing when stderr is not a terminal.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"
    )) {
        bar.set_style(style);
    }
    bar
}

/// A progress bar over the bytes of a file being read.
pub fn progress_bytes(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})")
    {
        bar.set_style(style);
    }
    bar
}

/// Insert rows, or update every column but the key and `keep` where the key exists.
/// Rows repeating a key are dropped (first wins): one statement may not touch a row twice.
pub async fn upsert<E>(
    db: &impl ConnectionTrait,
    rows: Vec<E::Model>,
    keep: &[E::Column],
) -> Result<(), DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel>,
{
    let keys: Vec<E::Column> = E::PrimaryKey::iter().map(|k| k.into_column()).collect();
    let mut seen = HashSet::new();
    let rows: Vec<E::Model> = rows
        .into_iter()
        .filter(|row| {
            seen.insert(
                keys.iter()
                    .map(|k| format!("{:?}", row.get(*k)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let skip: Vec<&str> = keys.iter().chain(keep).map(|c| c.as_str()).collect();
    let update: Vec<E::Column> = E::Column::iter()
        .filter(|c| !skip.contains(&c.as_str()))
        .collect();
    let mut conflict = OnConflict::columns(keys);
    if update.is_empty() {
        conflict.do_nothing();
    } else {
        conflict.update_columns(update);
    }
    E::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
        .on_conflict(conflict.to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}
