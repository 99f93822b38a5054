//! The starter vocabulary: social-prescribing categories written by the project
//! (`signpost-categories`), so a fresh database takes its first listing without
//! importing anything. Reference data the API needs, not listings: inserted once,
//! and never over terms already there (an authority may have renamed one); an import
//! (`signpost import taxonomy`) adds to it or replaces it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The vocabulary's name and its terms' id prefix.
pub const VOCABULARY: &str = "signpost-categories";

/// (code, name, parent code, description).
pub const TERMS: &[(&str, &str, Option<&str>, &str)] = &[
    (
        "physical-activity",
        "Physical activity",
        None,
        "Ways to move more, at any ability.",
    ),
    (
        "walking-groups",
        "Walking groups",
        Some("physical-activity"),
        "Led walks at a gentle pace.",
    ),
    (
        "exercise-classes",
        "Exercise classes",
        Some("physical-activity"),
        "Group classes: strength, balance, fitness.",
    ),
    (
        "chair-based-exercise",
        "Chair-based exercise",
        Some("physical-activity"),
        "Seated exercise for limited mobility.",
    ),
    (
        "dance",
        "Dance",
        Some("physical-activity"),
        "Dance groups and classes.",
    ),
    (
        "cycling",
        "Cycling",
        Some("physical-activity"),
        "Led rides, cycle loans and learning to ride.",
    ),
    (
        "social-contact",
        "Social contact",
        None,
        "Company and belonging.",
    ),
    (
        "lunch-clubs",
        "Lunch clubs",
        Some("social-contact"),
        "A shared meal and company.",
    ),
    (
        "befriending",
        "Befriending",
        Some("social-contact"),
        "A regular visit or call from a volunteer.",
    ),
    (
        "social-groups",
        "Social groups",
        Some("social-contact"),
        "Clubs and groups that meet to talk and do things together.",
    ),
    (
        "community-cafes",
        "Community cafés",
        Some("social-contact"),
        "Drop-in cafés run by and for the community.",
    ),
    (
        "mens-sheds",
        "Men's sheds",
        Some("social-contact"),
        "Making, mending and talking shoulder to shoulder.",
    ),
    (
        "arts-and-creativity",
        "Arts and creativity",
        None,
        "Making, performing and enjoying the arts.",
    ),
    (
        "arts-and-crafts",
        "Arts and crafts",
        Some("arts-and-creativity"),
        "Knitting, painting, making.",
    ),
    (
        "music-and-singing",
        "Music and singing",
        Some("arts-and-creativity"),
        "Choirs, singing for the brain, music groups.",
    ),
    (
        "creative-writing",
        "Creative writing",
        Some("arts-and-creativity"),
        "Writing and reading groups.",
    ),
    (
        "nature-and-outdoors",
        "Nature and outdoors",
        None,
        "Time outside and green activity.",
    ),
    (
        "gardening",
        "Gardening",
        Some("nature-and-outdoors"),
        "Community gardens, allotments and growing.",
    ),
    (
        "conservation-volunteering",
        "Conservation volunteering",
        Some("nature-and-outdoors"),
        "Caring for parks, woods and waterways.",
    ),
    (
        "money-and-debt",
        "Money and debt",
        None,
        "Help with money worries.",
    ),
    (
        "debt-advice",
        "Debt advice",
        Some("money-and-debt"),
        "Free, confidential advice on debts.",
    ),
    (
        "benefits-advice",
        "Benefits advice",
        Some("money-and-debt"),
        "Checking and claiming entitlements.",
    ),
    ("food", "Food", None, "Food and eating well."),
    (
        "food-banks",
        "Food banks and pantries",
        Some("food"),
        "Emergency food and low-cost pantries.",
    ),
    (
        "community-meals",
        "Community meals",
        Some("food"),
        "Shared and low-cost meals.",
    ),
    (
        "cooking-skills",
        "Cooking skills",
        Some("food"),
        "Learning to cook on a budget.",
    ),
    (
        "carers",
        "Carers",
        None,
        "Support for people who care for someone.",
    ),
    (
        "carers-support",
        "Carers' support",
        Some("carers"),
        "Groups, cafés and advice for carers.",
    ),
    (
        "respite",
        "Respite and breaks",
        Some("carers"),
        "Time off for carers.",
    ),
    (
        "mental-wellbeing",
        "Mental wellbeing",
        None,
        "Support for low mood, anxiety and stress.",
    ),
    (
        "peer-support",
        "Peer support",
        Some("mental-wellbeing"),
        "Groups of people who have been there.",
    ),
    (
        "bereavement-support",
        "Bereavement support",
        Some("mental-wellbeing"),
        "Support after a death.",
    ),
    (
        "talking-support",
        "Talking support",
        Some("mental-wellbeing"),
        "Listening services and counselling.",
    ),
    (
        "mindfulness",
        "Mindfulness and relaxation",
        Some("mental-wellbeing"),
        "Mindfulness, yoga and relaxation.",
    ),
    (
        "learning-and-skills",
        "Learning and skills",
        None,
        "Learning something new, at any age.",
    ),
    (
        "digital-skills",
        "Digital skills",
        Some("learning-and-skills"),
        "Help getting online and using devices.",
    ),
    (
        "adult-learning",
        "Adult learning",
        Some("learning-and-skills"),
        "Courses and classes for adults.",
    ),
    (
        "employment-support",
        "Employment support",
        Some("learning-and-skills"),
        "Help finding and keeping work.",
    ),
    (
        "volunteering",
        "Volunteering",
        Some("learning-and-skills"),
        "Ways to give time and gain skills.",
    ),
    (
        "practical-help",
        "Practical help",
        None,
        "Help with everyday life.",
    ),
    (
        "housing-advice",
        "Housing advice",
        Some("practical-help"),
        "Help with housing problems and homelessness.",
    ),
    (
        "community-transport",
        "Community transport",
        Some("practical-help"),
        "Door-to-door and dial-a-ride transport.",
    ),
    (
        "home-help",
        "Help at home",
        Some("practical-help"),
        "Shopping, small repairs and help around the home.",
    ),
    (
        "advocacy",
        "Advocacy",
        Some("practical-help"),
        "Someone to speak up with you or for you.",
    ),
];

