//! `signpost sync oruk`: pull a partner's Open Referral UK API into an authority's
//! listings. Each page of `/services` goes through the one importer, so every check
//! of the API applies, a bad record is reported and the rest land, and a record
//! unchanged since the last pull writes nothing. After a first, full pull only what
//! changed since the last good pull is asked for (`modified_after`, a few minutes
//! early for clocks that differ); every `full_every` a full pull retires what the
//! feed no longer lists, each absence confirmed by asking for the service by id
//! (pages shift while a publisher edits). A page that fails is tried again with
//! growing waits; a pull that still fails keeps its place, and the next resumes
//! from that page.

mod client;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::authority;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::Value;

use super::hsds::{FieldError, ImportReport, Pulled, import_pulled};
use crate::domain::duplicates::Source;
use crate::domain::edit::bulk;
use crate::domain::feeds::{self, Cursor, Ended};
use crate::domain::search::SearchHandle;
use crate::error::{AppError, AppResult};
use client::Client;

/// Asked for changes since this long before the last good pull began: the
/// publisher's clock may differ from ours, and re-reading a record costs nothing.
const CLOCK_MARGIN_MINUTES: i64 = 5;

#[derive(Clone, Debug)]
pub struct Options {
    pub per_page: u32,
    /// How often a pull reads every service (and retires the absent).
    pub full_every: chrono::Duration,
    /// Tries after the first for each request, waiting `backoff`, twice that, …
    pub retries: u32,
    pub backoff: Duration,
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            per_page: 100,
            full_every: chrono::Duration::hours(24),
            retries: 5,
            backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(30),
        }
    }
}

/// What a pull did.
#[derive(Debug, Default)]
pub struct SyncReport {
    pub url: String,
    /// The feed's id here (`Service.source`, `duplicates::Source::Feed`).
    pub feed_id: String,
    /// When the pull (or the one it resumed) began.
    pub started_at: Option<DateTime<Utc>>,
    /// Duplicate candidates proposed or refreshed after it (`pull_and_match`).
    pub matched: Option<super::Matched>,
    pub import: ImportReport,
    pub pages: u32,
    /// Every service was asked for (else only changes since `since`).
    pub full: bool,
    pub since: Option<DateTime<Utc>>,
    /// It went on from this page of a pull that had stopped.
    pub resumed_at: Option<u32>,
    pub retired: usize,
    /// Requests tried again.
    pub retried: u32,
    /// Why it stopped before the end, if it did (the next pull resumes).
    pub stopped: Option<String>,
    /// Things the operator should know that did not stop it.
    pub notes: Vec<String>,
}

impl SyncReport {
    pub fn succeeded(&self) -> bool {
        self.stopped.is_none() && self.import.failed.is_empty()
    }
}

impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.import)?;
        let asked = match (self.full, self.since) {
            (true, _) => "every service".to_string(),
            (false, Some(since)) => format!("changes since {}", since.to_rfc3339()),
            (false, None) => "changes".to_string(),
        };
        write!(
            f,
            "{}: {} page(s) of {asked}, {} retired, {} request(s) tried again",
            self.url, self.pages, self.retired, self.retried
        )?;
        if let Some(page) = self.resumed_at {
            write!(f, ", resumed at page {page}")?;
        }
        if let Some(matched) = &self.matched {
            write!(f, "\n{matched}")?;
        }
        for note in &self.notes {
            write!(f, "\nnote: {note}")?;
        }
        if let Some(why) = &self.stopped {
            write!(f, "\nstopped: {why} (the next pull resumes here)")?;
        }
        Ok(())
    }
}

/// Pull the feed at `url` into `authority`'s listings once.
pub async fn pull(
    db: &DatabaseConnection,
    authority: &authority::Model,
    url: &str,
    options: &Options,
) -> AppResult<SyncReport> {
    let url = feeds::base_url(url)?;
    let feed = feeds::ensure(db, authority, &url).await?;
    let Some(token) = feeds::take(db, &feed.id, Utc::now()).await? else {
        return Err(AppError::Unavailable(format!(
            "{url} is being pulled by another process; try again when it ends"
        )));
    };
    // Read again now it is held: another pull may have ended since.
    let feed = entity::feed::Entity::find_by_id(feed.id.clone())
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a feed vanished while held"))?;
    let mut report = SyncReport {
        url: url.clone(),
        feed_id: feed.id.clone(),
        ..SyncReport::default()
    };
    let held = Held {
        feed: &feed,
        token: &token,
    };
    let ended = match pull_held(db, authority, held, options, &mut report).await {
        Ok(ended) => ended,
        Err(e) => Ended::Stopped { error: e.detail() },
    };
    if let Ended::Stopped { error } = &ended {
        report.stopped.get_or_insert_with(|| error.clone());
    }
    feeds::end(db, &feed.id, &token, ended).await?;
    Ok(report)
}

