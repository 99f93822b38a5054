//! `import hsds`: shapes, all-or-nothing records, idempotent re-import, the official examples.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_field, hsds_service, run_cli, shared_data};

const TABLES: &[&str] = &[
    "organization",
    "service",
    "location",
    "address",
    "service_at_location",
    "taxonomy",
    "taxonomy_term",
    "service_taxonomy",
    "cost_option",
    "schedule",
    "service_area",
    "language",
    "accessibility",
    "capacity",
    "capacity_event",
    "eligibility",
];

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for table in TABLES {
        out.push(app.count(table).await);
    }
    out
}

#[tokio::test]
async fn a_bad_record_is_reported_with_its_path_and_writes_nothing_while_good_ones_land() {
    let app = TestApp::spawn().await;
    let good = hsds_service("good-1", "Good Group", 53.42, -2.32);
    let mut bad = hsds_service("bad-1", "Bad Group", 53.42, -2.32);
    bad["service_at_locations"][0]["location"]["latitude"] = json!(100);
    let mut bad_type = hsds_service("bad-2", "Bad Types", 53.42, -2.32);
    bad_type["minimum_age"] = json!("twelve");
    let mut bad_day = hsds_service("bad-3", "Bad Day", 53.42, -2.32);
    bad_day["schedules"] = json!([{ "id": "s", "byday": "XX", "opens_at": "10:00" }]);
    let report = app
        .import_hsds(vec![bad, good, bad_type, bad_day], "trafford")
        .await;
    assert_eq!(report.written, 1, "{report}");
    let failures: Vec<(String, String)> = report
        .failed
        .iter()
        .map(|(id, e)| (id.clone(), e.path.clone()))
        .collect();
    assert_eq!(
        failures,
        vec![
            (
                "bad-1".to_string(),
                "service_at_locations[0].location.latitude".to_string()
            ),
            ("bad-2".to_string(), "minimum_age".to_string()),
            ("bad-3".to_string(), "schedules[0].byday".to_string()),
        ]
    );
    assert_eq!(app.count("service").await, 1);
    assert_eq!(
        app.count("location").await,
        1,
        "nothing of the bad records was written"
    );
    assert_eq!(app.count("organization").await, 1);
}

#[tokio::test]
async fn importing_the_same_records_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut record = hsds_service("svc-1", "Walking Group", 53.42, -2.32);
    record["capacities"] = json!([{ "id": "cap-1", "available": 3, "maximum": 10, "updated": "2026-11-20T10:00:00Z" }]);
    let first = app.import_hsds(vec![record.clone()], "trafford").await;
    assert_eq!(first.written, 1);
    let before = counts(&app).await;
    let version = app
        .data(
            r#"{ service(id: "svc-1") { version updatedAt } }"#,
            json!({}),
        )
        .await;
    let second = app.import_hsds(vec![record.clone()], "trafford").await;
    assert_eq!((second.written, second.unchanged), (0, 1));
    assert_eq!(counts(&app).await, before);
    assert_eq!(
        app.data(
            r#"{ service(id: "svc-1") { version updatedAt } }"#,
            json!({})
        )
        .await,
        version
    );

    // A real change updates in place, bumps the version and records the capacity change.
    record["capacities"][0]["available"] = json!(0);
    let third = app.import_hsds(vec![record], "trafford").await;
    assert_eq!(third.written, 1);
    assert_eq!(app.count("service").await, 1);
    assert_eq!(app.count("capacity").await, 1);
    assert_eq!(app.count("capacity_event").await, 2);
    let data = app
        .data(
            r#"{ service(id: "svc-1") { version capacity { status available } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["service"]["version"], 2);
    assert_eq!(
        data["service"]["capacity"],
        json!({ "status": "FULL", "available": 0 })
    );
}

