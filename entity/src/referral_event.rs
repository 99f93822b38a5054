//! One move of a referral, committed with it. The note is sealed like the person.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub referral_id: String,
    pub status: String,
    /// A decline's reason code.
    pub reason: Option<String>,
    pub note_sealed: Option<Vec<u8>>,
    pub at: DateTimeUtc,
    /// The key prefix that made the move.
    pub by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
