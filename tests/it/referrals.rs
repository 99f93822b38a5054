//! Referrals over real HTTP: a link-worker team refers, the group answers through the
//! status flow, both sides follow; nobody else learns a referral exists; the
//! directory learns capacity from the answers; the person is sealed at rest, never
//! logged, audited when read and erased on time.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use signpost::domain::auth;
use signpost::domain::codes::Role;

use crate::helpers::{TestApp, error_code, error_field};
use crate::live::{listening, next, receive, subscribe_as};

pub const CREATE: &str = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { referral { id status version urgency } } }";
pub const MOVE: &str = "mutation($id: ID!, $v: Int!, $input: UpdateReferralStatusInput!) { updateReferralStatus(id: $id, expectedVersion: $v, input: $input) { referral { id status version declineReason } } }";
const READ: &str = "query($id: ID!) { referral(id: $id) { id status version person { name phone postcode } reason fit { suitable reasons { criterion outcome } } events { status reason note by } outcomeNote erasedAt } }";
const STATUS: &str = "query($id: ID!) { referral(id: $id) { status version } }";

/// A group in Sale with one service, its provider key, the owning authority's
/// editor, and a link-worker team's referrer key.
pub struct Loop {
    pub app: TestApp,
    pub service: String,
    pub editor: String,
    pub provider: String,
    pub referrer: String,
}

pub async fn provider_key(app: &TestApp, authority: &str, organization: &str) -> String {
    auth::create_key(
        &app.db,
        authority,
        Role::Provider,
        Some(organization),
        "test",
    )
    .await
    .expect("provider key")
    .token
}

