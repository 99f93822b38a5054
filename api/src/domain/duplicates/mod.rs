//! Duplicates across sources (Open Referral UK's aggregation: match, choose a
//! preferred record, mark the others replaced). After an import or a feed's pull,
//! each service it wrote is compared with its neighbours in the search index
//! (within `signals::REACH_METRES`, names prefiltered there), never with one from
//! its own source; a pair worth a look is stored as a candidate with its score and
//! signals. An editor of either side lists them, most likely first; keeping one
//! retires the other in its favour (`edit::services::replace`), dismissing a pair
//! stops it coming back.

pub mod signals;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{address, duplicate_candidate, location, organization, service, service_at_location};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::Value;

use super::auth::Caller;
use super::edit::{Audit, Editor};
use super::listings::PageOf;
use super::paging::Page;
use super::search::SearchHandle;
use super::search::index::Reach;
use crate::error::{AppError, AppResult};
use crate::spatial::Coordinates;
use signals::{Found, Traits};

/// Neighbours looked at around each location of a service.
const NEIGHBOURS: usize = 64;
/// Names less alike than this are not loaded for a closer look, unless the two
/// stand within `SAME_PLACE_METRES` (a register number or phone may still match).
const NAME_PREFILTER: f64 = 0.5;
const SAME_PLACE_METRES: f64 = 50.0;

/// Where a listing came from: a feed, or an authority's own listings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Feed(String),
    Authority(i32),
}

impl Source {
    pub fn of(row: &service::Model) -> Self {
        match &row.feed_id {
            Some(feed) => Self::Feed(feed.clone()),
            None => Self::Authority(row.authority_id),
        }
    }

    /// Live services of any other source (written out: `NOT` over a NULL
    /// `feed_id` would be NULL, and miss an authority's own listings).
    fn others(&self) -> sea_orm::Condition {
        let live = service::Column::RetiredAt.is_null();
        let elsewhere = match self {
            Self::Feed(feed) => sea_orm::Condition::any()
                .add(service::Column::FeedId.is_null())
                .add(service::Column::FeedId.ne(feed.clone())),
            Self::Authority(id) => sea_orm::Condition::any()
                .add(service::Column::FeedId.is_not_null())
                .add(service::Column::AuthorityId.ne(*id)),
        };
        sea_orm::Condition::all().add(live).add(elsewhere)
    }

    /// Live services of this source.
    fn own(&self) -> sea_orm::Condition {
        let live = service::Column::RetiredAt.is_null();
        match self {
            Self::Feed(feed) => sea_orm::Condition::all()
                .add(live)
                .add(service::Column::FeedId.eq(feed.clone())),
            Self::Authority(id) => sea_orm::Condition::all()
                .add(live)
                .add(service::Column::FeedId.is_null())
                .add(service::Column::AuthorityId.eq(*id)),
        }
    }
}

/// Whether any live service comes from another source: if none, a load has
/// nothing to be compared with (a first import).
pub async fn others_exist(db: &impl ConnectionTrait, source: &Source) -> Result<bool, DbErr> {
    let other = service::Entity::find()
        .select_only()
        .column(service::Column::Id)
        .filter(source.others())
        .limit(1)
        .into_tuple::<String>()
        .one(db)
        .await?;
    Ok(other.is_some())
}

/// The live services of `source` written at or after `since`.
pub async fn changed_since(
    db: &impl ConnectionTrait,
    source: &Source,
    since: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    service::Entity::find()
        .select_only()
        .column(service::Column::Id)
        .filter(source.own())
        .filter(service::Column::UpdatedAt.gte(since))
        .into_tuple()
        .all(db)
        .await
}

/// After a load by `source` that began at `since`: compare what it wrote with
/// everything else and store the candidates (the caller has seen `others_exist`).
/// The index is brought up to date first. Returns how many candidates were
/// proposed or refreshed.
pub async fn after_load(
    db: &sea_orm::DatabaseConnection,
    search: &SearchHandle,
    source: &Source,
    since: DateTime<Utc>,
) -> AppResult<usize> {
    let changed = changed_since(db, source, since).await?;
    if changed.is_empty() {
        return Ok(0);
    }
    search.sync(db).await?;
    propose(db, search, &changed).await
}

