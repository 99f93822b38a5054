//! Referrals: a link-worker team refers a person to a service, the group answers.
//! What identifies the person (name, contact, circumstances, the reason, the fit
//! judged on them, free-text notes) is only ever stored sealed (`sealed`,
//! `note_sealed`: AEAD ciphertext) and erased after the referral closes; statuses,
//! times and the areas of the person's postcode stay for counts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id(name: &str) -> Alias {
    Alias::new(name)
}

fn index(name: &str, table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(id(table));
    for column in columns {
        index.col(id(column));
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(id("referral"))
                    .col(string(id("id")).primary_key())
                    .col(string(id("service_id")))
                    .col(integer(id("referrer_authority_id")))
                    .col(string(id("referrer_key_prefix")))
                    .col(integer(id("provider_authority_id")))
                    .col(string(id("organization_id")))
                    .col(string(id("status")))
                    .col(string_null(id("decline_reason")))
                    .col(string(id("urgency")))
                    .col(blob_null(id("sealed")))
                    .col(timestamp_with_time_zone(id("created_at")))
                    .col(timestamp_with_time_zone(id("updated_at")))
                    .col(timestamp_with_time_zone_null(id("answered_at")))
                    .col(timestamp_with_time_zone_null(id("closed_at")))
                    .col(timestamp_with_time_zone_null(id("erased_at")))
                    .col(integer(id("version")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_referral_service_id")
                            .from(id("referral"), id("service_id"))
                            .to(id("service"), id("id")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_referral_referrer_authority_id")
                            .from(id("referral"), id("referrer_authority_id"))
                            .to(id("authority"), id("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("referral_event"))
                    .col(big_pk_auto(id("id")))
                    .col(string(id("referral_id")))
                    .col(string(id("status")))
                    .col(string_null(id("reason")))
                    .col(blob_null(id("note_sealed")))
                    .col(timestamp_with_time_zone(id("at")))
                    .col(string(id("by")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_referral_event_referral_id")
                            .from(id("referral_event"), id("referral_id"))
                            .to(id("referral"), id("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(id("referral_area"))
                    .col(string(id("referral_id")))
                    .col(string(id("area_code")))
                    .primary_key(Index::create().col(id("referral_id")).col(id("area_code")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_referral_area_referral_id")
                            .from(id("referral_area"), id("referral_id"))
                            .to(id("referral"), id("id")),
                    )
                    .to_owned(),
            )
            .await?;
        for statement in [
            index(
                "ix_referral_referrer",
                "referral",
                &["referrer_authority_id", "created_at"],
            ),
            index(
                "ix_referral_provider",
                "referral",
                &["provider_authority_id", "created_at"],
            ),
            index(
                "ix_referral_service",
                "referral",
                &["service_id", "answered_at"],
            ),
            index("ix_referral_closed", "referral", &["closed_at"]),
            index(
                "ix_referral_event_referral",
                "referral_event",
                &["referral_id"],
            ),
            index("ix_referral_area_code", "referral_area", &["area_code"]),
        ] {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["referral_area", "referral_event", "referral"] {
            manager
                .drop_table(Table::drop().table(id(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
