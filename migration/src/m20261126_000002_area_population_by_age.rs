//! Population by single year of age (0..89 and 90+) for each area, so gap figures
//! can be per 1,000 people of the age band a question is about.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("area"))
                    .add_column(json_null(Alias::new("population_by_age")))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("area"))
                    .drop_column(Alias::new("population_by_age"))
                    .to_owned(),
            )
            .await
    }
}
