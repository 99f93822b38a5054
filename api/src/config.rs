//! Runtime configuration: parsed once by clap (flags or `SIGNPOST_*` environment),
//! then passed down. Defaults make a fresh machine work with nothing set.

use std::net::SocketAddr;

use clap::Args;

use crate::graphql::Mode;

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
    /// `production` or `development` (see README, "Configuration").
    #[arg(long, env = "SIGNPOST_MODE", value_enum, default_value_t = Mode::Production)]
    pub mode: Mode,
    /// Where the search index is saved between runs, so a restart reads one file
    /// rather than every listing: a path, or `off`. Default: beside a SQLite file
    /// (`<file>.search-index`); for PostgreSQL, in the cache directory
    /// (`$XDG_CACHE_HOME` or `~/.cache`: `signpost/<host>-<port>-<database>.search-index`).
    #[arg(long, env = "SIGNPOST_INDEX_SNAPSHOT")]
    pub index_snapshot: Option<String>,
    /// Days after a referral closes before the person's details are erased (checked
    /// hourly). The key that seals them comes from SIGNPOST_DATA_KEY only, never
    /// from the command line, where other users could read it.
    #[arg(long, env = "SIGNPOST_REFERRAL_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub referral_retention_days: u32,
    #[command(flatten)]
    pub http: HttpArgs,
    /// Keep a partner's Open Referral UK API pulled into an authority's listings:
    /// `https://partner.example.org/api=authority-slug`; repeat for more feeds
    /// (comma-separated in the environment). One pull at a time per feed, whichever
    /// replica runs it.
    #[arg(long = "sync", env = "SIGNPOST_SYNC", value_delimiter = ',', value_parser = parse_feed)]
    pub feeds: Vec<FeedTarget>,
    /// How often each `--sync` feed is pulled (`15m`, `1h`, …).
    #[arg(long, env = "SIGNPOST_SYNC_EVERY", default_value = "15m", value_parser = parse_every)]
    pub sync_every: std::time::Duration,
    #[command(flatten)]
    pub sync: SyncArgs,
}

/// A feed to keep pulled, and the authority whose listings it feeds.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedTarget {
    pub url: String,
    pub authority: String,
}

fn parse_feed(text: &str) -> Result<FeedTarget, String> {
    let (url, authority) = text
        .rsplit_once('=')
        .filter(|(url, authority)| !url.trim().is_empty() && !authority.trim().is_empty())
        .ok_or_else(|| format!("'{text}' is not <url>=<authority>"))?;
    let url = crate::domain::feeds::base_url(url).map_err(|e| e.detail())?;
    Ok(FeedTarget {
        url,
        authority: authority.trim().to_string(),
    })
}

/// A pulling interval: at least a second.
pub fn parse_every(text: &str) -> Result<std::time::Duration, String> {
    let every = humantime::parse_duration(text.trim())
        .map_err(|e| format!("'{text}' is not a duration like 15m or 1h: {e}"))?;
    if every < std::time::Duration::from_secs(1) {
        return Err(format!("'{text}' is shorter than a second"));
    }
    Ok(every)
}

/// How feeds are pulled (`sync oruk`, `serve --sync`).
#[derive(Args, Clone, Debug)]
pub struct SyncArgs {
    /// Services asked for per page.
    #[arg(long, env = "SIGNPOST_SYNC_PER_PAGE", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub per_page: u32,
    /// How often a pull reads every service and retires those the feed no longer
    /// lists; pulls between ask only for changes.
    #[arg(long, env = "SIGNPOST_SYNC_FULL_EVERY", default_value = "24h", value_parser = parse_every)]
    pub full_every: std::time::Duration,
    /// Tries after the first for a failed request, waiting 2 s, 4 s, 8 s, … between.
    #[arg(long, env = "SIGNPOST_SYNC_RETRIES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
}

impl SyncArgs {
    pub fn options(&self) -> crate::import::sync::Options {
        crate::import::sync::Options {
            per_page: self.per_page,
            full_every: chrono::Duration::from_std(self.full_every)
                .unwrap_or(chrono::Duration::MAX),
            retries: self.retries,
            ..crate::import::sync::Options::default()
        }
    }
}

impl ServeArgs {
    /// The search index snapshot's path, if there is to be one.
    pub fn index_snapshot_path(&self) -> Option<std::path::PathBuf> {
        match self.index_snapshot.as_deref().map(str::trim) {
            Some("off" | "") => None,
            Some(path) => Some(path.into()),
            None => default_snapshot(&self.database.database_url, &cache_dir()),
        }
    }
}

/// Where the index snapshot goes unless told: beside a SQLite file; for PostgreSQL,
/// in this machine's cache directory under a name for the server and database
/// (`signpost/db.example.org-5432-signpost.search-index`), since each replica keeps
/// its own on a local disk.
fn default_snapshot(url: &str, cache: &std::path::Path) -> Option<std::path::PathBuf> {
    if let Some(file) = url.strip_prefix("sqlite://") {
        let file = file.split('?').next().unwrap_or(file);
        return (!file.is_empty() && !file.contains(":memory:"))
            .then(|| format!("{file}.search-index").into());
    }
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return None;
    }
    let server =
        <sea_orm::sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url).ok()?;
    let name = format!(
        "{}-{}-{}.search-index",
        server.get_host(),
        server.get_port(),
        server.get_database().unwrap_or("postgres")
    )
    .replace(['/', '\\'], "_");
    Some(cache.join("signpost").join(name))
}

