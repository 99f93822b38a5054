//! A closed-loop load generator for the bench examples: each connection sends its
//! next round when the last one answered, for a fixed time; figures from the
//! latencies of the rounds that succeeded.

// Each example reports the figures it needs, not all of them.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Caller {
    client: reqwest::Client,
    url: String,
}

impl Caller {
    /// One GraphQL request as `key`; the `data` of an answer without errors.
    pub async fn send(&self, key: &str, query: &str, variables: Value) -> Result<Value, String> {
        let body: Value = self
            .client
            .post(&self.url)
            .bearer_auth(key)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match body.get("errors") {
            Some(errors) => Err(errors.to_string()),
            None => Ok(body["data"].clone()),
        }
    }
}

/// One round: the caller and the round's number (unique across connections).
pub type Round = Arc<
    dyn Fn(Arc<Caller>, usize) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

pub struct Figures {
    pub rounds: usize,
    pub per_second: f64,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    /// Rounds that took 40 ms or more (a delayed ACK's stall).
    pub slow: usize,
    pub errors: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Run `round` on `connections` connections to `base` for `seconds`.
pub async fn measure(base: &str, connections: usize, seconds: u64, round: Round) -> Figures {
    let started = Instant::now();
    let length = Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for worker in 0..connections {
        let caller = Arc::new(Caller {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            url: format!("{base}/graphql"),
        });
        let round = round.clone();
        workers.push(tokio::spawn(async move {
            let (mut millis, mut errors, mut n) = (Vec::new(), 0, worker);
            while started.elapsed() < length {
                let sent = Instant::now();
                match round(caller.clone(), n).await {
                    Ok(()) => millis.push(sent.elapsed().as_secs_f64() * 1000.0),
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("first error: {e}");
                        }
                        errors += 1;
                    }
                }
                n += connections;
            }
            (millis, errors)
        }));
    }
    let (mut millis, mut errors) = (Vec::new(), 0);
    for worker in workers {
        if let Ok((m, e)) = worker.await {
            millis.extend(m);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    millis.sort_by(f64::total_cmp);
    Figures {
        rounds: millis.len(),
        per_second: millis.len() as f64 / elapsed,
        p50: percentile(&millis, 0.5),
        p99: percentile(&millis, 0.99),
        max: millis.last().copied().unwrap_or(f64::NAN),
        slow: millis.iter().filter(|m| **m >= 40.0).count(),
        errors,
    }
}
