//! The one integration-test binary: a real server on a free port, spoken to over HTTP
//! as a client would. Set `TEST_DATABASE_URL` to run the same suite on PostgreSQL.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly at the failing step"
)]

mod auth;
mod cli;
mod database;
mod demo;
mod duplicates;
mod faults;
mod feeds;
mod gaps;
mod graphql_http;
mod hardening;
mod helpers;
mod hostile;
mod hsds_import;
mod listings;
mod live;
mod map_page;
mod needs;
mod openreferral;
mod postcodes;
mod read_api;
mod referral_privacy;
mod referrals;
mod roles;
mod schema_contract;
mod search;
mod shutdown;
mod snapshot;
mod taxonomy;