/// A batch of new services goes in as plain inserts. One whose part another service
/// already holds (a session with the same id) fails that batch, which is then written
/// record by record: everything lands, and the part moves to the newer record as an
/// upsert would have it. New services sharing a location in one batch land together.
#[tokio::test]
async fn new_services_land_whole_when_a_part_is_already_stored_or_shared_in_the_batch() {
    let app = TestApp::spawn().await;
    let session = |day: &str| json!([{ "id": "sched-shared", "freq": "WEEKLY", "byday": day, "opens_at": "10:00", "closes_at": "12:00" }]);
    let mut first = hsds_service("svc-a", "First", 53.42, -2.32);
    first["schedules"] = session("MO");
    assert_eq!(app.import_hsds(vec![first], "trafford").await.written, 1);

    let mut moved = hsds_service("svc-b", "Second", 53.42, -2.32);
    moved["schedules"] = session("TU");
    let host = hsds_service("svc-c", "Third", 53.43, -2.31);
    let mut guest = hsds_service("svc-d", "Fourth", 53.43, -2.31);
    guest["service_at_locations"][0]["location"] =
        host["service_at_locations"][0]["location"].clone();
    let report = app.import_hsds(vec![moved, host, guest], "trafford").await;
    assert_eq!((report.written, report.failed.len()), (3, 0), "{report}");
    assert_eq!(app.count("service").await, 4);
    assert_eq!(app.count("schedule").await, 1);
    assert_eq!(app.count("location").await, 3, "svc-d shares svc-c's");
    assert_eq!(app.count("address").await, 3);
    let owner = app
        .row("SELECT service_id, byday FROM schedule WHERE id = 'sched-shared'")
        .await;
    assert_eq!(
        (
            owner
                .try_get::<String>("", "service_id")
                .expect("service_id"),
            owner.try_get::<String>("", "byday").expect("byday")
        ),
        ("svc-b".to_string(), "TU".to_string())
    );
}

#[tokio::test]
async fn another_authoritys_service_is_not_overwritten() {
    let app = TestApp::spawn().await;
    let record = hsds_service("svc-1", "Walking Group", 53.42, -2.32);
    assert_eq!(
        app.import_hsds(vec![record.clone()], "trafford")
            .await
            .written,
        1
    );
    let mut changed = record;
    changed["name"] = json!("Hijacked");
    let report = app.import_hsds(vec![changed], "stockport").await;
    assert_eq!(report.failed.len(), 1, "{report}");
    assert_eq!(report.failed[0].1.path, "id");
    let data = app
        .data(r#"{ service(id: "svc-1") { name } }"#, json!({}))
        .await;
    assert_eq!(data["service"]["name"], "Walking Group");
}

#[tokio::test]
async fn accepts_a_single_object_an_array_and_a_page() {
    for (document, expected) in [
        (hsds_service("a", "A", 53.4, -2.3), 1),
        (
            json!([
                hsds_service("a", "A", 53.4, -2.3),
                hsds_service("b", "B", 53.4, -2.3)
            ]),
            2,
        ),
        (
            json!({ "total_items": 2, "contents": [hsds_service("a", "A", 53.4, -2.3), hsds_service("b", "B", 53.4, -2.3)] }),
            2,
        ),
    ] {
        let app = TestApp::spawn().await;
        let records = signpost::import::hsds::records(document).unwrap();
        assert_eq!(app.import_hsds(records, "trafford").await.written, expected);
    }
}

fn official_example() -> Option<Value> {
    let path = shared_data("standards/hsds-3.1/examples/service_full.json")?;
    Some(serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
}

#[tokio::test]
async fn the_official_hsds_example_is_refused_for_latitude_100_and_imports_whole_once_corrected() {
    let Some(mut example) = official_example() else {
        return;
    };
    let app = TestApp::spawn().await;
    // A fresh database holds only the starter vocabulary.
    let fresh = counts(&app).await;
    let report = app.import_hsds(vec![example.clone()], "example").await;
    assert_eq!(report.failed.len(), 1);
    assert_eq!(
        report.failed[0].1.path,
        "service_at_locations[0].location.latitude"
    );
    assert_eq!(counts(&app).await, fresh, "nothing half-written");

    example["service_at_locations"][0]["location"]["latitude"] = json!(53.42);
    example["service_at_locations"][0]["location"]["longitude"] = json!(-2.32);
    let report = app.import_hsds(vec![example], "example").await;
    assert_eq!(report.written, 1, "{report}");
    assert!(
        !report.warnings.is_empty(),
        "the non-GeoJSON extent is reported"
    );
    let data = app
        .data(
            r#"{ service(id: "ac148810-d857-441c-9679-408f346de14b") {
                name organization { name } locations { latitude addresses { city } accessibility }
                taxonomyTerms { code } capacity { available maximum status }
                costOptions { amountPence } schedules { days opensAt } languages { code } serviceAreas { id }
                eligibility { minimumAge maximumAge description } lastVerifiedAt } }"#,
            json!({}),
        )
        .await;
    let s = &data["service"];
    assert_eq!(s["name"], "Community Counselling");
    assert_eq!(s["organization"]["name"], "Example Organization Inc.");
    assert_eq!(s["locations"][0]["addresses"][0]["city"], "MyCity");
    assert_eq!(s["locations"][0]["accessibility"], json!(["HEARING_LOOP"]));
    assert_eq!(s["taxonomyTerms"][0]["code"], "code");
    assert_eq!(s["capacity"]["available"], 12);
    assert_eq!(s["costOptions"][0]["amountPence"], 3500);
    assert_eq!(s["schedules"][0]["days"], json!(["THURSDAY", "FRIDAY"]));
    assert_eq!(s["languages"][0]["code"], "ur");
    assert_eq!(s["eligibility"]["minimumAge"], 12.0);
    assert_eq!(s["lastVerifiedAt"], "2005-01-01T00:00:00+00:00");
}

