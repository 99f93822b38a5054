//! "This listing is out of date": anyone may say so (rate-limited by the caller of
//! this module); the report waits in the owner's review queue until verified.

use chrono::Utc;
use entity::{outdated_report, service};
use sea_orm::ActiveValue::Set;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::json;

use super::{Audit, record};
use crate::domain::validate;
use crate::error::{AppError, AppResult};

/// Longest report message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;

pub async fn report_outdated(
    db: &DatabaseConnection,
    service_id: &str,
    message: &str,
    request_id: &str,
) -> AppResult<outdated_report::Model> {
    let message = validate::description("message", message)?;
    if message.is_empty() {
        return Err(AppError::bad_input("message", "say what is out of date"));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(AppError::bad_input(
            "message",
            format!("at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let listing = service::Entity::find_by_id(service_id.to_string())
        .one(&txn)
        .await?
        .filter(|s| s.retired_at.is_none())
        .ok_or_else(|| AppError::NotFound(format!("no service {service_id}")))?;
    let now = Utc::now();
    let row = outdated_report::Entity::insert(outdated_report::ActiveModel {
        service_id: Set(listing.id.clone()),
        message: Set(message),
        request_id: Set(Some(request_id.to_string())),
        created_at: Set(now),
        resolved_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    record(
        &txn,
        Some(listing.authority_id),
        "public",
        Some(request_id),
        Audit {
            entity: "service",
            entity_id: &listing.id,
            action: "report_outdated",
            before: None,
            after: Some(json!({ "message": row.message })),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}
