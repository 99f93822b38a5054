//! Link between a service and the taxonomy terms that categorise it (HSDS attribute).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "service_taxonomy")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub taxonomy_term_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
