//! Referrals over GraphQL: the link worker's team refers, the group answers, both
//! follow. Each resolver translates; `domain::referral` decides who sees what, seals
//! the person and audits every read of them.

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{
    ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject, Subscription,
};
use chrono::{DateTime, Utc};
use entity::{referral, referral_event};
use futures::{Stream, StreamExt};
use tokio::sync::OnceCell;

use super::enums::{AccessibilityFeature, DeclineReason, ReferralStatus, Urgency};
use super::gaps::Area;
use super::loaders::ServiceById;
use super::search::Fit;
use super::services::Service;
use super::{caller, connection, db, editor, load};
use crate::domain::auth;
use crate::domain::codes::{self, Role};
use crate::domain::listings;
use crate::domain::paging::Page;
use crate::domain::referral::flow::{self, FlowQuestion};
use crate::domain::referral::person::{PersonDraft, Private};
use crate::domain::referral::seal::DataKey;
use crate::domain::referral::store::{self, Move, NewReferral, ReferralFilter, Sides};
use crate::domain::search::SearchHandle;
use crate::domain::validate::Fields;
use crate::error::{AppError, AppResult};
use crate::live::changes::{Changes, ReferralChanged};

fn data_key<'a>(ctx: &Context<'a>) -> AppResult<&'a DataKey> {
    ctx.data::<DataKey>()
        .map_err(|_| AppError::internal("no data key in request data"))
}

fn changes<'a>(ctx: &Context<'a>) -> AppResult<&'a Changes> {
    ctx.data::<Changes>()
        .map_err(|_| AppError::internal("no change hub in request data"))
}

/// Tell both sides (on every replica) that a referral was made or moved.
async fn moved(ctx: &Context<'_>, row: &referral::Model) -> AppResult<()> {
    changes(ctx)?
        .referral_moved(ReferralChanged {
            referral_id: row.id.clone(),
            referrer_authority_id: row.referrer_authority_id,
            provider_authority_id: row.provider_authority_id,
            organization_id: row.organization_id.clone(),
        })
        .await;
    Ok(())
}

/// The person referred, as the link worker gave them.
#[derive(SimpleObject)]
pub struct ReferralPerson {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub age: Option<f64>,
    pub circumstances: Vec<String>,
    pub languages: Vec<String>,
    pub access_needs: Vec<AccessibilityFeature>,
    pub notes: Option<String>,
}

/// One move of a referral.
#[derive(SimpleObject)]
pub struct ReferralEvent {
    pub status: ReferralStatus,
    /// A decline's reason.
    pub reason: Option<DeclineReason>,
    /// Null for anyone but the two sides, and after erasure.
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    /// The prefix of the key that made the move.
    pub by: String,
}

/// A referral of a person to a service. Only the referring team and the group that
/// runs the service can see it; `person`, `reason`, `fit` and notes are null after
/// the person's data is erased.
pub struct Referral {
    row: referral::Model,
    /// What is sealed, opened (and its read audited) once per referral per request.
    private: OnceCell<Option<Arc<Private>>>,
}

impl Referral {
    fn new(row: referral::Model) -> Self {
        Self {
            row,
            private: OnceCell::new(),
        }
    }

    async fn private(&self, ctx: &Context<'_>) -> AppResult<Option<Arc<Private>>> {
        self.private
            .get_or_try_init(|| async {
                let read =
                    store::read_private(db(ctx)?, data_key(ctx)?, &editor(ctx)?, &self.row).await?;
                Ok::<_, AppError>(read.map(Arc::new))
            })
            .await
            .cloned()
    }
}

