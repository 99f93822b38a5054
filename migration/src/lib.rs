//! Portable SeaORM migrations: the same schema on SQLite and PostgreSQL.
//! Migrations create structure, plus the one piece of reference data the API needs
//! to take its first listing and to speak in words: the starter vocabularies. They never seed listings.

pub use sea_orm_migration::prelude::*;

/// The starter vocabulary's name (`signpost-categories`).
pub use m20261130_000003_starter_vocabulary::{
    TERMS as STARTER_TERMS, VOCABULARY as STARTER_VOCABULARY,
};
/// The needs vocabulary's name (`need`).
pub use m20261130_000004_needs::NEEDS as NEEDS_VOCABULARY;
/// Every starter term id begins so.
pub use m20261130_000005_eligibility_vocabularies::STARTER_ID_PREFIX;

mod m20261125_000001_initial;
mod m20261126_000001_outdated_report;
mod m20261126_000002_area_population_by_age;
mod m20261126_000003_index_snapshot;
mod m20261130_000001_key_organization;
mod m20261130_000002_referral;
mod m20261130_000003_starter_vocabulary;
mod m20261130_000004_needs;
mod m20261130_000005_eligibility_vocabularies;
mod m20261201_000001_feeds;
mod m20261201_000002_duplicates;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_initial::Migration),
            Box::new(m20261126_000001_outdated_report::Migration),
            Box::new(m20261126_000002_area_population_by_age::Migration),
            Box::new(m20261126_000003_index_snapshot::Migration),
            Box::new(m20261130_000001_key_organization::Migration),
            Box::new(m20261130_000002_referral::Migration),
            Box::new(m20261130_000003_starter_vocabulary::Migration),
            Box::new(m20261130_000004_needs::Migration),
            Box::new(m20261130_000005_eligibility_vocabularies::Migration),
            Box::new(m20261201_000001_feeds::Migration),
            Box::new(m20261201_000002_duplicates::Migration),
        ]
    }
}
