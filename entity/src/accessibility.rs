//! HSDS accessibility of a location, with a feature from a small controlled list.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "accessibility")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub location_id: String,
    /// Controlled code (STEP_FREE, WHEELCHAIR_TOILET, HEARING_LOOP, ...), when recognised.
    pub feature: Option<String>,
    pub description: Option<String>,
    pub details: Option<String>,
    pub url: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