#[Object]
impl Referral {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }

    /// The service referred to (still shown when it has since been retired).
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<Service>> {
        // Through the request's loader: a page of referrals reads its services at once.
        let id = ServiceById(self.row.service_id.clone());
        Ok(load(ctx, id).await?.map(Service::from))
    }

    async fn status(&self) -> Result<ReferralStatus> {
        Ok(store::status_of(&self.row)?.into())
    }

    async fn decline_reason(&self) -> Option<DeclineReason> {
        self.row
            .decline_reason
            .as_deref()
            .and_then(codes::DeclineReason::from_code)
            .map(Into::into)
    }

    /// The note the group left with the outcome (completed, not attended, declined).
    async fn outcome_note(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        if crate::domain::referral::machine::is_open(store::status_of(&self.row)?) {
            return Ok(None);
        }
        let events = store::events(db(ctx)?, &self.row.id).await?;
        let Some(last) = events.last().filter(|e| e.note_sealed.is_some()) else {
            return Ok(None);
        };
        if self.private(ctx).await?.is_none() {
            return Ok(None);
        }
        Ok(store::open_note(data_key(ctx)?, last)?)
    }

    async fn urgency(&self) -> Urgency {
        codes::Urgency::from_code(&self.row.urgency)
            .unwrap_or(codes::Urgency::Routine)
            .into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }

    /// When the group accepted or declined.
    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.row.answered_at
    }

    /// When the person's data was erased (after the retention period, or at once by
    /// the referring team).
    async fn erased_at(&self) -> Option<DateTime<Utc>> {
        self.row.erased_at
    }

    /// Send this as `expectedVersion` to move the referral.
    async fn version(&self) -> i32 {
        self.row.version
    }

    /// The person. Reading it is audited; the group's first read opens the referral.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<ReferralPerson>> {
        let Some(private) = self.private(ctx).await? else {
            return Ok(None);
        };
        if let Some(opened) = store::opened_by_reading(db(ctx)?, caller(ctx)?, &self.row).await? {
            moved(ctx, &opened).await?;
        }
        let p = &private.person;
        Ok(Some(ReferralPerson {
            name: p.name.clone(),
            phone: p.phone.clone(),
            email: p.email.clone(),
            postcode: p.postcode.clone(),
            age: p.age,
            circumstances: p.circumstances.clone(),
            languages: p.languages.clone(),
            access_needs: p.access_needs.iter().map(|&a| a.into()).collect(),
            notes: p.notes.clone(),
        }))
    }

    /// Why the link worker referred the person.
    async fn reason(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.private(ctx).await?.and_then(|p| p.reason.clone()))
    }

    /// How the service fitted the person when referred, judged as search does.
    async fn fit(&self, ctx: &Context<'_>) -> Result<Option<Fit>> {
        Ok(self
            .private(ctx)
            .await?
            .and_then(|p| p.fit.clone())
            .map(Fit::from))
    }

    /// Every move, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<ReferralEvent>> {
        let rows = store::events(db(ctx)?, &self.row.id).await?;
        // Notes are personal data too: opening one counts as reading the person.
        let notes =
            rows.iter().any(|e| e.note_sealed.is_some()) && self.private(ctx).await?.is_some();
        let key = data_key(ctx)?;
        rows.into_iter()
            .map(|e| event_out(e, notes.then_some(key)))
            .collect::<AppResult<Vec<_>>>()
            .map_err(Into::into)
    }
}

fn event_out(e: referral_event::Model, key: Option<&DataKey>) -> AppResult<ReferralEvent> {
    let note = match key {
        Some(key) => store::open_note(key, &e)?,
        None => None,
    };
    let status = codes::ReferralStatus::from_code(&e.status)
        .ok_or_else(|| AppError::internal(format!("unknown referral status {}", e.status)))?;
    Ok(ReferralEvent {
        status: status.into(),
        reason: e
            .reason
            .as_deref()
            .and_then(codes::DeclineReason::from_code)
            .map(Into::into),
        note,
        at: e.at,
        by: e.by,
    })
}

/// A referral read by a caller about to read the person: the group's first read
/// opens it, so the status in the same answer is the one after the read. The person
/// is read (and the read audited) first: a read that fails opens nothing.
async fn as_read(ctx: &Context<'_>, row: referral::Model) -> AppResult<Referral> {
    let ahead = ctx.look_ahead();
    let reads_person = ahead.field("person").exists()
        || ahead.field("edges").field("node").field("person").exists()
        || ahead.field("nodes").field("person").exists();
    let referral = Referral::new(row);
    if !reads_person {
        return Ok(referral);
    }
    let Some(private) = referral.private(ctx).await? else {
        // Erased: there is no person to read.
        return Ok(referral);
    };
    match store::opened_by_reading(db(ctx)?, caller(ctx)?, &referral.row).await? {
        Some(opened) => {
            moved(ctx, &opened).await?;
            Ok(Referral {
                row: opened,
                private: OnceCell::new_with(Some(Some(private))),
            })
        }
        None => Ok(referral),
    }
}

#[derive(InputObject)]
pub struct ReferralPersonInput {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub age: Option<f64>,
    /// Circumstances as listings name them (carer, veteran, …).
    pub circumstances: Option<Vec<String>>,
    /// ISO 639 codes the person speaks.
    pub languages: Option<Vec<String>>,
    pub access_needs: Option<Vec<AccessibilityFeature>>,
    pub notes: Option<String>,
}

#[derive(InputObject)]
pub struct CreateReferralInput {
    pub service_id: ID,
    pub person: ReferralPersonInput,
    /// Why the link worker refers them ("lonely since her husband's stroke").
    pub reason: Option<String>,
    /// The person agreed to be referred and to their details being shared. Must be true.
    pub consent: bool,
    #[graphql(default_with = "Urgency::Routine")]
    pub urgency: Urgency,
}

