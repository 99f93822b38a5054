//! What a saved search index needs to be checked cheaply on start-up: the database's
//! instance id (a snapshot is only reused on the database it was written from), and
//! a covering index to count the services a search can find.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("instance"))
                    .col(string(Alias::new("name")).primary_key())
                    .col(string(Alias::new("value")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_service_status_retired_at")
                    .table(Alias::new("service"))
                    .col(Alias::new("status"))
                    .col(Alias::new("retired_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_service_status_retired_at")
                    .table(Alias::new("service"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("instance")).to_owned())
            .await
    }
}
