//! HSDS service with its eligibility fields, freshness and optimistic-lock version.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "service")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organization_id: String,
    pub authority_id: i32,
    pub name: String,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// HSDS status: active, inactive, defunct, temporarily closed.
    pub status: String,
    pub interpretation_services: Option<String>,
    pub application_process: Option<String>,
    pub fees_description: Option<String>,
    pub accreditations: Option<String>,
    pub alert: Option<String>,
    pub eligibility_description: Option<String>,
    /// Decimal years; a hard rule (restricted to).
    pub minimum_age: Option<f64>,
    pub maximum_age: Option<f64>,
    /// JSON array of referral route codes (SELF, LINK_WORKER, GP, PROFESSIONAL, DROP_IN).
    pub referral_routes: Json,
    /// JSON array of delivery mode codes (IN_PERSON, ONLINE, TELEPHONE, HOME_VISIT).
    pub delivery_modes: Json,
    /// Code of the `area` a person must live in, when the service is restricted by residence.
    pub residency_area_code: Option<String>,
    pub version: i32,
    pub last_verified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
    /// SHA-256 of the HSDS record last imported, so an unchanged re-import writes nothing.
    pub import_hash: Option<String>,
    /// The feed the service was pulled from (`feed.id`), the id its publisher gave
    /// it, and when its current content was fetched; empty for listings made here.
    pub feed_id: Option<String>,
    pub source_id: Option<String>,
    pub fetched_at: Option<DateTimeUtc>,
    /// Why it was retired: `feed` (its feed marked it inactive or stopped listing
    /// it; listed again, it comes back), `editor` or `replaced` (both stay).
    pub retire_reason: Option<String>,
    /// The service kept in its place when an editor settled the two as duplicates:
    /// this one is retired, still readable by id.
    pub replaced_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