#[tokio::test]
async fn the_cli_reports_failures_and_exits_non_zero() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("services.json");
    let mut bad = hsds_service("bad", "Bad", 53.4, -2.3);
    bad["service_at_locations"][0]["location"]["latitude"] = json!(100);
    std::fs::write(
        &file,
        json!([hsds_service("good", "Good", 53.4, -2.3), bad]).to_string(),
    )
    .unwrap();
    let out = run_cli(
        &[
            "import",
            "hsds",
            file.to_str().unwrap(),
            "--authority",
            "trafford",
        ],
        &[("SIGNPOST_DATABASE_URL", &app.database_url)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a failed record means a non-zero exit"
    );
    assert!(
        stdout.contains("failed: service bad: service_at_locations[0].location.latitude"),
        "{stdout}"
    );
    assert!(stdout.contains("1 services landed"), "{stdout}");
    assert_eq!(app.count("service").await, 1);

    std::fs::write(&file, "{ not json").unwrap();
    let out = run_cli(
        &["import", "hsds", file.to_str().unwrap()],
        &[("SIGNPOST_DATABASE_URL", &app.database_url)],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not JSON"));
}

#[tokio::test]
async fn a_large_array_file_streams_in_chunks_and_a_truncated_one_writes_nothing() {
    let app = TestApp::spawn().await;
    let owner = signpost::domain::auth::ensure_authority(&app.db, "trafford", "trafford")
        .await
        .unwrap();
    let records: Vec<Value> = (0..450)
        .map(|i| hsds_service(&format!("s{i:03}"), &format!("Group {i}"), 53.4, -2.3))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let text = serde_json::to_string_pretty(&records).unwrap();

    // Cut off in the middle of the 301st record: refused whole, nothing written.
    let cut = text.find("\"s300\"").unwrap();
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &text[..cut]).unwrap();
    let refused = signpost::import::hsds::import_file(&app.db, &truncated, &owner).await;
    assert!(refused.is_err(), "a truncated file is refused");
    assert_eq!(app.count("service").await, 0, "and writes nothing");

    // Whole: three chunks, every record, ids for records without one by position.
    let mut records = records;
    records[449]["id"] = json!("");
    let whole = dir.path().join("whole.json");
    std::fs::write(&whole, serde_json::to_string(&records).unwrap()).unwrap();
    let report = signpost::import::hsds::import_file(&app.db, &whole, &owner)
        .await
        .unwrap();
    assert_eq!(report.written, 449);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, "#450", "{:?}", report.failed);
    assert_eq!(app.count("service").await, 449);
}

