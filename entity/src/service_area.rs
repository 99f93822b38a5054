//! HSDS service_area: a polygon (GeoJSON, WGS84) or a named area a service covers.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "service_area")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    /// GeoJSON geometry text (Polygon or MultiPolygon) when extent_type is geojson.
    pub extent: Option<String>,
    pub extent_type: Option<String>,
    /// Code of an `area` this service area refers to.
    pub area_code: Option<String>,
    pub uri: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
