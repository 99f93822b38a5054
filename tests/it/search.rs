//! `search`: reach, fit, filters, order and paging, demand — on real Trafford points
//! where ../shared/data is here, and on made-up ones everywhere.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_field, hsds_service, shared_data};

const SEARCH: &str = "query($input: SearchInput!, $first: Int, $after: String) {
  search(input: $input, first: $first, after: $after) {
    edges { cursor node { service { id name } distanceMetres reach nearestLocation { id }
      fit { suitable reasons { criterion outcome detail } } } }
    pageInfo { hasNextPage endCursor } } }";

/// Independent great-circle distance (haversine on a 6,371,008.8 m sphere): within
/// 0.5% of the geodesic distance the API computes.
fn haversine_metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1, lat2, lon2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

async fn search(app: &TestApp, input: Value, first: i64, after: Value) -> Value {
    app.data(
        SEARCH,
        json!({ "input": input, "first": first, "after": after }),
    )
    .await["search"]
        .clone()
}

/// Every page, following cursors.
async fn all(app: &TestApp, input: Value, first: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = search(app, input.clone(), first, after).await;
        out.extend(
            page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return out;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

fn ids(nodes: &[Value]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| n["service"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// Trafford's libraries (with their own points) and food banks (placed at their
/// postcode's point), as services.
fn trafford_services() -> Option<Vec<(String, f64, f64)>> {
    let libraries = shared_data("services/trafford_libraries.csv")?;
    let postcodes = shared_data("geography/trafford_postcodes.csv")?;
    let foodbanks = shared_data("services/trafford_food_banks.csv")?;
    let mut points = std::collections::HashMap::new();
    let mut reader = csv::Reader::from_path(postcodes).unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        points.insert(
            row[0].to_string(),
            (
                row[11].parse::<f64>().unwrap(),
                row[10].parse::<f64>().unwrap(),
            ),
        );
    }
    let mut out = Vec::new();
    for row in csv::Reader::from_path(libraries).unwrap().records() {
        let row = row.unwrap();
        out.push((
            format!("Library: {}", &row[0]),
            row[9].parse().unwrap(),
            row[8].parse().unwrap(),
        ));
    }
    for row in csv::Reader::from_path(foodbanks).unwrap().records() {
        let row = row.unwrap();
        if let Some((lat, lon)) = points.get(row[4].trim()) {
            out.push((format!("Food bank: {} ({})", &row[0], &row[4]), *lat, *lon));
        }
    }
    Some(out)
}

#[tokio::test]
async fn results_match_an_independent_distance_computation_on_real_trafford_points() {
    let Some(services) = trafford_services() else {
        return;
    };
    let app = TestApp::spawn().await;
    let records: Vec<Value> = services
        .iter()
        .enumerate()
        .map(|(i, (name, lat, lon))| {
            let mut r = hsds_service(&format!("t-{i:02}"), name, *lat, *lon);
            r["organization"]["id"] = json!("org-trafford");
            r
        })
        .collect();
    assert!(app.import_hsds(records, "trafford").await.failed.is_empty());
    // Sale town centre, from its postcode in the postcode file.
    let path = shared_data("geography/trafford_postcodes.csv").unwrap();
    signpost::import::postcodes::import(&app.db, std::fs::File::open(path).unwrap())
        .await
        .unwrap();
    let postcode = app
        .data(
            r#"{ postcode(code: "m33 7zf") { latitude longitude } }"#,
            json!({}),
        )
        .await;
    let here = (
        postcode["postcode"]["latitude"].as_f64().unwrap(),
        postcode["postcode"]["longitude"].as_f64().unwrap(),
    );

    for radius in [1500.0, 3000.0, 6000.0] {
        let found = all(
            &app,
            json!({ "near": { "postcode": "M33 7ZF" }, "radiusMetres": radius as i64 }),
            7,
        )
        .await;
        let mut expected: Vec<(f64, String)> = services
            .iter()
            .enumerate()
            .map(|(i, (_, lat, lon))| (haversine_metres(here, (*lat, *lon)), format!("t-{i:02}")))
            .filter(|(d, _)| *d <= radius)
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0));
        let near_edge = |d: f64| (d - radius).abs() < radius * 0.005;
        let got = ids(&found);
        for (d, id) in &expected {
            assert!(
                got.contains(id) || near_edge(*d),
                "radius {radius}: {id} at {d:.0} m missing"
            );
        }
        for node in &found {
            let d = node["distanceMetres"].as_f64().unwrap();
            let id = node["service"]["id"].as_str().unwrap();
            let independent = expected
                .iter()
                .find(|(_, e)| e == id)
                .map(|(d, _)| *d)
                .unwrap_or(f64::MAX);
            assert!(d <= radius, "{id} at {d} beyond {radius}");
            assert!(
                (d - independent).abs() <= independent * 0.005 + 1.0 || near_edge(d),
                "{id}: {d} vs {independent}"
            );
            assert_eq!(node["reach"], "AT_LOCATION");
        }
        let distances: Vec<f64> = found
            .iter()
            .map(|n| n["distanceMetres"].as_f64().unwrap())
            .collect();
        assert!(
            distances.windows(2).all(|w| w[0] <= w[1]),
            "ordered by distance: {distances:?}"
        );
    }
}

/// A row of services east of a point, some sharing a location (ties).
async fn row_of_services() -> TestApp {
    let app = TestApp::spawn().await;
    let mut records = Vec::new();
    for i in 0..12 {
        // Pairs share a point, so distances tie and the id decides.
        let lon = -2.30 + 0.002 * f64::from(i / 2);
        let mut r = hsds_service(&format!("row-{i:02}"), &format!("Row {i}"), 53.40, lon);
        r["service_at_locations"][0]["location"]["id"] = json!(format!("loc-pair-{}", i / 2));
        records.push(r);
    }
    assert!(app.import_hsds(records, "trafford").await.failed.is_empty());
    app
}

#[tokio::test]
async fn pages_of_any_size_concatenate_to_the_same_list_ties_included() {
    let app = row_of_services().await;
    let input = json!({ "near": { "latitude": 53.40, "longitude": -2.301 }, "radiusMetres": 5000 });
    let everything = ids(&all(&app, input.clone(), 100).await);
    assert_eq!(everything.len(), 12);
    for pair in everything.chunks(2) {
        assert!(pair[0] < pair[1], "ties by id: {pair:?}");
    }
    for size in [1, 2, 3, 5] {
        assert_eq!(
            ids(&all(&app, input.clone(), size).await),
            everything,
            "page size {size}"
        );
    }
    let body = app
        .gql(SEARCH, json!({ "input": input, "after": "garbage" }))
        .await;
    assert_eq!(error_field(&body), "after");
}

/// Search walks nearest first and stops once a page is settled: pages of any size,
/// with and without the unsuitable services, still concatenate to the whole list,
/// suitable first, and a search that stopped early still counts as met demand.
#[tokio::test]
async fn a_walk_that_stops_at_a_full_page_pages_alike_with_unsuitable_services_last() {
    let app = TestApp::spawn().await;
    let mut records = Vec::new();
    for i in 0..12 {
        let mut r = hsds_service(
            &format!("walk-{i:02}"),
            &format!("Walk {i}"),
            53.40,
            -2.30 + 0.003 * f64::from(i),
        );
        if i % 3 == 1 {
            r["minimum_age"] = json!(65);
        }
        records.push(r);
    }
    assert!(app.import_hsds(records, "trafford").await.failed.is_empty());
    for include in [false, true] {
        let input = json!({ "near": { "latitude": 53.40, "longitude": -2.30 }, "radiusMetres": 5000,
            "person": { "age": 40 }, "includeUnsuitable": include });
        let everything = ids(&all(&app, input.clone(), 100).await);
        let expected: Vec<String> = (0..12)
            .filter(|i| i % 3 != 1)
            .chain((0..12).filter(|i| include && i % 3 == 1))
            .map(|i| format!("walk-{i:02}"))
            .collect();
        assert_eq!(everything, expected, "suitable by distance, then the rest");
        for size in [1, 2, 3, 5] {
            assert_eq!(
                ids(&all(&app, input.clone(), size).await),
                everything,
                "page size {size}, unsuitable included: {include}"
            );
        }
    }
    app.flush_demand().await;
    use sea_orm::ConnectionTrait;
    let unmet = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM search_event WHERE suitable_results = 0".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        unmet.try_get::<i64>("", "n").unwrap(),
        0,
        "every page found suitable services"
    );
}

