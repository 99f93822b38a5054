//! A GraphQL answer as HTTP: which media type the client takes, the status an
//! answer earns, and errors mended (a code and request id on each, failed fields
//! present as null).

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

pub(super) const GRAPHQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";

pub(super) fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim();
            // `q=0` means "not this one".
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            media.eq_ignore_ascii_case("application/graphql-response+json") && !refused
        })
}

/// The HTTP status of a GraphQL response. A database out of reach is ours and
/// temporary: 503, so clients and balancers retry. An operation refused before it
/// ran (too large, unparsable, invalid, bad variables: errors with no path and no
/// data), or whose bad input left every field unanswered (`first: 1000000`), is the
/// client's fault: 400, never a success to a proxy or a client library. Anything
/// that answered, even in part, is 200 with its errors.
pub(super) fn status_of(body: &Value, codes: &[&str]) -> StatusCode {
    if codes.contains(&"UNAVAILABLE") {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if codes.is_empty() {
        return StatusCode::OK;
    }
    let unrun = body["data"].is_null()
        && body["errors"]
            .as_array()
            .is_some_and(|e| e.iter().all(|e| e.get("path").is_none()));
    let unanswered_bad_input = codes.iter().all(|c| *c == "BAD_USER_INPUT")
        && body["data"]
            .as_object()
            .is_some_and(|fields| fields.values().all(Value::is_null));
    if unrun || unanswered_bad_input || codes.contains(&crate::graphql::cost::CODE) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// Give every error a code and the request id. Errors raised by our resolvers carry
/// a code already; the rest come from parsing and validation before anything ran
/// (no path) or from coercing arguments (with a path).
pub(super) fn label_errors(body: &mut Value, request_id: &str) {
    let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) else {
        return;
    };
    for error in errors {
        let has_path = error.get("path").is_some();
        let Some(error) = error.as_object_mut() else {
            continue;
        };
        let extensions = error.entry("extensions").or_insert_with(|| json!({}));
        if let Some(extensions) = extensions.as_object_mut() {
            if !extensions.contains_key("code") {
                let code = if has_path {
                    "BAD_USER_INPUT"
                } else {
                    "GRAPHQL_VALIDATION_FAILED"
                };
                extensions.insert("code".into(), json!(code));
            }
            extensions.insert("requestId".into(), json!(request_id));
        }
    }
}

/// async-graphql leaves a field that failed out of `data`; the GraphQL spec (and
/// clients reading `data.service`) expect it present as null. Put it back.
pub(super) fn null_failed_fields(body: &mut Value) {
    let paths: Vec<Vec<Value>> = body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("path").and_then(Value::as_array).cloned())
        .collect();
    if paths.is_empty() {
        return;
    }
    let Some(data) = body.get_mut("data") else {
        return;
    };
    if data.is_null() {
        *data = json!({});
    }
    for path in paths {
        let mut node = &mut *data;
        for (i, step) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            node = match (node, step) {
                (Value::Object(map), Value::String(key)) => {
                    if last {
                        map.entry(key.clone()).or_insert(Value::Null);
                        break;
                    }
                    match map.get_mut(key) {
                        Some(next) => next,
                        None => break,
                    }
                }
                (Value::Array(items), Value::Number(n)) => {
                    match n.as_u64().and_then(|n| items.get_mut(n as usize)) {
                        Some(next) => next,
                        None => break,
                    }
                }
                _ => break,
            };
        }
    }
}
