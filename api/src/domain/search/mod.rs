//! Search: "what near my client is suitable for them, has space, and why?".
//! Candidates come from the in-process index (`index`), which follows the database
//! (`load`); each is filtered and assessed (`eligibility`), then ordered: suitable
//! first, then by distance (services reached by area or remotely after those with a
//! distance), then by fewer unknowns, then by id. Cursors carry that sort key, so
//! pages of any size concatenate to the same list.

pub mod index;
pub mod load;
mod shapes;
mod verdict;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use self::index::{Reach, SearchIndex};
use super::Policy;
use super::codes::CapacityStatus;
use super::eligibility::{self, Fit, Outcome, Person, Reason};
use super::paging::{self, Page};
use crate::error::{AppError, AppResult};
use crate::snapshot;
use crate::spatial::Coordinates;

/// Services loaded per page at start-up.
const LOAD_PAGE: u64 = 5000;

/// How far back each follow-up looks, so a write that commits late is still seen.
const LAG: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// What the index has applied, to follow the database by `updated_at`. A write
/// stamped more than `LAG` before a scan began has committed by then, so each scan
/// looks back only `LAG` from the previous one: the re-scan stays small however
/// long nothing changes.
#[derive(Default)]
struct Follow {
    /// When the previous scan (or the start-up load) began.
    scanned_at: Option<DateTime<Utc>>,
    applied: HashMap<String, DateTime<Utc>>,
    areas: usize,
}

impl Follow {
    /// Follow on from a whole index read as of `scanned_at` (from the database or a
    /// snapshot). What it holds need not be read again when the first follow-up looks
    /// back over the lag window (right after a big import, that is everything).
    fn begin(&mut self, scanned_at: DateTime<Utc>, areas: usize, entries: &[Vec<index::Entry>]) {
        self.scanned_at = Some(scanned_at);
        self.areas = areas;
        for entry in entries.iter().flatten() {
            if entry.updated_at >= scanned_at - LAG {
                self.applied.insert(entry.id.clone(), entry.updated_at);
            }
        }
    }
}

/// Why the index could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The shared index with what it takes to keep it current.
#[derive(Clone)]
pub struct SearchHandle {
    index: Arc<RwLock<SearchIndex>>,
    follow: Arc<tokio::sync::Mutex<Follow>>,
    policy: Policy,
    /// Where the index is saved between runs (`snapshot`), if anywhere; the lock
    /// keeps two saves from writing at once.
    snapshot: Option<Arc<Path>>,
    saving: Arc<tokio::sync::Mutex<()>>,
    opened: Opened,
}

/// Where the index came from when the process started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opened {
    /// Every listing read from the database.
    Database,
    /// The snapshot, then these many changed services reloaded.
    Snapshot { changed: usize },
}

impl SearchHandle {
    fn new(policy: Policy, snapshot: Option<&Path>) -> Self {
        Self {
            index: Arc::default(),
            follow: Arc::default(),
            policy,
            snapshot: snapshot.map(Arc::from),
            saving: Arc::default(),
            opened: Opened::Database,
        }
    }

    pub fn opened(&self) -> Opened {
        self.opened
    }

    /// The index for `db`: restored from the snapshot at `snapshot` when one was
    /// written from this database (then brought up to date with what changed since),
    /// otherwise read from the database in full and saved there in the background,
    /// for the next start.
    pub async fn open(
        db: &DatabaseConnection,
        policy: Policy,
        snapshot: Option<&Path>,
    ) -> Result<Self, DbErr> {
        let mut handle = Self::new(policy, snapshot);
        let Some(path) = snapshot else {
            handle.load_all(db).await?;
            return Ok(handle);
        };
        match handle.restore(db, path).await? {
            Ok(changed) => {
                tracing::info!(path = %path.display(), changed, "search index restored from its snapshot");
                handle.opened = Opened::Snapshot { changed };
                return Ok(handle);
            }
            Err(why) => {
                tracing::info!(path = %path.display(), %why, "search index snapshot not used: reading the database");
            }
        }
        let handle = Self::new(policy, snapshot);
        handle.load_all(db).await?;
        let (saver, db) = (handle.clone(), db.clone());
        tokio::spawn(async move { saver.save_logged(&db).await });
        Ok(handle)
    }

