//! `signpost`: parse the command line, start logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use signpost::cli::{self, Cli};

/// mimalloc rather than glibc's malloc: in the soak (bench/soak.sh) glibc's per-thread
/// arenas let the server's memory creep as index entries were rebuilt on writes from
/// other threads (+75% over 10 minutes on PostgreSQL).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    signpost::telemetry::init();
    match cli::run(cli).await {
        Ok(code) => code,
        Err(cli::Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
