//! HSDS taxonomy_term: a category, circumstance or need; hierarchical through parent_id.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "taxonomy_term")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The code clients filter by.
    pub code: String,
    pub name: String,
    pub description: String,
    pub parent_id: Option<String>,
    pub taxonomy_id: Option<String>,
    /// Name of the vocabulary (HSDS `taxonomy`).
    pub vocabulary: String,
    pub term_uri: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
