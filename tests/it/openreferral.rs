//! Open Referral out and back in: the HSDS 3.1 export validates against the official
//! HSDS and Open Referral UK schemas, and export → import → export is stable, as
//! JSON and as the tabular data package.

use serde_json::{Value, json};

use crate::helpers::{TestApp, run_cli, say_skipped, shared_data};

/// The export, as the library writes it.
async fn export(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    signpost::openreferral::export::json(&app.db, &mut out)
        .await
        .unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// A listing that uses every part Signpost stores, made through the API.
async fn rich_listing(app: &TestApp) {
    let key = app.key("demo", "editor").await;
    let org = app
        .data_as(
            Some(&key),
            "mutation { createOrganization(input: { name: \"Carers Trust\", email: \"hi@carers.example.org\", website: \"https://carers.example.org\" }) { organization { id } } }",
            json!({}),
        )
        .await["createOrganization"]["organization"]["id"]
        .clone();
    let input = json!({
        "organizationId": org, "name": "Carers' café", "description": "Tea and company",
        "taxonomyTerms": ["carers-support"], "minimumAge": 18, "maximumAge": 120.5,
        "eligibility": [{ "criterion": "CIRCUMSTANCE", "value": "carer", "rule": "RESTRICTED_TO" },
                        { "criterion": "GENDER", "value": "female", "rule": "SUITABLE_FOR" }],
        "referralRoutes": ["SELF", "GP"], "deliveryModes": ["IN_PERSON", "TELEPHONE"],
        "locations": [{ "name": "Hall", "latitude": 53.42, "longitude": -2.31, "postcode": "M33 7AA",
                        "address": { "address1": "1 Church Lane", "city": "Sale" }, "accessibility": ["HEARING_LOOP"] }],
        "costOptions": [{ "option": "Session", "amountPence": 150, "concessions": ["carer"] }],
        "schedules": [{ "days": ["WEDNESDAY"], "opensAt": "14:00", "closesAt": "16:00" }],
        "languages": ["en", "ur"],
        "serviceAreas": [{ "name": "Sale", "extent": { "type": "Polygon", "coordinates": [[[-2.35, 53.40], [-2.25, 53.40], [-2.25, 53.45], [-2.35, 53.40]]] } }],
        "url": "https://carers.example.org/cafe", "email": "cafe@carers.example.org", "phone": "0161 555 0101"
    });
    let id = app
        .data_as(
            Some(&key),
            "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
            json!({ "input": input }),
        )
        .await["createService"]["service"]["id"]
        .clone();
    app.data_as(
        Some(&key),
        "mutation($id: ID!) { updateCapacity(serviceId: $id, input: { status: WAITLIST, available: 0, maximum: 12, waitlistLength: 3, typicalWaitDays: 10 }) { capacity { status } } }",
        json!({ "id": id }),
    )
    .await;
    app.data_as(
        Some(&key),
        "mutation($id: ID!) { verifyService(id: $id) { service { id } } }",
        json!({ "id": id }),
    )
    .await;
}

/// The demo's 360 services plus one rich listing.
async fn loaded_app() -> TestApp {
    let app = TestApp::spawn().await;
    signpost::demo::load(&app.db).await.unwrap();
    app.sync_index().await;
    rich_listing(&app).await;
    app
}

fn validator(path: &str) -> Option<jsonschema::Validator> {
    let path = shared_data(path)?;
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    Some(jsonschema::validator_for(&schema).unwrap())
}

/// A validator for one definition inside a compiled schema (`taxonomy_term`, say).
fn definition_validator(path: &str, definition: &str) -> Option<jsonschema::Validator> {
    let path = shared_data(path)?;
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let root = json!({
        "$ref": format!("#/definitions/{definition}"),
        "definitions": schema["definitions"],
    });
    Some(jsonschema::validator_for(&root).unwrap())
}

#[tokio::test]
async fn every_exported_service_validates_against_hsds_and_oruk() {
    let (Some(hsds), Some(oruk)) = (
        validator("standards/hsds-3.1/schema/compiled/service_with_definitions.json"),
        validator("standards/oruk-3.0/schema/compiled/service_with_definitions.json"),
    ) else {
        return;
    };
    let app = loaded_app().await;
    let services = export(&app).await;
    assert_eq!(services.len(), 361);
    for service in &services {
        for (name, schema) in [("HSDS 3.1", &hsds), ("ORUK 3.0", &oruk)] {
            let errors: Vec<String> = schema
                .iter_errors(service)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{name}: {} {errors:?}", service["id"]);
        }
    }
    // A failing object is caught: the check can fail.
    let mut broken = services[0].clone();
    broken["status"] = json!("open-ish");
    broken["service_at_locations"][0]["location"]["location_type"] = json!("moon");
    assert!(!hsds.is_valid(&broken) && !oruk.is_valid(&broken));

    let rich = services
        .iter()
        .find(|s| s["name"] == "Carers' café")
        .unwrap();
    let link_types: Vec<&str> = rich["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["link_type"].as_str().unwrap())
        .collect();
    for wanted in [
        "category",
        "restricted_to",
        "suitable_for",
        "referral_route",
        "delivery_mode",
    ] {
        assert!(link_types.contains(&wanted), "{wanted}: {link_types:?}");
    }
    assert_eq!(rich["cost_options"][0]["amount"], 1.5);
    assert_eq!(rich["capacities"][0]["status"], "WAITLIST");
    assert!(rich.get("alternate_name").is_none(), "absent, not null");
}

/// Exports compared without `last_modified`, which an import stamps anew.
fn comparable(mut services: Vec<Value>) -> Vec<Value> {
    for service in &mut services {
        if let Some(object) = service.as_object_mut() {
            object.remove("last_modified");
        }
    }
    services
}

#[tokio::test]
async fn export_import_export_gives_the_same_services_as_json_and_as_csv() {
    let app = loaded_app().await;
    let first = comparable(export(&app).await);
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("services.json");
    let csv_path = dir.path().join("package");
    let env = [("SIGNPOST_DATABASE_URL", app.database_url.as_str())];
    for (format, path) in [("json", &json_path), ("csv", &csv_path)] {
        let out = run_cli(
            &["export", "hsds", path.to_str().unwrap(), "--format", format],
            &env,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("exported 361 services"));
    }
    assert!(csv_path.join("datapackage.json").exists());
    assert!(csv_path.join("services.csv").exists());

    for source in [json_path, csv_path.join("datapackage.json"), csv_path] {
        let fresh = TestApp::spawn().await;
        let owner = signpost::domain::auth::ensure_authority(&fresh.db, "demo", "demo")
            .await
            .unwrap();
        let report = signpost::import::hsds::import_file(&fresh.db, &source, &owner)
            .await
            .unwrap();
        let failed: Vec<_> = report.failed.iter().take(3).collect();
        assert!(failed.is_empty(), "{source:?}: {failed:?}");
        assert_eq!(report.landed(), 361, "{source:?}");
        let again = comparable(export(&fresh).await);
        assert_eq!(again.len(), first.len());
        for (a, b) in first.iter().zip(&again) {
            assert_eq!(a, b, "{source:?}");
        }
    }
}

#[tokio::test]
async fn the_official_oruk_example_is_refused_for_latitude_100_and_imports_whole_once_corrected() {
    let Some(path) = shared_data("standards/oruk-3.0/examples/service_full.json") else {
        return;
    };
    let example: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let app = TestApp::spawn().await;
    // A fresh database holds only the starter vocabulary.
    let fresh_terms = app.count("taxonomy_term").await;
    let report = app.import_hsds(vec![example.clone()], "oruk").await;
    assert_eq!(report.landed(), 0);
    let (_, error) = &report.failed[0];
    assert_eq!(
        error.path, "service_at_locations[0].location.latitude",
        "{error:?}"
    );
    for table in ["service", "organization", "location", "schedule"] {
        assert_eq!(app.count(table).await, 0, "{table}: nothing half-written");
    }
    assert_eq!(app.count("taxonomy_term").await, fresh_terms);
    let mut corrected = example;
    let latitude = &mut corrected["service_at_locations"][0]["location"]["latitude"];
    if latitude.as_f64() != Some(100.0) {
        say_skipped("the ORUK example no longer has latitude 100");
        return;
    }
    *latitude = json!(52.0);
    let report = app.import_hsds(vec![corrected.clone()], "oruk").await;
    assert_eq!(report.landed(), 1, "{:?}", report.failed);
    let exported = export(&app).await;
    assert_eq!(exported[0]["id"], corrected["id"]);
    assert_eq!(exported[0]["name"], corrected["name"]);
}

/// GET a path of the Open Referral UK API: (status, body).
async fn oruk(app: &TestApp, path_and_query: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(&format!("/openreferral{path_and_query}")))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Whether `id` comes back from `query` on /services, on any page.
async fn finds(app: &TestApp, query: &str, id: &str) -> bool {
    let mut page = 1;
    loop {
        let (status, body) =
            oruk(app, &format!("/services?{query}&per_page=100&page={page}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        let contents = body["contents"].as_array().unwrap();
        if contents.iter().any(|s| s["id"] == id) {
            return true;
        }
        if body["last_page"] == true {
            return false;
        }
        page += 1;
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn each_oruk_filter_finds_a_service_by_its_own_values() {
    let app = loaded_app().await;
    let (status, about) = oruk(&app, "/").await;
    assert_eq!(status, 200);
    assert!(about["version"].is_string() && about["profile"].is_string());

    let (_, first_page) = oruk(&app, "/services?per_page=1").await;
    assert_eq!(first_page["total_items"], 361);
    assert_eq!(first_page["total_pages"], 361);
    assert_eq!(
        (
            first_page["size"].clone(),
            first_page["first_page"].clone(),
            first_page["last_page"].clone(),
            first_page["empty"].clone()
        ),
        (json!(1), json!(true), json!(false), json!(false))
    );
    let first_id = first_page["contents"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rich_id = export(&app)
        .await
        .into_iter()
        .find(|s| s["name"] == "Carers' café")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    for id in [first_id, rich_id] {
        let (status, service) = oruk(&app, &format!("/services/{id}")).await;
        assert_eq!(status, 200);
        let location = &service["service_at_locations"][0]["location"];
        let postcode = location["addresses"][0]["postal_code"].as_str().unwrap();
        assert!(
            finds(
                &app,
                &format!("postcode={}&proximity=500", encode(postcode)),
                &id
            )
            .await,
            "postcode {postcode}"
        );
        if let Some(age) = service["minimum_age"].as_f64() {
            assert!(
                finds(&app, &format!("minimum_age={age}"), &id).await,
                "minimum_age"
            );
            assert!(!finds(&app, &format!("minimum_age={}", age + 1.0), &id).await);
        }
        if let Some(age) = service["maximum_age"].as_f64() {
            assert!(
                finds(&app, &format!("maximum_age={age}"), &id).await,
                "maximum_age"
            );
            assert!(!finds(&app, &format!("maximum_age={}", age - 1.0), &id).await);
        }
        let schedule = service["schedules"]
            .as_array()
            .and_then(|s| s.first())
            .or_else(|| {
                service["service_at_locations"][0]["schedules"]
                    .as_array()
                    .and_then(|s| s.first())
            })
            .unwrap();
        let day = schedule["byday"]
            .as_str()
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .trim_start_matches(|c: char| c == '-' || c.is_ascii_digit());
        let opens = schedule["opens_at"].as_str().unwrap();
        let closes = schedule["closes_at"].as_str().unwrap();
        assert!(
            finds(
                &app,
                &format!("day={day}&start_time={opens}&end_time={closes}"),
                &id
            )
            .await,
            "day {day} {opens}-{closes}"
        );
        let running: Vec<&str> = service["schedules"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                service["service_at_locations"][0]["schedules"]
                    .as_array()
                    .into_iter()
                    .flatten(),
            )
            .filter_map(|s| s["byday"].as_str())
            .collect();
        if let Some(closed) = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
            .into_iter()
            .find(|d| !running.iter().any(|r| r.contains(d)))
        {
            assert!(
                !finds(&app, &format!("day={closed}"), &id).await,
                "closed on {closed}"
            );
        }
        let term = service["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["link_type"] == "category")
            .unwrap()["taxonomy_term_id"]
            .as_str()
            .unwrap();
        assert!(
            finds(&app, &format!("taxonomy_term_id={}", encode(term)), &id).await,
            "term {term}"
        );
        let word = service["name"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .last()
            .unwrap();
        assert!(
            finds(&app, &format!("text={}", encode(word)), &id).await,
            "text {word}"
        );
        assert!(
            finds(&app, &format!("search={}", encode(word)), &id).await,
            "search {word}"
        );

        let (status, links) = oruk(
            &app,
            &format!(
                "/service_at_locations?postcode={}&proximity=500&per_page=100",
                encode(postcode)
            ),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            links["contents"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["service"]["id"] == id),
            "{links}"
        );
    }
    // A filter that matches nothing is an empty page, not an error.
    let (status, none) = oruk(&app, "/services?taxonomy_term_id=no-such-term").await;
    assert_eq!(
        (status, none["empty"].clone(), none["total_items"].clone()),
        (200, json!(true), json!(0))
    );
}

#[tokio::test]
async fn oruk_bodies_validate_unknown_ids_are_404_and_bad_parameters_400_by_name() {
    let app = loaded_app().await;
    let (_, page) = oruk(&app, "/services?per_page=5").await;
    if let Some(oruk_schema) =
        validator("standards/oruk-3.0/schema/compiled/service_with_definitions.json")
    {
        for service in page["contents"].as_array().unwrap() {
            assert!(oruk_schema.is_valid(service), "{}", service["id"]);
            let (_, one) = oruk(
                &app,
                &format!("/services/{}", service["id"].as_str().unwrap()),
            )
            .await;
            assert!(oruk_schema.is_valid(&one));
        }
    }
    let (status, links) = oruk(&app, "/service_at_locations?per_page=2").await;
    assert_eq!(status, 200);
    let link_id = links["contents"][0]["id"].as_str().unwrap();
    assert!(links["contents"][0]["location"]["latitude"].is_number());
    assert!(links["contents"][0]["service"]["name"].is_string());
    assert_eq!(
        oruk(&app, &format!("/service_at_locations/{link_id}"))
            .await
            .0,
        200
    );
    let (_, terms) = oruk(&app, "/taxonomy_terms?per_page=3").await;
    assert_eq!(terms["size"], 3);
    const ORUK: &str = "standards/oruk-3.0/schema/compiled/service_with_definitions.json";
    if let (Some(term_schema), Some(link_schema)) = (
        definition_validator(ORUK, "taxonomy_term"),
        definition_validator(ORUK, "service_at_location"),
    ) {
        for term in terms["contents"].as_array().unwrap() {
            assert!(term_schema.is_valid(term), "{term}");
        }
        for link in links["contents"].as_array().unwrap() {
            assert!(link_schema.is_valid(link), "{link}");
        }
        assert!(
            !term_schema.is_valid(&json!({ "id": "x" })),
            "the check can fail"
        );
    }
    let term_id = terms["contents"][0]["id"].as_str().unwrap();
    assert_eq!(
        oruk(&app, &format!("/taxonomy_terms/{term_id}")).await.0,
        200
    );
    assert_eq!(oruk(&app, "/taxonomies").await.0, 200);

    for path in [
        "/services/nope",
        "/service_at_locations/nope",
        "/taxonomies/nope",
        "/taxonomy_terms/nope",
    ] {
        let (status, body) = oruk(&app, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body["error"]["message"].is_string());
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{body}");
    }
    for (query, parameter) in [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=-1", "page"),
        ("minimum_age=old", "minimum_age"),
        ("maximum_age=NaN", "maximum_age"),
        ("day=someday", "day"),
        ("start_time=25:00", "start_time"),
        ("end_time=noon", "end_time"),
        ("postcode=not-a-postcode", "postcode"),
        ("postcode=ZZ99%209ZZ", "postcode"),
        ("proximity=100", "proximity"),
        ("postcode=M33%207AA&proximity=-5", "proximity"),
        ("modified_after=yesterday", "modified_after"),
    ] {
        let (status, body) = oruk(&app, &format!("/services?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{query}: {body}");
        assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{query}: {body}");
    }
    let (status, _) = oruk(&app, "/service_at_locations?day=someday").await;
    assert_eq!(status, 400);
    let long = "x".repeat(201);
    for parameter in ["text", "search"] {
        let (status, body) = oruk(&app, &format!("/services?{parameter}={long}")).await;
        assert_eq!(status, 400, "{parameter}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{body}");
    }

    // Open CORS here, and only here.
    let cors = |path: &str| {
        app.client
            .get(app.url(path))
            .header("Origin", "https://elsewhere.example")
    };
    let here = cors("/openreferral/services?per_page=1")
        .send()
        .await
        .unwrap();
    assert_eq!(here.headers()["access-control-allow-origin"], "*");
    let graphql = cors("/graphql?query=%7B__typename%7D")
        .send()
        .await
        .unwrap();
    assert!(
        graphql
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn another_directory_pulls_only_what_changed_and_hears_of_retirements() {
    let app = loaded_app().await;
    let since = chrono::Utc::now();
    let key = app.key("demo", "editor").await;
    let (_, page) = oruk(&app, "/services?per_page=2").await;
    let changed = page["contents"][0]["id"].as_str().unwrap().to_string();
    let retired = page["contents"][1]["id"].as_str().unwrap().to_string();
    app.data_as(
        Some(&key),
        "mutation($id: ID!) { verifyService(id: $id) { service { id } } }",
        json!({ "id": changed }),
    )
    .await;
    app.data_as(
        Some(&key),
        "mutation($id: ID!) { retireService(id: $id) { service { id } } }",
        json!({ "id": retired }),
    )
    .await;
    let after = encode(&since.to_rfc3339());
    let (_, pulled) = oruk(&app, &format!("/services?modified_after={after}")).await;
    let mut got: Vec<(String, String)> = pulled["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut wanted = vec![
        (changed.clone(), "active".to_string()),
        (retired.clone(), "inactive".to_string()),
    ];
    wanted.sort();
    assert_eq!(got, wanted);
    // Without modified_after a retired service is gone.
    assert!(!finds(&app, "text=", &retired).await);

    let data = app
        .data(
            "query($after: DateTime!) { services(filter: { modifiedAfter: $after }) { edges { node { id status } } } }",
            json!({ "after": since.to_rfc3339() }),
        )
        .await;
    let mut nodes: Vec<(String, String)> = data["services"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["id"].as_str().unwrap().to_string(),
                e["node"]["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    nodes.sort();
    let mut wanted = vec![
        (changed, "ACTIVE".to_string()),
        (retired, "INACTIVE".to_string()),
    ];
    wanted.sort();
    assert_eq!(nodes, wanted);
}