/// One bad value, as an HSDS record carries it and as `createService` would.
struct Rule {
    /// Where the value goes in the HSDS record, and the path the import names.
    hsds_path: &'static str,
    value: Value,
    /// The same value for the API (None where the API has no such field).
    api: Option<(&'static str, Value)>,
}

/// Set `value` at a path like `service_at_locations[0].location.url`, creating
/// objects and one-element lists on the way.
fn set_path(record: &mut Value, path: &str, value: Value) {
    let mut node = record;
    for step in path.split('.') {
        let (key, index) = match step.split_once('[') {
            Some((key, rest)) => (
                key,
                Some(rest.trim_end_matches(']').parse::<usize>().unwrap()),
            ),
            None => (step, None),
        };
        node = node.as_object_mut().unwrap().entry(key).or_insert_with(|| {
            if index.is_some() {
                json!([{}])
            } else {
                json!({})
            }
        });
        if let Some(i) = index {
            if node.as_array().unwrap().len() <= i {
                node.as_array_mut().unwrap().resize(i + 1, json!({}));
            }
            node = &mut node[i];
        }
    }
    *node = value;
}

fn rules() -> Vec<Rule> {
    let rule = |hsds_path, value: Value, api: Option<(&'static str, Value)>| Rule {
        hsds_path,
        value,
        api,
    };
    vec![
        rule(
            "url",
            json!("javascript:alert(1)"),
            Some(("url", json!("javascript:alert(1)"))),
        ),
        rule(
            "url",
            json!("data:text/html,<script>alert(1)</script>"),
            Some(("url", json!("data:text/html,<script>alert(1)</script>"))),
        ),
        rule(
            "service_at_locations[0].location.url",
            json!("javascript:alert(1)"),
            None,
        ),
        rule("organization.website", json!("JAVASCRIPT:alert(1)"), None),
        rule(
            "service_at_locations[0].location.accessibility[0].url",
            json!("data:,x"),
            None,
        ),
        rule(
            "service_at_locations[0].location.latitude",
            json!(100),
            Some(("locations[0].latitude", json!(100))),
        ),
        rule(
            "service_at_locations[0].location.longitude",
            json!(-181),
            Some(("locations[0].longitude", json!(-181))),
        ),
        rule("minimum_age", json!(131), Some(("minimumAge", json!(131)))),
        rule("maximum_age", json!(-1), Some(("maximumAge", json!(-1)))),
        rule(
            "email",
            json!("not an email"),
            Some(("email", json!("not an email"))),
        ),
        rule("organization.email", json!("jo@@example.org"), None),
        rule(
            "phones[0].number",
            json!("call us"),
            Some(("phone", json!("call us"))),
        ),
        rule(
            "name",
            json!("Red\u{1b}[31m group"),
            Some(("name", json!("Red\u{1b}[31m group"))),
        ),
        rule(
            "description",
            json!("bell\u{7}"),
            Some(("description", json!("bell\u{7}"))),
        ),
        rule(
            "name",
            json!("n".repeat(201)),
            Some(("name", json!("n".repeat(201)))),
        ),
        rule("organization.name", json!("o".repeat(201)), None),
        rule(
            "attributes[0].taxonomy_term_id",
            json!("no-such-term"),
            Some(("taxonomyTerms", json!(["no-such-term"]))),
        ),
        rule(
            "service_at_locations[0].location.addresses[0].postal_code",
            json!("hello"),
            Some(("locations[0].postcode", json!("hello"))),
        ),
        rule(
            "languages[0].code",
            json!("english"),
            Some(("languages[0]", json!("english"))),
        ),
        rule(
            "schedules[0].closes_at",
            json!("09:00"),
            Some(("schedules[0].closesAt", json!("09:00"))),
        ),
        rule(
            "schedules[0].opens_at",
            json!("25:00"),
            Some(("schedules[0].opensAt", json!("25:00"))),
        ),
    ]
}

/// A record carrying one bad value (schedules get a day and an opening time, so the
/// value under test is the only thing wrong with them).
fn hsds_with(index: usize, rule: &Rule) -> (String, Value) {
    let id = format!("bad-{index}");
    let mut record = hsds_service(&id, &format!("Group {index}"), 53.42, -2.32);
    if rule.hsds_path.starts_with("attributes") {
        record["attributes"] = json!([{}]);
    }
    if rule.hsds_path.starts_with("schedules") {
        record["schedules"] =
            json!([{ "id": format!("sch-{index}"), "byday": "MO", "opens_at": "10:00" }]);
    }
    if rule.hsds_path.starts_with("languages") {
        record["languages"] = json!([{ "id": format!("lang-{index}") }]);
    }
    if rule.hsds_path.contains("accessibility") {
        record["service_at_locations"][0]["location"]["accessibility"] =
            json!([{ "id": format!("acc-{index}") }]);
    }
    set_path(&mut record, rule.hsds_path, rule.value.clone());
    (id, record)
}

#[tokio::test]
async fn an_import_refuses_every_value_the_api_refuses_naming_its_hsds_path() {
    let app = TestApp::spawn().await;
    let rules = rules();
    let mut records = vec![hsds_service("good-1", "Good Group", 53.42, -2.32)];
    let mut expected = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let (id, record) = hsds_with(i, rule);
        expected.push((id, rule.hsds_path.to_string()));
        records.push(record);
    }
    records.push(hsds_service("good-2", "Another Good Group", 53.43, -2.31));
    let report = app.import_hsds(records, "trafford").await;
    // Unknown terms are found when the chunk is written, after the other checks.
    let mut failed: Vec<(String, String)> = report
        .failed
        .iter()
        .map(|(id, e)| (id.clone(), e.path.clone()))
        .collect();
    failed.sort();
    expected.sort();
    assert_eq!(failed, expected, "{report}");
    assert_eq!(report.written, 2, "the good records land: {report}");
    // Nothing of a refused record: each has its own organization and location.
    assert_eq!(app.count("service").await, 2);
    assert_eq!(app.count("organization").await, 2);
    assert_eq!(app.count("location").await, 2);
    assert_eq!(app.count("address").await, 2);
    assert_eq!(app.count("audit_event").await, 2);

