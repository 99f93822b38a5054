//! Live updates: `capacityChanged` over WebSocket (graphql-transport-ws), from this
//! server and, on PostgreSQL, from another `signpost serve` process on the same
//! database (LISTEN/NOTIFY).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TestApp, hsds_service, on_postgres, say_skipped, serve_binary};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const SUBSCRIBE: &str = "subscription($near: PlaceInput!, $terms: [String!]) { capacityChanged(near: $near, radiusMetres: 2000, taxonomyTerms: $terms) { service { id name } capacity { status available } distanceMetres reach } }";

/// Open a graphql-transport-ws subscription on the server at `addr`.
pub async fn subscribe(addr: &str, query: &str, variables: Value) -> Socket {
    subscribe_as(addr, None, query, variables).await
}

/// The same, with a key in `connection_init`'s payload (as browsers must send it).
pub async fn subscribe_as(addr: &str, key: Option<&str>, query: &str, variables: Value) -> Socket {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let payload = match key {
        Some(key) => json!({ "Authorization": format!("Bearer {key}") }),
        None => json!({}),
    };
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    assert_eq!(receive(&mut socket).await["type"], "connection_ack");
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
    socket
}

/// Wait until `app` has `count` subscriptions listening: the server starts one a
/// moment after its subscribe message (it checks the key first), and a change made
/// before that is, rightly, not told.
pub async fn listening(app: &TestApp, count: usize) {
    for _ in 0..500 {
        if app.state.changes.listeners() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{count} subscriptions expected, {} listening",
        app.state.changes.listeners()
    );
}

pub async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
}

/// The next protocol message (pings answered), or None after a second.
pub async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(1), socket.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == "ping" {
                send(socket, json!({ "type": "pong" })).await;
                continue;
            }
            return Some(value);
        }
    }
}

pub async fn receive(socket: &mut Socket) -> Value {
    next(socket).await.expect("a message within a second")
}

async fn set_capacity(addr: &str, key: &str, id: &str, available: i64) {
    let body: Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(key)
        .json(&json!({
            "query": "mutation($id: ID!, $n: Int!) { updateCapacity(serviceId: $id, input: { available: $n, maximum: 10 }) { capacity { status } } }",
            "variables": { "id": id, "n": available }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
}

/// Two services owned by "trafford": one in Sale, one 30 km away in Bolton.
async fn two_services(app: &TestApp) -> String {
    let far = hsds_service("far", "Bolton walk", 53.578, -2.429);
    let report = app
        .import_hsds(
            vec![hsds_service("near", "Sale walk", 53.4333, -2.2989), far],
            "trafford",
        )
        .await;
    assert_eq!(report.landed(), 2);
    app.key("trafford", "editor").await
}

#[tokio::test]
async fn subscribers_hear_capacity_changes_near_them_within_a_second() {
    let app = TestApp::spawn().await;
    let key = two_services(&app).await;
    let addr = app.addr.to_string();
    let near = json!({ "latitude": 53.4340, "longitude": -2.2990 });
    let mut walks = subscribe(
        &addr,
        SUBSCRIBE,
        json!({ "near": near, "terms": ["walking-groups"] }),
    )
    .await;
    let mut debt = subscribe(
        &addr,
        SUBSCRIBE,
        json!({ "near": near, "terms": ["no-such-term"] }),
    )
    .await;
    let refused = receive(&mut debt).await;
    let error = &refused["payload"]["errors"][0]["extensions"];
    assert_eq!(
        (&error["code"], &error["field"]),
        (&json!("BAD_USER_INPUT"), &json!("taxonomyTerms")),
        "an unknown term is refused: {refused}"
    );

    // A change out of range is not sent; the one in range is.
    listening(&app, 1).await;
    set_capacity(&addr, &key, "far", 4).await;
    set_capacity(&addr, &key, "near", 0).await;
    let message = receive(&mut walks).await;
    assert_eq!(message["type"], "next", "{message}");
    let change = &message["payload"]["data"]["capacityChanged"];
    assert_eq!(change["service"]["id"], "near");
    assert_eq!(
        change["capacity"],
        json!({ "status": "FULL", "available": 0 })
    );
    assert_eq!(change["reach"], "AT_LOCATION");
    assert!(change["distanceMetres"].as_f64().unwrap() < 200.0);
    assert!(
        next(&mut walks).await.is_none(),
        "nothing else was in range"
    );
}

#[tokio::test]
async fn a_change_through_one_replica_reaches_subscribers_and_search_on_another() {
    if !on_postgres() {
        say_skipped(
            "replicas share changes through PostgreSQL LISTEN/NOTIFY; set TEST_DATABASE_URL",
        );
        return;
    }
    let app = TestApp::spawn().await;
    let key = two_services(&app).await;

    // A second process: the real binary, serving the same database.
    let (mut child, other) = serve_binary(&app.database_url, &[], &[]).await;
    let near = json!({ "latitude": 53.4340, "longitude": -2.2990 });
    let mut socket = subscribe(
        &app.addr.to_string(),
        SUBSCRIBE,
        json!({ "near": near, "terms": null }),
    )
    .await;
    listening(&app, 1).await;
    set_capacity(&other, &key, "near", 7).await;
    let message = receive(&mut socket).await;
    assert_eq!(
        message["payload"]["data"]["capacityChanged"]["capacity"],
        json!({ "status": "ACCEPTING", "available": 7 }),
        "{message}"
    );
    // This server's search index followed the same notification, with no sync.
    let found = app
        .data(
            "query($near: PlaceInput!) { search(input: { near: $near, capacity: [ACCEPTING] }) { edges { node { service { id } } } } }",
            json!({ "near": near }),
        )
        .await;
    assert_eq!(found["search"]["edges"][0]["node"]["service"]["id"], "near");
    child.kill().await.ok();
}

#[tokio::test]
async fn production_hides_the_schema_over_websocket_too() {
    let app = TestApp::spawn_with(signpost::graphql::SchemaOptions {
        mode: signpost::graphql::Mode::Production,
        ..Default::default()
    })
    .await;
    let addr = app.addr.to_string();
    let mut socket = subscribe(&addr, "{ __schema { queryType { name } } }", json!({})).await;
    let answer = receive(&mut socket).await;
    assert!(
        answer["payload"]["data"]["__schema"].is_null(),
        "the schema over WebSocket: {answer}"
    );
    let mut socket = subscribe(&addr, "{ __typename }", json!({})).await;
    let answer = receive(&mut socket).await;
    assert_eq!(answer["payload"]["data"]["__typename"], "Query", "{answer}");
}
