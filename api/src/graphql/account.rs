//! `me`: who the caller's key says they are; and, for admins, their authority's keys.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_key;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::enums::Role;
use super::organizations::Organization;
use super::{caller, client, db};
use crate::domain::auth;
use crate::domain::codes;
use crate::error::AppError;

/// A local authority or provider body that owns listings.
#[derive(SimpleObject)]
pub struct Authority {
    pub slug: String,
    pub name: String,
}

/// The caller: the authority their key acts for and its role.
#[derive(SimpleObject)]
pub struct Me {
    pub authority: Authority,
    pub role: Role,
    /// The key's public prefix (the 8 characters after `sp_`).
    pub key_prefix: String,
    /// The organization a PROVIDER key acts for; null for every other role.
    pub organization: Option<Organization>,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The caller; null without a key.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<Me>> {
        let Some(c) = client(ctx)?.caller.as_ref() else {
            return Ok(None);
        };
        let organization = match &c.organization_id {
            Some(id) => crate::domain::listings::find_organization(db(ctx)?, id)
                .await?
                .map(Organization),
            None => None,
        };
        Ok(Some(Me {
            authority: Authority {
                slug: c.authority_slug.clone(),
                name: c.authority_name.clone(),
            },
            role: c.role.into(),
            key_prefix: c.key_prefix.clone(),
            organization,
        }))
    }
}

/// An API key as its admin sees it: never the key itself.
#[derive(SimpleObject)]
pub struct ApiKey {
    pub prefix: String,
    pub role: Role,
    /// The organization a PROVIDER key acts for (its id).
    pub organization_id: Option<ID>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    fn from_row(row: api_key::Model) -> Option<Self> {
        Some(Self {
            role: codes::Role::from_code(&row.role)?.into(),
            organization_id: row.organization_id.map(ID),
            prefix: row.prefix,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        })
    }
}

#[derive(Default)]
pub struct KeysQuery;

#[Object]
impl KeysQuery {
    /// The caller's authority's keys, newest first. Admins only.
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        let caller = caller(ctx)?;
        caller.require_admin()?;
        let rows = api_key::Entity::find()
            .filter(api_key::Column::AuthorityId.eq(caller.authority_id))
            .order_by_desc(api_key::Column::CreatedAt)
            .order_by_desc(api_key::Column::Id)
            .all(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().filter_map(ApiKey::from_row).collect())
    }
}

/// A key just made. `key` is shown this once and never stored.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    pub key: String,
    pub api_key: ApiKey,
}

#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    pub api_key: ApiKey,
}

#[derive(Default)]
pub struct KeysMutation;

#[Object]
impl KeysMutation {
    /// A new key for the caller's authority. Admins only. A PROVIDER key names the
    /// organization (one of the authority's) it acts for; no other role does.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        role: Role,
        organization_id: Option<ID>,
    ) -> Result<CreateApiKeyPayload> {
        let caller = caller(ctx)?;
        caller.require_admin()?;
        let actor = format!("key:{}", caller.key_prefix);
        let made = auth::create_key(
            db(ctx)?,
            &caller.authority_slug,
            role.into(),
            organization_id.as_ref().map(|id| id.as_str()),
            &actor,
        )
        .await
        .map_err(|e| match e {
            AppError::BadUserInput { field, message } if field == "organization" => {
                AppError::bad_input("organizationId", message)
            }
            other => other,
        })?;
        let api_key = ApiKey::from_row(made.row)
            .ok_or_else(|| AppError::internal("a key was stored with an unknown role"))?;
        Ok(CreateApiKeyPayload {
            key: made.token,
            api_key,
        })
    }

    /// Revoke one of the caller's authority's keys by its prefix. Admins only.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        prefix: String,
    ) -> Result<RevokeApiKeyPayload> {
        let caller = caller(ctx)?;
        caller.require_admin()?;
        let actor = format!("key:{}", caller.key_prefix);
        let row = auth::revoke_key(db(ctx)?, &prefix, Some(caller.authority_id), &actor).await?;
        let api_key = ApiKey::from_row(row)
            .ok_or_else(|| AppError::internal("a key was stored with an unknown role"))?;
        Ok(RevokeApiKeyPayload { api_key })
    }
}