/// A feed and the token of the pull that holds it.
#[derive(Clone, Copy)]
struct Held<'a> {
    feed: &'a entity::feed::Model,
    token: &'a str,
}

impl Held<'_> {
    /// Renew the lease, or say why the pull must stop.
    async fn renew(&self, db: &DatabaseConnection, cursor: Option<Cursor>) -> AppResult<()> {
        let still = match cursor {
            Some(cursor) => feeds::advance(db, &self.feed.id, self.token, cursor).await?,
            None => feeds::renew(db, &self.feed.id, self.token).await?,
        };
        if still {
            Ok(())
        } else {
            Err(AppError::Unavailable(
                "this pull's lease on the feed ran out and another pull took it".into(),
            ))
        }
    }
}

/// The pull itself, with the feed held.
async fn pull_held(
    db: &DatabaseConnection,
    authority: &authority::Model,
    held: Held<'_>,
    options: &Options,
    report: &mut SyncReport,
) -> AppResult<Ended> {
    let feed = held.feed;
    let stored = Cursor::stored(feed);
    let mut cursor = stored.unwrap_or_else(|| fresh_cursor(feed, options, Utc::now()));
    report.full = cursor.full;
    report.since = cursor.since;
    report.started_at = Some(cursor.started_at);
    report.resumed_at = stored.map(|c| c.page);
    let namespace = uuid::Uuid::parse_str(&feed.id).map_err(AppError::internal)?;
    let client = Client::new(&feed.url, options.timeout, options.retries, options.backoff)
        .map_err(AppError::internal)?;
    // What a record fetched now is stamped with.
    let pulled_now = || Pulled {
        feed_id: feed.id.clone(),
        url: feed.url.clone(),
        namespace,
        fetched_at: Utc::now(),
    };
    let bar = super::progress(0, "services");
    let mut listed: HashSet<String> = HashSet::new();
    let mut previous: Vec<String> = Vec::new();
    held.renew(db, Some(cursor)).await?;
    let mut fetched = client
        .page(cursor.page, options.per_page, cursor.since)
        .await;
    loop {
        report.retried = client.retried();
        let page = match fetched {
            Ok(page) => page,
            Err(error) => {
                bar.finish_and_clear();
                return Ok(Ended::Stopped { error });
            }
        };
        if let Some(total) = page.total_items {
            bar.set_length(total);
        }
        // An API that ignores `page` answers the same page for ever.
        let ids = page.listed;
        if !ids.is_empty() && ids == previous {
            bar.finish_and_clear();
            let error = format!(
                "page {} repeats page {} (does the API read `page`?)",
                cursor.page,
                cursor.page - 1
            );
            return Ok(Ended::Stopped { error });
        }
        let pulled = pulled_now();
        // The next page is read while this one is written: the publisher and the
        // database work at once.
        let ahead = async {
            match page.last {
                true => None,
                false => Some(
                    client
                        .page(cursor.page + 1, options.per_page, cursor.since)
                        .await,
                ),
            }
        };
        let (landed, ahead) =
            tokio::join!(import_pulled(db, &page.records, authority, &pulled), ahead);
        report.import.merge(landed?);
        report
            .import
            .failed
            .extend(page.unreadable.into_iter().map(|(id, why)| {
                let problem = FieldError {
                    path: "id".into(),
                    message: why,
                };
                (id, problem)
            }));
        listed.extend(ids.iter().cloned());
        report.pages += 1;
        bar.inc(ids.len() as u64);
        previous = ids;
        let Some(ahead) = ahead else {
            break;
        };
        cursor.page += 1;
        held.renew(db, Some(cursor)).await?;
        fetched = ahead;
    }
    bar.finish_and_clear();
    // A full pull resumed in another run has not seen the pages read before it
    // stopped: the next full pull settles what is absent.
    let full = cursor.full && stored.is_none();
    if cursor.full && !full {
        report.notes.push(
            "a full pull resumed part way: services it no longer lists are retired by the next full pull"
                .to_string(),
        );
    }
    if full {
        let pulled = pulled_now();
        retire_absent(db, authority, held, &client, &pulled, &listed, report).await?;
        report.retried = client.retried();
    }
    Ok(Ended::Complete {
        started_at: cursor.started_at,
        full,
    })
}