#[tokio::test]
async fn fit_reasons_explain_and_unsuitable_services_are_left_out_unless_asked() {
    let app = TestApp::spawn().await;
    let mut older = hsds_service("older", "Over 65s Lunch Club", 53.40, -2.30);
    older["minimum_age"] = json!(65);
    older["schedules"] =
        json!([{ "id": "s-older", "byday": "TU", "opens_at": "10:00", "closes_at": "12:00" }]);
    older["cost_options"] = json!([{ "id": "c-older", "amount": 3.0 }]);
    let mut anyone = hsds_service("anyone", "Open Walk", 53.401, -2.30);
    anyone["cost_options"] = json!([{ "id": "c-any", "amount": 0 }]);
    assert!(
        app.import_hsds(vec![older, anyone], "trafford")
            .await
            .failed
            .is_empty()
    );

    let person = json!({ "age": 40, "maxCostPence": 500, "availability": [{ "day": "TUESDAY", "from": "09:00", "to": "13:00" }] });
    let input = json!({ "near": { "latitude": 53.40, "longitude": -2.30 }, "person": person });
    let suitable = all(&app, input.clone(), 20).await;
    assert_eq!(
        ids(&suitable),
        ["anyone"],
        "the over-65s club is left out for a 40-year-old"
    );
    let reasons = suitable[0]["fit"]["reasons"].as_array().unwrap();
    let outcome = |c: &str| {
        reasons
            .iter()
            .find(|r| r["criterion"] == c)
            .map(|r| r["outcome"].clone())
    };
    assert_eq!(outcome("AGE"), Some(json!("UNKNOWN")), "silent on age");
    assert_eq!(outcome("COST"), Some(json!("MET")));
    assert_eq!(outcome("AVAILABILITY"), Some(json!("UNKNOWN")));

    let mut with_unsuitable = input.clone();
    with_unsuitable["includeUnsuitable"] = json!(true);
    let everything = all(&app, with_unsuitable, 20).await;
    assert_eq!(
        ids(&everything),
        ["anyone", "older"],
        "suitable first, though farther"
    );
    let older = &everything[1];
    assert_eq!(older["fit"]["suitable"], false);
    let age = older["fit"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["criterion"] == "AGE")
        .unwrap();
    assert_eq!(age["outcome"], "NOT_MET");
    assert_eq!(age["detail"], "For ages 65+; you said 40");
    let when = older["fit"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["criterion"] == "AVAILABILITY")
        .unwrap();
    assert_eq!(when["outcome"], "MET");
    assert_eq!(
        when["detail"],
        "Open Tuesdays 10:00–12:00; you said Tuesdays 09:00–13:00"
    );
}

