//! One change of a capacity, kept for history and analysis.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "capacity_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub capacity_id: String,
    pub service_id: String,
    pub status: String,
    pub available: Option<i32>,
    pub maximum: Option<i32>,
    pub waitlist_length: Option<i32>,
    pub typical_wait_days: Option<i32>,
    pub expires_at: Option<DateTimeUtc>,
    pub actor: Option<String>,
    /// import or api.
    pub source: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