/// Where a new pull starts: every service the first time and every `full_every`,
/// else what changed since the last good pull.
fn fresh_cursor(feed: &entity::feed::Model, options: &Options, now: DateTime<Utc>) -> Cursor {
    let full = match (feed.last_good_pull_at, feed.last_full_pull_at) {
        (Some(_), Some(full_at)) => now - full_at >= options.full_every,
        _ => true,
    };
    let since = match (full, feed.last_good_pull_at) {
        (false, Some(good)) => Some(good - chrono::Duration::minutes(CLOCK_MARGIN_MINUTES)),
        _ => None,
    };
    Cursor {
        page: 1,
        full,
        started_at: now,
        since,
    }
}

pub(super) fn source_id(record: &Value) -> Option<String> {
    let id = record.get("id")?.as_str()?.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// After a full pull: retire the feed's services it did not list, once the API
/// confirms each is gone (404); one it still has (it moved between pages while
/// they were read) is imported instead.
async fn retire_absent(
    db: &DatabaseConnection,
    authority: &authority::Model,
    held: Held<'_>,
    client: &Client,
    pulled: &Pulled,
    listed: &HashSet<String>,
    report: &mut SyncReport,
) -> AppResult<()> {
    let live = feeds::live_services(db, &pulled.feed_id).await?;
    let absent: Vec<(String, String)> = live
        .into_iter()
        .filter(|(_, source)| !listed.contains(source))
        .collect();
    let mut gone = Vec::new();
    for (service_id, source) in absent {
        held.renew(db, None).await?;
        match client.service(&source).await {
            Ok(None) => gone.push(service_id),
            Ok(Some(record)) => {
                let landed = import_pulled(db, &[record], authority, pulled).await?;
                report.import.merge(landed);
            }
            Err(why) => report.notes.push(format!(
                "kept service {source}: could not ask for it ({why})"
            )),
        }
    }
    if gone.is_empty() {
        return Ok(());
    }
    let txn = crate::db::begin_write(db).await?;
    let actor = format!("feed:{}", pulled.url);
    report.retired += bulk::retire(&txn, &gone, &actor, Utc::now()).await?;
    txn.commit().await?;
    Ok(())
}

/// Pull, then propose the duplicate candidates what it wrote makes with other
/// sources (`import::match_duplicates`; `search` is read if given).
pub async fn pull_and_match(
    db: &DatabaseConnection,
    search: Option<&SearchHandle>,
    authority: &authority::Model,
    url: &str,
    options: &Options,
) -> AppResult<SyncReport> {
    let mut report = pull(db, authority, url, options).await?;
    if let Some(since) = report.started_at {
        let source = Source::Feed(report.feed_id.clone());
        report.matched = Some(super::match_duplicates(db, search, &source, since).await?);
    }
    Ok(report)
}

/// Pull (and match) now and then every `every`, for as long as the process runs;
/// `after` hears each outcome. A feed another process is pulling is left to it
/// until next time.
pub async fn keep_pulling(
    db: DatabaseConnection,
    search: SearchHandle,
    authority: authority::Model,
    url: String,
    every: Duration,
    options: Options,
    mut after: impl FnMut(&AppResult<SyncReport>),
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let outcome = pull_and_match(&db, Some(&search), &authority, &url, &options).await;
        after(&outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(good: Option<i64>, full: Option<i64>) -> entity::feed::Model {
        let at = |hours: Option<i64>| hours.map(|h| Utc::now() - chrono::Duration::hours(h));
        entity::feed::Model {
            id: uuid::Uuid::nil().to_string(),
            authority_id: 1,
            url: "https://example.org/api".into(),
            created_at: Utc::now(),
            last_pull_at: None,
            last_good_pull_at: at(good),
            last_full_pull_at: at(full),
            last_error: None,
            resume_page: None,
            resume_full: None,
            resume_started_at: None,
            resume_since: None,
            locked_until: None,
            lease_holder: None,
        }
    }

    #[test]
    fn a_first_pull_is_full_and_later_ones_ask_for_changes_until_a_full_one_is_due() {
        let options = Options::default();
        let now = Utc::now();
        let first = fresh_cursor(&feed(None, None), &options, now);
        assert!(first.full && first.since.is_none());
        let later = fresh_cursor(&feed(Some(1), Some(2)), &options, now);
        assert!(!later.full);
        let since = later.since.unwrap();
        assert!(since < now - chrono::Duration::hours(1));
        assert!(since > now - chrono::Duration::hours(2));
        let due = fresh_cursor(&feed(Some(1), Some(25)), &options, now);
        assert!(due.full && due.since.is_none());
    }
}
