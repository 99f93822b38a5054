//! Duplicates across sources: the same group listed by two feeds (or a feed and an
//! authority) is proposed as a candidate pair with its score and the signals that
//! made it; an editor keeps one and the other is replaced (`service.replaced_by`),
//! or dismisses the pair so it is not proposed again. Organizations keep their third
//! party identifiers (charity and company numbers: HSDS `organization_identifiers`),
//! the strongest signal that two listings are one.

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
                    .table(id("service"))
                    .add_column(string_null(id("replaced_by")))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(id("organization"))
                    .add_column(json_null(id("identifiers")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("duplicate_candidate"))
                    .col(string(id("id")).primary_key())
                    .col(string(id("first_service_id")))
                    .col(string(id("second_service_id")))
                    .col(double(id("score")))
                    .col(json(id("signals")))
                    .col(string(id("status")))
                    .col(timestamp_with_time_zone(id("created_at")))
                    .col(timestamp_with_time_zone(id("updated_at")))
                    .col(string_null(id("decided_by")))
                    .col(timestamp_with_time_zone_null(id("decided_at")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_duplicate_candidate_first_service_id")
                            .from(id("duplicate_candidate"), id("first_service_id"))
                            .to(id("service"), id("id")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_duplicate_candidate_second_service_id")
                            .from(id("duplicate_candidate"), id("second_service_id"))
                            .to(id("service"), id("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_duplicate_candidate_status_score")
                    .table(id("duplicate_candidate"))
                    .col(id("status"))
                    .col(id("score"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(id("duplicate_candidate")).to_owned())
            .await?;
        for (table, column) in [("organization", "identifiers"), ("service", "replaced_by")] {
            manager
                .alter_table(
                    Table::alter()
                        .table(id(table))
                        .drop_column(id(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
