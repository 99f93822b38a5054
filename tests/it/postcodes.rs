//! `import postcodes`: both layouts, normalised codes, skipped rows, lookups in any spelling.

use serde_json::json;

use crate::helpers::{TestApp, error_code, run_cli, shared_data};

/// An ONSPD-layout file from another area (Leeds), with a terminated postcode and one
/// without a grid reference, written by the test itself.
const ONSPD: &str = "pcd,pcd2,pcds,dointr,doterm,oscty,oslaua,osward,lat,long,lsoa21,msoa21
LS1  1BA,LS1  1BA,LS1 1BA,199801,,E99999999,E08000035,E05011409,53.796,-1.5475,E01033015,E02006875
LS1  1UR,LS1  1UR,LS1 1UR,199801,,E99999999,E08000035,E05011409,53.7983,-1.5493,E01033015,E02006875
LS1  2XX,LS1  2XX,LS1 2XX,199801,200512,E99999999,E08000035,E05011409,53.7990,-1.5500,E01033015,E02006875
LS1  9ZZ,LS1  9ZZ,LS1 9ZZ,199801,,E99999999,E08000035,,99.999999,0.000000,,
";

#[tokio::test]
async fn onspd_layout_skips_terminated_and_gridless_and_looks_up_in_any_spelling() {
    let app = TestApp::spawn().await;
    let summary = signpost::import::postcodes::import(&app.db, ONSPD.as_bytes())
        .await
        .unwrap();
    assert_eq!(summary.imported, 2);
    assert_eq!(summary.terminated, 1);
    assert_eq!(summary.without_coordinates, 1);
    for spelling in ["LS1 1BA", "ls11ba", " ls1  1ba "] {
        let data = app.data("query($c: String!) { postcode(code: $c) { code latitude longitude lsoaCode wardCode localAuthorityCode } }", json!({ "c": spelling })).await;
        assert_eq!(
            data["postcode"],
            json!({ "code": "LS1 1BA", "latitude": 53.796, "longitude": -1.5475, "lsoaCode": "E01033015", "wardCode": "E05011409", "localAuthorityCode": "E08000035" })
        );
    }
    let body = app
        .gql(r#"{ postcode(code: "LS1 2XX") { code } }"#, json!({}))
        .await;
    assert_eq!(
        error_code(&body),
        "NOT_FOUND",
        "terminated postcodes are not loaded"
    );
    let body = app
        .gql(
            r#"{ postcode(code: "not a postcode") { code } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_file_without_the_needed_columns_is_refused_by_name() {
    let app = TestApp::spawn().await;
    let err = signpost::import::postcodes::import(&app.db, "code,x,y\nM1 1AA,1,2\n".as_bytes())
        .await
        .unwrap_err();
    assert!(
        err.detail().contains("pcds or postcode"),
        "{}",
        err.detail()
    );
}

#[tokio::test]
async fn the_trafford_file_loads_through_the_cli() {
    let Some(path) = shared_data("geography/trafford_postcodes.csv") else {
        return;
    };
    let app = TestApp::spawn().await;
    let out = run_cli(
        &["import", "postcodes", path.to_str().unwrap()],
        &[("SIGNPOST_DATABASE_URL", &app.database_url)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("imported 11264 postcodes"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let data = app
        .data(
            r#"{ postcode(code: "m154ab") { code latitude longitude lsoaCode wardCode } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["postcode"]["code"], "M15 4AB");
    assert_eq!(data["postcode"]["latitude"], 53.465578);
    assert_eq!(data["postcode"]["longitude"], -2.26046);
    assert_eq!(data["postcode"]["lsoaCode"], "E01034001");
}