/// `$XDG_CACHE_HOME`, else `~/.cache`, else the temporary directory.
fn cache_dir() -> std::path::PathBuf {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    set("XDG_CACHE_HOME")
        .map(Into::into)
        .or_else(|| set("HOME").map(|home| std::path::PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
}

const RATE_BURST: u32 = 100;
const EXECUTION_TIMEOUT_MS: u64 = 5000;
const REQUEST_TIMEOUT_MS: u64 = 10_000;

/// How the HTTP front door behaves.
#[derive(Args, Clone, Debug)]
pub struct HttpArgs {
    /// Browser origins allowed to call /graphql, comma-separated
    /// (`https://app.example.org`); none by default. The Open Referral API is open.
    #[arg(long, env = "SIGNPOST_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<axum::http::HeaderValue>,
    /// Proxies whose X-Forwarded-For is believed, comma-separated addresses or
    /// networks (`10.0.0.0/8`); none by default, so the peer address counts.
    #[arg(long, env = "SIGNPOST_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Requests per second each client may make (an API key, or an address for
    /// anonymous callers); 0 turns the limit off.
    #[arg(long, env = "SIGNPOST_RATE_LIMIT", default_value_t = 50)]
    pub rate_limit: u32,
    /// How many requests a client may make at once before the rate applies.
    #[arg(long, env = "SIGNPOST_RATE_BURST", default_value_t = RATE_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_burst: u32,
    /// Longest a GraphQL operation may run, in milliseconds (then TIMEOUT, 503).
    #[arg(long, env = "SIGNPOST_EXECUTION_TIMEOUT_MS", default_value_t = EXECUTION_TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub execution_timeout_ms: u64,
    /// Longest a request may take from its headers to the response, in
    /// milliseconds, reading its body included (then 503).
    #[arg(long, env = "SIGNPOST_REQUEST_TIMEOUT_MS", default_value_t = REQUEST_TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub request_timeout_ms: u64,
}

impl Default for HttpArgs {
    fn default() -> Self {
        // As `serve` would run, but with no rate limit (tests make many requests).
        Self {
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            rate_limit: 0,
            rate_burst: RATE_BURST,
            execution_timeout_ms: EXECUTION_TIMEOUT_MS,
            request_timeout_ms: REQUEST_TIMEOUT_MS,
        }
    }
}

fn parse_origin(text: &str) -> Result<axum::http::HeaderValue, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not an origin ({e}): {text}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.path() != "/" || url.query().is_some() {
        return Err(format!(
            "an origin is scheme://host[:port], nothing more: {text}"
        ));
    }
    axum::http::HeaderValue::from_str(text.trim_end_matches('/'))
        .map_err(|e| format!("not an origin ({e}): {text}"))
}

impl From<&PolicyArgs> for crate::domain::Policy {
    fn from(args: &PolicyArgs) -> Self {
        Self {
            due_after_days: args.due_after_days,
            stale_after_days: args.stale_after_days.max(args.due_after_days),
            capacity_expiry_days: args.capacity_expiry_days,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::ServeArgs;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn snapshot(args: &[&str]) -> Option<String> {
        let parsed = Serve::try_parse_from(std::iter::once("serve").chain(args.iter().copied()));
        let serve = parsed.unwrap_or_else(|e| panic!("{e}"));
        serve
            .args
            .index_snapshot_path()
            .map(|p| p.display().to_string())
    }

    #[test]
    fn the_index_snapshot_sits_beside_a_sqlite_file_or_in_the_cache_for_postgresql_unless_told_otherwise()
     {
        let url = |u: &str| ["--database-url".to_owned(), u.to_owned()];
        let with = |u: &str, extra: &[&str]| {
            let url = url(u);
            let mut args: Vec<&str> = url.iter().map(String::as_str).collect();
            args.extend_from_slice(extra);
            snapshot(&args)
        };
        assert_eq!(
            with("sqlite:///var/lib/signpost/s.db?mode=rwc", &[]).as_deref(),
            Some("/var/lib/signpost/s.db.search-index")
        );
        assert_eq!(
            with("sqlite://signpost.db", &[]).as_deref(),
            Some("signpost.db.search-index")
        );
        assert_eq!(with("sqlite::memory:", &[]), None);
        assert_eq!(
            super::default_snapshot(
                "postgres://u@db.example.org/signpost",
                "/var/cache".as_ref()
            )
            .map(|p| p.display().to_string())
            .as_deref(),
            Some("/var/cache/signpost/db.example.org-5432-signpost.search-index")
        );
        assert_eq!(
            super::default_snapshot(
                "postgres://u@localhost:6432/s?host=/run/postgresql",
                "/c".as_ref()
            )
            .map(|p| p.display().to_string())
            .as_deref(),
            Some("/c/signpost/localhost-6432-s.search-index")
        );
        assert!(
            with("postgres://u@h/signpost", &[])
                .is_some_and(|p| p.ends_with("h-5432-signpost.search-index"))
        );
        assert_eq!(
            with("postgres://u@h/signpost", &["--index-snapshot", "off"]),
            None
        );
        assert_eq!(
            with(
                "postgres://u@h/signpost",
                &["--index-snapshot", "/srv/index"]
            )
            .as_deref(),
            Some("/srv/index")
        );
        assert_eq!(
            with("sqlite://signpost.db", &["--index-snapshot", "off"]),
            None
        );
    }
}
