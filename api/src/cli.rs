//! The `signpost` command line: parse, then dispatch to the library. Every failure is
//! a message on stderr and a non-zero exit, never a panic.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{DatabaseArgs, ServeArgs};
use crate::error::AppError;
use crate::graphql::{self, SchemaOptions};
use crate::state::AppState;
use crate::{db, demo, import, server};

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
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Open Referral HSDS 3.1 JSON: a service, an array of services, or a page with `contents`.
    Hsds {
        file: PathBuf,
        /// Slug of the authority that owns the listings (created if missing).
        #[arg(long, default_value = "local")]
        authority: String,
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
        Command::Import(ImportCommand::Hsds {
            file,
            authority,
            database,
        }) => {
            let conn = open(&database).await?;
            let owner = import::ensure_authority(&conn, &authority, &authority).await?;
            let started = std::time::Instant::now();
            let report = import::hsds::import_file(&conn, &file, &owner).await?;
            println!("{report} in {:.1}s", started.elapsed().as_secs_f64());
            Ok(if report.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
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

async fn serve(args: ServeArgs) -> Result<ExitCode, Failure> {
    let conn = open(&args.database).await?;
    if args.demo {
        let loaded = demo::load(&conn).await?;
        println!("{loaded}");
    }
    let started = std::time::Instant::now();
    let options = SchemaOptions {
        policy: (&args.policy).into(),
        introspection: args.introspection,
    };
    let state = AppState::prepare(conn, options).await?;
    println!(
        "search index: {} services in {:.1}s",
        state.search.read().len(),
        started.elapsed().as_secs_f64()
    );
    // Other processes (imports, replicas) write too: follow the database.
    state
        .search
        .clone()
        .follow(state.db.clone(), std::time::Duration::from_secs(2));
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure(format!("cannot listen on {}: {e}", args.listen)))?;
    println!("Signpost listening on http://{}/graphql", args.listen);
    let shutdown = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    server::serve(listener, state, shutdown)
        .await
        .map_err(|e| Failure(format!("server stopped: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
