//! Bulk loading: HSDS 3.1 JSON (services and taxonomies) and UK postcode files. Imports report what landed and
//! what failed (with the record's id and the field path) and never half-write a record.

pub mod areas;
pub mod hsds;
pub mod needs;
pub mod postcodes;
pub mod sync;
pub mod taxonomy;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr; indicatif draws nothing when stderr is not a terminal.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"
    )) {
        bar.set_style(style);
    }
    bar
}

/// A progress bar over the bytes of a file being read.
pub fn progress_bytes(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})")
    {
        bar.set_style(style);
    }
    bar
}
