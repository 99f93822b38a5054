//! The demo set: generated, loaded once through the import code, never all expired.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_demo_loads_once_and_reads_as_plausible_current_listings() {
    let app = TestApp::spawn().await;
    let first = signpost::demo::load(&app.db).await.unwrap();
    assert!(first.contains("360 services landed"), "{first}");
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

#[tokio::test]
async fn a_search_near_a_trafford_town_on_the_demo_finds_suitable_services_in_distance_order() {
    let app = TestApp::spawn().await;
    signpost::demo::load(&app.db).await.unwrap();
    app.sync_index().await;
    let data = app
        .data(
            r#"{ search(input: { near: { latitude: 53.4246, longitude: -2.3227 }, person: { age: 70 } }, first: 50) {
                edges { node { service { name } distanceMetres reach fit { suitable reasons { criterion outcome detail } } } } } }"#,
            json!({}),
        )
        .await;
    let nodes: Vec<&serde_json::Value> = data["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    assert!(nodes.len() >= 20, "Sale has demo services: {}", nodes.len());
    assert!(nodes.iter().all(|n| n["fit"]["suitable"] == true));
    let distances: Vec<f64> = nodes
        .iter()
        .filter_map(|n| n["distanceMetres"].as_f64())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(nodes.iter().all(|n| {
        !n["fit"]["reasons"][0]["detail"]
            .as_str()
            .unwrap()
            .is_empty()
    }));
}
