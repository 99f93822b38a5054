//! Taxonomy terms: categories, circumstances and needs, in several vocabularies.

use async_graphql::{Context, ID, Object, Result};
use entity::{taxonomy, taxonomy_term};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

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
    /// The narrower terms, in code order.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<TaxonomyTerm>> {
        let rows = taxonomy_term::Entity::find()
            .filter(taxonomy_term::Column::ParentId.eq(self.0.id.as_str()))
            .order_by_asc(taxonomy_term::Column::Code)
            .all(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(TaxonomyTerm).collect())
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
        let rows = taxonomy_term::Entity::find()
            .filter(taxonomy_term::Column::Vocabulary.eq(self.name.as_str()))
            .filter(taxonomy_term::Column::ParentId.is_null())
            .order_by_asc(taxonomy_term::Column::Code)
            .all(db(ctx)?)
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(TaxonomyTerm).collect())
    }
}

#[derive(Default)]
pub struct TaxonomyQuery;

#[Object]
impl TaxonomyQuery {
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
