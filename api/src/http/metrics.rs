//! Prometheus metrics at `/metrics`: HTTP responses by status, GraphQL operations
//! (count and latency histogram per operation name), errors by code, the database
//! pool and the search index. Operation names come from clients, so only a bounded
//! number of distinct, well-formed names get their own series; the rest are `other`.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use super::state::AppState;
use crate::error::AppResult;
use crate::import::sync::SyncReport;

/// Distinct operation names tracked before new ones are counted as `other`.
const MAX_OPERATION_NAMES: usize = 200;

pub struct Metrics {
    registry: Registry,
    http_responses: IntCounterVec,
    operations: HistogramVec,
    errors: IntCounterVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    index_services: IntGauge,
    subscriptions: IntGauge,
    feed_pulls: IntCounterVec,
    feed_records: IntCounterVec,
    names: Mutex<HashSet<String>>,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let http_responses = IntCounterVec::new(
            Opts::new("signpost_http_responses_total", "HTTP responses by status"),
            &["status"],
        )?;
        let operations = HistogramVec::new(
            HistogramOpts::new(
                "signpost_graphql_operation_seconds",
                "GraphQL operations executed, by operation name: count and latency",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["operation"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "signpost_graphql_errors_total",
                "GraphQL errors by extensions.code",
            ),
            &["code"],
        )?;
        let pool_connections =
            IntGauge::new("signpost_db_pool_connections", "Open database connections")?;
        let pool_idle = IntGauge::new("signpost_db_pool_idle", "Idle database connections")?;
        let index_services = IntGauge::new(
            "signpost_search_index_services",
            "Services in the search index",
        )?;
        registry.register(Box::new(http_responses.clone()))?;
        registry.register(Box::new(operations.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        let subscriptions = IntGauge::new(
            "signpost_live_subscriptions",
            "Subscriptions listening for changes (capacityChanged, referralChanged)",
        )?;
        registry.register(Box::new(index_services.clone()))?;
        registry.register(Box::new(subscriptions.clone()))?;
        let feed_pulls = IntCounterVec::new(
            Opts::new(
                "signpost_feed_pulls_total",
                "Pulls of --sync feeds by outcome: complete, stopped (resumes next time), refused (another process holds the feed, or the database failed)",
            ),
            &["feed", "outcome"],
        )?;
        let feed_records = IntCounterVec::new(
            Opts::new(
                "signpost_feed_records_total",
                "Records of --sync feeds by outcome: written, unchanged, failed, retired",
            ),
            &["feed", "outcome"],
        )?;
        registry.register(Box::new(feed_pulls.clone()))?;
        registry.register(Box::new(feed_records.clone()))?;
        Ok(Self {
            registry,
            http_responses,
            operations,
            errors,
            pool_connections,
            pool_idle,
            index_services,
            subscriptions,
            feed_pulls,
            feed_records,
            names: Mutex::default(),
        })
    }

    pub fn response(&self, status: StatusCode) {
        self.http_responses
            .with_label_values(&[status.as_str()])
            .inc();
    }

    pub fn operation(&self, name: Option<&str>, seconds: f64) {
        let label = self.operation_label(name);
        self.operations
            .with_label_values(&[label.as_str()])
            .observe(seconds);
    }

    /// A `--sync` feed's pull (feeds are few and named by the operator).
    pub fn pulled(&self, feed: &str, outcome: &AppResult<SyncReport>) {
        let result = match outcome {
            Ok(report) if report.stopped.is_some() => "stopped",
            Ok(_) => "complete",
            Err(_) => "refused",
        };
        self.feed_pulls.with_label_values(&[feed, result]).inc();
        if let Ok(report) = outcome {
            for (records, count) in [
                ("written", report.import.written),
                ("unchanged", report.import.unchanged),
                ("failed", report.import.failed.len()),
                ("retired", report.retired),
            ] {
                self.feed_records
                    .with_label_values(&[feed, records])
                    .inc_by(count as u64);
            }
        }
    }

    pub fn error(&self, code: &str) {
        // Codes are ours (a fixed set), or the parser's and validator's two.
        let code = if code.len() <= 40 && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        {
            code
        } else {
            "OTHER"
        };
        self.errors.with_label_values(&[code]).inc();
    }

    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".into();
        };
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !well_formed {
            return "other".into();
        }
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.contains(name) || names.len() < MAX_OPERATION_NAMES && names.insert(name.into()) {
            name.into()
        } else {
            "other".into()
        }
    }

    /// The text exposition, with the gauges read now.
    fn render(
        &self,
        db: &DatabaseConnection,
        index_services: usize,
        subscriptions: usize,
    ) -> Result<String, String> {
        let (size, idle) = pool_figures(db);
        self.pool_connections.set(size);
        self.pool_idle.set(idle);
        self.index_services.set(index_services as i64);
        self.subscriptions.set(subscriptions as i64);
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .map_err(|e| e.to_string())?;
        String::from_utf8(out).map_err(|e| e.to_string())
    }
}

fn pool_figures(db: &DatabaseConnection) -> (i64, i64) {
    // Matched on the backend first: the pool getters panic on the other backend.
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (i64::from(pool.size()), pool.num_idle() as i64)
        }
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (i64::from(pool.size()), pool.num_idle() as i64)
        }
        _ => (0, 0),
    }
}

/// `GET /metrics`.
pub async fn handler(State(state): State<AppState>) -> Response {
    let services = state.search.read().len();
    match state
        .metrics
        .render(&state.db, services, state.changes.listeners())
    {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => {
            tracing::error!(cause = %e, "could not render metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Counts every response by status (including those the limits answer before a
/// handler runs).
pub async fn count_responses(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    state.metrics.response(response.status());
    response
}
