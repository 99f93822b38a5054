//! Duplicate candidates across sources, and settling them: `duplicateCandidates`,
//! `resolveDuplicate`, `dismissDuplicate`.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};

use super::services::Service;
use super::{connection, db, editor};
use crate::domain::duplicates::{self, Candidate, signals};
use crate::domain::paging::Page;

/// Two services from different sources (two feeds, or a feed and an authority's own
/// listings) that may be one.
pub struct DuplicateCandidate(Candidate);

#[Object]
impl DuplicateCandidate {
    async fn id(&self) -> ID {
        ID(self.0.row.id.clone())
    }
    /// 0–1: how likely the two are one service (the signals combined as
    /// independent evidence: 1 − Π(1 − weight)).
    async fn score(&self) -> f64 {
        self.0.row.score
    }
    /// What made the pair, strongest first.
    async fn signals(&self) -> Vec<DuplicateSignal> {
        let mut found: Vec<DuplicateSignal> = self
            .0
            .signals
            .iter()
            .map(|f| DuplicateSignal {
                signal: f.signal.into(),
                weight: f.weight,
                detail: f.detail.clone(),
            })
            .collect();
        found.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        found
    }
    /// The two services, in id order.
    async fn services(&self) -> Vec<Service> {
        let row = &self.0.row;
        [&row.first_service_id, &row.second_service_id]
            .into_iter()
            .map(|id| Service::by_id(id.clone()))
            .collect()
    }
}

/// One piece of evidence that two services are one.
#[derive(SimpleObject)]
pub struct DuplicateSignal {
    pub signal: DuplicateSignalKind,
    /// 0–1: how strongly this alone says the two are one.
    pub weight: f64,
    /// What was found, for a person to check ("nearest locations 12 m apart").
    pub detail: String,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateSignalKind {
    /// The organizations share a charity, company or other register number.
    OrganizationIdentifier,
    /// The names are alike (word order, case and filler words aside).
    Name,
    /// Their nearest locations are close.
    Distance,
    Phone,
    Email,
    WebDomain,
    Postcode,
}

impl From<signals::Signal> for DuplicateSignalKind {
    fn from(signal: signals::Signal) -> Self {
        use signals::Signal as S;
        match signal {
            S::OrganizationIdentifier => Self::OrganizationIdentifier,
            S::Name => Self::Name,
            S::Distance => Self::Distance,
            S::Phone => Self::Phone,
            S::Email => Self::Email,
            S::WebDomain => Self::WebDomain,
            S::Postcode => Self::Postcode,
        }
    }
}

#[derive(Default)]
pub struct DuplicatesQuery;

#[Object]
impl DuplicatesQuery {
    /// Open duplicate candidates with a service of the caller's authority on either
    /// side, most likely first (editors and admins). Pairs are proposed after each
    /// import and feed pull, across sources only.
    async fn duplicate_candidates(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, DuplicateCandidate>> {
        let page = Page::new(first, after)?;
        let caller = super::caller(ctx)?;
        let found = duplicates::open_for(db(ctx)?, caller, &page).await?;
        Ok(connection(
            found,
            page.after.is_some(),
            duplicates::cursor_key,
            DuplicateCandidate,
        ))
    }
}

#[derive(SimpleObject)]
pub struct ResolveDuplicatePayload {
    /// The service kept.
    pub service: Service,
}

#[derive(SimpleObject)]
pub struct DismissDuplicatePayload {
    pub candidate: DuplicateCandidate,
}

#[derive(Default)]
pub struct DuplicatesMutation;

#[Object]
impl DuplicatesMutation {
    /// Settle a duplicate: `replace` is retired in favour of `keep` — gone from
    /// search, lists, gaps and the Open Referral API, still readable by id with
    /// `replacedBy`. For editors and admins of the replaced service's authority.
    async fn resolve_duplicate(
        &self,
        ctx: &Context<'_>,
        keep: ID,
        replace: ID,
    ) -> Result<ResolveDuplicatePayload> {
        let kept = duplicates::resolve(db(ctx)?, &editor(ctx)?, &keep, &replace).await?;
        super::mutations::committed(ctx, &replace, false).await?;
        Ok(ResolveDuplicatePayload {
            service: Service::from(kept),
        })
    }

    /// Say a candidate's two services differ: the pair is not proposed again.
    async fn dismiss_duplicate(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<DismissDuplicatePayload> {
        let candidate = duplicates::dismiss(db(ctx)?, &editor(ctx)?, &id).await?;
        Ok(DismissDuplicatePayload {
            candidate: DuplicateCandidate(candidate),
        })
    }
}