    /// Fill the index from every searchable service in the database.
    async fn load_all(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let started = Utc::now();
        let mut entries = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let ids = load::searchable_ids(db, after.as_deref(), LOAD_PAGE).await?;
            let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
                break;
            };
            entries.push(load::entries(db, load::Scope::Range(first, last), self.policy).await?);
            after = Some(last.clone());
        }
        // Read in id order; held in `Entry::locality` order (the snapshot keeps it).
        let entries = tokio::task::spawn_blocking(move || {
            let mut all = Vec::with_capacity(entries.iter().map(Vec::len).sum());
            all.extend(entries.into_iter().flatten());
            all.sort_by_cached_key(index::Entry::locality);
            vec![all]
        })
        .await
        .map_err(|e| DbErr::Custom(format!("ordering the search index failed: {e}")))?;
        let areas = load::areas(db).await?;
        self.follow
            .lock()
            .await
            .begin(started, areas.len(), &entries);
        self.fill(db, entries, areas).await
    }

    /// Replace the index with one holding these entries and areas (and the current
    /// terms), built off the async threads and swapped in whole.
    async fn fill(
        &self,
        db: &DatabaseConnection,
        entries: Vec<Vec<index::Entry>>,
        areas: Vec<index::Area>,
    ) -> Result<(), DbErr> {
        let terms = crate::domain::taxonomy::all_terms(db).await?;
        let built = tokio::task::spawn_blocking(move || {
            let mut index = SearchIndex::default();
            index.rebuild(entries);
            index.set_terms(terms);
            index.set_areas(areas);
            index
        })
        .await
        .map_err(|e| DbErr::Custom(format!("building the search index failed: {e}")))?;
        *self.write() = built;
        Ok(())
    }

    /// Fill the index from the snapshot at `path` and catch up with the database.
    /// The outer error is the database's; the inner says why the snapshot was not
    /// usable (the caller then reads the database in full).
    async fn restore(
        &self,
        db: &DatabaseConnection,
        path: &Path,
    ) -> Result<Result<usize, snapshot::Refused>, DbErr> {
        use snapshot::Refused;
        let header = match snapshot::read_header(path) {
            Ok(header) => header,
            Err(why) => return Ok(Err(why)),
        };
        let expected = snapshot::Header {
            format: snapshot::FORMAT,
            database: crate::db::instance_id(db).await?,
            capacity_expiry_days: self.policy.capacity_expiry_days,
            ..header.clone()
        };
        if header != expected {
            return Ok(Err(Refused::Mismatch));
        }
        // A database restored to an earlier state has lost changes the file holds.
        if load::newest_change(db).await? < header.newest_change {
            return Ok(Err(Refused::Mismatch));
        }
        let started = std::time::Instant::now();
        let file = path.to_path_buf();
        let entries = match tokio::task::spawn_blocking(move || {
            snapshot::read::<index::Entry>(&file, &expected)
        })
        .await
        {
            Ok(Ok(entries)) => entries,
            Ok(Err(why)) => return Ok(Err(why)),
            Err(_) => return Ok(Err(Refused::Damaged("reader panicked".into()))),
        };
        let read = started.elapsed();
        let areas = load::areas(db).await?;
        self.follow
            .lock()
            .await
            .begin(header.scanned_at, areas.len(), &entries);
        self.fill(db, entries, areas).await?;
        let indexed = started.elapsed() - read;
        let changed = self.sync(db).await?;
        let counted = load::searchable_count(db).await?;
        let held = self.read().len();
        if held != counted {
            return Ok(Err(Refused::Damaged(format!(
                "{held} services after catching up, the database has {counted}"
            ))));
        }
        tracing::info!(
            read_seconds = read.as_secs_f64(),
            index_seconds = indexed.as_secs_f64(),
            catch_up_seconds = (started.elapsed() - read - indexed).as_secs_f64(),
            "search index snapshot read"
        );
        Ok(Ok(changed))
    }

    /// Save the index to its snapshot file, if it has one. Searches go on meanwhile;
    /// changes wait for the save (about a second at 1M services).
    pub async fn save(&self, db: &DatabaseConnection) -> Result<(), SaveError> {
        let Some(path) = self.snapshot.clone() else {
            return Ok(());
        };
        let _one_at_a_time = self.saving.lock().await;
        // Every writer (`sync`, `refresh`) takes `follow` before the index: holding it
        // for the save keeps the index still while it is read a chunk at a time
        // (searches go on), so no service is written twice, from two slots.
        let frozen = self.follow.clone().lock_owned().await;
        let Some(scanned_at) = frozen.scanned_at else {
            return Ok(());
        };
        let header = snapshot::Header {
            format: snapshot::FORMAT,
            database: crate::db::instance_id(db).await?,
            capacity_expiry_days: self.policy.capacity_expiry_days,
            scanned_at,
            newest_change: load::newest_change(db).await?,
        };
        let handle = self.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let _frozen = frozen;
            let mut writer = snapshot::Writer::create(&path, &header)?;
            let mut start = 0;
            loop {
                let chunk = {
                    let index = handle.read();
                    if start >= index.slot_count() {
                        break;
                    }
                    let end = (start + snapshot::CHUNK).min(index.slot_count());
                    let entries: Vec<_> = (start..end)
                        .filter_map(|slot| index.entry(slot as u32))
                        .collect();
                    start = end;
                    snapshot::Chunk::encode(&entries)?
                };
                writer.chunk(chunk)?;
            }
            writer.finish()
        })
        .await
        .map_err(|_| SaveError::Io(std::io::Error::other("snapshot writer panicked")))??;
        Ok(())
    }

    /// `save`, with the outcome logged (for background saves).
    pub async fn save_logged(&self, db: &DatabaseConnection) {
        let started = std::time::Instant::now();
        match self.save(db).await {
            Ok(()) if self.snapshot.is_some() => tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "search index snapshot saved"
            ),
            Ok(()) => {}
            Err(e) => tracing::warn!(cause = %e, "search index snapshot not saved"),
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, SearchIndex> {
        // A panic while writing cannot leave the index half-built (writes are single
        // calls), so a poisoned lock is still safe to read.
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, SearchIndex> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Apply what changed in the database since the last call. Returns how many
    /// services were reloaded.
    pub async fn sync(&self, db: &DatabaseConnection) -> Result<usize, DbErr> {
        let mut follow = self.follow.lock().await;
        let scan_started = Utc::now();
        let since = follow.scanned_at.unwrap_or(DateTime::<Utc>::MIN_UTC) - LAG;
        let changed: Vec<(String, DateTime<Utc>)> = load::changed_since(db, since)
            .await?
            .into_iter()
            .filter(|(id, at)| follow.applied.get(id) != Some(at))
            .collect();
        let area_count = load::area_count(db).await?;
        if area_count != follow.areas {
            let areas = load::areas(db).await?;
            follow.areas = area_count;
            self.write().set_areas(areas);
        }
        if changed.is_empty() {
            follow.scanned_at = Some(scan_started);
            follow.applied.retain(|_, at| *at >= scan_started - LAG);
            return Ok(0);
        }
        let ids: Vec<String> = changed.iter().map(|(id, _)| id.clone()).collect();
        let entries = load::entries(db, load::Scope::Ids(&ids), self.policy).await?;
        let terms = crate::domain::taxonomy::all_terms(db).await?;
        {
            let mut index = self.write();
            for id in &ids {
                index.remove(id);
            }
            for entry in entries {
                index.upsert(entry);
            }
            index.set_terms(terms);
        }
        follow.applied.extend(changed);
        follow.scanned_at = Some(scan_started);
        follow.applied.retain(|_, at| *at >= scan_started - LAG);
        Ok(ids.len())
    }

    /// Reload these services now: a write in this process is searchable as soon as
    /// it commits, without waiting for the follower.
    pub async fn refresh(&self, db: &DatabaseConnection, ids: &[String]) -> Result<(), DbErr> {
        let mut follow = self.follow.lock().await;
        let entries = load::entries(db, load::Scope::Ids(ids), self.policy).await?;
        let mut index = self.write();
        for id in ids {
            index.remove(id);
        }
        for entry in entries {
            // The follower need not reload what is applied here.
            follow.applied.insert(entry.id.clone(), entry.updated_at);
            index.upsert(entry);
        }
        Ok(())
    }

    /// Keep following the database in the background (other processes and replicas
    /// write too).
    pub fn follow(self, db: DatabaseConnection, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.sync(&db).await {
                    tracing::warn!(cause = %e, "search index could not follow the database");
                }
            }
        })
    }
}

