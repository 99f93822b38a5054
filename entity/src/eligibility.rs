//! One eligibility rule of a service beyond age: a gender or a circumstance (a taxonomy term code), either restricted to (hard) or suitable for (soft).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "eligibility")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: String,
    /// GENDER or CIRCUMSTANCE.
    pub criterion: String,
    /// A gender code or a circumstance term code.
    pub value: String,
    /// RESTRICTED_TO excludes everyone else; SUITABLE_FOR only ranks.
    pub rule: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
