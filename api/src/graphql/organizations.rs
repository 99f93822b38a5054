//! The `Organization` type and its queries.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, Result};
use entity::organization;

use super::services::Service;
use super::{connection, db};
use crate::domain::listings::{self, ServiceFilter};
use crate::domain::paging::Page;
use crate::error::AppError;

/// A register's number for an organization.
#[derive(async_graphql::SimpleObject)]
pub struct OrganizationIdentifier {
    /// An org-id.guide scheme (`GB-CHC`, `GB-COH`), if known.
    pub scheme: Option<String>,
    /// The register in words ("Charity number"), if given.
    #[graphql(name = "type")]
    pub kind: Option<String>,
    pub identifier: String,
}

/// A body that runs services (HSDS `organization`).
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn alternate_name(&self) -> Option<&str> {
        self.0.alternate_name.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Charity, company or other register numbers (HSDS `organization_identifiers`).
    async fn identifiers(&self) -> Vec<OrganizationIdentifier> {
        let stored = self.0.identifiers.as_ref().and_then(|v| v.as_array());
        let text = |item: &serde_json::Value, key: &str| {
            item.get(key).and_then(|v| v.as_str()).map(str::to_string)
        };
        stored
            .into_iter()
            .flatten()
            .filter_map(|item| {
                Some(OrganizationIdentifier {
                    scheme: text(item, "scheme"),
                    kind: text(item, "type"),
                    identifier: text(item, "identifier")?,
                })
            })
            .collect()
    }
    /// The organization's services that are not retired, in id order.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn services(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Service>> {
        let has_previous = after.is_some();
        let page = Page::new(first, after)?;
        let filter = ServiceFilter {
            organization_id: Some(self.0.id.clone()),
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

#[derive(Default)]
pub struct OrganizationsQuery;

#[Object]
impl OrganizationsQuery {
    async fn organization(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organization>> {
        match listings::find_organization(db(ctx)?, &id).await? {
            Some(row) => Ok(Some(Organization(row))),
            None => Err(AppError::NotFound(format!("no organization with id {}", id.0)).into()),
        }
    }

    /// Organizations in id order. `first` defaults to 20, at most 100.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Organization>> {
        let has_previous = after.is_some();
        let page = Page::new(first, after)?;
        let rows = listings::list_organizations(db(ctx)?, &page).await?;
        Ok(connection(
            rows,
            has_previous,
            |o| o.id.clone(),
            Organization,
        ))
    }
}
