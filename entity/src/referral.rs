//! A referral of a person to a service. The person, the reason, the fit and any
//! note are only here sealed (`sealed`: AEAD ciphertext, erased after closing).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referral")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service_id: String,
    /// The link-worker team that made it.
    pub referrer_authority_id: i32,
    pub referrer_key_prefix: String,
    /// The authority that owns the service, and the organization that runs it.
    pub provider_authority_id: i32,
    pub organization_id: String,
    /// A FHIR Task status code.
    pub status: String,
    pub decline_reason: Option<String>,
    pub urgency: String,
    /// Nonce and ciphertext of the person, reason and fit; null once erased.
    pub sealed: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the group accepted or declined.
    pub answered_at: Option<DateTimeUtc>,
    /// When it stopped being open: the retention clock starts here.
    pub closed_at: Option<DateTimeUtc>,
    pub erased_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
