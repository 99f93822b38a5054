//! Feeds: partners' Open Referral UK APIs an authority pulls (`signpost sync oruk`).
//! A feed remembers its last good pull (the next asks only for what changed since),
//! while a pull is under way the page to resume from, and a lease (`locked_until`,
//! held by one pull's token) so that of several replicas one pulls a feed at a time.
//! A service pulled from a feed keeps its provenance: the feed, the id the publisher
//! gave it, and when its current content was fetched; and a service records why it
//! was retired (`feed`, `editor`, `replaced`), since a feed may bring back only what
//! it retired itself. Plain columns on `service`: SQLite cannot add a foreign key to
//! an existing table, and the writer sets them from the feed it pulls.

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
                    .table(id("feed"))
                    .col(string(id("id")).primary_key())
                    .col(integer(id("authority_id")))
                    .col(string(id("url")))
                    .col(timestamp_with_time_zone(id("created_at")))
                    .col(timestamp_with_time_zone_null(id("last_pull_at")))
                    .col(timestamp_with_time_zone_null(id("last_good_pull_at")))
                    .col(timestamp_with_time_zone_null(id("last_full_pull_at")))
                    .col(text_null(id("last_error")))
                    .col(integer_null(id("resume_page")))
                    .col(boolean_null(id("resume_full")))
                    .col(timestamp_with_time_zone_null(id("resume_started_at")))
                    .col(timestamp_with_time_zone_null(id("resume_since")))
                    .col(timestamp_with_time_zone_null(id("locked_until")))
                    .col(string_null(id("lease_holder")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_feed_authority_id")
                            .from(id("feed"), id("authority_id"))
                            .to(id("authority"), id("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_feed_authority_id_url")
                    .table(id("feed"))
                    .col(id("authority_id"))
                    .col(id("url"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite adds one at a time.
        for column in [
            string_null(id("feed_id")),
            string_null(id("source_id")),
            timestamp_with_time_zone_null(id("fetched_at")),
            string_null(id("retire_reason")),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(id("service"))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_service_feed_id_source_id")
                    .table(id("service"))
                    .col(id("feed_id"))
                    .col(id("source_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_service_feed_id_source_id")
                    .table(id("service"))
                    .to_owned(),
            )
            .await?;
        for column in ["retire_reason", "fetched_at", "source_id", "feed_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(id("service"))
                        .drop_column(id(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(id("feed")).to_owned())
            .await
    }
}
