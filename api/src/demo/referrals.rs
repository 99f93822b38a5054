//! The demo's referrals: a link-worker team with a referrer key, a provider key for
//! the demo's busiest organization, and a few referrals in several states, so both
//! sides of the loop can be tried at once. The people are made up. Keys are new on
//! every start (a key is shown only once); the referrals are made once.

use std::collections::BTreeMap;

use entity::{organization, referral, service};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::domain::auth::{self, Caller};
use crate::domain::codes::{DeclineReason, ReferralStatus as S, Role, Urgency};
use crate::domain::edit::Editor;
use crate::domain::referral::person::PersonDraft;
use crate::domain::referral::seal::DataKey;
use crate::domain::referral::store::{self, Move, NewReferral};
use crate::domain::search::SearchHandle;
use crate::domain::validate::Fields;
use crate::error::{AppError, AppResult};

/// The demo's link-worker team.
pub const TEAM: &str = "demo-link-workers";

/// (name, age, reason, where the referral has got to).
const PEOPLE: &[(&str, f64, &str, &[S])] = &[
    ("Pat Example", 78.0, "Lonely since moving to Sale", &[]),
    ("Sam Sample", 67.0, "Caring for her husband", &[S::Opened]),
    (
        "Alex Test",
        71.0,
        "Low mood after a fall",
        &[S::Opened, S::Accepted],
    ),
    (
        "Jo Placeholder",
        59.0,
        "Wants to get out more",
        &[S::Opened, S::Declined],
    ),
    (
        "Chris Demo",
        82.0,
        "Recently bereaved",
        &[S::Opened, S::Accepted, S::Completed],
    ),
];

async fn caller_of(db: &DatabaseConnection, token: &str) -> AppResult<Caller> {
    auth::authenticate(db, token).await
}

/// Make the demo's keys (and its referrals, once); returns what to print.
pub async fn load(
    db: &DatabaseConnection,
    key: &DataKey,
    search: &SearchHandle,
) -> AppResult<String> {
    let team = auth::ensure_authority(db, TEAM, "Demo link-worker team").await?;
    let owner = auth::find_authority(db, super::AUTHORITY)
        .await?
        .ok_or_else(|| AppError::internal("the demo listings are not loaded"))?;
    let services = service::Entity::find()
        .filter(service::Column::AuthorityId.eq(owner.id))
        .filter(service::Column::RetiredAt.is_null())
        .order_by_asc(service::Column::Id)
        .all(db)
        .await?;
    let mut by_org: BTreeMap<&str, Vec<&service::Model>> = BTreeMap::new();
    for s in &services {
        by_org
            .entry(s.organization_id.as_str())
            .or_default()
            .push(s);
    }
    // The busiest group; of equals, the first (a Sale group, near the README's postcodes).
    let busiest = by_org.into_iter().reduce(|best, next| {
        if next.1.len() > best.1.len() {
            next
        } else {
            best
        }
    });
    let Some((org, theirs)) = busiest else {
        return Ok("demo referrals: no demo services to refer to".into());
    };
    let org_name = organization::Entity::find_by_id(org.to_string())
        .one(db)
        .await?
        .map_or_else(|| org.to_string(), |o| o.name);
    let referrer = auth::create_key(db, TEAM, Role::Referrer, None, "demo").await?;
    let provider =
        auth::create_key(db, super::AUTHORITY, Role::Provider, Some(org), "demo").await?;
    let made = referral::Entity::find()
        .filter(referral::Column::ReferrerAuthorityId.eq(team.id))
        .count(db)
        .await?;
    if made == 0 && key.is_set() {
        let (as_referrer, as_provider) = (
            caller_of(db, &referrer.token).await?,
            caller_of(db, &provider.token).await?,
        );
        let editor = |caller| Editor {
            caller,
            request_id: "demo",
            fields: Fields::GRAPHQL_INPUT,
        };
        // The demo's own postcodes, so each person falls in a demo neighbourhood.
        let postcodes = super::postcodes();
        for (i, (name, age, reason, moves)) in PEOPLE.iter().enumerate() {
            let service = theirs[i % theirs.len()];
            let postcode = postcodes.get(i * 7).map(|p| p.code.clone());
            let new = NewReferral {
                service_id: service.id.clone(),
                person: PersonDraft {
                    name: (*name).into(),
                    postcode,
                    age: Some(*age),
                    ..PersonDraft::default()
                },
                person_fields: Fields("person."),
                reason: Some((*reason).into()),
                consent: true,
                urgency: Urgency::Routine,
            };
            let mut row = store::create(db, &editor(&as_referrer), key, search, new).await?;
            for &status in *moves {
                let asked = Move {
                    status,
                    reason: (status == S::Declined).then_some(DeclineReason::PersonDeclined),
                    note: None,
                };
                row = store::update_status(
                    db,
                    &editor(&as_provider),
                    key,
                    &row.id,
                    row.version,
                    asked,
                )
                .await?
                .referral;
            }
        }
    }
    let made = referral::Entity::find()
        .filter(referral::Column::ReferrerAuthorityId.eq(team.id))
        .count(db)
        .await?;
    Ok(format!(
        "demo referrals: {made} made by team {TEAM}, to {org_name} ({org})\n  \
         referrer key (link-worker team): {}\n  \
         provider key ({org_name}): {}",
        referrer.token, provider.token
    ))
}