    // The API refuses the same values, naming its own field.
    let key = app.key("trafford", "editor").await;
    let org = app
        .data_as(
            Some(&key),
            "mutation { createOrganization(input: { name: \"Trust\" }) { organization { id } } }",
            json!({}),
        )
        .await["createOrganization"]["organization"]["id"]
        .clone();
    for rule in &rules {
        let Some((field, value)) = &rule.api else {
            continue;
        };
        let mut input = json!({
            "organizationId": org, "name": "Walk",
            "locations": [{ "latitude": 53.42, "longitude": -2.32 }],
            "schedules": [{ "days": ["MONDAY"], "opensAt": "10:00" }],
            "languages": ["en"]
        });
        set_path(&mut input, field, value.clone());
        let body = app
            .gql_as(
                Some(&key),
                "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
                json!({ "input": input }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{field}: {body}");
        assert_eq!(error_field(&body), format!("input.{field}"), "{body}");
    }
    assert_eq!(
        app.count("service").await,
        2,
        "the API wrote none of them either"
    );
}

#[tokio::test]
async fn an_import_creates_its_authority_with_the_api_checks_on_its_slug() {
    let app = TestApp::spawn().await;
    let refused = signpost::domain::auth::ensure_authority(&app.db, "Not A Slug!", "x").await;
    assert!(
        refused.is_err(),
        "a bad slug is refused, as by `authority create`"
    );
    assert_eq!(app.count("authority").await, 0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("services.json");
    std::fs::write(
        &file,
        json!([hsds_service("a", "A", 53.4, -2.3)]).to_string(),
    )
    .unwrap();
    let out = run_cli(
        &[
            "import",
            "hsds",
            file.to_str().unwrap(),
            "--authority",
            "Bad Slug",
        ],
        &[("SIGNPOST_DATABASE_URL", &app.database_url)],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("slug"),
        "{out:?}"
    );
    assert_eq!(app.count("service").await, 0);
}