#[tokio::test]
async fn filters_by_term_text_capacity_and_verification() {
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now();
    let mut open = hsds_service("open", "Walking for Health", 53.40, -2.30);
    open["capacities"] = json!([{ "id": "cap-open", "available": 4, "updated": now.to_rfc3339() }]);
    open["assured_date"] = json!(now.format("%Y-%m-%d").to_string());
    let mut stale = hsds_service("stale", "Old Walking Club", 53.40, -2.30);
    stale["capacities"] = json!([{ "id": "cap-stale", "available": 4, "updated": (now - chrono::Duration::days(60)).to_rfc3339() }]);
    stale["assured_date"] = json!("2020-01-01");
    let mut debt = hsds_service("debt", "Debt Clinic", 53.40, -2.30);
    debt["attributes"] = json!([{ "link_type": "category", "taxonomy_term": { "id": "term-debt", "code": "debt-advice", "name": "Debt", "taxonomy": "test" } }]);
    let parent = json!({ "id": "term-social", "code": "social-activities", "name": "Social", "taxonomy": "test" });
    let mut parent_holder = hsds_service("parent", "Social Club", 53.40, -2.30);
    parent_holder["attributes"] = json!([{ "link_type": "category", "taxonomy_term": parent }]);
    assert!(
        app.import_hsds(vec![open, stale, debt, parent_holder], "trafford")
            .await
            .failed
            .is_empty()
    );

    let near = json!({ "latitude": 53.40, "longitude": -2.30 });
    let find = |extra: Value| {
        let mut input = json!({ "near": near });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        input
    };
    let mut social = ids(&all(
        &app,
        find(json!({ "taxonomyTerms": ["social-activities"] })),
        20,
    )
    .await);
    social.sort();
    assert_eq!(
        social,
        ["open", "parent", "stale"],
        "a term matches its descendants"
    );
    assert_eq!(
        ids(&all(&app, find(json!({ "text": "CLINIC" })), 20).await),
        ["debt"]
    );
    assert_eq!(
        ids(&all(&app, find(json!({ "capacity": ["ACCEPTING"] })), 20).await),
        ["open"],
        "expired capacity is not ACCEPTING"
    );
    let mut unknown = ids(&all(&app, find(json!({ "capacity": ["UNKNOWN"] })), 20).await);
    unknown.sort();
    assert_eq!(
        unknown,
        ["debt", "parent", "stale"],
        "expired or missing capacity counts as UNKNOWN"
    );
    let mut ever = ids(&all(&app, find(json!({ "verifiedWithinDays": i32::MAX })), 20).await);
    ever.sort();
    assert_eq!(
        ever,
        ["open", "stale"],
        "a huge window is every verified listing, not an error"
    );
    assert_eq!(
        ids(&all(&app, find(json!({ "verifiedWithinDays": 30 })), 20).await),
        ["open"]
    );
    let body = app
        .gql(
            SEARCH,
            json!({ "input": find(json!({ "taxonomyTerms": ["nope"] })) }),
        )
        .await;
    assert_eq!(error_field(&body), "input.taxonomyTerms");
}

