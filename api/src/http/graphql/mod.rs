//! GraphQL over HTTP, refusing what the stock integration lets through: POST must be
//! `application/json` (415 otherwise), batches are 400, mutations over GET are 405,
//! and bodies are capped before parsing (413, in the router). Every error in a
//! response carries the request id, so a user's report can be found in the logs.

use async_graphql::Executor;
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use axum::Json;
use axum::body::Bytes;
use std::net::SocketAddr;
use std::time::Duration;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ratelimit::client_address;
use super::state::AppState;
use crate::domain::auth::{self, Caller};
use crate::error::AppError;
use crate::graphql::{Client, DbLoader};
use async_graphql::Data;
use async_graphql::dataloader::DataLoader;

mod response;

use response::{
    GRAPHQL_RESPONSE, accepts_graphql_response, label_errors, null_failed_fields, status_of,
};

/// The request id set by the router's request-id layer.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string()
}

/// A transport-level refusal, shaped like a GraphQL error response.
pub fn refuse(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code, "requestId": request_id } }] });
    (status, Json(body)).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = request_id(&headers);
    if !is_json(&headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send application/json",
            &id,
        );
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("body is not valid JSON: {e}"),
                &id,
            );
        }
    };
    if value.is_array() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "batched requests are not supported",
            &id,
        );
    }
    if !value.get("query").is_some_and(Value::is_string) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "a request needs a query string",
            &id,
        );
    }
    let request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(request) => request,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("not a GraphQL request: {e}"),
                &id,
            );
        }
    };
    execute(&state, request, &headers, peer).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let id = request_id(&headers);
    let Some(query) = params.query else {
        if wants_html(&headers) {
            return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
        }
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "missing query parameter",
            &id,
        );
    };
    let document = match async_graphql::parser::parse_query(&query) {
        Ok(document) => document,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "GRAPHQL_PARSE_FAILED",
                &e.to_string(),
                &id,
            );
        }
    };
    let operation = document
        .operations
        .iter()
        .find(|(name, _)| match (&params.operation_name, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        })
        .map(|(_, op)| op.node.ty);
    if matches!(
        operation,
        Some(OperationType::Mutation | OperationType::Subscription)
    ) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations need POST",
            &id,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        match serde_json::from_str::<Value>(&variables) {
            Ok(value) => request = request.variables(async_graphql::Variables::from_json(value)),
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    &format!("variables are not JSON: {e}"),
                    &id,
                );
            }
        }
    }
    execute(&state, request, &headers, peer).await
}

/// The bearer token, if the request carries an Authorization header.
fn bearer(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(()),
    )
}

fn unauthenticated(message: &str, request_id: &str) -> Response {
    let mut response = refuse(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        message,
        request_id,
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Who is calling: nobody (anonymous), or the caller a valid key names. A key that
/// is present but wrong is refused outright rather than served as anonymous.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
) -> Result<Option<Caller>, Response> {
    let Some(token) = bearer(headers) else {
        return Ok(None);
    };
    let Ok(token) = token else {
        return Err(unauthenticated(
            "Authorization must be 'Bearer <key>'",
            request_id,
        ));
    };
    match auth::authenticate(&state.db, token).await {
        Ok(caller) => Ok(Some(caller)),
        Err(AppError::Unauthenticated(message)) => Err(unauthenticated(&message, request_id)),
        Err(other) => {
            tracing::error!(cause = %other.detail(), "could not check an API key");
            Err(refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "could not check the API key; try again",
                request_id,
            ))
        }
    }
}

