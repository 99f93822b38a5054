//! The loaded areas that hold the referred person's postcode (codes only, never the
//! postcode), so referral flow is counted per area.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_area")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub referral_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub area_code: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
