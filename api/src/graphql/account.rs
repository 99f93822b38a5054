//! `me`: who the caller's key says they are.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::client;
use super::enums::Role;

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
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The caller; null without a key.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<Me>> {
        Ok(client(ctx)?.caller.as_ref().map(|c| Me {
            authority: Authority {
                slug: c.authority_slug.clone(),
                name: c.authority_name.clone(),
            },
            role: c.role.into(),
            key_prefix: c.key_prefix.clone(),
        }))
    }
}