/// An organization of `editor`'s authority with one service at (lat, lon).
pub async fn group(app: &TestApp, editor: &str, name: &str, at: (f64, f64)) -> (String, String) {
    let org = app
        .data_as(
            Some(editor),
            "mutation($name: String!) { createOrganization(input: { name: $name }) { organization { id } } }",
            json!({ "name": name }),
        )
        .await["createOrganization"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let input = json!({ "organizationId": org, "name": name, "minimumAge": 50,
        "locations": [{ "latitude": at.0, "longitude": at.1 }] });
    let service = app
        .data_as(
            Some(editor),
            "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }",
            json!({ "input": input }),
        )
        .await["createService"]["service"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (org, service)
}

impl Loop {
    pub async fn new() -> Self {
        Self::on(TestApp::spawn().await).await
    }

    pub async fn on(app: TestApp) -> Self {
        let editor = app.key("trafford", "editor").await;
        let (organization, service) =
            group(&app, &editor, "Sale Lunch Club", (53.4246, -2.3227)).await;
        let provider = provider_key(&app, "trafford", &organization).await;
        let referrer = app.key("sale-link-workers", "referrer").await;
        Self {
            app,
            service,
            editor,
            provider,
            referrer,
        }
    }

    pub fn person(name: &str) -> Value {
        json!({ "name": name, "phone": "0161 496 0000", "age": 72, "circumstances": ["carer"] })
    }

    /// A referral to `service` by `key`; its id.
    pub async fn refer_to(&self, key: &str, service: &str, person: Value) -> String {
        let input = json!({ "serviceId": service, "person": person, "consent": true,
            "reason": "lonely since her husband's stroke" });
        let data = self
            .app
            .data_as(Some(key), CREATE, json!({ "input": input }))
            .await;
        data["createReferral"]["referral"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn refer(&self) -> String {
        self.refer_to(&self.referrer, &self.service, Self::person("Ada Lovelace"))
            .await
    }

    pub async fn version(&self, id: &str) -> i64 {
        self.app
            .data_as(Some(&self.referrer), STATUS, json!({ "id": id }))
            .await["referral"]["version"]
            .as_i64()
            .unwrap()
    }

    /// Ask `key` to move referral `id` from the version it is at.
    pub async fn try_move(&self, key: &str, id: &str, input: Value) -> Value {
        let v = self.version(id).await;
        self.app
            .gql_as(Some(key), MOVE, json!({ "id": id, "v": v, "input": input }))
            .await
    }

    pub async fn moved(&self, key: &str, id: &str, status: &str) -> Value {
        let input = if status == "DECLINED" {
            json!({ "status": status, "reason": "OTHER" })
        } else {
            json!({ "status": status })
        };
        let body = self.try_move(key, id, input).await;
        assert!(body.get("errors").is_none(), "{status}: {body}");
        body["data"]["updateReferralStatus"]["referral"].clone()
    }
}

/// The status flow as DESIGN.md writes it, independently of the server's table:
/// the side whose move it is, or None.
fn expected_mover(from: &str, to: &str) -> Option<&'static str> {
    let open = ["REQUESTED", "OPENED", "ACCEPTED"].contains(&from);
    match (from, to) {
        ("REQUESTED", "OPENED")
        | ("OPENED", "ACCEPTED" | "DECLINED")
        | ("ACCEPTED", "COMPLETED" | "NOT_ATTENDED") => Some("provider"),
        (_, "WITHDRAWN") if open => Some("referrer"),
        (from, "ENTERED_IN_ERROR") if from != "ENTERED_IN_ERROR" => Some("referrer"),
        _ => None,
    }
}

const STATUSES: [&str; 8] = [
    "REQUESTED",
    "OPENED",
    "ACCEPTED",
    "DECLINED",
    "COMPLETED",
    "NOT_ATTENDED",
    "WITHDRAWN",
    "ENTERED_IN_ERROR",
];

/// The moves (side, status) that bring a new referral to `status`.
fn path_to(status: &str) -> Vec<(&'static str, &'static str)> {
    match status {
        "REQUESTED" => vec![],
        "OPENED" => vec![("provider", "OPENED")],
        "ACCEPTED" => vec![("provider", "OPENED"), ("provider", "ACCEPTED")],
        "DECLINED" => vec![("provider", "OPENED"), ("provider", "DECLINED")],
        "COMPLETED" => vec![
            ("provider", "OPENED"),
            ("provider", "ACCEPTED"),
            ("provider", "COMPLETED"),
        ],
        "NOT_ATTENDED" => vec![
            ("provider", "OPENED"),
            ("provider", "ACCEPTED"),
            ("provider", "NOT_ATTENDED"),
        ],
        "WITHDRAWN" => vec![("referrer", "WITHDRAWN")],
        "ENTERED_IN_ERROR" => vec![("referrer", "ENTERED_IN_ERROR")],
        other => panic!("no path to {other}"),
    }
}

/// A new referral brought to `status`.
async fn at_status(l: &Loop, status: &str) -> String {
    let id = l.refer().await;
    for (side, to) in path_to(status) {
        let key = if side == "provider" {
            &l.provider
        } else {
            &l.referrer
        };
        l.moved(key, &id, to).await;
    }
    id
}

#[tokio::test]
async fn every_move_is_allowed_for_its_side_only_and_every_other_is_refused() {
    let l = Loop::new().await;
    let key = |side: &str| match side {
        "provider" => l.provider.clone(),
        _ => l.referrer.clone(),
    };
    let mut checked = 0;
    for from in STATUSES {
        // One referral at `from` takes every refused move; each allowed move gets
        // a fresh one.
        let refused_on = at_status(&l, from).await;
        for to in STATUSES {
            for side in ["provider", "referrer"] {
                let input = if to == "DECLINED" {
                    json!({ "status": to, "reason": "NOT_ELIGIBLE" })
                } else {
                    json!({ "status": to })
                };
                let expected = expected_mover(from, to);
                let id = if expected == Some(side) {
                    at_status(&l, from).await
                } else {
                    refused_on.clone()
                };
                let body = l.try_move(&key(side), &id, input).await;
                match expected {
                    Some(owner) if owner == side => {
                        assert!(
                            body.get("errors").is_none(),
                            "{from} → {to} by {side}: {body}"
                        );
                        let moved = &body["data"]["updateReferralStatus"]["referral"];
                        assert_eq!(moved["status"], to);
                    }
                    Some(_) => assert_eq!(
                        error_code(&body),
                        "FORBIDDEN",
                        "{from} → {to} by {side}: {body}"
                    ),
                    None => {
                        assert_eq!(
                            error_code(&body),
                            "BAD_USER_INPUT",
                            "{from} → {to} by {side}: {body}"
                        );
                        assert_eq!(error_field(&body), "input.status");
                    }
                }
                checked += 1;
            }
        }
        let still = l
            .app
            .data_as(Some(&l.referrer), STATUS, json!({ "id": refused_on }))
            .await;
        assert_eq!(
            still["referral"]["status"], from,
            "refused moves change nothing"
        );
    }
    assert_eq!(checked, 8 * 8 * 2);
}

#[tokio::test]
async fn a_decline_needs_a_reason_a_stale_version_conflicts_and_every_move_is_an_event() {
    let l = Loop::new().await;
    let id = l.refer().await;
    l.moved(&l.provider, &id, "OPENED").await;
    let body = l
        .try_move(&l.provider, &id, json!({ "status": "DECLINED" }))
        .await;
    assert_eq!(
        (error_code(&body), error_field(&body)),
        ("BAD_USER_INPUT", "input.reason")
    );
    let body = l
        .try_move(
            &l.provider,
            &id,
            json!({ "status": "ACCEPTED", "reason": "OTHER" }),
        )
        .await;
    assert_eq!(
        error_field(&body),
        "input.reason",
        "only a decline takes a reason"
    );

    let body = l
        .app
        .gql_as(
            Some(&l.provider),
            MOVE,
            json!({ "id": id, "v": 1, "input": { "status": "ACCEPTED" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 2);

    l.moved(&l.provider, &id, "ACCEPTED").await;
    let body = l
        .try_move(
            &l.provider,
            &id,
            json!({ "status": "COMPLETED", "note": "Came every week; made friends" }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let read = l
        .app
        .data_as(Some(&l.referrer), READ, json!({ "id": id }))
        .await;
    let events: Vec<(&str, &str)> = read["referral"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["status"].as_str().unwrap(), e["by"].as_str().unwrap()))
        .collect();
    let prefix = |key: &str| key[3..11].to_string();
    assert_eq!(
        events,
        [
            ("REQUESTED", prefix(&l.referrer).as_str()),
            ("OPENED", prefix(&l.provider).as_str()),
            ("ACCEPTED", prefix(&l.provider).as_str()),
            ("COMPLETED", prefix(&l.provider).as_str()),
        ]
    );
    assert_eq!(
        read["referral"]["outcomeNote"],
        "Came every week; made friends"
    );
    assert_eq!(read["referral"]["version"], 4);
}

#[tokio::test]
async fn of_twenty_concurrent_answers_from_one_version_exactly_one_wins() {
    let l = Loop::new().await;
    let id = l.refer().await;
    let opened = l.moved(&l.provider, &id, "OPENED").await;
    let version = opened["version"].as_i64().unwrap();
    let answers = (0..20).map(|i| {
        let status = if i % 2 == 0 { "ACCEPTED" } else { "DECLINED" };
        let input = if status == "DECLINED" {
            json!({ "status": status, "reason": "NO_CAPACITY" })
        } else {
            json!({ "status": status })
        };
        l.app.gql_as(
            Some(&l.provider),
            MOVE,
            json!({ "id": id, "v": version, "input": input }),
        )
    });
    let bodies = futures::future::join_all(answers).await;
    let won = bodies.iter().filter(|b| b.get("errors").is_none()).count();
    let conflicts = bodies
        .iter()
        .filter(|b| error_code(b) == "CONFLICT")
        .count();
    assert_eq!((won, conflicts), (1, 19), "{bodies:?}");
    let read = l
        .app
        .data_as(Some(&l.referrer), READ, json!({ "id": id }))
        .await;
    let answers = read["referral"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| ["ACCEPTED", "DECLINED"].contains(&e["status"].as_str().unwrap()))
        .count();
    assert_eq!(answers, 1, "one event for the one move");
}

#[tokio::test]
async fn nobody_but_the_two_sides_learns_a_referral_exists() {
    let l = Loop::new().await;
    let id = l.refer().await;
    // Another group of the same authority, another team, another authority's editor
    // and admin, an analyst of the owning authority, the team's editor and analyst.
    let (other_org, _) = group(&l.app, &l.editor, "Stretford Singers", (53.4466, -2.3086)).await;
    let strangers = [
        provider_key(&l.app, "trafford", &other_org).await,
        l.app.key("altrincham-link-workers", "referrer").await,
        l.app.key("manchester", "editor").await,
        l.app.key("manchester", "admin").await,
        l.app.key("trafford", "analyst").await,
        // The referring team's other roles are not its link workers.
        l.app.key("sale-link-workers", "editor").await,
        l.app.key("sale-link-workers", "analyst").await,
    ];
    let missing = uuid::Uuid::new_v4().to_string();
    for key in &strangers {
        for target in [&id, &missing] {
            let body = l.app.gql_as(Some(key), READ, json!({ "id": target })).await;
            assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
            let body = l
                .app
                .gql_as(
                    Some(key),
                    MOVE,
                    json!({ "id": target, "v": 1, "input": { "status": "WITHDRAWN" } }),
                )
                .await;
            assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
            let body = l
                .app
                .gql_as(
                    Some(key),
                    "mutation($id: ID!) { erasePersonData(referralId: $id) { referral { id } } }",
                    json!({ "id": target }),
                )
                .await;
            assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        }
        let list = l
            .app
            .data_as(
                Some(key),
                "{ referrals { edges { node { id } } } }",
                json!({}),
            )
            .await;
        assert_eq!(list["referrals"]["edges"], json!([]));
        let mut socket = subscribe_as(
            &l.app.addr.to_string(),
            Some(key),
            "subscription($id: ID) { referralChanged(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
        let answer = receive(&mut socket).await;
        assert_eq!(
            answer["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{answer}"
        );
    }
    // Anonymous callers are not told either.
    let body = l.app.gql(READ, json!({ "id": id })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    // Both sides see it, and the owning authority's editor acts for its group.
    for key in [&l.referrer, &l.provider, &l.editor] {
        let list = l
            .app
            .data_as(
                Some(key),
                "{ referrals { edges { node { id } } } }",
                json!({}),
            )
            .await;
        assert_eq!(list["referrals"]["edges"][0]["node"]["id"], id.as_str());
    }
}

#[tokio::test]
async fn a_referral_needs_consent_a_valid_person_a_live_service_and_a_referrer_key() {
    let l = Loop::new().await;
    let refer = |key: &str, input: Value| {
        let key = key.to_string();
        let app = &l.app;
        async move {
            app.gql_as(Some(&key), CREATE, json!({ "input": input }))
                .await
        }
    };
    let input = |person: Value, consent: bool| json!({ "serviceId": l.service, "person": person, "consent": consent });
    let body = refer(&l.referrer, input(Loop::person("Ada"), false)).await;
    assert_eq!(
        (error_code(&body), error_field(&body)),
        ("BAD_USER_INPUT", "input.consent")
    );
    for (person, field) in [
        (json!({ "name": " " }), "input.person.name"),
        (json!({ "name": "Ada\u{1b}[31m" }), "input.person.name"),
        (
            json!({ "name": "Ada", "phone": "ring me" }),
            "input.person.phone",
        ),
        (
            json!({ "name": "Ada", "email": "ada@" }),
            "input.person.email",
        ),
        (
            json!({ "name": "Ada", "postcode": "NOWHERE" }),
            "input.person.postcode",
        ),
        (json!({ "name": "Ada", "age": -1 }), "input.person.age"),
        (json!({ "name": "x".repeat(201) }), "input.person.name"),
        (
            json!({ "name": "Ada", "languages": ["klingon"] }),
            "input.person.languages[0]",
        ),
    ] {
        let body = refer(&l.referrer, input(person.clone(), true)).await;
        assert_eq!(
            (error_code(&body), error_field(&body)),
            ("BAD_USER_INPUT", field),
            "{person}: {body}"
        );
    }
    for key in [&l.editor, &l.provider] {
        let body = refer(key, input(Loop::person("Ada"), true)).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    assert_eq!(l.app.count("referral").await, 0, "nothing half-written");

    l.app
        .data_as(
            Some(&l.editor),
            "mutation($id: ID!) { retireService(id: $id) { service { id } } }",
            json!({ "id": l.service }),
        )
        .await;
    let body = refer(&l.referrer, input(Loop::person("Ada"), true)).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "a retired service: {body}");

    // The fit is judged as search judges it, and kept.
    let (_, open) = group(&l.app, &l.editor, "Sale Walkers", (53.4246, -2.3227)).await;
    let young = json!({ "name": "Ben", "age": 30 });
    let id = l.refer_to(&l.referrer, &open, young).await;
    let read = l
        .app
        .data_as(Some(&l.referrer), READ, json!({ "id": id }))
        .await;
    assert_eq!(
        read["referral"]["fit"],
        json!({ "suitable": false, "reasons": [{ "criterion": "AGE", "outcome": "NOT_MET" }] })
    );
    assert_eq!(
        read["referral"]["reason"],
        "lonely since her husband's stroke"
    );
}

#[tokio::test]
async fn the_groups_first_read_of_the_person_opens_the_referral_and_every_read_is_audited() {
    let l = Loop::new().await;
    let id = l.refer().await;
    // The team's own reads do not open it.
    let read = l
        .app
        .data_as(Some(&l.referrer), READ, json!({ "id": id }))
        .await;
    assert_eq!(read["referral"]["status"], "REQUESTED");
    assert_eq!(read["referral"]["person"]["name"], "Ada Lovelace");
    // The group reading the status only does not either.
    let read = l
        .app
        .data_as(Some(&l.provider), STATUS, json!({ "id": id }))
        .await;
    assert_eq!(read["referral"]["status"], "REQUESTED");
    let read = l
        .app
        .data_as(Some(&l.provider), READ, json!({ "id": id }))
        .await;
    assert_eq!(read["referral"]["status"], "OPENED", "{read}");
    assert_eq!(read["referral"]["version"], 2);
    assert_eq!(read["referral"]["person"]["phone"], "0161 496 0000");
    let read = l
        .app
        .data_as(Some(&l.provider), READ, json!({ "id": id }))
        .await;
    assert_eq!(
        read["referral"]["version"], 2,
        "only the first read opens it"
    );

    let reads = l
        .app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            l.app.db.get_database_backend(),
            format!(
                "SELECT actor FROM audit_event WHERE action = 'read_person' AND entity_id = '{id}' ORDER BY id"
            ),
        ))
        .await
        .unwrap();
    let actors: Vec<String> = reads
        .iter()
        .map(|r| r.try_get::<String>("", "actor").unwrap())
        .collect();
    let key = |k: &str| format!("key:{}", &k[3..11]);
    assert_eq!(
        actors,
        [key(&l.referrer), key(&l.provider), key(&l.provider)]
    );
}

/// Record the capacity of the loop's service with `key`.
async fn set_capacity(l: &Loop, key: &str, input: Value) {
    l.app
        .data_as(
            Some(key),
            "mutation($id: ID!, $input: CapacityInput!) { updateCapacity(serviceId: $id, input: $input) { capacity { status } } }",
            json!({ "id": l.service, "input": input }),
        )
        .await;
}

/// Search sees the capacity a referral taught it: the status of `service` near Sale.
async fn capacity_of(l: &Loop, service: &str) -> Value {
    l.app
        .data_as(
            Some(&l.editor),
            "query($id: ID!) { service(id: $id) { capacity { status available } } }",
            json!({ "id": service }),
        )
        .await["service"]["capacity"]
        .clone()
}

async fn accepting_near_sale(l: &Loop) -> Vec<String> {
    let found = l
        .app
        .data(
            "{ search(input: { near: { latitude: 53.4246, longitude: -2.3227 }, capacity: [ACCEPTING] }) { edges { node { service { id } } } } }",
            json!({}),
        )
        .await;
    found["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["service"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_decline_for_lack_of_capacity_marks_the_service_full_at_once_and_asks_for_review() {
    let l = Loop::new().await;
    set_capacity(&l, &l.provider, json!({ "available": 3, "maximum": 10 })).await;
    assert_eq!(accepting_near_sale(&l).await, vec![l.service.clone()]);
    let mut socket = crate::live::subscribe(
        &l.app.addr.to_string(),
        "subscription { capacityChanged(near: { latitude: 53.4246, longitude: -2.3227 }) { service { id } capacity { status } } }",
        json!({}),
    )
    .await;
    listening(&l.app, 1).await;
    let id = l.refer().await;
    l.moved(&l.provider, &id, "OPENED").await;
    let body = l
        .try_move(
            &l.provider,
            &id,
            json!({ "status": "DECLINED", "reason": "NO_CAPACITY" }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        capacity_of(&l, &l.service).await,
        json!({ "status": "FULL", "available": 0 })
    );
    // No sync, no sleep: search and subscribers see it at once.
    assert_eq!(accepting_near_sale(&l).await, Vec::<String>::new());
    let told = receive(&mut socket).await;
    assert_eq!(
        told["payload"]["data"]["capacityChanged"]["capacity"]["status"], "FULL",
        "{told}"
    );
    let sources = l
        .app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            l.app.db.get_database_backend(),
            "SELECT source FROM capacity_event ORDER BY id".to_string(),
        ))
        .await
        .unwrap();
    let sources: Vec<String> = sources
        .iter()
        .map(|r| r.try_get("", "source").unwrap())
        .collect();
    assert_eq!(sources, ["api", "referral"]);
    // The group takes someone on from its waiting list: what a referral teaches
    // does not count as someone recording the capacity.
    let other = l.refer().await;
    l.moved(&l.provider, &other, "OPENED").await;
    l.moved(&l.provider, &other, "ACCEPTED").await;

    let queue = "{ reviewQueue { edges { node { service { id } reasons { reason detail } } } } }";
    let review = l.app.data_as(Some(&l.editor), queue, json!({})).await;
    let item = &review["reviewQueue"]["edges"][0]["node"];
    assert_eq!(item["service"]["id"], l.service.as_str());
    assert_eq!(item["reasons"][0]["reason"], "DECLINED_FOR_CAPACITY");
    assert!(
        item["reasons"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("Declined a referral for lack of capacity"),
        "{item}"
    );
    // Once the group records its capacity again, the reason goes.
    set_capacity(&l, &l.provider, json!({ "status": "ACCEPTING" })).await;
    let review = l.app.data_as(Some(&l.editor), queue, json!({})).await;
    let reasons = review["reviewQueue"]["edges"][0]["node"]["reasons"].to_string();
    assert!(!reasons.contains("DECLINED_FOR_CAPACITY"), "{reasons}");
    assert!(next(&mut socket).await.is_some(), "the update was told too");
}

#[tokio::test]
async fn an_accept_takes_one_counted_place_and_never_goes_below_none() {
    let l = Loop::new().await;
    // Uncounted capacity is left alone.
    let id = l.refer().await;
    l.moved(&l.provider, &id, "OPENED").await;
    l.moved(&l.provider, &id, "ACCEPTED").await;
    assert_eq!(capacity_of(&l, &l.service).await, Value::Null);

    set_capacity(&l, &l.editor, json!({ "available": 2, "maximum": 12 })).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let id = l.refer().await;
        l.moved(&l.provider, &id, "OPENED").await;
        l.moved(&l.provider, &id, "ACCEPTED").await;
        seen.push(capacity_of(&l, &l.service).await);
    }
    assert_eq!(
        seen,
        [
            json!({ "status": "ACCEPTING", "available": 1 }),
            json!({ "status": "FULL", "available": 0 }),
            json!({ "status": "FULL", "available": 0 }),
        ]
    );
}

#[tokio::test]
async fn production_without_a_data_key_refuses_referrals_and_names_the_variable() {
    let app = TestApp::spawn_with(signpost::graphql::SchemaOptions {
        mode: signpost::graphql::Mode::Production,
        ..Default::default()
    })
    .await;
    let l = Loop::on(app).await;
    let input = json!({ "serviceId": l.service, "person": Loop::person("Ada"), "consent": true });
    let response = l
        .app
        .client
        .post(l.app.url("/graphql"))
        .bearer_auth(&l.referrer)
        .json(&json!({ "query": CREATE, "variables": { "input": input } }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        503,
        "a server not set up for it: retry elsewhere"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAVAILABLE", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SIGNPOST_DATA_KEY"),
        "{body}"
    );
    assert_eq!(l.app.count("referral").await, 0);
}

#[tokio::test]
async fn both_sides_hear_each_move_and_others_hear_nothing() {
    let l = Loop::new().await;
    let addr = l.app.addr.to_string();
    let query = "subscription { referralChanged { id status } }";
    let mut team = subscribe_as(&addr, Some(&l.referrer), query, json!({})).await;
    let mut group = subscribe_as(&addr, Some(&l.provider), query, json!({})).await;
    let stranger = l.app.key("altrincham-link-workers", "referrer").await;
    let mut other = subscribe_as(&addr, Some(&stranger), query, json!({})).await;
    listening(&l.app, 3).await;
    let id = l.refer().await;
    l.moved(&l.provider, &id, "OPENED").await;
    for socket in [&mut team, &mut group] {
        for status in ["REQUESTED", "OPENED"] {
            let told = receive(socket).await;
            assert_eq!(
                told["payload"]["data"]["referralChanged"],
                json!({ "id": id, "status": status }),
                "{told}"
            );
        }
    }
    assert!(
        next(&mut other).await.is_none(),
        "another team hears nothing"
    );
    // A subscription needs a key.
    let mut anonymous = subscribe_as(&addr, None, query, json!({})).await;
    let answer = receive(&mut anonymous).await;
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
}

/// Two areas side by side (west and east of -2.32), and postcodes in each.
pub async fn two_areas(app: &TestApp) -> HashMap<&'static str, Vec<String>> {
    let square = |west: f64| {
        json!({ "type": "Feature",
            "properties": { "area_code": format!("W{}", if west < -2.32 { 1 } else { 2 }),
                "area_name": if west < -2.32 { "West Sale" } else { "East Sale" } },
            "geometry": { "type": "Polygon", "coordinates": [[
                [west, 53.40], [west + 0.03, 53.40], [west + 0.03, 53.45], [west, 53.45], [west, 53.40]
            ]] } })
    };
    let collection =
        json!({ "type": "FeatureCollection", "features": [square(-2.35), square(-2.32)] });
    let props = signpost::import::areas::AreaProperties::default();
    signpost::import::areas::import(&app.db, collection.to_string().as_bytes(), "ward", &props)
        .await
        .unwrap();
    let mut codes = HashMap::new();
    let mut rows = Vec::new();
    for (area, lon) in [("W1", -2.335), ("W2", -2.305)] {
        let mut list = Vec::new();
        for i in 0..8 {
            let code = format!(
                "M33 {}A{}",
                if area == "W1" { 1 } else { 2 },
                (b'A' + i) as char
            );
            rows.push(entity::postcode::Model {
                code: code.clone(),
                latitude: 53.42 + f64::from(i) * 0.001,
                longitude: lon,
                lsoa_code: None,
                msoa_code: None,
                ward_code: None,
                local_authority_code: None,
            });
            list.push(code);
        }
        codes.insert(area, list);
    }
    signpost::import::postcodes::write(&app.db, rows)
        .await
        .unwrap();
    app.sync_index().await;
    codes
}

#[tokio::test]
async fn referral_flow_counts_per_area_and_withholds_small_numbers() {
    let l = Loop::new().await;
    let postcodes = two_areas(&l.app).await;
    let person = |postcode: &str| json!({ "name": "Someone", "postcode": postcode });
    // West: six referrals — three accepted (one completed), two declined (one for
    // capacity), one still open; one entered in error, which counts nowhere.
    let mut west = Vec::new();
    for code in &postcodes["W1"][..7] {
        west.push(l.refer_to(&l.referrer, &l.service, person(code)).await);
    }
    for id in &west[..6] {
        l.moved(&l.provider, id, "OPENED").await;
    }
    for id in &west[..3] {
        l.moved(&l.provider, id, "ACCEPTED").await;
    }
    l.moved(&l.provider, &west[0], "COMPLETED").await;
    l.moved(&l.provider, &west[3], "DECLINED").await;
    let body = l
        .try_move(
            &l.provider,
            &west[4],
            json!({ "status": "DECLINED", "reason": "NO_CAPACITY" }),
        )
        .await;
    assert!(body.get("errors").is_none());
    l.moved(&l.referrer, &west[6], "ENTERED_IN_ERROR").await;
    // East: five referrals, exactly the threshold (one is later entered in error).
    let mut east = Vec::new();
    for code in &postcodes["W2"][..5] {
        east.push(l.refer_to(&l.referrer, &l.service, person(code)).await);
    }
    let flow = "query($input: ReferralFlowInput!) { referralFlow(input: $input) { area { code name } referrals accepted declined declinedNoCapacity completed medianHoursToAnswer suppressed } }";
    let analyst = l.app.key("trafford", "analyst").await;
    let data = l
        .app
        .data_as(
            Some(&analyst),
            flow,
            json!({ "input": { "areaType": "ward" } }),
        )
        .await;
    let areas = data["referralFlow"].as_array().unwrap();
    assert_eq!(areas.len(), 2);
    let w1 = &areas[0];
    assert_eq!(w1["area"], json!({ "code": "W1", "name": "West Sale" }));
    assert_eq!(
        (
            &w1["referrals"],
            &w1["accepted"],
            &w1["declined"],
            &w1["declinedNoCapacity"],
            &w1["completed"],
            &w1["suppressed"]
        ),
        (
            &json!(6),
            &json!(3),
            &json!(2),
            &json!(1),
            &json!(1),
            &json!(false)
        ),
        "{w1}"
    );
    assert!(w1["medianHoursToAnswer"].as_f64().unwrap() < 0.1, "{w1}");
    let w2 = &areas[1];
    assert_eq!(
        (&w2["referrals"], &w2["accepted"], &w2["suppressed"]),
        (&json!(5), &json!(0), &json!(false)),
        "5 are shown"
    );
    l.moved(&l.referrer, &east[0], "ENTERED_IN_ERROR").await;
    let data = l
        .app
        .data_as(
            Some(&analyst),
            flow,
            json!({ "input": { "areaType": "ward" } }),
        )
        .await;
    let w2 = &data["referralFlow"][1];
    assert_eq!(
        (
            &w2["referrals"],
            &w2["accepted"],
            &w2["medianHoursToAnswer"],
            &w2["suppressed"]
        ),
        (&Value::Null, &Value::Null, &Value::Null, &json!(true)),
        "fewer than 5: withheld"
    );
    // A window that ends before any referral counts none.
    let data = l
        .app
        .data_as(
            Some(&analyst),
            flow,
            json!({ "input": { "areaType": "ward", "to": "2020-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(data["referralFlow"][0]["referrals"], Value::Null);
    // Providers and referrers may not read it; bad input names the field.
    for key in [&l.provider, &l.referrer] {
        let body = l
            .app
            .gql_as(Some(key), flow, json!({ "input": { "areaType": "ward" } }))
            .await;
        assert_eq!(error_code(&body), "FORBIDDEN");
    }
    let body = l
        .app
        .gql_as(
            Some(&analyst),
            flow,
            json!({ "input": { "areaType": "ward", "taxonomyTerms": ["no-such-term"] } }),
        )
        .await;
    assert_eq!(error_field(&body), "input.taxonomyTerms");
    let body = l
        .app
        .gql_as(
            Some(&analyst),
            flow,
            json!({ "input": { "areaType": "ward", "from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(error_field(&body), "input.to");
}

#[tokio::test]
async fn the_referring_team_erases_a_person_at_once_and_the_counts_stay() {
    let l = Loop::new().await;
    let id = l.refer().await;
    l.moved(&l.provider, &id, "OPENED").await;
    let body = l
        .try_move(
            &l.provider,
            &id,
            json!({ "status": "ACCEPTED", "note": "Starts Tuesday" }),
        )
        .await;
    assert!(body.get("errors").is_none());
    let erase = "mutation($id: ID!) { erasePersonData(referralId: $id) { referral { status erasedAt person { name } } } }";
    let body = l
        .app
        .gql_as(Some(&l.provider), erase, json!({ "id": id }))
        .await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "only the team erases: {body}"
    );
    let data = l
        .app
        .data_as(Some(&l.referrer), erase, json!({ "id": id }))
        .await;
    let erased = &data["erasePersonData"]["referral"];
    assert_eq!(erased["status"], "ACCEPTED");
    assert!(erased["erasedAt"].is_string());
    assert_eq!(erased["person"], Value::Null);
    for key in [&l.referrer, &l.provider] {
        let read = l.app.data_as(Some(key), READ, json!({ "id": id })).await;
        let r = &read["referral"];
        assert_eq!(
            (&r["person"], &r["reason"], &r["fit"]),
            (&Value::Null, &Value::Null, &Value::Null)
        );
        let notes: Vec<&Value> = r["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["note"])
            .collect();
        assert!(notes.iter().all(|n| n.is_null()), "{r}");
        assert_eq!(r["events"].as_array().unwrap().len(), 3, "the moves stay");
    }
    let kept = l
        .app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            l.app.db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM referral_event WHERE referral_id = '{id}' AND note_sealed IS NOT NULL"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(
        kept, 0,
        "the notes are gone from the table, not only hidden"
    );
    // No new note is kept for an erased person; the group can still finish the loop.
    let body = l
        .try_move(
            &l.provider,
            &id,
            json!({ "status": "COMPLETED", "note": "Came twice" }),
        )
        .await;
    assert_eq!(error_field(&body), "input.note", "{body}");
    l.moved(&l.provider, &id, "COMPLETED").await;
}

#[tokio::test]
async fn concurrent_accepts_of_one_counted_service_each_take_one_place() {
    let l = Loop::new().await;
    set_capacity(&l, &l.editor, json!({ "available": 10, "maximum": 10 })).await;
    let mut opened = Vec::new();
    for _ in 0..10 {
        let id = l.refer().await;
        let v = l.moved(&l.provider, &id, "OPENED").await["version"].clone();
        opened.push((id, v));
    }
    // The owning authority's editor answers for its group too.
    let answers = opened.iter().enumerate().map(|(i, (id, v))| {
        let key = if i % 2 == 0 { &l.provider } else { &l.editor };
        l.app.gql_as(
            Some(key),
            MOVE,
            json!({ "id": id, "v": v, "input": { "status": "ACCEPTED" } }),
        )
    });
    for body in futures::future::join_all(answers).await {
        assert!(body.get("errors").is_none(), "{body}");
    }
    assert_eq!(
        capacity_of(&l, &l.service).await,
        json!({ "status": "FULL", "available": 0 })
    );
}

#[tokio::test]
async fn a_revoked_key_hears_no_more_and_writes_never_go_over_websocket() {
    let l = Loop::new().await;
    let addr = l.app.addr.to_string();
    let query = "subscription { referralChanged { id status } }";
    let mut group = subscribe_as(&addr, Some(&l.provider), query, json!({})).await;
    listening(&l.app, 1).await;
    let id = l.refer().await;
    let told = receive(&mut group).await;
    assert_eq!(
        told["payload"]["data"]["referralChanged"]["id"],
        id.as_str()
    );
    auth::revoke_key(&l.app.db, &l.provider[3..11], None, "test")
        .await
        .unwrap();
    l.moved(&l.referrer, &id, "WITHDRAWN").await;
    let told = receive(&mut group).await;
    assert_eq!(
        told["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{told}"
    );
    assert_eq!(receive(&mut group).await["type"], "complete", "and it ends");
    // A new operation on the same connection is refused too.
    crate::live::send(
        &mut group,
        json!({ "id": "2", "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    let told = receive(&mut group).await;
    assert_eq!(
        told["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{told}"
    );
    // Writes go over POST only, where limits and timeouts apply.
    let input = json!({ "serviceId": l.service, "person": Loop::person("Ada"), "consent": true });
    let mut team = subscribe_as(&addr, Some(&l.referrer), CREATE, json!({ "input": input })).await;
    let told = receive(&mut team).await;
    assert_eq!(
        told["payload"]["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{told}"
    );
    assert_eq!(l.app.count("referral").await, 1);
}
