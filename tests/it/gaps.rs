//! Service gaps on Trafford's real LSOA boundaries and mid-2024 population, checked
//! against an independent computation here (ray casting, the shoelace centroid,
//! haversine), plus unmet demand counted from real searches.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{TestApp, hsds_service, shared_data};

/// Every ring of a Polygon or MultiPolygon geometry.
fn polygons(geometry: &Value) -> Vec<Vec<Vec<(f64, f64)>>> {
    let ring = |r: &Value| -> Vec<(f64, f64)> {
        r.as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect()
    };
    let polygon =
        |p: &Value| -> Vec<Vec<(f64, f64)>> { p.as_array().unwrap().iter().map(ring).collect() };
    match geometry["type"].as_str().unwrap() {
        "Polygon" => vec![polygon(&geometry["coordinates"])],
        _ => geometry["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .map(polygon)
            .collect(),
    }
}

fn in_ring(ring: &[(f64, f64)], (x, y): (f64, f64)) -> bool {
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let ((xi, yi), (xj, yj)) = (ring[i], ring[j]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn contains(shape: &[Vec<Vec<(f64, f64)>>], point: (f64, f64)) -> bool {
    shape
        .iter()
        .any(|p| in_ring(&p[0], point) && !p[1..].iter().any(|hole| in_ring(hole, point)))
}

/// The area-weighted centroid of the polygons (holes subtract).
fn centroid(shape: &[Vec<Vec<(f64, f64)>>]) -> (f64, f64) {
    let (mut area, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for polygon in shape {
        for (k, ring) in polygon.iter().enumerate() {
            let (mut a, mut x, mut y) = (0.0, 0.0, 0.0);
            for w in ring.windows(2) {
                let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                let cross = x0 * y1 - x1 * y0;
                a += cross;
                x += (x0 + x1) * cross;
                y += (y0 + y1) * cross;
            }
            // Outer rings count positive, holes negative, whatever their winding.
            let sign = if (k == 0) == (a > 0.0) { 1.0 } else { -1.0 };
            area += sign * a / 2.0;
            cx += sign * x / 6.0;
            cy += sign * y / 6.0;
        }
    }
    (cx / area, cy / area)
}

fn haversine((lon1, lat1): (f64, f64), (lon2, lat2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// Trafford's LSOAs and their population, loaded through the library.
async fn trafford() -> Option<(TestApp, Value)> {
    let boundaries = shared_data("geography/trafford_lsoa_2021.geojson")?;
    let population = shared_data("geography/trafford_lsoa_population_mid2024.csv")?;
    let app = TestApp::spawn().await;
    let file = std::fs::File::open(&boundaries).unwrap();
    let props = signpost::import::areas::AreaProperties::default();
    let count = signpost::import::areas::import(&app.db, file, "lsoa", &props)
        .await
        .unwrap();
    assert_eq!(count, 139);
    let summary = signpost::import::areas::import_population(
        &app.db,
        std::fs::File::open(&population).unwrap(),
        "lsoa",
    )
    .await
    .unwrap();
    assert_eq!(summary.updated, 139, "{summary}");
    let geojson: Value = serde_json::from_slice(&std::fs::read(boundaries).unwrap()).unwrap();
    Some((app, geojson))
}

/// Befriending services at every 400th real Trafford postcode, with known places;
/// every fifth is for ages 16 to 25.
/// Each: (point, places, youth only).
async fn befriending(app: &TestApp) -> Vec<((f64, f64), i64, bool)> {
    let path = shared_data("geography/trafford_postcodes.csv").unwrap();
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (lon_at, lat_at) = (at("lon"), at("lat"));
    let mut placed = Vec::new();
    let mut records = Vec::new();
    for (i, row) in reader.records().enumerate().filter(|(i, _)| i % 400 == 0) {
        let row = row.unwrap();
        let (lon, lat): (f64, f64) = (row[lon_at].parse().unwrap(), row[lat_at].parse().unwrap());
        let places = (i % 7) as i64;
        let mut record = hsds_service(&format!("bf-{i}"), "Befriending", lat, lon);
        record["attributes"] = json!([{ "link_type": "category", "taxonomy_term": { "id": "term-befriending", "code": "befriending", "name": "Befriending", "taxonomy": "test" } }]);
        record["minimum_age"] = json!(if i % 3 == 0 { 18 } else { 60 });
        if i % 5 == 0 {
            // A youth group: 16 to 25.
            record["minimum_age"] = json!(16);
            record["maximum_age"] = json!(25);
        }
        record["capacities"] = json!([{ "id": format!("cap-{i}"), "available": places, "maximum": 10, "unit": { "name": "places" }, "updated": chrono::Utc::now().to_rfc3339() }]);
        records.push(record);
        placed.push(((lon, lat), places, i % 5 == 0));
    }
    // A walking group in London, so that term exists and nothing in Trafford has it.
    records.push(hsds_service("walk-london", "Walk", 51.5, -0.1));
    let report = app.import_hsds(records, "trafford").await;
    assert_eq!(report.landed(), placed.len() + 1);
    placed
}

const GAPS: &str = "query($input: GapInput!) { serviceGaps(input: $input) { area { code name type population } servicesInArea availablePlaces placesPer1000 nearestServiceMetres covered searches unmetSearches } }";

#[tokio::test]
async fn gap_figures_match_an_independent_computation_on_real_boundaries() {
    let Some((app, geojson)) = trafford().await else {
        return;
    };
    let services = befriending(&app).await;
    let data = app
        .data(GAPS, json!({ "input": { "areaType": "lsoa", "taxonomyTerms": ["befriending"], "maxDistanceMetres": 1000 } }))
        .await;
    let rows: HashMap<String, Value> = data["serviceGaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["area"]["code"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    assert_eq!(rows.len(), 139);
    let population = population_by_code();
    let mut with_services = 0;
    for feature in geojson["features"].as_array().unwrap() {
        let code = feature["properties"]["area_code"].as_str().unwrap();
        let row = &rows[code];
        let shape = polygons(&feature["geometry"]);
        let inside: Vec<&((f64, f64), i64, bool)> = services
            .iter()
            .filter(|(p, _, _)| contains(&shape, *p))
            .collect();
        let places: i64 = inside.iter().map(|(_, n, _)| n).sum();
        assert_eq!(row["servicesInArea"], inside.len(), "{code}");
        assert_eq!(row["availablePlaces"], places, "{code}");
        with_services += usize::from(!inside.is_empty());
        let people = population[code].0;
        assert_eq!(row["area"]["population"], people, "{code}");
        let per_1000 = places as f64 * 1000.0 / people as f64;
        assert!(
            (row["placesPer1000"].as_f64().unwrap() - per_1000).abs() < 0.01,
            "{code}"
        );
        let c = centroid(&shape);
        let nearest = services
            .iter()
            .map(|(p, _, _)| haversine(c, *p))
            .fold(f64::INFINITY, f64::min);
        let got = row["nearestServiceMetres"].as_f64().unwrap();
        // geo measures on the ellipsoid, haversine on a sphere: within 0.5%.
        assert!(
            (got - nearest).abs() <= nearest * 0.005 + 0.2,
            "{code}: {got} vs {nearest}"
        );
        assert_eq!(row["covered"], got <= 1000.0, "{code}");
    }
    assert!(with_services > 5, "the sample reaches several areas");

    // For people aged 65 and over: the 65+ population, and only services that admit them.
    let data = app
        .data(GAPS, json!({ "input": { "areaType": "lsoa", "taxonomyTerms": ["befriending"], "ageFrom": 65 } }))
        .await;
    let mut youth_left_out = 0;
    for (row, feature) in data["serviceGaps"]
        .as_array()
        .unwrap()
        .iter()
        .zip(geojson["features"].as_array().unwrap())
    {
        let code = row["area"]["code"].as_str().unwrap();
        assert_eq!(code, feature["properties"]["area_code"]);
        assert_eq!(row["area"]["population"], population[code].1, "{code}");
        let shape = polygons(&feature["geometry"]);
        let for_them = services
            .iter()
            .filter(|(p, _, youth)| !youth && contains(&shape, *p))
            .count();
        youth_left_out += services
            .iter()
            .filter(|(p, _, youth)| *youth && contains(&shape, *p))
            .count();
        assert_eq!(row["servicesInArea"], for_them, "{code}");
    }
    assert!(
        youth_left_out > 0,
        "the sample has youth groups to leave out"
    );
    let areas = app
        .data(
            "{ areas(type: \"lsoa\") { code name population } }",
            json!({}),
        )
        .await;
    assert_eq!(areas["areas"].as_array().unwrap().len(), 139);
    assert_eq!(
        areas["areas"][0]["population"],
        population[areas["areas"][0]["code"].as_str().unwrap()].0
    );

    // The same rows as GeoJSON features.
    let response = app
        .client
        .get(
            app.url("/gaps.geojson?areaType=lsoa&taxonomyTerms=befriending&maxDistanceMetres=1000"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let collection: Value = response.json().await.unwrap();
    assert_eq!(collection["type"], "FeatureCollection");
    let features = collection["features"].as_array().unwrap();
    assert_eq!(features.len(), 139);
    for f in features {
        let code = f["properties"]["code"].as_str().unwrap();
        assert_eq!(
            f["properties"]["servicesInArea"],
            rows[code]["servicesInArea"]
        );
        assert_eq!(
            f["properties"]["nearestServiceMetres"],
            rows[code]["nearestServiceMetres"]
        );
        assert!(f["geometry"]["type"].as_str().unwrap().ends_with("Polygon"));
    }
    let bad = app
        .client
        .get(app.url("/gaps.geojson?areaType=lsoa&maxDistanceMetres=-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["parameter"], "maxDistanceMetres");
    assert_eq!(body["error"]["code"], "BAD_USER_INPUT");

    // The same rules as GraphQL's GapInput, named as query parameters.
    for (query, parameter) in [
        ("areaType=lsoa&ageFrom=70&ageTo=60", "ageFrom"),
        ("areaType=lsoa&ageTo=131", "ageTo"),
        ("areaType=lsoa&ageFrom=sixty", "ageFrom"),
        ("ageFrom=60", "areaType"),
        ("areaType=lsoa&taxonomyTerms=no-such-term", "taxonomyTerms"),
    ] {
        let refused = app
            .client
            .get(app.url(&format!("/gaps.geojson?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "{query}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{query}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{query}: {body}");
    }
    let graphql = app
        .gql(
            "query { serviceGaps(input: { areaType: \"lsoa\", ageFrom: 70, ageTo: 60 }) { covered } }",
            json!({}),
        )
        .await;
    assert_eq!(graphql["errors"][0]["extensions"]["field"], "input.ageFrom");
}

/// Persons: (all ages, 65 and over) by LSOA code, read independently.
fn population_by_code() -> HashMap<String, (i64, i64)> {
    let path = shared_data("geography/trafford_lsoa_population_mid2024.csv").unwrap();
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (code, sex, all, old) = (
        at("area_code"),
        at("sex"),
        at("all_ages"),
        at("aged_65_and_over"),
    );
    reader
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[sex] == "Persons")
        .map(|r| {
            (
                r[code].to_string(),
                (r[all].parse().unwrap(), r[old].parse().unwrap()),
            )
        })
        .collect()
}

#[tokio::test]
async fn unmet_demand_is_counted_from_the_searches_made_in_each_area() {
    let Some((app, geojson)) = trafford().await else {
        return;
    };
    befriending(&app).await;
    let first = &geojson["features"][0];
    let code = first["properties"]["area_code"].as_str().unwrap();
    let (lon, lat) = centroid(&polygons(&first["geometry"]));
    let search = |terms: Value, radius: i64| json!({ "input": { "near": { "latitude": lat, "longitude": lon }, "radiusMetres": radius, "taxonomyTerms": terms } });
    const SEARCH: &str =
        "query($input: SearchInput!) { search(input: $input) { edges { cursor } } }";
    // Two befriending searches: one wide enough to find something, one too narrow.
    app.data(SEARCH, search(json!(["befriending"]), 20_000))
        .await;
    app.data(SEARCH, search(json!(["befriending"]), 1)).await;
    // A walking search here does not count as befriending demand.
    app.data(SEARCH, search(json!(["walking-groups"]), 1)).await;
    app.flush_demand().await;
    let data = app
        .data(
            GAPS,
            json!({ "input": { "areaType": "lsoa", "taxonomyTerms": ["befriending"] } }),
        )
        .await;
    let row = data["serviceGaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["area"]["code"] == code)
        .unwrap()
        .clone();
    assert_eq!(
        (row["searches"].clone(), row["unmetSearches"].clone()),
        (json!(2), json!(1))
    );
    let others: i64 = data["serviceGaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["searches"].as_i64().unwrap())
        .sum();
    assert_eq!(others, 2, "searches are counted where they were made");
    let all = app
        .data(GAPS, json!({ "input": { "areaType": "lsoa" } }))
        .await;
    let row = all["serviceGaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["area"]["code"] == code)
        .unwrap()
        .clone();
    assert_eq!(
        (row["searches"].clone(), row["unmetSearches"].clone()),
        (json!(3), json!(2))
    );
}

#[tokio::test]
async fn within_narrows_to_the_areas_inside_a_parent_area() {
    let Some((app, geojson)) = trafford().await else {
        return;
    };
    let Some(wards) = shared_data("geography/trafford_ward_2023.geojson") else {
        return;
    };
    let props = signpost::import::areas::AreaProperties::default();
    signpost::import::areas::import(
        &app.db,
        std::fs::File::open(&wards).unwrap(),
        "ward",
        &props,
    )
    .await
    .unwrap();
    app.sync_index().await;
    let wards: Value = serde_json::from_slice(&std::fs::read(wards).unwrap()).unwrap();
    let ward = &wards["features"][0];
    let ward_code = ward["properties"]["area_code"].as_str().unwrap();
    let ward_shape = polygons(&ward["geometry"]);
    // Independently: the LSOAs whose centroid lies in the ward.
    let mut expected: Vec<&str> = geojson["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| contains(&ward_shape, centroid(&polygons(&f["geometry"]))))
        .map(|f| f["properties"]["area_code"].as_str().unwrap())
        .collect();
    expected.sort();
    assert!(!expected.is_empty());
    let data = app
        .data(
            GAPS,
            json!({ "input": { "areaType": "lsoa", "within": ward_code } }),
        )
        .await;
    let got: Vec<&str> = data["serviceGaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["area"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(got, expected);
    let body = app
        .gql(
            GAPS,
            json!({ "input": { "areaType": "lsoa", "within": "E99999999" } }),
        )
        .await;
    assert_eq!(crate::helpers::error_field(&body), "input.within");
}

#[tokio::test]
async fn bad_gap_inputs_name_their_field() {
    let app = TestApp::spawn().await;
    app.import_hsds(vec![hsds_service("w", "Walk", 53.4, -2.3)], "trafford")
        .await;
    for (input, field) in [
        (
            json!({ "areaType": "lsoa", "maxDistanceMetres": 0 }),
            "input.maxDistanceMetres",
        ),
        (
            json!({ "areaType": "lsoa", "ageFrom": 200 }),
            "input.ageFrom",
        ),
        (json!({ "areaType": "lsoa", "ageTo": -1 }), "input.ageTo"),
        (
            json!({ "areaType": "lsoa", "ageFrom": 70, "ageTo": 60 }),
            "input.ageFrom",
        ),
        (
            json!({ "areaType": "lsoa", "taxonomyTerms": ["no-such-term"] }),
            "input.taxonomyTerms",
        ),
        (
            json!({ "areaType": "lsoa", "within": "nowhere" }),
            "input.within",
        ),
        (
            json!({ "areaType": "lsoa", "person": { "age": 500 } }),
            "input.person.age",
        ),
    ] {
        let body = app.gql(GAPS, json!({ "input": input })).await;
        assert_eq!(
            crate::helpers::error_code(&body),
            "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(crate::helpers::error_field(&body), field, "{body}");
    }
    // A type with no areas loaded is an empty answer, not an error.
    let data = app
        .data(GAPS, json!({ "input": { "areaType": "nothing-loaded" } }))
        .await;
    assert_eq!(data["serviceGaps"], json!([]));
}
