//! Create and change organizations, the bodies that run services.

use chrono::Utc;
use entity::organization;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::json;

use super::draft::{Field, apply_text, short};
use super::{Audit, Editor};
use crate::domain::validate::{self, Fields};
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug, Default)]
pub struct OrganizationDraft {
    pub name: Option<String>,
    pub alternate_name: Field<String>,
    pub description: Field<String>,
    pub email: Field<String>,
    pub website: Field<String>,
    pub phone: Field<String>,
    /// Register numbers, replacing those held; `None` leaves them.
    pub identifiers: Option<Vec<IdentifierDraft>>,
}

/// A charity, company or other register's number: `scheme` (an org-id.guide code
/// such as GB-CHC) or `kind` (its name in words), and the number.
#[derive(Clone, Debug, Default)]
pub struct IdentifierDraft {
    pub scheme: Option<String>,
    pub kind: Option<String>,
    pub identifier: String,
}

impl OrganizationDraft {
    fn apply(&self, row: &mut organization::Model, f: Fields) -> AppResult<()> {
        if let Some(name) = &self.name {
            row.name = validate::name(&f.name("name"), name)?;
        }
        apply_text(
            &mut row.alternate_name,
            &self.alternate_name,
            &f.name("alternateName"),
            short,
        )?;
        apply_text(
            &mut row.description,
            &self.description,
            &f.name("description"),
            validate::description,
        )?;
        apply_text(
            &mut row.email,
            &self.email,
            &f.name("email"),
            validate::email,
        )?;
        apply_text(
            &mut row.website,
            &self.website,
            &f.name("website"),
            validate::url,
        )?;
        apply_text(
            &mut row.phone,
            &self.phone,
            &f.name("phone"),
            validate::phone,
        )?;
        if let Some(identifiers) = &self.identifiers {
            row.identifiers = checked_identifiers(identifiers, &f.name("identifiers"))?;
        }
        Ok(())
    }
}

/// Identifiers as stored (`{ scheme, type, identifier }`, as an HSDS import stores
/// them), each checked; none is no value.
fn checked_identifiers(
    items: &[IdentifierDraft],
    path: &str,
) -> AppResult<Option<serde_json::Value>> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| format!("{path}[{i}].{field}");
        let clean = |value: &Option<String>, field: &str| -> AppResult<Option<String>> {
            let checked = value.as_deref().map(|t| short(&at(field), t)).transpose()?;
            Ok(checked.filter(|t| !t.is_empty()))
        };
        let (scheme, kind) = (clean(&item.scheme, "scheme")?, clean(&item.kind, "type")?);
        if scheme.is_none() && kind.is_none() {
            return Err(AppError::bad_input(
                at("type"),
                "required: a scheme or a type",
            ));
        }
        let identifier = validate::name(&at("identifier"), &item.identifier)?;
        out.push(json!({ "scheme": scheme, "type": kind, "identifier": identifier }));
    }
    Ok((!out.is_empty()).then_some(serde_json::Value::Array(out)))
}

pub async fn create(
    db: &DatabaseConnection,
    editor: &Editor<'_>,
    draft: &OrganizationDraft,
) -> AppResult<organization::Model> {
    editor.caller.require_editor()?;
    if draft.name.is_none() {
        return Err(AppError::bad_input(editor.fields.name("name"), "required"));
    }
    let now = Utc::now();
    let mut row = organization::Model {
        id: super::draft::new_id(),
        authority_id: editor.caller.authority_id,
        name: String::new(),
        alternate_name: None,
        description: None,
        email: None,
        website: None,
        phone: None,
        uri: None,
        identifiers: None,
        created_at: now,
        updated_at: now,
    };
    draft.apply(&mut row, editor.fields)?;
    let txn = crate::db::begin_write(db).await?;
    organization::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    editor
        .record(
            &txn,
            Audit {
                entity: "organization",
                entity_id: &row.id,
                action: "create",
                before: None,
                after: Some(json!(row)),
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
    draft: &OrganizationDraft,
) -> AppResult<organization::Model> {
    let txn = crate::db::begin_write(db).await?;
    let stored = crate::domain::owned::organization(&txn, editor.caller, id).await?;
    let mut row = stored.clone();
    draft.apply(&mut row, editor.fields)?;
    let now = Utc::now();
    row.updated_at = now;
    let mut active = row.clone().into_active_model().reset_all();
    active.id = sea_orm::ActiveValue::NotSet;
    active.authority_id = sea_orm::ActiveValue::NotSet;
    active.created_at = sea_orm::ActiveValue::NotSet;
    organization::Entity::update_many()
        .set(active)
        .filter(organization::Column::Id.eq(id))
        .filter(organization::Column::AuthorityId.eq(editor.caller.authority_id))
        .exec(&txn)
        .await?;
    editor
        .record(
            &txn,
            Audit {
                entity: "organization",
                entity_id: id,
                action: "update",
                before: Some(json!(stored)),
                after: Some(json!(row)),
            },
            now,
        )
        .await?;
    txn.commit().await?;
    Ok(row)
}
