//! Referrals in the database: made by a referring team, answered by the group, each
//! move committed with its event, its audit entry and what the directory learns from
//! it. Who may see a referral is decided here (`Sides`); anyone on neither side is
//! told it does not exist.

use chrono::{DateTime, Utc};
use entity::{capacity, referral, referral_area, referral_event, service};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use super::machine::{self, Side};
use super::person::{PersonDraft, Private};
use super::seal::DataKey;
use crate::domain::auth::Caller;
use crate::domain::codes::{CapacityStatus, DeclineReason, ReferralStatus, Role, Urgency};
use crate::domain::edit::capacity::replace as replace_capacity;
use crate::domain::edit::{Audit, Editor, record};
use crate::domain::listings::PageOf;
use crate::domain::paging::Page;
use crate::domain::search::{self, SearchHandle};
use crate::domain::validate::{self, Fields};
use crate::error::{AppError, AppResult};

/// Which sides of a referral a caller is on. A council with both link workers and
/// listings can be on both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sides {
    pub referrer: bool,
    pub provider: bool,
}

impl Sides {
    /// A referral made by `referrer_authority` to a service of `organization`, owned
    /// by `provider_authority`: the referring team's referrer and admin keys; the
    /// organization's provider keys and the owning authority's editors and admins.
    pub fn of(
        caller: &Caller,
        referrer_authority: i32,
        provider_authority: i32,
        organization: &str,
    ) -> Self {
        let own = |authority| caller.authority_id == authority;
        Self {
            referrer: own(referrer_authority)
                && matches!(caller.role, Role::Referrer | Role::Admin),
            provider: own(provider_authority)
                && match caller.role {
                    Role::Provider => caller.organization_id.as_deref() == Some(organization),
                    Role::Editor | Role::Admin => true,
                    Role::Analyst | Role::Referrer => false,
                },
        }
    }

    pub fn of_row(caller: &Caller, row: &referral::Model) -> Self {
        Self::of(
            caller,
            row.referrer_authority_id,
            row.provider_authority_id,
            &row.organization_id,
        )
    }

    pub fn any(self) -> bool {
        self.referrer || self.provider
    }

    fn has(self, side: Side) -> bool {
        match side {
            Side::Referrer => self.referrer,
            Side::Provider => self.provider,
        }
    }
}

/// The same rule as `Sides::of`, as SQL over the referral table.
fn visible_to(caller: &Caller) -> Condition {
    let mut visible = Condition::any();
    if matches!(caller.role, Role::Referrer | Role::Admin) {
        visible = visible.add(referral::Column::ReferrerAuthorityId.eq(caller.authority_id));
    }
    match caller.role {
        Role::Provider => {
            visible = visible.add(
                Condition::all()
                    .add(referral::Column::ProviderAuthorityId.eq(caller.authority_id))
                    .add(
                        referral::Column::OrganizationId
                            .eq(caller.organization_id.clone().unwrap_or_default()),
                    ),
            );
        }
        Role::Editor | Role::Admin => {
            visible = visible.add(referral::Column::ProviderAuthorityId.eq(caller.authority_id));
        }
        Role::Analyst | Role::Referrer => {}
    }
    // No side at all: nothing.
    if !visible.is_empty() {
        visible
    } else {
        Condition::all().add(Expr::value(false))
    }
}

/// What a sealed value is bound to: the person of one referral, or a note of it (so
/// neither can be passed off as the other, nor moved to another referral).
fn person_owner(id: &str) -> String {
    format!("person:{id}")
}

fn note_owner(id: &str) -> String {
    format!("note:{id}")
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!("no referral {id}"))
}

/// A referral as it stands after a write in this transaction.
async fn reread(db: &impl ConnectionTrait, id: &str) -> AppResult<referral::Model> {
    referral::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| not_found(id))
}

pub fn status_of(row: &referral::Model) -> AppResult<ReferralStatus> {
    ReferralStatus::from_code(&row.status)
        .ok_or_else(|| AppError::internal(format!("unknown referral status {}", row.status)))
}

/// A referral the caller is on a side of, with those sides; NOT_FOUND otherwise.
pub async fn visible(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: &str,
) -> AppResult<(referral::Model, Sides)> {
    let row = referral::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| not_found(id))?;
    let sides = Sides::of_row(caller, &row);
    if sides.any() {
        Ok((row, sides))
    } else {
        Err(not_found(id))
    }
}

