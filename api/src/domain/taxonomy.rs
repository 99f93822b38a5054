//! Taxonomy terms: codes clients send, expanded to the term and all its descendants,
//! so asking for "social-activities" also finds "walking-groups" beneath it. One
//! expansion serves both the listing filters and the search index.

use std::collections::{HashMap, HashSet};

use entity::taxonomy_term;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect};

use crate::domain::eligibility::Names;
use crate::error::{AppError, AppResult};

/// A taxonomy term as expansion needs it.
#[derive(Clone, Debug)]
pub struct Term {
    pub id: String,
    pub code: String,
    pub parent_id: Option<String>,
    pub vocabulary: String,
    /// As people read it ("Befriending"), for reasons in words.
    pub name: String,
}

/// Every term, without names or descriptions.
pub async fn all_terms(db: &impl ConnectionTrait) -> Result<Vec<Term>, DbErr> {
    let rows: Vec<(String, String, Option<String>, String, String)> = taxonomy_term::Entity::find()
        .select_only()
        .columns([
            taxonomy_term::Column::Id,
            taxonomy_term::Column::Code,
            taxonomy_term::Column::ParentId,
            taxonomy_term::Column::Vocabulary,
            taxonomy_term::Column::Name,
        ])
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, code, parent_id, vocabulary, name)| Term {
            id,
            code,
            parent_id,
            vocabulary,
            name,
        })
        .collect())
}

/// Ids of the terms with these codes (any case) or ids, and all their descendants;
/// Err lists what no term has.
pub fn expand(terms: &[Term], codes: &[String]) -> Result<HashSet<String>, Vec<String>> {
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for term in terms {
        if let Some(parent) = &term.parent_id {
            children
                .entry(parent.as_str())
                .or_default()
                .push(term.id.as_str());
        }
    }
    let mut found = HashSet::new();
    let mut unknown = Vec::new();
    for code in codes {
        let mut stack: Vec<&str> = terms
            .iter()
            .filter(|t| t.code.eq_ignore_ascii_case(code.trim()) || t.id == code.trim())
            .map(|t| t.id.as_str())
            .collect();
        if stack.is_empty() {
            unknown.push(code.clone());
        }
        while let Some(id) = stack.pop() {
            if found.insert(id.to_string()) {
                stack.extend(children.get(id).into_iter().flatten());
            }
        }
    }
    if unknown.is_empty() {
        Ok(found)
    } else {
        Err(unknown)
    }
}

/// Vocabularies whose terms describe people, not services.
const NOT_CATEGORIES: &[&str] = &["circumstance", "gender", migration::NEEDS_VOCABULARY];

/// The terms a listing is filed under for a code (any case) or id. A code in several
/// vocabularies names category terms before eligibility ones, and the deployment's
/// own before the starter vocabulary's, which is only a fallback; empty when no term
/// has it.
pub fn resolve<'a>(terms: &'a [Term], code: &str) -> Vec<&'a Term> {
    let code = code.trim();
    if let Some(exact) = terms
        .iter()
        .find(|t| t.id == code && t.vocabulary != migration::NEEDS_VOCABULARY)
    {
        return vec![exact];
    }
    let found: Vec<&Term> = terms
        .iter()
        .filter(|t| {
            t.code.eq_ignore_ascii_case(code) && t.vocabulary != migration::NEEDS_VOCABULARY
        })
        .collect();
    // Eligibility vocabularies (circumstances, genders) share codes with categories
    // ("carers"): they never take a listing's category.
    let categories: Vec<&Term> = found
        .iter()
        .copied()
        .filter(|t| !NOT_CATEGORIES.contains(&t.vocabulary.as_str()))
        .collect();
    let found = if categories.is_empty() {
        found
    } else {
        categories
    };
    let own: Vec<&Term> = found
        .iter()
        .copied()
        .filter(|t| t.vocabulary != migration::STARTER_VOCABULARY)
        .collect();
    if own.is_empty() { found } else { own }
}

/// Names for eligibility codes: from the circumstance and gender vocabularies first
/// (the deployment's own terms before the starter ones), then from any other term
/// with the code (a listing may restrict by a term of its own vocabulary), never
/// from needs.
pub fn eligibility_names(terms: &[Term]) -> Names {
    let rank = |t: &Term| {
        let eligibility = ["circumstance", "gender"].contains(&t.vocabulary.as_str());
        let starter = t.id.starts_with(migration::STARTER_ID_PREFIX);
        (!eligibility, starter)
    };
    let mut named: Vec<&Term> = terms
        .iter()
        .filter(|t| t.vocabulary != migration::NEEDS_VOCABULARY)
        .collect();
    named.sort_by_key(|t| rank(t));
    Names::new(named.into_iter().map(|t| (t.code.clone(), t.name.clone())))
}

/// `expand` over the stored terms; unknown codes are a BAD_USER_INPUT naming `field`.
pub async fn expand_codes(
    db: &impl ConnectionTrait,
    codes: &[String],
    field: &str,
) -> AppResult<Vec<String>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let terms = all_terms(db).await?;
    let found = expand(&terms, codes).map_err(|unknown| {
        AppError::bad_input(
            field,
            format!("unknown taxonomy term: {}", unknown.join(", ")),
        )
    })?;
    let mut ids: Vec<String> = found.into_iter().collect();
    ids.sort();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_names_the_deployments_own_term_before_the_starter_ones() {
        let term = |id: &str, code: &str, vocabulary: &str| Term {
            id: id.into(),
            code: code.into(),
            parent_id: None,
            vocabulary: vocabulary.into(),
            name: code.into(),
        };
        let terms = [
            term("s-walk", "walking-groups", migration::STARTER_VOCABULARY),
            term("s-dance", "dance", migration::STARTER_VOCABULARY),
            term("own-walk", "walking-groups", "council"),
        ];
        let ids = |code: &str| -> Vec<String> {
            resolve(&terms, code).iter().map(|t| t.id.clone()).collect()
        };
        assert_eq!(ids("Walking-Groups"), ["own-walk"]);
        let terms = [
            term("s-carers", "carers", migration::STARTER_VOCABULARY),
            term("c-carers", "carers", "circumstance"),
        ];
        let found: Vec<&str> = resolve(&terms, "carers")
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(
            found,
            ["s-carers"],
            "a circumstance never takes a category's place"
        );
        assert_eq!(
            ids("dance"),
            ["s-dance"],
            "the starter term when it is the only one"
        );
        assert_eq!(ids("s-walk"), ["s-walk"], "an id names its own term");
        assert!(ids("knitting").is_empty());
    }

    #[test]
    fn a_code_expands_to_its_descendants_and_unknown_codes_are_named() {
        let term = |id: &str, code: &str, parent: Option<&str>| Term {
            id: id.into(),
            code: code.into(),
            parent_id: parent.map(Into::into),
            vocabulary: "test".into(),
            name: code.into(),
        };
        let terms = [
            term("1", "social", None),
            term("2", "walking", Some("1")),
            term("3", "nordic", Some("2")),
        ];
        let mut found: Vec<String> = expand(&terms, &["SOCIAL".into()])
            .unwrap_or_default()
            .into_iter()
            .collect();
        found.sort();
        assert_eq!(found, ["1", "2", "3"]);
        assert_eq!(
            expand(&terms, &["walking".into(), "nope".into()]).err(),
            Some(vec!["nope".to_string()])
        );
    }
}
