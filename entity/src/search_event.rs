//! Anonymous demand signal: where (an area, never a point), for what, and how many suitable results.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "search_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub created_at: DateTimeUtc,
    /// Smallest loaded area containing the search point, or a coarse grid cell.
    pub area_code: Option<String>,
    /// JSON array of the taxonomy term codes searched for.
    pub taxonomy_terms: Json,
    pub suitable_results: i32,
    /// JSON array of the need codes searched for, when any.
    pub needs: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
