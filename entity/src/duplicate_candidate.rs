//! Two services from different sources that may be one: proposed with a score and
//! its signals, until an editor keeps one (resolved) or says they differ (dismissed).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "duplicate_candidate")]
pub struct Model {
    /// A UUID made from the pair, so a pair is one candidate however often found.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The pair's ids in order (first < second).
    pub first_service_id: String,
    pub second_service_id: String,
    /// 0–1: how likely the two are one service.
    pub score: f64,
    /// JSON array of `{ "signal", "weight", "detail" }`.
    pub signals: Json,
    /// open, resolved or dismissed.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
