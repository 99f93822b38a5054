//! Signpost: a GraphQL API for a community asset directory, for social prescribing.
//! Link workers search it, local authorities keep it current, analysts find the gaps.
//!
//! A map of the crate, from the edge inwards (each module may use only those below
//! it; `.ci/layers` checks this in CI):
//!
//! - [`cli`] parses the command line and dispatches; [`config`] is its one `Config`,
//!   [`telemetry`] its logging. [`demo`] generates the demo data `serve --demo` loads.
//! - [`http`] is everything axum: the router and `serve`, the shared `AppState`, limits
//!   and timeouts, request ids, rate limits, GraphQL over HTTP and WebSocket, the map
//!   page, the Open Referral UK read API, REST errors, `/metrics` and the probes.
//! - [`graphql`] is the schema alone: one file per domain, resolvers as adapters that
//!   check input into domain types and call one domain function.
//! - [`import`] loads files (HSDS, postcodes, areas, population) through the domain's
//!   checks and its bulk writer; [`openreferral`] reads and writes the HSDS formats.
//! - [`domain`] holds the rules and the queries they need: search and fit, writes
//!   (`domain::edit`, the one write path), gaps, review, auth, input checks.
//! - [`db`] (connections, transactions, upserts), [`spatial`] (all geodesy) and
//!   [`error`] (one `AppError` with stable codes for GraphQL and REST) are the base.

pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod live;
pub mod openreferral;
pub mod snapshot;
pub mod spatial;
pub mod telemetry;
