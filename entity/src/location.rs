//! HSDS location: a place services are delivered from.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "location")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub authority_id: i32,
    pub name: Option<String>,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    /// physical, postal or virtual.
    pub location_type: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Normalised postcode of the physical address, when known.
    pub postcode: Option<String>,
    pub transportation: Option<String>,
    pub url: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
