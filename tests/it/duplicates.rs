//! Duplicates across sources: the same group pulled from two partners' feeds is
//! proposed with the signals that made it, never a pair within one source; an
//! editor keeps one (the other leaves search, lists and the Open Referral API but
//! stays readable with `replacedBy`) or dismisses the pair for good.

use serde_json::{Value, json};
use signpost::import::sync::{self, Options};

use crate::helpers::{TestApp, error_code, error_field, hsds_service};

/// A service record with a charity number and a phone on its organization.
fn listed(id: &str, name: &str, at: (f64, f64), charity: Option<&str>, phone: &str) -> Value {
    let mut record = hsds_service(id, name, at.0, at.1);
    record["organization"]["phones"] = json!([{ "id": format!("ph-{id}"), "number": phone }]);
    if let Some(number) = charity {
        record["organization"]["organization_identifiers"] = json!([{
            "id": format!("oi-{id}"), "identifier_scheme": "GB-CHC",
            "identifier_type": "Charity number", "identifier": number
        }]);
    }
    record
}

async fn publisher(records: Vec<Value>) -> TestApp {
    let app = TestApp::spawn().await;
    let count = records.len();
    let report = app.import_hsds(records, "partner").await;
    assert_eq!(report.landed(), count, "{report}");
    app
}

/// Pull a publisher into "council" and match, as `serve --sync` does.
async fn pull(puller: &TestApp, publisher: &TestApp) -> sync::SyncReport {
    let council = signpost::domain::auth::ensure_authority(&puller.db, "council", "council")
        .await
        .unwrap();
    let options = Options {
        per_page: 10,
        ..Options::default()
    };
    let url = publisher.url("/openreferral");
    let search = &puller.state.search;
    let report = sync::pull_and_match(&puller.db, Some(search), &council, &url, &options)
        .await
        .unwrap();
    assert!(report.succeeded(), "{report}");
    puller.sync_index().await;
    report
}

const CANDIDATES: &str = "query($after: String) { duplicateCandidates(first: 10, after: $after) { edges { cursor node { id score signals { signal weight detail } services { id name source { sourceId } } } } pageInfo { hasNextPage } } }";

