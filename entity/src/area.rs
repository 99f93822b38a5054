//! A statistical or administrative area (LSOA, ward, local authority ...) with its boundary.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "area")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub area_type: String,
    pub parent_code: Option<String>,
    /// GeoJSON geometry text (Polygon or MultiPolygon, WGS84).
    pub geometry: String,
    pub population: Option<i64>,
    /// Persons by single year of age: 91 counts, ages 0..89 then 90 and over.
    pub population_by_age: Option<Json>,
    pub centroid_latitude: f64,
    pub centroid_longitude: f64,
    pub min_latitude: f64,
    pub min_longitude: f64,
    pub max_latitude: f64,
    pub max_longitude: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
