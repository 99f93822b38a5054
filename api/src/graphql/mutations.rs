//! Mutations: authenticated writes by local authorities, plus the public
//! `reportOutdated`. Each resolver only translates: the domain (`domain::edit`)
//! checks, scopes and writes; then the change reaches the index and subscribers.

use std::sync::Arc;

use async_graphql::{Context, ID, MergedObject, Object, Result, SimpleObject};

use super::ReportLimiter;
use super::details::Capacity;
use super::inputs::{
    CapacityInput, CreateOrganizationInput, CreateServiceInput, UpdateOrganizationInput,
    UpdateServiceInput,
};
use super::organizations::Organization;
use super::services::Service;
use super::{client, db, editor, policy};
use crate::domain::edit;
use crate::error::{AppError, AppResult};
use crate::live::changes::{Changes, ServiceChanged};

#[derive(SimpleObject)]
pub struct OrganizationPayload {
    pub organization: Organization,
}

#[derive(SimpleObject)]
pub struct ServicePayload {
    pub service: Service,
}

#[derive(SimpleObject)]
pub struct CapacityPayload {
    pub capacity: Capacity,
}

#[derive(SimpleObject)]
pub struct ReportOutdatedPayload {
    /// Always true: the report waits in the owner's review queue.
    pub received: bool,
}

pub(crate) async fn committed(
    ctx: &Context<'_>,
    service_id: &str,
    capacity: bool,
) -> AppResult<()> {
    let changes = ctx
        .data::<Changes>()
        .map_err(|_| AppError::internal("no change hub in request data"))?;
    changes
        .committed(ServiceChanged {
            service_id: service_id.to_string(),
            capacity,
        })
        .await;
    Ok(())
}

/// The root mutation: listings here, keys in `account`.
#[derive(MergedObject, Default)]
pub struct Mutation(
    ListingsMutation,
    super::account::KeysMutation,
    super::referrals::ReferralsMutation,
    super::duplicates::DuplicatesMutation,
);

#[derive(Default)]
pub struct ListingsMutation;

#[Object]
impl ListingsMutation {
    /// A new organization owned by the caller's authority.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> Result<OrganizationPayload> {
        let row = edit::organizations::create(db(ctx)?, &editor(ctx)?, &input.into()).await?;
        Ok(OrganizationPayload {
            organization: Organization(row),
        })
    }

    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateOrganizationInput,
    ) -> Result<OrganizationPayload> {
        let row = edit::organizations::update(db(ctx)?, &editor(ctx)?, &id, &input.into()).await?;
        Ok(OrganizationPayload {
            organization: Organization(row),
        })
    }

    /// A new service under one of the caller's organizations.
    async fn create_service(
        &self,
        ctx: &Context<'_>,
        input: CreateServiceInput,
    ) -> Result<ServicePayload> {
        let row = edit::services::create(db(ctx)?, &editor(ctx)?, &input.into()).await?;
        committed(ctx, &row.id, false).await?;
        Ok(ServicePayload {
            service: Service::from(row),
        })
    }

    /// Change a service. `expectedVersion` is the `version` the client read; if the
    /// service moved on since, the answer is CONFLICT with `currentVersion`.
    async fn update_service(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: UpdateServiceInput,
    ) -> Result<ServicePayload> {
        let row = edit::services::update(
            db(ctx)?,
            &editor(ctx)?,
            &id,
            expected_version,
            &input.into(),
        )
        .await?;
        committed(ctx, &row.id, false).await?;
        Ok(ServicePayload {
            service: Service::from(row),
        })
    }

    /// Retire a service: kept for history, gone from search and lists.
    async fn retire_service(&self, ctx: &Context<'_>, id: ID) -> Result<ServicePayload> {
        let row = edit::services::retire(db(ctx)?, &editor(ctx)?, &id).await?;
        committed(ctx, &row.id, false).await?;
        Ok(ServicePayload {
            service: Service::from(row),
        })
    }

    /// Confirm a listing is correct: `lastVerifiedAt` becomes now, open reports close.
    async fn verify_service(&self, ctx: &Context<'_>, id: ID) -> Result<ServicePayload> {
        let row = edit::services::verify(db(ctx)?, &editor(ctx)?, &id).await?;
        committed(ctx, &row.id, false).await?;
        Ok(ServicePayload {
            service: Service::from(row),
        })
    }

    /// Record a service's capacity now (kept as a capacity event too).
    async fn update_capacity(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        input: CapacityInput,
    ) -> Result<CapacityPayload> {
        let row =
            edit::capacity::update(db(ctx)?, &editor(ctx)?, &service_id, &input.into()).await?;
        committed(ctx, &service_id, true).await?;
        Ok(CapacityPayload {
            capacity: Capacity::read(row, policy(ctx)),
        })
    }

    /// Tell the owner a listing is out of date. No key needed; limited per client.
    async fn report_outdated(
        &self,
        ctx: &Context<'_>,
        service_id: ID,
        message: String,
    ) -> Result<ReportOutdatedPayload> {
        let client = client(ctx)?;
        let limiter = ctx
            .data::<Arc<ReportLimiter>>()
            .map_err(|_| AppError::internal("no report limiter in request data"))?;
        if limiter.check_key(&client.address).is_err() {
            return Err(AppError::RateLimited(
                "too many reports from this address; try again in a minute".into(),
            )
            .into());
        }
        edit::reports::report_outdated(db(ctx)?, &service_id, &message, &client.request_id).await?;
        Ok(ReportOutdatedPayload { received: true })
    }
}
