//! One write, committed in the same transaction as the write itself.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub authority_id: Option<i32>,
    /// Key prefix, or "import" / "cli".
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