async fn candidates(app: &TestApp, key: &str) -> Vec<Value> {
    let data = app.data_as(Some(key), CANDIDATES, json!({})).await;
    data["duplicateCandidates"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Two partners: the canal walk listed by both (same charity, phone, place); a
/// lunch club and a men's shed in one building; a twin listed twice by one partner.
async fn two_feeds() -> (TestApp, TestApp, TestApp) {
    let first = publisher(vec![
        listed(
            "walk",
            "Canal walk",
            (53.4300, -2.3000),
            Some("1234567"),
            "0161 912 3456",
        ),
        listed(
            "lunch",
            "Friday lunch club",
            (53.4400, -2.3000),
            None,
            "0161 000 1111",
        ),
        listed(
            "run-a",
            "Park run",
            (53.4500, -2.3000),
            None,
            "0161 000 2222",
        ),
        listed(
            "run-b",
            "Park run",
            (53.4500, -2.3000),
            None,
            "0161 000 2222",
        ),
    ])
    .await;
    let second = publisher(vec![
        listed(
            "cw-9",
            "The Canal Walk",
            (53.43004, -2.30003),
            Some("123 4567"),
            "+44 161 912 3456",
        ),
        listed(
            "shed",
            "Men's shed",
            (53.4400, -2.3000),
            None,
            "0161 000 3333",
        ),
    ])
    .await;
    let puller = TestApp::spawn().await;
    let report = pull(&puller, &first).await;
    let proposed = report.matched.map(|m| m.proposed);
    assert_eq!(
        proposed,
        Some(0),
        "one source has nothing to be compared with: {report}"
    );
    let report = pull(&puller, &second).await;
    assert_eq!(report.matched.map(|m| m.proposed), Some(1), "{report}");
    (first, second, puller)
}

#[tokio::test]
async fn a_duplicate_across_two_feeds_is_found_with_its_signals_and_resolved() {
    let (_first, second, puller) = two_feeds().await;
    let key = puller.key("council", "editor").await;
    let found = candidates(&puller, &key).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let candidate = &found[0];
    let signals: Vec<&str> = candidate["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signal"].as_str().unwrap())
        .collect();
    for expected in [
        "ORGANIZATION_IDENTIFIER",
        "NAME",
        "DISTANCE",
        "PHONE",
        "POSTCODE",
    ] {
        assert!(signals.contains(&expected), "{expected} in {signals:?}");
    }
    assert!(candidate["score"].as_f64().unwrap() > 0.95, "{candidate}");
    assert_eq!(signals[0], "ORGANIZATION_IDENTIFIER", "strongest first");
    let sources: Vec<&str> = candidate["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"]["sourceId"].as_str().unwrap())
        .collect();
    let mut sorted = sources.clone();
    sorted.sort();
    assert_eq!(sorted, ["cw-9", "walk"]);
    let id_of = |source: &str| {
        candidate["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"]["sourceId"] == source)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (keep, replace) = (id_of("walk"), id_of("cw-9"));

    // Other callers: another authority's editor sees none; a referrer may not look.
    let other = puller.key("elsewhere", "editor").await;
    assert!(candidates(&puller, &other).await.is_empty());
    let referrer = puller.key("council", "referrer").await;
    let refused = puller.gql_as(Some(&referrer), CANDIDATES, json!({})).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");

    const RESOLVE: &str = "mutation($keep: ID!, $replace: ID!) { resolveDuplicate(keep: $keep, replace: $replace) { service { id status } } }";
    let same = puller
        .gql_as(
            Some(&key),
            RESOLVE,
            json!({ "keep": keep, "replace": keep }),
        )
        .await;
    assert_eq!(
        (error_code(&same), error_field(&same)),
        ("BAD_USER_INPUT", "replace")
    );
    let not_theirs = puller
        .gql_as(
            Some(&other),
            RESOLVE,
            json!({ "keep": keep, "replace": replace }),
        )
        .await;
    assert_eq!(error_code(&not_theirs), "FORBIDDEN", "{not_theirs}");
    let resolved = puller
        .data_as(
            Some(&key),
            RESOLVE,
            json!({ "keep": keep, "replace": replace }),
        )
        .await;
    assert_eq!(
        resolved["resolveDuplicate"]["service"],
        json!({ "id": keep, "status": "ACTIVE" })
    );
    puller.sync_index().await;

    // Gone from search, lists, the Open Referral API and the review list ...
    let search = puller
        .data(
            "query($input: SearchInput!) { search(input: $input, first: 50) { edges { node { service { id } } } } }",
            json!({ "input": { "near": { "latitude": 53.43, "longitude": -2.30 }, "radiusMetres": 2000 } }),
        )
        .await;
    let ids: Vec<&str> = search["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["service"]["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&keep.as_str()) && !ids.contains(&replace.as_str()),
        "{ids:?}"
    );
    let listed = puller
        .data("{ services(first: 50) { nodes { id } } }", json!({}))
        .await;
    assert!(!listed.to_string().contains(&replace));
    let oruk: Value = puller
        .client
        .get(puller.url("/openreferral/services?per_page=50"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!oruk["contents"].to_string().contains(&replace));
    assert!(candidates(&puller, &key).await.is_empty());
    // The replaced one cannot be kept in turn, and the refusal writes nothing.
    let back = puller
        .gql_as(
            Some(&key),
            RESOLVE,
            json!({ "keep": replace, "replace": keep }),
        )
        .await;
    assert_eq!(
        (error_code(&back), error_field(&back)),
        ("BAD_USER_INPUT", "keep")
    );
    // ... still readable by id, pointing at the one kept.
    let read = puller
        .data(
            "query($id: ID!) { service(id: $id) { status replacedBy { id } } }",
            json!({ "id": replace }),
        )
        .await;
    assert_eq!(
        read["service"],
        json!({ "status": "INACTIVE", "replacedBy": { "id": keep } })
    );
    let kept = puller
        .data(
            "query($id: ID!) { service(id: $id) { status } }",
            json!({ "id": keep }),
        )
        .await;
    assert_eq!(kept["service"]["status"], "ACTIVE");
    let one: Value = puller
        .client
        .get(puller.url(&format!("/openreferral/services/{replace}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["status"], "inactive");

    // Its feed changes it later: it stays replaced.
    let partner = second.key("partner", "editor").await;
    second
        .data_as(
            Some(&partner),
            "mutation { updateService(id: \"cw-9\", expectedVersion: 1, input: { name: \"The Canal Walkers\" }) { service { version } } }",
            json!({}),
        )
        .await;
    let report = pull(&puller, &second).await;
    assert_eq!(report.import.written, 1, "{report}");
    let read = puller
        .data(
            "query($id: ID!) { service(id: $id) { name status replacedBy { id } } }",
            json!({ "id": replace }),
        )
        .await;
    assert_eq!(
        read["service"],
        json!({ "name": "The Canal Walkers", "status": "INACTIVE", "replacedBy": { "id": keep } })
    );
}

#[tokio::test]
async fn a_dismissed_pair_is_not_proposed_again() {
    let (_first, second, puller) = two_feeds().await;
    let key = puller.key("council", "editor").await;
    let found = candidates(&puller, &key).await;
    let id = found[0]["id"].as_str().unwrap().to_string();
    let dismissed = puller
        .data_as(
            Some(&key),
            "mutation($id: ID!) { dismissDuplicate(id: $id) { candidate { id score } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(dismissed["dismissDuplicate"]["candidate"]["id"], json!(id));
    assert!(candidates(&puller, &key).await.is_empty());

    // The publisher changes its copy and adds a twin of the lunch club; the pull
    // matches both again: the new pair is proposed, the dismissed one stays so.
    let partner = second.key("partner", "editor").await;
    second
        .data_as(
            Some(&partner),
            "mutation { updateService(id: \"cw-9\", expectedVersion: 1, input: { description: \"Every Tuesday at ten.\" }) { service { version } } }",
            json!({}),
        )
        .await;
    let twin = listed(
        "fl-2",
        "Friday Lunch Club",
        (53.44002, -2.30001),
        None,
        "0161 000 1111",
    );
    second.import_hsds(vec![twin], "partner").await;
    let report = pull(&puller, &second).await;
    assert_eq!(report.import.written, 2, "{report}");
    assert_eq!(report.matched.map(|m| m.proposed), Some(1), "{report}");
    let open = candidates(&puller, &key).await;
    assert_eq!(open.len(), 1);
    assert_ne!(open[0]["id"], json!(id));
    assert_eq!(puller.count("duplicate_candidate").await, 2);
    assert_eq!(
        puller
            .count("audit_event WHERE action = 'dismiss' AND entity = 'duplicate_candidate'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_authoritys_own_import_is_matched_with_what_it_pulls() {
    let (first, _second, puller) = two_feeds().await;
    let _ = first;
    // The council lists the lunch club itself, as a file import does.
    let council = signpost::domain::auth::find_authority(&puller.db, "council")
        .await
        .unwrap()
        .unwrap();
    let since = chrono::Utc::now();
    let own = listed(
        "own-lunch",
        "Friday Lunch Club",
        (53.44001, -2.30001),
        None,
        "0161 000 1111",
    );
    let report = signpost::import::hsds::import(&puller.db, vec![own], &council)
        .await
        .unwrap();
    assert_eq!(report.written, 1);
    let source = signpost::domain::duplicates::Source::Authority(council.id);
    let proposed =
        signpost::import::match_duplicates(&puller.db, Some(&puller.state.search), &source, since)
            .await
            .unwrap();
    assert_eq!(proposed.proposed, 1);
    let key = puller.key("council", "editor").await;
    let found = candidates(&puller, &key).await;
    let names: Vec<String> = found
        .iter()
        .map(|c| {
            let mut names: Vec<&str> = c["services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap())
                .collect();
            names.sort();
            names.join(" / ")
        })
        .collect();
    assert!(
        names.contains(&"Friday Lunch Club / Friday lunch club".to_string()),
        "{names:?}"
    );
    // Paged one at a time, most likely first, the cursor carries on.
    let page = puller
        .data_as(
            Some(&key),
            "{ duplicateCandidates(first: 1) { edges { cursor node { score } } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    let edge = &page["duplicateCandidates"]["edges"][0];
    assert_eq!(page["duplicateCandidates"]["pageInfo"]["hasNextPage"], true);
    let rest = puller
        .data_as(Some(&key), CANDIDATES, json!({ "after": edge["cursor"] }))
        .await;
    let rest = rest["duplicateCandidates"]["edges"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert!(rest[0]["node"]["score"].as_f64() <= edge["node"]["score"].as_f64());
}

#[tokio::test]
async fn a_feed_pulled_over_an_authoritys_own_listings_is_matched_with_them() {
    let puller = TestApp::spawn().await;
    // The council's own listing, imported before it pulls any feed.
    let own = listed(
        "own-walk",
        "Canal Walk",
        (53.43001, -2.30002),
        Some("1234567"),
        "0161 912 3456",
    );
    puller.import_hsds(vec![own], "council").await;
    let partner = publisher(vec![listed(
        "walk",
        "The canal walk",
        (53.4300, -2.3000),
        Some("1234567"),
        "0161 912 3456",
    )])
    .await;
    let report = pull(&puller, &partner).await;
    assert_eq!(report.matched.map(|m| m.proposed), Some(1), "{report}");
    let key = puller.key("council", "editor").await;
    let found = candidates(&puller, &key).await;
    assert_eq!(found.len(), 1);
    let sources: Vec<Value> = found[0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].clone())
        .collect();
    assert!(
        sources.contains(&Value::Null),
        "one side is the council's own: {sources:?}"
    );
}

#[tokio::test]
async fn register_numbers_given_through_the_api_match_a_feeds_listing_of_another_name() {
    let puller = TestApp::spawn().await;
    let key = puller.key("council", "editor").await;
    let bad = puller
        .gql_as(
            Some(&key),
            "mutation { createOrganization(input: { name: \"Trust\", identifiers: [{ identifier: \"1234567\" }] }) { organization { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (error_code(&bad), error_field(&bad)),
        ("BAD_USER_INPUT", "input.identifiers[0].type")
    );
    let org = puller
        .data_as(
            Some(&key),
            "mutation { createOrganization(input: { name: \"Canal Trust\", identifiers: [{ scheme: \"GB-CHC\", type: \"Charity number\", identifier: \"1234567\" }] }) { organization { id identifiers { scheme type identifier } } } }",
            json!({}),
        )
        .await;
    let org = &org["createOrganization"]["organization"];
    assert_eq!(
        org["identifiers"],
        json!([{ "scheme": "GB-CHC", "type": "Charity number", "identifier": "1234567" }])
    );
    puller
        .data_as(
            Some(&key),
            "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
            json!({ "input": {
                "organizationId": org["id"], "name": "Towpath strollers",
                "locations": [{ "latitude": 53.43008, "longitude": -2.30004 }]
            } }),
        )
        .await;
    let partner = publisher(vec![listed(
        "walk",
        "Canal walk",
        (53.4300, -2.3000),
        Some("1234567"),
        "0161 912 3456",
    )])
    .await;
    let report = pull(&puller, &partner).await;
    assert_eq!(report.matched.map(|m| m.proposed), Some(1), "{report}");
    let found = candidates(&puller, &key).await;
    let signals: Vec<&str> = found[0]["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["signal"].as_str().unwrap())
        .collect();
    assert_eq!(
        signals,
        ["ORGANIZATION_IDENTIFIER", "DISTANCE"],
        "{found:?}"
    );
}