#[derive(InputObject)]
pub struct UpdateReferralStatusInput {
    pub status: ReferralStatus,
    /// Required with DECLINED, refused with anything else.
    pub reason: Option<DeclineReason>,
    pub note: Option<String>,
}

#[derive(InputObject, Default)]
pub struct ReferralFilterInput {
    pub status: Option<ReferralStatus>,
    pub service_id: Option<ID>,
}

#[derive(InputObject)]
pub struct ReferralFlowInput {
    pub area_type: String,
    pub taxonomy_terms: Option<Vec<String>>,
    /// Referrals made at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Referrals made before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// What happened to the referrals of people living in one area. Counts are null
/// when the area had fewer than 5 referrals: small numbers identify people.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AreaReferrals {
    pub area: Area,
    pub referrals: Option<i64>,
    /// Answered with an accept (whatever came after).
    pub accepted: Option<i64>,
    pub declined: Option<i64>,
    pub declined_no_capacity: Option<i64>,
    pub completed: Option<i64>,
    /// Median hours from referral to the group's answer.
    pub median_hours_to_answer: Option<f64>,
}

#[ComplexObject]
impl AreaReferrals {
    /// True when the counts are withheld (fewer than 5 referrals).
    async fn suppressed(&self) -> bool {
        self.referrals.is_none()
    }
}

impl From<flow::AreaFlow> for AreaReferrals {
    fn from(f: flow::AreaFlow) -> Self {
        let (code, name, area_type, population, parent_code, lat, lon) = f.area;
        let c = f.counts;
        Self {
            area: Area {
                code,
                name,
                area_type,
                population,
                parent_code,
                centroid_latitude: lat,
                centroid_longitude: lon,
            },
            referrals: c.as_ref().map(|c| c.referrals),
            accepted: c.as_ref().map(|c| c.accepted),
            declined: c.as_ref().map(|c| c.declined),
            declined_no_capacity: c.as_ref().map(|c| c.declined_no_capacity),
            completed: c.as_ref().map(|c| c.completed),
            median_hours_to_answer: c.and_then(|c| c.median_hours_to_answer),
        }
    }
}

#[derive(Default)]
pub struct ReferralsQuery;

#[Object]
impl ReferralsQuery {
    /// A referral made by the caller's team or to the caller's services; NOT_FOUND
    /// for anyone else, whether or not it exists.
    async fn referral(&self, ctx: &Context<'_>, id: ID) -> Result<Referral> {
        let (row, _) = store::visible(db(ctx)?, caller(ctx)?, &id).await?;
        Ok(as_read(ctx, row).await?)
    }

    /// The caller's side of the referrals, newest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReferralFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Referral>> {
        let filter = filter.unwrap_or_default();
        let filter = ReferralFilter {
            status: filter.status.map(Into::into),
            service_id: filter.service_id.map(|id| id.0),
        };
        let page = Page::new(first, after.clone())?;
        let rows = store::list(db(ctx)?, caller(ctx)?, &filter, &page).await?;
        let mut read = Vec::with_capacity(rows.rows.len());
        for row in rows.rows {
            read.push(as_read(ctx, row).await?);
        }
        let rows = listings::PageOf {
            rows: read,
            has_next: rows.has_next,
        };
        Ok(connection(
            rows,
            after.is_some(),
            |r| store::cursor(&r.row),
            |r| r,
        ))
    }

    /// Referral flow per area of the referred people's postcodes: counts only, null
    /// where fewer than 5. For any key but provider and referrer keys.
    async fn referral_flow(
        &self,
        ctx: &Context<'_>,
        input: ReferralFlowInput,
    ) -> Result<Vec<AreaReferrals>> {
        let caller = caller(ctx)?;
        if matches!(caller.role, Role::Provider | Role::Referrer) {
            return Err(AppError::Forbidden(
                "referral flow is for analysts, editors and admins".into(),
            )
            .into());
        }
        let question = FlowQuestion {
            area_type: input.area_type,
            taxonomy_terms: input.taxonomy_terms.unwrap_or_default(),
            from: input.from,
            to: input.to,
        };
        let areas = flow::referral_flow(db(ctx)?, question, Fields::GRAPHQL_INPUT).await?;
        Ok(areas.into_iter().map(AreaReferrals::from).collect())
    }
}

#[derive(SimpleObject)]
pub struct ReferralPayload {
    pub referral: Referral,
}

#[derive(Default)]
pub struct ReferralsMutation;

