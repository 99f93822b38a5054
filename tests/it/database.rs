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

/// Whether this process's TCP socket bound to local `port` has TCP_NODELAY set; None
/// when no such socket is found.
fn nodelay_of_local_port(port: u16) -> Option<bool> {
    signpost::db::nodelay::tcp_sockets()
        .ok()?
        .into_iter()
        .find(|s| s.local_addr().is_ok_and(|a| a.port() == port))
        .and_then(|s| s.nodelay().ok())
}

/// sqlx 0.9 leaves Nagle's algorithm on; a statement longer than one segment then
/// waited out the server's delayed ACK (40 ms) on a real network. Each connection the
/// pool opens must have TCP_NODELAY.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn postgresql_connections_over_tcp_do_not_wait_for_delayed_acks() {
    if !on_postgres() {
        say_skipped("TCP_NODELAY on PostgreSQL connections (TEST_DATABASE_URL is not set)");
        return;
    }
    let app = TestApp::spawn().await;
    // Hold several pooled connections at once, so more than the first is checked.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(sea_orm::TransactionTrait::begin(&app.db).await.unwrap());
    }
    let mut checked = 0;
    for txn in &held {
        let row = txn
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT inet_client_port() AS port".to_string(),
            ))
            .await
            .unwrap()
            .unwrap();
        let Ok(port) = row.try_get::<i32>("", "port") else {
            say_skipped("TCP_NODELAY: TEST_DATABASE_URL is a Unix socket");
            return;
        };
        assert_eq!(
            nodelay_of_local_port(port as u16),
            Some(true),
            "the pooled connection from local port {port}"
        );
        checked += 1;
    }
    assert_eq!(checked, 4);
}
