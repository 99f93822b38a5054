//! The search index saved between runs: a restart restores it and catches up with what
//! changed while the server was down; a snapshot written from another database, or
//! damaged, is not used (the index is read from the database instead).

use chrono::{TimeDelta, Utc};
use sea_orm::EntityTrait;
use sea_orm::sea_query::Expr;
use serde_json::{Value, json};
use signpost::domain::search::Opened;

use std::time::Duration;

use crate::helpers::{TestApp, fresh_database, hsds_service, run_cli_async, signpost_bin};

const SEARCH: &str = "query($input: SearchInput!) { search(input: $input, first: 50) {
    edges { node { service { id name } distanceMetres } } } }";
const RETIRE: &str = "mutation($id: ID!) { retireService(id: $id) { service { id } } }";

fn service(id: &str, name: &str, step: f64) -> Value {
    hsds_service(id, name, 53.42 + step * 0.005, -2.30)
}

/// (id, name) of everything within 5 km of the services, nearest first.
async fn found(app: &TestApp) -> Vec<(String, String)> {
    let input = json!({ "input": { "near": { "latitude": 53.42, "longitude": -2.30 } } });
    let data = app.data(SEARCH, input).await;
    data["search"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            let s = &e["node"]["service"];
            (
                s["id"].as_str().unwrap().into(),
                s["name"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn named(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A database holding services a, b and c, last changed an hour ago: a restore
/// reloads only what changed after its snapshot, so these must come from the file.
async fn database_with_old_services() -> (String, Option<tempfile::TempDir>) {
    let (url, dir) = fresh_database().await;
    let seed = TestApp::spawn_on(&url, None).await;
    let records = vec![
        service("a", "Alpha walk", 0.0),
        service("b", "Beta walk", 1.0),
        service("c", "Gamma walk", 2.0),
    ];
    assert!(
        seed.import_hsds(records, "trafford")
            .await
            .failed
            .is_empty()
    );
    stamp_every_service(&seed.db, TimeDelta::hours(1)).await;
    (url, dir)
}

#[tokio::test]
async fn a_restart_restores_the_index_from_its_snapshot_and_catches_up() {
    let (url, _db_dir) = database_with_old_services().await;
    let files = tempfile::tempdir().expect("dir");
    let path = files.path().join("index.snapshot");

    let first = TestApp::spawn_on(&url, Some(&path)).await;
    assert_eq!(first.state.search.opened(), Opened::Database);
    first.state.search.save(&first.db).await.expect("save");
    assert!(path.exists());
    let key = first.key("trafford", "editor").await;
    drop(first);

    // While it is down, another process retires a, renames b and adds d.
    let other = TestApp::spawn_on(&url, None).await;
    other
        .data_as(Some(&key), RETIRE, json!({ "id": "a" }))
        .await;
    let changed = vec![
        service("b", "Beta walk (Tuesdays)", 1.0),
        service("d", "Delta walk", 3.0),
    ];
    assert!(
        other
            .import_hsds(changed, "trafford")
            .await
            .failed
            .is_empty()
    );
    drop(other);

    let again = TestApp::spawn_on(&url, Some(&path)).await;
    // Only the three changed services were read again; c came from the file.
    assert_eq!(again.state.search.opened(), Opened::Snapshot { changed: 3 });
    assert_eq!(
        found(&again).await,
        named(&[
            ("b", "Beta walk (Tuesdays)"),
            ("c", "Gamma walk"),
            ("d", "Delta walk")
        ])
    );
}

/// A snapshot of `url`'s index saved by a server that has since stopped, in a
/// folder of its own.
async fn saved_snapshot(url: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let files = tempfile::tempdir().expect("dir");
    let path = files.path().join("index.snapshot");
    let first = TestApp::spawn_on(url, Some(&path)).await;
    first.state.search.save(&first.db).await.expect("save");
    (files, path)
}

/// A stop writes the snapshot only when the index holds something the file does
/// not: a restart that changed nothing leaves the file as it was (rewriting hundreds
/// of megabytes made the next start read a file the disk was still flushing).
#[tokio::test]
async fn a_snapshot_is_written_again_only_after_a_change() {
    let (url, _db_dir) = database_with_old_services().await;
    let (_files, path) = saved_snapshot(&url).await;
    let modified = || {
        std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime")
    };
    let written = modified();

    let again = TestApp::spawn_on(&url, Some(&path)).await;
    assert_eq!(again.state.search.opened(), Opened::Snapshot { changed: 0 });
    let wrote = again.state.search.save(&again.db).await.expect("save");
    assert!(!wrote, "nothing changed: the file already holds the index");
    assert_eq!(modified(), written);

    let changed = vec![service("d", "Delta walk", 3.0)];
    assert!(
        again
            .import_hsds(changed, "trafford")
            .await
            .failed
            .is_empty()
    );
    again.sync_index().await;
    let wrote = again.state.search.save(&again.db).await.expect("save");
    assert!(wrote, "a service was added since the file was written");
    drop(again);
    let last = TestApp::spawn_on(&url, Some(&path)).await;
    assert!(matches!(
        last.state.search.opened(),
        Opened::Snapshot { .. }
    ));
    assert!(
        found(&last)
            .await
            .contains(&("d".into(), "Delta walk".into()))
    );
}

#[tokio::test]
async fn a_snapshot_from_another_database_or_damaged_is_not_used() {
    let (url, _db_dir) = database_with_old_services().await;
    let (files, path) = saved_snapshot(&url).await;

    // Another database, holding only e, given the first one's snapshot.
    let (other_url, _other_dir) = fresh_database().await;
    let seed = TestApp::spawn_on(&other_url, None).await;
    assert!(
        seed.import_hsds(vec![service("e", "Epsilon walk", 0.0)], "trafford")
            .await
            .failed
            .is_empty()
    );
    drop(seed);
    // Each server gets its own copy: one that refuses a file saves its own there.
    let saved = std::fs::read(&path).expect("snapshot");
    let copy = |name: &str, bytes: &[u8]| {
        let copy = files.path().join(name);
        std::fs::write(&copy, bytes).expect("copy");
        copy
    };
    let foreign = copy("foreign.snapshot", &saved);
    let other = TestApp::spawn_on(&other_url, Some(&foreign)).await;
    assert_eq!(other.state.search.opened(), Opened::Database);
    assert_eq!(found(&other).await, named(&[("e", "Epsilon walk")]));
    drop(other);

    // The first database takes its own file as it is...
    let intact = copy("intact.snapshot", &saved);
    let restored = TestApp::spawn_on(&url, Some(&intact)).await;
    assert_eq!(
        restored.state.search.opened(),
        Opened::Snapshot { changed: 0 }
    );
    drop(restored);
    // ...but not with one byte changed.
    let mut damaged = saved;
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x01;
    let damaged = copy("damaged.snapshot", &damaged);
    let again = TestApp::spawn_on(&url, Some(&damaged)).await;
    assert_eq!(again.state.search.opened(), Opened::Database);
    assert_eq!(
        found(&again).await,
        named(&[("a", "Alpha walk"), ("b", "Beta walk"), ("c", "Gamma walk")])
    );
}

/// `signpost serve` on `url`: the child, its address, and what it said of its index.
async fn serve(url: &str, cache: &std::path::Path) -> (tokio::process::Child, String, String) {
    use tokio::io::AsyncBufReadExt;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(signpost_bin())
        .args(["serve", "--listen", &addr])
        .env("SIGNPOST_DATABASE_URL", url)
        .env_remove("SIGNPOST_INDEX_SNAPSHOT")
        .env("XDG_CACHE_HOME", cache)
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let said = loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("serve said nothing for a minute")
            .expect("read stdout")
            .expect("serve exited before building its index");
        if line.starts_with("search index:") {
            break line;
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let client = reqwest::Client::new();
    for _ in 0..100 {
        let ready = client.get(format!("http://{addr}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return (child, addr, said);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("serve did not become ready");
}

/// Stop a child as a service manager does (SIGTERM) and wait for it to exit.
async fn terminate(mut child: tokio::process::Child) {
    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("serve did not stop within 30 s")
        .expect("wait");
    assert!(status.success(), "{status}");
}

async fn search_ids(addr: &str) -> Vec<String> {
    let body = json!({ "query": SEARCH, "variables": {
        "input": { "near": { "latitude": 53.42, "longitude": -2.30 } } } });
    let response: Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&body)
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("JSON");
    response["data"]["search"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|e| e["node"]["service"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `signpost serve` keeps its snapshot beside a SQLite file (on PostgreSQL in the
/// cache directory), saves it when stopped, and a restart after an import run
/// meanwhile restores from it and finds the import.
#[tokio::test]
async fn serve_saves_a_snapshot_by_default_and_restores_on_restart() {
    let (url, db_dir) = fresh_database().await;
    let dir = tempfile::tempdir().expect("dir");
    let cache = dir.path().join("cache");
    let import = |records: Vec<Value>| {
        let file = dir.path().join("services.json");
        std::fs::write(&file, serde_json::to_vec(&records).expect("JSON")).expect("write");
        let file = file.display().to_string();
        let url = url.clone();
        async move {
            let out = run_cli_async(
                &["import", "hsds", &file, "--authority", "trafford"],
                &[("SIGNPOST_DATABASE_URL", &url)],
            )
            .await;
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    import(vec![
        service("a", "Alpha walk", 0.0),
        service("b", "Beta walk", 1.0),
    ])
    .await;

    let (child, addr, said) = serve(&url, &cache).await;
    assert!(said.contains("read from the database"), "{said}");
    assert_eq!(search_ids(&addr).await, ["a", "b"]);
    terminate(child).await;
    let saved = match &db_dir {
        Some(db_dir) => db_dir.path().join("signpost.db.search-index"),
        None => {
            // <host>-<port>-<database>.search-index
            let database = &url[url.rfind('/').expect("a path") + 1..];
            let ending = format!(
                "-{}.search-index",
                database.split('?').next().unwrap_or(database)
            );
            std::fs::read_dir(cache.join("signpost"))
                .expect("the cache directory was made")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.display().to_string().ends_with(&ending))
                .unwrap_or_else(|| cache.join("none"))
        }
    };
    assert!(saved.exists(), "{} after a stop", saved.display());

    import(vec![service("c", "Gamma walk", 2.0)]).await;
    let (child, addr, said) = serve(&url, &cache).await;
    // a and b were imported moments before the snapshot, within the lag window the
    // catch-up looks back over; still only c, changed since, is read again.
    assert!(
        said.contains("restored from its snapshot, 1 changed"),
        "{said}"
    );
    assert_eq!(search_ids(&addr).await, ["a", "b", "c"]);
    terminate(child).await;
}

/// A database put back to an earlier state (its newest change older than the file's)
/// has lost changes the snapshot holds: the file is not used.
#[tokio::test]
async fn a_snapshot_newer_than_its_database_is_not_used() {
    let (url, _db_dir) = database_with_old_services().await;
    let files = tempfile::tempdir().expect("dir");
    let path = files.path().join("index.snapshot");
    let first = TestApp::spawn_on(&url, Some(&path)).await;
    // Twice: saves queue on one lock, so the second ends after the background save a
    // full read starts; no save then reads the database after it is put back.
    for _ in 0..2 {
        first.state.search.save(&first.db).await.expect("save");
    }
    // As if restored from a backup taken before the services' last changes.
    stamp_every_service(&first.db, TimeDelta::hours(2)).await;
    drop(first);
    let again = TestApp::spawn_on(&url, Some(&path)).await;
    assert_eq!(again.state.search.opened(), Opened::Database);
    assert_eq!(
        found(&again).await,
        named(&[("a", "Alpha walk"), ("b", "Beta walk"), ("c", "Gamma walk")])
    );
}

/// Set every service's `updated_at` to this long ago.
async fn stamp_every_service(db: &sea_orm::DatabaseConnection, ago: TimeDelta) {
    entity::service::Entity::update_many()
        .col_expr(
            entity::service::Column::UpdatedAt,
            Expr::value(Utc::now() - ago),
        )
        .exec(db)
        .await
        .expect("stamp every service");
}
