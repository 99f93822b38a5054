//! A need (a `need` vocabulary term) and a service type (a category term) that helps
//! with it: the needs-to-services map.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "need_service_type")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub need_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub term_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
