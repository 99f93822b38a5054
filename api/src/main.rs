//! `signpost`: parse the command line, start logging, hand over to the library.

use std::process::ExitCode;

use clap::Parser;
use signpost::cli::{self, Cli};

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