/// A search, validated.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    pub near: Coordinates,
    pub radius_metres: f64,
    pub taxonomy_terms: Vec<String>,
    pub text: Option<String>,
    pub person: Person,
    pub capacity: Option<Vec<CapacityStatus>>,
    pub verified_within_days: Option<u32>,
    pub include_unsuitable: bool,
}

/// How a found service reaches the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReachKind {
    AtLocation,
    ServiceArea,
    Remote,
}

/// One result.
#[derive(Clone, Debug)]
pub struct Found {
    pub service_id: String,
    pub name: String,
    pub distance_metres: Option<f64>,
    pub reach: ReachKind,
    pub nearest_location_id: Option<String>,
    pub fit: Fit,
    pub cursor: String,
}

/// A page of results.
#[derive(Debug)]
pub struct Results {
    pub found: Vec<Found>,
    pub has_next: bool,
    /// Suitable services in reach, over all pages: the demand signal's figure.
    pub suitable_total: usize,
}

/// Sort key: suitable first, then distance (none last), fewer unknowns, id. Ranking
/// borrows ids from the index (`Key<&str>`); a decoded cursor owns its id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key<I> {
    unsuitable: bool,
    millimetres: u64,
    unknowns: u32,
    id: I,
}

impl<I: AsRef<str>> Key<I> {
    fn borrowed(&self) -> Key<&str> {
        Key {
            unsuitable: self.unsuitable,
            millimetres: self.millimetres,
            unknowns: self.unknowns,
            id: self.id.as_ref(),
        }
    }

