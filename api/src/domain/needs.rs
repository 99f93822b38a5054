//! Needs: what a link worker hears ("lonely, caring for her husband"), mapped to the
//! service types that help (`need_service_type`). A search or a gap question by need
//! widens to those types and their descendants; each result says, in words, which
//! need it serves. The map ships with the project and is replaced whole by
//! `signpost import need-map`.

use std::collections::HashMap;

use entity::{need_service_type, taxonomy_term};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::edit::record::FieldError;
use crate::error::AppResult;

pub use migration::NEEDS_VOCABULARY;

/// A need and the service types (term ids) that help with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Need {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub serves: Vec<String>,
}

/// Every need, in code order, with what it maps to.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Need>, DbErr> {
    let terms = taxonomy_term::Entity::find()
        .filter(taxonomy_term::Column::Vocabulary.eq(NEEDS_VOCABULARY))
        .order_by_asc(taxonomy_term::Column::Code)
        .all(db)
        .await?;
    let mut serves: HashMap<String, Vec<String>> = HashMap::new();
    for link in need_service_type::Entity::find()
        .order_by_asc(need_service_type::Column::TermId)
        .all(db)
        .await?
    {
        serves.entry(link.need_id).or_default().push(link.term_id);
    }
    Ok(terms
        .into_iter()
        .map(|t| Need {
            serves: serves.remove(&t.id).unwrap_or_default(),
            id: t.id,
            code: t.code,
            name: t.name,
            description: t.description,
        })
        .collect())
}

/// Replace the whole map with these (need code, service type code) rows, each with
/// its line for errors; all or nothing. Returns how many links it now holds.
pub async fn replace_map(
    db: &DatabaseConnection,
    rows: &[(usize, String, String)],
) -> AppResult<Result<usize, Vec<FieldError>>> {
    if rows.is_empty() {
        return Ok(Err(vec![FieldError {
            path: "file".into(),
            message: "holds no rows: an empty map would leave every need without a service type"
                .into(),
        }]));
    }
    let terms = super::taxonomy::all_terms(db).await?;
    let needs = all(db).await?;
    let mut links: Vec<(String, String)> = Vec::new();
    let mut failed = Vec::new();
    for (line, need, term) in rows {
        let need_id = needs
            .iter()
            .find(|n| n.code.eq_ignore_ascii_case(need.trim()))
            .map(|n| n.id.clone());
        let term_ids: Vec<String> = super::taxonomy::resolve(&terms, term)
            .into_iter()
            .map(|t| t.id.clone())
            .collect();
        match (need_id, term_ids.is_empty()) {
            (None, _) => failed.push(FieldError {
                path: format!("line {line}.need_code"),
                message: format!("'{need}' is not a need (see `needs`)"),
            }),
            (Some(_), true) => failed.push(FieldError {
                path: format!("line {line}.term_code"),
                message: format!("'{term}' is not a loaded service type"),
            }),
            (Some(need_id), false) => {
                for term_id in term_ids {
                    let link = (need_id.clone(), term_id);
                    if !links.contains(&link) {
                        links.push(link);
                    }
                }
            }
        }
    }
    if !failed.is_empty() {
        return Ok(Err(failed));
    }
    let txn = crate::db::begin_write(db).await?;
    need_service_type::Entity::delete_many().exec(&txn).await?;
    let count = links.len();
    for chunk in links.chunks(500) {
        need_service_type::Entity::insert_many(chunk.iter().map(|(need_id, term_id)| {
            need_service_type::ActiveModel {
                need_id: sea_orm::ActiveValue::Set(need_id.clone()),
                term_id: sea_orm::ActiveValue::Set(term_id.clone()),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(Ok(count))
}
