//! The roles referrals stand on: a referrer key (a link-worker team, owning no
//! listings) and a provider key scoped to one organization, which may update its own
//! services' capacity and nothing else; `me` shows a provider's organization.

use serde_json::{Value, json};
use signpost::domain::auth;
use signpost::domain::codes::Role;

use crate::helpers::{TestApp, error_code, run_cli};

const CREATE_ORG: &str = "mutation($name: String!) { createOrganization(input: { name: $name }) { organization { id } } }";
const CREATE_SERVICE: &str =
    "mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }";
const CAPACITY: &str = "mutation($id: ID!) { updateCapacity(serviceId: $id, input: { status: ACCEPTING, available: 3, maximum: 10 }) { capacity { status available } } }";
const ME: &str = "{ me { role authority { slug } organization { id name } } }";

/// Trafford with two organizations, a service each, and an editor key.
async fn two_groups(app: &TestApp) -> (String, [(String, String); 2]) {
    let editor = app.key("trafford", "editor").await;
    let mut groups = Vec::new();
    for name in ["Sale Strollers", "Stretford Singers"] {
        let org = app
            .data_as(Some(&editor), CREATE_ORG, json!({ "name": name }))
            .await["createOrganization"]["organization"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let input = json!({ "organizationId": org, "name": name,
            "locations": [{ "latitude": 53.42, "longitude": -2.32 }] });
        let service = app
            .data_as(Some(&editor), CREATE_SERVICE, json!({ "input": input }))
            .await["createService"]["service"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        groups.push((org, service));
    }
    let groups: [(String, String); 2] = groups.try_into().unwrap();
    (editor, groups)
}

async fn provider_key(app: &TestApp, organization: &str) -> String {
    auth::create_key(
        &app.db,
        "trafford",
        Role::Provider,
        Some(organization),
        "test",
    )
    .await
    .expect("provider key")
    .token
}

#[tokio::test]
async fn a_provider_updates_its_own_organizations_capacity_and_nothing_else() {
    let app = TestApp::spawn().await;
    let (editor, [(own_org, own), (_, other)]) = two_groups(&app).await;
    let provider = provider_key(&app, &own_org).await;

    let me = app.data_as(Some(&provider), ME, json!({})).await;
    assert_eq!(me["me"]["role"], "PROVIDER");
    assert_eq!(me["me"]["organization"]["id"], own_org.as_str());
    assert_eq!(me["me"]["organization"]["name"], "Sale Strollers");

    let data = app
        .data_as(Some(&provider), CAPACITY, json!({ "id": own }))
        .await;
    assert_eq!(
        data["updateCapacity"]["capacity"],
        json!({ "status": "ACCEPTING", "available": 3 })
    );
    let body = app
        .gql_as(Some(&provider), CAPACITY, json!({ "id": other }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    // Listings stay the authority's: a provider cannot change them.
    let refused: Vec<(&str, Value)> = vec![
        (CREATE_ORG, json!({ "name": "Mine" })),
        (
            "mutation($id: ID!) { updateService(id: $id, expectedVersion: 1, input: { name: \"X\" }) { service { id } } }",
            json!({ "id": own }),
        ),
        (
            "mutation($id: ID!) { retireService(id: $id) { service { id } } }",
            json!({ "id": own }),
        ),
        (
            "mutation($id: ID!) { verifyService(id: $id) { service { id } } }",
            json!({ "id": own }),
        ),
        (
            "query($id: ID!) { service(id: $id) { history { action } } }",
            json!({ "id": own }),
        ),
        (
            "{ reviewQueue { edges { node { service { id } } } } }",
            json!({}),
        ),
    ];
    for (query, variables) in refused {
        let body = app.gql_as(Some(&provider), query, variables).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}: {body}");
    }
    // The authority's editor still updates any of its capacity.
    let data = app
        .data_as(Some(&editor), CAPACITY, json!({ "id": other }))
        .await;
    assert_eq!(data["updateCapacity"]["capacity"]["available"], 3);
}

#[tokio::test]
async fn a_referrer_owns_no_listings_and_changes_none() {
    let app = TestApp::spawn().await;
    let (_, [(_, service), _]) = two_groups(&app).await;
    let referrer = app.key("link-workers", "referrer").await;
    let me = app.data_as(Some(&referrer), ME, json!({})).await;
    assert_eq!(me["me"]["role"], "REFERRER");
    assert_eq!(me["me"]["organization"], Value::Null);
    let body = app
        .gql_as(Some(&referrer), CAPACITY, json!({ "id": service }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app
        .gql_as(Some(&referrer), CREATE_ORG, json!({ "name": "Ours" }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn provider_keys_name_one_of_their_authoritys_organizations() {
    let app = TestApp::spawn().await;
    let (_, [(org, _), _]) = two_groups(&app).await;
    app.key("stockport", "editor").await;
    let url = app.database_url.clone();
    let env = [("SIGNPOST_DATABASE_URL", url.as_str())];
    let key = |args: &[&str]| {
        let mut all = vec!["key", "create"];
        all.extend_from_slice(args);
        run_cli(&all, &env)
    };

    let made = key(&[
        "--authority",
        "trafford",
        "--role",
        "provider",
        "--organization",
        &org,
    ]);
    assert!(made.status.success(), "{made:?}");
    let token = String::from_utf8_lossy(&made.stdout).trim().to_string();
    let me = app.data_as(Some(&token), ME, json!({})).await;
    assert_eq!(me["me"]["organization"]["id"], org.as_str());

    for (args, says) in [
        (
            vec!["--authority", "trafford", "--role", "provider"],
            "organization",
        ),
        (
            vec![
                "--authority",
                "stockport",
                "--role",
                "provider",
                "--organization",
                &org,
            ],
            "no organization",
        ),
        (
            vec![
                "--authority",
                "trafford",
                "--role",
                "editor",
                "--organization",
                &org,
            ],
            "only a provider key",
        ),
    ] {
        let refused = key(&args);
        assert!(!refused.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }

    // Admins make provider keys over GraphQL too, naming the organization.
    let admin = app.key("trafford", "admin").await;
    let create = "mutation($org: ID) { createApiKey(role: PROVIDER, organizationId: $org) { key apiKey { role organizationId } } }";
    let data = app
        .data_as(Some(&admin), create, json!({ "org": org }))
        .await;
    assert_eq!(
        data["createApiKey"]["apiKey"],
        json!({ "role": "PROVIDER", "organizationId": org })
    );
    let body = app
        .gql_as(Some(&admin), create, json!({ "org": Value::Null }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "organizationId");
}
