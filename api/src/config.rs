//! Runtime configuration: parsed once by clap (flags or `SIGNPOST_*` environment),
//! then passed down. Defaults make a fresh machine work with nothing set.

use std::net::SocketAddr;

use clap::Args;

/// Where the data lives.
#[derive(Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://path.db` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "SIGNPOST_DATABASE_URL",
        default_value = "sqlite://signpost.db"
    )]
    pub database_url: String,
}

/// How listings are read: ages that decide freshness and capacity expiry.
#[derive(Args, Clone, Debug)]
pub struct PolicyArgs {
    /// A listing verified longer ago than this many days is DUE for review.
    #[arg(long, env = "SIGNPOST_DUE_AFTER_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub due_after_days: u32,
    /// A listing verified longer ago than this many days (or never) is STALE.
    #[arg(long, env = "SIGNPOST_STALE_AFTER_DAYS", default_value_t = 180, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub stale_after_days: u32,
    /// Capacity with no explicit expiry reads UNKNOWN this many days after its update.
    #[arg(long, env = "SIGNPOST_CAPACITY_EXPIRY_DAYS", default_value_t = 28, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub capacity_expiry_days: u32,
}

/// Everything `serve` needs.
#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Address to listen on.
    #[arg(long, env = "SIGNPOST_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Load the generated demo data set (once; a restart does not duplicate it).
    #[arg(long)]
    pub demo: bool,
    /// Answer GraphQL introspection queries (`__schema`, `__type`).
    #[arg(long, env = "SIGNPOST_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
}