/// Compare these services with their neighbours and store the pairs worth a look.
pub async fn propose(
    db: &impl ConnectionTrait,
    search: &SearchHandle,
    ids: &[String],
) -> AppResult<usize> {
    let pairs = neighbours(search, ids);
    if pairs.is_empty() {
        return Ok(0);
    }
    let wanted: Vec<String> = pairs
        .iter()
        .flat_map(|(a, b)| [a.clone(), b.clone()])
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let listings = traits(db, &wanted).await?;
    let mut proposals = Vec::new();
    for (a, b) in pairs {
        let (Some((source_a, traits_a)), Some((source_b, traits_b))) =
            (listings.get(&a), listings.get(&b))
        else {
            continue;
        };
        if source_a == source_b {
            continue;
        }
        let found = signals::compare(traits_a, traits_b);
        if signals::worth_proposing(&found) {
            proposals.push((a, b, found));
        }
    }
    store(db, proposals, Utc::now()).await
}

/// Pairs (in id order) of each service with its neighbours in the index whose names
/// are alike enough, or that stand in the same place.
fn neighbours(search: &SearchHandle, ids: &[String]) -> Vec<(String, String)> {
    let index = search.read();
    let mut pairs = HashSet::new();
    for id in ids {
        let Some(entry) = index.entry_of(id) else {
            continue;
        };
        for (_, at) in entry.locations.iter() {
            let near = index
                .reach_nearest(*at, signals::REACH_METRES, None, |_| true)
                .map_while(|(slot, reach)| match reach {
                    Reach::AtLocation(metres, _) => Some((slot, metres.metres)),
                    _ => None,
                })
                .take(NEIGHBOURS);
            for (slot, metres) in near {
                let Some(other) = index.entry(slot) else {
                    continue;
                };
                if *other.id == **id {
                    continue;
                }
                let alike = signals::name_similarity(&entry.name, &other.name);
                if alike >= NAME_PREFILTER || metres <= SAME_PLACE_METRES {
                    let (a, b) = (id.to_string(), other.id.to_string());
                    pairs.insert(if a < b { (a, b) } else { (b, a) });
                }
            }
        }
    }
    pairs.into_iter().collect()
}

