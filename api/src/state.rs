//! Shared server state: the database pool, the built schema and the read policy.

use sea_orm::DatabaseConnection;

use crate::graphql::AppSchema;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
}