/// A referral as asked for.
pub struct NewReferral {
    pub service_id: String,
    pub person: PersonDraft,
    /// How the caller's protocol names the person's fields (`input.person.`).
    pub person_fields: Fields,
    pub reason: Option<String>,
    pub consent: bool,
    pub urgency: Urgency,
}

pub async fn create(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    key: &DataKey,
    search: &SearchHandle,
    new: NewReferral,
) -> AppResult<referral::Model> {
    let caller = editor.caller;
    let f = editor.fields;
    if caller.role != Role::Referrer {
        return Err(AppError::Forbidden(
            "only a referrer key (a link-worker team) makes referrals".into(),
        ));
    }
    if !new.consent {
        return Err(AppError::bad_input(
            f.name("consent"),
            "a referral needs the person's consent: send consent: true once they have agreed",
        ));
    }
    let (person, postcode) = new.person.check(new.person_fields)?;
    let reason = new
        .reason
        .filter(|r| !r.trim().is_empty())
        .map(|r| validate::description(&f.name("reason"), &r))
        .transpose()?;
    // Refuse before anything is written when the data cannot be protected.
    key.require()?;
    let service = service::Entity::find_by_id(new.service_id.clone())
        .one(db)
        .await?
        .filter(|s| s.retired_at.is_none())
        .ok_or_else(|| AppError::NotFound(format!("no service {}", new.service_id)))?;
    let near = match &postcode {
        Some(code) => crate::domain::place::postcode_point(db, code).await?,
        None => None,
    };
    let now = Utc::now();
    let (fit, areas) = {
        let index = search.read();
        let person = person.as_searched();
        let fit = search::fit_of(&index, &service.id, &person, near, now.date_naive());
        let areas = near
            .map(|at| index.areas_containing(at))
            .unwrap_or_default();
        (fit, areas)
    };
    // Time-ordered ids: the list pages by id, newest first.
    let id = uuid::Uuid::now_v7().to_string();
    let private = Private {
        person,
        reason,
        fit,
    };
    let plain = serde_json::to_vec(&private).map_err(AppError::internal)?;
    let row = referral::Model {
        id: id.clone(),
        service_id: service.id.clone(),
        referrer_authority_id: caller.authority_id,
        referrer_key_prefix: caller.key_prefix.clone(),
        provider_authority_id: service.authority_id,
        organization_id: service.organization_id.clone(),
        status: ReferralStatus::Requested.code().to_string(),
        decline_reason: None,
        urgency: new.urgency.code().to_string(),
        sealed: Some(key.seal(&person_owner(&id), &plain)?),
        created_at: now,
        updated_at: now,
        answered_at: None,
        closed_at: None,
        erased_at: None,
        version: 1,
    };
    let txn = crate::db::begin_write(db).await?;
    referral::Entity::insert(sea_orm::IntoActiveModel::into_active_model(row.clone()))
        .exec_without_returning(&txn)
        .await?;
    add_event(
        &txn,
        &id,
        ReferralStatus::Requested,
        None,
        None,
        caller,
        now,
    )
    .await?;
    if !areas.is_empty() {
        referral_area::Entity::insert_many(areas.into_iter().map(|area_code| {
            referral_area::ActiveModel {
                referral_id: Set(id.clone()),
                area_code: Set(area_code),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    editor
        .record(
            &txn,
            Audit {
                entity: "referral",
                entity_id: &id,
                action: "create_referral",
                before: None,
                // Never the person: only what any side may count.
                after: Some(json!({ "service_id": row.service_id, "status": row.status,
                    "urgency": row.urgency })),
            },
            now,
        )
        .await?;
    txn.commit().await?;
    Ok(row)
}

async fn add_event(
    db: &impl ConnectionTrait,
    id: &str,
    status: ReferralStatus,
    reason: Option<DeclineReason>,
    note: Option<Vec<u8>>,
    caller: &Caller,
    at: DateTime<Utc>,
) -> AppResult<()> {
    referral_event::Entity::insert(referral_event::ActiveModel {
        referral_id: Set(id.to_string()),
        status: Set(status.code().to_string()),
        reason: Set(reason.map(|r| r.code().to_string())),
        note_sealed: Set(note),
        at: Set(at),
        by: Set(caller.key_prefix.clone()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A status move as asked for.
pub struct Move {
    pub status: ReferralStatus,
    pub reason: Option<DeclineReason>,
    pub note: Option<String>,
}

/// A move made, and whether it changed the service's capacity.
pub struct Moved {
    pub referral: referral::Model,
    pub capacity_changed: bool,
}

/// Move a referral through the flow (`machine`), with its event, its audit entry
/// and what the directory learns, all in one transaction. Checks run in the order
/// a client can act on: NOT_FOUND, CONFLICT (re-read first), then the move itself.
pub async fn update_status(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    key: &DataKey,
    id: &str,
    expected_version: i32,
    asked: Move,
) -> AppResult<Moved> {
    let caller = editor.caller;
    let f = editor.fields;
    let note = asked
        .note
        .filter(|n| !n.trim().is_empty())
        .map(|n| validate::description(&f.name("note"), &n))
        .transpose()?;
    let txn = crate::db::begin_write(db).await?;
    let (row, sides) = visible(&txn, caller, id).await?;
    let conflict = |current_version| AppError::Conflict {
        message: format!(
            "referral {id} is at version {current_version}, not {expected_version}: read it again"
        ),
        current_version,
    };
    if row.version != expected_version {
        return Err(conflict(row.version));
    }
    if note.is_some() && row.erased_at.is_some() {
        return Err(AppError::bad_input(
            f.name("note"),
            "the person's details were erased; this referral keeps no more notes",
        ));
    }
    let from = status_of(&row)?;
    let to = asked.status;
    let side = match machine::mover(from, to) {
        Some(owner) if sides.has(owner) => owner,
        _ if sides.provider => Side::Provider,
        _ => Side::Referrer,
    };
    machine::check(from, to, side, asked.reason, f)?;
    let sealed_note = note
        .map(|n| key.seal(&note_owner(id), n.as_bytes()))
        .transpose()?;
    let now = Utc::now();
    let answered = matches!(to, ReferralStatus::Accepted | ReferralStatus::Declined);
    let closes = !machine::is_open(to);
    let mut update = referral::Entity::update_many()
        .col_expr(referral::Column::Status, Expr::value(to.code()))
        .col_expr(referral::Column::UpdatedAt, Expr::value(now))
        .col_expr(referral::Column::Version, Expr::value(row.version + 1));
    if let Some(reason) = asked.reason {
        update = update.col_expr(referral::Column::DeclineReason, Expr::value(reason.code()));
    }
    if answered {
        update = update.col_expr(referral::Column::AnsweredAt, Expr::value(now));
    }
    if closes && row.closed_at.is_none() {
        update = update.col_expr(referral::Column::ClosedAt, Expr::value(now));
    }
    let done = update
        .filter(referral::Column::Id.eq(id))
        .filter(referral::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        let current = visible(&txn, caller, id).await?.0.version;
        return Err(conflict(current));
    }
    add_event(&txn, id, to, asked.reason, sealed_note, caller, now).await?;
    let capacity_changed = learn(&txn, editor, &row.service_id, to, asked.reason, now).await?;
    editor
        .record(
            &txn,
            Audit {
                entity: "referral",
                entity_id: id,
                action: "update_referral_status",
                before: Some(json!({ "status": row.status, "version": row.version })),
                after: Some(json!({ "status": to.code(),
                    "reason": asked.reason.map(DeclineReason::code),
                    "version": row.version + 1 })),
            },
            now,
        )
        .await?;
    let referral = reread(&txn, id).await?;
    txn.commit().await?;
    Ok(Moved {
        referral,
        capacity_changed,
    })
}

/// What the directory learns from a group's answer: a decline for lack of capacity
/// marks the service FULL (and so puts it in the owner's review queue); an accept
/// takes one counted place (FULL at 0). True when the capacity changed.
async fn learn(
    txn: &impl ConnectionTrait,
    editor: &Editor<'_>,
    service_id: &str,
    to: ReferralStatus,
    reason: Option<DeclineReason>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if !matches!(
        (to, reason),
        (ReferralStatus::Declined, Some(DeclineReason::NoCapacity)) | (ReferralStatus::Accepted, _)
    ) {
        return Ok(false);
    }
    crate::domain::capacity::lock_service(txn, service_id).await?;
    let before = crate::domain::capacity::latest(txn, service_id).await?;
    let next = match (to, reason, &before) {
        (ReferralStatus::Declined, Some(DeclineReason::NoCapacity), _) => {
            let mut next = before.clone().unwrap_or_else(|| capacity::Model {
                id: uuid::Uuid::now_v7().to_string(),
                service_id: service_id.to_string(),
                status: String::new(),
                available: None,
                maximum: None,
                unit: None,
                waitlist_length: None,
                typical_wait_days: None,
                description: None,
                updated_at: now,
                updated_by: None,
                expires_at: None,
            });
            next.status = CapacityStatus::Full.code().to_string();
            next.available = next.available.map(|_| 0);
            next
        }
        (ReferralStatus::Accepted, _, Some(current)) if current.available.is_some() => {
            let mut next = current.clone();
            let left = Ord::max(current.available.unwrap_or_default() - 1, 0);
            next.available = Some(left);
            if left == 0 {
                next.status = CapacityStatus::Full.code().to_string();
            }
            next
        }
        _ => return Ok(false),
    };
    let next = capacity::Model {
        updated_at: now,
        updated_by: Some(editor.actor()),
        // A recorded expiry no longer describes what the referral taught.
        expires_at: None,
        ..next
    };
    replace_capacity(txn, &next, &editor.actor(), "referral", now).await?;
    editor
        .record(
            txn,
            Audit {
                entity: "capacity",
                entity_id: service_id,
                action: "update_capacity",
                before: before.map(|c| json!(c)),
                after: Some(json!(next)),
            },
            now,
        )
        .await?;
    Ok(true)
}

/// The group's first read of the person opens a referral that was only requested.
/// Some(row) when this read moved it.
pub async fn opened_by_reading(
    db: &DatabaseConnection,
    caller: &Caller,
    row: &referral::Model,
) -> AppResult<Option<referral::Model>> {
    if status_of(row)? != ReferralStatus::Requested || !Sides::of_row(caller, row).provider {
        return Ok(None);
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let done = referral::Entity::update_many()
        .col_expr(
            referral::Column::Status,
            Expr::value(ReferralStatus::Opened.code()),
        )
        .col_expr(referral::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            referral::Column::Version,
            Expr::col(referral::Column::Version).add(1),
        )
        .filter(referral::Column::Id.eq(&row.id))
        .filter(referral::Column::Status.eq(ReferralStatus::Requested.code()))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        // Another read opened it first.
        return Ok(None);
    }
    add_event(
        &txn,
        &row.id,
        ReferralStatus::Opened,
        None,
        None,
        caller,
        now,
    )
    .await?;
    let opened = referral::Entity::find_by_id(row.id.clone())
        .one(&txn)
        .await?;
    txn.commit().await?;
    Ok(opened)
}

/// Open what a referral keeps sealed, for a caller on one of its sides; the read is
/// itself audited (who, when, which referral; never the data). None once erased.
pub async fn read_private(
    db: &impl ConnectionTrait,
    key: &DataKey,
    editor: &Editor<'_>,
    row: &referral::Model,
) -> AppResult<Option<Private>> {
    let Some(sealed) = &row.sealed else {
        return Ok(None);
    };
    if !Sides::of_row(editor.caller, row).any() {
        return Err(not_found(&row.id));
    }
    let plain = key.open(&person_owner(&row.id), sealed)?;
    // serde's messages quote the values they stumble on: never log them.
    let private = serde_json::from_slice(&plain)
        .map_err(|_| AppError::internal("a sealed referral did not read as a person"))?;
    editor
        .record(
            db,
            Audit {
                entity: "referral",
                entity_id: &row.id,
                action: "read_person",
                before: None,
                after: None,
            },
            Utc::now(),
        )
        .await?;
    Ok(Some(private))
}

/// A referral's moves, oldest first.
pub async fn events(db: &impl ConnectionTrait, id: &str) -> AppResult<Vec<referral_event::Model>> {
    Ok(referral_event::Entity::find()
        .filter(referral_event::Column::ReferralId.eq(id))
        .order_by_asc(referral_event::Column::Id)
        .all(db)
        .await?)
}

/// A note kept with a move, opened (the caller has read the referral's private data).
pub fn open_note(key: &DataKey, event: &referral_event::Model) -> AppResult<Option<String>> {
    event
        .note_sealed
        .as_ref()
        .map(|sealed| {
            let plain = key.open(&note_owner(&event.referral_id), sealed)?;
            String::from_utf8(plain).map_err(AppError::internal)
        })
        .transpose()
}

/// Which referrals to list.
#[derive(Clone, Debug, Default)]
pub struct ReferralFilter {
    pub status: Option<ReferralStatus>,
    pub service_id: Option<String>,
}

/// The caller's side of the referrals, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &ReferralFilter,
    page: &Page,
) -> AppResult<PageOf<referral::Model>> {
    let mut query = referral::Entity::find().filter(visible_to(caller));
    if let Some(status) = filter.status {
        query = query.filter(referral::Column::Status.eq(status.code()));
    }
    if let Some(service) = &filter.service_id {
        query = query.filter(referral::Column::ServiceId.eq(service.as_str()));
    }
    if let Some(after) = &page.after {
        query = query.filter(referral::Column::Id.lt(after.as_str()));
    }
    let mut rows = query
        .order_by_desc(referral::Column::Id)
        .limit(page.first as u64 + 1)
        .all(db)
        .await?;
    let has_next = rows.len() > page.first;
    rows.truncate(page.first);
    Ok(PageOf { rows, has_next })
}

/// The cursor of a listed referral: its id (UUID v7, so in creation order).
pub fn cursor(row: &referral::Model) -> String {
    row.id.clone()
}

/// Erase the person (and every note) from these referrals; statuses, times and
/// areas stay for counts. Returns how many were erased.
async fn erase_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let mut erased = 0;
    for chunk in ids.chunks(500) {
        erased += referral::Entity::update_many()
            .col_expr(
                referral::Column::Sealed,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .col_expr(referral::Column::ErasedAt, Expr::value(now))
            .filter(referral::Column::Id.is_in(chunk.iter().cloned()))
            .filter(referral::Column::ErasedAt.is_null())
            .exec(db)
            .await?
            .rows_affected;
        referral_event::Entity::update_many()
            .col_expr(
                referral_event::Column::NoteSealed,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .filter(referral_event::Column::ReferralId.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?;
    }
    Ok(erased)
}

/// Erase the people of referrals that closed before `cutoff` (the retention timer
/// and `signpost referrals erase`). Returns how many were erased.
pub async fn erase_closed_before(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
    actor: &str,
) -> AppResult<u64> {
    let ids: Vec<String> = referral::Entity::find()
        .select_only()
        .column(referral::Column::Id)
        .filter(referral::Column::ClosedAt.lt(cutoff))
        .filter(referral::Column::ErasedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    // A transaction per chunk: a long backlog never holds the write lock for long.
    let now = Utc::now();
    let mut erased = 0;
    for chunk in ids.chunks(500) {
        let txn = crate::db::begin_write(db).await?;
        erased += erase_ids(&txn, chunk, now).await?;
        txn.commit().await?;
    }
    record(
        db,
        None,
        actor,
        None,
        Audit {
            entity: "referral",
            entity_id: "*",
            action: "erase_person_data",
            before: None,
            after: Some(json!({ "closed_before": cutoff, "erased": erased })),
        },
        now,
    )
    .await?;
    Ok(erased)
}

/// The referring team erases a person at once, whatever the referral's status.
pub async fn erase_person(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    id: &str,
) -> AppResult<referral::Model> {
    let txn = crate::db::begin_write(db).await?;
    let (row, sides) = visible(&txn, editor.caller, id).await?;
    if !sides.referrer {
        return Err(AppError::Forbidden(
            "only the referring team erases the person's data".into(),
        ));
    }
    let now = Utc::now();
    if row.erased_at.is_none() {
        erase_ids(&txn, std::slice::from_ref(&row.id), now).await?;
        editor
            .record(
                &txn,
                Audit {
                    entity: "referral",
                    entity_id: id,
                    action: "erase_person_data",
                    before: None,
                    after: None,
                },
                now,
            )
            .await?;
    }
    let row = reread(&txn, id).await?;
    txn.commit().await?;
    Ok(row)
}
