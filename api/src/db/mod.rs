//! Database connections. SQLite (the default) gets WAL, a busy timeout and foreign
//! keys on every connection; PostgreSQL connections over TCP get TCP_NODELAY
//! (`nodelay`).

pub mod nodelay;
pub mod rows;

use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, RuntimeErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

/// Open a pool on `url`. A SQLite file is created if missing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_string());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5));
    if url.starts_with("sqlite:") {
        // Writers queue on SQLite's single lock; readers run alongside under WAL.
        options.max_connections(8).min_connections(1);
        options.map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Read pages straight from the OS cache rather than a copy per
                // connection (SQLite caps this at 2 GB): a search page's rows from a
                // million-service file cost a syscall per page without it.
                .pragma("mmap_size", "2147418112")
        });
    } else {
        options.max_connections(16).min_connections(1);
        let server = PgConnectOptions::from_str(url)
            .map_err(|e| DbErr::Conn(RuntimeErr::Internal(e.to_string())))?;
        let (host, port) = (server.get_host().to_string(), server.get_port());
        options.map_sqlx_postgres_pool_opts(move |pool| {
            let (host, port) = (host.clone(), port);
            pool.after_connect(move |_, _| {
                let host = host.clone();
                Box::pin(async move {
                    let peers = nodelay::server_addresses(&host, port).await;
                    if !peers.is_empty() {
                        let set = nodelay::set_on_sockets_to(&peers);
                        tracing::debug!(?set, "TCP_NODELAY on the connections to PostgreSQL");
                    }
                    Ok(())
                })
            })
        });
    }
    Database::connect(options).await
}

/// Begin a transaction that writes. On SQLite it takes the write lock at BEGIN
/// (IMMEDIATE): a deferred transaction that reads and then writes fails with
/// "database is locked" when another writer got there first, where this one waits
/// its turn (busy timeout). PostgreSQL locks rows as it goes.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Bring the schema up to date.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Before each batch of a bulk load: on PostgreSQL, plans made for the batch's own
/// values; on SQLite, a page cache of 128 MB for the connection (the default 2 MB thrashes once a load's indexes outgrow it, and a
/// million-service load slowed to a third of its first speed). A connection keeps
/// it once set: the CLI's loads end with their process, and the demo's seeding in
/// `serve` is a few hundred rows.
pub async fn for_bulk_load(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    match txn.get_database_backend() {
        DatabaseBackend::Sqlite => {
            txn.execute_unprepared("PRAGMA cache_size = -131072")
                .await?;
            // The savepoint each batch takes journals in memory, not in a temp file.
            txn.execute_unprepared("PRAGMA temp_store = MEMORY").await?;
        }
        DatabaseBackend::Postgres => {
            // Plan each lookup for the ids it is given: a prepared statement's generic
            // plan, settled while the tables were still empty, scanned a whole table
            // comparing every row with each of a batch's 1,000 ids (1.3 s a batch
            // once a million-service load reached its last tenth).
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// After a bulk load, fold the WAL back into the database and refresh the planner's
/// statistics: queries right after a large import were measured ~100× slower without.
pub async fn after_bulk_load(db: &DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
            // Table-level statistics only (sqlite_stat1): with per-value samples
            // (sqlite_stat4, compiled into the bundled SQLite) the plan depends on
            // bound values, so every statement was re-prepared on each run (8% of a
            // search's time at 1M services).
            db.execute_unprepared("ANALYZE").await?;
            let samples = db
                .query_one_raw(sea_orm::Statement::from_string(
                    DatabaseBackend::Sqlite,
                    "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4'",
                ))
                .await?;
            // A SQLite built without STAT4 (a system library) has no such table.
            if samples.is_some() {
                db.execute_unprepared("DELETE FROM sqlite_stat4").await?;
                db.execute_unprepared("ANALYZE sqlite_schema").await?;
            }
        }
        DatabaseBackend::Postgres => {
            db.execute_unprepared("ANALYZE").await?;
        }
        _ => {}
    }
    Ok(())
}

/// Whether a database error is the database being out of reach or unable to write
/// (down, restarting, read-only, full, locked past the busy timeout) rather than a
/// bug: the client is told UNAVAILABLE and may retry.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::Conn(_) => return true,
        _ => return false,
    };
    match sqlx.as_ref() {
        Error::Io(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed
        | Error::Tls(_)
        | Error::Protocol(_) => true,
        Error::Database(e) => {
            let code = e.code().unwrap_or_default();
            match db_backend_of(e.as_ref()) {
                // SQLITE_BUSY, _LOCKED, _READONLY, _IOERR, _FULL, _CANTOPEN (and their
                // extended codes, whose low byte is the primary code).
                DatabaseBackend::Sqlite => code
                    .parse::<i32>()
                    .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14)),
                // Connection exceptions, insufficient resources (disk full), operator
                // intervention (shutdown, restart), a read-only transaction or standby.
                _ => {
                    code.starts_with("08")
                        || code.starts_with("53")
                        || code.starts_with("57P")
                        || code == "25006"
                }
            }
        }
        _ => false,
    }
}

fn db_backend_of(e: &dyn sea_orm::sqlx::error::DatabaseError) -> DatabaseBackend {
    if e.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
    {
        DatabaseBackend::Sqlite
    } else {
        DatabaseBackend::Postgres
    }
}

/// Whether the database answers.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// This database's instance id: random, given on first use, kept for good. It tells
/// one database from another where a URL cannot (a file replaced, a server re-pointed).
pub async fn instance_id(db: &DatabaseConnection) -> Result<String, DbErr> {
    use entity::instance;
    use sea_orm::sea_query::OnConflict;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    const NAME: &str = "id";
    if let Some(row) = instance::Entity::find_by_id(NAME).one(db).await? {
        return Ok(row.value);
    }
    // Two processes may get here at once: the first insert wins and both read it.
    instance::Entity::insert(instance::ActiveModel {
        name: Set(NAME.to_owned()),
        value: Set(uuid::Uuid::new_v4().to_string()),
    })
    .on_conflict(
        OnConflict::column(instance::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    instance::Entity::find_by_id(NAME)
        .one(db)
        .await?
        .map(|row| row.value)
        .ok_or_else(|| DbErr::RecordNotFound("instance id".into()))
}
/// Insert rows, or update every column but the key and `keep` where the key exists.
/// Rows repeating a key are dropped (first wins): one statement may not touch a row twice.
pub async fn upsert<'a, E>(
    db: &impl sea_orm::ConnectionTrait,
    rows: impl IntoIterator<Item = &'a E::Model>,
    keep: &[E::Column],
) -> Result<(), sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
    E::Model: serde::Serialize,
{
    rows::insert::<E>(db, rows, rows::Conflict::Update(keep)).await
}
