//! Signpost: a GraphQL API for a community asset directory, for social prescribing.
//! Link workers search it, local authorities keep it current, analysts find the gaps.

pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod openreferral;
pub mod spatial;
pub mod telemetry;
