//! GraphQL over HTTP: what is accepted, what is refused and how.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn post_must_be_json_other_content_types_get_415() {
    let app = TestApp::spawn().await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
    }
    let no_type = app
        .client
        .post(app.url("/graphql"))
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(no_type.status(), 415);
    let with_charset = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(with_charset.status(), 200);
}

#[tokio::test]
async fn batches_and_malformed_bodies_get_400_with_a_request_id() {
    let app = TestApp::spawn().await;
    let send = |body: &'static [u8]| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for body in [
        &br#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#[..],
        b"{not json",
        b"\xff\xfe\xfd",
        br#"{"variables":{}}"#,
        br#""just a string""#,
    ] {
        let response = send(body).await.unwrap();
        assert_eq!(response.status(), 400, "{}", String::from_utf8_lossy(body));
        let body: Value = response.json().await.unwrap();
        assert!(
            body["errors"][0]["extensions"]["requestId"].is_string(),
            "{body}"
        );
    }
}

#[tokio::test]
async fn bodies_over_64_kib_get_413() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(70 * 1024);
    let body = json!({ "query": format!("{{ __typename }} # {padding}") });
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn mutations_over_get_get_405_and_queries_over_get_work() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { x }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "query Q { __typename }"), ("operationName", "Q")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "Query");
}

#[tokio::test]
async fn graphiql_is_served_to_a_browser() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("graphiql"), "GraphiQL page expected");
}

#[tokio::test]
async fn deep_queries_are_refused_before_running() {
    let app = TestApp::spawn().await;
    // service → organization → services → edges → node → organization ... is a cycle.
    let mut query = String::from("{ services(first: 1) { edges { node { id } } } }");
    for _ in 0..6 {
        query = query.replace(
            "node { id }",
            "node { organization { services(first: 1) { edges { node { id } } } } }",
        );
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["data"].is_null(), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.to_lowercase().contains("nested too deep"),
        "{message}"
    );
    assert_eq!(error_code(&body), "OPERATION_TOO_LARGE");
}

#[tokio::test]
async fn first_multiplies_complexity_so_wide_nested_pages_are_refused() {
    let app = TestApp::spawn().await;
    let query = "{ organizations(first: 100) { edges { node { services(first: 100) { edges { node { id name description url email phone version } } } } } } }";
    let body = app.gql(query, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.to_lowercase().contains("complex"), "{body}");
}

#[tokio::test]
async fn too_many_directives_are_refused() {
    let app = TestApp::spawn().await;
    let directives = "@include(if: true) ".repeat(20);
    let body = app
        .gql(&format!("{{ __typename {directives} }}"), json!({}))
        .await;
    assert!(body["errors"].is_array(), "{body}");
    assert!(body["data"].is_null());
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    app.db.clone().close().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn every_error_carries_a_code_and_the_request_id() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("x-request-id", "req-123")
        .json(&json!({ "query": "{ nope }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-123");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "req-123");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
}

/// graphql-js's `getIntrospectionQuery` with every option on, as GraphiQL sends it.
pub const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    description
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}"#;

#[tokio::test]
async fn operations_past_the_size_limits_are_refused_with_400_and_ordinary_ones_pass() {
    let app = TestApp::spawn().await;
    let post = |query: String| {
        app.client
            .post(app.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
    };
    let aliases: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    let roots: String = (0..21).map(|_| "__typename ").collect();
    let fields: String = (0..25)
        .map(|i| format!("s{i}: services(first: 1) {{ edges {{ node {{ id name description url email phone status version }} }} }} "))
        .collect();
    let operations: String = (0..11)
        .map(|i| format!("query Q{i} {{ __typename }} "))
        .collect();
    let mut bomb = String::from("{ ...F0 } ");
    for i in 0..30 {
        bomb.push_str(&format!(
            "fragment F{i} on Query {{ ...F{} ...F{} }} ",
            i + 1,
            i + 1
        ));
    }
    bomb.push_str("fragment F30 on Query { __typename }");
    for (what, query) in [
        ("aliases", format!("{{ {aliases} }}")),
        ("root fields", format!("{{ {roots} }}")),
        ("fields", format!("{{ {fields} }}")),
        ("operations", operations),
        ("fields", bomb),
    ] {
        let response = post(query).await.unwrap();
        assert_eq!(response.status(), 400, "{what}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "OPERATION_TOO_LARGE",
            "{what}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(what),
            "{body}"
        );
    }
    let response = post(INTROSPECTION.to_string()).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["data"]["__schema"]["types"].as_array().unwrap().len() > 50,
        "{body}"
    );
}