async fn execute(
    state: &AppState,
    request: async_graphql::Request,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Response {
    let request_id = request_id(headers);
    let request_id = request_id.as_str();
    let caller = match caller(state, headers, request_id).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let client = Client {
        request_id: request_id.to_string(),
        address: client_address(peer.ip(), headers, &state.http.trusted_proxies),
        caller,
    };
    let mut request = request;
    request.data = request_data(state, client);
    let limit = Duration::from_millis(state.http.execution_timeout_ms);
    let Ok(response) = tokio::time::timeout(limit, state.graphql.execute(request)).await else {
        // Dropping the execution cancels its database work; nothing half-commits,
        // since every write is one transaction.
        state.metrics.error("TIMEOUT");
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "TIMEOUT",
            &format!("the operation took longer than {} ms", limit.as_millis()),
            request_id,
        );
    };
    let media_type = if accepts_graphql_response(headers) {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    let unserialisable = |e: serde_json::Error| {
        tracing::error!(cause = %e, "could not serialise a GraphQL response");
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error",
            request_id,
        )
    };
    let respond = |status: StatusCode, body: Vec<u8>| {
        let content_type = [(header::CONTENT_TYPE, HeaderValue::from_static(media_type))];
        (status, content_type, body).into_response()
    };
    // An answer without errors goes out as it is (the common case: no detour
    // through a JSON tree); one with errors is labelled and mended first.
    if response.errors.is_empty() {
        return match serde_json::to_vec(&response) {
            Ok(body) => respond(StatusCode::OK, body),
            Err(e) => unserialisable(e),
        };
    }
    let mut body = match serde_json::to_value(&response) {
        Ok(body) => body,
        Err(e) => return unserialisable(e),
    };
    label_errors(&mut body, request_id);
    null_failed_fields(&mut body);
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str())
        .collect();
    for code in &codes {
        state.metrics.error(code);
    }
    let status = status_of(&body, &codes);
    // GraphQL over HTTP: a client that asks for application/graphql-response+json
    // gets it, and a refused operation then has no `data` at all.
    if media_type == GRAPHQL_RESPONSE
        && status == StatusCode::BAD_REQUEST
        && let Some(map) = body.as_object_mut()
    {
        map.remove("data");
    }
    match serde_json::to_vec(&body) {
        Ok(body) => respond(status, body),
        Err(e) => unserialisable(e),
    }
}

/// Per-request (or per-WebSocket) data: the client, the connection, the search
/// index, the demand recorder, the change hub, the report limiter, the metrics
/// and a loader.
fn request_data(state: &AppState, client: Client) -> Data {
    let mut data = Data::default();
    data.insert(client);
    data.insert(state.db.clone());
    data.insert(state.search.clone());
    data.insert(state.demand.clone());
    data.insert(state.changes.clone());
    data.insert(state.reports.clone());
    data.insert(state.metrics.clone());
    data.insert(state.data_key.clone());
    data.insert(DataLoader::new(
        DbLoader {
            db: state.db.clone(),
        },
        tokio::spawn,
    ));
    data
}

/// Subscriptions over WebSocket (graphql-transport-ws, or the older graphql-ws).
/// A key may come with the upgrade (`Authorization: Bearer …`) or, since browsers
/// cannot set that header, in `connection_init`'s payload as `{"Authorization":
/// "Bearer …"}`; a wrong key closes the connection.
pub async fn subscribe(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let request_id = request_id(&headers);
    let caller = match caller(&state, &headers, &request_id).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let client = Client {
        request_id,
        address: client_address(peer.ip(), &headers, &state.http.trusted_proxies),
        caller,
    };
    let data = request_data(&state, client.clone());
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // A message is an operation: no larger than an HTTP body may be.
        .max_message_size(super::server::MAX_BODY_BYTES)
        .on_upgrade(move |stream| {
            let db = state.db.clone();
            GraphQLWebSocket::new(stream, state.graphql.clone(), protocol)
                .with_data(data)
                .on_connection_init(move |payload| init_caller(db, client, payload))
                .serve()
        })
}

/// The caller a `connection_init` payload names, if it names one.
async fn init_caller(
    db: sea_orm::DatabaseConnection,
    mut client: Client,
    payload: Value,
) -> async_graphql::Result<Data> {
    let given = ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(Value::as_str));
    let mut data = Data::default();
    if let Some(value) = given {
        let token = value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .ok_or_else(|| async_graphql::Error::new("Authorization must be 'Bearer <key>'"))?;
        client.caller = Some(
            auth::authenticate(&db, token)
                .await
                .map_err(|e| async_graphql::Error::new(e.public_message()))?,
        );
        data.insert(client);
    }
    Ok(data)
}
