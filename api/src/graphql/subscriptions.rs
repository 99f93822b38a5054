//! Live updates over WebSocket (graphql-transport-ws at /graphql/ws): a link worker's
//! app hears when a service near their client opens up or fills.

use async_graphql::{Context, MergedSubscription, Result, SimpleObject, Subscription};
use futures::{Stream, StreamExt};

use super::details::Capacity;
use super::search::{DEFAULT_RADIUS_METRES, PlaceInput, Reach};
use super::services::Service;
use super::{db, policy};
use crate::domain::capacity;
use crate::domain::place::{self, PlaceQuery};
use crate::domain::search::SearchHandle;
use crate::domain::search::index::Reach as IndexReach;
use crate::error::AppError;
use crate::live::changes::{Changes, ServiceChanged};

/// A service's capacity changed.
#[derive(SimpleObject)]
pub struct CapacityChange {
    pub service: Service,
    /// The capacity now (null if it was removed).
    pub capacity: Option<Capacity>,
    /// Metres to its nearest location in range; null when it reaches by area or remotely.
    pub distance_metres: Option<f64>,
    pub reach: Reach,
}

/// The root subscription: capacity here, referrals in `referrals`.
#[derive(MergedSubscription, Default)]
pub struct Subscription(CapacitySubscription, super::referrals::ReferralSubscription);

#[derive(Default)]
pub struct CapacitySubscription;

#[Subscription]
impl CapacitySubscription {
    /// Capacity changes of services that reach `near` within `radiusMetres`
    /// (default 5000), optionally only under these taxonomy terms (a term matches
    /// its descendants). Changes made through any replica arrive.
    async fn capacity_changed(
        &self,
        ctx: &Context<'_>,
        near: PlaceInput,
        #[graphql(default_with = "DEFAULT_RADIUS_METRES")] radius_metres: i32,
        taxonomy_terms: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = Result<CapacityChange>> + use<>> {
        let radius = crate::domain::search::radius("radiusMetres", radius_metres)?;
        let db = db(ctx)?.clone();
        let query = PlaceQuery {
            postcode: near.postcode.as_deref(),
            latitude: near.latitude,
            longitude: near.longitude,
        };
        let point = place::resolve(&db, query, "near").await?;
        let search = ctx
            .data::<SearchHandle>()
            .map_err(|_| AppError::internal("no search index"))?
            .clone();
        let terms = match taxonomy_terms.filter(|t| !t.is_empty()) {
            Some(codes) => Some(search.read().expand_terms(&codes).map_err(|unknown| {
                AppError::bad_input(
                    "taxonomyTerms",
                    format!("unknown taxonomy term: {}", unknown.join(", ")),
                )
            })?),
            None => None,
        };
        let terms = std::sync::Arc::new(terms);
        let receiver = ctx
            .data::<Changes>()
            .map_err(|_| AppError::internal("no change hub"))?
            .subscribe();
        let policy = policy(ctx);
        let changes = crate::live::changes::stream_of(receiver);
        Ok(changes.filter_map(move |change: ServiceChanged| {
            let (db, search, terms) = (db.clone(), search.clone(), terms.clone());
            async move {
                if !change.capacity {
                    return None;
                }
                let reach = search.read().reach_of(
                    &change.service_id,
                    point,
                    radius,
                    terms.as_ref().as_ref(),
                )?;
                // A change that cannot be read is told as an error, never dropped
                // in silence: the subscriber knows its view may be behind.
                let (row, capacity) =
                    match capacity::service_and_capacity(&db, &change.service_id).await {
                        Ok(found) => found?,
                        Err(e) => return Some(Err(e.into())),
                    };
                let (distance_metres, reach) = match reach {
                    IndexReach::AtLocation(metres, _) => (
                        Some((metres.metres * 10.0).round() / 10.0),
                        Reach::AtLocation,
                    ),
                    IndexReach::ServiceArea => (None, Reach::ServiceArea),
                    IndexReach::Remote => (None, Reach::Remote),
                };
                Some(Ok(CapacityChange {
                    service: Service::from(row),
                    capacity: capacity.map(|c| Capacity::read(c, policy)),
                    distance_metres,
                    reach,
                }))
            }
        }))
    }
}
