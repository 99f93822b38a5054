//! HSDS cost_option; amounts in pence.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "cost_option")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service_id: String,
    pub option: Option<String>,
    pub amount_pence: Option<i64>,
    pub currency: Option<String>,
    pub amount_description: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// JSON array of circumstance term codes that get this option as a concession.
    pub concessions: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
