//! Feeds: one Signpost publishes its Open Referral UK API, another pulls it
//! (`signpost sync oruk`), both real servers over HTTP. A proxy in front of the
//! publisher plays the faults of real feeds: pages that fail, a record deleted, a
//! record that breaks the rules.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use signpost::import::sync::{self, Options, SyncReport};

use crate::helpers::{TestApp, hsds_service, run_cli_async, serve_binary};

/// A publisher with these services (id, name), owned by its authority "partner".
async fn publisher(services: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn().await;
    let records = services
        .iter()
        .enumerate()
        .map(|(i, (id, name))| hsds_service(id, name, 53.43 + i as f64 * 0.001, -2.3))
        .collect();
    let report = app.import_hsds(records, "partner").await;
    assert_eq!(report.landed(), services.len(), "{report}");
    app
}

/// Small pages, quick retries.
fn options() -> Options {
    Options {
        per_page: 2,
        retries: 2,
        backoff: Duration::from_millis(10),
        timeout: Duration::from_secs(10),
        ..Options::default()
    }
}

/// Pull `url` into the puller's authority "council" and let its index see the result.
async fn pull(puller: &TestApp, url: &str, options: &Options) -> SyncReport {
    let council = signpost::domain::auth::ensure_authority(&puller.db, "council", "council")
        .await
        .unwrap();
    let report = sync::pull(&puller.db, &council, url, options)
        .await
        .unwrap();
    puller.sync_index().await;
    report
}

/// The puller's services by the publisher's id: (name, status, source).
async fn pulled(puller: &TestApp) -> HashMap<String, (String, String, Value)> {
    let data = puller
        .data(
            "{ services(filter: { modifiedAfter: \"2000-01-01T00:00:00Z\" }, first: 100) { nodes { id name status source { feed sourceId fetchedAt } } } }",
            json!({}),
        )
        .await;
    data["services"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let source = s["source"].clone();
            let key = source["sourceId"].as_str().unwrap_or("<none>").to_string();
            let name = s["name"].as_str().unwrap().to_string();
            (
                key,
                (name, s["status"].as_str().unwrap().to_string(), source),
            )
        })
        .collect()
}

