//! Vocabularies: the starter categories on every fresh database, so a new authority
//! lists its first service without importing anything; `signpost import taxonomy`
//! from HSDS JSON and CSV, all or nothing, a re-import a no-op; `taxonomies` and
//! each term's `children`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, run_cli_async};

const STARTER: &str = "signpost-categories";

async fn import(app: &TestApp, name: &str, contents: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    let output = run_cli_async(
        &["import", "taxonomy", path.to_str().unwrap()],
        &[("SIGNPOST_DATABASE_URL", &app.database_url)],
    )
    .await;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

async fn terms_of(app: &TestApp, vocabulary: &str) -> Vec<(String, String, Option<String>)> {
    let data = app
        .data(
            "query($v: String) { taxonomyTerms(vocabulary: $v) { code name parent { code } } }",
            json!({ "v": vocabulary }),
        )
        .await;
    data["taxonomyTerms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["code"].as_str().unwrap().to_string(),
                t["name"].as_str().unwrap().to_string(),
                t["parent"]["code"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_fresh_database_takes_a_listing_in_a_starter_category_at_once() {
    let app = TestApp::spawn().await;
    let data = app
        .data(
            "{ taxonomies { name termCount description topTerms { code name children { code } } } }",
            json!({}),
        )
        .await;
    let starter = data["taxonomies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == STARTER)
        .cloned()
        .expect("the starter vocabulary is there");
    let top = starter["topTerms"].as_array().unwrap();
    assert!((8..=12).contains(&top.len()), "{starter}");
    let children: usize = top
        .iter()
        .map(|t| t["children"].as_array().unwrap().len())
        .sum();
    assert!((25..=40).contains(&children), "{starter}");
    assert_eq!(starter["termCount"], json!(top.len() + children));
    assert!(
        starter["description"]
            .as_str()
            .unwrap()
            .contains("Signpost")
    );

    // A new authority's first listing, nothing imported.
    let key = app.key("new-council", "editor").await;
    let org = app
        .data_as(
            Some(&key),
            "mutation { createOrganization(input: { name: \"Sale Ramblers\" }) { organization { id } } }",
            json!({}),
        )
        .await["createOrganization"]["organization"]["id"]
        .clone();
    let input = json!({ "organizationId": org, "name": "Sale Strollers",
        "taxonomyTerms": ["walking-groups"],
        "locations": [{ "latitude": 53.4333, "longitude": -2.2989 }] });
    let made = app
        .data_as(
            Some(&key),
            "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id taxonomyTerms { code vocabulary parent { code } } } } }",
            json!({ "input": input }),
        )
        .await;
    let service = &made["createService"]["service"];
    assert_eq!(
        service["taxonomyTerms"],
        json!([{ "code": "walking-groups", "vocabulary": STARTER, "parent": { "code": "physical-activity" } }])
    );
    // A search by the broad heading finds it.
    let found = app
        .data(
            "{ search(input: { near: { latitude: 53.4333, longitude: -2.2989 }, taxonomyTerms: [\"physical-activity\"] }) { edges { node { service { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        found["search"]["edges"][0]["node"]["service"]["id"],
        service["id"]
    );
}

const PAGE: &str = r#"{ "total_items": 3, "contents": [
  { "id": "extra-green", "code": "green-gyms", "name": "Green gyms", "taxonomy": "council-extra",
    "parent_id": "signpost-categories-nature-and-outdoors", "description": "Outdoor conservation workouts" },
  { "id": "extra-chat", "code": "chatty-benches", "name": "Chatty benches", "taxonomy": "council-extra",
    "parent_id": "signpost-categories-social-contact" },
  { "id": "extra-chat-cafe", "code": "chatty-cafes", "name": "Chatty cafés", "taxonomy": "council-extra",
    "parent_id": "extra-chat" } ] }"#;

#[tokio::test]
async fn a_vocabulary_imports_from_json_and_csv_and_importing_it_again_writes_nothing() {
    let app = TestApp::spawn().await;
    let (ok, said) = import(&app, "terms.json", PAGE).await;
    assert!(
        ok && said.contains("3 terms written, 0 unchanged"),
        "{said}"
    );
    let (ok, said) = import(&app, "terms.json", PAGE).await;
    assert!(
        ok && said.contains("0 terms written, 3 unchanged"),
        "{said}"
    );
    assert_eq!(
        terms_of(&app, "council-extra").await,
        [
            (
                "chatty-benches".into(),
                "Chatty benches".into(),
                Some("social-contact".into())
            ),
            (
                "chatty-cafes".into(),
                "Chatty cafés".into(),
                Some("chatty-benches".into())
            ),
            (
                "green-gyms".into(),
                "Green gyms".into(),
                Some("nature-and-outdoors".into())
            ),
        ]
    );
    // The same terms as HSDS tabular CSV, one renamed.
    let csv = "id,code,name,description,parent_id,taxonomy\n\
               extra-green,green-gyms,Green gyms,Outdoor conservation workouts,signpost-categories-nature-and-outdoors,council-extra\n\
               extra-chat,chatty-benches,Chat benches,,signpost-categories-social-contact,council-extra\n\
               extra-chat-cafe,chatty-cafes,Chatty cafés,,extra-chat,council-extra\n";
    let (ok, said) = import(&app, "taxonomy_term.csv", csv).await;
    assert!(
        ok && said.contains("1 terms written, 2 unchanged"),
        "{said}"
    );
    assert_eq!(terms_of(&app, "council-extra").await[0].1, "Chat benches");
    // The imported terms hang under the starter headings.
    let data = app
        .data(
            "{ taxonomies { name topTerms { code children { code children { code } } } } }",
            json!({}),
        )
        .await;
    let starter = data["taxonomies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == STARTER)
        .unwrap();
    let social = starter["topTerms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "social-contact")
        .unwrap();
    let benches = social["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "chatty-benches")
        .expect("an imported child of a starter heading");
    assert_eq!(benches["children"], json!([{ "code": "chatty-cafes" }]));
}

#[tokio::test]
async fn a_missing_parent_or_a_cycle_refuses_the_file_naming_the_term_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let before = app.count("taxonomy_term").await;
    let orphan = json!([
        { "id": "t-fine", "name": "Fine", "taxonomy": "mine" },
        { "id": "t-orphan", "name": "Orphan", "taxonomy": "mine", "parent_id": "nowhere" }
    ]);
    let (ok, said) = import(&app, "orphan.json", &orphan.to_string()).await;
    assert!(!ok, "{said}");
    assert!(
        said.contains("t-orphan.parent_id: 'nowhere' is not a term"),
        "{said}"
    );
    let cyclic = json!([
        { "id": "t-a", "name": "A", "taxonomy": "mine", "parent_id": "t-b" },
        { "id": "t-b", "name": "B", "taxonomy": "mine", "parent_id": "t-a" }
    ]);
    let (ok, said) = import(&app, "cycle.json", &cyclic.to_string()).await;
    assert!(!ok, "{said}");
    assert!(
        said.contains("t-a.parent_id: makes a cycle: t-a → t-b → t-a"),
        "{said}"
    );
    // A loop through a term already loaded: a starter heading made a child of its child.
    let looping = json!([{ "id": "signpost-categories-food", "code": "food", "name": "Food",
        "taxonomy": STARTER, "parent_id": "signpost-categories-food-banks" }]);
    let (ok, said) = import(&app, "loop.json", &looping.to_string()).await;
    assert!(
        !ok && said.contains("signpost-categories-food.parent_id: makes a cycle"),
        "{said}"
    );
    let bad: Value = json!([{ "id": "t-x", "name": "Bad\u{7}", "taxonomy": "mine" }]);
    let (ok, said) = import(&app, "bad.json", &bad.to_string()).await;
    assert!(!ok && said.contains("t-x.name"), "{said}");
    assert_eq!(
        app.count("taxonomy_term").await,
        before,
        "nothing half-written"
    );
    let starter = terms_of(&app, STARTER).await;
    let food = starter.iter().find(|t| t.0 == "food").unwrap();
    assert_eq!(food.2, None, "the refused file changed no parent");
}

#[tokio::test]
async fn reasons_name_circumstances_genders_and_areas_by_the_vocabularies() {
    let app = TestApp::spawn().await;
    let key = app.key("trafford", "editor").await;
    let org = app
        .data_as(
            Some(&key),
            "mutation { createOrganization(input: { name: \"Sale Carers Centre\" }) { organization { id } } }",
            json!({}),
        )
        .await["createOrganization"]["organization"]["id"]
        .clone();
    let input = json!({ "organizationId": org, "name": "Carers' Café", "taxonomyTerms": ["carers"],
        "locations": [{ "latitude": 53.4246, "longitude": -2.3227 }],
        "eligibility": [
            { "criterion": "CIRCUMSTANCE", "value": "carer", "rule": "RESTRICTED_TO" },
            { "criterion": "GENDER", "value": "female", "rule": "SUITABLE_FOR" },
        ] });
    app.data_as(
        Some(&key),
        "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
        json!({ "input": input }),
    )
    .await;
    assert_eq!(
        details(&app).await,
        [
            (
                "GENDER".to_string(),
                "Aimed at women; open to others".to_string()
            ),
            (
                "CIRCUMSTANCES".to_string(),
                "Only for carers; you said carers".to_string()
            ),
        ]
    );
    // The deployment's own name for the code is preferred to the starter one.
    let (ok, said) = import(
        &app,
        "circumstances.csv",
        "id,code,name,description,parent_id,taxonomy\nown-carer,carer,Unpaid carers,,,circumstance\n",
    )
    .await;
    assert!(ok, "{said}");
    app.sync_index().await;
    assert_eq!(
        details(&app).await[1].1,
        "Only for unpaid carers; you said unpaid carers"
    );
}

/// (criterion, detail) of the first result for a man who cares for someone.
async fn details(app: &TestApp) -> Vec<(String, String)> {
    let data = app
        .data(
            "{ search(input: { near: { latitude: 53.4246, longitude: -2.3227 }, person: { circumstances: [\"carer\"], gender: \"male\" } }) { edges { node { fit { reasons { criterion detail } } } } } }",
            json!({}),
        )
        .await;
    data["search"]["edges"][0]["node"]["fit"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["criterion"].as_str().unwrap().to_string(),
                r["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn vocabularies_and_needs_read_in_a_few_queries_not_one_per_term() {
    let app = TestApp::spawn().await;
    let before = app.query_count();
    let data = app
        .data(
            "{ needs { code serviceTypes { code children { code } } } taxonomyTerms(vocabulary: \"signpost-categories\") { code children { code } } }",
            json!({}),
        )
        .await;
    let queries = app.query_count() - before;
    let needs = data["needs"].as_array().unwrap().len();
    let terms = data["taxonomyTerms"].as_array().unwrap().len();
    assert!(needs >= 10 && terms >= 30, "{data}");
    // One per relation (a loader batch may split once); one per term would be 40+.
    assert!(
        queries <= 8,
        "{queries} queries for {needs} needs and {terms} terms"
    );
}
