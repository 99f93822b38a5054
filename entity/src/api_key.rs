//! An API key: SHA-256 of a random token, with a short clear prefix to name it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "api_key")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub authority_id: i32,
    #[sea_orm(unique)]
    pub prefix: String,
    /// Hex SHA-256 of the whole token; the token itself is never stored.
    pub key_hash: String,
    /// editor, admin, analyst, referrer or provider.
    pub role: String,
    /// The organization a provider key acts for; None for every other role.
    pub organization_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::authority::Entity",
        from = "Column::AuthorityId",
        to = "super::authority::Column::Id"
    )]
    Authority,
}

impl Related<super::authority::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Authority.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
