//! Who a listing is for, in words: starter `circumstance` and `gender` vocabularies
//! whose names reasons use ("Only for carers" rather than "only for carer"), and
//! taxonomy records describing them and the `need` vocabulary. Like the starter
//! categories they are inserted once, never over what is there; a deployment's own
//! terms with the same codes take precedence in reasons.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every starter term id begins so (`signpost-categories-…`, `signpost-circumstance-…`).
pub const STARTER_ID_PREFIX: &str = "signpost-";

/// (vocabulary, code, name as a group of people).
const TERMS: &[(&str, &str, &str)] = &[
    ("circumstance", "carer", "Carers"),
    ("circumstance", "young-carer", "Young carers"),
    ("circumstance", "veteran", "Veterans"),
    (
        "circumstance",
        "living-with-dementia",
        "People living with dementia",
    ),
    ("circumstance", "disabled", "Disabled people"),
    (
        "circumstance",
        "learning-disability",
        "People with a learning disability",
    ),
    (
        "circumstance",
        "long-term-condition",
        "People with a long-term health condition",
    ),
    (
        "circumstance",
        "mental-health-condition",
        "People living with a mental health condition",
    ),
    ("circumstance", "bereaved", "Bereaved people"),
    (
        "circumstance",
        "refugee-or-asylum-seeker",
        "Refugees and people seeking asylum",
    ),
    ("circumstance", "unemployed", "People out of work"),
    ("circumstance", "low-income", "People on a low income"),
    ("circumstance", "homeless", "People who are homeless"),
    ("circumstance", "care-leaver", "Care leavers"),
    ("circumstance", "parent", "Parents"),
    ("circumstance", "lgbtq", "LGBTQ+ people"),
    ("gender", "female", "Women"),
    ("gender", "male", "Men"),
    ("gender", "non-binary", "Non-binary people"),
];

/// (taxonomy id, description).
const TAXONOMIES: &[(&str, &str)] = &[
    (
        "circumstance",
        "Circumstances listings are restricted to or aimed at (carers, veterans …); starter terms written by the Signpost project.",
    ),
    (
        "gender",
        "Genders listings are restricted to or aimed at; starter terms written by the Signpost project.",
    ),
    (
        super::m20261130_000004_needs::NEEDS,
        "What a person needs help with (loneliness, debt, caring …), mapped to the service types that help; written by the Signpost project.",
    ),
];

fn id(name: &str) -> Alias {
    Alias::new(name)
}

fn term_id(vocabulary: &str, code: &str) -> String {
    format!("{STARTER_ID_PREFIX}{vocabulary}-{code}")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut taxonomies = Query::insert();
        taxonomies
            .into_table(id("taxonomy"))
            .columns([
                id("id"),
                id("name"),
                id("description"),
                id("uri"),
                id("version"),
            ])
            .on_conflict(OnConflict::column(id("id")).do_nothing().to_owned());
        for (name, description) in TAXONOMIES {
            taxonomies.values_panic([
                (*name).into(),
                (*name).into(),
                (*description).into(),
                Option::<String>::None.into(),
                "1".into(),
            ]);
        }
        manager.exec_stmt(taxonomies.to_owned()).await?;
        let mut terms = Query::insert();
        terms
            .into_table(id("taxonomy_term"))
            .columns([
                id("id"),
                id("code"),
                id("name"),
                id("description"),
                id("taxonomy_id"),
                id("vocabulary"),
            ])
            .on_conflict(OnConflict::column(id("id")).do_nothing().to_owned());
        for (vocabulary, code, name) in TERMS {
            terms.values_panic([
                term_id(vocabulary, code).into(),
                (*code).into(),
                (*name).into(),
                "".into(),
                (*vocabulary).into(),
                (*vocabulary).into(),
            ]);
        }
        manager.exec_stmt(terms.to_owned()).await?;
        // The need terms arrived before their taxonomy record.
        manager
            .exec_stmt(
                Query::update()
                    .table(id("taxonomy_term"))
                    .value(id("taxonomy_id"), super::m20261130_000004_needs::NEEDS)
                    .and_where(Expr::col(id("vocabulary")).eq(super::m20261130_000004_needs::NEEDS))
                    .and_where(Expr::col(id("taxonomy_id")).is_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Only the starter terms; the taxonomy records stay, as other terms may cite them.
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(id("taxonomy_term"))
                    .and_where(
                        Expr::col(id("id")).is_in(TERMS.iter().map(|(v, c, _)| term_id(v, c))),
                    )
                    .to_owned(),
            )
            .await
    }
}
