//! The demand signal: one anonymous `search_event` per search — the area (or a coarse
//! grid cell), the terms searched for and how many suitable results there were; never
//! the person or the point. Events are queued and written in batches off the request
//! path, so recording demand costs a search no SQL statement of its own.

use chrono::{DateTime, Utc};
use entity::search_event;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use tokio::sync::{mpsc, oneshot};

const QUEUE: usize = 10_000;
const BATCH: usize = 500;
/// How long the writer gathers events before writing them in one statement.
const GATHER: std::time::Duration = std::time::Duration::from_millis(200);

#[derive(Clone, Debug)]
pub struct SearchEvent {
    pub at: DateTime<Utc>,
    pub area_code: String,
    pub taxonomy_terms: Vec<String>,
    /// Need codes asked for (none recorded when none were asked).
    pub needs: Vec<String>,
    pub suitable_results: usize,
}

enum Message {
    Event(SearchEvent),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct DemandRecorder {
    queue: mpsc::Sender<Message>,
}

impl DemandRecorder {
    /// Start the writer task.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, mut inbox) = mpsc::channel(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::new();
            while let Some(first) = inbox.recv().await {
                let mut acks = Vec::new();
                let deadline = tokio::time::Instant::now() + GATHER;
                let mut next = Some(first);
                while let Some(message) = next.take() {
                    match message {
                        Message::Event(e) => batch.push(e),
                        Message::Flush(ack) => acks.push(ack),
                    }
                    // Gather until the batch is full, the deadline passes, or someone
                    // is waiting on a flush.
                    if batch.len() < BATCH && acks.is_empty() {
                        next = tokio::time::timeout_at(deadline, inbox.recv())
                            .await
                            .ok()
                            .flatten();
                    }
                }
                write(&db, std::mem::take(&mut batch)).await;
                for ack in acks {
                    let _ = ack.send(());
                }
            }
        });
        Self { queue }
    }

    /// Queue an event; if the queue is full the event is dropped (and logged), never
    /// slowing the search that produced it.
    pub fn record(&self, event: SearchEvent) {
        if self.queue.try_send(Message::Event(event)).is_err() {
            tracing::warn!("demand queue full: a search event was dropped");
        }
    }

    /// Wait until every event queued so far is written.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.queue.send(Message::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }
}

async fn write(db: &DatabaseConnection, events: Vec<SearchEvent>) {
    if events.is_empty() {
        return;
    }
    let rows = events.into_iter().map(|e| search_event::ActiveModel {
        created_at: Set(e.at),
        area_code: Set(Some(e.area_code)),
        taxonomy_terms: Set(serde_json::json!(e.taxonomy_terms)),
        suitable_results: Set(i32::try_from(e.suitable_results).unwrap_or(i32::MAX)),
        needs: Set((!e.needs.is_empty()).then(|| serde_json::json!(e.needs))),
        ..Default::default()
    });
    if let Err(e) = search_event::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
    {
        tracing::error!(cause = %e, "search events could not be written");
    }
}
