//! Hostile requests against the real `signpost serve --demo` binary, in a child process
//! on a fresh database, so that its memory can be read from `/proc` before and after
//! the attack. Every case must be refused with a 4xx (never 2xx with data, never 5xx,
//! never a hang), the server must answer `/healthz` and an ordinary query after each,
//! its resident memory must stay flat, and the link workers' and analysts' real queries
//! must still be answered afterwards. A separate test holds slowloris connections open.
//!
//! The cases are one table (`cases()`); every failing check is listed in one report.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::graphql_http::INTROSPECTION;
use crate::helpers::{fresh_database, run_cli, signpost_bin};

/// What the hostile requests accept: under `application/graphql-response+json` a
/// refused document gets a 4xx with no `data` (the server answers 400 under
/// `application/json` too, declining the audit's SHOULDs 572B, FDE2, 7B9B).
const ACCEPT: &str = "application/graphql-response+json, application/json;q=0.9";
/// How long any one request may take before it counts as a hang.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How much the server's resident memory may grow over the whole attack.
const MAX_RSS_GROWTH_KIB: u64 = 50 * 1024;
/// Each case is sent this many times, so a leak per request shows in memory.
const REPEAT: usize = 3;
/// A connection that has not finished its headers after this long must be closed.
const SLOWLORIS_LIMIT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------
// The server under attack: a child process.
// ---------------------------------------------------------------------------------------

struct Server {
    child: Child,
    addr: SocketAddr,
    database_url: String,
    demo: bool,
    log: Arc<Mutex<VecDeque<String>>>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// `signpost serve [--demo]` on a fresh database and a free port.
    async fn start(demo: bool) -> Self {
        let (database_url, dir) = fresh_database().await;
        let (child, addr, log) = launch(&database_url, demo);
        Self {
            child,
            addr,
            database_url,
            demo,
            log,
            _dir: dir,
        }
    }

    /// Start it again on the same database (after it died).
    fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, addr, log) = launch(&self.database_url, self.demo);
        self.child = child;
        self.addr = addr;
        self.log = log;
    }

    /// `Some(exit status)` when the process has ended.
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("cannot tell: {e}")),
        }
    }

    /// A line of `/proc/<pid>/status` in KiB (VmRSS, VmHWM).
    fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/<pid>/status"))
    }

    fn last_log_lines(&self, n: usize) -> String {
        let log = self.log.lock().unwrap();
        let skip = log.len().saturating_sub(n);
        log.iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Launched = (Child, SocketAddr, Arc<Mutex<VecDeque<String>>>);

/// Spawn `signpost serve` and wait for it to say it listens (no sleeping). The port is
/// found by binding port 0 and letting it go, so another process may take it first: then
/// try again.
fn launch(database_url: &str, demo: bool) -> Launched {
    let mut last = String::new();
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut command = Command::new(signpost_bin());
        command
            .args(["serve", "--database-url", database_url, "--listen"])
            .arg(addr.to_string())
            .env_remove("SIGNPOST_DATABASE_URL")
            .env_remove("SIGNPOST_LISTEN")
            .env_remove("SIGNPOST_LOG_FORMAT")
            // The per-client rate limit would answer this suite's hundreds of requests
            // from one address with 429 and hide what each case does; it is its own
            // defence, tested on its own. (A binary without the setting ignores it.)
            .env("SIGNPOST_RATE_LIMIT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if demo {
            command.arg("--demo");
        }
        let mut child = command.spawn().expect("spawn signpost serve");
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (ready, listening) = mpsc::channel();
        // Drain both pipes for the life of the process, so it never blocks on a full
        // pipe, keeping the last lines to show when something fails.
        let stdout: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let stderr: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for (pipe, tell) in [(stdout, Some(ready)), (stderr, None)] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(tell) = &tell
                        && line.contains("listening on")
                    {
                        let _ = tell.send(());
                    }
                    let mut log = log.lock().unwrap();
                    if log.len() >= 400 {
                        log.pop_front();
                    }
                    log.push_back(line);
                }
            });
        }
        // The stdout reader drops its sender at end of file, so a server that exits
        // ends the wait at once.
        match listening.recv_timeout(Duration::from_secs(300)) {
            Ok(()) => return (child, addr, log),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                last = log
                    .lock()
                    .unwrap()
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n");
                if !last.contains("cannot listen") {
                    break;
                }
            }
        }
    }
    panic!("signpost serve did not start:\n{last}");
}

// ---------------------------------------------------------------------------------------
// Requests and what must come back.
// ---------------------------------------------------------------------------------------

