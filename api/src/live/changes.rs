//! After a write commits: this process's search index sees it at once, subscribers
//! hear of it, and on PostgreSQL every other replica does too (NOTIFY on one
//! channel; each replica LISTENs, refreshes its index and tells its subscribers).
//! The follower's polling stays as the safety net for a missed notification.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::domain::search::SearchHandle;

/// The PostgreSQL channel replicas tell each other on.
pub const CHANNEL: &str = "signpost_changes";

/// A service changed; `capacity` when its capacity did.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ServiceChanged {
    pub service_id: String,
    pub capacity: bool,
}

/// A referral moved (or was made): who is on its sides, so each subscriber can tell
/// whether it may hear of it without reading the database. Never the person.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReferralChanged {
    pub referral_id: String,
    pub referrer_authority_id: i32,
    pub provider_authority_id: i32,
    pub organization_id: String,
}

/// What replicas tell each other.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Told {
    Service(ServiceChanged),
    Referral(ReferralChanged),
}

#[derive(Serialize, Deserialize)]
struct Note {
    /// The process that made the change, which has applied it already.
    origin: String,
    #[serde(flatten)]
    change: Told,
}

/// A subscriber's receiver as a stream. A slow subscriber misses some changes
/// rather than stalling writers.
pub fn stream_of<T: Clone + Send + 'static>(
    receiver: broadcast::Receiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(change) => return Some((change, receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

#[derive(Clone)]
pub struct Changes {
    db: DatabaseConnection,
    search: SearchHandle,
    sender: broadcast::Sender<ServiceChanged>,
    referrals: broadcast::Sender<ReferralChanged>,
    origin: Arc<str>,
}

impl Changes {
    pub fn new(db: DatabaseConnection, search: SearchHandle) -> Self {
        Self {
            db,
            search,
            sender: broadcast::channel(1024).0,
            referrals: broadcast::channel(1024).0,
            origin: uuid::Uuid::new_v4().to_string().into(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ServiceChanged> {
        self.sender.subscribe()
    }

    pub fn subscribe_referrals(&self) -> broadcast::Receiver<ReferralChanged> {
        self.referrals.subscribe()
    }

    /// Subscriptions listening now, of either kind.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count() + self.referrals.receiver_count()
    }

    /// Apply a change in this process and tell subscribers.
    async fn apply(&self, change: Told) {
        let change = match change {
            Told::Service(change) => change,
            Told::Referral(change) => {
                let _ = self.referrals.send(change);
                return;
            }
        };
        if let Err(e) = self
            .search
            .refresh(&self.db, std::slice::from_ref(&change.service_id))
            .await
        {
            // The follower catches up within seconds.
            tracing::warn!(cause = %e, service = %change.service_id, "search index refresh failed");
        }
        // No subscribers is not an error.
        let _ = self.sender.send(change);
    }

    /// A write to a service committed here.
    pub async fn committed(&self, change: ServiceChanged) {
        self.tell(Told::Service(change)).await;
    }

    /// A referral was made or moved here.
    pub async fn referral_moved(&self, change: ReferralChanged) {
        self.tell(Told::Referral(change)).await;
    }

    async fn tell(&self, change: Told) {
        self.apply(change.clone()).await;
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let note = Note {
                origin: self.origin.to_string(),
                change,
            };
            let payload = serde_json::to_string(&note).unwrap_or_default();
            let notify = Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            );
            if let Err(e) = self.db.execute_raw(notify).await {
                tracing::warn!(cause = %e, "could not notify other replicas");
            }
        }
    }

    /// On PostgreSQL, apply what other replicas commit, for as long as the process
    /// runs (reconnecting when the database goes away). Nothing to do on SQLite:
    /// one process serves a SQLite file, and its follower sees other writers.
    pub fn listen(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            return None;
        }
        let changes = self.clone();
        Some(tokio::spawn(async move {
            loop {
                if let Err(e) = changes.listen_once().await {
                    tracing::warn!(cause = %e, "change notifications interrupted; reconnecting");
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }))
    }

    async fn listen_once(&self) -> Result<(), sea_orm::sqlx::Error> {
        let pool = self.db.get_postgres_connection_pool();
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        loop {
            let notification = listener.recv().await?;
            match serde_json::from_str::<Note>(notification.payload()) {
                Ok(note) if note.origin != *self.origin => self.apply(note.change).await,
                Ok(_) => {}
                Err(e) => tracing::warn!(cause = %e, "unreadable change notification"),
            }
        }
    }
}