async fn search_names(app: &TestApp) -> HashSet<String> {
    let data = app
        .data(
            "query($input: SearchInput!) { search(input: $input, first: 50) { edges { node { service { name } } } } }",
            json!({ "input": { "near": { "latitude": 53.43, "longitude": -2.3 }, "radiusMetres": 5000 } }),
        )
        .await;
    data["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["service"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// What the proxy does to the publisher's answers.
#[derive(Default)]
struct Faults {
    /// Page number → answers still to fail with 503.
    failing: HashMap<u32, u32>,
    /// Publisher ids left out of pages and unknown by id, as if deleted.
    deleted: HashSet<String>,
    /// Records added to the first page.
    extra: Vec<Value>,
    /// The query of every page asked for.
    asked: Vec<String>,
    /// List services as Open Referral UK summaries (`service_list`), as most
    /// publishers do: no locations, schedules or costs.
    summaries: bool,
    /// Services read one by one.
    read_by_id: usize,
    /// Answer page 1 whatever page is asked for.
    ignore_page: bool,
    /// Page number → how long it takes to answer.
    slow: HashMap<u32, Duration>,
}

struct Proxy {
    url: String,
    faults: Arc<Mutex<Faults>>,
}

#[derive(Clone)]
struct Upstream {
    base: String,
    faults: Arc<Mutex<Faults>>,
    client: reqwest::Client,
}

async fn proxy(publisher: &TestApp) -> Proxy {
    let faults = Arc::new(Mutex::new(Faults::default()));
    let upstream = Upstream {
        base: publisher.url("/openreferral"),
        faults: faults.clone(),
        client: reqwest::Client::new(),
    };
    let app = axum::Router::new()
        .route("/api/services", axum::routing::get(proxied_page))
        .route("/api/services/{id}", axum::routing::get(proxied_one))
        .with_state(upstream);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Proxy {
        url: format!("http://{addr}/api"),
        faults,
    }
}

async fn proxied_page(State(up): State<Upstream>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let page: u32 = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("page=")?.parse().ok())
        .unwrap_or(1);
    let delay = {
        let mut faults = up.faults.lock().unwrap();
        faults.asked.push(query.clone());
        if let Some(left) = faults.failing.get_mut(&page).filter(|left| **left > 0) {
            *left -= 1;
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        faults.slow.get(&page).copied()
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let query = if up.faults.lock().unwrap().ignore_page {
        let first = |pair: &str| match pair.starts_with("page=") {
            true => "page=1".to_string(),
            false => pair.to_string(),
        };
        query.split('&').map(first).collect::<Vec<_>>().join("&")
    } else {
        query
    };
    let url = format!("{}/services?{query}", up.base);
    let mut body: Value = up
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let faults = up.faults.lock().unwrap();
    let contents = body["contents"].as_array_mut().unwrap();
    contents.retain(|r| !faults.deleted.contains(r["id"].as_str().unwrap()));
    if page == 1 {
        contents.extend(faults.extra.iter().cloned());
    }
    if faults.summaries {
        const SUMMARY: &[&str] = &[
            "id",
            "name",
            "description",
            "url",
            "email",
            "status",
            "organization",
        ];
        for record in contents.iter_mut() {
            let object = record.as_object_mut().unwrap();
            object.retain(|key, _| SUMMARY.contains(&key.as_str()));
        }
    }
    axum::Json(body).into_response()
}

async fn proxied_one(State(up): State<Upstream>, Path(id): Path<String>) -> Response {
    {
        let mut faults = up.faults.lock().unwrap();
        faults.read_by_id += 1;
        if faults.deleted.contains(&id) {
            return StatusCode::NOT_FOUND.into_response();
        }
    }
    let answer = up
        .client
        .get(format!("{}/services/{id}", up.base))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    (status, axum::Json(body)).into_response()
}

const THREE: &[(&str, &str)] = &[
    ("walk-1", "Canal walk"),
    ("lunch-2", "Friday lunch club"),
    ("cafe-3", "Carers' cafe"),
];

#[tokio::test]
async fn a_first_pull_lands_every_service_with_its_source_and_a_second_writes_nothing() {
    let publisher = publisher(THREE).await;
    let puller = TestApp::spawn().await;
    let feed = publisher.url("/openreferral");
    let first = pull(&puller, &feed, &options()).await;
    assert!(first.succeeded(), "{first}");
    assert!(first.full);
    assert_eq!((first.import.written, first.pages), (3, 2), "{first}");
    let services = pulled(&puller).await;
    assert_eq!(services.len(), 3);
    let (name, status, source) = &services["lunch-2"];
    assert_eq!(
        (name.as_str(), status.as_str()),
        ("Friday lunch club", "ACTIVE")
    );
    assert_eq!(source["feed"], json!(feed));
    assert!(source["fetchedAt"].as_str().is_some());
    assert_eq!(
        search_names(&puller).await,
        HashSet::from(["Canal walk", "Friday lunch club", "Carers' cafe"].map(String::from))
    );

    // The ids are the feed's own, moved into its namespace.
    let local = signpost::domain::feeds::ensure(
        &puller.db,
        &signpost::domain::auth::find_authority(&puller.db, "council")
            .await
            .unwrap()
            .unwrap(),
        &feed,
    )
    .await
    .unwrap();
    let row = entity::service::Entity::find_by_id(
        signpost::import::hsds::Pulled {
            feed_id: local.id.clone(),
            url: feed.clone(),
            namespace: uuid::Uuid::parse_str(&local.id).unwrap(),
            fetched_at: chrono::Utc::now(),
        }
        .local_id("walk-1"),
    );
    use sea_orm::EntityTrait as _;
    let row = row.one(&puller.db).await.unwrap().unwrap();
    assert_eq!(row.source_id.as_deref(), Some("walk-1"));
    assert_ne!(row.id, "walk-1");

    // Pulled again: only changes are asked for, and none is written.
    let (audits, versions) = (puller.count("audit_event").await, row.version);
    let second = pull(&puller, &feed, &options()).await;
    assert!(second.succeeded(), "{second}");
    assert!(!second.full && second.since.is_some(), "{second}");
    assert_eq!((second.import.written, second.import.unchanged), (0, 3));
    assert_eq!(puller.count("audit_event").await, audits);
    let row = entity::service::Entity::find_by_id(row.id.clone())
        .one(&puller.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.version, versions);
}

#[tokio::test]
async fn edits_and_retirements_on_the_publisher_arrive_with_the_next_pull() {
    let publisher = publisher(THREE).await;
    let puller = TestApp::spawn().await;
    let feed = publisher.url("/openreferral");
    pull(&puller, &feed, &options()).await;
    let key = publisher.key("partner", "editor").await;
    let renamed = publisher
        .data_as(
            Some(&key),
            "mutation { updateService(id: \"walk-1\", expectedVersion: 1, input: { name: \"Canal and park walk\" }) { service { version } } }",
            json!({}),
        )
        .await;
    assert_eq!(renamed["updateService"]["service"]["version"], 2);
    publisher
        .data_as(
            Some(&key),
            "mutation { retireService(id: \"cafe-3\") { service { status } } }",
            json!({}),
        )
        .await;

    let report = pull(&puller, &feed, &options()).await;
    assert!(report.succeeded(), "{report}");
    assert!(!report.full);
    assert_eq!(report.import.written, 2, "{report}");
    let services = pulled(&puller).await;
    assert_eq!(services["walk-1"].0, "Canal and park walk");
    assert_eq!(services["cafe-3"].1, "INACTIVE");
    assert_eq!(
        search_names(&puller).await,
        HashSet::from(["Canal and park walk", "Friday lunch club"].map(String::from))
    );
    // Retired, it leaves the lists too.
    let listed = puller
        .data("{ services(first: 10) { nodes { name } } }", json!({}))
        .await;
    assert_eq!(listed["services"]["nodes"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_full_pull_retires_what_the_feed_no_longer_lists_once_the_publisher_confirms_it() {
    let publisher = publisher(THREE).await;
    let puller = TestApp::spawn().await;
    let proxy = proxy(&publisher).await;
    let every_pull_full = Options {
        full_every: chrono::Duration::zero(),
        ..options()
    };
    let first = pull(&puller, &proxy.url, &every_pull_full).await;
    assert_eq!(first.import.written, 3, "{first}");

    proxy
        .faults
        .lock()
        .unwrap()
        .deleted
        .insert("lunch-2".into());
    let report = pull(&puller, &proxy.url, &every_pull_full).await;
    assert!(report.succeeded() && report.full, "{report}");
    assert_eq!(report.retired, 1, "{report}");
    let services = pulled(&puller).await;
    assert_eq!(services["lunch-2"].1, "INACTIVE");
    assert_eq!(services["walk-1"].1, "ACTIVE");
    assert!(!search_names(&puller).await.contains("Friday lunch club"));
    // Audited as the feed's doing.
    let audits = puller
        .count(&format!(
            "audit_event WHERE action = 'retire' AND actor = 'feed:{}'",
            proxy.url
        ))
        .await;
    assert_eq!(audits, 1);

    // Back in the feed, it is live again.
    proxy.faults.lock().unwrap().deleted.clear();
    let back = pull(&puller, &proxy.url, &every_pull_full).await;
    assert!(back.succeeded(), "{back}");
    assert_eq!(pulled(&puller).await["lunch-2"].1, "ACTIVE");
    assert!(search_names(&puller).await.contains("Friday lunch club"));
}

#[tokio::test]
async fn a_page_that_fails_is_tried_again_and_a_pull_that_gives_up_resumes_at_its_page() {
    let publisher = publisher(THREE).await;
    let puller = TestApp::spawn().await;
    let proxy = proxy(&publisher).await;

    // Twice unavailable, then fine: the pull rides it out.
    proxy.faults.lock().unwrap().failing.insert(2, 2);
    let report = pull(&puller, &proxy.url, &options()).await;
    assert!(report.succeeded(), "{report}");
    assert_eq!((report.retried, report.import.written), (2, 3), "{report}");

    // Down for longer than the retries: the pull stops at page 2 and keeps its place.
    let more = vec![
        hsds_service("new-4", "New group four", 53.44, -2.3),
        hsds_service("new-5", "New group five", 53.44, -2.3),
    ];
    publisher.import_hsds(more, "partner").await;
    {
        let mut faults = proxy.faults.lock().unwrap();
        faults.failing.insert(2, 10);
        faults.asked.clear();
    }
    let stopped = pull(&puller, &proxy.url, &options()).await;
    assert!(!stopped.succeeded());
    assert!(
        stopped.stopped.as_deref().unwrap().contains("503"),
        "{stopped}"
    );
    assert_eq!(stopped.pages, 1);
    let first_page = proxy.faults.lock().unwrap().asked[0].clone();
    assert!(first_page.contains("modified_after="), "{first_page}");

    // Back up: the next pull begins at page 2 of the same pull.
    {
        let mut faults = proxy.faults.lock().unwrap();
        faults.failing.clear();
        faults.asked.clear();
    }
    let resumed = pull(&puller, &proxy.url, &options()).await;
    assert!(resumed.succeeded(), "{resumed}");
    assert_eq!(resumed.resumed_at, Some(2), "{resumed}");
    let asked = proxy.faults.lock().unwrap().asked.clone();
    assert!(asked[0].contains("page=2"), "{asked:?}");
    assert!(
        asked[0].contains(
            &first_page
                .split('&')
                .find(|p| p.starts_with("modified_after"))
                .unwrap()
                .to_string()
        ),
        "{asked:?}"
    );
    assert_eq!(pulled(&puller).await.len(), 5);
}

#[tokio::test]
async fn a_bad_record_in_a_page_is_reported_by_its_id_and_field_and_the_rest_land() {
    let publisher = publisher(THREE).await;
    let puller = TestApp::spawn().await;
    let proxy = proxy(&publisher).await;
    let mut script = hsds_service("bad-url", "Bad link group", 53.43, -2.3);
    script["url"] = json!("javascript:alert(1)");
    let mut nameless = hsds_service("no-name", "x", 53.43, -2.3);
    nameless["name"] = json!("   ");
    let mut elsewhere = hsds_service("far-4", "Far group", 53.43, -2.3);
    elsewhere["service_at_locations"][0]["location"]["latitude"] = json!(123.0);
    // A good record whose category term renames the shared vocabulary's.
    let mut renaming = hsds_service("rename-5", "Fine group", 53.43, -2.3);
    renaming["attributes"][0]["taxonomy_term"]["name"] = json!("Renamed by a partner");
    proxy.faults.lock().unwrap().extra = vec![script, nameless, elsewhere, renaming];

    let report = pull(&puller, &proxy.url, &options()).await;
    assert_eq!(report.import.written, 4, "{report}");
    let failed: HashMap<&str, &str> = report
        .import
        .failed
        .iter()
        .map(|(id, e)| (id.as_str(), e.path.as_str()))
        .collect();
    assert_eq!(failed.len(), 3, "{report}");
    assert_eq!(failed["bad-url"], "url");
    assert_eq!(failed["no-name"], "name");
    assert!(failed["far-4"].contains("latitude"), "{report}");
    assert!(!report.succeeded());
    // Nothing of them was written: only the four good services and their parts.
    assert_eq!(puller.count("service").await, 4);
    assert_eq!(puller.count("location").await, 4);
    // A feed adds terms it brings, but never rewrites one others share.
    assert_eq!(
        puller
            .count("taxonomy_term WHERE id = 'term-walking' AND name = 'Walking groups'")
            .await,
        1
    );
    assert_eq!(
        puller.count("service WHERE url LIKE 'javascript%'").await,
        0
    );
}

#[tokio::test]
async fn two_feeds_that_use_the_same_ids_never_collide() {
    let first = publisher(&[("svc-1", "Morning walk")]).await;
    let second = publisher(&[("svc-1", "Evening choir")]).await;
    let puller = TestApp::spawn().await;
    for feed in [&first, &second] {
        let report = pull(&puller, &feed.url("/openreferral"), &options()).await;
        assert_eq!(report.import.written, 1, "{report}");
    }
    assert_eq!(puller.count("service").await, 2);
    assert_eq!(puller.count("organization").await, 2);
    assert_eq!(
        search_names(&puller).await,
        HashSet::from(["Morning walk", "Evening choir"].map(String::from))
    );
}

#[tokio::test]
async fn sync_oruk_on_the_command_line_reports_and_serve_keeps_feeds_pulled() {
    let publisher = publisher(THREE).await;
    let feed = publisher.url("/openreferral");
    let (database_url, _dir) = crate::helpers::fresh_database().await;

    let bad = run_cli_async(
        &[
            "sync",
            "oruk",
            "ftp://example.org",
            "--authority",
            "council",
        ],
        &[("SIGNPOST_DATABASE_URL", &database_url)],
    )
    .await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("http or https"));

    let out = run_cli_async(
        &["sync", "oruk", &feed, "--authority", "council"],
        &[("SIGNPOST_DATABASE_URL", &database_url)],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("3 services landed (3 written, 0 unchanged), 0 failed"),
        "{stdout}"
    );

    // A new service on the publisher reaches a server that pulls on schedule.
    publisher
        .import_hsds(
            vec![hsds_service("new-4", "Knit and natter", 53.44, -2.3)],
            "partner",
        )
        .await;
    let target = format!("{feed}=council");
    let (_server, addr) = serve_binary(
        &database_url,
        &[
            "--sync",
            &target,
            "--sync-every",
            "1s",
            "--index-snapshot",
            "off",
        ],
        &[],
    )
    .await;
    let client = reqwest::Client::new();
    let mut seen = String::new();
    for _ in 0..100 {
        seen = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if seen.contains("outcome=\"written\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen.contains("signpost_feed_pulls_total{feed=\""), "{seen}");
    assert!(seen.contains("outcome=\"complete\"}"), "{seen}");
    assert!(seen.contains("outcome=\"written\"} 1"), "{seen}");
    let answer: Value = client
        .post(format!("http://{addr}/graphql"))
        .json(&json!({ "query": "{ services(first: 10) { nodes { name source { sourceId } } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: HashSet<&str> = answer["data"]["services"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains("Knit and natter"), "{answer}");
}

#[tokio::test]
async fn one_pull_at_a_time_holds_a_feed_and_an_editors_retirement_stays() {
    let publisher = publisher(THREE).await;
    let puller = TestApp::spawn().await;
    let feed = publisher.url("/openreferral");
    pull(&puller, &feed, &options()).await;

    // Another process holds the feed: this pull is refused, and nothing changes.
    let council = signpost::domain::auth::find_authority(&puller.db, "council")
        .await
        .unwrap()
        .unwrap();
    let row = signpost::domain::feeds::ensure(&puller.db, &council, &feed)
        .await
        .unwrap();
    let token = signpost::domain::feeds::take(&puller.db, &row.id, chrono::Utc::now())
        .await
        .unwrap()
        .expect("the feed was free");
    let refused = sync::pull(&puller.db, &council, &feed, &options())
        .await
        .expect_err("a held feed refuses a second pull");
    assert_eq!(refused.code(), "UNAVAILABLE", "{}", refused.detail());
    signpost::domain::feeds::end(
        &puller.db,
        &row.id,
        &token,
        signpost::domain::feeds::Ended::Stopped {
            error: "test".into(),
        },
    )
    .await
    .unwrap();

    // An editor here retires a pulled listing; the partner edits it later: it
    // stays retired (only what the feed retired itself may come back).
    let key = puller.key("council", "editor").await;
    let id = pulled_id(&puller, "walk-1").await;
    puller
        .data_as(
            Some(&key),
            "mutation($id: ID!) { retireService(id: $id) { service { status } } }",
            json!({ "id": id }),
        )
        .await;
    let partner = publisher.key("partner", "editor").await;
    publisher
        .data_as(
            Some(&partner),
            "mutation { updateService(id: \"walk-1\", expectedVersion: 1, input: { name: \"Canal walk (Tuesdays)\" }) { service { version } } }",
            json!({}),
        )
        .await;
    let report = pull(&puller, &feed, &options()).await;
    assert!(report.succeeded(), "{report}");
    assert_eq!(report.import.written, 1, "{report}");
    let (name, status, _) = pulled(&puller).await.remove("walk-1").unwrap();
    assert_eq!(
        (name.as_str(), status.as_str()),
        ("Canal walk (Tuesdays)", "INACTIVE")
    );
    assert!(
        !search_names(&puller)
            .await
            .contains("Canal walk (Tuesdays)")
    );
}

/// The puller's id of the publisher's `source`.
async fn pulled_id(puller: &TestApp, source: &str) -> String {
    let data = puller
        .data(
            "{ services(first: 100) { nodes { id source { sourceId } } } }",
            json!({}),
        )
        .await;
    data["services"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"]["sourceId"] == source)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_publisher_that_lists_summaries_is_read_again_by_id() {
    let publisher = publisher(THREE).await;
    let puller = TestApp::spawn().await;
    let proxy = proxy(&publisher).await;
    proxy.faults.lock().unwrap().summaries = true;
    let report = pull(&puller, &proxy.url, &options()).await;
    assert!(report.succeeded(), "{report}");
    assert_eq!(report.import.written, 3, "{report}");
    assert_eq!(proxy.faults.lock().unwrap().read_by_id, 3);
    // Full records landed: their locations make them searchable.
    assert_eq!(search_names(&puller).await.len(), 3);
    assert_eq!(puller.count("location").await, 3);

    // One listed but gone by id is reported, the others land.
    let mut listed_only = hsds_service("ghost-9", "Ghost group", 53.43, -2.3);
    listed_only
        .as_object_mut()
        .unwrap()
        .remove("service_at_locations");
    {
        let mut faults = proxy.faults.lock().unwrap();
        faults.extra = vec![listed_only];
        faults.deleted.insert("ghost-9".into());
    }
    let report = pull(&puller, &proxy.url, &options()).await;
    let failed: Vec<&str> = report
        .import
        .failed
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(failed, ["ghost-9"], "{report}");
    assert!(
        report.import.failed[0].1.message.contains("404"),
        "{report}"
    );
}

#[tokio::test]
async fn an_api_that_ignores_page_stops_the_pull_with_a_message() {
    let publisher = publisher(THREE).await;
    let puller = TestApp::spawn().await;
    let proxy = proxy(&publisher).await;
    proxy.faults.lock().unwrap().ignore_page = true;
    let report = pull(&puller, &proxy.url, &options()).await;
    assert!(!report.succeeded());
    let why = report.stopped.as_deref().unwrap();
    assert!(why.contains("page 2 repeats page 1"), "{report}");
    assert_eq!((report.pages, report.import.written), (1, 2), "{report}");
}

/// An answer larger than the client takes (64 MB) stops the pull at once, saying to ask
/// for smaller pages: it is not tried again, and nothing is written.
#[tokio::test]
async fn an_answer_too_large_stops_the_pull_and_says_to_ask_for_smaller_pages() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let puller = TestApp::spawn().await;
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let huge = move || {
        counter.fetch_add(1, Ordering::Relaxed);
        async {
            format!(
                r#"{{"contents": [], "padding": "{}"}}"#,
                "x".repeat(65 << 20)
            )
        }
    };
    let app = axum::Router::new().route("/api/services", axum::routing::get(huge));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let report = pull(&puller, &format!("http://{addr}/api"), &options()).await;
    assert!(!report.succeeded(), "{report}");
    let why = report.stopped.as_deref().unwrap_or_default();
    assert!(
        why.contains("answer larger than") && why.contains("--per-page"),
        "{report}"
    );
    assert_eq!(asked.load(Ordering::Relaxed), 1, "not tried again");
    assert_eq!((report.pages, report.import.written), (0, 0), "{report}");
    assert_eq!(puller.count("service").await, 0);
}

/// A pull whose lease is taken by another while a page is being read (its own ran
/// out) stops after that page: it does not move the other's cursor or let go of its
/// lease, and the feed stays held by the other.
#[tokio::test]
async fn a_pull_that_loses_its_lease_stops_and_leaves_the_feed_to_the_other() {
    use sea_orm::ConnectionTrait;
    let publisher = publisher(THREE).await;
    let puller = TestApp::spawn().await;
    let proxy = proxy(&publisher).await;
    proxy
        .faults
        .lock()
        .unwrap()
        .slow
        .insert(2, Duration::from_secs(2));
    let council = signpost::domain::auth::ensure_authority(&puller.db, "council", "council")
        .await
        .unwrap();
    let (db, url, owner) = (puller.db.clone(), proxy.url.clone(), council.clone());
    let pulling = tokio::spawn(async move { sync::pull(&db, &owner, &url, &options()).await });
    // Page 2 is being read (slowly): another pull takes the feed meanwhile.
    while proxy.faults.lock().unwrap().asked.len() < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backend = puller.db.get_database_backend();
    let steal = "UPDATE feed SET lease_holder = 'another-pull', resume_page = 7";
    puller
        .db
        .execute_raw(sea_orm::Statement::from_string(backend, steal))
        .await
        .unwrap();
    let report = pulling.await.unwrap().unwrap();
    assert!(!report.succeeded(), "{report}");
    let why = report.stopped.as_deref().unwrap_or_default();
    assert!(why.contains("another pull took it"), "{report}");
    assert_eq!((report.pages, report.retired), (1, 0), "{report}");
    let row = puller
        .row("SELECT lease_holder, resume_page FROM feed")
        .await;
    assert_eq!(
        (
            row.try_get::<Option<String>>("", "lease_holder").unwrap(),
            row.try_get::<Option<i32>>("", "resume_page").unwrap()
        ),
        (Some("another-pull".to_string()), Some(7)),
        "the other's lease and cursor stand"
    );
    // Still held by the other: a new pull is turned away.
    let again = sync::pull(&puller.db, &council, &proxy.url, &options()).await;
    assert!(
        again.is_err_and(|e| e.detail().contains("being pulled by another process")),
        "a second pull while the other holds the feed"
    );
}
