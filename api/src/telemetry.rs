//! Logging: JSON lines to stderr when `SIGNPOST_LOG_FORMAT=json`, readable text
//! otherwise; the level comes from `RUST_LOG` (default info).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sea_orm_migration=warn"));
    // Colours only for a person at a terminal, never into a log file or pipe.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let result = if std::env::var("SIGNPOST_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests start many servers in one process) keeps the first subscriber.
    drop(result);
}
