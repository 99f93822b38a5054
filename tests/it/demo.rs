//! The demo set: generated, loaded once through the import code, never all expired.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_demo_loads_once_and_reads_as_plausible_current_listings() {
    let app = TestApp::spawn().await;
    let first = signpost::demo::load(&app.db).await.unwrap();
    assert!(first.contains("300 services landed"), "{first}");
    let services = app.count("service").await;
    let second = signpost::demo::load(&app.db).await.unwrap();
    assert!(second.contains("already loaded"), "{second}");
    assert_eq!(
        app.count("service").await,
        services,
        "a restart does not duplicate the demo"
    );

    let data = app
        .data(
            r#"{ services(first: 100, filter: { taxonomyTerms: ["support-groups"] }) {
                edges { node { name freshness capacity { status } locations { postcode } schedules { days } } } } }"#,
            json!({}),
        )
        .await;
    let edges = data["services"]["edges"].as_array().unwrap();
    assert!(
        edges.len() >= 20,
        "befriending, carers and bereavement groups under support-groups"
    );
    let statuses: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["capacity"]["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"ACCEPTING"),
        "the demo is not all expired: {statuses:?}"
    );
    assert!(
        edges
            .iter()
            .all(|e| !e["node"]["schedules"].as_array().unwrap().is_empty())
    );
    let postcode = edges[0]["node"]["locations"][0]["postcode"]
        .as_str()
        .unwrap()
        .to_string();
    let found = app
        .data(
            "query($c: String!) { postcode(code: $c) { code } }",
            json!({ "c": postcode.to_lowercase() }),
        )
        .await;
    assert_eq!(
        found["postcode"]["code"],
        postcode.as_str(),
        "demo postcodes are loaded"
    );
}
