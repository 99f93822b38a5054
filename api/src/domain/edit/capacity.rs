//! Quick capacity updates: the current capacity is replaced, the change kept as a
//! `capacity_event`. They do not move the service's version (a capacity update
//! never makes someone's edit of the details conflict), but they do stamp its
//! `updated_at`, which replicas follow.

use chrono::{DateTime, Utc};
use entity::{capacity, capacity_event, service};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::json;

use super::{Audit, Editor};
use crate::domain::capacity::status_from_available;
use crate::domain::codes::CapacityStatus;
use crate::domain::validate::{self, Fields};
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug, Default)]
pub struct CapacityDraft {
    pub status: Option<CapacityStatus>,
    pub available: Option<i32>,
    pub maximum: Option<i32>,
    pub unit: Option<String>,
    pub waitlist_length: Option<i32>,
    pub typical_wait_days: Option<i32>,
    pub description: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl CapacityDraft {
    fn check(&self, now: DateTime<Utc>, f: Fields) -> AppResult<CapacityStatus> {
        for (path, value) in [
            (&f.name("available"), self.available),
            (&f.name("maximum"), self.maximum),
            (&f.name("waitlistLength"), self.waitlist_length),
            (&f.name("typicalWaitDays"), self.typical_wait_days),
        ] {
            if let Some(value) = value {
                validate::count(path, value)?;
            }
        }
        validate::available_within_maximum(&f.name("available"), self.available, self.maximum)?;
        if let Some(at) = self.expires_at
            && at <= now
        {
            return Err(AppError::bad_input(
                f.name("expiresAt"),
                "must be in the future (past capacity reads UNKNOWN)",
            ));
        }
        match (self.status, self.available) {
            (Some(status), _) => Ok(status),
            (None, Some(_)) => Ok(status_from_available(self.available)),
            (None, None) => Err(AppError::bad_input(
                f.name("status"),
                "give a status, or the places available",
            )),
        }
    }
}

/// Make `row` its service's one current capacity, keep the change as a capacity
/// event from `source` ("api", or "referral" when a group's answer to a referral
/// taught it), and stamp the service's `updated_at` so replicas follow. In the
/// caller's transaction, after its ownership check.
pub(crate) async fn replace(
    txn: &impl ConnectionTrait,
    row: &capacity::Model,
    actor: &str,
    source: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    capacity::Entity::delete_many()
        .filter(capacity::Column::ServiceId.eq(&row.service_id))
        .exec(txn)
        .await?;
    capacity::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    capacity_event::Entity::insert(capacity_event::ActiveModel {
        capacity_id: Set(row.id.clone()),
        service_id: Set(row.service_id.clone()),
        status: Set(row.status.clone()),
        available: Set(row.available),
        maximum: Set(row.maximum),
        waitlist_length: Set(row.waitlist_length),
        typical_wait_days: Set(row.typical_wait_days),
        expires_at: Set(row.expires_at),
        actor: Set(Some(actor.to_string())),
        source: Set(source.into()),
        recorded_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    service::Entity::update_many()
        .col_expr(service::Column::UpdatedAt, Expr::value(now))
        .filter(service::Column::Id.eq(&row.service_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub async fn update(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    service_id: &str,
    draft: &CapacityDraft,
) -> AppResult<capacity::Model> {
    let now = Utc::now();
    let f = editor.fields;
    let status = draft.check(now, f)?;
    let unit = draft
        .unit
        .as_deref()
        .map(|u| validate::short_text(&f.name("unit"), u, validate::MAX_NAME_CHARS))
        .transpose()?;
    let description = draft
        .description
        .as_deref()
        .map(|d| validate::description(&f.name("description"), d))
        .transpose()?;
    let txn = crate::db::begin_write(db).await?;
    crate::domain::owned::service_for_provider(&txn, editor.caller, service_id).await?;
    crate::domain::capacity::lock_service(&txn, service_id).await?;
    let before = crate::domain::capacity::latest(&txn, service_id).await?;
    let row = capacity::Model {
        id: before
            .as_ref()
            .map_or_else(super::draft::new_id, |c| c.id.clone()),
        service_id: service_id.to_string(),
        status: status.code().to_string(),
        available: draft.available,
        maximum: draft.maximum,
        unit,
        waitlist_length: draft.waitlist_length,
        typical_wait_days: draft.typical_wait_days,
        description,
        updated_at: now,
        updated_by: Some(editor.actor()),
        expires_at: draft.expires_at,
    };
    replace(&txn, &row, &editor.actor(), "api", now).await?;
    editor
        .record(
            &txn,
            Audit {
                entity: "capacity",
                entity_id: service_id,
                action: "update_capacity",
                before: before.map(|c| json!(c)),
                after: Some(json!(row)),
            },
            now,
        )
        .await?;
    txn.commit().await?;
    Ok(row)
}
