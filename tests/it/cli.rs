//! The command line as an operator meets it: clear messages, non-zero exits, no panics.

use crate::helpers::run_cli;

#[test]
fn unknown_flags_and_bad_values_exit_non_zero_with_a_message() {
    for (args, needle) in [
        (&["serve", "--no-such-flag"][..], "unexpected argument"),
        (&["serve", "--listen", "not-an-address"], "invalid value"),
        (&["serve", "--due-after-days", "0"], "invalid value"),
        (&["serve", "--mode", "staging"], "invalid value"),
        (
            &["serve", "--cors-origins", "https://app.example.org/path"],
            "an origin is scheme://host",
        ),
        (
            &["serve", "--cors-origins", "not an origin"],
            "not an origin",
        ),
        (
            &["serve", "--trusted-proxies", "10.0.0.0/33"],
            "invalid value",
        ),
        (&["serve", "--rate-burst", "0"], "invalid value"),
        (&["serve", "--execution-timeout-ms", "0"], "invalid value"),
        (&["frobnicate"], "unrecognized subcommand"),
        (&["import", "hsds"], "required"),
        (
            &["serve", "--referral-retention-days", "0"],
            "invalid value",
        ),
        (
            &["referrals", "erase", "--closed-before", "last tuesday"],
            "is not a date",
        ),
    ] {
        let out = run_cli(args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A malformed data key stops the server before it serves, naming the variable.
    for key in ["not base64!", "c2hvcnQ="] {
        let out = run_cli(
            &["serve", "--database-url", "sqlite::memory:"],
            &[("SIGNPOST_DATA_KEY", key)],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{key}");
        assert!(stderr.contains("SIGNPOST_DATA_KEY"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = run_cli(&["serve"], &[("SIGNPOST_LISTEN", "nonsense")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SIGNPOST_LISTEN")
            || String::from_utf8_lossy(&out.stderr).contains("invalid value")
    );
}

#[test]
fn an_unreachable_database_is_a_message_not_a_panic() {
    let out = run_cli(
        &["migrate"],
        &[(
            "SIGNPOST_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot open database"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn schema_prints_the_sdl() {
    let out = run_cli(&["schema"], &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        signpost::graphql::sdl()
    );
}

#[test]
fn migrate_creates_a_sqlite_file_with_wal() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let out = run_cli(&["migrate"], &[("SIGNPOST_DATABASE_URL", &url)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("fresh.db").exists());
    let out = run_cli(&["migrate"], &[("SIGNPOST_DATABASE_URL", &url)]);
    assert!(out.status.success(), "migrating twice is fine");
}

#[test]
fn areas_and_population_load_from_the_command_line() {
    let (Some(areas), Some(population)) = (
        crate::helpers::shared_data("geography/trafford_ward_2023.geojson"),
        crate::helpers::shared_data("geography/trafford_ward_population_mid2024.csv"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("areas.db").display());
    let env = [("SIGNPOST_DATABASE_URL", url.as_str())];
    let out = run_cli(
        &["import", "areas", areas.to_str().unwrap(), "--type", "ward"],
        &env,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("imported 21 ward areas"), "{stdout}");
    let out = run_cli(
        &[
            "import",
            "population",
            population.to_str().unwrap(),
            "--type",
            "ward",
        ],
        &env,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("population for 21 areas"), "{stdout}");
    // A wrong property name is a message naming it, and nothing is written.
    let out = run_cli(
        &[
            "import",
            "areas",
            areas.to_str().unwrap(),
            "--type",
            "lsoa",
            "--code-property",
            "nope",
        ],
        &env,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("properties.nope"));
}
