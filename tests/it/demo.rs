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
            r#"{ services(first: 100, filter: { taxonomyTerms: ["social-contact"] }) {
                edges { node { name freshness capacity { status } locations { postcode } schedules { days } } } } }"#,
            json!({}),
        )
        .await;
    let edges = data["services"]["edges"].as_array().unwrap();
    assert!(
        edges.len() >= 20,
        "befriending groups and lunch clubs under the starter heading social contact"
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

/// The keys a demo start printed: (referrer, provider).
fn printed_keys(said: &str) -> (String, String) {
    let keys: Vec<&str> = said
        .split_whitespace()
        .filter(|w| w.starts_with("sp_"))
        .collect();
    assert_eq!(keys.len(), 2, "{said}");
    (keys[0].to_string(), keys[1].to_string())
}

#[tokio::test]
async fn the_demo_gives_both_sides_of_a_referral_a_key_and_referrals_in_several_states() {
    let app = TestApp::spawn().await;
    signpost::demo::load(&app.db).await.unwrap();
    app.sync_index().await;
    let (key, search) = (&app.state.data_key, &app.state.search);
    let said = signpost::demo::referrals::load(&app.db, key, search)
        .await
        .unwrap();
    let (team, group) = printed_keys(&said);
    let list = "{ referrals { edges { node { status person { name } service { name } } } } }";
    // The team sees one still requested; the group's read of its person opens it.
    for (key, last) in [(&team, "REQUESTED"), (&group, "OPENED")] {
        let data = app.data_as(Some(key), list, json!({})).await;
        let mut statuses: Vec<String> = data["referrals"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["status"].as_str().unwrap().to_string())
            .collect();
        statuses.sort();
        assert_eq!(
            statuses,
            ["ACCEPTED", "COMPLETED", "DECLINED", "OPENED", last],
            "{data}"
        );
    }
    // A restart prints new keys but makes no more referrals.
    let again = signpost::demo::referrals::load(&app.db, key, search)
        .await
        .unwrap();
    let (team_again, _) = printed_keys(&again);
    assert_ne!(team, team_again);
    assert_eq!(app.count("referral").await, 5);
}
