//! Everything about HTTP (axum): the router and `serve`, the shared `AppState`, body
//! limits and timeouts, request ids and refusals, who the client is and how fast it
//! may ask (`ratelimit`), GraphQL over HTTP and WebSocket (`graphql`, through the
//! `gate` every operation passes), the map page and `/gaps.geojson` (`maps`), the Open
//! Referral UK read API (`oruk`), REST errors (`rest`), `/metrics` and the probes.

pub mod gate;
pub mod graphql;
pub mod maps;
pub mod metrics;
pub mod oruk;
pub mod ratelimit;
pub mod rest;
pub mod server;
pub mod state;

pub use server::{router, serve, serve_draining};
pub use state::AppState;

use axum::http::StatusCode;
use axum::response::Response;

/// The shape a refusal at the door takes: GraphQL's `{"errors": [...]}` on
/// `/graphql`, the REST shape (`rest`) everywhere else.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    GraphQl,
    Rest,
}

impl Shape {
    pub fn of(path: &str) -> Self {
        if path == "/graphql" || path.starts_with("/graphql/") {
            Self::GraphQl
        } else {
            Self::Rest
        }
    }

    pub fn refuse(
        self,
        status: StatusCode,
        code: &str,
        message: &str,
        request_id: &str,
    ) -> Response {
        match self {
            Self::GraphQl => graphql::refuse(status, code, message, request_id),
            Self::Rest => rest::refuse(status, code, message),
        }
    }
}
