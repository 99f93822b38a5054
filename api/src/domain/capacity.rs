//! Capacity as link workers read it: a recorded status that expires. Past its expiry
//! (given, or a configured number of days after its update) capacity reads UNKNOWN,
//! never ACCEPTING, because an old "we have space" is the claim that wastes referrals.

use chrono::{DateTime, Duration, Utc};

use entity::{capacity, service};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::codes::CapacityStatus;
use crate::error::AppResult;

/// When a capacity stops being trusted.
pub fn expires_at(
    updated_at: DateTime<Utc>,
    explicit: Option<DateTime<Utc>>,
    default_days: u32,
) -> DateTime<Utc> {
    explicit.unwrap_or(updated_at + Duration::days(i64::from(default_days)))
}

/// The status to show at `now`.
pub fn effective_status(
    recorded: CapacityStatus,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> CapacityStatus {
    if now >= expires_at {
        CapacityStatus::Unknown
    } else {
        recorded
    }
}

/// HSDS capacities carry no status: ACCEPTING when places are available, FULL at 0.
pub fn status_from_available(available: Option<i32>) -> CapacityStatus {
    match available {
        Some(n) if n > 0 => CapacityStatus::Accepting,
        Some(_) => CapacityStatus::Full,
        None => CapacityStatus::Unknown,
    }
}

/// Hold a service's capacity for the rest of the transaction, so two writes to it
/// never read the same "current" row (on PostgreSQL: the service row, FOR UPDATE).
/// SQLite's write transactions are serial already.
pub async fn lock_service(db: &impl ConnectionTrait, service_id: &str) -> AppResult<()> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT id FROM service WHERE id = $1 FOR UPDATE",
            [service_id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// A service's current capacity: its latest row.
pub async fn latest(
    db: &impl ConnectionTrait,
    service_id: &str,
) -> AppResult<Option<capacity::Model>> {
    Ok(capacity::Entity::find()
        .filter(capacity::Column::ServiceId.eq(service_id))
        .order_by_desc(capacity::Column::UpdatedAt)
        .one(db)
        .await?)
}

/// A service and its current capacity, as a change to it is told to subscribers;
/// None when the service is gone.
pub async fn service_and_capacity(
    db: &impl ConnectionTrait,
    service_id: &str,
) -> AppResult<Option<(service::Model, Option<capacity::Model>)>> {
    let Some(row) = service::Entity::find_by_id(service_id.to_string())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((row, latest(db, service_id).await?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-01-{day:02}T12:00:00Z"))
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn capacity_without_expiry_expires_after_the_default_days() {
        assert_eq!(expires_at(at(1), None, 28), at(29));
        assert_eq!(expires_at(at(1), Some(at(5)), 28), at(5));
    }

    #[test]
    fn expired_capacity_reads_unknown_never_accepting() {
        assert_eq!(
            effective_status(CapacityStatus::Accepting, at(10), at(9)),
            CapacityStatus::Accepting
        );
        assert_eq!(
            effective_status(CapacityStatus::Accepting, at(10), at(10)),
            CapacityStatus::Unknown
        );
        assert_eq!(
            effective_status(CapacityStatus::Full, at(10), at(11)),
            CapacityStatus::Unknown
        );
    }

    #[test]
    fn hsds_capacity_without_status_is_accepting_when_places_are_free() {
        assert_eq!(status_from_available(Some(3)), CapacityStatus::Accepting);
        assert_eq!(status_from_available(Some(0)), CapacityStatus::Full);
        assert_eq!(status_from_available(None), CapacityStatus::Unknown);
    }
}
