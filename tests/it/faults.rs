//! Faults: the database going away and coming back (PostgreSQL, through a proxy the
//! test can cut), SQLite read-only or full, and kill -9 in the middle of an import.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use signpost::graphql::SchemaOptions;
use signpost::http::AppState;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{
    error_code, fresh_database, hsds_service, key_for, on_postgres, say_skipped, signpost_bin,
};

/// A server on `db`; returns its base URL.
async fn serve(db: DatabaseConnection) -> String {
    let state = AppState::prepare(db, SchemaOptions::default())
        .await
        .expect("state");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(signpost::http::serve(
        listener,
        state,
        std::future::pending(),
    ));
    url
}

async fn post(url: &str, key: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .timeout(Duration::from_secs(20))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

const CREATE: &str = "mutation($name: String!) { createOrganization(input: { name: $name }) { organization { id } } }";
const COUNT: &str = "{ organizations(first: 100) { edges { node { name } } } }";

async fn names(url: &str) -> Vec<String> {
    let (status, body) = post(url, None, COUNT, json!({})).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["organizations"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A TCP proxy to PostgreSQL that the test can cut (every connection dropped, new
/// ones refused) and restore: a database restart as the server sees it.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    generation: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("address").port();
        let up = Arc::new(AtomicBool::new(true));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let (accepting, cut) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused, as by a stopped server
                }
                let mut cut = cut.subscribe();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            port,
            up,
            generation,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn ready(url: &str) -> u16 {
    reqwest::get(format!("{url}/readyz"))
        .await
        .expect("readyz")
        .status()
        .as_u16()
}

#[tokio::test]
async fn postgres_going_away_fails_fast_with_unavailable_and_recovers_losing_nothing_acknowledged()
{
    if !on_postgres() {
        say_skipped(
            "PostgreSQL restart (SQLite is a file: its faults are the read-only and full tests)",
        );
        return;
    }
    let (direct_url, _) = fresh_database().await;
    let proxy = Proxy::start("127.0.0.1:5432".into()).await;
    let (base, name) = direct_url.rsplit_once('/').expect("database name");
    let (scheme_user, _) = base.rsplit_once('@').expect("user@host");
    let via_proxy = format!("{scheme_user}@127.0.0.1:{}/{name}", proxy.port);
    let db = signpost::db::connect(&via_proxy).await.expect("connect");
    signpost::db::migrate(&db).await.expect("migrate");
    let key = key_for(&db, "council", "editor").await;
    let url = serve(db).await;

    let (status, body) = post(&url, Some(&key), CREATE, json!({ "name": "Before" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ready(&url).await, 200);

    proxy.cut();
    let started = Instant::now();
    let (status, body) = post(&url, Some(&key), CREATE, json!({ "name": "During" })).await;
    assert!(
        status == 503 || status == 401,
        "a write while the database is away: {status} {body}"
    );
    if status == 503 {
        assert_eq!(error_code(&body), "UNAVAILABLE", "{body}");
    }
    let (status, body) = post(&url, None, COUNT, json!({})).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), "UNAVAILABLE", "{body}");
    assert_eq!(ready(&url).await, 503);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "three requests failed fast: {:?}",
        started.elapsed()
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    while ready(&url).await != 200 {
        assert!(Instant::now() < deadline, "readyz did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = post(&url, Some(&key), CREATE, json!({ "name": "After" })).await;
    assert_eq!(status, 200, "{body}");
    let names = names(&url).await;
    assert!(names.contains(&"Before".to_string()), "{names:?}");
    assert!(names.contains(&"After".to_string()), "{names:?}");
    assert!(!names.contains(&"During".to_string()), "{names:?}");
}

#[tokio::test]
async fn a_read_only_sqlite_file_refuses_writes_with_unavailable_and_keeps_serving_reads() {
    if on_postgres() {
        say_skipped("read-only SQLite file (this run is on PostgreSQL)");
        return;
    }
    let (url, _dir) = fresh_database().await;
    let writable = signpost::db::connect(&url).await.expect("connect");
    signpost::db::migrate(&writable).await.expect("migrate");
    let key = key_for(&writable, "council", "editor").await;
    writable.close().await.expect("close");

    let db = signpost::db::connect(&format!("{url}?mode=ro"))
        .await
        .expect("connect read-only");
    let base = serve(db).await;
    let (status, body) = post(&base, Some(&key), CREATE, json!({ "name": "Nope" })).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), "UNAVAILABLE", "{body}");
    assert_eq!(names(&base).await, Vec::<String>::new());
    assert_eq!(ready(&base).await, 200, "reads still work");
}

#[tokio::test]
async fn a_full_sqlite_disk_refuses_writes_with_unavailable_half_writes_nothing_and_keeps_reads() {
    if on_postgres() {
        say_skipped("full SQLite disk (this run is on PostgreSQL)");
        return;
    }
    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    let (url, _dir) = fresh_database().await;
    let setup = signpost::db::connect(&url).await.expect("connect");
    signpost::db::migrate(&setup).await.expect("migrate");
    let pages: i64 = setup
        .query_one_raw(Statement::from_string(
            setup.get_database_backend(),
            "PRAGMA page_count",
        ))
        .await
        .expect("page count")
        .expect("a row")
        .try_get_by_index(0)
        .expect("a number");
    setup.close().await.expect("close");
    // SQLite's page limit answers exactly as a full disk does (SQLITE_FULL), on
    // every connection of the pool.
    let options = SqliteConnectOptions::from_str(&url)
        .expect("options")
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("max_page_count", (pages + 1).to_string());
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .expect("pool");
    let db = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    let key = key_for(&db, "council", "editor").await;
    let base = serve(db).await;
    let long = "x".repeat(9000);
    let mut refused = None;
    for i in 0..20 {
        let (status, body) = post(
            &base,
            Some(&key),
            "mutation($name: String!, $d: String!) { createOrganization(input: { name: $name, description: $d }) { organization { id } } }",
            json!({ "name": format!("Org {i}"), "d": long }),
        )
        .await;
        if status != 200 || body.get("errors").is_some() {
            refused = Some((status, body));
            break;
        }
    }
    let (status, body) = refused.expect("the disk fills up");
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), "UNAVAILABLE", "{body}");
    // Reads go on; what was acknowledged is there, the refused write is not.
    let names = names(&base).await;
    let refused_name = format!("Org {}", names.len());
    assert!(!names.contains(&refused_name), "{names:?}");
    assert_eq!(ready(&base).await, 200);
}

#[tokio::test]
async fn kill_9_during_a_50k_import_keeps_every_acknowledged_batch_and_no_partial_one() {
    let (url, dir) = fresh_database().await;
    let files = tempfile::tempdir().expect("temp dir");
    let file = files.path().join("services.json");
    let records: Vec<Value> = (0..50_000)
        .map(|i| {
            hsds_service(
                &format!("kill-{i:05}"),
                &format!("Group {i}"),
                53.40 + f64::from(i % 200) * 0.001,
                -2.35 + f64::from(i / 200) * 0.0005,
            )
        })
        .collect();
    std::fs::write(&file, serde_json::to_vec(&records).expect("json")).expect("write");
    drop(records);

    let mut child = std::process::Command::new(signpost_bin())
        .args([
            "import",
            "hsds",
            file.to_str().expect("path"),
            "--authority",
            "council",
        ])
        .env("SIGNPOST_DATABASE_URL", &url)
        .env("RUST_LOG", "signpost::import=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start import");
    let stderr = child.stderr.take().expect("stderr");
    let mut acknowledged = 0usize;
    let mut acks = 0;
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        if let Some(n) = line
            .split("records=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
        {
            acknowledged = n;
            acks += 1;
            if acks == 5 {
                child.kill().expect("kill -9"); // SIGKILL on Unix
                break;
            }
        }
    }
    child.wait().expect("reaped");
    assert!(acknowledged >= 1000, "acknowledged {acknowledged}");

    // Restart: open the database again as the server would.
    let db = signpost::db::connect(&url).await.expect("reopen");
    signpost::db::migrate(&db).await.expect("migrate");
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("query")
                .expect("row");
            row.try_get_by_index::<i64>(0).expect("count") as usize
        }
    };
    let services = count("SELECT COUNT(*) FROM service WHERE id LIKE 'kill-%'").await;
    let locations = count("SELECT COUNT(*) FROM location").await;
    assert!(
        services >= acknowledged,
        "{services} < acknowledged {acknowledged}"
    );
    assert!(services < 50_000, "the import was stopped");
    assert_eq!(services % 200, 0, "a partial batch: {services}");
    assert_eq!(
        locations, services,
        "every service whole, with its location"
    );
    if !on_postgres() {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "PRAGMA integrity_check",
            ))
            .await
            .expect("integrity check")
            .expect("row");
        assert_eq!(row.try_get_by_index::<String>(0).expect("text"), "ok");
    }
    drop(dir);
}
