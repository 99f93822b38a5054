//! Authorities keep their listings current: authenticated, scoped writes with
//! validation, optimistic versions and an audit trail, visible to search at once.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_field, hsds_service};

const CREATE_ORG: &str = "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id name } } }";
const CREATE: &str = "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id name version description url email phone status taxonomyTerms { code } locations { latitude longitude postcode addresses { address1 city } accessibility } eligibility { minimumAge maximumAge rules { criterion value rule } } costOptions { amountPence concessions } schedules { days opensAt closesAt } languages { code } serviceAreas { extent } deliveryModes referralRoutes } } }";
const UPDATE: &str = "mutation($id: ID!, $v: Int!, $input: UpdateServiceInput!) { updateService(id: $id, expectedVersion: $v, input: $input) { service { id name version description lastVerifiedAt } } }";
const CAPACITY: &str = "mutation($id: ID!, $input: CapacityInput!) { updateCapacity(serviceId: $id, input: $input) { capacity { status available maximum waitlistLength typicalWaitDays expiresAt } } }";
const RETIRE: &str =
    "mutation($id: ID!) { retireService(id: $id) { service { id status version } } }";
const VERIFY: &str = "mutation($id: ID!) { verifyService(id: $id) { service { id lastVerifiedAt freshness version } } }";
const SEARCH: &str = "query($input: SearchInput!) { search(input: $input, first: 50) { edges { node { service { id } distanceMetres } } } }";

/// An app with the "walking-groups" term loaded (by another authority's import).
async fn app_with_terms() -> TestApp {
    let app = TestApp::spawn().await;
    let report = app
        .import_hsds(vec![hsds_service("seed", "Seed walk", 53.0, -2.0)], "seed")
        .await;
    assert_eq!(report.landed(), 1);
    app
}

