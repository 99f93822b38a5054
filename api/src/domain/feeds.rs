//! Feeds an authority pulls: the row for each (made on its first pull), the lease
//! that lets one process pull a feed at a time, and where its pulls stand.

use chrono::{DateTime, Duration, Utc};
use entity::{authority, feed, service};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use crate::error::{AppError, AppResult};

/// How long a pull holds its feed without renewing (it renews after every page).
pub const LEASE_MINUTES: i64 = 10;

/// A feed's base URL, checked: http or https, no query, no trailing slash.
pub fn base_url(text: &str) -> AppResult<String> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| AppError::bad_input("url", format!("'{text}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(AppError::bad_input(
            "url",
            format!("'{text}' must be an http or https URL"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(AppError::bad_input(
            "url",
            "the API's base URL takes no query or fragment (its /services is pulled)",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The feed `url` of `authority`, made on first use. Its id is a UUID made from the
/// two, the namespace of the ids its services get.
pub async fn ensure(
    db: &impl ConnectionTrait,
    authority: &authority::Model,
    url: &str,
) -> AppResult<feed::Model> {
    let name = format!("{}\n{url}", authority.slug);
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string();
    if let Some(found) = feed::Entity::find_by_id(id.clone()).one(db).await? {
        return Ok(found);
    }
    let row = feed::Model {
        id: id.clone(),
        authority_id: authority.id,
        url: url.to_string(),
        created_at: Utc::now(),
        last_pull_at: None,
        last_good_pull_at: None,
        last_full_pull_at: None,
        last_error: None,
        resume_page: None,
        resume_full: None,
        resume_started_at: None,
        resume_since: None,
        locked_until: None,
        lease_holder: None,
    };
    // Two processes may make it at once: the second finds the first's.
    feed::Entity::insert(feed::ActiveModel::from(row))
        .on_conflict(OnConflict::column(feed::Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    feed::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a feed vanished as it was made"))
}

/// Take the feed for a pull: the pull's token while this process holds it, none
/// while another pull does.
pub async fn take(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbErr> {
    let token = uuid::Uuid::new_v4().to_string();
    let taken = feed::Entity::update_many()
        .col_expr(
            feed::Column::LockedUntil,
            Expr::value(now + Duration::minutes(LEASE_MINUTES)),
        )
        .col_expr(feed::Column::LeaseHolder, Expr::value(token.clone()))
        .filter(feed::Column::Id.eq(id))
        .filter(
            feed::Column::LockedUntil
                .is_null()
                .or(feed::Column::LockedUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok((taken.rows_affected == 1).then_some(token))
}

/// The feed held by the pull with `token`, for changing: a pull whose lease ran
/// out (and was taken by another) changes nothing.
fn held(id: &str, token: &str) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(feed::Column::Id.eq(id))
        .add(feed::Column::LeaseHolder.eq(token))
}

/// Renew the lease; false when the pull no longer holds it.
pub async fn renew(db: &impl ConnectionTrait, id: &str, token: &str) -> Result<bool, DbErr> {
    let renewed = feed::Entity::update_many()
        .col_expr(
            feed::Column::LockedUntil,
            Expr::value(Utc::now() + Duration::minutes(LEASE_MINUTES)),
        )
        .filter(held(id, token))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// Where a pull stands: the page to go on from if it stops now.
#[derive(Clone, Copy, Debug)]
pub struct Cursor {
    pub page: u32,
    pub full: bool,
    pub started_at: DateTime<Utc>,
    pub since: Option<DateTime<Utc>>,
}

impl Cursor {
    /// The pull a feed stopped part way through, if any.
    pub fn stored(feed: &feed::Model) -> Option<Self> {
        Some(Self {
            page: u32::try_from(feed.resume_page?).ok()?,
            full: feed.resume_full?,
            started_at: feed.resume_started_at?,
            since: feed.resume_since,
        })
    }
}

/// Remember the cursor and renew the lease (after each page); false when the pull
/// no longer holds the feed.
pub async fn advance(
    db: &impl ConnectionTrait,
    id: &str,
    token: &str,
    cursor: Cursor,
) -> Result<bool, DbErr> {
    let advanced = feed::Entity::update_many()
        .col_expr(
            feed::Column::ResumePage,
            Expr::value(i32::try_from(cursor.page).unwrap_or(i32::MAX)),
        )
        .col_expr(feed::Column::ResumeFull, Expr::value(cursor.full))
        .col_expr(
            feed::Column::ResumeStartedAt,
            Expr::value(cursor.started_at),
        )
        .col_expr(feed::Column::ResumeSince, Expr::value(cursor.since))
        .col_expr(
            feed::Column::LockedUntil,
            Expr::value(Utc::now() + Duration::minutes(LEASE_MINUTES)),
        )
        .filter(held(id, token))
        .exec(db)
        .await?;
    Ok(advanced.rows_affected == 1)
}

/// How a pull ended.
pub enum Ended {
    /// Every page it asked for was read; `full` when that was every service.
    Complete {
        started_at: DateTime<Utc>,
        full: bool,
    },
    /// It stopped: the cursor stays for the next pull to resume from.
    Stopped { error: String },
}

/// Record how the pull ended and let the feed go (if the pull still holds it).
pub async fn end(
    db: &impl ConnectionTrait,
    id: &str,
    token: &str,
    ended: Ended,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut row = feed::ActiveModel {
        last_pull_at: Set(Some(now)),
        locked_until: Set(None),
        lease_holder: Set(None),
        ..Default::default()
    };
    match ended {
        Ended::Complete { started_at, full } => {
            row.last_good_pull_at = Set(Some(started_at));
            if full {
                row.last_full_pull_at = Set(Some(started_at));
            }
            row.last_error = Set(None);
            row.resume_page = Set(None);
            row.resume_full = Set(None);
            row.resume_started_at = Set(None);
            row.resume_since = Set(None);
        }
        Ended::Stopped { error } => row.last_error = Set(Some(error)),
    }
    feed::Entity::update_many()
        .set(row)
        .filter(held(id, token))
        .exec(db)
        .await?;
    Ok(())
}

/// The feed's services that are not retired: (service id, the publisher's id).
pub async fn live_services(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Vec<(String, String)>, DbErr> {
    let rows: Vec<(String, Option<String>)> = service::Entity::find()
        .select_only()
        .columns([service::Column::Id, service::Column::SourceId])
        .filter(service::Column::FeedId.eq(id))
        .filter(service::Column::RetiredAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, source)| Some((id, source?)))
        .collect())
}
