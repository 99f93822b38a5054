//! Create, change, retire and verify services. Changes carry the version the caller
//! read: the row is updated only where that version still stands, so of concurrent
//! writers from one version exactly one wins and the rest get CONFLICT.

use chrono::Utc;
use entity::{outdated_report, service};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::json;

use super::draft::ServiceDraft;
use super::{Audit, Editor, owned_service, parts};
use crate::domain::codes::{RetireReason, ServiceStatus};
use crate::error::{AppError, AppResult};

/// The organization a service is put under: it must exist and be the caller's.
async fn own_organization(
    db: &impl sea_orm::ConnectionTrait,
    editor: &Editor<'_>,
    id: &str,
) -> AppResult<()> {
    match crate::domain::owned::organization(db, editor.caller, id).await {
        Ok(_) => Ok(()),
        // Here the organization is an input: a missing one is the input's fault.
        Err(AppError::NotFound(message)) => Err(AppError::bad_input(
            editor.fields.name("organizationId"),
            message,
        )),
        Err(other) => Err(other),
    }
}

pub async fn create(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    draft: &ServiceDraft,
) -> AppResult<service::Model> {
    editor.caller.require_editor()?;
    let organization_id = draft
        .organization_id
        .clone()
        .ok_or_else(|| AppError::bad_input(editor.fields.name("organizationId"), "required"))?;
    if draft.name.is_none() {
        return Err(AppError::bad_input(editor.fields.name("name"), "required"));
    }
    let now = Utc::now();
    let mut row = service::Model {
        id: super::draft::new_id(),
        organization_id: organization_id.clone(),
        authority_id: editor.caller.authority_id,
        name: String::new(),
        alternate_name: None,
        description: None,
        url: None,
        email: None,
        phone: None,
        status: ServiceStatus::Active.code().to_string(),
        interpretation_services: None,
        application_process: None,
        fees_description: None,
        accreditations: None,
        alert: None,
        eligibility_description: None,
        minimum_age: None,
        maximum_age: None,
        referral_routes: json!([]),
        delivery_modes: json!([]),
        residency_area_code: None,
        version: 1,
        last_verified_at: None,
        created_at: now,
        updated_at: now,
        retired_at: None,
        import_hash: None,
        feed_id: None,
        source_id: None,
        fetched_at: None,
        retire_reason: None,
        replaced_by: None,
    };
    draft.apply(&mut row, editor.fields)?;
    let parts = draft.parts(&row.id, row.authority_id, editor.fields)?;
    let txn = crate::db::begin_write(db).await?;
    own_organization(&txn, editor, &organization_id).await?;
    service::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    parts::replace(&txn, &row.id, parts, editor.fields).await?;
    let after = parts::snapshot(&txn, &row).await?;
    editor
        .record(
            &txn,
            Audit {
                entity: "service",
                entity_id: &row.id,
                action: "create",
                before: None,
                after: Some(after),
            },
            now,
        )
        .await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn update(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    id: &str,
    expected_version: i32,
    draft: &ServiceDraft,
) -> AppResult<service::Model> {
    let txn = crate::db::begin_write(db).await?;
    let stored = owned_service(&txn, editor, id).await?;
    let conflict = |current_version| AppError::Conflict {
        message: format!(
            "service {id} is at version {current_version}, not {expected_version}: read it again"
        ),
        current_version,
    };
    if stored.version != expected_version {
        return Err(conflict(stored.version));
    }
    if let Some(org) = &draft.organization_id {
        own_organization(&txn, editor, org).await?;
    }
    let mut row = stored.clone();
    draft.apply(&mut row, editor.fields)?;
    if let Some(org) = &draft.organization_id {
        row.organization_id = org.clone();
    }
    let parts = draft.parts(&row.id, row.authority_id, editor.fields)?;
    let before = parts::snapshot(&txn, &stored).await?;
    let now = Utc::now();
    row.version = stored.version + 1;
    row.updated_at = now;
    // Only where the version read still stands: PostgreSQL re-checks this after
    // waiting for a concurrent writer's row lock, so exactly one of them wins.
    let mut changes = row.clone().into_active_model().reset_all();
    changes.id = sea_orm::ActiveValue::Unchanged(row.id.clone());
    let updated = service::Entity::update_many()
        .set(changes)
        .filter(service::Column::Id.eq(id))
        .filter(service::Column::AuthorityId.eq(editor.caller.authority_id))
        .filter(service::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        let current = service::Entity::find_by_id(id.to_string())
            .one(&txn)
            .await?
            .map_or(expected_version + 1, |s| s.version);
        return Err(conflict(current));
    }
    parts::replace(&txn, &row.id, parts, editor.fields).await?;
    let after = parts::snapshot(&txn, &row).await?;
    editor
        .record(
            &txn,
            Audit {
                entity: "service",
                entity_id: id,
                action: "update",
                before: Some(before),
                after: Some(after),
            },
            now,
        )
        .await?;
    txn.commit().await?;
    Ok(row)
}

/// Change the service row alone, bumping its version, with an audit event. The
/// version moves by expression, so concurrent retires or verifies queue up rather
/// than overwrite each other's version.
async fn change_row(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    id: &str,
    action: &str,
    change: impl FnOnce(&mut service::ActiveModel, chrono::DateTime<Utc>),
    also: impl AsyncFnOnce(&sea_orm::DatabaseTransaction, chrono::DateTime<Utc>) -> AppResult<()>,
) -> AppResult<service::Model> {
    let txn = crate::db::begin_write(db).await?;
    let stored = owned_service(&txn, editor, id).await?;
    let now = Utc::now();
    let mut changes = service::ActiveModel {
        updated_at: Set(now),
        ..Default::default()
    };
    change(&mut changes, now);
    service::Entity::update_many()
        .set(changes)
        .col_expr(
            service::Column::Version,
            Expr::col(service::Column::Version).add(1),
        )
        .filter(service::Column::Id.eq(id))
        .filter(service::Column::AuthorityId.eq(editor.caller.authority_id))
        .exec(&txn)
        .await?;
    let row = owned_service(&txn, editor, id).await?;
    also(&txn, now).await?;
    editor
        .record(
            &txn,
            Audit {
                entity: "service",
                entity_id: id,
                action,
                before: Some(json!({ "service": stored })),
                after: Some(json!({ "service": row })),
            },
            now,
        )
        .await?;
    txn.commit().await?;
    Ok(row)
}

/// Retire: kept for history, gone from search and lists; reads as inactive.
pub async fn retire(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    id: &str,
) -> AppResult<service::Model> {
    change_row(
        db,
        editor,
        id,
        "retire",
        |row, now| {
            row.retired_at = Set(Some(now));
            row.status = Set(ServiceStatus::Inactive.code().to_string());
            row.retire_reason = Set(Some(RetireReason::Editor.code().to_string()));
        },
        async |_, _| Ok(()),
    )
    .await
}

/// Settle a duplicate: `id` is retired in favour of `by` (still readable by id, with
/// `replaced_by`), and the pair's candidate, if any, is marked resolved.
pub async fn replace(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    id: &str,
    by: &str,
) -> AppResult<service::Model> {
    let (kept, by) = (by.to_string(), by.to_string());
    let actor = editor.actor();
    change_row(
        db,
        editor,
        id,
        "replace",
        |row, now| {
            row.retired_at = Set(Some(now));
            row.status = Set(ServiceStatus::Inactive.code().to_string());
            row.retire_reason = Set(Some(RetireReason::Replaced.code().to_string()));
            row.replaced_by = Set(Some(kept));
        },
        async move |txn, now| {
            // The kept one must still be live as this commits: two editors settling
            // a pair each their own way at once would otherwise retire both.
            let touched = service::Entity::update_many()
                .col_expr(
                    service::Column::Version,
                    Expr::col(service::Column::Version),
                )
                .filter(service::Column::Id.eq(by.as_str()))
                .filter(service::Column::RetiredAt.is_null())
                .exec(txn)
                .await?;
            if touched.rows_affected == 0 {
                return Err(AppError::bad_input(
                    "keep",
                    format!("service {by} is retired: keep a live one"),
                ));
            }
            crate::domain::duplicates::settle(txn, id, &by, "resolved", &actor, now).await
        },
    )
    .await
}

/// A person confirmed the listing: it is fresh again and open reports are settled.
pub async fn verify(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    id: &str,
) -> AppResult<service::Model> {
    let service_id = id.to_string();
    change_row(
        db,
        editor,
        id,
        "verify",
        |row, now| row.last_verified_at = Set(Some(now)),
        async move |txn, now| {
            outdated_report::Entity::update_many()
                .col_expr(outdated_report::Column::ResolvedAt, Expr::value(now))
                .filter(outdated_report::Column::ServiceId.eq(service_id))
                .filter(outdated_report::Column::ResolvedAt.is_null())
                .exec(txn)
                .await?;
            Ok(())
        },
    )
    .await
}
