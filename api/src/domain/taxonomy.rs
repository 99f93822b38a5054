//! Taxonomy terms: codes clients send, expanded to the term and all its descendants,
//! so asking for "social-activities" also finds "walking-groups" beneath it.

use std::collections::{HashMap, HashSet};

use entity::taxonomy_term;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};

use crate::error::{AppError, AppResult};

/// Term ids for the given codes and every descendant. Unknown codes are a
/// BAD_USER_INPUT naming `field` and the codes.
pub async fn expand_codes(
    db: &impl ConnectionTrait,
    codes: &[String],
    field: &str,
) -> AppResult<Vec<String>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let terms: Vec<(String, String, Option<String>)> = taxonomy_term::Entity::find()
        .select_only()
        .columns([
            taxonomy_term::Column::Id,
            taxonomy_term::Column::Code,
            taxonomy_term::Column::ParentId,
        ])
        .into_tuple()
        .all(db)
        .await?;
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, _, parent) in &terms {
        if let Some(parent) = parent {
            children
                .entry(parent.as_str())
                .or_default()
                .push(id.as_str());
        }
    }
    let mut found = HashSet::new();
    let mut unknown = Vec::new();
    for code in codes {
        let roots: Vec<&str> = terms
            .iter()
            .filter(|(_, c, _)| c.eq_ignore_ascii_case(code.trim()))
            .map(|(id, _, _)| id.as_str())
            .collect();
        if roots.is_empty() {
            unknown.push(code.clone());
        }
        let mut stack = roots;
        while let Some(id) = stack.pop() {
            if found.insert(id.to_string()) {
                stack.extend(children.get(id).into_iter().flatten());
            }
        }
    }
    if !unknown.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("unknown taxonomy term: {}", unknown.join(", ")),
        ));
    }
    let mut ids: Vec<String> = found.into_iter().collect();
    ids.sort();
    Ok(ids)
}
