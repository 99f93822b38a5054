//! The `signpost` command line: parse, then dispatch to the library. Every failure is
//! a message on stderr and a non-zero exit, never a panic.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{DatabaseArgs, ServeArgs, SyncArgs};
use crate::domain::auth;
use crate::domain::codes::Role;
use crate::domain::referral::seal::{DataKey, KEY_VARIABLE};
use crate::domain::search::{Opened, SearchHandle};
use crate::error::AppError;
use crate::graphql::{self, SchemaOptions};
use crate::http::state::AppState;
use crate::{db, demo, http, import};

#[derive(Parser, Debug)]
#[command(
    name = "signpost",
    version,
    about = "Signpost: a community asset directory for social prescribing"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the GraphQL API (migrates the database first).
    Serve(ServeArgs),
    /// Bring the database schema up to date.
    Migrate(DatabaseArgs),
    /// Print the GraphQL SDL (the contract in schema.graphql).
    Schema,
    /// Load data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write data out.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Manage authorities: the bodies that own listings.
    #[command(subcommand)]
    Authority(AuthorityCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Referrals' personal data.
    #[command(subcommand)]
    Referrals(ReferralsCommand),
    /// Pull partners' directories into an authority's listings.
    #[command(subcommand)]
    Sync(SyncCommand),
}

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// An Open Referral UK (HSDS 3) API: its `/services`, page by page, through the
    /// importer's checks; then only changes (`modified_after`); services a full pull
    /// no longer lists, or the feed marks inactive, are retired.
    Oruk {
        /// The API's base URL (`https://partner.example.org/api`; its /services is read).
        url: String,
        /// Slug of the authority that owns the pulled listings (created if missing).
        #[arg(long)]
        authority: String,
        /// Keep pulling at this interval (`15m`, `1h`, …) until stopped.
        #[arg(long, value_parser = crate::config::parse_every)]
        every: Option<std::time::Duration>,
        #[command(flatten)]
        sync: SyncArgs,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReferralsCommand {
    /// Erase the people of referrals that closed before a date (statuses and counts
    /// stay). `serve` does this by itself after --referral-retention-days.
    Erase {
        /// A date (2026-09-01) or an instant (2026-09-01T12:00:00Z).
        #[arg(long, value_parser = parse_instant)]
        closed_before: chrono::DateTime<chrono::Utc>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn parse_instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.to_utc());
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| format!("'{text}' is not a date (2026-09-01) or an RFC 3339 instant"))
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Every service that is not retired, as Open Referral HSDS 3.1 (`service_full`).
    Hsds {
        /// A JSON file, or with `--format csv` a folder for the tabular data package.
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand, Debug)]
pub enum AuthorityCommand {
    /// Create an authority.
    Create {
        /// Short name used in commands: lower-case letters, digits and hyphens.
        slug: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create a key and print it once (only its SHA-256 is stored).
    Create {
        /// Slug of the authority the key acts for.
        #[arg(long)]
        authority: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The organization a provider key acts for (its id); providers only.
        #[arg(long)]
        organization: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a key by its prefix (the 8 characters after `sp_`).
    Revoke {
        prefix: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::from_code(text)
        .ok_or_else(|| format!("'{text}' is not editor, admin, analyst, referrer or provider"))
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Open Referral HSDS 3.1: JSON (a service, an array, or a page with `contents`), or
    /// the tabular data package (its folder or its datapackage.json).
    Hsds {
        file: PathBuf,
        /// Slug of the authority that owns the listings (created if missing).
        #[arg(long, default_value = "local")]
        authority: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Area boundaries: a GeoJSON FeatureCollection of Polygons or MultiPolygons (WGS84).
    Areas {
        file: PathBuf,
        /// What the areas are: lsoa, msoa, ward, local_authority, …
        #[arg(long = "type")]
        area_type: String,
        /// The feature property holding each area's code.
        #[arg(long, default_value = "area_code")]
        code_property: String,
        /// The feature property holding each area's name.
        #[arg(long, default_value = "area_name")]
        name_property: String,
        /// A feature property holding the code of the area each lies in.
        #[arg(long)]
        parent_property: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Population of loaded areas: the ONS mid-year CSV (Persons rows, ages 0..90+).
    Population {
        file: PathBuf,
        /// The type of the areas the codes name.
        #[arg(long = "type")]
        area_type: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Taxonomy terms (a vocabulary): HSDS 3.1 / Open Referral UK `taxonomy_term` JSON
    /// (an array, a page or one term) or CSV with the HSDS tabular columns (`id, code,
    /// name, description, parent_id, taxonomy`). Upserts by id; all or nothing.
    Taxonomy {
        /// A `.csv` file is read as CSV, anything else as JSON.
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// The needs-to-services map: CSV with `need_code, term_code` columns. Replaces
    /// the whole map (the starter map included); all or nothing.
    NeedMap {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Postcodes: the ONS Postcode Directory CSV or a simple `postcode,lat,lon,...` CSV.
    Postcodes {
        file: PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// A command's failure, already worded for the terminal.
pub struct Failure(pub String);

impl From<AppError> for Failure {
    fn from(err: AppError) -> Self {
        Self(err.detail())
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(err: sea_orm::DbErr) -> Self {
        Self(format!("database: {err}"))
    }
}

async fn open(database: &DatabaseArgs) -> Result<sea_orm::DatabaseConnection, Failure> {
    let conn = db::connect(&database.database_url).await.map_err(|e| {
        Failure(format!(
            "cannot open database {}: {e}",
            database.database_url
        ))
    })?;
    db::migrate(&conn).await?;
    Ok(conn)
}

/// A file to read, buffered, with a progress bar on its bytes.
fn read_file(path: &std::path::Path) -> Result<impl std::io::Read, Failure> {
    let handle =
        std::fs::File::open(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    let size = handle.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(std::io::BufReader::new(
        import::progress_bytes(size).wrap_read(handle),
    ))
}

pub async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate(database) => {
            open(&database).await?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => serve(args).await,
        Command::Referrals(ReferralsCommand::Erase {
            closed_before,
            database,
        }) => {
            let conn = open(&database).await?;
            let erased =
                crate::domain::referral::store::erase_closed_before(&conn, closed_before, "cli")
                    .await?;
            println!(
                "erased the personal data of {erased} referrals closed before {closed_before}"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(ExportCommand::Hsds {
            path,
            format,
            database,
        }) => {
            let conn = open(&database).await?;
            let started = std::time::Instant::now();
            let count = match format {
                ExportFormat::Json => {
                    let file = std::fs::File::create(&path)
                        .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
                    let mut out = std::io::BufWriter::new(file);
                    crate::openreferral::export::json(&conn, &mut out).await?
                }
                ExportFormat::Csv => crate::openreferral::tabular::export(&conn, &path).await?,
            };
            println!(
                "exported {count} services to {} in {:.1}s",
                path.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Authority(AuthorityCommand::Create {
            slug,
            name,
            database,
        }) => {
            let conn = open(&database).await?;
            let created = auth::create_authority(&conn, &slug, &name).await?;
            println!("created authority {} ({})", created.slug, created.name);
            Ok(ExitCode::SUCCESS)
        }
        Command::Key(KeyCommand::Create {
            authority,
            role,
            organization,
            database,
        }) => {
            let conn = open(&database).await?;
            let key =
                auth::create_key(&conn, &authority, role, organization.as_deref(), "cli").await?;
            let scope = match &key.row.organization_id {
                Some(org) => format!("{authority}, organization {org}"),
                None => authority.clone(),
            };
            eprintln!(
                "created {} key {} for {scope}; it is shown once, store it now:",
                role.code(),
                key.row.prefix
            );
            println!("{}", key.token);
            Ok(ExitCode::SUCCESS)
        }
        Command::Key(KeyCommand::Revoke { prefix, database }) => {
            let conn = open(&database).await?;
            let key = auth::revoke_key(&conn, &prefix, None, "cli").await?;
            println!("revoked key {}", key.prefix);
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Hsds {
            file,
            authority,
            database,
        }) => {
            let conn = open(&database).await?;
            let owner = auth::ensure_authority(&conn, &authority, &authority).await?;
            let started = std::time::Instant::now();
            let since = chrono::Utc::now();
            let report = import::hsds::import_file(&conn, &file, &owner).await?;
            println!("{report} in {:.1}s", started.elapsed().as_secs_f64());
            let source = crate::domain::duplicates::Source::Authority(owner.id);
            let matched = import::match_duplicates(&conn, None, &source, since).await?;
            if matched.proposed > 0 || matched.index_seconds.is_some() {
                println!("{matched}");
            }
            Ok(if report.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Sync(SyncCommand::Oruk {
            url,
            authority,
            every,
            sync,
            database,
        }) => {
            let conn = open(&database).await?;
            let owner = auth::ensure_authority(&conn, &authority, &authority).await?;
            let options = sync.options();
            let Some(every) = every else {
                let started = std::time::Instant::now();
                let report =
                    import::sync::pull_and_match(&conn, None, &owner, &url, &options).await?;
                println!("{report}\nin {:.1}s", started.elapsed().as_secs_f64());
                return Ok(if report.succeeded() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                });
            };
            // Read once, kept current between pulls, to match duplicates.
            let search = SearchHandle::open(&conn, crate::domain::Policy::default(), None).await?;
            let pulling =
                import::sync::keep_pulling(conn, search, owner, url, every, options, |outcome| {
                    match outcome {
                        Ok(report) => println!("{report}"),
                        Err(e) => println!("pull refused: {}", e.detail()),
                    }
                });
            tokio::select! {
                () = pulling => {}
                () = stop_signal() => {}
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Areas {
            file,
            area_type,
            code_property,
            name_property,
            parent_property,
            database,
        }) => {
            let conn = open(&database).await?;
            let started = std::time::Instant::now();
            let props = import::areas::AreaProperties {
                code: code_property,
                name: name_property,
                parent: parent_property,
            };
            let count = import::areas::import(&conn, read_file(&file)?, &area_type, &props).await?;
            println!(
                "imported {count} {area_type} areas in {:.1}s",
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Population {
            file,
            area_type,
            database,
        }) => {
            let conn = open(&database).await?;
            let summary =
                import::areas::import_population(&conn, read_file(&file)?, &area_type).await?;
            println!("imported {summary}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Taxonomy { file, database }) => {
            let conn = open(&database).await?;
            let started = std::time::Instant::now();
            let csv = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            let terms = if csv {
                import::taxonomy::from_csv(read_file(&file)?)?
            } else {
                import::taxonomy::from_json(read_file(&file)?)?
            };
            let report = import::taxonomy::import(&conn, terms).await?;
            println!("{report} in {:.1}s", started.elapsed().as_secs_f64());
            Ok(if report.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Import(ImportCommand::NeedMap { file, database }) => {
            let conn = open(&database).await?;
            let rows = import::needs::from_csv(read_file(&file)?)?;
            match crate::domain::needs::replace_map(&conn, &rows).await? {
                Ok(links) => {
                    println!("need map replaced: {links} links from {} rows", rows.len());
                    Ok(ExitCode::SUCCESS)
                }
                Err(failed) => {
                    println!("nothing written: {} problem(s)", failed.len());
                    for e in failed {
                        println!("  {}: {}", e.path, e.message);
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Import(ImportCommand::Postcodes { file, database }) => {
            let conn = open(&database).await?;
            let handle = std::fs::File::open(&file)
                .map_err(|e| Failure(format!("{}: {e}", file.display())))?;
            let started = std::time::Instant::now();
            let size = handle.metadata().map(|m| m.len()).unwrap_or(0);
            let bar = import::progress_bytes(size);
            let reader = std::io::BufReader::new(bar.wrap_read(handle));
            let summary = import::postcodes::import(&conn, reader).await?;
            bar.finish_and_clear();
            db::after_bulk_load(&conn).await?;
            println!("{summary} in {:.1}s", started.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The key that seals referrals' personal data: SIGNPOST_DATA_KEY; without it, an
/// ephemeral key for the demo and development (with a warning), none in production
/// (referrals are then refused, naming the variable).
fn data_key(args: &ServeArgs) -> Result<DataKey, Failure> {
    match std::env::var(KEY_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => DataKey::from_base64(&text).map_err(Failure),
        _ if args.demo || args.mode == graphql::Mode::Development => {
            println!(
                "warning: {KEY_VARIABLE} is not set; referrals are sealed with a key that \
                 lasts until this process stops (their people cannot be read after a restart)"
            );
            Ok(DataKey::ephemeral()?)
        }
        _ => {
            println!("warning: {KEY_VARIABLE} is not set; referrals are refused until it is");
            Ok(DataKey::missing())
        }
    }
}

/// Erase referrals' people `days` after they close, hourly, for as long as the
/// server runs. Replicas may all do it: erasing twice erases nothing more.
fn erase_on_time(db: sea_orm::DatabaseConnection, days: u32) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
            match crate::domain::referral::store::erase_closed_before(&db, cutoff, "retention")
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(erased = n, "referrals' personal data erased on time"),
                Err(e) => tracing::warn!(cause = %e.detail(), "could not erase referrals on time"),
            }
        }
    });
}

/// Pull a feed on schedule inside the server: each pull logged (failed records by
/// id and field path, never their content) and counted in `/metrics`.
fn keep_feed_pulled(
    state: &AppState,
    owner: entity::authority::Model,
    url: String,
    every: std::time::Duration,
    sync: &SyncArgs,
) {
    let metrics = state.metrics.clone();
    let label = url.clone();
    let pulling = import::sync::keep_pulling(
        state.db.clone(),
        state.search.clone(),
        owner,
        url,
        every,
        sync.options(),
        move |outcome| {
            metrics.pulled(&label, outcome);
            match outcome {
                Ok(report) => {
                    for (id, e) in &report.import.failed {
                        tracing::warn!(feed = %label, record = %id, path = %e.path, problem = %e.message, "feed record refused");
                    }
                    tracing::info!(
                        feed = %label,
                        written = report.import.written,
                        unchanged = report.import.unchanged,
                        failed = report.import.failed.len(),
                        retired = report.retired,
                        pages = report.pages,
                        full = report.full,
                        stopped = report.stopped.as_deref().unwrap_or(""),
                        "feed pulled"
                    );
                }
                Err(e) => tracing::info!(feed = %label, cause = %e.detail(), "feed not pulled"),
            }
        },
    );
    tokio::spawn(pulling);
}

async fn serve(args: ServeArgs) -> Result<ExitCode, Failure> {
    let key = data_key(&args)?;
    let conn = open(&args.database).await?;
    if args.demo {
        let loaded = demo::load(&conn).await?;
        println!("{loaded}");
    }
    let started = std::time::Instant::now();
    let options = SchemaOptions {
        policy: (&args.policy).into(),
        mode: args.mode,
    };
    let snapshot = args.index_snapshot_path();
    let state = AppState::prepare_with_snapshot(conn, options, snapshot.as_deref())
        .await?
        .with_http(args.http)
        .with_data_key(key);
    let from = match state.search.opened() {
        Opened::Database => "read from the database".to_owned(),
        Opened::Snapshot { changed } => format!("restored from its snapshot, {changed} changed"),
    };
    println!(
        "search index: {} services in {:.1}s ({from})",
        state.search.read().len(),
        started.elapsed().as_secs_f64()
    );
    if args.demo {
        println!(
            "{}",
            demo::referrals::load(&state.db, &state.data_key, &state.search).await?
        );
    }
    erase_on_time(state.db.clone(), args.referral_retention_days);
    for target in &args.feeds {
        let owner = auth::ensure_authority(&state.db, &target.authority, &target.authority).await?;
        keep_feed_pulled(
            &state,
            owner,
            target.url.clone(),
            args.sync_every,
            &args.sync,
        );
    }
    // Other processes (imports, replicas) write too: follow the database.
    state
        .search
        .clone()
        .follow(state.db.clone(), std::time::Duration::from_secs(2));
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure(format!("cannot listen on {}: {e}", args.listen)))?;
    println!("Signpost listening on http://{}/graphql", args.listen);
    let shutdown = stop_signal();
    http::serve(listener, state.clone(), shutdown)
        .await
        .map_err(|e| Failure(format!("server stopped: {e}")))?;
    // A restart then catches up from here instead of reading every listing.
    state.search.save_logged(&state.db).await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM (what service managers and container runtimes send).
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        result = tokio::signal::ctrl_c() => {
            if result.is_err() {
                std::future::pending::<()>().await;
            }
        }
        () = terminate => {}
    }
    tracing::info!("stopping: draining in-flight requests");
}
