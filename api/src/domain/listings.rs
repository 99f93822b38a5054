//! Read queries over listings: one service, filtered pages of services, organizations.
//! Paging is keyset on the primary key, so a cursor stays valid as rows change.

use entity::{organization, service, service_taxonomy};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};

use super::codes::ServiceStatus;
use super::paging::Page;
use super::taxonomy;
use crate::error::AppResult;

/// What `services(filter:)` narrows by.
#[derive(Clone, Debug, Default)]
pub struct ServiceFilter {
    pub taxonomy_terms: Vec<String>,
    pub text: Option<String>,
    pub status: Option<ServiceStatus>,
    pub organization_id: Option<String>,
}

/// A page of rows plus whether more follow.
pub struct PageOf<T> {
    pub rows: Vec<T>,
    pub has_next: bool,
}

fn split_page<T>(mut rows: Vec<T>, first: usize) -> PageOf<T> {
    let has_next = rows.len() > first;
    rows.truncate(first);
    PageOf { rows, has_next }
}

/// Escape LIKE wildcards so user text matches literally.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn text_matches(column: service::Column, pattern: &str) -> Expr {
    Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern).escape('\\'))
}

pub async fn find_service(
    db: &impl ConnectionTrait,
    id: &str,
) -> AppResult<Option<service::Model>> {
    Ok(service::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// Services that are not retired, filtered and paged by id.
pub async fn list_services(
    db: &impl ConnectionTrait,
    filter: &ServiceFilter,
    page: &Page,
) -> AppResult<PageOf<service::Model>> {
    let mut query = service::Entity::find().filter(service::Column::RetiredAt.is_null());
    if let Some(status) = filter.status {
        query = query.filter(service::Column::Status.eq(status.code()));
    }
    if let Some(org) = &filter.organization_id {
        query = query.filter(service::Column::OrganizationId.eq(org.as_str()));
    }
    if !filter.taxonomy_terms.is_empty() {
        let term_ids =
            taxonomy::expand_codes(db, &filter.taxonomy_terms, "filter.taxonomyTerms").await?;
        let services = service_taxonomy::Entity::find()
            .select_only()
            .column(service_taxonomy::Column::ServiceId)
            .filter(service_taxonomy::Column::TaxonomyTermId.is_in(term_ids))
            .into_query();
        query = query.filter(service::Column::Id.in_subquery(services));
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let pattern = like_pattern(text);
        query = query.filter(
            Condition::any()
                .add(text_matches(service::Column::Name, &pattern))
                .add(text_matches(service::Column::Description, &pattern)),
        );
    }
    if let Some(after) = &page.after {
        query = query.filter(service::Column::Id.gt(after.as_str()));
    }
    let rows = query
        .order_by_asc(service::Column::Id)
        .limit(page.first as u64 + 1)
        .all(db)
        .await?;
    Ok(split_page(rows, page.first))
}

pub async fn find_organization(
    db: &impl ConnectionTrait,
    id: &str,
) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find_by_id(id.to_string())
        .one(db)
        .await?)
}

pub async fn list_organizations(
    db: &impl ConnectionTrait,
    page: &Page,
) -> AppResult<PageOf<organization::Model>> {
    let mut query = organization::Entity::find();
    if let Some(after) = &page.after {
        query = query.filter(organization::Column::Id.gt(after.as_str()));
    }
    let rows = query
        .order_by_asc(organization::Column::Id)
        .limit(page.first as u64 + 1)
        .all(db)
        .await?;
    Ok(split_page(rows, page.first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_user_text_match_literally() {
        assert_eq!(like_pattern(" 50%_Off "), "%50\\%\\_off%");
    }
}
