//! The map page in a real browser (headless Chromium driven by playwright-core):
//! search a postcode and see markers and reasons; switch to gaps and see shaded
//! areas with a legend; nothing loaded from elsewhere. Screenshots are kept under
//! the target directory. `.ci/run` installs Chromium and playwright-core; without
//! them this test says it skipped.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::helpers::{TestApp, say_skipped};

/// Where node finds playwright-core (outside the repository; `.ci/run` installs it).
fn node_modules() -> PathBuf {
    std::env::var("SIGNPOST_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/var/tmp/signpost-node/node_modules"))
}

fn browser_ready() -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    node && PathBuf::from(chromium).exists() && node_modules().join("playwright-core").exists()
}

#[tokio::test]
async fn the_map_page_searches_and_shades_gaps_in_a_real_browser() {
    if !browser_ready() {
        say_skipped(
            "the browser test needs node, /usr/bin/chromium and playwright-core (.ci/run installs them)",
        );
        return;
    }
    let app = TestApp::spawn().await;
    signpost::demo::load(&app.db).await.unwrap();
    app.sync_index().await;
    let out = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("browser-screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/map.mjs");
    let base = format!("http://{}", app.addr);
    // node blocks; run it off the async runtime that serves the app.
    let shots = out.clone();
    let run = tokio::task::spawn_blocking(move || {
        // ES modules resolve packages from the script's folder upwards, not NODE_PATH:
        // run a copy that sits beside the installed node_modules.
        let beside = node_modules().parent().unwrap().join("map.mjs");
        std::fs::copy(&script, &beside).unwrap();
        Command::new("node")
            .arg(&beside)
            .args([base.as_str(), "M33 1AA", shots.to_str().unwrap()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap();
    assert!(seen["baseAreas"].as_u64().unwrap() > 100, "{seen}");
    assert!(seen["markers"].as_u64().unwrap() > 0, "{seen}");
    assert!(seen["items"].as_u64().unwrap() > 0, "{seen}");
    assert!(seen["reasons"].as_u64().unwrap() > 0, "{seen}");
    assert_eq!(
        seen["viewChanged"], true,
        "pan and zoom move the view: {seen}"
    );
    assert!(seen["shaded"].as_u64().unwrap() > 100, "{seen}");
    assert!(
        seen["colours"].as_u64().unwrap() > 1,
        "shades differ: {seen}"
    );
    let rows = seen["legendRows"].as_u64().unwrap();
    assert!(
        (3..=6).contains(&rows),
        "up to five classes and no data: {seen}"
    );
    assert_eq!(
        seen["elsewhere"],
        serde_json::json!([]),
        "works offline: {seen}"
    );
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen}");
    eprintln!("screenshots in {}", out.display());
}