enum Request {
    /// POST /graphql with this content type (none: no header) and body.
    Post {
        content_type: Option<&'static str>,
        body: Vec<u8>,
    },
    /// GET /graphql with these query parameters.
    Get(Vec<(&'static str, String)>),
    /// These bytes as they are, on a new connection.
    Raw(Vec<u8>),
}

#[derive(Clone, Copy)]
enum Authorization {
    None,
    /// Bearer with the demo authority's admin key.
    Key,
    /// This header value as it is.
    Literal(&'static str),
}

/// What a mutation sent over GET must not have changed, read through the API.
#[derive(Clone, Copy)]
enum Unchanged {
    /// How many organizations carry this name.
    OrganizationsNamed(&'static str),
    /// Whether the warm-up's service is in the review queue as REPORTED_OUTDATED.
    ServiceReported,
}

struct Case {
    name: &'static str,
    send: Request,
    authorization: Authorization,
    /// The statuses that are right.
    status: &'static [u16],
    /// When the answer must be a GraphQL-shaped error: the codes `errors[0]` may carry.
    codes: Option<&'static [&'static str]>,
    unchanged: Option<Unchanged>,
}

const TOO_LARGE: &[&str] = &["OPERATION_TOO_LARGE"];
/// Limits enforced by async-graphql itself (complexity, directives, recursion): the
/// server may label them either way, as long as it refuses them.
const LIMIT: &[&str] = &["OPERATION_TOO_LARGE", "GRAPHQL_VALIDATION_FAILED"];
const PARSE: &[&str] = &[
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "OPERATION_TOO_LARGE",
];
const VALIDATION: &[&str] = &["GRAPHQL_VALIDATION_FAILED"];
const INPUT: &[&str] = &["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"];
const BAD_REQUEST: &[&str] = &["BAD_REQUEST"];
const MEDIA: &[&str] = &["UNSUPPORTED_MEDIA_TYPE"];
const METHOD: &[&str] = &["METHOD_NOT_ALLOWED"];
const UNAUTHENTICATED: &[&str] = &["UNAUTHENTICATED"];

fn case(name: &'static str, send: Request, status: &'static [u16]) -> Case {
    Case {
        name,
        send,
        authorization: Authorization::None,
        status,
        codes: None,
        unchanged: None,
    }
}

impl Case {
    fn codes(mut self, codes: &'static [&'static str]) -> Self {
        self.codes = Some(codes);
        self
    }
    fn auth(mut self, authorization: Authorization) -> Self {
        self.authorization = authorization;
        self
    }
    fn unchanged(mut self, unchanged: Unchanged) -> Self {
        self.unchanged = Some(unchanged);
        self
    }
}

/// POST `{"query": query}` as application/json.
fn query(query: impl Into<String>) -> Request {
    json_body(json!({ "query": query.into() }))
}

fn json_body(body: Value) -> Request {
    Request::Post {
        content_type: Some("application/json"),
        body: serde_json::to_vec(&body).unwrap(),
    }
}

fn bytes(content_type: Option<&'static str>, body: impl Into<Vec<u8>>) -> Request {
    Request::Post {
        content_type,
        body: body.into(),
    }
}

fn get(params: &[(&'static str, &str)]) -> Request {
    Request::Get(params.iter().map(|(k, v)| (*k, v.to_string())).collect())
}

/// `service(id) { organization { services { edges { node { organization { … } } } } } }`
/// around the Service ↔ Organization cycle, `cycles` times.
fn cycle_query(cycles: usize) -> String {
    let open = "organization { services(first: 1) { edges { node { ".repeat(cycles);
    let close = " } } } }".repeat(cycles);
    format!("{{ service(id: \"x\") {{ {open}id{close} }} }}")
}

/// F0 spreads F1 … spreads F(n-1), on Service.
fn fragment_chain(n: usize) -> String {
    let mut query = String::from("{ services(first: 1) { edges { node { ...F0 } } } } ");
    for i in 0..n - 1 {
        query.push_str(&format!("fragment F{i} on Service {{ ...F{} }} ", i + 1));
    }
    query.push_str(&format!("fragment F{} on Service {{ id }}", n - 1));
    query
}

fn aliases(n: usize) -> String {
    let fields: String = (0..n).map(|i| format!("a{i}: __typename ")).collect();
    format!("{{ {fields}}}")
}

fn operations(n: usize) -> String {
    (0..n)
        .map(|i| format!("query Q{i} {{ __typename }} "))
        .collect()
}

/// `__schema { types { ofType { ofType … } } }`, `levels` deep.
fn of_type_chain(levels: usize) -> String {
    format!(
        "{{ __schema {{ types {{ {}name{} }} }} }}",
        "ofType { ".repeat(levels),
        " }".repeat(levels)
    )
}

/// Each type's fields' types' fields…: the schema's fan-out, `levels` times.
fn introspection_fan_out(levels: usize) -> String {
    format!(
        "{{ __schema {{ types {{ {}name{} }} }} }}",
        "fields { type { ofType { ".repeat(levels),
        " } } }".repeat(levels)
    )
}

/// `depth` levels of JSON in `variables` (the body stays under the 64 KiB limit).
fn nested_variables(depth: usize, open: char, close: char, inner: &str) -> Vec<u8> {
    let mut body = String::from(r#"{"query":"query($v: String) { __typename }","variables":{"v":"#);
    for _ in 0..depth {
        body.push(open);
        body.push_str(inner);
    }
    for _ in 0..depth {
        body.push(close);
    }
    body.push_str("}}");
    body.into_bytes()
}

/// A request written by hand: headers as given, then `body` (Content-Length, or chunked
/// when `chunked`).
fn raw_post(headers: &str, body: &[u8], chunked: bool) -> Request {
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: hostile\r\nContent-Type: application/json\r\nAccept: {ACCEPT}\r\nConnection: close\r\n{headers}"
    );
    let mut out = head.into_bytes();
    if chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for chunk in body.chunks(64 * 1024) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    }
    Request::Raw(out)
}

/// Every case, by name. The order is the order they run in.
fn cases() -> Vec<Case> {
    let ten_mib = {
        let mut body = br#"{"query":"{ __typename }","pad":""#.to_vec();
        body.resize(10 * 1024 * 1024, b'x');
        body.extend_from_slice(br#""}"#);
        body
    };
    let long_string = "x".repeat(60_000);
    let deep_selections = format!("{}__typename{}", "{a".repeat(20_000), "}".repeat(20_000));
    let get_deep_selections = format!("{}__typename{}", "{ a ".repeat(5_000), " }".repeat(5_000));
    let deep_list_literal = format!(
        "{{ services(filter: {{ text: {}\"x\"{} }}) {{ edges {{ node {{ id }} }} }} }}",
        "[".repeat(30_000),
        "]".repeat(30_000)
    );
    let deep_object_literal = format!(
        "{{ services(filter: {{ text: {}1{} }}) {{ edges {{ node {{ id }} }} }} }}",
        "{a:".repeat(15_000),
        "}".repeat(15_000)
    );
    let moderate_object_literal = format!(
        "{{ services(filter: {{ text: {}1{} }}) {{ edges {{ node {{ id }} }} }} }}",
        "{a:".repeat(50),
        "}".repeat(50)
    );
    let many_headers: String = (0..200)
        .map(|i| format!("X-Flood-{i}: {}\r\n", "y".repeat(100)))
        .collect();
    let create_org = r#"mutation { createOrganization(input: { name: "Hostile over GET" }) { organization { id } } }"#;
    let report = r#"mutation($s: ID!) { reportOutdated(serviceId: $s, message: "sent over GET") { received } }"#;
    // Too long for reqwest to build, so written by hand: `{ __typename … }`, encoded.
    let get_huge = Request::Raw(
        format!(
            "GET /graphql?query=%7B+{}%7D HTTP/1.1\r\nHost: hostile\r\nAccept: {ACCEPT}\r\nConnection: close\r\n\r\n",
            "__typename+".repeat(100_000)
        )
        .into_bytes(),
    );
    let variables_flood = {
        let definitions: Vec<String> = (0..2_000).map(|i| format!("$v{i}: Int")).collect();
        format!("query({}) {{ __typename }}", definitions.join(", "))
    };

    vec![
        // Depth, around the Service ↔ Organization cycle.
        case("depth: Service↔Organization cycle, 3 turns (14 levels)", query(cycle_query(3)), &[400]).codes(TOO_LARGE),
        case("depth: Service↔Organization cycle, 12 turns (50 levels)", query(cycle_query(12)), &[400]).codes(TOO_LARGE),
        case("depth: Service↔Organization cycle, 40 turns (162 levels, past the parser's 64)", query(cycle_query(40)), &[400]).codes(PARSE),
        case("depth: 20,000 nested selection sets", query(deep_selections.clone()), &[400]).codes(PARSE),
        case("depth: 1,000 nested inline fragments", query(format!("{{ {}__typename{} }}", "... on Query { ".repeat(1_000), " }".repeat(1_000))), &[400]).codes(PARSE),
        // Fragments.
        case("fragments: A spreads B spreads A", query("{ services(first: 1) { edges { node { ...A } } } } fragment A on Service { id ...B } fragment B on Service { name ...A }"), &[400]).codes(TOO_LARGE),
        case("fragments: A spreads itself", query("{ services(first: 1) { edges { node { ...A } } } } fragment A on Service { id ...A }"), &[400]).codes(TOO_LARGE),
        case("fragments: an unused cycle", query("{ __typename } fragment A on Query { ...B } fragment B on Query { ...A }"), &[400]).codes(VALIDATION),
        case("fragments: a 500-deep chain", query(fragment_chain(500)), &[400]).codes(LIMIT),
        case("fragments: 30 fragments each spreading the next twice (2^30)", query({
            let mut bomb = String::from("{ ...F0 } ");
            for i in 0..30 { bomb.push_str(&format!("fragment F{i} on Query {{ ...F{} ...F{} }} ", i + 1, i + 1)); }
            bomb + "fragment F30 on Query { __typename }"
        }), &[400]).codes(TOO_LARGE),
        // Floods.
        case("aliases: 31", query(aliases(31)), &[400]).codes(TOO_LARGE),
        case("aliases: 1,000", query(aliases(1_000)), &[400]).codes(TOO_LARGE),
        case("fields: 250 in one selection", query(format!("{{ services(first: 1) {{ edges {{ node {{ {}}} }} }} }}", "name ".repeat(250))), &[400]).codes(TOO_LARGE),
        case("fields: 5 spreads of a 50-field fragment", query(format!(
            "{{ services(first: 1) {{ edges {{ node {{ ...F ...F ...F ...F ...F }} }} }} }} fragment F on Service {{ {}}}", "id ".repeat(50))), &[400]).codes(TOO_LARGE),
        case("root fields: 21", query(format!("{{ {}}}", "taxonomyTerms { code } ".repeat(21))), &[400]).codes(TOO_LARGE),
        case("operations: 11 in one document", json_body(json!({ "query": operations(11), "operationName": "Q0" })), &[400]).codes(TOO_LARGE),
        case("operations: 1,000 in one document", json_body(json!({ "query": operations(1_000), "operationName": "Q0" })), &[400]).codes(TOO_LARGE),
        case("directives: @include 50 times on one field", query(format!("{{ __typename {}}}", "@include(if: true) ".repeat(50))), &[400]).codes(LIMIT),
        case("directives: @skip 1,000 times on one field", query(format!("{{ __typename {}}}", "@skip(if: false) ".repeat(1_000))), &[400]).codes(LIMIT),
        case("directives: 1,000 unknown directives", query(format!("{{ __typename {}}}", "@nope ".repeat(1_000))), &[400]).codes(LIMIT),
        case("variables: 2,000 unused definitions", query(variables_flood), &[400]).codes(VALIDATION),
        // Paging arguments.
        case("paging: services(first: 1000000)", query("{ services(first: 1000000) { edges { node { id } } } }"), &[400]).codes(INPUT),
        case("paging: services(first: -1)", query("{ services(first: -1) { edges { node { id } } } }"), &[400]).codes(INPUT),
        case("paging: first past a 32-bit Int", query("{ services(first: 99999999999) { edges { node { id } } } }"), &[400]).codes(INPUT),
        case("paging: search(first: 1000000)", query("{ search(input: { near: { latitude: 53.42, longitude: -2.32 } }, first: 1000000) { edges { node { distanceMetres } } } }"), &[400]).codes(INPUT),
        case("paging: a forged cursor", query("{ services(first: 5, after: \"!!not-a-cursor!!\") { edges { node { id } } } }"), &[400]).codes(INPUT),
        // Bodies.
        case("body: 10 MiB with Content-Length", raw_post("", &ten_mib, false), &[413]),
        case("body: 10 MiB chunked", raw_post("", &ten_mib, true), &[413]),
        case("body: malformed JSON", bytes(Some("application/json"), r#"{"query": "{ __typename }""#), &[400]).codes(BAD_REQUEST),
        case("body: invalid UTF-8 inside the query string", bytes(Some("application/json"), b"{\"query\":\"{ __typename \xff\xfe }\"}".to_vec()), &[400]).codes(BAD_REQUEST),
        case("body: a NUL character in the query", query("{ __typename \u{0} }"), &[400]).codes(PARSE),
        case("body: a JSON array (batch of 2)", bytes(Some("application/json"), r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#), &[400]).codes(BAD_REQUEST),
        case("body: a JSON array (batch of 1,000)", json_body(Value::Array(vec![json!({ "query": "{ __typename }" }); 1_000])), &[400]).codes(BAD_REQUEST),
        case("body: variables 30,000 nested arrays deep", bytes(Some("application/json"), nested_variables(30_000, '[', ']', "")), &[400]).codes(BAD_REQUEST),
        case("body: variables 10,000 nested objects deep", bytes(Some("application/json"), nested_variables(10_000, '{', '}', r#""a":"#)), &[400]).codes(BAD_REQUEST),
        case("body: variables as a string", json_body(json!({ "query": "{ __typename }", "variables": "{}" })), &[400]).codes(BAD_REQUEST),
        case("body: variables as an array", json_body(json!({ "query": "{ __typename }", "variables": [1, 2] })), &[400]).codes(BAD_REQUEST),
        case("body: query is a number", json_body(json!({ "query": 42 })), &[400]).codes(BAD_REQUEST),
        case("body: query is an object", json_body(json!({ "query": { "query": "{ __typename }" } })), &[400]).codes(BAD_REQUEST),
        case("body: query is null", json_body(json!({ "query": null })), &[400]).codes(BAD_REQUEST),
        case("body: no query", json_body(json!({ "operationName": "Q" })), &[400]).codes(BAD_REQUEST),
        case("body: operationName is a number", json_body(json!({ "query": "query Q { __typename }", "operationName": 7 })), &[400]).codes(BAD_REQUEST),
        case("body: unknown operationName", json_body(json!({ "query": "query Q { __typename }", "operationName": "Nope" })), &[400]).codes(VALIDATION),
        // Content types.
        case("content type: text/plain", bytes(Some("text/plain"), r#"{"query":"{ __typename }"}"#), &[415]).codes(MEDIA),
        case("content type: form-urlencoded", bytes(Some("application/x-www-form-urlencoded"), "query=%7B__typename%7D"), &[415]).codes(MEDIA),
        case("content type: application/graphql", bytes(Some("application/graphql"), "{ __typename }"), &[415]).codes(MEDIA),
        case("content type: missing", bytes(None, r#"{"query":"{ __typename }"}"#), &[415]).codes(MEDIA),
        // GET.
        case("GET: createOrganization", get(&[("query", create_org)]), &[405]).codes(METHOD).auth(Authorization::Key).unchanged(Unchanged::OrganizationsNamed("Hostile over GET")),
        case("GET: reportOutdated", Request::Get(vec![("query", report.to_string()), ("variables", String::new())]), &[405]).codes(METHOD).unchanged(Unchanged::ServiceReported),
        case("GET: a mutation picked by operationName among queries", get(&[("query", &format!("query A {{ __typename }} {create_org}").replace("mutation {", "mutation M {")), ("operationName", "M")]), &[405]).codes(METHOD).auth(Authorization::Key).unchanged(Unchanged::OrganizationsNamed("Hostile over GET")),
        case("GET: a subscription", get(&[("query", "subscription { capacityChanged(near: { latitude: 53.4, longitude: -2.3 }) { distanceMetres } }")]), &[405]).codes(METHOD),
        case("GET: a 1 MiB query string", get_huge, &[400, 413, 414, 431]),
        case("GET: 2,000 aliases", get(&[("query", &aliases(2_000))]), &[400]).codes(TOO_LARGE),
        case("GET: 5,000 nested selection sets", get(&[("query", &get_deep_selections)]), &[400]).codes(PARSE),
        case("GET: variables that are not JSON", get(&[("query", "query($a: Int) { __typename }"), ("variables", "{nope")]), &[400]).codes(BAD_REQUEST),
        case("GET: unknown operationName", get(&[("query", "query Q { __typename }"), ("operationName", "Nope")]), &[400]).codes(VALIDATION),
        case("GET: no query and no browser", get(&[]), &[400]).codes(BAD_REQUEST),
        // Strings and inputs.
        case("strings: a 60,000-character postcode literal", query(format!("{{ postcode(code: \"{long_string}\") {{ code }} }}")), &[400]).codes(INPUT),
        case("strings: a 60,000-character search text", query(format!("{{ search(input: {{ near: {{ latitude: 53.42, longitude: -2.32 }}, text: \"{long_string}\" }}) {{ edges {{ node {{ distanceMetres }} }} }} }}")), &[400]).codes(INPUT),
        case("strings: a 60,000-character services filter text in variables", json_body(json!({
            "query": "query($t: String) { services(filter: { text: $t }) { edges { node { id } } } }",
            "variables": { "t": long_string } })), &[400]).codes(INPUT),
        case("inputs: an argument 30,000 nested lists deep", query(deep_list_literal), &[400]).codes(PARSE),
        case("inputs: an argument 15,000 nested objects deep", query(deep_object_literal), &[400]).codes(PARSE),
        case("inputs: an argument 50 nested objects deep", query(moderate_object_literal), &[400]).codes(INPUT),
        // Introspection.
        case("introspection: a 25-deep ofType chain", query(of_type_chain(25)), &[400]).codes(LIMIT).auth(Authorization::Key),
        case("introspection: a 100-deep ofType chain", query(of_type_chain(100)), &[400]).codes(PARSE).auth(Authorization::Key),
        case("introspection: fields→type→ofType 6 times (depth 21)", query(introspection_fan_out(6)), &[400]).codes(LIMIT).auth(Authorization::Key),
        case("introspection: 30 aliased __schema at the root", query(format!("{{ {} }}", (0..30).map(|i| format!("s{i}: __schema {{ types {{ fields {{ type {{ name }} }} }} }}")).collect::<String>())), &[400]).codes(LIMIT).auth(Authorization::Key),
        // Operation types and credentials.
        case("subscription over POST", query("subscription { capacityChanged(near: { latitude: 53.4, longitude: -2.3 }) { distanceMetres } }"), &[400, 405]).codes(&["BAD_REQUEST", "METHOD_NOT_ALLOWED", "GRAPHQL_VALIDATION_FAILED"]),
        case("credentials: Basic instead of Bearer", query("{ me { role } }"), &[401]).codes(UNAUTHENTICATED).auth(Authorization::Literal("Basic dXNlcjpwYXNz")),
        case("credentials: an 8 KiB bearer token", query("{ me { role } }"), &[401]).codes(UNAUTHENTICATED).auth(Authorization::Literal(EIGHT_KIB_TOKEN)),
        case("headers: 200 headers of 100 bytes", raw_post(&many_headers, br#"{"query":"{ __typename }"}"#, false), &[400, 431]),
    ]
}

const EIGHT_KIB_TOKEN: &str = concat!(
    "Bearer sp_",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
);

// ---------------------------------------------------------------------------------------
// Sending and judging.
// ---------------------------------------------------------------------------------------

struct Answer {
    status: u16,
    body: Vec<u8>,
}

struct Attack {
    addr: SocketAddr,
    client: reqwest::Client,
    key: String,
    /// A demo service (the one `reportOutdated` over GET aims at) and what it reads.
    service_id: String,
    organization_id: String,
    postcode: String,
}

impl Attack {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn send(&self, case: &Case) -> Result<Answer, String> {
        let request = match &case.send {
            Request::Raw(bytes) => return raw(self.addr, bytes).await,
            Request::Post { content_type, body } => {
                let mut request = self
                    .client
                    .post(self.url("/graphql"))
                    .header("accept", ACCEPT)
                    .body(body.clone());
                if let Some(content_type) = content_type {
                    request = request.header("content-type", *content_type);
                }
                request
            }
            Request::Get(params) => {
                let mut params = params.clone();
                // `reportOutdated` needs the service; it is only known at run time.
                for (name, value) in &mut params {
                    if *name == "variables" && value.is_empty() {
                        *value = json!({ "s": self.service_id }).to_string();
                    }
                }
                self.client
                    .get(self.url("/graphql"))
                    .header("accept", ACCEPT)
                    .query(&params)
            }
        };
        let request = match case.authorization {
            Authorization::None => request,
            Authorization::Key => request.bearer_auth(&self.key),
            Authorization::Literal(value) => request.header("authorization", value),
        };
        let response = request
            .send()
            .await
            .map_err(|e| format!("no answer: {}", shorten(&e.to_string())))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("{status}, then the body failed: {e}"))?
            .to_vec();
        Ok(Answer { status, body })
    }

    /// Whether one answer is a proper refusal.
    fn judge(case: &Case, answer: &Answer) -> Result<(), String> {
        let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
        let summary = || describe(answer.status, json.as_ref(), &answer.body);
        if !case.status.contains(&answer.status) {
            return Err(format!("got {}, want {:?}", summary(), case.status));
        }
        if let Some(body) = &json
            && !body.get("data").is_none_or(Value::is_null)
        {
            return Err(format!("refused with data: {}", summary()));
        }
        if let Some(codes) = case.codes {
            let Some(body) = &json else {
                return Err(format!("not a GraphQL-shaped JSON error: {}", summary()));
            };
            let code = body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("<none>");
            if !codes.contains(&code) {
                return Err(format!("code {code}, want one of {codes:?}: {}", summary()));
            }
            if !body["errors"][0]["extensions"]["requestId"].is_string() {
                return Err(format!("no extensions.requestId: {}", summary()));
            }
        }
        Ok(())
    }

    /// The server answers `/healthz` and an ordinary query.
    async fn healthy(&self) -> Result<(), String> {
        let health = self
            .client
            .get(self.url("/healthz"))
            .send()
            .await
            .map_err(|e| format!("/healthz: {e}"))?;
        if health.status() != 200 {
            return Err(format!("/healthz answered {}", health.status()));
        }
        let data = self
            .data(
                None,
                "{ services(first: 1) { edges { node { id name } } } }",
                json!({}),
            )
            .await?;
        if data["services"]["edges"]
            .as_array()
            .is_none_or(Vec::is_empty)
        {
            return Err(format!("an ordinary query found nothing: {data}"));
        }
        Ok(())
    }

    /// POST a query that must succeed (200, no errors); its `data`.
    async fn data(
        &self,
        key: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Value, String> {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
        match body {
            Some(body)
                if status == 200 && body.get("errors").is_none() && !body["data"].is_null() =>
            {
                Ok(body["data"].clone())
            }
            other => Err(describe(status, other.as_ref(), &bytes)),
        }
    }

    /// What an `Unchanged` watch reads now.
    async fn observe(&self, watch: Unchanged) -> Result<Value, String> {
        match watch {
            Unchanged::OrganizationsNamed(name) => {
                let mut count = 0;
                let mut after: Option<String> = None;
                loop {
                    let data = self
                        .data(
                            None,
                            "query($after: String) { organizations(first: 100, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }",
                            json!({ "after": after }),
                        )
                        .await?;
                    let page = &data["organizations"];
                    count += page["edges"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|e| e["node"]["name"] == name)
                        .count();
                    if page["pageInfo"]["hasNextPage"] != true {
                        return Ok(json!(count));
                    }
                    after = page["pageInfo"]["endCursor"].as_str().map(String::from);
                }
            }
            Unchanged::ServiceReported => {
                let mut after: Option<String> = None;
                loop {
                    let data = self
                        .data(
                            Some(&self.key),
                            "query($after: String) { reviewQueue(first: 100, after: $after) { edges { node { service { id } reasons { reason } } } pageInfo { hasNextPage endCursor } } }",
                            json!({ "after": after }),
                        )
                        .await?;
                    let page = &data["reviewQueue"];
                    for edge in page["edges"].as_array().into_iter().flatten() {
                        if edge["node"]["service"]["id"] == self.service_id.as_str() {
                            let reported = edge["node"]["reasons"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .any(|r| r["reason"] == "REPORTED_OUTDATED");
                            return Ok(json!(reported));
                        }
                    }
                    if page["pageInfo"]["hasNextPage"] != true {
                        return Ok(json!(false));
                    }
                    after = page["pageInfo"]["endCursor"].as_str().map(String::from);
                }
            }
        }
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= 300 {
        return text.to_string();
    }
    format!("{}…", text.chars().take(300).collect::<String>())
}

/// Status, code and message of an answer, for a failure message.
fn describe(status: u16, json: Option<&Value>, raw: &[u8]) -> String {
    match json {
        Some(body) => {
            let error = &body["errors"][0];
            let message: String = error["message"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(160)
                .collect();
            format!(
                "{status} (code {}, data {}, message {message:?})",
                error["extensions"]["code"].as_str().unwrap_or("<none>"),
                if body.get("data").is_none_or(Value::is_null) {
                    "null"
                } else {
                    "PRESENT"
                },
            )
        }
        None => format!(
            "{status} (not JSON: {:?})",
            String::from_utf8_lossy(&raw[..raw.len().min(120)])
        ),
    }
}

/// Write `bytes` on a new connection while reading the answer (the server may answer
/// before it has read everything); the status of the first response.
async fn raw(addr: SocketAddr, bytes: &[u8]) -> Result<Answer, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = stream.into_split();
    let bytes = bytes.to_vec();
    let writing = tokio::spawn(async move {
        // A server that refuses early closes the socket under the writer: fine.
        let _ = writer.write_all(&bytes).await;
        let _ = writer.flush().await;
        writer
    });
    let mut received = Vec::new();
    let read = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
            if response_complete(&received) {
                break;
            }
        }
    })
    .await;
    writing.abort();
    let text = String::from_utf8_lossy(&received);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    match (status, read) {
        (Some(status), _) => {
            let body = text
                .split_once("\r\n\r\n")
                .map(|(_, body)| body.as_bytes().to_vec())
                .unwrap_or_default();
            Ok(Answer { status, body })
        }
        (None, Err(_)) => Err(format!("no answer within {REQUEST_TIMEOUT:?}")),
        (None, Ok(())) => Err(format!(
            "connection closed without an answer ({} bytes)",
            received.len()
        )),
    }
}

/// Headers and a Content-Length body have all arrived.
fn response_complete(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .is_some_and(|length| body.len() >= length)
}

// ---------------------------------------------------------------------------------------
// The real queries that must still work.
// ---------------------------------------------------------------------------------------

/// A link worker's, an editor's and an analyst's ordinary queries, each with a check of
/// what came back. Run before the attack (they must pass there too) and after it.
async fn frontend_queries(attack: &Attack) -> Vec<(&'static str, Result<(), String>)> {
    let mut results = Vec::new();
    let key = Some(attack.key.as_str());
    macro_rules! check {
        ($name:expr, $key:expr, $query:expr, $vars:expr, |$data:ident| $ok:expr) => {{
            let result = match attack.data($key, $query, $vars).await {
                Ok($data) => {
                    if $ok {
                        Ok(())
                    } else {
                        Err(format!(
                            "unexpected data: {}",
                            $data.to_string().chars().take(300).collect::<String>()
                        ))
                    }
                }
                Err(e) => Err(e),
            };
            results.push(($name, result));
        }};
    }
    check!(
        "search near a point for a 72-year-old carer, with reasons (README)",
        None,
        r#"{ search(input: { near: { latitude: 53.4794, longitude: -2.2453 }, radiusMetres: 3000, taxonomyTerms: ["social-contact"],
              person: { age: 72, circumstances: ["carer"], languages: ["ur", "en"], maxCostPence: 300,
                        availability: [{ day: TUESDAY, from: "09:00", to: "13:00" }] },
              capacity: [ACCEPTING, WAITLIST] }, first: 10) {
            edges { node { service { id name capacity { status available } } distanceMetres reach fit { suitable reasons { criterion outcome detail } } } }
            pageInfo { hasNextPage endCursor } } }"#,
        json!({}),
        |data| data["search"]["edges"].is_array() && data["search"]["pageInfo"].is_object()
    );
    check!(
        "search near Sale for a 70-year-old, suitable first, then by distance",
        None,
        r#"{ search(input: { near: { latitude: 53.4246, longitude: -2.3227 }, person: { age: 70 } }, first: 50) {
            edges { node { service { name } distanceMetres reach fit { suitable reasons { criterion outcome detail } } } } } }"#,
        json!({}),
        |data| data["search"]["edges"].as_array().is_some_and(
            |e| e.len() >= 10 && e.iter().all(|e| e["node"]["fit"]["suitable"] == true)
        )
    );
    check!(
        "search near a postcode, unsuitable included, two pages",
        None,
        r#"query($pc: String!) { first: search(input: { near: { postcode: $pc }, includeUnsuitable: true, person: { age: 30 } }, first: 5) {
            edges { cursor node { service { id } fit { suitable reasons { criterion outcome } } nearestLocation { postcode } } } pageInfo { hasNextPage endCursor } } }"#,
        json!({ "pc": attack.postcode.to_lowercase() }),
        |data| data["first"]["edges"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    check!(
        "service(id) with everything a link worker reads",
        None,
        r#"query($id: ID!) { service(id: $id) { id name description url email phone status version
            organization { id name } locations { name postcode latitude longitude accessibility }
            eligibility { minimumAge maximumAge description rules { criterion value rule } }
            capacity { status available maximum waitlistLength expiresAt }
            costOptions { option amountPence concessions } schedules { days opensAt closesAt }
            languages { code name } taxonomyTerms { code name } deliveryModes referralRoutes
            serviceAreas { name areaCode } freshness lastVerifiedAt } }"#,
        json!({ "id": attack.service_id }),
        |data| data["service"]["id"] == attack.service_id.as_str()
            && data["service"]["organization"]["name"].is_string()
    );
    check!(
        "services paging: two pages of 10 that do not overlap",
        None,
        "{ a: services(first: 10) { edges { node { id } } pageInfo { hasNextPage endCursor } } }",
        json!({ "after": null }),
        |data| data["a"]["edges"].as_array().is_some_and(|e| e.len() == 10)
            && data["a"]["pageInfo"]["hasNextPage"] == true
    );
    let page_one = attack
        .data(
            None,
            "{ services(first: 10) { edges { node { id } } pageInfo { endCursor } } }",
            json!({}),
        )
        .await
        .unwrap_or_default();
    let cursor = page_one["services"]["pageInfo"]["endCursor"].clone();
    check!(
        "services paging: the page after endCursor",
        None,
        "query($after: String) { services(first: 10, after: $after) { edges { node { id } } } }",
        json!({ "after": cursor }),
        |data| data["services"]["edges"]
            .as_array()
            .is_some_and(|e| e.len() == 10
                && e.iter().all(|n| {
                    !page_one["services"]["edges"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|m| m["node"]["id"] == n["node"]["id"])
                }))
    );
    check!(
        "services in a category, with capacity and schedules",
        None,
        r#"{ services(first: 10, filter: { taxonomyTerms: ["social-contact"] }) { edges { node { id name organization { name }
            capacity { status } schedules { days opensAt closesAt } freshness } } pageInfo { hasNextPage endCursor } } }"#,
        json!({}),
        |data| data["services"]["edges"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    check!(
        "taxonomyTerms with parents",
        None,
        "{ taxonomyTerms { id code name vocabulary parent { code } } }",
        json!({}),
        |data| data["taxonomyTerms"]
            .as_array()
            .is_some_and(|t| t.len() > 5 && t.iter().any(|t| t["parent"].is_object()))
    );
    check!(
        "postcode lookup in lower case",
        None,
        "query($c: String!) { postcode(code: $c) { code latitude longitude lsoaCode wardCode } }",
        json!({ "c": attack.postcode.to_lowercase() }),
        |data| data["postcode"]["code"] == attack.postcode.as_str()
    );
    check!(
        "areaTypes and areas",
        None,
        "{ areaTypes areas(type: \"neighbourhood\") { code name type population centroidLatitude centroidLongitude } }",
        json!({}),
        |data| data["areas"].as_array().is_some_and(|a| !a.is_empty())
            && data["areaTypes"].as_array().is_some_and(|t| !t.is_empty())
    );
    check!(
        "serviceGaps for befriending, 65 and over",
        None,
        r#"{ serviceGaps(input: { areaType: "neighbourhood", taxonomyTerms: ["befriending"], ageFrom: 65, maxDistanceMetres: 2000 }) {
            area { code name population } servicesInArea availablePlaces placesPer1000 nearestServiceMetres covered searches unmetSearches } }"#,
        json!({}),
        |data| data["serviceGaps"]
            .as_array()
            .is_some_and(|g| !g.is_empty())
    );
    check!(
        "me with a key",
        key,
        "{ me { authority { slug name } role keyPrefix } }",
        json!({}),
        |data| data["me"]["authority"]["slug"] == "demo" && data["me"]["role"] == "ADMIN"
    );
    check!(
        "organization(id) with its services",
        None,
        "query($id: ID!) { organization(id: $id) { id name services(first: 5) { edges { node { id name } } } } }",
        json!({ "id": attack.organization_id }),
        |data| data["organization"]["services"]["edges"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    check!(
        "reviewQueue with a key",
        key,
        "{ reviewQueue(first: 10) { edges { node { service { id name } reasons { reason detail } } } pageInfo { hasNextPage } } }",
        json!({}),
        |data| data["reviewQueue"]["edges"].is_array()
    );
    check!(
        "GraphiQL's introspection query (with a key: production mode hides the schema from anonymous callers)",
        key,
        INTROSPECTION,
        json!({}),
        |data| data["__schema"]["types"]
            .as_array()
            .is_some_and(|t| t.len() > 50)
    );
    // A query over GET, as a cached client sends it.
    let over_get = async {
        let response = attack
            .client
            .get(attack.url("/graphql"))
            .query(&[
                ("query", "query Terms { taxonomyTerms { code } }"),
                ("operationName", "Terms"),
            ])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        let body: Option<Value> = serde_json::from_slice(&bytes).ok();
        match &body {
            Some(b)
                if status == 200
                    && b.get("errors").is_none()
                    && b["data"]["taxonomyTerms"].is_array() =>
            {
                Ok(())
            }
            _ => Err(describe(status, body.as_ref(), &bytes)),
        }
    };
    results.push(("a query over GET with operationName", over_get.await));
    results
}

// ---------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn hostile_requests_are_refused_and_the_server_stays_healthy_and_small() {
    let started = Instant::now();
    let mut server = Server::start(true).await;
    let database_url = server.database_url.clone();
    let key = tokio::task::spawn_blocking(move || {
        let out = run_cli(
            &[
                "key",
                "create",
                "--authority",
                "demo",
                "--role",
                "admin",
                "--database-url",
                &database_url,
            ],
            &[],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
    .await
    .unwrap();
    let mut attack = Attack {
        addr: server.addr,
        // A new connection for every request: a connection the server closed after
        // refusing one case must not fail the next request.
        client: reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(0)
            .build()
            .unwrap(),
        key: key.clone(),
        service_id: String::new(),
        organization_id: String::new(),
        postcode: String::new(),
    };
    let first = attack
        .data(None, "{ services(first: 1) { edges { node { id organization { id } locations { postcode } } } } }", json!({}))
        .await
        .expect("the demo answers");
    let node = &first["services"]["edges"][0]["node"];
    attack.service_id = node["id"].as_str().unwrap().to_string();
    attack.organization_id = node["organization"]["id"].as_str().unwrap().to_string();
    attack.postcode = node["locations"][0]["postcode"]
        .as_str()
        .unwrap()
        .to_string();
    let ready_after = started.elapsed();

    let mut failures: Vec<(String, String)> = Vec::new();
    let mut restarts = 0;
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());

    // Warm up with the real queries: they must pass before the attack too, and the
    // baseline is taken after the caches and pools they fill.
    for _ in 0..2 {
        for (name, result) in frontend_queries(&attack).await {
            if let Err(e) = result {
                failures.push((format!("before the attack: {name}"), e));
            }
        }
    }
    let rss_before = server.memory_kib("VmRSS");

    let attack_started = Instant::now();
    for case in &cases {
        let before = match case.unchanged {
            Some(watch) => Some(attack.observe(watch).await),
            None => None,
        };
        let case_started = Instant::now();
        let mut verdict = Ok(());
        let mut seen = String::new();
        for _ in 0..REPEAT {
            let outcome = match attack.send(case).await {
                Ok(answer) => {
                    let json = serde_json::from_slice::<Value>(&answer.body).ok();
                    seen = json
                        .as_ref()
                        .and_then(|b| b["errors"][0]["extensions"]["code"].as_str())
                        .map_or(answer.status.to_string(), |code| {
                            format!("{} {code}", answer.status)
                        });
                    Attack::judge(case, &answer)
                }
                Err(e) => Err(e),
            };
            if outcome.is_err() {
                verdict = outcome;
                break;
            }
        }
        let took = case_started.elapsed();
        if let Some(status) = server.exited() {
            let log = server.last_log_lines(15);
            verdict = Err(format!(
                "THE SERVER DIED ({status}); last log lines:\n{log}"
            ));
            server.restart();
            restarts += 1;
            attack.addr = server.addr;
        } else if let Err(e) = attack.healthy().await {
            verdict = Err(format!(
                "{}; and afterwards the server was not healthy: {e}",
                verdict.err().unwrap_or_else(|| "refused properly".into())
            ));
        }
        if let (Some(watch), Some(before)) = (case.unchanged, before) {
            let after = attack.observe(watch).await;
            if after != before || after.is_err() {
                verdict = Err(format!(
                    "{}; and the state a mutation over GET must not change read {before:?} before, {after:?} after",
                    verdict.err().unwrap_or_else(|| "refused".into())
                ));
            }
        }
        println!(
            "{} {:<66} {:>6} ms  {seen}",
            if verdict.is_ok() { "ok  " } else { "FAIL" },
            case.name,
            took.as_millis()
        );
        if let Err(e) = verdict {
            failures.push((case.name.to_string(), e));
        }
    }
    let attack_took = attack_started.elapsed();

    let after_results = frontend_queries(&attack).await;
    for (name, result) in &after_results {
        println!(
            "{} after the attack: {name}",
            if result.is_ok() { "ok  " } else { "FAIL" }
        );
    }
    let accepted = after_results.iter().filter(|(_, r)| r.is_ok()).count();
    assert!(after_results.len() >= 10);
    failures.extend(
        after_results
            .into_iter()
            .filter_map(|(n, r)| r.err().map(|e| (format!("after the attack: {n}"), e))),
    );

    // The watches must be able to see a change, or "unchanged" proves nothing: make
    // the same changes properly, over POST.
    for watch in [
        Unchanged::OrganizationsNamed("Hostile over GET"),
        Unchanged::ServiceReported,
    ] {
        let before = attack.observe(watch).await;
        let changed = match watch {
            Unchanged::OrganizationsNamed(name) => attack
                .data(Some(&key), "mutation($n: String!) { createOrganization(input: { name: $n }) { organization { id } } }", json!({ "n": name }))
                .await,
            Unchanged::ServiceReported => attack
                .data(None, "mutation($s: ID!) { reportOutdated(serviceId: $s, message: \"sent over POST\") { received } }", json!({ "s": attack.service_id }))
                .await,
        };
        let after = attack.observe(watch).await;
        if changed.is_err() || before.is_err() || before == after {
            failures.push((
                "control: the same mutation over POST changes what the GET cases watch".into(),
                format!("{changed:?}; {before:?} → {after:?}"),
            ));
        }
    }

    let rss_after = server.memory_kib("VmRSS");
    let peak = server.memory_kib("VmHWM");
    let growth = rss_after.saturating_sub(rss_before);
    println!(
        "\n{} cases × {REPEAT}, {accepted} real queries accepted afterwards; server ready in {:.1}s, attack {:.1}s, whole test {:.1}s",
        cases.len(),
        ready_after.as_secs_f64(),
        attack_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "memory: VmRSS {} MiB before, {} MiB after (+{} KiB), peak VmHWM {} MiB{}",
        rss_before / 1024,
        rss_after / 1024,
        growth,
        peak / 1024,
        if restarts > 0 {
            " — NOT comparable: the server was restarted after dying"
        } else {
            ""
        }
    );
    if restarts == 0 && growth > MAX_RSS_GROWTH_KIB {
        failures.push((
            "memory stays flat".into(),
            format!("VmRSS grew by {growth} KiB (limit {MAX_RSS_GROWTH_KIB} KiB)"),
        ));
    }

    if !failures.is_empty() {
        let report: Vec<String> = failures
            .iter()
            .map(|(name, why)| format!("- {name}: {why}"))
            .collect();
        panic!(
            "{} of the hostile checks failed:\n{}",
            failures.len(),
            report.join("\n")
        );
    }
}

/// Slowloris: connections that send their headers a byte at a time must be closed
/// within `SLOWLORIS_LIMIT`, and other clients are served normally meanwhile.
#[tokio::test]
async fn hostile_slowloris_connections_are_closed_while_others_are_served() {
    const CONNECTIONS: usize = 20;
    let server = Server::start(false).await;
    let addr = server.addr;
    let started = Instant::now();
    let give_up = SLOWLORIS_LIMIT + Duration::from_secs(3);
    let mut slow = Vec::new();
    for _ in 0..CONNECTIONS {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
            .await
            .unwrap();
        slow.push(tokio::spawn(async move {
            // One byte of an endless header every 500 ms, until the server closes or
            // answers (a 408 counts: it ends the connection), or we give up.
            let trickle = b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
            let mut buffer = [0u8; 1024];
            let mut i = 0;
            loop {
                if started.elapsed() > give_up {
                    return None;
                }
                tokio::select! {
                    read = reader.read(&mut buffer) => {
                        let _ = read;
                        return Some(started.elapsed());
                    }
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {
                        if writer.write_all(&trickle[i % trickle.len()..][..1]).await.is_err() {
                            return Some(started.elapsed());
                        }
                        i += 1;
                    }
                }
            }
        }));
    }
    // Meanwhile, ordinary clients are answered promptly.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut served = 0;
    let mut refused = Vec::new();
    // Until every slow connection has ended (or we give up).
    while started.elapsed() < give_up && !slow.iter().all(|h| h.is_finished()) {
        let health = client.get(format!("http://{addr}/healthz")).send().await;
        let query = client
            .post(format!("http://{addr}/graphql"))
            .json(&json!({ "query": "{ taxonomyTerms { code } }" }))
            .send()
            .await;
        match (health, query) {
            (Ok(h), Ok(q)) if h.status() == 200 && q.status() == 200 => served += 1,
            (h, q) => refused.push(format!(
                "{:?} / {:?}",
                h.map(|r| r.status()),
                q.map(|r| r.status())
            )),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut closed = Vec::new();
    for handle in slow {
        closed.push(handle.await.unwrap());
    }
    let open = closed.iter().filter(|c| c.is_none()).count();
    let late = closed
        .iter()
        .flatten()
        .filter(|t| **t > SLOWLORIS_LIMIT)
        .count();
    let first_close = closed.iter().flatten().min();
    let last_close = closed.iter().flatten().max();
    println!(
        "slowloris: {CONNECTIONS} connections, {open} still open after {:?}, {late} closed late, first closed at {first_close:?}, last at {last_close:?}; {served} ordinary rounds served, {} not",
        give_up,
        refused.len()
    );
    assert!(
        refused.is_empty(),
        "ordinary clients were not served during the attack: {refused:?}"
    );
    assert!(served > 0);
    assert!(
        open == 0 && late == 0,
        "{open} of {CONNECTIONS} slowloris connections were still open after {give_up:?} \
         ({late} closed after {SLOWLORIS_LIMIT:?}): the server does not close connections whose headers never finish"
    );
}
