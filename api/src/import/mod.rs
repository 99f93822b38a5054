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

/// What matching duplicates after a load did, and how long it took.
#[derive(Clone, Copy, Debug, Default)]
pub struct Matched {
    /// Candidates proposed or refreshed.
    pub proposed: usize,
    /// Reading an index of its own (when none was given), in seconds.
    pub index_seconds: Option<f64>,
    /// Comparing and storing, in seconds.
    pub seconds: f64,
}

impl std::fmt::Display for Matched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} duplicate candidate(s) to review (duplicateCandidates), matched in {:.2}s",
            self.proposed, self.seconds
        )?;
        if let Some(index) = self.index_seconds {
            write!(f, " after reading the search index in {index:.1}s")?;
        }
        Ok(())
    }
}

/// After a load by `source` that began at `since`: propose the duplicate candidates
/// it made across sources. Uses `search` if given; else, only when there is another
/// source to compare with, reads an index of its own.
pub async fn match_duplicates(
    db: &sea_orm::DatabaseConnection,
    search: Option<&crate::domain::search::SearchHandle>,
    source: &crate::domain::duplicates::Source,
    since: chrono::DateTime<chrono::Utc>,
) -> crate::error::AppResult<Matched> {
    use crate::domain::{Policy, duplicates, search::SearchHandle};
    let mut matched = Matched::default();
    if !duplicates::others_exist(db, source).await? {
        return Ok(matched);
    }
    let opened;
    let search = match search {
        Some(search) => search,
        None => {
            let started = std::time::Instant::now();
            opened = SearchHandle::open(db, Policy::default(), None).await?;
            matched.index_seconds = Some(started.elapsed().as_secs_f64());
            &opened
        }
    };
    let started = std::time::Instant::now();
    matched.proposed = duplicates::after_load(db, search, source, since).await?;
    matched.seconds = started.elapsed().as_secs_f64();
    Ok(matched)
}
