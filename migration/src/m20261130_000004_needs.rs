//! Needs: what a link worker hears ("lonely, caring for her husband"), as the `need`
//! vocabulary, and a map from each need to the service types that help with it
//! (`need_service_type`), as Open Referral UK advises (the LGA's esd lists do the
//! same). A starter set of both ships with the project, like the starter categories:
//! inserted once, never over what is there; `signpost import need-map` replaces the
//! map. Search events also keep the needs asked for (codes only).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The needs vocabulary's name, and its terms' id prefix.
pub const NEEDS: &str = "need";

/// (code, name, description).
const TERMS: &[(&str, &str, &str)] = &[
    (
        "loneliness",
        "Loneliness",
        "Feeling alone or cut off from other people.",
    ),
    ("low-mood", "Low mood", "Feeling down, flat or hopeless."),
    (
        "anxiety",
        "Anxiety",
        "Worry, stress or panic that gets in the way.",
    ),
    ("debt", "Debt", "Money owed, bills that cannot be paid."),
    (
        "caring",
        "Caring",
        "Looking after someone who is ill, disabled or frail.",
    ),
    (
        "physical-inactivity",
        "Physical inactivity",
        "Moving less than is good for health.",
    ),
    (
        "food-insecurity",
        "Food insecurity",
        "Not enough to eat, or not the right food.",
    ),
    (
        "bereavement",
        "Bereavement",
        "Grief after someone has died.",
    ),
    (
        "housing",
        "Housing",
        "A home that is unsafe, unaffordable or at risk.",
    ),
    ("work", "Work", "Out of work, or struggling at work."),
    (
        "digital-exclusion",
        "Digital exclusion",
        "Not able to get online or use services online.",
    ),
    (
        "long-term-condition",
        "Long-term condition",
        "Living with a lasting health condition.",
    ),
];

/// (need code, starter category code): the categories that help with each need (a
/// heading stands for every category beneath it).
const MAP: &[(&str, &str)] = &[
    ("loneliness", "befriending"),
    ("loneliness", "lunch-clubs"),
    ("loneliness", "social-groups"),
    ("loneliness", "community-cafes"),
    ("loneliness", "mens-sheds"),
    ("loneliness", "walking-groups"),
    ("low-mood", "peer-support"),
    ("low-mood", "talking-support"),
    ("low-mood", "walking-groups"),
    ("low-mood", "gardening"),
    ("low-mood", "arts-and-creativity"),
    ("anxiety", "talking-support"),
    ("anxiety", "mindfulness"),
    ("anxiety", "peer-support"),
    ("debt", "debt-advice"),
    ("debt", "benefits-advice"),
    ("caring", "carers"),
    ("physical-inactivity", "physical-activity"),
    ("food-insecurity", "food-banks"),
    ("food-insecurity", "community-meals"),
    ("food-insecurity", "cooking-skills"),
    ("bereavement", "bereavement-support"),
    ("bereavement", "befriending"),
    ("housing", "housing-advice"),
    ("work", "employment-support"),
    ("work", "adult-learning"),
    ("work", "volunteering"),
    ("digital-exclusion", "digital-skills"),
    ("long-term-condition", "peer-support"),
    ("long-term-condition", "chair-based-exercise"),
    ("long-term-condition", "exercise-classes"),
];

fn id(name: &str) -> Alias {
    Alias::new(name)
}

fn need_id(code: &str) -> String {
    format!("{NEEDS}-{code}")
}

fn category_id(code: &str) -> String {
    format!(
        "{}-{code}",
        super::m20261130_000003_starter_vocabulary::VOCABULARY
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(id("need_service_type"))
                    .col(string(id("need_id")))
                    .col(string(id("term_id")))
                    .primary_key(Index::create().col(id("need_id")).col(id("term_id")))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_need_service_type_need_id")
                            .from(id("need_service_type"), id("need_id"))
                            .to(id("taxonomy_term"), id("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_need_service_type_term_id")
                            .from(id("need_service_type"), id("term_id"))
                            .to(id("taxonomy_term"), id("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(id("search_event"))
                    .add_column(json_null(id("needs")))
                    .to_owned(),
            )
            .await?;
        let mut terms = Query::insert();
        terms
            .into_table(id("taxonomy_term"))
            .columns([
                id("id"),
                id("code"),
                id("name"),
                id("description"),
                id("vocabulary"),
            ])
            .on_conflict(OnConflict::column(id("id")).do_nothing().to_owned());
        for (code, name, description) in TERMS {
            terms.values_panic([
                need_id(code).into(),
                (*code).into(),
                (*name).into(),
                (*description).into(),
                NEEDS.into(),
            ]);
        }
        manager.exec_stmt(terms.to_owned()).await?;
        let mut map = Query::insert();
        map.into_table(id("need_service_type"))
            .columns([id("need_id"), id("term_id")])
            .on_conflict(
                OnConflict::columns([id("need_id"), id("term_id")])
                    .do_nothing()
                    .to_owned(),
            );
        for (need, category) in MAP {
            map.values_panic([need_id(need).into(), category_id(category).into()]);
        }
        manager.exec_stmt(map.to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(id("need_service_type")).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(id("search_event"))
                    .drop_column(id("needs"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(id("taxonomy_term"))
                    .and_where(Expr::col(id("vocabulary")).eq(NEEDS))
                    .to_owned(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_need_helps_somewhere_and_the_map_names_only_known_codes() {
        for (code, ..) in TERMS {
            assert!(
                MAP.iter().any(|(need, _)| need == code),
                "{code} maps to nothing"
            );
        }
        for (need, _) in MAP {
            assert!(
                TERMS.iter().any(|(code, ..)| code == need),
                "unknown need {need}"
            );
        }
    }
}
