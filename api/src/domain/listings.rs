//! Read queries over listings: one service, filtered pages of services, organizations.
//! Paging is keyset on the primary key, so a cursor stays valid as rows change.

use chrono::{DateTime, Utc};
use entity::{organization, schedule, service, service_taxonomy, taxonomy_term};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};

use super::codes::{DayOfWeek, ServiceStatus};
use super::paging::Page;
use super::taxonomy;
use crate::error::AppResult;

/// What a list of services narrows by: `services(filter:)` in GraphQL and the
/// Open Referral UK `/services` parameters both come down to this.
#[derive(Clone, Debug, Default)]
pub struct ServiceFilter {
    /// Term codes or ids; each matches its descendants too.
    pub taxonomy_terms: Vec<String>,
    /// Only services with a term of this taxonomy.
    pub taxonomy_id: Option<String>,
    pub text: Option<String>,
    pub status: Option<ServiceStatus>,
    pub organization_id: Option<String>,
    /// Changed after this moment; retired services are included (reading inactive),
    /// so another directory can pull what changed.
    pub modified_after: Option<DateTime<Utc>>,
    /// `minimum_age` at least this.
    pub minimum_age_from: Option<f64>,
    /// `maximum_age` at most this.
    pub maximum_age_to: Option<f64>,
    /// Open on this day, from at least / until at most these times ("HH:MM:SS").
    pub day: Option<DayOfWeek>,
    pub opens_from: Option<String>,
    pub closes_by: Option<String>,
    /// Only these services (a place filter found them).
    pub ids: Option<Vec<String>>,
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

/// The services a filter selects, unordered. Unknown taxonomy terms are a
/// BAD_USER_INPUT naming `terms_field`.
pub async fn select_services(
    db: &impl ConnectionTrait,
    filter: &ServiceFilter,
    terms_field: &str,
) -> AppResult<Select<service::Entity>> {
    let mut query = service::Entity::find();
    if filter.modified_after.is_none() {
        query = query.filter(service::Column::RetiredAt.is_null());
    }
    if let Some(after) = filter.modified_after {
        query = query.filter(service::Column::UpdatedAt.gt(after));
    }
    if let Some(status) = filter.status {
        query = query.filter(service::Column::Status.eq(status.code()));
    }
    if let Some(org) = &filter.organization_id {
        query = query.filter(service::Column::OrganizationId.eq(org.as_str()));
    }
    if let Some(ids) = &filter.ids {
        query = query.filter(service::Column::Id.is_in(ids.iter().cloned()));
    }
    if let Some(age) = filter.minimum_age_from {
        query = query.filter(service::Column::MinimumAge.gte(age));
    }
    if let Some(age) = filter.maximum_age_to {
        query = query.filter(service::Column::MaximumAge.lte(age));
    }
    if !filter.taxonomy_terms.is_empty() {
        let term_ids = taxonomy::expand_codes(db, &filter.taxonomy_terms, terms_field).await?;
        query = query.filter(service::Column::Id.in_subquery(with_terms(
            service_taxonomy::Column::TaxonomyTermId.is_in(term_ids),
        )));
    }
    if let Some(taxonomy_id) = &filter.taxonomy_id {
        let terms = taxonomy_term::Entity::find()
            .select_only()
            .column(taxonomy_term::Column::Id)
            .filter(taxonomy_term::Column::TaxonomyId.eq(taxonomy_id.as_str()))
            .into_query();
        query = query.filter(service::Column::Id.in_subquery(with_terms(
            service_taxonomy::Column::TaxonomyTermId.in_subquery(terms),
        )));
    }
    if filter.day.is_some() || filter.opens_from.is_some() || filter.closes_by.is_some() {
        let mut open = schedule::Entity::find()
            .select_only()
            .column(schedule::Column::ServiceId)
            .filter(schedule::Column::ServiceId.is_not_null());
        if let Some(day) = filter.day {
            open = open.filter(schedule::Column::Byday.like(format!("%{}%", day.code())));
        }
        if let Some(from) = &filter.opens_from {
            open = open.filter(schedule::Column::OpensAt.gte(from.as_str()));
        }
        if let Some(by) = &filter.closes_by {
            open = open.filter(schedule::Column::ClosesAt.lte(by.as_str()));
        }
        query = query.filter(service::Column::Id.in_subquery(open.into_query()));
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let pattern = like_pattern(text);
        query = query.filter(
            Condition::any()
                .add(text_matches(service::Column::Name, &pattern))
                .add(text_matches(service::Column::Description, &pattern)),
        );
    }
    Ok(query)
}

/// Ids of services whose term links meet `condition`.
fn with_terms(
    condition: impl sea_orm::sea_query::IntoCondition,
) -> sea_orm::sea_query::SelectStatement {
    service_taxonomy::Entity::find()
        .select_only()
        .column(service_taxonomy::Column::ServiceId)
        .filter(condition)
        .into_query()
}

/// Services a filter selects, paged by id (keyset).
pub async fn list_services(
    db: &impl ConnectionTrait,
    filter: &ServiceFilter,
    page: &Page,
) -> AppResult<PageOf<service::Model>> {
    let mut query = select_services(db, filter, "filter.taxonomyTerms").await?;
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
