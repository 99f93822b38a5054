//! The map page in a real browser (headless Chromium driven by playwright-core):
//! by keyboard alone, search a postcode, open a result, pan, zoom, switch to gaps
//! and read an area's figures; axe-core finds no WCAG 2.2 AA (or best-practice)
//! violation on the first view, after a search and in the gap view; the reasons
//! shown are the API's; nothing loaded from elsewhere. Screenshots are kept under
//! the target directory. `.ci/run` installs Chromium, playwright-core and
//! axe-core; without them this test says it skipped.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{TestApp, say_skipped};

/// Where node finds playwright-core and axe-core (outside the repository; `.ci/run` installs it).
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
    node && PathBuf::from(chromium).exists()
        && ["playwright-core", "axe-core"]
            .iter()
            .all(|package| node_modules().join(package).exists())
}

/// The page is ours and small: its own three files, nothing from elsewhere.
#[tokio::test]
async fn the_map_page_is_small_and_loads_nothing_from_elsewhere() {
    let app = TestApp::spawn().await;
    let mut bytes = 0;
    for path in ["/", "/map.css", "/map.js", "/views.js"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert!(response.status().is_success(), "{path}");
        let text = response.text().await.unwrap();
        bytes += text.len();
        // Only the SVG namespace names another site, and nothing fetches it.
        let elsewhere = text.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !elsewhere.contains("http://")
                && !elsewhere.contains("https://")
                && !elsewhere.contains("//cdn"),
            "{path} names another site"
        );
    }
    assert!(bytes < 40_000, "the page grew to {bytes} bytes");
}

#[tokio::test]
async fn the_map_page_works_by_keyboard_with_no_axe_violations_in_a_real_browser() {
    if !browser_ready() {
        say_skipped(
            "the browser test needs node, /usr/bin/chromium, playwright-core and axe-core (.ci/run installs them)",
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
    let count = |key: &str| seen[key].as_u64().unwrap_or(0);
    // Zero axe-core violations on each view; the node script printed any to stderr.
    for view in ["first view", "search", "gaps"] {
        assert_eq!(
            seen["axe"][view],
            json!([]),
            "axe-core on the {view}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    assert_eq!(seen["unfocusable"], json!([]), "focus is visible: {seen}");
    assert!(count("baseAreas") > 100, "{seen}");
    assert!(
        seen["areaNames"][0].as_str().unwrap().contains(", "),
        "named places: {seen}"
    );
    assert!(count("markers") > 0 && count("items") > 0, "{seen}");
    // The keyboard journey: each step did something.
    for step in [
        "arrowPans",
        "plusZooms",
        "minusZooms",
        "markerMarksItem",
        "itemMarksMarker",
        "resultOpens",
        "gapFormShown",
        "tableRowDescribes",
        "hoverDescribes",
        "pointerMoves",
    ] {
        assert_eq!(seen[step], true, "{step}: {seen}");
    }
    assert!(count("openReasons") > 0, "{seen}");
    let opened = seen["openText"].as_str().unwrap();
    assert!(
        opened.contains("Capacity")
            && ["away", "online", "comes to"]
                .iter()
                .any(|w| opened.contains(w)),
        "an open result says its capacity and distance: {seen}"
    );
    // The reasons shown are the API's, in words.
    assert!(count("reasonsCompared") > 0, "{seen}");
    assert_eq!(seen["reasonMismatches"], json!([]), "{seen}");
    // Gaps: shaded areas, a legend of sensible classes, the same classes in the table.
    assert_eq!(
        seen["gapTerm"], "befriending",
        "typed into the select: {seen}"
    );
    assert!(count("shaded") > 100, "{seen}");
    assert!(count("colours") > 1, "shades differ: {seen}");
    let legend: Vec<&str> = seen["legend"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!((2..=6).contains(&legend.len()), "{seen}");
    assert!(
        legend
            .iter()
            .all(|row| !row.contains("0.0") && row.ends_with("areas)")),
        "rounded bounds and counts: {seen}"
    );
    for class in seen["tableClasses"].as_array().unwrap() {
        let class = class.as_str().unwrap();
        assert!(
            legend.iter().any(|row| row.starts_with(class)),
            "{class} is in the legend: {seen}"
        );
    }
    assert_eq!(count("tableRows"), count("shaded"), "{seen}");
    let figures = seen["areaUnderCross"].as_str().unwrap();
    assert!(
        figures.contains("per 1,000") && figures.contains("searches"),
        "an area's figures under the keyboard's cross: {seen}"
    );
    assert_eq!(seen["elsewhere"], json!([]), "works offline: {seen}");
    assert_eq!(seen["errors"], json!([]), "{seen}");
    eprintln!("the browser saw {seen}\nscreenshots in {}", out.display());
}