#[Object]
impl ReferralsMutation {
    /// Refer a person to a service (referrer keys). Needs `consent: true`; the
    /// person's details are stored sealed and shown only to the two sides.
    async fn create_referral(
        &self,
        ctx: &Context<'_>,
        input: CreateReferralInput,
    ) -> Result<ReferralPayload> {
        let p = input.person;
        let draft = PersonDraft {
            name: p.name,
            phone: p.phone,
            email: p.email,
            postcode: p.postcode,
            age: p.age,
            circumstances: p.circumstances,
            languages: p.languages,
            access_needs: p
                .access_needs
                .map(|a| a.into_iter().map(Into::into).collect()),
            notes: p.notes,
        };
        let search = ctx
            .data::<SearchHandle>()
            .map_err(|_| AppError::internal("no search index in request data"))?;
        let new = NewReferral {
            service_id: input.service_id.0,
            person: draft,
            person_fields: Fields("input.person."),
            reason: input.reason,
            consent: input.consent,
            urgency: input.urgency.into(),
        };
        let row = store::create(db(ctx)?, &editor(ctx)?, data_key(ctx)?, search, new).await?;
        moved(ctx, &row).await?;
        Ok(ReferralPayload {
            referral: Referral::new(row),
        })
    }

    /// Move a referral: the group opens, accepts, declines (with a reason), completes
    /// or marks not attended; the referring team withdraws or marks entered in
    /// error. `expectedVersion` is the `version` read; a stale one is CONFLICT.
    async fn update_referral_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateReferralStatusInput,
    ) -> Result<ReferralPayload> {
        let asked = Move {
            status: input.status.into(),
            reason: input.reason.map(Into::into),
            note: input.note,
        };
        let done = store::update_status(
            db(ctx)?,
            &editor(ctx)?,
            data_key(ctx)?,
            &id,
            expected_version,
            asked,
        )
        .await?;
        moved(ctx, &done.referral).await?;
        if done.capacity_changed {
            super::mutations::committed(ctx, &done.referral.service_id, true).await?;
        }
        Ok(ReferralPayload {
            referral: Referral::new(done.referral),
        })
    }

    /// Erase the person's details now (the referring team only); the status and the
    /// counts stay.
    async fn erase_person_data(
        &self,
        ctx: &Context<'_>,
        referral_id: ID,
    ) -> Result<ReferralPayload> {
        let row = store::erase_person(db(ctx)?, &editor(ctx)?, &referral_id).await?;
        moved(ctx, &row).await?;
        Ok(ReferralPayload {
            referral: Referral::new(row),
        })
    }
}

#[derive(Default)]
pub struct ReferralSubscription;

#[Subscription]
impl ReferralSubscription {
    /// Each referral made or moved on the caller's side (or only referral `id`),
    /// through any replica. Needs a key: send it as `Authorization` in
    /// `connection_init`'s payload.
    async fn referral_changed(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Referral>> + use<>> {
        let caller = caller(ctx)?.clone();
        let db = db(ctx)?.clone();
        if let Some(id) = &id {
            store::visible(&db, &caller, id).await?;
        }
        let receiver = changes(ctx)?.subscribe_referrals();
        let changes = crate::live::changes::stream_of(receiver);
        let told = changes.filter_map(move |change: ReferralChanged| {
            let (db, caller, only) = (db.clone(), caller.clone(), id.clone());
            async move {
                if only.as_ref().is_some_and(|id| id.0 != change.referral_id) {
                    return None;
                }
                let sides = Sides::of(
                    &caller,
                    change.referrer_authority_id,
                    change.provider_authority_id,
                    &change.organization_id,
                );
                if !sides.any() {
                    return None;
                }
                // A key revoked while the connection stays open hears no more.
                match auth::still_live(&db, &caller).await {
                    Ok(true) => {}
                    Ok(false) => return Some(None),
                    Err(e) => return Some(Some(Err(e.into()))),
                }
                Some(Some(
                    store::visible(&db, &caller, &change.referral_id)
                        .await
                        .map(|(row, _)| Referral::new(row))
                        .map_err(Into::into),
                ))
            }
        });
        // Each change the caller may hear: Some(the referral), or None once its key
        // is revoked, which it is told before the subscription ends.
        Ok(futures::stream::unfold(
            (Box::pin(told), false),
            |(mut told, revoked)| async move {
                if revoked {
                    return None;
                }
                match told.next().await? {
                    Some(item) => Some((item, (told, false))),
                    None => {
                        let refused = AppError::Unauthenticated("this key was revoked".into());
                        Some((Err(refused.into()), (told, true)))
                    }
                }
            },
        ))
    }
}
