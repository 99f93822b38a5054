//! Shared server state: the database pool, the built schema, the search index and
//! the demand recorder.

use sea_orm::DatabaseConnection;

use crate::domain::demand::DemandRecorder;
use crate::domain::search::SearchHandle;
use crate::graphql::AppSchema;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    pub search: SearchHandle,
    pub demand: DemandRecorder,
}

impl AppState {
    /// Build the state for a migrated database: the schema, the search index (read
    /// from the database) and the demand recorder's writer.
    pub async fn prepare(
        db: DatabaseConnection,
        options: crate::graphql::SchemaOptions,
    ) -> Result<Self, sea_orm::DbErr> {
        let search = SearchHandle::build(&db, options.policy).await?;
        let demand = DemandRecorder::start(db.clone());
        Ok(Self {
            schema: crate::graphql::build_schema(options),
            db,
            search,
            demand,
        })
    }
}
