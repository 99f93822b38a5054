//! What an authority must look at: its review queue, and a listing's history.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::audit_event;

use super::services::Service;
use super::{caller, connection, db, policy};
use crate::domain::paging::Page;
use crate::domain::{history, review};

/// Why a listing needs review, most urgent first.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "review::ReviewReason")]
pub enum ReviewReasonCode {
    /// Someone reported it out of date (open until the listing is verified).
    ReportedOutdated,
    /// The group declined a referral for lack of capacity, so the service reads FULL
    /// (until someone records its capacity again).
    DeclinedForCapacity,
    /// Not verified within the stale age (or never).
    Stale,
    /// Its capacity passed its expiry and reads UNKNOWN.
    CapacityExpired,
    /// Not verified within the due age.
    Due,
}

#[derive(SimpleObject)]
pub struct ReviewReason {
    pub reason: ReviewReasonCode,
    /// A sentence for the person doing the review.
    pub detail: String,
}

#[derive(SimpleObject)]
pub struct ReviewItem {
    pub service: Service,
    pub reasons: Vec<ReviewReason>,
}

/// One audit event: who, when, what, and what changed.
pub struct AuditEvent(pub audit_event::Model);

#[Object]
impl AuditEvent {
    /// The key prefix (`key:ab12cd34`), `import`, `cli` or `public`.
    async fn who(&self) -> &str {
        &self.0.actor
    }
    async fn when(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// create, update, retire, verify, update_capacity, report_outdated, import_create, import_update.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// `{ field: { before, after } }` for each field that changed.
    async fn changes(&self) -> Json<serde_json::Value> {
        Json(history::changes(
            self.0.before.as_ref(),
            self.0.after.as_ref(),
        ))
    }
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0.before.clone().map(Json)
    }
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0.after.clone().map(Json)
    }
    /// The request that made the change, to find it in the logs.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
}

#[derive(Default)]
pub struct ReviewQuery;

#[Object]
impl ReviewQuery {
    /// The caller's listings that are due or stale, reported out of date, or with
    /// expired capacity; most urgent first, each saying why.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn review_queue(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ReviewItem>> {
        let caller = caller(ctx)?;
        caller.require_editor()?;
        let has_previous = after.is_some();
        let page = Page::new(first, after)?;
        let rows = review::queue(
            db(ctx)?,
            caller.authority_id,
            policy(ctx),
            Utc::now(),
            &page,
        )
        .await?;
        Ok(connection(
            rows,
            has_previous,
            |item| item.cursor.clone(),
            |item| ReviewItem {
                service: Service::from(item.service),
                reasons: item
                    .reasons
                    .into_iter()
                    .map(|w| ReviewReason {
                        reason: w.reason.into(),
                        detail: w.detail,
                    })
                    .collect(),
            },
        ))
    }
}
