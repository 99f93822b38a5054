//! Current capacity of a service (HSDS service_capacity plus status, wait and expiry).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "capacity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service_id: String,
    /// ACCEPTING, WAITLIST, FULL, PAUSED or UNKNOWN as recorded; expiry is applied on read.
    pub status: String,
    pub available: Option<i32>,
    pub maximum: Option<i32>,
    pub unit: Option<String>,
    pub waitlist_length: Option<i32>,
    pub typical_wait_days: Option<i32>,
    pub description: Option<String>,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