#[tokio::test]
async fn service_areas_and_remote_delivery_reach_a_point_with_no_distance() {
    let app = TestApp::spawn().await;
    let square = r#"{"type":"Polygon","coordinates":[[[-2.5,53.3],[-2.1,53.3],[-2.1,53.6],[-2.5,53.6],[-2.5,53.3]]]}"#;
    let mut visiting = hsds_service("visits", "Home Visits", 53.0, -2.0);
    visiting["service_areas"] =
        json!([{ "id": "area-visits", "extent_type": "geojson", "extent": square }]);
    let mut helpline = hsds_service("helpline", "National Helpline", 51.5, -0.1);
    helpline["attributes"] = json!([
        { "link_type": "delivery_mode", "taxonomy_term": { "id": "dm-tel", "code": "TELEPHONE", "name": "Telephone", "taxonomy": "delivery-mode" } },
        { "link_type": "category", "taxonomy_term": { "id": "term-debt", "code": "debt-advice", "name": "Debt advice", "taxonomy": "test" } }
    ]);
    let far = hsds_service("far", "Far Away Group", 51.0, 0.0);
    assert!(
        app.import_hsds(vec![visiting, helpline, far], "trafford")
            .await
            .failed
            .is_empty()
    );

    let found = all(
        &app,
        json!({ "near": { "latitude": 53.45, "longitude": -2.3 }, "radiusMetres": 2000 }),
        20,
    )
    .await;
    let by_id = |id: &str| found.iter().find(|n| n["service"]["id"] == id).cloned();
    assert_eq!(by_id("visits").unwrap()["reach"], "SERVICE_AREA");
    assert!(by_id("visits").unwrap()["distanceMetres"].is_null());
    assert_eq!(by_id("helpline").unwrap()["reach"], "REMOTE");
    assert!(by_id("helpline").unwrap()["distanceMetres"].is_null());
    assert!(by_id("far").is_none());
    // A category search keeps to its category however a service reaches the point.
    let here = json!({ "latitude": 53.45, "longitude": -2.3 });
    for (term, expected) in [("walking-groups", "visits"), ("debt-advice", "helpline")] {
        let found = all(
            &app,
            json!({ "near": here, "radiusMetres": 2000, "taxonomyTerms": [term] }),
            20,
        )
        .await;
        assert_eq!(ids(&found), [expected], "searching for {term}");
    }
    let outside = all(
        &app,
        json!({ "near": { "latitude": 52.0, "longitude": -1.0 } }),
        20,
    )
    .await;
    assert_eq!(
        ids(&outside),
        ["helpline"],
        "outside its area the home-visit service does not reach"
    );
}

