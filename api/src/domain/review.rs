//! The review queue: an authority's listings that need a human, most urgent first,
//! each saying why. A listing someone reported out of date comes first, then stale
//! ones, then those whose capacity expired, then those merely due a check.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{capacity, capacity_event, outdated_report, referral, service};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::codes::DeclineReason;

use super::Policy;
use super::capacity::expires_at;
use super::freshness::{Freshness, freshness};
use super::listings::PageOf;
use super::paging::Page;
use crate::error::{AppError, AppResult};

/// Why a listing needs review, most urgent first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReviewReason {
    ReportedOutdated,
    DeclinedForCapacity,
    Stale,
    CapacityExpired,
    Due,
}

#[derive(Clone, Debug)]
pub struct Why {
    pub reason: ReviewReason,
    pub detail: String,
}

pub struct ReviewItem {
    pub service: service::Model,
    pub reasons: Vec<Why>,
    /// The sort key, which paging's cursors carry.
    pub cursor: String,
}

/// Sort key: most urgent reason, more reasons, least recently verified, id.
fn key(item: &ReviewItem) -> String {
    let urgency = item.reasons.first().map_or(9, |w| w.reason as u8);
    let verified = item
        .service
        .last_verified_at
        .map_or(0, |t| t.timestamp_millis().max(0));
    format!(
        "{urgency}:{:02}:{verified:015}:{}",
        99 - item.reasons.len().min(99),
        item.service.id
    )
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%-d %B %Y").to_string()
}

pub async fn queue(
    db: &impl ConnectionTrait,
    authority_id: i32,
    policy: Policy,
    now: DateTime<Utc>,
    page: &Page,
) -> AppResult<PageOf<ReviewItem>> {
    let services = service::Entity::find()
        .filter(service::Column::AuthorityId.eq(authority_id))
        .filter(service::Column::RetiredAt.is_null())
        .all(db)
        .await?;
    let ids: Vec<String> = services.iter().map(|s| s.id.clone()).collect();
    let mut reports: HashMap<String, Vec<outdated_report::Model>> = HashMap::new();
    let mut latest_capacity: HashMap<String, capacity::Model> = HashMap::new();
    // The latest decline for lack of capacity per service, and the latest capacity
    // a person recorded (not one a referral taught) for those services.
    let mut declined: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut recorded: HashMap<String, DateTime<Utc>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let declines: Vec<(String, Option<DateTime<Utc>>)> = referral::Entity::find()
            .select_only()
            .column(referral::Column::ServiceId)
            .column(referral::Column::AnsweredAt)
            .filter(referral::Column::ServiceId.is_in(chunk.iter().cloned()))
            .filter(referral::Column::DeclineReason.eq(DeclineReason::NoCapacity.code()))
            .into_tuple()
            .all(db)
            .await?;
        let mut these = Vec::new();
        for (service_id, at) in declines {
            if let Some(at) = at {
                these.push(service_id.clone());
                let latest = declined.entry(service_id).or_insert(at);
                *latest = (*latest).max(at);
            }
        }
        if !these.is_empty() {
            let events: Vec<(String, DateTime<Utc>)> = capacity_event::Entity::find()
                .select_only()
                .column(capacity_event::Column::ServiceId)
                .column(capacity_event::Column::RecordedAt)
                .filter(capacity_event::Column::ServiceId.is_in(these))
                .filter(capacity_event::Column::Source.ne("referral"))
                .into_tuple()
                .all(db)
                .await?;
            for (service_id, at) in events {
                let latest = recorded.entry(service_id).or_insert(at);
                *latest = (*latest).max(at);
            }
        }
        for report in outdated_report::Entity::find()
            .filter(outdated_report::Column::ServiceId.is_in(chunk.iter().cloned()))
            .filter(outdated_report::Column::ResolvedAt.is_null())
            .order_by_asc(outdated_report::Column::CreatedAt)
            .all(db)
            .await?
        {
            reports
                .entry(report.service_id.clone())
                .or_default()
                .push(report);
        }
        for row in capacity::Entity::find()
            .filter(capacity::Column::ServiceId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            let newer = latest_capacity
                .get(&row.service_id)
                .is_none_or(|c| c.updated_at < row.updated_at);
            if newer {
                latest_capacity.insert(row.service_id.clone(), row);
            }
        }
    }
    let mut items: Vec<ReviewItem> = services
        .into_iter()
        .filter_map(|service| {
            let mut reasons = Vec::new();
            if let Some(open) = reports.get(&service.id) {
                let last = open.last().map(|r| r.message.as_str()).unwrap_or_default();
                reasons.push(Why {
                    reason: ReviewReason::ReportedOutdated,
                    detail: format!("{} open report(s); latest: \"{last}\"", open.len()),
                });
            }
            // Until someone records the capacity again, the decline's FULL stands.
            let answered = declined
                .get(&service.id)
                .filter(|&&at| recorded.get(&service.id).is_none_or(|&r| r < at));
            if let Some(&at) = answered {
                reasons.push(Why {
                    reason: ReviewReason::DeclinedForCapacity,
                    detail: format!(
                        "Declined a referral for lack of capacity on {}; capacity reads FULL until it is updated",
                        day(at)
                    ),
                });
            }
            let verified = match service.last_verified_at {
                Some(at) => format!("last verified {}", day(at)),
                None => "never verified".to_string(),
            };
            match freshness(service.last_verified_at, now, policy) {
                Freshness::Stale => reasons.push(Why {
                    reason: ReviewReason::Stale,
                    detail: format!("Stale: {verified}"),
                }),
                Freshness::Due => reasons.push(Why {
                    reason: ReviewReason::Due,
                    detail: format!("Due a check: {verified}"),
                }),
                Freshness::Fresh => {}
            }
            if let Some(c) = latest_capacity.get(&service.id) {
                let expiry = expires_at(c.updated_at, c.expires_at, policy.capacity_expiry_days);
                if expiry <= now {
                    reasons.push(Why {
                        reason: ReviewReason::CapacityExpired,
                        detail: format!("Capacity expired on {}; it reads UNKNOWN", day(expiry)),
                    });
                }
            }
            reasons.sort_by_key(|w| w.reason);
            (!reasons.is_empty()).then(|| {
                let mut item = ReviewItem {
                    service,
                    reasons,
                    cursor: String::new(),
                };
                item.cursor = key(&item);
                item
            })
        })
        .collect();
    items.sort_by(|a, b| a.cursor.cmp(&b.cursor));
    let start = match &page.after {
        Some(after) => {
            if after.split(':').count() < 4 {
                return Err(AppError::bad_input("after", "not a cursor from this queue"));
            }
            items.partition_point(|i| i.cursor.as_str() <= after.as_str())
        }
        None => 0,
    };
    let has_next = items.len() > start + page.first;
    let rows = items.into_iter().skip(start).take(page.first).collect();
    Ok(PageOf { rows, has_next })
}
