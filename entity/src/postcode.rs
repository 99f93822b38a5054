//! A live UK postcode with its point and the codes of the areas it lies in.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "postcode")]
pub struct Model {
    /// Normalised: upper case, one space before the inward code ("M32 0JG").
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub latitude: f64,
    pub longitude: f64,
    pub lsoa_code: Option<String>,
    pub msoa_code: Option<String>,
    pub ward_code: Option<String>,
    pub local_authority_code: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
