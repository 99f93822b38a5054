//! `TestApp::spawn()`: a fresh database (a temp-file SQLite, or a new PostgreSQL
//! database when `TEST_DATABASE_URL` is set), the real migrations, a server bound to
//! port 0, and helpers to talk to it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use signpost::config::HttpArgs;
use signpost::graphql::SchemaOptions;
use signpost::http::AppState;
use tokio::net::TcpListener;

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    /// SQL statements run so far through the server's connection.
    pub queries: Arc<AtomicUsize>,
    pub db: DatabaseConnection,
    pub database_url: String,
    pub client: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// A new key for `authority` on `db` (the authority created when missing).
pub async fn key_for(db: &DatabaseConnection, authority: &str, role: &str) -> String {
    use signpost::domain::{auth, codes::Role};
    if auth::find_authority(db, authority)
        .await
        .expect("authority lookup")
        .is_none()
    {
        auth::create_authority(db, authority, &format!("{authority} council"))
            .await
            .expect("create authority");
    }
    let role = Role::from_code(role).expect("a role");
    auth::create_key(db, authority, role, None, "test")
        .await
        .expect("create key")
        .token
}

/// Whether this run targets PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// A new, empty database URL, and the temp dir that holds it for SQLite.
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("signpost_test_{}", uuid::Uuid::new_v4().simple());
            let conn = sea_orm::Database::connect(&admin)
                .await
                .expect("connect to TEST_DATABASE_URL");
            conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            conn.close().await.ok();
            let (base, query) = admin
                .split_once('?')
                .map_or((admin.as_str(), None), |(b, q)| (b, Some(q)));
            let base = &base[..base.rfind('/').expect("database URL has a path")];
            let url = match query {
                Some(q) => format!("{base}/{name}?{q}"),
                None => format!("{base}/{name}"),
            };
            (url, None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("signpost.db").display());
            (url, Some(dir))
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(SchemaOptions::default()).await
    }

    pub async fn spawn_with(options: SchemaOptions) -> Self {
        Self::spawn_configured(options, HttpArgs::default()).await
    }

    /// A server with these schema options and HTTP settings (limits, CORS, …).
    pub async fn spawn_configured(options: SchemaOptions, http: HttpArgs) -> Self {
        let (database_url, dir) = fresh_database().await;
        Self::serve(database_url, dir, options, http, None).await
    }

    /// A server on an existing database, saving its search index at `snapshot`.
    pub async fn spawn_on(database_url: &str, snapshot: Option<&std::path::Path>) -> Self {
        let (options, http) = (SchemaOptions::default(), HttpArgs::default());
        Self::serve(database_url.to_owned(), None, options, http, snapshot).await
    }

    async fn serve(
        database_url: String,
        dir: Option<tempfile::TempDir>,
        options: SchemaOptions,
        http: HttpArgs,
        snapshot: Option<&std::path::Path>,
    ) -> Self {
        let mut db = signpost::db::connect(&database_url).await.expect("connect");
        let queries = Arc::new(AtomicUsize::new(0));
        let counter = queries.clone();
        // SHOW_SQL=1 prints every statement, to see where a count comes from.
        let show = std::env::var("SHOW_SQL").is_ok();
        db.set_metric_callback(move |info| {
            if show {
                println!("SQL: {}", info.statement.sql);
            }
            counter.fetch_add(1, Ordering::Relaxed);
        });
        signpost::db::migrate(&db).await.expect("migrate");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let state = AppState::prepare_with_snapshot(db.clone(), options, snapshot)
            .await
            .expect("state")
            .with_http(http);
        let served = state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            signpost::http::serve(listener, served, async {
                rx.await.ok();
            })
            .await
            .expect("server");
        });
        Self {
            addr,
            state,
            queries,
            db,
            database_url,
            client: reqwest::Client::new(),
            _dir: dir,
            _shutdown: tx,
        }
    }

    pub fn query_count(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POST a GraphQL request; returns the whole JSON response.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(None, query, variables).await
    }

    /// POST a GraphQL request with an API key (or none).
    pub async fn gql_as(&self, key: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON body");
        // 200 once an operation answered something; 400 when it was refused before
        // running, or its bad input left every field unanswered.
        let unanswered = body["data"].is_null()
            || body["data"]
                .as_object()
                .is_some_and(|fields| fields.values().all(Value::is_null));
        assert!(
            status == 200 || status == 400 && unanswered,
            "{status}: {body}"
        );
        body
    }

    /// POST a GraphQL request that must succeed; returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        self.data_as(None, query, variables).await
    }

    /// POST a GraphQL request with an API key that must succeed; returns `data`.
    pub async fn data_as(&self, key: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql_as(key, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// A new key for `authority` (created when missing), through the library.
    pub async fn key(&self, authority: &str, role: &str) -> String {
        key_for(&self.db, authority, role).await
    }

    /// Let the search index catch up with the database (as the server's follower does
    /// every few seconds), so a test never sleeps.
    pub async fn sync_index(&self) {
        self.state
            .search
            .sync(&self.db)
            .await
            .expect("sync search index");
    }

    /// Wait for queued search events to be written.
    pub async fn flush_demand(&self) {
        self.state.demand.flush().await;
    }

    /// Import HSDS records through the library, owned by `authority`, and let the
    /// search index see them.
    pub async fn import_hsds(
        &self,
        records: Vec<Value>,
        authority: &str,
    ) -> signpost::import::hsds::ImportReport {
        let owner = signpost::domain::auth::ensure_authority(&self.db, authority, authority)
            .await
            .expect("authority");
        let report = signpost::import::hsds::import(&self.db, records, &owner)
            .await
            .expect("import");
        self.sync_index().await;
        report
    }

    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .row(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .await;
        row.try_get::<i64>("", "n").expect("n")
    }

    /// The one row `sql` answers (raw SQL the same on both databases).
    pub async fn row(&self, sql: &str) -> sea_orm::QueryResult {
        let statement = sea_orm::Statement::from_string(self.db.get_database_backend(), sql);
        self.db
            .query_one_raw(statement)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .unwrap_or_else(|| panic!("{sql}: no row"))
    }
}

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// The first error's `extensions.field`.
pub fn error_field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("<none>")
}

