//! `signpost export hsds`: every service that is not retired, as HSDS 3.1
//! `service_full` JSON (an array, streamed in batches, so memory stays flat).

use std::io::Write;

use entity::service;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

use crate::error::{AppError, AppResult};

/// Services read and converted at a time.
const BATCH: u64 = 500;

/// Call `each` with every exportable service, in id order, a batch at a time.
pub async fn for_each_batch(
    db: &impl ConnectionTrait,
    mut each: impl FnMut(Vec<Value>) -> AppResult<()>,
) -> AppResult<usize> {
    let mut after: Option<String> = None;
    let mut count = 0;
    loop {
        let mut query = service::Entity::find()
            .filter(service::Column::RetiredAt.is_null())
            .order_by_asc(service::Column::Id)
            .limit(BATCH);
        if let Some(after) = &after {
            query = query.filter(service::Column::Id.gt(after.clone()));
        }
        let rows = query.all(db).await?;
        let Some(last) = rows.last() else {
            return Ok(count);
        };
        after = Some(last.id.clone());
        count += rows.len();
        each(super::hsds::services_full(db, &rows).await?)?;
    }
}

/// Write the JSON array to `out`; returns how many services.
pub async fn json(db: &impl ConnectionTrait, out: &mut impl Write) -> AppResult<usize> {
    let io = |e: std::io::Error| AppError::internal(format!("writing the export: {e}"));
    out.write_all(b"[").map_err(io)?;
    let mut first = true;
    let count = for_each_batch(db, |batch| {
        for service in batch {
            if !first {
                out.write_all(b",\n").map_err(io)?;
            }
            first = false;
            serde_json::to_writer(&mut *out, &service).map_err(|e| io(e.into()))?;
        }
        Ok(())
    })
    .await?;
    out.write_all(b"]\n").map_err(io)?;
    out.flush().map_err(io)?;
    Ok(count)
}
