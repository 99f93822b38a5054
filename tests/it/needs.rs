//! Needs: a link worker asks by what the person needs; search widens to the service
//! types mapped to it (and their descendants), each result saying in words which need
//! it serves; the map is replaceable.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_field, run_cli_async};

const SEARCH: &str = "query($input: SearchInput!) { search(input: $input) { edges { node { service { id name } fit { suitable reasons { criterion outcome detail } } } } } }";

/// Services in starter categories around Sale, and one far away; (app, ids by name).
async fn sale(app: &TestApp) -> Vec<(String, String)> {
    let key = app.key("trafford", "editor").await;
    let org = app
        .data_as(
            Some(&key),
            "mutation { createOrganization(input: { name: \"Sale Community Trust\" }) { organization { id } } }",
            json!({}),
        )
        .await["createOrganization"]["organization"]["id"]
        .clone();
    let mut made = Vec::new();
    for (name, category, lat) in [
        ("Sale Befrienders", "befriending", 53.4246),
        ("Sale Strollers", "walking-groups", 53.4250),
        ("Sale Debt Advice", "debt-advice", 53.4240),
        ("Sale Singers", "music-and-singing", 53.4244),
        ("Bolton Befrienders", "befriending", 53.578),
    ] {
        let input = json!({ "organizationId": org, "name": name, "taxonomyTerms": [category],
            "locations": [{ "latitude": lat, "longitude": -2.3227 }] });
        let id = app
            .data_as(
                Some(&key),
                "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
                json!({ "input": input }),
            )
            .await["createService"]["service"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        made.push((name.to_string(), id));
    }
    made
}

fn input(terms: Value, needs: Value) -> Value {
    json!({ "input": { "near": { "latitude": 53.4246, "longitude": -2.3227 }, "radiusMetres": 3000,
        "taxonomyTerms": terms, "person": { "needs": needs } } })
}

/// (name, the NEED reasons) of each result.
async fn found(app: &TestApp, variables: Value) -> Vec<(String, Vec<(String, String)>)> {
    let data = app.data(SEARCH, variables).await;
    let mut out: Vec<(String, Vec<(String, String)>)> = data["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let node = &e["node"];
            let needs = node["fit"]["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["criterion"] == "NEED")
                .map(|r| {
                    (
                        r["outcome"].as_str().unwrap().to_string(),
                        r["detail"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (node["service"]["name"].as_str().unwrap().to_string(), needs)
        })
        .collect();
    out.sort();
    out
}

fn met(detail: &str) -> (String, String) {
    ("MET".into(), detail.into())
}

#[tokio::test]
async fn the_starter_needs_name_the_service_types_that_help() {
    let app = TestApp::spawn().await;
    let data = app
        .data("{ needs { code name serviceTypes { code } } }", json!({}))
        .await;
    let needs = data["needs"].as_array().unwrap();
    assert!(needs.len() >= 12, "{data}");
    let loneliness = needs.iter().find(|n| n["code"] == "loneliness").unwrap();
    let types: Vec<&str> = loneliness["serviceTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"befriending") && types.contains(&"lunch-clubs"),
        "{types:?}"
    );
}

#[tokio::test]
async fn a_search_by_need_finds_the_mapped_types_within_reach_and_says_why() {
    let app = TestApp::spawn().await;
    sale(&app).await;
    // Loneliness maps to befriending and walking groups (among others); the Bolton
    // group is out of reach; debt advice and singing are not mapped to it.
    assert_eq!(
        found(&app, input(json!(null), json!(["loneliness"]))).await,
        [
            (
                "Sale Befrienders".into(),
                vec![met("Befriending helps with loneliness")]
            ),
            (
                "Sale Strollers".into(),
                vec![met("Walking groups helps with loneliness")]
            ),
        ]
    );
    // A heading stands for its descendants: low mood maps to arts and creativity.
    let low = found(&app, input(json!(null), json!(["Low-Mood"]))).await;
    assert!(
        low.iter().any(|(name, r)| name == "Sale Singers"
            && r == &[met("Music and singing helps with low mood")]),
        "{low:?}"
    );
    // Alongside a category: the union, and a need a service is not mapped to is
    // UNKNOWN, never a reason to leave it out.
    assert_eq!(
        found(
            &app,
            input(json!(["debt-advice"]), json!(["loneliness", "debt"]))
        )
        .await,
        [
            (
                "Sale Befrienders".into(),
                vec![
                    met("Befriending helps with loneliness"),
                    ("UNKNOWN".into(), "Not listed as helping with debt".into())
                ]
            ),
            (
                "Sale Debt Advice".into(),
                vec![
                    (
                        "UNKNOWN".into(),
                        "Not listed as helping with loneliness".into()
                    ),
                    met("Debt advice helps with debt")
                ]
            ),
            (
                "Sale Strollers".into(),
                vec![
                    met("Walking groups helps with loneliness"),
                    ("UNKNOWN".into(), "Not listed as helping with debt".into())
                ]
            ),
        ]
    );
    let body = app
        .gql(SEARCH, input(json!(null), json!(["loneliness", "ennui"])))
        .await;
    assert_eq!(
        (error_code(&body), error_field(&body)),
        ("BAD_USER_INPUT", "input.person.needs"),
        "{body}"
    );
}

#[tokio::test]
async fn a_replaced_need_map_changes_the_answer_and_a_bad_one_changes_nothing() {
    let app = TestApp::spawn().await;
    sale(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, csv: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, csv).unwrap();
        path
    };
    let env = [("SIGNPOST_DATABASE_URL", app.database_url.as_str())];
    let bad = write(
        "bad.csv",
        "need_code,term_code\nloneliness,music-and-singing\nennui,befriending\nloneliness,no-such-type\n",
    );
    let output = run_cli_async(&["import", "need-map", bad.to_str().unwrap()], &env).await;
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("line 3.need_code") && said.contains("line 4.term_code"),
        "{said}"
    );
    app.sync_index().await;
    assert_eq!(
        found(&app, input(json!(null), json!(["loneliness"])))
            .await
            .len(),
        2,
        "the starter map still answers"
    );

    let good = write(
        "map.csv",
        "need_code,term_code\nloneliness,music-and-singing\n",
    );
    let output = run_cli_async(&["import", "need-map", good.to_str().unwrap()], &env).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    app.sync_index().await;
    assert_eq!(
        found(&app, input(json!(null), json!(["loneliness"]))).await,
        [(
            "Sale Singers".into(),
            vec![met("Music and singing helps with loneliness")]
        )]
    );
    let data = app
        .data("{ needs { code serviceTypes { code } } }", json!({}))
        .await;
    let debt = data["needs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "debt")
        .unwrap();
    assert_eq!(
        debt["serviceTypes"],
        json!([]),
        "the whole map was replaced"
    );
}

const GAPS: &str = "query($input: GapInput!) { serviceGaps(input: $input) { area { code } servicesInArea availablePlaces nearestServiceMetres covered searches unmetSearches } }";

#[tokio::test]
async fn gaps_by_need_equal_gaps_by_its_mapped_types_and_demand_keeps_the_need() {
    let app = TestApp::spawn().await;
    crate::referrals::two_areas(&app).await;
    sale(&app).await;
    app.sync_index().await;
    // One search by need in the west, one by a mapped type in the east.
    let at = |lon: f64| json!({ "latitude": 53.42, "longitude": lon });
    for (near, terms, needs) in [
        (at(-2.335), json!(null), json!(["debt"])),
        (at(-2.305), json!(["benefits-advice"]), json!(null)),
    ] {
        app.data(
            SEARCH,
            json!({ "input": { "near": near, "radiusMetres": 500, "taxonomyTerms": terms,
                "person": { "needs": needs } } }),
        )
        .await;
    }
    app.flush_demand().await;
    let by_need = app
        .data(
            GAPS,
            json!({ "input": { "areaType": "ward", "needs": ["debt"] } }),
        )
        .await;
    let by_types = app
        .data(
            GAPS,
            json!({ "input": { "areaType": "ward", "taxonomyTerms": ["debt-advice", "benefits-advice"] } }),
        )
        .await;
    assert_eq!(by_need, by_types);
    let by_persons_need = app
        .data(
            GAPS,
            json!({ "input": { "areaType": "ward", "person": { "needs": ["debt"] } } }),
        )
        .await;
    assert_eq!(by_persons_need, by_need, "the person's needs count alike");
    let rows = by_need["serviceGaps"].as_array().unwrap();
    let searches: i64 = rows.iter().map(|r| r["searches"].as_i64().unwrap()).sum();
    assert_eq!(searches, 2, "{by_need}");
    assert_eq!(
        rows[0]["servicesInArea"], 1,
        "the debt advice in the west: {by_need}"
    );
    // The demand event keeps the need asked (codes only).
    let needs = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT CAST(needs AS TEXT) AS needs FROM search_event WHERE needs IS NOT NULL"
                .to_string(),
        ))
        .await
        .unwrap();
    let needs: Vec<String> = needs
        .iter()
        .map(|r| r.try_get("", "needs").unwrap())
        .collect();
    assert_eq!(needs.len(), 1);
    assert!(needs[0].contains("\"debt\""), "{needs:?}");
    let body = app
        .gql(
            GAPS,
            json!({ "input": { "areaType": "ward", "needs": ["ennui"] } }),
        )
        .await;
    assert_eq!(
        (error_code(&body), error_field(&body)),
        ("BAD_USER_INPUT", "input.needs")
    );
    let body = app
        .gql(
            GAPS,
            json!({ "input": { "areaType": "ward", "person": { "needs": ["ennui"] } } }),
        )
        .await;
    assert_eq!(
        (error_code(&body), error_field(&body)),
        ("BAD_USER_INPUT", "input.person.needs")
    );
}

#[tokio::test]
async fn terms_imported_while_serving_are_searchable_and_an_empty_need_map_is_refused() {
    let app = TestApp::spawn().await;
    sale(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let terms = dir.path().join("terms.json");
    std::fs::write(
        &terms,
        r#"[{ "id": "own-pen-pals", "code": "pen-pals", "name": "Pen pals", "taxonomy": "council",
             "parent_id": "signpost-categories-social-contact" }]"#,
    )
    .unwrap();
    let env = [("SIGNPOST_DATABASE_URL", app.database_url.as_str())];
    let output = run_cli_async(&["import", "taxonomy", terms.to_str().unwrap()], &env).await;
    assert!(output.status.success());
    // The follower's next tick (here, by hand) knows the new code with no service changed.
    app.sync_index().await;
    let body = app
        .gql(SEARCH, input(json!(["pen-pals"]), json!(null)))
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "need_code,term_code\n").unwrap();
    let output = run_cli_async(&["import", "need-map", empty.to_str().unwrap()], &env).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("holds no rows"));
    app.sync_index().await;
    assert_eq!(
        found(&app, input(json!(null), json!(["loneliness"])))
            .await
            .len(),
        2
    );
}