    fn encode(&self) -> String {
        paging::encode_cursor(&format!(
            "{}:{}:{}:{}",
            u8::from(self.unsuitable),
            self.millimetres,
            self.unknowns,
            self.id.as_ref()
        ))
    }
}

impl Key<String> {
    fn decode(raw: &str) -> AppResult<Self> {
        let bad = || AppError::bad_input("after", "not a cursor from this search");
        let mut parts = raw.splitn(4, ':');
        let mut next = || parts.next().ok_or_else(bad);
        let unsuitable = match next()? {
            "0" => false,
            "1" => true,
            _ => return Err(bad()),
        };
        let millimetres = next()?.parse().map_err(|_| bad())?;
        let unknowns = next()?.parse().map_err(|_| bad())?;
        let id = next()?.to_string();
        Ok(Self {
            unsuitable,
            millimetres,
            unknowns,
            id,
        })
    }
}

/// The coarse cell recorded as demand when no loaded area contains the point
/// (a tenth of a degree: about 11 km north–south), never the point itself.
pub fn grid_cell(at: Coordinates) -> String {
    format!(
        "grid:{:.1}:{:.1}",
        (at.latitude * 10.0).floor() / 10.0,
        (at.longitude * 10.0).floor() / 10.0
    )
}

/// Fit of one entry into `reasons` (a buffer reused across candidates): the
/// person's criteria, plus residency, which depends on where the search is (a
/// listing restricted to residents of an area that is not loaded reads UNKNOWN).
fn assess_into(
    index: &SearchIndex,
    request: &SearchRequest,
    entry: &index::Entry,
    today: chrono::NaiveDate,
    explain: bool,
    reasons: &mut Vec<Reason>,
) {
    eligibility::assess_into(&request.person, &entry.listing, today, explain, reasons);
    if let Some(code) = &entry.residency_area {
        let inside = index.resident(code, request.near);
        reasons.push(eligibility::residency(code, inside, explain));
    }
}

