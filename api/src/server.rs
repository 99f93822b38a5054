//! The HTTP server: routes, request ids, tracing, body limits. `serve` takes an
//! already-bound listener and a shutdown future, so tests bind port 0 and never sleep.

use std::future::{Future, IntoFuture};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::graphql::http;
use crate::state::AppState;

/// Largest request body accepted on /graphql.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let graphql = Router::new()
        .route("/graphql", get(http::get).post(http::post))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    Router::new()
        .merge(graphql)
        .merge(crate::openreferral::api::router())
        .route("/graphql/ws", get(http::subscribe))
        .route("/", get(crate::maps::page))
        .route("/map.js", get(crate::maps::script))
        .route("/map.css", get(crate::maps::style))
        .route("/gaps.geojson", get(crate::maps::gaps_geojson))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                    let id = http::request_id(request.headers());
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::x_request_id())
                // A last resort: a bug that panics answers 500 and the server lives on.
                .layer(CatchPanicLayer::new()),
        )
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

/// Serve until `shutdown` resolves, then drain in-flight requests for up to
/// `DRAIN_LIMIT`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_draining(listener, state, shutdown, DRAIN_LIMIT).await
}

/// `serve` with a chosen drain limit. Graceful shutdown alone waits for every open
/// connection, so one client that sent half a request would hold the process up
/// for as long as it liked; past the limit, whatever is left is dropped.
pub async fn serve_draining(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = stopping.send(true);
    };
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    tokio::select! {
        result = server.into_future() => result,
        _ = async {
            let _ = stopped.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(drain).await;
        } => {
            tracing::warn!(seconds = drain.as_secs_f64(), "connections still open after the drain limit; closing them");
            Ok(())
        }
    }
}