/// The live services' sources and traits, read in a few queries per 500.
async fn traits(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<HashMap<String, (Source, Traits)>, DbErr> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let services = service::Entity::find()
            .filter(service::Column::Id.is_in(chunk.iter().cloned()))
            .filter(service::Column::RetiredAt.is_null())
            .all(db)
            .await?;
        let org_ids: HashSet<String> = services.iter().map(|s| s.organization_id.clone()).collect();
        let organizations: HashMap<String, organization::Model> = organization::Entity::find()
            .filter(organization::Column::Id.is_in(org_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        let links: Vec<(String, String)> = service_at_location::Entity::find()
            .select_only()
            .columns([
                service_at_location::Column::ServiceId,
                service_at_location::Column::LocationId,
            ])
            .filter(service_at_location::Column::ServiceId.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        let location_ids: HashSet<String> = links.iter().map(|(_, l)| l.clone()).collect();
        let points: HashMap<String, Coordinates> = location::Entity::find()
            .filter(location::Column::Id.is_in(location_ids.iter().cloned()))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|l| {
                let at = Coordinates::new(l.latitude?, l.longitude?).ok()?;
                Some((l.id, at))
            })
            .collect();
        let mut postcodes: HashMap<String, Vec<String>> = HashMap::new();
        for a in address::Entity::find()
            .filter(address::Column::LocationId.is_in(location_ids))
            .all(db)
            .await?
        {
            if let Some(code) = signals::postcode(&a.postal_code) {
                postcodes.entry(a.location_id).or_default().push(code);
            }
        }
        for s in services {
            let org = organizations.get(&s.organization_id);
            let mut traits = Traits {
                name: s.name.clone(),
                ..Traits::default()
            };
            for (_, location) in links.iter().filter(|(service, _)| *service == s.id) {
                traits.points.extend(points.get(location));
                traits
                    .postcodes
                    .extend(postcodes.get(location).into_iter().flatten().cloned());
            }
            let phones = [s.phone.as_deref(), org.and_then(|o| o.phone.as_deref())];
            traits.phones = phones
                .into_iter()
                .flatten()
                .filter_map(signals::phone)
                .collect();
            let emails = [s.email.as_deref(), org.and_then(|o| o.email.as_deref())];
            traits.emails = emails
                .into_iter()
                .flatten()
                .filter_map(signals::email)
                .collect();
            let sites = [s.url.as_deref(), org.and_then(|o| o.website.as_deref())];
            traits.domains = sites
                .into_iter()
                .flatten()
                .filter_map(signals::domain)
                .collect();
            traits.identifiers = org
                .and_then(|o| o.identifiers.as_ref()?.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|item| {
                    let number = item.get("identifier")?.as_str()?;
                    let scheme = item
                        .get("scheme")
                        .and_then(Value::as_str)
                        .or(item.get("type").and_then(Value::as_str));
                    Some(signals::identifier(scheme, number))
                })
                .collect();
            out.insert(s.id.clone(), (Source::of(&s), traits));
        }
    }
    Ok(out)
}

/// The candidate id of a pair (in id order): the same pair is one candidate.
fn pair_id(a: &str, b: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{a}\n{b}").as_bytes()).to_string()
}

/// Insert new candidates and refresh open ones; dismissed and resolved pairs stay so.
async fn store(
    db: &impl ConnectionTrait,
    proposals: Vec<(String, String, Vec<Found>)>,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let ids: Vec<String> = proposals.iter().map(|(a, b, _)| pair_id(a, b)).collect();
    let mut known: HashMap<String, String> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = duplicate_candidate::Entity::find()
            .select_only()
            .columns([
                duplicate_candidate::Column::Id,
                duplicate_candidate::Column::Status,
            ])
            .filter(duplicate_candidate::Column::Id.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        known.extend(rows);
    }
    let mut fresh = Vec::new();
    let mut stored = 0;
    for ((a, b, found), id) in proposals.into_iter().zip(ids) {
        let score = signals::score(&found);
        let found = serde_json::to_value(&found).map_err(AppError::internal)?;
        match known.get(&id).map(String::as_str) {
            None => fresh.push(duplicate_candidate::ActiveModel {
                id: Set(id),
                first_service_id: Set(a),
                second_service_id: Set(b),
                score: Set(score),
                signals: Set(found),
                status: Set("open".into()),
                created_at: Set(now),
                updated_at: Set(now),
                decided_by: Set(None),
                decided_at: Set(None),
            }),
            Some("open") => {
                duplicate_candidate::Entity::update_many()
                    .col_expr(duplicate_candidate::Column::Score, Expr::value(score))
                    .col_expr(duplicate_candidate::Column::Signals, Expr::value(found))
                    .col_expr(duplicate_candidate::Column::UpdatedAt, Expr::value(now))
                    .filter(duplicate_candidate::Column::Id.eq(id))
                    .exec(db)
                    .await?;
                stored += 1;
            }
            Some(_) => {}
        }
    }
    stored += fresh.len();
    // Another load may be matching the same pair at once: the first one stands.
    for batch in fresh.chunks(500) {
        duplicate_candidate::Entity::insert_many(batch.to_vec())
            .on_conflict(
                OnConflict::column(duplicate_candidate::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(stored)
}

/// A candidate and its signals, as stored.
pub struct Candidate {
    pub row: duplicate_candidate::Model,
    pub signals: Vec<Found>,
}

impl From<duplicate_candidate::Model> for Candidate {
    fn from(row: duplicate_candidate::Model) -> Self {
        let signals = serde_json::from_value(row.signals.clone()).unwrap_or_default();
        Self { row, signals }
    }
}

/// Ids of live services the caller's authority owns, as a subquery.
fn live_services(authority: Option<i32>) -> sea_orm::sea_query::SelectStatement {
    let mut query = Query::select();
    query
        .column(service::Column::Id)
        .from(service::Entity)
        .and_where(service::Column::RetiredAt.is_null());
    if let Some(authority) = authority {
        query.and_where(service::Column::AuthorityId.eq(authority));
    }
    query.to_owned()
}

/// Open candidates between live services, one side the caller's authority's, most
/// likely first (editors and admins).
pub async fn open_for(
    db: &impl ConnectionTrait,
    caller: &Caller,
    page: &Page,
) -> AppResult<PageOf<Candidate>> {
    caller.require_editor()?;
    let ours = sea_orm::Condition::any()
        .add(
            duplicate_candidate::Column::FirstServiceId
                .in_subquery(live_services(Some(caller.authority_id))),
        )
        .add(
            duplicate_candidate::Column::SecondServiceId
                .in_subquery(live_services(Some(caller.authority_id))),
        );
    let mut query = duplicate_candidate::Entity::find()
        .filter(duplicate_candidate::Column::Status.eq("open"))
        .filter(duplicate_candidate::Column::FirstServiceId.in_subquery(live_services(None)))
        .filter(duplicate_candidate::Column::SecondServiceId.in_subquery(live_services(None)))
        .filter(ours);
    if let Some(after) = &page.after {
        let (score, id) = cursor_parts(after)?;
        query = query.filter(
            sea_orm::Condition::any()
                .add(duplicate_candidate::Column::Score.lt(score))
                .add(
                    sea_orm::Condition::all()
                        .add(duplicate_candidate::Column::Score.eq(score))
                        .add(duplicate_candidate::Column::Id.gt(id)),
                ),
        );
    }
    let rows = query
        .order_by_desc(duplicate_candidate::Column::Score)
        .order_by_asc(duplicate_candidate::Column::Id)
        .limit(page.first as u64 + 1)
        .all(db)
        .await?;
    let has_next = rows.len() > page.first;
    Ok(PageOf {
        rows: rows
            .into_iter()
            .take(page.first)
            .map(Candidate::from)
            .collect(),
        has_next,
    })
}

/// The key a page of candidates continues after.
pub fn cursor_key(candidate: &Candidate) -> String {
    format!("{:.4}|{}", candidate.row.score, candidate.row.id)
}

fn cursor_parts(key: &str) -> AppResult<(f64, String)> {
    key.split_once('|')
        .and_then(|(score, id)| Some((score.parse().ok()?, id.to_string())))
        .ok_or_else(|| AppError::bad_input("after", "not a cursor from this API"))
}

/// Mark the pair's candidate, if there is one, `status` (resolved or dismissed).
pub(crate) async fn settle(
    db: &impl ConnectionTrait,
    a: &str,
    b: &str,
    status: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let id = if a < b { pair_id(a, b) } else { pair_id(b, a) };
    duplicate_candidate::Entity::update_many()
        .col_expr(duplicate_candidate::Column::Status, Expr::value(status))
        .col_expr(duplicate_candidate::Column::DecidedBy, Expr::value(actor))
        .col_expr(duplicate_candidate::Column::DecidedAt, Expr::value(now))
        .col_expr(duplicate_candidate::Column::UpdatedAt, Expr::value(now))
        .filter(duplicate_candidate::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The candidate `id` for an editor or admin of either side's authority.
pub async fn for_either_side(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: &str,
) -> AppResult<duplicate_candidate::Model> {
    caller.require_editor()?;
    let row = duplicate_candidate::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no duplicate candidate {id}")))?;
    let owners: Vec<i32> = service::Entity::find()
        .select_only()
        .column(service::Column::AuthorityId)
        .filter(
            service::Column::Id
                .is_in([row.first_service_id.clone(), row.second_service_id.clone()]),
        )
        .into_tuple()
        .all(db)
        .await?;
    if !owners.contains(&caller.authority_id) {
        return Err(AppError::Forbidden(format!(
            "duplicate candidate {id} is between other authorities' services"
        )));
    }
    Ok(row)
}

/// Keep `keep` and retire `replace` in its favour (an editor or admin of the
/// replaced one's authority; the kept one may be anyone's, but must be live).
/// Returns the kept service.
pub async fn resolve(
    db: &sea_orm::DatabaseConnection,
    editor: &Editor<'_>,
    keep: &str,
    replace: &str,
) -> AppResult<service::Model> {
    if keep == replace {
        return Err(AppError::bad_input("replace", "must differ from keep"));
    }
    let kept = service::Entity::find_by_id(keep.to_string())
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("keep", format!("no service {keep}")))?;
    // Whether the kept one is live is checked as the replacement commits.
    let replaced = super::owned::service(db, editor.caller, replace).await?;
    if replaced.retired_at.is_some() {
        return Err(AppError::bad_input(
            "replace",
            format!("service {replace} is already retired"),
        ));
    }
    super::edit::services::replace(db, editor, replace, keep).await?;
    Ok(kept)
}

/// Say the pair's two services differ: the pair is not proposed again.
pub async fn dismiss(
    db: &sea_orm::DatabaseConnection,
    editor: &Editor<'_>,
    id: &str,
) -> AppResult<Candidate> {
    let txn = crate::db::begin_write(db).await?;
    let row = for_either_side(&txn, editor.caller, id).await?;
    if row.status == "resolved" {
        return Err(AppError::bad_input(
            "id",
            format!("duplicate candidate {id} was resolved: one of the two is replaced"),
        ));
    }
    let now = Utc::now();
    let (a, b) = (&row.first_service_id, &row.second_service_id);
    settle(&txn, a, b, "dismissed", &editor.actor(), now).await?;
    editor
        .record(
            &txn,
            Audit {
                entity: "duplicate_candidate",
                entity_id: id,
                action: "dismiss",
                before: Some(serde_json::json!({ "status": row.status })),
                after: Some(serde_json::json!({ "status": "dismissed", "services": [a, b] })),
            },
            now,
        )
        .await?;
    let row = duplicate_candidate::Entity::find_by_id(id.to_string())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("a candidate vanished as it was dismissed"))?;
    txn.commit().await?;
    Ok(Candidate::from(row))
}
