//! Which database this run uses, and that SQLite is set up as promised.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::helpers::{TestApp, on_postgres, say_skipped};

#[tokio::test]
async fn the_suite_runs_on_the_configured_database() {
    let app = TestApp::spawn().await;
    let backend = app.db.get_database_backend();
    if on_postgres() {
        assert_eq!(backend, DatabaseBackend::Postgres);
        return;
    }
    say_skipped("the PostgreSQL run (TEST_DATABASE_URL is not set); this run used SQLite");
    assert_eq!(backend, DatabaseBackend::Sqlite);
    let pragma = |name: &str| {
        let db = app.db.clone();
        let sql = format!("PRAGMA {name}");
        async move {
            let row = db
                .query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_ne!(pragma("busy_timeout").await, "0");
}
