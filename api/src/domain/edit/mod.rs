//! Writes by local authorities: every one checked (`draft`, `validate`), scoped to
//! the caller's authority from the key (never from the input), in one transaction
//! with its audit event.

pub mod bulk;
pub mod capacity;
pub mod draft;
pub mod organizations;
mod parts;
pub mod record;
pub mod reports;
pub mod services;

use chrono::{DateTime, Utc};
use entity::{audit_event, service};
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::Value;

use super::auth::Caller;
use super::validate::Fields;
use crate::error::AppResult;

/// Who is writing, and the request that carries the write (for the audit trail).
#[derive(Clone, Copy, Debug)]
pub struct Editor<'a> {
    pub caller: &'a Caller,
    pub request_id: &'a str,
    /// How the caller's protocol names input fields (`input.name` in GraphQL).
    pub fields: Fields,
}

impl Editor<'_> {
    pub fn actor(&self) -> String {
        format!("key:{}", self.caller.key_prefix)
    }
}

/// One audit event: who, when, what, before and after.
pub(crate) struct Audit<'a> {
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub action: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub(crate) async fn record(
    db: &impl ConnectionTrait,
    authority_id: Option<i32>,
    actor: &str,
    request_id: Option<&str>,
    audit: Audit<'_>,
    at: DateTime<Utc>,
) -> AppResult<()> {
    audit_event::Entity::insert(audit_event::ActiveModel {
        authority_id: Set(authority_id),
        actor: Set(actor.to_string()),
        entity: Set(audit.entity.to_string()),
        entity_id: Set(audit.entity_id.to_string()),
        action: Set(audit.action.to_string()),
        before: Set(audit.before),
        after: Set(audit.after),
        request_id: Set(request_id.map(str::to_string)),
        created_at: Set(at),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

impl Editor<'_> {
    /// Record `audit` against the editor's authority.
    pub(crate) async fn record(
        &self,
        db: &impl ConnectionTrait,
        audit: Audit<'_>,
        at: DateTime<Utc>,
    ) -> AppResult<()> {
        record(
            db,
            Some(self.caller.authority_id),
            &self.actor(),
            Some(self.request_id),
            audit,
            at,
        )
        .await
    }
}

/// The service `id` for a write by `editor` (`owned::service`).
pub(crate) async fn owned_service(
    db: &impl ConnectionTrait,
    editor: &Editor<'_>,
    id: &str,
) -> AppResult<service::Model> {
    super::owned::service(db, editor.caller, id).await
}
