//! Filling the search index from the database: all of it at start-up, then only the
//! services that changed. A few set-wise queries per load (never one per service);
//! the rows and how they become entries are in `rows`.

use chrono::{DateTime, Utc};
use entity::{area, service};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::index::{Area, Entry};
use super::rows::{Parts, ServiceRow};
use crate::domain::Policy;
use crate::domain::codes::ServiceStatus;
use crate::spatial;

/// How many ids one `IN (...)` list carries (well under SQLite's 32,766 variables).
const CHUNK: usize = 5000;

/// Ids of services after `after`, in id order, a page at a time: start-up
/// loads the index page by page so its peak memory stays bounded.
pub async fn searchable_ids(
    db: &impl ConnectionTrait,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let mut query = searchable().select_only().column(service::Column::Id);
    if let Some(after) = after {
        query = query.filter(service::Column::Id.gt(after));
    }
    query
        .order_by_asc(service::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Which services (or locations) a load covers.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    All,
    /// Exactly these ids.
    Ids(&'a [String]),
    /// Every id from the first to the last, inclusive: a page of ids in order.
    Range(&'a str, &'a str),
    /// The locations of the services from the first id to the last: looked up
    /// through the services' own index rather than a list of thousands of location
    /// ids, which PostgreSQL answered by scanning whole tables at a million services.
    LocationsOf(&'a str, &'a str),
}

/// The named columns of `E` as tuples, for rows whose `key` is in `scope`. Only what
/// the index needs is read: rows cross from the database driver one by one, so
/// narrow rows are what makes start-up fast.
pub(super) async fn tuples<E, T>(
    db: &impl ConnectionTrait,
    columns: Vec<E::Column>,
    key: E::Column,
    scope: Scope<'_>,
) -> Result<Vec<T>, DbErr>
where
    E: EntityTrait,
    T: sea_orm::TryGetableMany,
{
    let select = || E::find().select_only().columns(columns.clone());
    match scope {
        Scope::All => select().into_tuple().all(db).await,
        Scope::Range(first, last) => {
            select()
                .filter(key.between(first, last))
                .into_tuple()
                .all(db)
                .await
        }
        Scope::LocationsOf(first, last) => {
            use entity::service_at_location::{Column as Sal, Entity as SalEntity};
            let locations = sea_orm::sea_query::Query::select()
                .column(Sal::LocationId)
                .from(SalEntity)
                .and_where(Sal::ServiceId.between(first, last))
                .to_owned();
            select()
                .filter(key.in_subquery(locations))
                .into_tuple()
                .all(db)
                .await
        }
        Scope::Ids(ids) => {
            let mut out = Vec::new();
            for chunk in ids.chunks(CHUNK) {
                out.extend(
                    select()
                        .filter(key.is_in(chunk.iter().cloned()))
                        .into_tuple()
                        .all(db)
                        .await?,
                );
            }
            Ok(out)
        }
    }
}

/// Index entries for the services in `scope`. A service that is retired or not active
/// has no entry: it is not searchable.
pub async fn entries(
    db: &impl ConnectionTrait,
    scope: Scope<'_>,
    policy: Policy,
) -> Result<Vec<Entry>, DbErr> {
    let services: Vec<ServiceRow> = ServiceRow::read(db, scope)
        .await?
        .into_iter()
        .filter(|s| {
            s.retired_at.is_none()
                && ServiceStatus::from_code(&s.status) == Some(ServiceStatus::Active)
        })
        .collect();
    if services.is_empty() {
        return Ok(Vec::new());
    }
    // A load by ids reads the parts of the searchable ones only.
    let searchable: Vec<String> = match scope {
        Scope::Ids(_) => services.iter().map(|s| s.id.clone()).collect(),
        _ => Vec::new(),
    };
    let wanted = match scope {
        Scope::Ids(_) => Scope::Ids(&searchable),
        other => other,
    };
    let parts = Parts::read(db, scope, wanted).await?;
    Ok(services
        .into_iter()
        .map(|service| parts.entry(service, policy))
        .collect())
}

pub async fn areas(db: &impl ConnectionTrait) -> Result<Vec<Area>, DbErr> {
    let rows = area::Entity::find()
        .order_by_asc(area::Column::Code)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|a| {
            let shape = spatial::parse_polygons(&a.geometry).ok()?;
            let size = geo::Area::unsigned_area(&shape);
            Some(Area {
                code: a.code,
                name: a.name,
                shape,
                size,
            })
        })
        .collect())
}

/// Services changed at or after `since`: (id, updated_at).
/// Services a search can find: active and not retired.
fn searchable() -> sea_orm::Select<service::Entity> {
    service::Entity::find()
        .filter(service::Column::RetiredAt.is_null())
        .filter(service::Column::Status.eq(ServiceStatus::Active.code()))
}

/// How many services a search can find: an index holding a different number is wrong.
pub async fn searchable_count(db: &impl ConnectionTrait) -> Result<usize, DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(searchable().count(db).await? as usize)
}

/// The newest service change, retired services included.
pub async fn newest_change(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    service::Entity::find()
        .select_only()
        .column_as(service::Column::UpdatedAt.max(), "newest")
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await
        .map(Option::flatten)
}

pub async fn changed_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>)>, DbErr> {
    service::Entity::find()
        .select_only()
        .columns([service::Column::Id, service::Column::UpdatedAt])
        .filter(service::Column::UpdatedAt.gte(since))
        .into_tuple()
        .all(db)
        .await
}

pub async fn area_count(db: &impl ConnectionTrait) -> Result<usize, DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(area::Entity::find().count(db).await? as usize)
}
