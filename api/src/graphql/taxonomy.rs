//! Taxonomy terms: categories, circumstances and needs, in several vocabularies.

use async_graphql::{Context, ID, Object, Result};
use entity::{taxonomy, taxonomy_term};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::loaders::{ChildrenOfTerm, TermById};
use super::{db, load, load_list, load_many};
use crate::error::AppError;

/// The terms matching `filter`, in code order.
async fn terms_where(
    ctx: &Context<'_>,
    filter: sea_orm::sea_query::Condition,
) -> Result<Vec<TaxonomyTerm>> {
    let rows = taxonomy_term::Entity::find()
        .filter(filter)
        .order_by_asc(taxonomy_term::Column::Code)
        .all(db(ctx)?)
        .await
        .map_err(AppError::from)?;
    Ok(rows.into_iter().map(TaxonomyTerm).collect())
}

/// A category, circumstance or need (HSDS `taxonomy_term`).
pub struct TaxonomyTerm(pub taxonomy_term::Model);

#[Object]
impl TaxonomyTerm {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// What `taxonomyTerms` arguments take.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The vocabulary the term belongs to.
    async fn vocabulary(&self) -> &str {
        &self.0.vocabulary
    }
    /// The narrower terms, in code order.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<TaxonomyTerm>> {
        Ok(in_code_order(
            load_list(ctx, ChildrenOfTerm(self.0.id.clone())).await?,
        ))
    }
    /// The broader term, when it is loaded.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<TaxonomyTerm>> {
        let Some(parent) = self.0.parent_id.clone() else {
            return Ok(None);
        };
        Ok(load(ctx, TermById(parent)).await?.map(TaxonomyTerm))
    }
}

/// A vocabulary: the terms that name it as their `vocabulary`, and the HSDS
/// `taxonomy` record describing it when one was loaded.
pub struct Taxonomy {
    name: String,
    record: Option<taxonomy::Model>,
    terms: i64,
}

#[Object]
impl Taxonomy {
    /// What `taxonomyTerms(vocabulary:)` takes.
    async fn name(&self) -> &str {
        &self.name
    }
    async fn description(&self) -> Option<&str> {
        self.record.as_ref().map(|r| r.description.as_str())
    }
    async fn uri(&self) -> Option<&str> {
        self.record.as_ref().and_then(|r| r.uri.as_deref())
    }
    async fn version(&self) -> Option<&str> {
        self.record.as_ref().and_then(|r| r.version.as_deref())
    }
    /// How many terms it holds.
    async fn term_count(&self) -> i64 {
        self.terms
    }
    /// Its broadest terms (those without a parent), in code order; their `children`
    /// go down the tree.
    async fn top_terms(&self, ctx: &Context<'_>) -> Result<Vec<TaxonomyTerm>> {
        let filter = Condition::all()
            .add(taxonomy_term::Column::Vocabulary.eq(self.name.as_str()))
            .add(taxonomy_term::Column::ParentId.is_null());
        terms_where(ctx, filter).await
    }
}

fn in_code_order(mut terms: Vec<taxonomy_term::Model>) -> Vec<TaxonomyTerm> {
    terms.sort_by(|a, b| a.code.cmp(&b.code));
    terms.into_iter().map(TaxonomyTerm).collect()
}

/// Something a person needs, and the service types that help with it.
pub struct Need(crate::domain::needs::Need);

#[Object]
impl Need {
    /// What `PersonInput.needs` and `GapInput.needs` take.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The service types mapped to it (a search by the need also finds their
    /// descendants), in code order.
    async fn service_types(&self, ctx: &Context<'_>) -> Result<Vec<TaxonomyTerm>> {
        let keys = self.0.serves.iter().cloned().map(TermById).collect();
        Ok(in_code_order(load_many(ctx, keys).await?))
    }
}

#[derive(Default)]
pub struct TaxonomyQuery;

#[Object]
impl TaxonomyQuery {
    /// What people need (loneliness, debt, caring …), in code order, each with the
    /// service types that help (`signpost import need-map` replaces the map).
    async fn needs(&self, ctx: &Context<'_>) -> Result<Vec<Need>> {
        let needs = crate::domain::needs::all(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        Ok(needs.into_iter().map(Need).collect())
    }

    /// The vocabularies loaded (the starter `signpost-categories`, imported ones), by name.
    async fn taxonomies(&self, ctx: &Context<'_>) -> Result<Vec<Taxonomy>> {
        let db = db(ctx)?;
        let counts: Vec<(String, i64)> = taxonomy_term::Entity::find()
            .select_only()
            .column(taxonomy_term::Column::Vocabulary)
            .column_as(taxonomy_term::Column::Id.count(), "terms")
            .group_by(taxonomy_term::Column::Vocabulary)
            .order_by_asc(taxonomy_term::Column::Vocabulary)
            .into_tuple()
            .all(db)
            .await
            .map_err(AppError::from)?;
        let records = taxonomy::Entity::find()
            .all(db)
            .await
            .map_err(AppError::from)?;
        Ok(counts
            .into_iter()
            .map(|(name, terms)| Taxonomy {
                record: records
                    .iter()
                    .find(|r| r.id == name || r.name == name)
                    .cloned(),
                name,
                terms,
            })
            .collect())
    }

    /// Terms, in code order; all vocabularies unless one is named.
    async fn taxonomy_terms(
        &self,
        ctx: &Context<'_>,
        vocabulary: Option<String>,
    ) -> Result<Vec<TaxonomyTerm>> {
        let mut filter = Condition::all();
        if let Some(vocabulary) = vocabulary {
            filter = filter.add(taxonomy_term::Column::Vocabulary.eq(vocabulary));
        }
        terms_where(ctx, filter).await
    }
}
