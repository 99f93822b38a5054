//! A partner's Open Referral UK API that an authority pulls, with where its pulls stand.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "feed")]
pub struct Model {
    /// A UUID made from the authority and the URL: the namespace of the ids its
    /// services get, so two feeds' ids never collide.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub authority_id: i32,
    /// The API's base URL (its `/services` is pulled).
    pub url: String,
    pub created_at: DateTimeUtc,
    /// When the last pull ended, well or not.
    pub last_pull_at: Option<DateTimeUtc>,
    /// When the last pull that read every page it asked for began: the next asks
    /// for what changed since.
    pub last_good_pull_at: Option<DateTimeUtc>,
    /// When the last full pull (every service, absent ones retired) began.
    pub last_full_pull_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// A pull that stopped part way: the page to go on from, whether it was full,
    /// when it began and what it asked for changes since.
    pub resume_page: Option<i32>,
    pub resume_full: Option<bool>,
    pub resume_started_at: Option<DateTimeUtc>,
    pub resume_since: Option<DateTimeUtc>,
    /// A pull holds the feed until then (renewed page by page): one at a time,
    /// whichever process or replica runs it.
    pub locked_until: Option<DateTimeUtc>,
    /// The pull holding the lease (a random token): only it renews or ends it.
    pub lease_holder: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
