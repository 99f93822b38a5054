//! Authorities and keys: made on the command line, shown once, stored hashed, sent as
//! `Authorization: Bearer <key>`, revocable.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, run_cli};

const ME: &str = "{ me { authority { slug name } role keyPrefix } }";

async fn status_and_body(app: &TestApp, authorization: Option<&str>) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": ME }));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 401 {
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer",
            "a 401 says how to authenticate"
        );
    }
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_cli_makes_an_authority_and_a_key_that_is_shown_once_and_stored_hashed() {
    let app = TestApp::spawn().await;
    let env = [("SIGNPOST_DATABASE_URL", app.database_url.as_str())];
    let out = run_cli(
        &[
            "authority",
            "create",
            "trafford",
            "--name",
            "Trafford Council",
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = run_cli(
        &[
            "key",
            "create",
            "--authority",
            "trafford",
            "--role",
            "editor",
        ],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(key.starts_with("sp_") && key.len() > 40, "{key}");
    let prefix = &key[3..11];

    // Stored as SHA-256 with the prefix; the key itself appears nowhere.
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT prefix, key_hash, role FROM api_key".to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored_prefix: String = rows[0].try_get("", "prefix").unwrap();
    let stored_hash: String = rows[0].try_get("", "key_hash").unwrap();
    assert_eq!(stored_prefix, prefix);
    assert_eq!(stored_hash.len(), 64);
    assert!(!stored_hash.contains(&key[12..]));

    let me = app.data_as(Some(&key), ME, json!({})).await;
    assert_eq!(
        me["me"],
        json!({ "authority": { "slug": "trafford", "name": "Trafford Council" }, "role": "EDITOR", "keyPrefix": prefix })
    );

    // A duplicate authority and an unknown one are plain messages.
    let out = run_cli(
        &["authority", "create", "trafford", "--name", "Again"],
        &env,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = run_cli(
        &[
            "key",
            "create",
            "--authority",
            "nowhere",
            "--role",
            "editor",
        ],
        &env,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no authority 'nowhere'"));
    let out = run_cli(
        &[
            "key",
            "create",
            "--authority",
            "trafford",
            "--role",
            "owner",
        ],
        &env,
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("editor, admin, analyst, referrer or provider")
    );

    // Revoked on the command line: refused at once.
    let out = run_cli(&["key", "revoke", prefix], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = status_and_body(&app, Some(&format!("Bearer {key}"))).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let out = run_cli(&["key", "revoke", "ffffffff"], &env);
    assert!(!out.status.success());
    assert_eq!(app.count("audit_event WHERE entity = 'api_key'").await, 2);
}

#[tokio::test]
async fn anonymous_callers_are_nobody_and_bad_keys_are_refused_not_downgraded() {
    let app = TestApp::spawn().await;
    let key = app.key("trafford", "analyst").await;
    let (status, body) = status_and_body(&app, None).await;
    assert_eq!((status, &body["data"]["me"]), (200, &Value::Null));

    let (status, body) = status_and_body(&app, Some(&format!("Bearer {key}"))).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["me"]["role"], "ANALYST");

    let mut tampered = key.clone();
    tampered.push('x');
    for header in [
        format!("Bearer {tampered}"),
        "Bearer sp_00000000_nothing".to_string(),
        "Bearer not-a-key".to_string(),
        format!("Basic {key}"),
        "Bearer".to_string(),
    ] {
        let (status, body) = status_and_body(&app, Some(&header)).await;
        assert_eq!(status, 401, "{header}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{header}");
        assert!(body["errors"][0]["extensions"]["requestId"].is_string());
    }
}

#[tokio::test]
async fn admins_manage_their_own_authoritys_keys_and_no_one_elses() {
    let app = TestApp::spawn().await;
    let admin = app.key("trafford", "admin").await;
    let editor = app.key("trafford", "editor").await;
    let other_admin = app.key("stockport", "admin").await;
    const CREATE: &str = "mutation($role: Role!) { createApiKey(role: $role) { key apiKey { prefix role revokedAt } } }";
    const REVOKE: &str =
        "mutation($p: String!) { revokeApiKey(prefix: $p) { apiKey { prefix revokedAt } } }";

    let made = app
        .data_as(Some(&admin), CREATE, json!({ "role": "ANALYST" }))
        .await;
    let new_key = made["createApiKey"]["key"].as_str().unwrap().to_string();
    let prefix = made["createApiKey"]["apiKey"]["prefix"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(made["createApiKey"]["apiKey"]["role"], "ANALYST");
    let me = app.data_as(Some(&new_key), ME, json!({})).await;
    assert_eq!(me["me"]["authority"]["slug"], "trafford");

    let listed = app
        .data_as(Some(&admin), "{ apiKeys { prefix role } }", json!({}))
        .await;
    assert_eq!(listed["apiKeys"].as_array().unwrap().len(), 3);
    assert!(
        !listed.to_string().contains(&new_key[12..]),
        "keys are never shown again"
    );

    // Editors cannot manage keys; another authority's admin cannot touch these.
    let body = app
        .gql_as(Some(&editor), CREATE, json!({ "role": "ADMIN" }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .gql_as(Some(&editor), "{ apiKeys { prefix } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = app
        .gql_as(Some(&other_admin), REVOKE, json!({ "p": prefix }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    app.data_as(Some(&new_key), ME, json!({})).await;

    let revoked = app
        .data_as(Some(&admin), REVOKE, json!({ "p": prefix }))
        .await;
    assert!(revoked["revokeApiKey"]["apiKey"]["revokedAt"].is_string());
    let (status, _) = status_and_body(&app, Some(&format!("Bearer {new_key}"))).await;
    assert_eq!(status, 401);
    assert_eq!(
        app.count("audit_event WHERE entity = 'api_key' AND actor LIKE 'key:%'")
            .await,
        2
    );
}
