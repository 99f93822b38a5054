//! The `Service` type and the `service` / `services` queries.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::service;
use tokio::sync::OnceCell;

use super::details::{Capacity, CostOption, Eligibility, Language, Schedule, ServiceArea};
use super::enums::{AccessibilityFeature, DeliveryMode, Freshness, ReferralRoute, ServiceStatus};
use super::loaders::{
    CapacitiesOfService, CostOptionsOfService, FeedById, LanguagesOfService, LocationsOfService,
    OrganizationById, SchedulesOfService, ServiceAreasOfService, ServiceById, TermsOfService,
};
use super::organizations::Organization;
use super::places::Location;
use super::review::AuditEvent;
use super::taxonomy::TaxonomyTerm;
use super::{connection, db, load, load_list, policy};
use crate::domain::codes::{self, ServiceStatus as Status};
use crate::domain::listings::{self, ServiceFilter};
use crate::domain::paging::Page;
use crate::domain::{freshness, history};
use crate::error::AppError;

/// A service: something a person can be referred to (HSDS `service`).
///
/// Search answers from its in-memory index, which knows each service's id and name;
/// the row is read (batched over the page) only when another field is asked for.
pub struct Service {
    id: String,
    name: Option<String>,
    row: OnceCell<service::Model>,
}

impl From<service::Model> for Service {
    fn from(row: service::Model) -> Self {
        Service {
            id: row.id.clone(),
            name: None,
            row: OnceCell::new_with(Some(row)),
        }
    }
}

impl Service {
    /// A service known by id and name; the rest of its row loads on demand.
    pub fn known(id: String, name: String) -> Self {
        Service {
            id,
            name: Some(name),
            row: OnceCell::new(),
        }
    }

    /// A service known by id alone; its row loads (batched) when a field asks.
    pub fn by_id(id: String) -> Self {
        Service {
            id,
            name: None,
            row: OnceCell::new(),
        }
    }

    async fn row(&self, ctx: &Context<'_>) -> Result<&service::Model> {
        self.row
            .get_or_try_init(|| async {
                load(ctx, ServiceById(self.id.clone()))
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("service {} was removed", self.id)))
            })
            .await
            .map_err(Into::into)
    }
}

/// A pulled listing's provenance.
#[derive(async_graphql::SimpleObject)]
pub struct ServiceSource {
    /// The base URL of the Open Referral UK API it was pulled from.
    pub feed: String,
    /// The id the publisher gives it (ours is made from this and the feed, so two
    /// feeds' ids never collide).
    pub source_id: String,
    /// When its current content was fetched (a pull that finds it unchanged writes
    /// nothing, so this is when it last changed at its source).
    pub fetched_at: DateTime<Utc>,
}