#[tokio::test]
async fn bad_inputs_name_their_field() {
    let app = row_of_services().await;
    let cases = [
        (
            json!({ "near": { "postcode": "ZZ1 1ZZ" } }),
            "input.near.postcode",
        ),
        (
            json!({ "near": { "postcode": "not a postcode" } }),
            "input.near.postcode",
        ),
        (
            json!({ "near": { "latitude": 100.0, "longitude": 0.0 } }),
            "input.near.latitude",
        ),
        (
            json!({ "near": { "latitude": 53.0, "longitude": 200.0 } }),
            "input.near.longitude",
        ),
        (
            json!({ "near": { "latitude": 53.0 } }),
            "input.near.longitude",
        ),
        (json!({ "near": {} }), "input.near"),
        (
            json!({ "near": { "latitude": 53.4, "longitude": -2.3 }, "radiusMetres": 0 }),
            "input.radiusMetres",
        ),
        (
            json!({ "near": { "latitude": 53.4, "longitude": -2.3 }, "radiusMetres": 100001 }),
            "input.radiusMetres",
        ),
        (
            json!({ "near": { "latitude": 53.4, "longitude": -2.3 }, "verifiedWithinDays": -1 }),
            "input.verifiedWithinDays",
        ),
        (
            json!({ "near": { "latitude": 53.4, "longitude": -2.3 }, "person": { "age": 200 } }),
            "input.person.age",
        ),
        (
            json!({ "near": { "latitude": 53.4, "longitude": -2.3 }, "person": { "maxCostPence": -5 } }),
            "input.person.maxCostPence",
        ),
        (
            json!({ "near": { "latitude": 53.4, "longitude": -2.3 }, "person": { "availability": [{ "day": "MONDAY", "from": "25:00" }] } }),
            "input.person.availability[0].from",
        ),
    ];
    for (input, field) in cases {
        let body = app.gql(SEARCH, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}");
        assert_eq!(error_field(&body), field, "{input}");
    }
    let body = app
        .gql(
            SEARCH,
            json!({ "input": { "near": { "latitude": 53.4, "longitude": -2.3 } }, "first": 101 }),
        )
        .await;
    assert_eq!(error_field(&body), "first");
}

#[tokio::test]
async fn each_search_records_anonymous_demand() {
    let app = row_of_services().await;
    let input = json!({ "near": { "latitude": 53.4012, "longitude": -2.3011 }, "radiusMetres": 1000, "taxonomyTerms": ["walking-groups"],
        "person": { "age": 71, "gender": "female", "circumstances": ["carer"] } });
    let page = search(&app, input, 3, Value::Null).await;
    assert_eq!(page["edges"].as_array().unwrap().len(), 3);
    app.flush_demand().await;
    assert_eq!(app.count("search_event").await, 1);
    let rows = sea_orm::ConnectionTrait::query_all_raw(
        &app.db,
        sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT * FROM search_event".to_string(),
        ),
    )
    .await
    .unwrap();
    let row = &rows[0];
    let area: String = row.try_get("", "area_code").unwrap();
    assert_eq!(area, "grid:53.4:-2.4", "a coarse cell, not the point");
    let suitable: i32 = row.try_get("", "suitable_results").unwrap();
    assert!(
        suitable >= 3,
        "all suitable results are counted, not just the page: {suitable}"
    );
    let columns = row.column_names();
    for personal in [
        "age",
        "gender",
        "latitude",
        "longitude",
        "circumstances",
        "person",
    ] {
        assert!(
            !columns.iter().any(|c| c.contains(personal)),
            "search_event has no {personal}"
        );
    }
}

#[tokio::test]
async fn a_search_costs_at_most_two_sql_statements() {
    let app = row_of_services().await;
    signpost::import::postcodes::import(
        &app.db,
        "postcode,lat,lon\nM33 7ZF,53.40,-2.301\n".as_bytes(),
    )
    .await
    .unwrap();
    app.flush_demand().await;
    let before = app.query_count();
    // What a list view asks for; `nearestLocation` would add one batched statement.
    let query = "query($input: SearchInput!) { search(input: $input) { edges { node {
        service { id name } distanceMetres reach fit { suitable reasons { criterion outcome detail } } } } } }";
    let input = json!({ "input": { "near": { "postcode": "m33 7zf" }, "person": { "age": 70 } } });
    for _ in 0..10 {
        let data = app.data(query, input.clone()).await;
        assert_eq!(data["search"]["edges"].as_array().unwrap().len(), 12);
    }
    app.flush_demand().await;
    let statements = app.query_count() - before;
    // Per search: the postcode only (ids and names come from the index); demand is
    // written in batches.
    assert!(
        statements <= 10 + 2,
        "{statements} statements for 10 searches"
    );
    assert_eq!(app.count("search_event").await, 10);

    // Any other field of a service reads the page's rows, in one statement per page.
    let before = app.query_count();
    let query = "query($input: SearchInput!) { search(input: $input) { edges { node {
        service { id name status description version } distanceMetres } } } }";
    for _ in 0..10 {
        let data = app.data(query, input.clone()).await;
        let edges = data["search"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 12);
        for edge in edges {
            let service = &edge["node"]["service"];
            assert_eq!(service["status"], "ACTIVE");
            assert_eq!(service["version"], 1);
            let name = service["name"].as_str().unwrap();
            assert_eq!(service["description"], format!("{name}: a test group"));
        }
    }
    app.flush_demand().await;
    let statements = app.query_count() - before;
    assert!(
        statements <= 2 * 10 + 2,
        "{statements} statements for 10 searches"
    );
}