/// An app with one full listing of "trafford", and an editor key for it.
async fn one_listing() -> (TestApp, String, String) {
    let app = app_with_terms().await;
    let key = app.key("trafford", "editor").await;
    let org = organization(&app, &key, "Trust").await;
    let id = create_service(&app, &key, full_service(&org)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    (app, key, id)
}

async fn organization(app: &TestApp, key: &str, name: &str) -> String {
    let data = app
        .data_as(Some(key), CREATE_ORG, json!({ "input": { "name": name } }))
        .await;
    data["createOrganization"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn full_service(org: &str) -> Value {
    json!({
        "organizationId": org,
        "name": "Sale Strollers",
        "description": "A gentle walk.\nTea after.",
        "url": "https://strollers.example.org/",
        "email": "hello@strollers.example.org",
        "phone": "0161 123 4567",
        "taxonomyTerms": ["walking-groups"],
        "minimumAge": 50.5,
        "maximumAge": 99,
        "eligibility": [{ "criterion": "CIRCUMSTANCE", "value": "carer", "rule": "SUITABLE_FOR" }],
        "locations": [{
            "name": "Sale Water Park", "latitude": 53.4333, "longitude": -2.2989, "postcode": "m33 2le",
            "address": { "address1": "Rifle Road", "city": "Sale" },
            "accessibility": ["STEP_FREE", "PARKING"]
        }],
        "costOptions": [{ "option": "Per walk", "amountPence": 200, "concessions": ["carer"] }],
        "schedules": [{ "days": ["TUESDAY", "THURSDAY"], "opensAt": "10:00", "closesAt": "12:00" }],
        "languages": ["en", "PL"],
        "serviceAreas": [{ "name": "Sale", "extent": { "type": "Polygon", "coordinates": [[[-2.35, 53.40], [-2.25, 53.40], [-2.25, 53.45], [-2.35, 53.45], [-2.35, 53.40]]] } }],
        "deliveryModes": ["IN_PERSON"],
        "referralRoutes": ["SELF", "LINK_WORKER"]
    })
}

async fn create_service(app: &TestApp, key: &str, input: Value) -> Value {
    app.data_as(Some(key), CREATE, json!({ "input": input }))
        .await["createService"]["service"]
        .clone()
}

async fn search_ids(app: &TestApp, near: (f64, f64)) -> Vec<String> {
    let data = app
        .data(
            SEARCH,
            json!({ "input": { "near": { "latitude": near.0, "longitude": near.1 }, "radiusMetres": 3000 } }),
        )
        .await;
    data["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["service"]["id"].as_str().unwrap().to_string())
        .collect()
}

async fn version_of(app: &TestApp, id: &str) -> i64 {
    app.data(
        "query($id: ID!) { service(id: $id) { version } }",
        json!({ "id": id }),
    )
    .await["service"]["version"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn an_editor_creates_a_whole_listing_that_search_finds_at_once() {
    let app = app_with_terms().await;
    let key = app.key("trafford", "editor").await;
    let org = organization(&app, &key, "Sale Walkers Trust").await;
    let created = create_service(&app, &key, full_service(&org)).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["version"], 1);
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["description"], "A gentle walk.\nTea after.");
    assert_eq!(
        created["taxonomyTerms"],
        json!([{ "code": "walking-groups" }])
    );
    assert_eq!(
        created["locations"],
        json!([{ "latitude": 53.4333, "longitude": -2.2989, "postcode": "M33 2LE",
                 "addresses": [{ "address1": "Rifle Road", "city": "Sale" }], "accessibility": ["STEP_FREE", "PARKING"] }])
    );
    assert_eq!(created["eligibility"]["minimumAge"], 50.5);
    assert_eq!(
        created["eligibility"]["rules"],
        json!([{ "criterion": "CIRCUMSTANCE", "value": "carer", "rule": "SUITABLE_FOR" }])
    );
    assert_eq!(
        created["costOptions"],
        json!([{ "amountPence": 200, "concessions": ["carer"] }])
    );
    assert_eq!(
        created["schedules"],
        json!([{ "days": ["TUESDAY", "THURSDAY"], "opensAt": "10:00:00", "closesAt": "12:00:00" }])
    );
    assert_eq!(
        created["languages"],
        json!([{ "code": "en" }, { "code": "pl" }])
    );
    assert_eq!(created["serviceAreas"][0]["extent"]["type"], "Polygon");
    assert_eq!(created["referralRoutes"], json!(["SELF", "LINK_WORKER"]));

    // No follower tick, no sync: the write is searchable as soon as it answers.
    assert!(
        search_ids(&app, (53.4340, -2.2990))
            .await
            .contains(&id.to_string())
    );
    assert_eq!(
        app.count(&format!(
            "audit_event WHERE entity = 'service' AND entity_id = '{id}' AND action = 'create' AND actor LIKE 'key:%'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn updates_carry_the_version_read_and_a_stale_one_is_a_conflict_that_changes_nothing() {
    let (app, key, id) = one_listing().await;
    let updated = app
        .data_as(
            Some(&key),
            UPDATE,
            json!({ "id": id, "v": 1, "input": { "name": "Sale Strollers (Tuesdays)", "description": null } }),
        )
        .await;
    let service = &updated["updateService"]["service"];
    assert_eq!(service["version"], 2);
    assert_eq!(service["name"], "Sale Strollers (Tuesdays)");
    assert_eq!(
        service["description"],
        Value::Null,
        "an explicit null clears"
    );
    assert_eq!(
        service["lastVerifiedAt"],
        Value::Null,
        "only verifying moves it"
    );

    let stale = app
        .gql_as(
            Some(&key),
            UPDATE,
            json!({ "id": id, "v": 1, "input": { "name": "Lost update" } }),
        )
        .await;
    assert_eq!(error_code(&stale), "CONFLICT");
    assert_eq!(stale["errors"][0]["extensions"]["currentVersion"], 2);
    assert_eq!(stale["data"]["updateService"], Value::Null);
    assert_eq!(version_of(&app, &id).await, 2);

    // Leaving a list out keeps it; giving one replaces it.
    let moved = app
        .data_as(
            Some(&key),
            "mutation($id: ID!, $input: UpdateServiceInput!) { updateService(id: $id, expectedVersion: 2, input: $input) { service { taxonomyTerms { code } locations { latitude } } } }",
            json!({ "id": id, "input": { "locations": [{ "latitude": 53.50, "longitude": -2.30 }], "serviceAreas": [] } }),
        )
        .await;
    assert_eq!(
        moved["updateService"]["service"],
        json!({ "taxonomyTerms": [{ "code": "walking-groups" }], "locations": [{ "latitude": 53.5 }] })
    );
    assert!(!search_ids(&app, (53.4340, -2.2990)).await.contains(&id));
    assert!(search_ids(&app, (53.50, -2.30)).await.contains(&id));
    assert_eq!(
        app.count("location").await,
        2,
        "the old location went with its link"
    );
}

#[tokio::test]
async fn of_forty_concurrent_updates_from_one_version_exactly_one_wins() {
    let (app, key, id) = one_listing().await;
    let attempts = (0..40).map(|i| {
        let (app, key, id) = (&app, &key, &id);
        async move {
            app.gql_as(
                Some(key),
                UPDATE,
                json!({ "id": id, "v": 1, "input": { "name": format!("Writer {i}") } }),
            )
            .await
        }
    });
    let bodies = futures::future::join_all(attempts).await;
    let wins: Vec<&Value> = bodies
        .iter()
        .filter(|b| b.get("errors").is_none())
        .collect();
    let conflicts = bodies
        .iter()
        .filter(|b| error_code(b) == "CONFLICT")
        .count();
    assert_eq!(wins.len(), 1, "{bodies:?}");
    assert_eq!(conflicts, 39, "{bodies:?}");
    let winner = wins[0]["data"]["updateService"]["service"]["name"].clone();
    let now = app
        .data(
            "query($id: ID!) { service(id: $id) { name version } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(now["service"]["name"], winner);
    assert_eq!(now["service"]["version"], 2);
    assert_eq!(
        app.count(&format!(
            "audit_event WHERE entity_id = '{id}' AND action = 'update'"
        ))
        .await,
        1,
        "the audit trail agrees"
    );
}

#[tokio::test]
async fn another_authoritys_listing_is_forbidden_and_nothing_changes() {
    let app = app_with_terms().await;
    let owner = app.key("trafford", "editor").await;
    let other = app.key("stockport", "editor").await;
    let admin_elsewhere = app.key("stockport", "admin").await;
    let org = organization(&app, &owner, "Trust").await;
    let id = create_service(&app, &owner, full_service(&org)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let audits = app.count("audit_event").await;
    let attempts = [
        (
            UPDATE,
            json!({ "id": id, "v": 1, "input": { "name": "Hijacked" } }),
        ),
        (RETIRE, json!({ "id": id })),
        (VERIFY, json!({ "id": id })),
        (CAPACITY, json!({ "id": id, "input": { "status": "FULL" } })),
        (
            "mutation($id: ID!) { updateOrganization(id: $id, input: { name: \"Hijacked\" }) { organization { id } } }",
            json!({ "id": org }),
        ),
        (
            CREATE,
            json!({ "input": { "organizationId": org, "name": "Squatter" } }),
        ),
    ];
    for key in [&other, &admin_elsewhere] {
        for (query, variables) in &attempts {
            let body = app.gql_as(Some(key), query, variables.clone()).await;
            assert_eq!(error_code(&body), "FORBIDDEN", "{query}: {body}");
        }
    }
    assert_eq!(app.count("audit_event").await, audits);
    assert_eq!(app.count("capacity").await, 0);
    assert_eq!(app.count("service WHERE name = 'Squatter'").await, 0);
    let now = app
        .data("query($id: ID!) { service(id: $id) { name version status lastVerifiedAt organization { name } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        now["service"],
        json!({ "name": "Sale Strollers", "version": 1, "status": "ACTIVE", "lastVerifiedAt": null, "organization": { "name": "Trust" } })
    );
}

#[tokio::test]
async fn writes_need_an_editor_key() {
    let app = app_with_terms().await;
    let analyst = app.key("trafford", "analyst").await;
    let input = json!({ "input": { "name": "Nobody's" } });
    let body = app.gql(CREATE_ORG, input.clone()).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let body = app.gql_as(Some(&analyst), CREATE_ORG, input).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(app.count("organization").await, 1, "only the seed's");
    let body = app.gql(RETIRE, json!({ "id": "seed" })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let body = app
        .gql_as(Some(&analyst), RETIRE, json!({ "id": "nope" }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let editor = app.key("trafford", "editor").await;
    let body = app
        .gql_as(Some(&editor), RETIRE, json!({ "id": "nope" }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn every_bad_input_names_its_field_and_writes_nothing() {
    let app = app_with_terms().await;
    let key = app.key("trafford", "editor").await;
    let org = organization(&app, &key, "Trust").await;
    let base = full_service(&org);
    let with = |path: &[&str], value: Value| {
        let mut input = base.clone();
        let mut node = &mut input;
        for step in &path[..path.len() - 1] {
            node = match step.parse::<usize>() {
                Ok(i) => &mut node[i],
                Err(_) => &mut node[*step],
            };
        }
        node[path[path.len() - 1]] = value;
        input
    };
    let long = "x".repeat(201);
    let cases = [
        (
            with(&["locations", "0", "latitude"], json!(100.0)),
            "input.locations[0].latitude",
        ),
        (
            with(&["locations", "0", "longitude"], json!(-181.0)),
            "input.locations[0].longitude",
        ),
        (
            with(&["locations", "0", "postcode"], json!("NOT A CODE")),
            "input.locations[0].postcode",
        ),
        (with(&["email"], json!("not-an-email")), "input.email"),
        (with(&["phone"], json!("call me")), "input.phone"),
        (with(&["url"], json!("javascript:alert(1)")), "input.url"),
        (
            with(&["url"], json!("data:text/html,<script>alert(1)</script>")),
            "input.url",
        ),
        (with(&["minimumAge"], json!(131)), "input.minimumAge"),
        (with(&["minimumAge"], json!(-1)), "input.minimumAge"),
        (with(&["maximumAge"], json!(40)), "input.minimumAge"),
        (with(&["name"], json!(long)), "input.name"),
        (with(&["name"], json!("   ")), "input.name"),
        (with(&["name"], json!("Bell\u{7}")), "input.name"),
        (
            with(&["description"], json!("y".repeat(10_001))),
            "input.description",
        ),
        (
            with(
                &["taxonomyTerms"],
                json!(["walking-groups", "no-such-term"]),
            ),
            "input.taxonomyTerms",
        ),
        (
            with(&["costOptions", "0", "amountPence"], json!(-5)),
            "input.costOptions[0].amountPence",
        ),
        (
            with(&["schedules", "0", "opensAt"], json!("25:00")),
            "input.schedules[0].opensAt",
        ),
        (
            with(&["schedules", "0", "closesAt"], json!("09:00")),
            "input.schedules[0].closesAt",
        ),
        (
            with(&["schedules", "0", "days"], json!([])),
            "input.schedules[0].days",
        ),
        (
            with(&["languages"], json!(["english"])),
            "input.languages[0]",
        ),
        (
            with(
                &["serviceAreas", "0", "extent"],
                json!({ "type": "Point", "coordinates": [0, 0] }),
            ),
            "input.serviceAreas[0].extent",
        ),
        (
            with(&["organizationId"], json!("no-such-org")),
            "input.organizationId",
        ),
    ];
    let before = (
        app.count("service").await,
        app.count("location").await,
        app.count("audit_event").await,
    );
    for (input, field) in cases {
        let body = app
            .gql_as(Some(&key), CREATE, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{field}: {body}");
        assert_eq!(error_field(&body), field, "{body}");
    }
    // Capacity and report inputs too.
    let id = create_service(&app, &key, base.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let counted = (
        app.count("service").await,
        app.count("location").await,
        app.count("audit_event").await,
    );
    assert_eq!(counted.0, before.0 + 1, "only the valid service landed");
    for (input, field) in [
        (
            json!({ "status": "ACCEPTING", "available": 5, "maximum": 3 }),
            "input.available",
        ),
        (json!({ "available": -1 }), "input.available"),
        (
            json!({ "status": "WAITLIST", "waitlistLength": -2 }),
            "input.waitlistLength",
        ),
        (
            json!({ "status": "ACCEPTING", "expiresAt": "2001-01-01T00:00:00Z" }),
            "input.expiresAt",
        ),
        (json!({}), "input.status"),
    ] {
        let body = app
            .gql_as(Some(&key), CAPACITY, json!({ "id": id, "input": input }))
            .await;
        assert_eq!(error_field(&body), field, "{body}");
    }
    let body = app
        .gql_as(
            Some(&key),
            UPDATE,
            json!({ "id": id, "v": 1, "input": { "email": "bad@", "name": "Renamed" } }),
        )
        .await;
    assert_eq!(error_field(&body), "input.email");
    assert_eq!(app.count("capacity").await, 0);
    assert_eq!(app.count("capacity_event").await, 0);
    assert_eq!(app.count("audit_event").await, counted.2);
    assert_eq!(version_of(&app, &id).await, 1);
}

#[tokio::test]
async fn text_is_stored_as_text_and_answered_as_json() {
    let app = app_with_terms().await;
    let key = app.key("trafford", "editor").await;
    let org = organization(&app, &key, "<b>Bold</b> & co").await;
    let mut input = full_service(&org);
    input["name"] = json!("<script>alert('x')</script> Walk");
    let created = create_service(&app, &key, input).await;
    assert_eq!(created["name"], "<script>alert('x')</script> Walk");
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ services { edges { node { name } } } }" }))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

#[tokio::test]
async fn capacity_updates_are_quick_kept_as_events_and_searchable_at_once() {
    let (app, key, id) = one_listing().await;
    let data = app
        .data_as(
            Some(&key),
            CAPACITY,
            json!({ "id": id, "input": { "status": "WAITLIST", "available": 0, "maximum": 12, "waitlistLength": 4, "typicalWaitDays": 14 } }),
        )
        .await;
    let capacity = &data["updateCapacity"]["capacity"];
    assert_eq!(capacity["status"], "WAITLIST");
    assert_eq!(capacity["waitlistLength"], 4);
    assert!(
        capacity["expiresAt"].is_string(),
        "a default expiry applies"
    );
    let data = app
        .data_as(
            Some(&key),
            CAPACITY,
            json!({ "id": id, "input": { "available": 3, "maximum": 12 } }),
        )
        .await;
    assert_eq!(
        data["updateCapacity"]["capacity"]["status"], "ACCEPTING",
        "status follows available"
    );
    assert_eq!(app.count("capacity").await, 1, "one current capacity");
    assert_eq!(
        app.count(&format!(
            "capacity_event WHERE service_id = '{id}' AND source = 'api'"
        ))
        .await,
        2
    );
    assert_eq!(
        version_of(&app, &id).await,
        1,
        "capacity does not move the version"
    );

    let accepting = app
        .data(
            SEARCH,
            json!({ "input": { "near": { "latitude": 53.4333, "longitude": -2.2989 }, "capacity": ["ACCEPTING"] } }),
        )
        .await;
    assert_eq!(
        accepting["search"]["edges"][0]["node"]["service"]["id"],
        json!(id)
    );
}

#[tokio::test]
async fn retired_services_leave_search_and_lists_but_keep_their_history() {
    let (app, key, id) = one_listing().await;
    assert!(search_ids(&app, (53.4333, -2.2989)).await.contains(&id));
    let data = app.data_as(Some(&key), RETIRE, json!({ "id": id })).await;
    assert_eq!(data["retireService"]["service"]["status"], "INACTIVE");
    assert!(!search_ids(&app, (53.4333, -2.2989)).await.contains(&id));
    let listed = app
        .data(
            "{ services(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(!listed.to_string().contains(&id));
    let kept = app
        .data(
            "query($id: ID!) { service(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(kept["service"]["status"], "INACTIVE");
    assert_eq!(
        app.count(&format!("audit_event WHERE entity_id = '{id}'"))
            .await,
        2
    );
}

#[tokio::test]
async fn verifying_makes_a_listing_fresh() {
    let (app, key, id) = one_listing().await;
    let before = app
        .data(
            "query($id: ID!) { service(id: $id) { freshness } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(before["service"]["freshness"], "STALE", "never verified");
    let data = app.data_as(Some(&key), VERIFY, json!({ "id": id })).await;
    let service = &data["verifyService"]["service"];
    assert_eq!(service["freshness"], "FRESH");
    assert!(service["lastVerifiedAt"].is_string());
    assert_eq!(service["version"], 2);
}

#[tokio::test]
async fn anyone_may_report_a_listing_out_of_date_within_limits() {
    let app = app_with_terms().await;
    const REPORT: &str = "mutation($id: ID!, $m: String!) { reportOutdated(serviceId: $id, message: $m) { received } }";
    let body = app
        .gql(REPORT, json!({ "id": "seed", "m": "m".repeat(2001) }))
        .await;
    assert_eq!(
        (error_code(&body), error_field(&body)),
        ("BAD_USER_INPUT", "message")
    );
    let body = app.gql(REPORT, json!({ "id": "seed", "m": "  " })).await;
    assert_eq!(error_field(&body), "message");
    let body = app.gql(REPORT, json!({ "id": "nope", "m": "gone" })).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let mut limited = 0;
    for i in 0..8 {
        let body = app
            .gql(
                REPORT,
                json!({ "id": "seed", "m": format!("closed for good ({i})") }),
            )
            .await;
        if error_code(&body) == "RATE_LIMITED" {
            limited += 1;
        } else {
            assert_eq!(body["data"]["reportOutdated"]["received"], true, "{body}");
        }
    }
    // The refused attempts above used up one each too, so fewer than five landed.
    assert!(limited >= 3, "{limited}");
    assert!(app.count("outdated_report").await <= 5);
    assert_eq!(
        app.count("outdated_report WHERE service_id = 'seed'").await,
        8 - limited
    );
}

const HISTORY: &str =
    "query($id: ID!) { service(id: $id) { history { who when action changes requestId } } }";

#[tokio::test]
async fn history_shows_the_owner_who_changed_what_and_no_one_else() {
    let (app, key, id) = one_listing().await;
    app.data_as(
        Some(&key),
        UPDATE,
        json!({ "id": id, "v": 1, "input": { "name": "Renamed walk" } }),
    )
    .await;
    app.data_as(
        Some(&key),
        CAPACITY,
        json!({ "id": id, "input": { "status": "FULL" } }),
    )
    .await;
    let data = app.data_as(Some(&key), HISTORY, json!({ "id": id })).await;
    let events = data["service"]["history"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update_capacity", "update", "create"]);
    assert!(events[1]["who"].as_str().unwrap().starts_with("key:"));
    assert!(events[1]["requestId"].is_string());
    assert_eq!(
        events[1]["changes"],
        json!({ "name": { "before": "Sale Strollers", "after": "Renamed walk" } })
    );
    assert_eq!(events[0]["changes"]["status"]["after"], "FULL");

    let stranger = app.key("stockport", "admin").await;
    let analyst = app.key("trafford", "analyst").await;
    for (key, code) in [
        (Some(stranger.as_str()), "FORBIDDEN"),
        (Some(analyst.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let body = app.gql_as(key, HISTORY, json!({ "id": id })).await;
        assert_eq!(error_code(&body), code);
        assert_eq!(body["data"]["service"]["history"], Value::Null);
    }
}

#[tokio::test]
async fn the_review_queue_lists_what_needs_a_human_most_urgent_first() {
    let app = app_with_terms().await;
    let key = app.key("trafford", "editor").await;
    let org = organization(&app, &key, "Trust").await;
    let mut ids = Vec::new();
    for name in ["Reported", "Stale", "Expired", "Due", "Fresh"] {
        let mut input = full_service(&org);
        input["name"] = json!(name);
        let id = create_service(&app, &key, input).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        if name != "Stale" {
            app.data_as(Some(&key), VERIFY, json!({ "id": id })).await;
        }
        ids.push(id);
    }
    let (reported, expired, due) = (&ids[0], &ids[2], &ids[3]);
    app.data(
        "mutation($id: ID!) { reportOutdated(serviceId: $id, message: \"Moved to Tuesdays\") { received } }",
        json!({ "id": reported }),
    )
    .await;
    app.data_as(
        Some(&key),
        CAPACITY,
        json!({ "id": expired, "input": { "status": "ACCEPTING" } }),
    )
    .await;
    let backend = app.db.get_database_backend();
    let exec = |sql: String| {
        app.db
            .execute_raw(sea_orm::Statement::from_string(backend, sql))
    };
    let long_ago = (chrono::Utc::now() - chrono::TimeDelta::days(100)).to_rfc3339();
    exec(format!(
        "UPDATE capacity SET updated_at = '{long_ago}' WHERE service_id = '{expired}'"
    ))
    .await
    .unwrap();
    exec(format!(
        "UPDATE service SET last_verified_at = '{long_ago}' WHERE id = '{due}'"
    ))
    .await
    .unwrap();
    // Another authority's stale listing is not this queue's business.
    let seed_stale = app
        .count("service WHERE id = 'seed' AND last_verified_at IS NULL")
        .await;
    assert_eq!(seed_stale, 1);

    const QUEUE: &str = "query($after: String) { reviewQueue(first: 2, after: $after) { edges { node { service { name } reasons { reason detail } } } pageInfo { hasNextPage endCursor } } }";
    let mut names = Vec::new();
    let mut reasons = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .data_as(Some(&key), QUEUE, json!({ "after": after }))
            .await;
        for edge in data["reviewQueue"]["edges"].as_array().unwrap() {
            names.push(
                edge["node"]["service"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
            reasons.push(edge["node"]["reasons"][0].clone());
        }
        if data["reviewQueue"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = data["reviewQueue"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(names, ["Reported", "Stale", "Expired", "Due"]);
    assert_eq!(reasons[0]["reason"], "REPORTED_OUTDATED");
    assert!(
        reasons[0]["detail"]
            .as_str()
            .unwrap()
            .contains("Moved to Tuesdays")
    );
    assert_eq!(
        reasons[1],
        json!({ "reason": "STALE", "detail": "Stale: never verified" })
    );
    assert_eq!(reasons[2]["reason"], "CAPACITY_EXPIRED");
    assert_eq!(reasons[3]["reason"], "DUE");

    // Verifying settles the report and takes the listing off the queue.
    app.data_as(Some(&key), VERIFY, json!({ "id": reported }))
        .await;
    let data = app
        .data_as(Some(&key), QUEUE, json!({ "after": null }))
        .await;
    assert_eq!(
        data["reviewQueue"]["edges"][0]["node"]["service"]["name"],
        "Stale"
    );
    let body = app.gql(QUEUE, json!({ "after": null })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn concurrent_capacity_updates_of_one_service_all_land_and_leave_one_current_capacity() {
    let (app, key, id) = one_listing().await;
    let updates = (0..12).map(|n| {
        app.gql_as(
            Some(&key),
            CAPACITY,
            json!({ "id": id, "input": { "available": n, "maximum": 20 } }),
        )
    });
    for body in futures::future::join_all(updates).await {
        assert!(body.get("errors").is_none(), "{body}");
    }
    assert_eq!(app.count("capacity").await, 1, "one current capacity");
    assert_eq!(app.count("capacity_event").await, 12, "every update kept");
}
