//! Shared server state: the database pool, the built schema, the search index, the
//! demand recorder, the change hub and the report limiter.

use std::num::NonZeroU32;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::metrics::Metrics;
use crate::config::HttpArgs;
use crate::graphql::ReportLimiter;
use crate::live::changes::Changes;

use super::gate::Gate;
use crate::domain::referral::seal::DataKey;
use crate::domain::search::SearchHandle;
use crate::live::demand::DemandRecorder;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// The schema behind the checks every operation passes.
    pub graphql: Gate,
    pub search: SearchHandle,
    pub demand: DemandRecorder,
    pub changes: Changes,
    pub reports: Arc<ReportLimiter>,
    /// How the HTTP front door behaves (CORS, rate limits, trusted proxies).
    pub http: Arc<HttpArgs>,
    pub metrics: Arc<Metrics>,
    /// Seals referrals' personal data (see `with_data_key`).
    pub data_key: DataKey,
}

/// Reports one client address may send: a burst of this many, then one a minute.
pub const REPORTS_PER_CLIENT: u32 = 5;

impl AppState {
    /// Build the state for a migrated database: the schema, the search index (read
    /// from the database) and the demand recorder's writer.
    pub async fn prepare(
        db: DatabaseConnection,
        options: crate::graphql::SchemaOptions,
    ) -> Result<Self, sea_orm::DbErr> {
        Self::prepare_with_snapshot(db, options, None).await
    }

    /// `prepare`, with the search index saved at and restored from `snapshot`.
    pub async fn prepare_with_snapshot(
        db: DatabaseConnection,
        options: crate::graphql::SchemaOptions,
        snapshot: Option<&std::path::Path>,
    ) -> Result<Self, sea_orm::DbErr> {
        let search = SearchHandle::open(&db, options.policy, snapshot).await?;
        let demand = DemandRecorder::start(db.clone());
        let changes = Changes::new(db.clone(), search.clone());
        // On PostgreSQL, hear what other replicas write.
        changes.listen();
        let quota = governor::Quota::per_minute(NonZeroU32::MIN)
            .allow_burst(NonZeroU32::new(REPORTS_PER_CLIENT).unwrap_or(NonZeroU32::MIN));
        let reports = Arc::new(governor::RateLimiter::keyed(quota));
        super::ratelimit::forget_idle(&reports);
        let metrics = Metrics::new().map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        // Development (tests, `schema`) seals with a key of its own; production has
        // none until `with_data_key` gives it one.
        let data_key = match options.mode {
            crate::graphql::Mode::Development => {
                DataKey::ephemeral().map_err(|e| sea_orm::DbErr::Custom(e.detail()))?
            }
            crate::graphql::Mode::Production => DataKey::missing(),
        };
        Ok(Self {
            graphql: Gate::new(crate::graphql::build_schema(options), options.mode),
            db,
            search,
            demand,
            changes,
            reports,
            http: Arc::default(),
            metrics: Arc::new(metrics),
            data_key,
        })
    }

    /// The same state sealing personal data with this key.
    pub fn with_data_key(mut self, key: DataKey) -> Self {
        self.data_key = key;
        self
    }

    /// The same state with these HTTP settings.
    pub fn with_http(mut self, http: HttpArgs) -> Self {
        self.http = Arc::new(http);
        self
    }
}