/// A service in reach that passed the filters, before its distance is exact.
struct Candidate {
    unsuitable: bool,
    unknowns: u32,
    slot: u32,
    reach: Reach,
}

/// Millimetres for the sort key: rounded when exact; `floor` and `ceil` bound it
/// from a rough distance's low and high ends. No distance (`f64::MAX`, see
/// `Reach::low`) saturates to `u64::MAX`, so it sorts last.
fn millimetres(metres: f64, round: fn(f64) -> f64) -> u64 {
    round(metres * 1000.0) as u64
}

/// Run a search over the index.
pub fn run(
    index: &SearchIndex,
    request: &SearchRequest,
    page: &Page,
    now: DateTime<Utc>,
) -> AppResult<Results> {
    let wanted_terms = if request.taxonomy_terms.is_empty() {
        None
    } else {
        let terms = index
            .expand_terms(&request.taxonomy_terms)
            .map_err(|unknown| {
                AppError::bad_input(
                    "input.taxonomyTerms",
                    format!("unknown taxonomy term: {}", unknown.join(", ")),
                )
            })?;
        Some(terms)
    };
    let after = page.after.as_deref().map(Key::decode).transpose()?;
    let text = request
        .text
        .as_deref()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    // Days beyond the calendar's range mean "verified ever", not an overflow.
    let verified_after = request.verified_within_days.map(|d| {
        now.checked_sub_signed(chrono::TimeDelta::days(i64::from(d)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    });
    let today = now.date_naive();

    // Categories are settled by `reach_rough`; most searches filter on nothing else
    // the compact rules do not hold, and then no candidate's entry is read until the
    // page is chosen.
    let reads_entries = text.is_some() || request.capacity.is_some() || verified_after.is_some();
    let keep = |slot: u32| {
        if !reads_entries {
            return true;
        }
        index.entry(slot).is_some_and(|entry| {
            text.as_deref().is_none_or(|text| entry.text.contains(text))
                && request
                    .capacity
                    .as_ref()
                    .is_none_or(|statuses| statuses.contains(&entry.capacity_status(now)))
                && verified_after
                    .is_none_or(|after| entry.last_verified_at.is_some_and(|v| v >= after))
        })
    };
    let probe = index.probe(&request.person, today);
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut reasons = Vec::new();
    let mut suitable_total = 0;
    for (slot, reach) in index.reach_rough(
        request.near,
        request.radius_metres,
        wanted_terms.as_ref(),
        keep,
    ) {
        let verdict = index.verdict(slot, &probe).or_else(|| {
            let entry = index.entry(slot)?;
            assess_into(index, request, entry, today, false, &mut reasons);
            let unknowns = reasons.iter().filter(|r| r.outcome == Outcome::Unknown);
            Some((
                reasons.iter().all(|r| r.outcome != Outcome::NotMet),
                unknowns.count() as u32,
            ))
        });
        let Some((suitable, unknowns)) = verdict else {
            continue;
        };
        if suitable {
            suitable_total += 1;
        } else if !request.include_unsuitable {
            continue;
        }
        candidates.push(Candidate {
            unsuitable: !suitable,
            unknowns,
            slot,
            reach,
        });
    }

    // Walk the candidates by the least each key can be (suitable first, then the low
    // end of the distance), making distances exact as they come: once the next
    // candidate's least key is past the last key of a full page, nothing further can
    // enter it, so only about a page of geodesics is computed however many are in range.
    candidates.sort_unstable_by(|a, b| {
        (a.unsuitable.cmp(&b.unsuitable)).then(a.reach.low().total_cmp(&b.reach.low()))
    });
    let wanted = page.first + 1;
    let mut best: Vec<(Key<&str>, u32, Reach)> = Vec::with_capacity(wanted + 1);
    for candidate in &candidates {
        let least = (
            candidate.unsuitable,
            millimetres(candidate.reach.low(), f64::floor),
        );
        if best.len() == wanted
            && best
                .last()
                .is_some_and(|(last, ..)| least > (last.unsuitable, last.millimetres))
        {
            break;
        }
        if let Some(after) = &after {
            let most = (
                candidate.unsuitable,
                millimetres(candidate.reach.high(), f64::ceil),
            );
            if most < (after.unsuitable, after.millimetres) {
                continue;
            }
        }
        let Some(entry) = index.entry(candidate.slot) else {
            continue;
        };
        let reach = index.exact(request.near, candidate.slot, candidate.reach);
        let key = Key {
            unsuitable: candidate.unsuitable,
            millimetres: millimetres(reach.metres().unwrap_or(f64::MAX), f64::round),
            unknowns: candidate.unknowns,
            id: entry.id.as_str(),
        };
        if after.as_ref().is_some_and(|after| key <= after.borrowed()) {
            continue;
        }
        let at = best.partition_point(|(k, ..)| *k < key);
        best.insert(at, (key, candidate.slot, reach));
        best.truncate(wanted);
    }
    let has_next = best.len() > page.first;
    let found = best
        .into_iter()
        .take(page.first)
        .filter_map(|(key, slot, reach)| {
            let entry = index.entry(slot)?;
            // Now write the sentences, for the page only.
            let mut reasons = Vec::new();
            assess_into(index, request, entry, today, true, &mut reasons);
            let (distance_metres, reach, nearest_location_id) = match reach {
                Reach::AtLocation(metres, i) => (
                    Some(metres.metres),
                    ReachKind::AtLocation,
                    entry.locations.get(i as usize).map(|(id, _)| id.clone()),
                ),
                Reach::ServiceArea => (None, ReachKind::ServiceArea, None),
                Reach::Remote => (None, ReachKind::Remote, None),
            };
            Some(Found {
                service_id: entry.id.clone(),
                name: entry.name.clone(),
                distance_metres,
                reach,
                nearest_location_id,
                fit: Fit::from_reasons(reasons),
                cursor: key.encode(),
            })
        })
        .collect();
    Ok(Results {
        found,
        has_next,
        suitable_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_keys_round_trip_and_order_suitable_then_distance_then_unknowns_then_id() {
        let key = |u, mm, unk, id: &str| Key {
            unsuitable: u,
            millimetres: mm,
            unknowns: unk,
            id: id.into(),
        };
        let k = key(false, 1200, 2, "svc:with:colons");
        let decoded = paging::decode_cursor(&k.encode()).and_then(|raw| Key::decode(&raw));
        assert_eq!(decoded.ok(), Some(k));
        let mut keys = [
            key(true, 1, 0, "a"),
            key(false, u64::MAX, 0, "b"),
            key(false, 5, 1, "c"),
            key(false, 5, 0, "d"),
        ];
        keys.sort();
        let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids, ["d", "c", "b", "a"]);
    }

    fn entry(id: String, at: Coordinates, minimum_age: Option<f64>) -> index::Entry {
        let mut entry = index::tests::entry(&id, &[], at);
        entry.listing.minimum_age = minimum_age;
        entry
    }

    /// Pages of every size, walked with cursors, against all in-range services
    /// sorted by their exact geodesic distance: the rough-first ranking must never
    /// change the order or the set, even where rough and exact disagree.
    #[test]
    fn ranking_by_rough_distances_pages_exactly_as_a_full_exact_sort() {
        let near = Coordinates::new(53.45, -2.3).unwrap_or_else(|_| unreachable!());
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut entries = Vec::new();
        for i in 0..400 {
            // A ring of near-equal distances in every direction (where the sphere
            // and the ellipsoid disagree most about order), ties, and a scatter.
            let (metres, bearing) = match i % 4 {
                0 => (2000.0 + next() * 5.0, next() * std::f64::consts::TAU),
                1 => (1500.0, f64::from(i % 3) * 2.0),
                _ => (next() * 5200.0, next() * std::f64::consts::TAU),
            };
            let at = Coordinates::new(
                near.latitude + metres * bearing.cos() / 111_200.0,
                near.longitude
                    + metres * bearing.sin() / (111_200.0 * near.latitude.to_radians().cos()),
            )
            .unwrap_or_else(|_| unreachable!());
            let minimum_age = (i % 5 == 0).then_some(60.0);
            entries.push(entry(format!("s{i:03}"), at, minimum_age));
        }
        let mut expected: Vec<(bool, u64, String)> = entries
            .iter()
            .map(|e| {
                let m = near.distance_metres(e.locations[0].1);
                (
                    e.listing.minimum_age.is_some(),
                    (m * 1000.0).round() as u64,
                    e.id.clone(),
                    m,
                )
            })
            .filter(|(.., m)| *m <= 5000.0)
            .map(|(u, mm, id, _)| (u, mm, id))
            .collect();
        expected.sort();
        let mut index = SearchIndex::default();
        index.rebuild(vec![entries]);
        let request = SearchRequest {
            near,
            radius_metres: 5000.0,
            taxonomy_terms: vec![],
            text: None,
            person: Person {
                age: Some(30.0),
                ..Default::default()
            },
            capacity: None,
            verified_within_days: None,
            include_unsuitable: true,
        };
        for size in [1, 3, 7, 20, 100] {
            let mut got = Vec::new();
            let mut after = None;
            loop {
                let page = Page {
                    first: size,
                    after: after.take(),
                };
                let results =
                    run(&index, &request, &page, Utc::now()).unwrap_or_else(|e| panic!("{e:?}"));
                for found in &results.found {
                    let mm = (found.distance_metres.unwrap_or(f64::NAN) * 1000.0).round() as u64;
                    got.push((!found.fit.suitable, mm, found.service_id.clone()));
                }
                match results.found.last() {
                    Some(last) if results.has_next => {
                        after = paging::decode_cursor(&last.cursor).ok()
                    }
                    _ => break,
                }
            }
            assert_eq!(got, expected, "pages of {size}");
        }
    }

    /// A service with several locations at near-equal distances in different
    /// directions (where rough and exact disagree about which is nearest) reports the
    /// exact distance to its truly nearest one.
    #[test]
    fn the_nearest_of_a_services_locations_is_decided_by_exact_distance() {
        let near = Coordinates::new(53.45, -2.3).unwrap_or_else(|_| unreachable!());
        let mut entries = Vec::new();
        for i in 0..50 {
            let mut e = entry(format!("m{i:02}"), near, None);
            e.locations = (0..6)
                .map(|k| {
                    let bearing = f64::from(k) * 1.047 + f64::from(i) * 0.01;
                    let metres = 3000.0 + f64::from(k) * 2.0;
                    let at = Coordinates::new(
                        near.latitude + metres * bearing.cos() / 111_200.0,
                        near.longitude
                            + metres * bearing.sin()
                                / (111_200.0 * near.latitude.to_radians().cos()),
                    )
                    .unwrap_or_else(|_| unreachable!());
                    (format!("m{i:02}-{k}"), at)
                })
                .collect();
            entries.push(e);
        }
        let truth: Vec<f64> = entries
            .iter()
            .map(|e| {
                e.locations
                    .iter()
                    .map(|(_, c)| near.distance_metres(*c))
                    .fold(f64::MAX, f64::min)
            })
            .collect();
        let mut index = SearchIndex::default();
        index.rebuild(vec![entries]);
        let mut found = index.reach(near, 5000.0, None, |_| true);
        found.sort_by_key(|(slot, _)| *slot);
        assert_eq!(found.len(), truth.len());
        for ((_, reach), expected) in found.iter().zip(&truth) {
            assert_eq!(reach.metres(), Some(*expected));
        }
    }

    #[test]
    fn demand_is_placed_in_a_coarse_cell_never_at_the_point() {
        let at = Coordinates {
            latitude: 53.4567,
            longitude: -2.3456,
        };
        assert_eq!(grid_cell(at), "grid:53.4:-2.4");
    }
}
