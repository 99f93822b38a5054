//! The person referred is health data: never in the database's bytes in clear, never
//! in the server's log or metrics, erased on time (by the server's timer and by
//! command) with the statuses and counts kept; and a move made on one replica reaches
//! subscribers on another.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::helpers::{
    TestApp, fresh_database, key_for, on_postgres, run_cli_async, say_skipped, serve_binary,
};
use crate::live::{receive, subscribe_as};
use crate::referrals::{CREATE, Loop, MOVE};

const NAME: &str = "Zebedee Quartermaine";
const PHONE: &str = "07700 900461";

fn planted() -> Value {
    json!({ "name": NAME, "phone": PHONE, "email": "zebedee@example.org",
        "notes": format!("{NAME} prefers mornings") })
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every byte of the database: the SQLite file with its WAL, or on PostgreSQL the
/// heap files of the tables a referral touches (after a checkpoint), when this
/// process may read the data directory. None when they cannot be read here.
async fn database_bytes(app: &TestApp) -> Option<Vec<u8>> {
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(more) = std::fs::read(format!("{path}{suffix}")) {
                bytes.extend(more);
            }
        }
        return Some(bytes);
    }
    let query = |sql: &str| Statement::from_string(DatabaseBackend::Postgres, sql.to_string());
    app.db.execute_raw(query("CHECKPOINT")).await.ok()?;
    let dir: String = app
        .db
        .query_one_raw(query("SHOW data_directory"))
        .await
        .ok()??
        .try_get("", "data_directory")
        .ok()?;
    let mut bytes = Vec::new();
    for table in [
        "referral",
        "referral_event",
        "referral_area",
        "audit_event",
        "search_event",
        "capacity_event",
        "service",
    ] {
        let row = app
            .db
            .query_one_raw(query(&format!(
                "SELECT pg_relation_filepath('{table}') AS path"
            )))
            .await
            .ok()??;
        let path: String = row.try_get("", "path").ok()?;
        bytes.extend(std::fs::read(format!("{dir}/{path}")).ok()?);
    }
    Some(bytes)
}

