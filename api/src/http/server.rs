//! The HTTP server: routes, request ids, tracing, body limits. `serve` takes an
//! already-bound listener and a shutdown future, so tests bind port 0 and never sleep.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderName, Method, Request, StatusCode, header};
use axum::routing::get;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::Shape;
use super::graphql;
use super::state::AppState;

/// Largest request body accepted on /graphql.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let http = state.http.clone();
    let mut graphql = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    if !http.cors_origins.is_empty() {
        // Browsers on the configured origins may call /graphql with a key; no other
        // origin gets CORS headers (the Open Referral API sets its own, open ones).
        graphql = graphql.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(http.cors_origins.iter().cloned()))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
                .expose_headers([HeaderName::from_static("x-request-id")])
                .max_age(Duration::from_secs(3600)),
        );
    }
    let mut graphql = graphql.route("/graphql/ws", get(graphql::subscribe));
    let mut rest = Router::new()
        .merge(super::oruk::router())
        .route("/", get(super::maps::page))
        .route("/map.js", get(super::maps::script))
        .route("/views.js", get(super::maps::views))
        .route("/map.css", get(super::maps::style))
        .route("/gaps.geojson", get(super::maps::gaps_geojson));
    // One limiter (one bucket per client) for both; each answers in its own shape.
    if let Some(limits) = super::ratelimit::Limits::new(
        http.rate_limit,
        http.rate_burst,
        Arc::new(http.trusted_proxies.clone()),
    ) {
        graphql = graphql.layer(limits.layer(Shape::GraphQl));
        rest = rest.layer(limits.layer(Shape::Rest));
    }
    Router::new()
        .merge(graphql)
        .merge(rest)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(super::metrics::handler))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            within_request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::metrics::count_responses,
        ))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request<Body>| {
                            let id = graphql::request_id(request.headers());
                            tracing::info_span!(
                                "request",
                                method = %request.method(),
                                path = %request.uri().path(),
                                request_id = %id,
                                operation = tracing::field::Empty,
                            )
                        })
                        // One line per request at INFO: status and duration (the
                        // span adds request id and operation name).
                        .on_response(
                            DefaultOnResponse::new()
                                .level(Level::INFO)
                                .latency_unit(LatencyUnit::Micros),
                        )
                        .on_failure(DefaultOnFailure::new().level(Level::WARN)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                // A last resort: a bug that panics answers 500 and the server lives on.
                .layer(CatchPanicLayer::new()),
        )
}

/// A request has `--request-timeout-ms` in all, reading a slow body included; then
/// 503 `TIMEOUT` in the API's error shape, with its request id.
async fn within_request_timeout(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = graphql::request_id(request.headers());
    let shape = Shape::of(request.uri().path());
    let limit = Duration::from_millis(state.http.request_timeout_ms);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => shape.refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "TIMEOUT",
            &format!("the request took longer than {} ms", limit.as_millis()),
            &id,
        ),
    }
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if crate::db::ping(&state.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

/// How long shutdown waits for in-flight requests before it closes what is left.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's headers, and how long an idle
/// keep-alive connection is held: a slow or silent client cannot hold a socket.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve until `shutdown` resolves, then drain in-flight requests for up to
/// `DRAIN_LIMIT`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_draining(listener, state, shutdown, DRAIN_LIMIT).await
}

/// `serve` with a chosen drain limit. Connections are served by hyper directly
/// (axum's `serve` has no header-read timeout); graceful shutdown stops accepting,
/// lets in-flight requests finish and closes idle connections, and past the drain
/// limit drops whatever is left, so one half-open socket cannot hold the process.
pub async fn serve_draining(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let app = router(state);
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HEADER_READ_TIMEOUT)
        .enable_connect_protocol();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(cause = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request.map(Body::new))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(cause = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(drain) => {
            tracing::warn!(seconds = drain.as_secs_f64(), "connections still open after the drain limit; closing them");
        }
    }
    Ok(())
}
