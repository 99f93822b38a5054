//! HSDS schedule: weekly opening of a service (or a service at a location).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "schedule")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service_id: Option<String>,
    pub location_id: Option<String>,
    pub service_at_location_id: Option<String>,
    /// RRULE frequency: WEEKLY or MONTHLY.
    pub freq: Option<String>,
    /// RRULE days, e.g. "MO,WE".
    pub byday: Option<String>,
    /// "HH:MM:SS", local time.
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub description: Option<String>,
    pub notes: Option<String>,
    pub attending_type: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
