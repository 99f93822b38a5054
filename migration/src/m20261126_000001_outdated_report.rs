//! Reports from the public that a listing is out of date; they feed the owning
//! authority's review queue until a human verifies the listing.

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
            .create_table(
                Table::create()
                    .table(id("outdated_report"))
                    .col(big_pk_auto(id("id")))
                    .col(string(id("service_id")))
                    .col(text(id("message")))
                    .col(string_null(id("request_id")))
                    .col(timestamp_with_time_zone(id("created_at")))
                    .col(timestamp_with_time_zone_null(id("resolved_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outdated_report_service_id")
                            .from(id("outdated_report"), id("service_id"))
                            .to(id("service"), id("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outdated_report_service_id_resolved_at")
                    .table(id("outdated_report"))
                    .col(id("service_id"))
                    .col(id("resolved_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(id("outdated_report")).to_owned())
            .await
    }
}