#[tokio::test]
async fn a_planted_name_never_reaches_the_database_in_clear() {
    let l = Loop::new().await;
    let id = l.refer_to(&l.referrer, &l.service, planted()).await;
    let read = l
        .app
        .data_as(
            Some(&l.provider),
            "query($id: ID!) { referral(id: $id) { version person { name } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(read["referral"]["person"]["name"], NAME);
    let v = read["referral"]["version"].clone();
    let note =
        json!({ "status": "ACCEPTED", "note": format!("{NAME} starts Tuesday, call {PHONE}") });
    let body = l
        .app
        .gql_as(
            Some(&l.provider),
            MOVE,
            json!({ "id": id, "v": v, "input": note }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    // As text through SQL: the audit trail on both databases, and the sealed columns
    // on PostgreSQL (bytea with its printable bytes shown as they are; SQLite's are
    // covered by the byte scan below).
    let backend = l.app.db.get_database_backend();
    let mut queries =
        vec!["SELECT CAST(after AS TEXT) AS t FROM audit_event WHERE after IS NOT NULL"];
    if backend == DatabaseBackend::Postgres {
        queries.push("SELECT encode(sealed, 'escape') AS t FROM referral");
        queries.push("SELECT encode(note_sealed, 'escape') AS t FROM referral_event WHERE note_sealed IS NOT NULL");
    }
    for sql in queries {
        let rows = l
            .app
            .db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
        assert!(!rows.is_empty(), "{sql} reads rows");
        for row in rows {
            let text: String = row.try_get("", "t").unwrap();
            assert!(
                !text.contains(NAME) && !text.contains(PHONE),
                "{sql}: {text}"
            );
        }
    }

    // Nor in what Signpost publishes: the HSDS export and the Open Referral UK API.
    let mut export = Vec::new();
    signpost::openreferral::export::json(&l.app.db, &mut export)
        .await
        .unwrap();
    assert!(holds(&export, "Sale Lunch Club") && !holds(&export, NAME));
    let oruk = l
        .app
        .client
        .get(l.app.url(&format!("/openreferral/services/{}", l.service)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        oruk.contains("Sale Lunch Club") && !oruk.contains(NAME),
        "{oruk}"
    );

    match database_bytes(&l.app).await {
        Some(bytes) => {
            // The scan would find clear text: the listing's own name is there.
            assert!(holds(&bytes, "Sale Lunch Club"), "the scan reads the data");
            assert!(
                !holds(&bytes, NAME),
                "the planted name is in the database's bytes"
            );
            assert!(
                !holds(&bytes, PHONE),
                "the planted phone is in the database's bytes"
            );
            assert!(!holds(&bytes, "zebedee@example.org"));
        }
        None => say_skipped("the PostgreSQL data directory is not readable from this process"),
    }
}

/// Read a child's output to the end in the background, so a chatty log never
/// blocks the server on a full pipe.
fn drain(
    mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> tokio::task::JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut out = Vec::new();
        pipe.read_to_end(&mut out).await.ok();
        out
    })
}

#[tokio::test]
async fn a_planted_name_never_reaches_the_server_log_or_its_metrics() {
    let (url, _dir) = fresh_database().await;
    let db = signpost::db::connect(&url).await.unwrap();
    signpost::db::migrate(&db).await.unwrap();
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let (mut child, addr) = serve_binary(
        &url,
        &["--mode", "development"],
        &[("RUST_LOG", "debug"), ("SIGNPOST_DATA_KEY", key)],
    )
    .await;
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let client = reqwest::Client::new();
    let post = |key: &str, query: &str, variables: Value| {
        client
            .post(format!("http://{addr}/graphql"))
            .bearer_auth(key)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
    };
    let editor = key_for(&db, "trafford", "editor").await;
    let referrer = key_for(&db, "sale-link-workers", "referrer").await;
    let org: Value = post(
        &editor,
        "mutation { createOrganization(input: { name: \"Sale Lunch Club\" }) { organization { id } } }",
        json!({}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let org = org["data"]["createOrganization"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let service: Value = post(
        &editor,
        "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
        json!({ "input": { "organizationId": org, "name": "Sale Lunch Club",
            "locations": [{ "latitude": 53.4246, "longitude": -2.3227 }] } }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let service = service["data"]["createService"]["service"]["id"].clone();
    let provider = signpost::domain::auth::create_key(
        &db,
        "trafford",
        signpost::domain::codes::Role::Provider,
        Some(&org),
        "test",
    )
    .await
    .unwrap()
    .token;
    let made: Value = post(
        &referrer,
        CREATE,
        json!({ "input": { "serviceId": service, "person": planted(), "consent": true,
            "reason": format!("{NAME} is lonely") } }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let id = made["data"]["createReferral"]["referral"]["id"].clone();
    assert!(id.is_string(), "{made}");
    // A refused referral and a refused move echo nothing into the log either.
    let refused: Value = post(
        &referrer,
        CREATE,
        json!({ "input": { "serviceId": service, "person": { "name": NAME, "phone": format!("{PHONE}x") }, "consent": true } }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(refused.get("errors").is_some());
    let read: Value = post(
        &provider,
        "query($id: ID!) { referral(id: $id) { version person { name phone } } }",
        json!({ "id": id }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(read["data"]["referral"]["person"]["name"], NAME, "{read}");
    let v = read["data"]["referral"]["version"].clone();
    let declined: Value = post(
        &provider,
        MOVE,
        json!({ "id": id, "v": v, "input": { "status": "DECLINED", "reason": "NO_CAPACITY",
            "note": format!("Sorry {NAME}") } }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(declined.get("errors").is_none(), "{declined}");
    let metrics = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    child.kill().await.ok();
    let mut log = out.await.unwrap();
    log.extend(err.await.unwrap());
    let log = String::from_utf8_lossy(&log);
    // The log is there to be searched: it recorded the requests at debug level.
    assert!(
        log.lines().count() > 20 && log.contains("/graphql"),
        "{log}"
    );
    for secret in [NAME, PHONE, "zebedee@example.org"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
        assert!(!metrics.contains(secret), "{secret} in /metrics");
    }
}

#[tokio::test]
async fn people_are_erased_on_time_by_the_server_and_by_command_and_the_counts_stay() {
    let l = Loop::new().await;
    let mut closed = Vec::new();
    for _ in 0..2 {
        let id = l.refer().await;
        l.moved(&l.provider, &id, "OPENED").await;
        l.moved(&l.provider, &id, "DECLINED").await;
        closed.push(id);
    }
    let open = l.refer().await;
    let (old, recent) = (&closed[0], &closed[1]);
    let back = chrono::Utc::now() - chrono::Duration::days(3);
    let backend = l.app.db.get_database_backend();
    l.app
        .db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                DatabaseBackend::Postgres => "UPDATE referral SET closed_at = $1 WHERE id = $2",
                _ => "UPDATE referral SET closed_at = ? WHERE id = ?",
            },
            [back.into(), old.clone().into()],
        ))
        .await
        .unwrap();
    let erased = |id: String| {
        let app = &l.app;
        let referrer = l.referrer.clone();
        async move {
            let read = app
                .data_as(
                    Some(&referrer),
                    "query($id: ID!) { referral(id: $id) { status erasedAt person { name } events { status } } }",
                    json!({ "id": id }),
                )
                .await;
            read["referral"].clone()
        }
    };

    // The server's timer erases what closed longer ago than the retention period.
    let (mut child, _) = serve_binary(
        &l.app.database_url,
        &["--referral-retention-days", "2"],
        &[],
    )
    .await;
    let mut done = false;
    for _ in 0..50 {
        if erased(old.clone()).await["erasedAt"].is_string() {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().await.ok();
    assert!(done, "the server erased the referral closed three days ago");
    let kept = erased(old.clone()).await;
    assert_eq!(kept["status"], "DECLINED", "the status stays");
    assert_eq!(kept["person"], Value::Null);
    assert_eq!(
        kept["events"].as_array().unwrap().len(),
        3,
        "the moves stay"
    );
    assert!(erased(recent.clone()).await["person"]["name"].is_string());

    // The command erases by date; a referral still open is never erased.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let output = run_cli_async(
        &["referrals", "erase", "--closed-before", &tomorrow],
        &[("SIGNPOST_DATABASE_URL", &l.app.database_url)],
    )
    .await;
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains("erased the personal data of 1 referrals"),
        "{said}"
    );
    assert_eq!(erased(recent.clone()).await["person"], Value::Null);
    assert!(erased(open).await["person"]["name"].is_string());
    assert_eq!(
        l.app.count("referral").await,
        3,
        "the referrals stay, for counts"
    );
}

#[tokio::test]
async fn a_move_through_one_replica_reaches_a_subscriber_on_another() {
    if !on_postgres() {
        say_skipped(
            "replicas share referral moves through PostgreSQL LISTEN/NOTIFY; set TEST_DATABASE_URL",
        );
        return;
    }
    let l = Loop::new().await;
    let id = l.refer().await;
    let (mut child, other) = serve_binary(&l.app.database_url, &[], &[]).await;
    let mut socket = subscribe_as(
        &l.app.addr.to_string(),
        Some(&l.referrer),
        "subscription { referralChanged { id status } }",
        json!({}),
    )
    .await;
    let moved: Value = reqwest::Client::new()
        .post(format!("http://{other}/graphql"))
        .bearer_auth(&l.provider)
        .json(&json!({ "query": MOVE, "variables": { "id": id, "v": 1, "input": { "status": "OPENED" } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(moved.get("errors").is_none(), "{moved}");
    let told = receive(&mut socket).await;
    assert_eq!(
        told["payload"]["data"]["referralChanged"],
        json!({ "id": id, "status": "OPENED" }),
        "{told}"
    );
    child.kill().await.ok();
}