#[Object]
impl Service {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
    async fn name(&self, ctx: &Context<'_>) -> Result<&str> {
        match &self.name {
            Some(name) => Ok(name),
            None => Ok(&self.row(ctx).await?.name),
        }
    }
    async fn alternate_name(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.alternate_name.as_deref())
    }
    /// Plain text; never HTML.
    async fn description(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.description.as_deref())
    }
    async fn url(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.url.as_deref())
    }
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.email.as_deref())
    }
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.phone.as_deref())
    }
    /// HSDS status; a retired service reads INACTIVE.
    async fn status(&self, ctx: &Context<'_>) -> Result<ServiceStatus> {
        let row = self.row(ctx).await?;
        if row.retired_at.is_some() {
            return Ok(ServiceStatus::Inactive);
        }
        Ok(Status::from_code(&row.status)
            .unwrap_or(Status::Active)
            .into())
    }
    /// Increases with every change; send it back as `expectedVersion` when updating.
    async fn version(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.row(ctx).await?.version)
    }
    async fn interpretation_services(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.interpretation_services.as_deref())
    }
    async fn application_process(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.application_process.as_deref())
    }
    async fn fees_description(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.fees_description.as_deref())
    }
    async fn accreditations(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.accreditations.as_deref())
    }
    /// A short-term notice (closures, changes).
    async fn alert(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.row(ctx).await?.alert.as_deref())
    }
    /// Where the listing came from when it was pulled from a partner's feed
    /// (`signpost sync oruk`); null for listings made or imported here.
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<ServiceSource>> {
        let row = self.row(ctx).await?;
        let (Some(feed), Some(source_id)) = (&row.feed_id, &row.source_id) else {
            return Ok(None);
        };
        let feed = load(ctx, FeedById(feed.clone()))
            .await?
            .ok_or_else(|| AppError::internal("a pulled service's feed is missing"))?;
        Ok(Some(ServiceSource {
            feed: feed.url,
            source_id: source_id.clone(),
            fetched_at: row.fetched_at.unwrap_or(row.updated_at),
        }))
    }
    /// The service kept in this one's place when an editor settled the two as
    /// duplicates (`resolveDuplicate`); this one then reads INACTIVE.
    async fn replaced_by(&self, ctx: &Context<'_>) -> Result<Option<Service>> {
        Ok(self.row(ctx).await?.replaced_by.clone().map(Service::by_id))
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        let id = self.row(ctx).await?.organization_id.clone();
        let org = load(ctx, OrganizationById(id)).await?;
        Ok(Organization(org.ok_or_else(|| {
            AppError::internal("service without organization")
        })?))
    }
    /// Places the service is delivered from.
    async fn locations(&self, ctx: &Context<'_>) -> Result<Vec<Location>> {
        Ok(load_list(ctx, LocationsOfService(self.id.clone()))
            .await?
            .into_iter()
            .map(Location)
            .collect())
    }
    /// The service's categories.
    async fn taxonomy_terms(&self, ctx: &Context<'_>) -> Result<Vec<TaxonomyTerm>> {
        Ok(load_list(ctx, TermsOfService(self.id.clone()))
            .await?
            .into_iter()
            .map(TaxonomyTerm)
            .collect())
    }
    /// Who the service is for: hard restrictions and soft suitability.
    async fn eligibility(&self, ctx: &Context<'_>) -> Result<Eligibility> {
        Ok(Eligibility(self.row(ctx).await?.clone()))
    }
    /// The most recently updated capacity, read through its expiry; null when none is recorded.
    async fn capacity(&self, ctx: &Context<'_>) -> Result<Option<Capacity>> {
        let rows = load_list(ctx, CapacitiesOfService(self.id.clone())).await?;
        let latest = rows.into_iter().max_by_key(|c| c.updated_at);
        Ok(latest.map(|c| Capacity::read(c, policy(ctx))))
    }
    async fn cost_options(&self, ctx: &Context<'_>) -> Result<Vec<CostOption>> {
        Ok(load_list(ctx, CostOptionsOfService(self.id.clone()))
            .await?
            .into_iter()
            .map(CostOption)
            .collect())
    }
    /// Weekly opening.
    async fn schedules(&self, ctx: &Context<'_>) -> Result<Vec<Schedule>> {
        Ok(load_list(ctx, SchedulesOfService(self.id.clone()))
            .await?
            .into_iter()
            .map(Schedule)
            .collect())
    }
    async fn languages(&self, ctx: &Context<'_>) -> Result<Vec<Language>> {
        Ok(load_list(ctx, LanguagesOfService(self.id.clone()))
            .await?
            .into_iter()
            .map(Language)
            .collect())
    }
    /// Access features offered at any of the service's locations.
    async fn accessibility(&self, ctx: &Context<'_>) -> Result<Vec<AccessibilityFeature>> {
        let mut features = Vec::new();
        for location in load_list(ctx, LocationsOfService(self.id.clone())).await? {
            for row in load_list(ctx, super::loaders::AccessibilityOfLocation(location.id)).await? {
                if let Some(feature) = row
                    .feature
                    .as_deref()
                    .and_then(codes::AccessibilityFeature::from_code)
                    && !features.contains(&feature)
                {
                    features.push(feature);
                }
            }
        }
        features.sort();
        Ok(features.into_iter().map(Into::into).collect())
    }
    /// Areas the service covers (it comes to you, or serves a whole district).
    async fn service_areas(&self, ctx: &Context<'_>) -> Result<Vec<ServiceArea>> {
        Ok(load_list(ctx, ServiceAreasOfService(self.id.clone()))
            .await?
            .into_iter()
            .map(ServiceArea)
            .collect())
    }
    /// The listing's audit events, newest first. Only for editors and admins of the
    /// owning authority.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50, validator(minimum = 1, maximum = 100))] first: i32,
    ) -> Result<Vec<AuditEvent>> {
        let caller = super::caller(ctx)?;
        let events = history::of_service(db(ctx)?, caller, &self.id, first as u64).await?;
        Ok(events.into_iter().map(AuditEvent).collect())
    }
    async fn delivery_modes(&self, ctx: &Context<'_>) -> Result<Vec<DeliveryMode>> {
        let row = self.row(ctx).await?;
        Ok(
            codes::codes_in(&row.delivery_modes, codes::DeliveryMode::from_code)
                .into_iter()
                .map(Into::into)
                .collect(),
        )
    }
    async fn referral_routes(&self, ctx: &Context<'_>) -> Result<Vec<ReferralRoute>> {
        let row = self.row(ctx).await?;
        Ok(
            codes::codes_in(&row.referral_routes, codes::ReferralRoute::from_code)
                .into_iter()
                .map(Into::into)
                .collect(),
        )
    }
    /// When a person last confirmed the listing is right.
    async fn last_verified_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.row(ctx).await?.last_verified_at)
    }
    /// FRESH, DUE or STALE by the age of `lastVerifiedAt`.
    async fn freshness(&self, ctx: &Context<'_>) -> Result<Freshness> {
        let verified = self.row(ctx).await?.last_verified_at;
        Ok(freshness::freshness(verified, Utc::now(), policy(ctx)).into())
    }
    async fn created_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.row(ctx).await?.created_at)
    }
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.row(ctx).await?.updated_at)
    }
}

