//! A provider key acts for one organization (a community group answering its own
//! referrals and updating its own capacity): the key names it. Other roles leave it
//! empty. A plain column: SQLite cannot add a foreign key to an existing table, and
//! the organization is checked when the key is made.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(id("api_key"))
                    .add_column(string_null(id("organization_id")))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(id("api_key"))
                    .drop_column(id("organization_id"))
                    .to_owned(),
            )
            .await
    }
}