/// A square area of `half` degrees around a point, stored as a loaded area.
async fn add_area(app: &TestApp, code: &str, lat: f64, lon: f64, half: f64) {
    let ring = json!([
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half]
    ]);
    let row = entity::area::Model {
        code: code.to_string(),
        name: format!("Neighbourhood {code}"),
        area_type: "lsoa".to_string(),
        parent_code: None,
        geometry: json!({ "type": "Polygon", "coordinates": [ring] }).to_string(),
        population: None,
        population_by_age: None,
        centroid_latitude: lat,
        centroid_longitude: lon,
        min_latitude: lat - half,
        min_longitude: lon - half,
        max_latitude: lat + half,
        max_longitude: lon + half,
    };
    signpost::db::upsert::<entity::area::Entity>(&app.db, [&row], &[])
        .await
        .unwrap();
    app.sync_index().await;
}

#[tokio::test]
async fn demand_is_placed_in_the_smallest_loaded_area_containing_the_point() {
    let app = row_of_services().await;
    add_area(&app, "E00000001", 53.40, -2.30, 0.2).await;
    add_area(&app, "E00000002", 53.40, -2.30, 0.01).await;
    search(
        &app,
        json!({ "near": { "latitude": 53.401, "longitude": -2.301 } }),
        5,
        Value::Null,
    )
    .await;
    search(
        &app,
        json!({ "near": { "latitude": 53.45, "longitude": -2.25 } }),
        5,
        Value::Null,
    )
    .await;
    app.flush_demand().await;
    let rows = sea_orm::ConnectionTrait::query_all_raw(
        &app.db,
        sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT area_code FROM search_event ORDER BY id".to_string(),
        ),
    )
    .await
    .unwrap();
    let codes: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("", "area_code").unwrap())
        .collect();
    assert_eq!(codes, ["E00000002", "E00000001"]);
}

#[tokio::test]
async fn residency_rules_are_assessed_where_the_search_is() {
    let app = row_of_services().await;
    add_area(&app, "E00000009", 53.40, -2.30, 0.05).await;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    let row = entity::service::Entity::find_by_id("row-00".to_string())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: entity::service::ActiveModel = row.into();
    row.residency_area_code = Set(Some("E00000009".to_string()));
    row.updated_at = Set(chrono::Utc::now());
    row.update(&app.db).await.unwrap();
    app.sync_index().await;

    let inside = all(
        &app,
        json!({ "near": { "latitude": 53.40, "longitude": -2.30 }, "radiusMetres": 10000 }),
        20,
    )
    .await;
    let row00 = inside
        .iter()
        .find(|n| n["service"]["id"] == "row-00")
        .unwrap();
    let residency = row00["fit"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["criterion"] == "RESIDENCY")
        .unwrap();
    assert_eq!(residency["outcome"], "MET");
    assert_eq!(
        residency["detail"], "For residents of Neighbourhood E00000009; this place is inside",
        "the area by its name"
    );
    let outside = all(&app, json!({ "near": { "latitude": 53.40, "longitude": -2.37 }, "radiusMetres": 10000, "includeUnsuitable": true }), 20).await;
    let row00 = outside
        .iter()
        .find(|n| n["service"]["id"] == "row-00")
        .unwrap();
    assert_eq!(row00["fit"]["suitable"], false);
    let suitable_only = all(
        &app,
        json!({ "near": { "latitude": 53.40, "longitude": -2.37 }, "radiusMetres": 10000 }),
        20,
    )
    .await;
    assert!(!ids(&suitable_only).contains(&"row-00".to_string()));
}
