//! The whole data model of DESIGN.md: HSDS tables, capacity history, areas, postcodes,
//! keys, audit and demand signals, with the indexes lookups, paging and search need.
//!
//! Text primary keys are HSDS ids (UUIDs in practice), so imports upsert by id.
//! References to areas (`residency_area_code`, `service_area.area_code`) and to a
//! parent term carry no foreign key: areas and whole vocabularies may be loaded later
//! or not at all, and a listing must not be refused for that.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id(name: &str) -> Alias {
    Alias::new(name)
}

/// A text primary key (HSDS ids).
fn text_pk() -> ColumnDef {
    string(id("id")).primary_key().to_owned()
}

fn fk(
    table: &str,
    column: &str,
    to: &str,
    to_column: &str,
    cascade: bool,
) -> ForeignKeyCreateStatement {
    let mut key = ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(id(table), id(column))
        .to(id(to), id(to_column))
        .to_owned();
    if cascade {
        key.on_delete(ForeignKeyAction::Cascade);
    }
    key
}

fn index(table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create()
        .name(format!("ix_{table}_{}", columns.join("_")))
        .table(id(table))
        .to_owned();
    for column in columns {
        stmt.col(id(column));
    }
    stmt
}

/// Tables in creation order (referenced before referencing).
fn tables() -> Vec<TableCreateStatement> {
    let t = |name: &str| Table::create().table(id(name)).to_owned();
    vec![
        t("authority")
            .col(pk_auto(id("id")))
            .col(string_uniq(id("slug")))
            .col(string(id("name")))
            .col(timestamp_with_time_zone(id("created_at")))
            .to_owned(),
        t("organization")
            .col(text_pk())
            .col(integer(id("authority_id")))
            .col(string(id("name")))
            .col(string_null(id("alternate_name")))
            .col(text_null(id("description")))
            .col(string_null(id("email")))
            .col(string_null(id("website")))
            .col(string_null(id("phone")))
            .col(string_null(id("uri")))
            .col(timestamp_with_time_zone(id("created_at")))
            .col(timestamp_with_time_zone(id("updated_at")))
            .foreign_key(&mut fk(
                "organization",
                "authority_id",
                "authority",
                "id",
                false,
            ))
            .to_owned(),
        t("service")
            .col(text_pk())
            .col(string(id("organization_id")))
            .col(integer(id("authority_id")))
            .col(string(id("name")))
            .col(string_null(id("alternate_name")))
            .col(text_null(id("description")))
            .col(string_null(id("url")))
            .col(string_null(id("email")))
            .col(string_null(id("phone")))
            .col(string(id("status")))
            .col(text_null(id("interpretation_services")))
            .col(text_null(id("application_process")))
            .col(text_null(id("fees_description")))
            .col(text_null(id("accreditations")))
            .col(text_null(id("alert")))
            .col(text_null(id("eligibility_description")))
            .col(double_null(id("minimum_age")))
            .col(double_null(id("maximum_age")))
            .col(json(id("referral_routes")))
            .col(json(id("delivery_modes")))
            .col(string_null(id("residency_area_code")))
            .col(integer(id("version")))
            .col(timestamp_with_time_zone_null(id("last_verified_at")))
            .col(timestamp_with_time_zone(id("created_at")))
            .col(timestamp_with_time_zone(id("updated_at")))
            .col(timestamp_with_time_zone_null(id("retired_at")))
            .col(string_null(id("import_hash")))
            .foreign_key(&mut fk(
                "service",
                "organization_id",
                "organization",
                "id",
                false,
            ))
            .foreign_key(&mut fk("service", "authority_id", "authority", "id", false))
            .to_owned(),
        t("eligibility")
            .col(big_pk_auto(id("id")))
            .col(string(id("service_id")))
            .col(string(id("criterion")))
            .col(string(id("value")))
            .col(string(id("rule")))
            .foreign_key(&mut fk("eligibility", "service_id", "service", "id", true))
            .to_owned(),
        t("location")
            .col(text_pk())
            .col(integer(id("authority_id")))
            .col(string_null(id("name")))
            .col(string_null(id("alternate_name")))
            .col(text_null(id("description")))
            .col(string(id("location_type")))
            .col(double_null(id("latitude")))
            .col(double_null(id("longitude")))
            .col(string_null(id("postcode")))
            .col(text_null(id("transportation")))
            .col(string_null(id("url")))
            .foreign_key(&mut fk(
                "location",
                "authority_id",
                "authority",
                "id",
                false,
            ))
            .to_owned(),
        t("address")
            .col(text_pk())
            .col(string(id("location_id")))
            .col(string_null(id("attention")))
            .col(string(id("address_1")))
            .col(string_null(id("address_2")))
            .col(string(id("city")))
            .col(string_null(id("region")))
            .col(string(id("state_province")))
            .col(string(id("postal_code")))
            .col(string(id("country")))
            .col(string(id("address_type")))
            .foreign_key(&mut fk("address", "location_id", "location", "id", true))
            .to_owned(),
        t("service_at_location")
            .col(text_pk())
            .col(string(id("service_id")))
            .col(string(id("location_id")))
            .col(text_null(id("description")))
            .foreign_key(&mut fk(
                "service_at_location",
                "service_id",
                "service",
                "id",
                true,
            ))
            .foreign_key(&mut fk(
                "service_at_location",
                "location_id",
                "location",
                "id",
                true,
            ))
            .to_owned(),
        t("taxonomy")
            .col(text_pk())
            .col(string(id("name")))
            .col(text(id("description")))
            .col(string_null(id("uri")))
            .col(string_null(id("version")))
            .to_owned(),
        t("taxonomy_term")
            .col(text_pk())
            .col(string(id("code")))
            .col(string(id("name")))
            .col(text(id("description")))
            .col(string_null(id("parent_id")))
            .col(string_null(id("taxonomy_id")))
            .col(string(id("vocabulary")))
            .col(string_null(id("term_uri")))
            .foreign_key(&mut fk(
                "taxonomy_term",
                "taxonomy_id",
                "taxonomy",
                "id",
                false,
            ))
            .to_owned(),
        t("service_taxonomy")
            .col(string(id("service_id")))
            .col(string(id("taxonomy_term_id")))
            .primary_key(
                Index::create()
                    .col(id("service_id"))
                    .col(id("taxonomy_term_id")),
            )
            .foreign_key(&mut fk(
                "service_taxonomy",
                "service_id",
                "service",
                "id",
                true,
            ))
            .foreign_key(&mut fk(
                "service_taxonomy",
                "taxonomy_term_id",
                "taxonomy_term",
                "id",
                true,
            ))
            .to_owned(),
        t("cost_option")
            .col(text_pk())
            .col(string(id("service_id")))
            .col(string_null(id("option")))
            .col(big_integer_null(id("amount_pence")))
            .col(string_null(id("currency")))
            .col(text_null(id("amount_description")))
            .col(date_null(id("valid_from")))
            .col(date_null(id("valid_to")))
            .col(json(id("concessions")))
            .foreign_key(&mut fk("cost_option", "service_id", "service", "id", true))
            .to_owned(),
        t("schedule")
            .col(text_pk())
            .col(string_null(id("service_id")))
            .col(string_null(id("location_id")))
            .col(string_null(id("service_at_location_id")))
            .col(string_null(id("freq")))
            .col(string_null(id("byday")))
            .col(string_null(id("opens_at")))
            .col(string_null(id("closes_at")))
            .col(date_null(id("valid_from")))
            .col(date_null(id("valid_to")))
            .col(text_null(id("description")))
            .col(text_null(id("notes")))
            .col(text_null(id("attending_type")))
            .foreign_key(&mut fk("schedule", "service_id", "service", "id", true))
            .foreign_key(&mut fk("schedule", "location_id", "location", "id", true))
            .foreign_key(&mut fk(
                "schedule",
                "service_at_location_id",
                "service_at_location",
                "id",
                true,
            ))
            .to_owned(),
        t("service_area")
            .col(text_pk())
            .col(string(id("service_id")))
            .col(string_null(id("name")))
            .col(text_null(id("description")))
            .col(text_null(id("extent")))
            .col(string_null(id("extent_type")))
            .col(string_null(id("area_code")))
            .col(string_null(id("uri")))
            .foreign_key(&mut fk("service_area", "service_id", "service", "id", true))
            .to_owned(),
        t("language")
            .col(text_pk())
            .col(string_null(id("service_id")))
            .col(string_null(id("location_id")))
            .col(string_null(id("name")))
            .col(string_null(id("code")))
            .col(text_null(id("note")))
            .foreign_key(&mut fk("language", "service_id", "service", "id", true))
            .foreign_key(&mut fk("language", "location_id", "location", "id", true))
            .to_owned(),
        t("accessibility")
            .col(text_pk())
            .col(string(id("location_id")))
            .col(string_null(id("feature")))
            .col(text_null(id("description")))
            .col(text_null(id("details")))
            .col(string_null(id("url")))
            .foreign_key(&mut fk(
                "accessibility",
                "location_id",
                "location",
                "id",
                true,
            ))
            .to_owned(),
        t("capacity")
            .col(text_pk())
            .col(string(id("service_id")))
            .col(string(id("status")))
            .col(integer_null(id("available")))
            .col(integer_null(id("maximum")))
            .col(string_null(id("unit")))
            .col(integer_null(id("waitlist_length")))
            .col(integer_null(id("typical_wait_days")))
            .col(text_null(id("description")))
            .col(timestamp_with_time_zone(id("updated_at")))
            .col(string_null(id("updated_by")))
            .col(timestamp_with_time_zone_null(id("expires_at")))
            .foreign_key(&mut fk("capacity", "service_id", "service", "id", true))
            .to_owned(),
        t("capacity_event")
            .col(big_pk_auto(id("id")))
            .col(string(id("capacity_id")))
            .col(string(id("service_id")))
            .col(string(id("status")))
            .col(integer_null(id("available")))
            .col(integer_null(id("maximum")))
            .col(integer_null(id("waitlist_length")))
            .col(integer_null(id("typical_wait_days")))
            .col(timestamp_with_time_zone_null(id("expires_at")))
            .col(string_null(id("actor")))
            .col(string(id("source")))
            .col(timestamp_with_time_zone(id("recorded_at")))
            .foreign_key(&mut fk(
                "capacity_event",
                "service_id",
                "service",
                "id",
                false,
            ))
            .to_owned(),
        t("area")
            .col(string(id("code")).primary_key())
            .col(string(id("name")))
            .col(string(id("area_type")))
            .col(string_null(id("parent_code")))
            .col(text(id("geometry")))
            .col(big_integer_null(id("population")))
            .col(double(id("centroid_latitude")))
            .col(double(id("centroid_longitude")))
            .col(double(id("min_latitude")))
            .col(double(id("min_longitude")))
            .col(double(id("max_latitude")))
            .col(double(id("max_longitude")))
            .to_owned(),
        t("postcode")
            .col(string(id("code")).primary_key())
            .col(double(id("latitude")))
            .col(double(id("longitude")))
            .col(string_null(id("lsoa_code")))
            .col(string_null(id("msoa_code")))
            .col(string_null(id("ward_code")))
            .col(string_null(id("local_authority_code")))
            .to_owned(),
        t("api_key")
            .col(pk_auto(id("id")))
            .col(integer(id("authority_id")))
            .col(string_uniq(id("prefix")))
            .col(string(id("key_hash")))
            .col(string(id("role")))
            .col(timestamp_with_time_zone(id("created_at")))
            .col(timestamp_with_time_zone_null(id("revoked_at")))
            .foreign_key(&mut fk("api_key", "authority_id", "authority", "id", false))
            .to_owned(),
        t("audit_event")
            .col(big_pk_auto(id("id")))
            .col(integer_null(id("authority_id")))
            .col(string(id("actor")))
            .col(string(id("entity")))
            .col(string(id("entity_id")))
            .col(string(id("action")))
            .col(json_null(id("before")))
            .col(json_null(id("after")))
            .col(string_null(id("request_id")))
            .col(timestamp_with_time_zone(id("created_at")))
            .foreign_key(&mut fk(
                "audit_event",
                "authority_id",
                "authority",
                "id",
                false,
            ))
            .to_owned(),
        t("search_event")
            .col(big_pk_auto(id("id")))
            .col(timestamp_with_time_zone(id("created_at")))
            .col(string_null(id("area_code")))
            .col(json(id("taxonomy_terms")))
            .col(integer(id("suitable_results")))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    [
        ("organization", &["authority_id"][..]),
        ("service", &["organization_id"]),
        ("service", &["authority_id"]),
        ("service", &["status"]),
        ("service", &["updated_at"]),
        ("eligibility", &["service_id"]),
        // Bounding-box pre-filter for "near a point".
        ("location", &["latitude", "longitude"]),
        ("location", &["postcode"]),
        ("address", &["location_id"]),
        ("service_at_location", &["service_id"]),
        ("service_at_location", &["location_id"]),
        ("taxonomy_term", &["code"]),
        ("taxonomy_term", &["parent_id"]),
        ("taxonomy_term", &["vocabulary"]),
        ("service_taxonomy", &["taxonomy_term_id"]),
        ("cost_option", &["service_id"]),
        ("schedule", &["service_id"]),
        ("schedule", &["service_at_location_id"]),
        ("service_area", &["service_id"]),
        ("language", &["service_id"]),
        ("language", &["location_id"]),
        ("accessibility", &["location_id"]),
        ("capacity", &["service_id"]),
        ("capacity_event", &["service_id", "recorded_at"]),
        ("area", &["area_type"]),
        ("area", &["parent_code"]),
        ("postcode", &["lsoa_code"]),
        ("api_key", &["authority_id"]),
        ("audit_event", &["entity", "entity_id"]),
        ("audit_event", &["authority_id", "created_at"]),
        ("search_event", &["area_code"]),
        ("search_event", &["created_at"]),
    ]
    .into_iter()
    .map(|(table, columns)| index(table, columns))
    .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables().into_iter().rev() {
            let name = table.get_table_name().cloned();
            if let Some(name) = name {
                manager
                    .drop_table(Table::drop().table(name).to_owned())
                    .await?;
            }
        }
        Ok(())
    }
}