/// Tell the person running the tests that something was skipped. Written straight to
/// stderr so the test harness does not swallow it.
pub fn say_skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {what}");
}

/// The shared open data, when this checkout has it beside it.
pub fn shared_data(relative: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipped: ../shared/data/{relative} is not here (a fresh machine has no ../shared)"
        );
        None
    }
}

/// The `signpost` binary, built once per test run with the same cargo and profile.
pub fn signpost_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut build = std::process::Command::new(cargo);
        build.args([
            "build",
            "--quiet",
            "-p",
            "signpost-api",
            "--bin",
            "signpost",
        ]);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the signpost binary failed");
        let exe = std::env::current_exe().expect("test executable");
        let dir = exe
            .parent()
            .and_then(|p| p.parent())
            .expect("target profile dir");
        dir.join(format!("signpost{}", std::env::consts::EXE_SUFFIX))
    })
    .clone()
}

/// `signpost serve` as a process of its own on `database_url` (with these extra
/// arguments and environment), once it answers `/readyz`; its output is piped.
pub async fn serve_binary(
    database_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    // Built off the runtime (see `run_cli_async`).
    let bin = tokio::task::spawn_blocking(signpost_bin)
        .await
        .expect("build signpost");
    let mut command = tokio::process::Command::new(bin);
    command
        .args(["serve", "--listen", &addr])
        .args(args)
        .env("SIGNPOST_DATABASE_URL", database_url)
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.spawn().unwrap();
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("http://{addr}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, addr);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("signpost serve did not come up on {addr}");
}

/// Run the CLI with arguments and environment.
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::new(signpost_bin());
    command
        .args(args)
        .env_remove("SIGNPOST_DATABASE_URL")
        .env_remove("SIGNPOST_LISTEN");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run signpost")
}

/// `run_cli` off the test's runtime, for tests with a server on that runtime: a
/// blocked runtime stalls the server too, and its connections then close as idle
/// under the client's feet (the first run builds the binary, which takes a while).
pub async fn run_cli_async(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_cli(&args, &env)
    })
    .await
    .expect("run signpost")
}

/// A minimal valid HSDS service record for tests.
pub fn hsds_service(id: &str, name: &str, latitude: f64, longitude: f64) -> Value {
    json!({
        "id": id,
        "name": name,
        "description": format!("{name}: a test group"),
        "status": "active",
        "organization": { "id": format!("org-{id}"), "name": format!("{name} Trust") },
        "service_at_locations": [{
            "id": format!("sal-{id}"),
            "location": {
                "id": format!("loc-{id}"),
                "location_type": "physical",
                "latitude": latitude,
                "longitude": longitude,
                "addresses": [{
                    "id": format!("addr-{id}"), "address_1": "1 High Street", "city": "Sale",
                    "state_province": "England", "postal_code": "m33 7zf", "country": "GB", "address_type": "physical"
                }]
            }
        }],
        "attributes": [{
            "link_type": "category",
            "taxonomy_term": { "id": "term-walking", "code": "walking-groups", "name": "Walking groups", "taxonomy": "test", "parent_id": "term-social" }
        }]
    })
}