/// Narrow `services`.
#[derive(InputObject, Default)]
pub struct ServiceFilterInput {
    /// Term codes; a term matches its descendants too.
    pub taxonomy_terms: Option<Vec<String>>,
    /// Words in the name or description (case-insensitive).
    pub text: Option<String>,
    pub status: Option<ServiceStatus>,
    /// Only services changed after this moment, retired ones included (reading
    /// INACTIVE): another directory pulls just what changed since its last pull.
    pub modified_after: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct ServicesQuery;

#[Object]
impl ServicesQuery {
    /// One service by id (retired services too, reading INACTIVE).
    async fn service(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Service>> {
        let found = listings::find_service(db(ctx)?, &id).await?;
        match found {
            Some(row) => Ok(Some(Service::from(row))),
            None => Err(AppError::NotFound(format!("no service with id {}", id.0)).into()),
        }
    }

    /// Services that are not retired (unless `modifiedAfter` asks for changes), in id
    /// order. `first` defaults to 20, at most 100.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn services(
        &self,
        ctx: &Context<'_>,
        filter: Option<ServiceFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Service>> {
        let has_previous = after.is_some();
        let page = Page::new(first, after)?;
        let filter = filter.unwrap_or_default();
        let filter = ServiceFilter {
            taxonomy_terms: filter.taxonomy_terms.unwrap_or_default(),
            text: crate::domain::validate::query_text("filter.text", filter.text)?,
            status: filter.status.map(Into::into),
            modified_after: filter.modified_after,
            ..ServiceFilter::default()
        };
        let rows = listings::list_services(db(ctx)?, &filter, &page).await?;
        Ok(connection(
            rows,
            has_previous,
            |s| s.id.clone(),
            Service::from,
        ))
    }
}
