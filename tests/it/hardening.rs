//! Production mode, CORS, rate limits, timeouts and metrics, through real HTTP.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use signpost::config::HttpArgs;
use signpost::graphql::Mode;
use signpost::graphql::SchemaOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, error_code};

fn production() -> SchemaOptions {
    SchemaOptions {
        mode: Mode::Production,
        ..Default::default()
    }
}

const SCHEMA: &str = "{ __schema { queryType { name } } }";

#[tokio::test]
async fn production_hides_the_schema_from_anonymous_and_editor_callers_but_not_analysts_or_admins()
{
    let app = TestApp::spawn_with(production()).await;
    let anonymous = app.gql(SCHEMA, json!({})).await;
    assert!(anonymous["data"]["__schema"].is_null(), "{anonymous}");
    let by_type = app
        .gql(r#"{ __type(name: "Service") { name } }"#, json!({}))
        .await;
    assert!(by_type["data"]["__type"].is_null(), "{by_type}");
    let editor = app.key("trafford", "editor").await;
    let body = app.gql_as(Some(&editor), SCHEMA, json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    for role in ["analyst", "admin"] {
        let key = app.key("trafford", role).await;
        let data = app.data_as(Some(&key), SCHEMA, json!({})).await;
        assert_eq!(data["__schema"]["queryType"]["name"], "Query", "{role}");
    }
    // Ordinary queries are unaffected.
    let data = app.data("{ taxonomyTerms { code } }", json!({})).await;
    assert!(data["taxonomyTerms"].is_array());
}

#[tokio::test]
async fn production_gives_no_did_you_mean_hints_and_development_does() {
    let misspelt = "{ servics(first: 1) { edges { cursor } } }";
    let production = TestApp::spawn_with(production()).await;
    let body = production.gql(misspelt, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("servics"), "{body}");
    assert!(!message.contains("Did you mean"), "{body}");
    let development = TestApp::spawn().await;
    let body = development.gql(misspelt, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("Did you mean"), "{body}");
    // Development answers introspection to anyone (GraphiQL).
    let data = development.data(SCHEMA, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn cors_on_graphql_admits_only_the_configured_origins_and_open_referral_stays_open() {
    let http = HttpArgs {
        cors_origins: vec!["https://app.example.org".parse().unwrap()],
        ..HttpArgs::default()
    };
    let app = TestApp::spawn_configured(SchemaOptions::default(), http).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
    };
    let allowed = preflight("https://app.example.org").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("POST"), "{methods}");
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let open = app
        .client
        .get(app.url("/openreferral/services"))
        .header("origin", "https://anyone.example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(open.headers()["access-control-allow-origin"], "*");
    // With no origins configured, /graphql sends no CORS headers at all.
    let plain = TestApp::spawn().await;
    let response = plain
        .client
        .post(plain.url("/graphql"))
        .header("origin", "https://app.example.org")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

async fn post_from(app: &TestApp, forwarded_for: &str, key: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": "{ __typename }" }));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_noisy_client_gets_429_with_retry_after_and_other_clients_are_served_as_usual() {
    let http = HttpArgs {
        rate_limit: 1,
        rate_burst: 5,
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..HttpArgs::default()
    };
    let app = TestApp::spawn_configured(SchemaOptions::default(), http).await;
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..12 {
        let response = post_from(&app, "203.0.113.1", None).await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 && limited.is_none() {
            limited = Some(response);
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        7,
        "{statuses:?}"
    );
    let limited = limited.unwrap();
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    // The same bucket covers the REST routes, which refuse in their own shape (a
    // token may have come back meanwhile, so ask a few times).
    let mut rest_refusal = None;
    for _ in 0..3 {
        let rest = app
            .client
            .get(app.url("/openreferral/services"))
            .header("x-forwarded-for", "203.0.113.1")
            .send()
            .await
            .unwrap();
        if rest.status() == 429 {
            rest_refusal = Some(rest.json::<Value>().await.unwrap());
            break;
        }
    }
    let rest_refusal = rest_refusal.expect("the REST route shares the client's bucket");
    assert_eq!(
        rest_refusal["error"]["code"], "RATE_LIMITED",
        "{rest_refusal}"
    );
    // Another address behind the same trusted proxy has its own bucket, and is as
    // fast as ever while the first is refused.
    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(post_from(&app, "203.0.113.2", None).await.status(), 200);
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    // A key has its own bucket, wherever it calls from.
    let key = app.key("trafford", "editor").await;
    assert_eq!(
        post_from(&app, "203.0.113.1", Some(&key)).await.status(),
        200
    );
    // Health checks are never limited.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_buy_a_fresh_bucket() {
    let http = HttpArgs {
        rate_limit: 1,
        rate_burst: 3,
        ..HttpArgs::default()
    };
    let app = TestApp::spawn_configured(SchemaOptions::default(), http).await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        // Every request claims another address; the peer is what counts.
        let response = post_from(&app, &format!("198.51.100.{i}"), None).await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
}

#[tokio::test]
async fn an_operation_past_the_execution_timeout_answers_timeout_503_and_writes_nothing() {
    let http = HttpArgs {
        execution_timeout_ms: 1000,
        ..HttpArgs::default()
    };
    let app = TestApp::spawn_configured(SchemaOptions::default(), http).await;
    let key = app.key("trafford", "editor").await;
    // Another connection holds the write lock, so the write must wait for it.
    let blocker = signpost::db::connect(&app.database_url).await.unwrap();
    let lock = signpost::db::begin_write(&blocker).await.unwrap();
    if crate::helpers::on_postgres() {
        use sea_orm::ConnectionTrait;
        lock.execute_unprepared("LOCK TABLE organization IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let started = Instant::now();
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&key)
        .json(&json!({ "query": r#"mutation { createOrganization(input: { name: "Late" }) { organization { id } } }"# }))
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), "TIMEOUT", "{body}");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string());
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    drop(lock);
    blocker.close().await.unwrap();
    let data = app
        .data(
            "{ organizations(first: 10) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["organizations"]["edges"],
        json!([]),
        "nothing half-written"
    );
}

#[tokio::test]
async fn a_body_that_arrives_too_slowly_is_cut_off_at_the_request_timeout() {
    let http = HttpArgs {
        request_timeout_ms: 1000,
        ..HttpArgs::default()
    };
    let app = TestApp::spawn_configured(SchemaOptions::default(), http).await;
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"query\":";
    socket.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = vec![0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut answer))
        .await
        .expect("the server answers instead of waiting for the body")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(
        text.contains("\"TIMEOUT\"") && text.contains("requestId"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // The server is fine.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn metrics_count_operations_by_name_errors_by_code_and_report_pool_and_index() {
    let app = TestApp::spawn().await;
    for _ in 0..2 {
        app.data("query Terms { taxonomyTerms { code } }", json!({}))
            .await;
    }
    app.gql("{ nope }", json!({})).await;
    // Many distinct client-chosen names cannot grow the series without bound.
    for i in 0..220 {
        app.gql(&format!("query Name{i} {{ __typename }}"), json!({}))
            .await;
    }
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(
        value("signpost_graphql_operation_seconds_count{operation=\"Terms\"}"),
        2.0
    );
    assert!(value("signpost_graphql_operation_seconds_count{operation=\"other\"}") >= 20.0);
    assert_eq!(
        value("signpost_graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"}"),
        1.0
    );
    assert!(value("signpost_http_responses_total{status=\"200\"}") >= 222.0);
    assert!(value("signpost_http_responses_total{status=\"400\"}") >= 1.0);
    assert!(value("signpost_db_pool_connections") >= 1.0);
    assert_eq!(value("signpost_search_index_services"), 0.0);
    assert_eq!(value("signpost_live_subscriptions"), 0.0);
    let names = text
        .lines()
        .filter(|l| l.starts_with("signpost_graphql_operation_seconds_count"))
        .count();
    assert!(names <= 201, "{names} operation series");

    // A subscription listening counts while it lasts.
    let socket = crate::live::subscribe(
        &app.addr.to_string(),
        "subscription { capacityChanged(near: { latitude: 53.4, longitude: -2.3 }) { service { id } } }",
        json!({}),
    )
    .await;
    crate::live::listening(&app, 1).await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("\nsignpost_live_subscriptions 1\n"), "{text}");
    drop(socket);
}