fn term_id(code: &str) -> String {
    format!("{VOCABULARY}-{code}")
}

fn id(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let taxonomy = Query::insert()
            .into_table(id("taxonomy"))
            .columns([id("id"), id("name"), id("description"), id("uri"), id("version")])
            .values_panic([
                VOCABULARY.into(),
                VOCABULARY.into(),
                "Social-prescribing categories written by the Signpost project: kinds of community activity and support, under ten broad headings.".into(),
                Option::<String>::None.into(),
                "1".into(),
            ])
            .on_conflict(OnConflict::column(id("id")).do_nothing().to_owned())
            .to_owned();
        manager.exec_stmt(taxonomy).await?;
        let mut terms = Query::insert();
        terms
            .into_table(id("taxonomy_term"))
            .columns([
                id("id"),
                id("code"),
                id("name"),
                id("description"),
                id("parent_id"),
                id("taxonomy_id"),
                id("vocabulary"),
                id("term_uri"),
            ])
            .on_conflict(OnConflict::column(id("id")).do_nothing().to_owned());
        for (code, name, parent, description) in TERMS {
            terms.values_panic([
                term_id(code).into(),
                (*code).into(),
                (*name).into(),
                (*description).into(),
                parent.map(term_id).into(),
                VOCABULARY.into(),
                VOCABULARY.into(),
                Option::<String>::None.into(),
            ]);
        }
        manager.exec_stmt(terms.to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents. Listings filed under these terms lose them (the
        // foreign key from service_taxonomy cascades); the taxonomy row stays.
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(id("taxonomy_term"))
                    .and_where(Expr::col(id("vocabulary")).eq(VOCABULARY))
                    .and_where(Expr::col(id("parent_id")).is_not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(id("taxonomy_term"))
                    .and_where(Expr::col(id("vocabulary")).eq(VOCABULARY))
                    .to_owned(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_vocabulary_is_about_thirty_categories_under_about_ten_parents() {
        let parents: Vec<_> = TERMS.iter().filter(|t| t.2.is_none()).collect();
        let children = TERMS.len() - parents.len();
        assert!(
            (8..=12).contains(&parents.len()),
            "{} parents",
            parents.len()
        );
        assert!((25..=40).contains(&children), "{children} categories");
        for (code, _, parent, _) in TERMS {
            if let Some(parent) = parent {
                assert!(
                    parents.iter().any(|p| p.0 == *parent),
                    "{code}'s parent {parent} is a heading"
                );
            }
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{code}"
            );
        }
        let mut codes: Vec<_> = TERMS.iter().map(|t| t.0).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TERMS.len(), "codes are distinct");
    }
}
