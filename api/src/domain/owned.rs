//! Owner-scoped access, one finder per entity (as svix's `secure_find`): every write
//! and every owner-only read starts from one of these, so the ownership check is
//! made in one place rather than by an `if` in each caller. Listings are public, so
//! another authority's listing answers FORBIDDEN (its existence is no secret) and a
//! missing one NOT_FOUND.

use entity::{organization, service};
use sea_orm::{ConnectionTrait, EntityTrait};

use super::auth::Caller;
use crate::error::{AppError, AppResult};

/// The service `id`, for an editor or admin of the authority that owns it.
pub async fn service(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: &str,
) -> AppResult<service::Model> {
    caller.require_editor()?;
    let row = service::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no service {id}")))?;
    caller.require_owner(row.authority_id, &format!("service {id}"))?;
    Ok(row)
}

/// The service `id`, for the group that runs it: its organization's provider key, or
/// an editor or admin of the owning authority (capacity updates, referrals).
pub async fn service_for_provider(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: &str,
) -> AppResult<service::Model> {
    let row = service::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no service {id}")))?;
    caller.require_provider_of(
        row.authority_id,
        &row.organization_id,
        &format!("service {id}"),
    )?;
    Ok(row)
}

/// The organization `id`, for an editor or admin of the authority that owns it.
pub async fn organization(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: &str,
) -> AppResult<organization::Model> {
    caller.require_editor()?;
    let row = organization::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no organization {id}")))?;
    caller.require_owner(row.authority_id, &format!("organization {id}"))?;
    Ok(row)
}
