//! Taxonomy terms: categories, circumstances and needs, in several vocabularies.

use async_graphql::{Context, ID, Object, Result};
use entity::taxonomy_term;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::loaders::TermById;
use super::{db, load};
use crate::error::AppError;

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
    /// The broader term, when it is loaded.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<TaxonomyTerm>> {
        let Some(parent) = self.0.parent_id.clone() else {
            return Ok(None);
        };
        Ok(load(ctx, TermById(parent)).await?.map(TaxonomyTerm))
    }
}

#[derive(Default)]
pub struct TaxonomyQuery;

#[Object]
impl TaxonomyQuery {
    /// Terms, in code order; all vocabularies unless one is named.
    async fn taxonomy_terms(
        &self,
        ctx: &Context<'_>,
        vocabulary: Option<String>,
    ) -> Result<Vec<TaxonomyTerm>> {
        let mut query = taxonomy_term::Entity::find();
        if let Some(vocabulary) = vocabulary {
            query = query.filter(taxonomy_term::Column::Vocabulary.eq(vocabulary));
        }
        let rows = query
            .order_by_asc(taxonomy_term::Column::Code)
            .all(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(TaxonomyTerm).collect())
    }
}
