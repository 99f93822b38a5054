//! The live search index: opened from a snapshot file or read whole from the
//! database, then kept current by following the database (`sync`, `follow`) and by
//! the writes this process makes (`refresh`), and saved for the next start (`save`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use super::index::{self, SearchIndex};
use super::load;
use crate::domain::Policy;
use crate::snapshot;

/// Services loaded per page at start-up.
const LOAD_PAGE: u64 = 5000;
/// Pages read at once at start-up (each reads its parts on several connections).
const PAGES_IN_FLIGHT: usize = 3;

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
    /// The snapshot file holds the services the index holds: a stop then need not
    /// write it again (a rewrite of hundreds of megabytes that the next start would
    /// read while the disk still flushes it).
    saved: bool,
}

impl Follow {
    /// Follow on from a whole index read as of `scanned_at` (from the database or a
    /// snapshot). What it holds need not be read again when the first follow-up looks
    /// back over the lag window (right after a big import, that is everything).
    fn begin(&mut self, scanned_at: DateTime<Utc>, areas: usize, entries: &[Vec<index::Entry>]) {
        self.scanned_at = Some(scanned_at);
        self.areas = areas;
        self.saved = false;
        for entry in entries.iter().flatten() {
            if entry.updated_at >= scanned_at - LAG {
                self.applied.insert(entry.id.to_string(), entry.updated_at);
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
        let loaded = |page: Result<Result<Vec<index::Entry>, DbErr>, tokio::task::JoinError>| {
            page.map_err(|e| DbErr::Custom(format!("loading a page: {e}")))?
        };
        // Pages are read a few at a time, each on its own task: decoding rows is
        // most of a load, and one task decoded on one core while the other idled.
        let mut pages = tokio::task::JoinSet::new();
        let mut entries = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let ids = load::searchable_ids(db, after.as_deref(), LOAD_PAGE).await?;
            let (Some(first), Some(last)) = (ids.first().cloned(), ids.last().cloned()) else {
                break;
            };
            after = Some(last.clone());
            let (db, policy) = (db.clone(), self.policy);
            pages.spawn(async move {
                load::entries(&db, load::Scope::Range(&first, &last), policy).await
            });
            if pages.len() >= PAGES_IN_FLIGHT
                && let Some(page) = pages.join_next().await
            {
                entries.push(loaded(page)?);
            }
        }
        while let Some(page) = pages.join_next().await {
            entries.push(loaded(page)?);
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
        let needs = crate::domain::needs::all(db).await?;
        let built = tokio::task::spawn_blocking(move || {
            let mut index = SearchIndex::default();
            index.rebuild(entries);
            index.set_terms(terms);
            index.set_needs(needs);
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
        self.follow.lock().await.saved = true;
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

    /// Save the index to its snapshot file, if it has one and the file does not
    /// already hold what the index holds. Searches go on meanwhile; changes wait for
    /// the save (about a second at 1M services). Returns whether it wrote.
    pub async fn save(&self, db: &DatabaseConnection) -> Result<bool, SaveError> {
        let Some(path) = self.snapshot.clone() else {
            return Ok(false);
        };
        let _one_at_a_time = self.saving.lock().await;
        // Every writer (`sync`, `refresh`) takes `follow` before the index: holding it
        // for the save keeps the index still while it is read a chunk at a time
        // (searches go on), so no service is written twice, from two slots.
        let mut frozen = self.follow.clone().lock_owned().await;
        let Some(scanned_at) = frozen.scanned_at else {
            return Ok(false);
        };
        if frozen.saved && path.exists() {
            return Ok(false);
        }
        let header = snapshot::Header {
            format: snapshot::FORMAT,
            database: crate::db::instance_id(db).await?,
            capacity_expiry_days: self.policy.capacity_expiry_days,
            scanned_at,
            newest_change: load::newest_change(db).await?,
        };
        let handle = self.clone();
        frozen = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            let mut writer = snapshot::Writer::create(&path, &header)?;
            let mut start = 0;
            loop {
                let chunk = {
                    let index = handle.read();
                    if start >= index.slot_count() {
                        break;
                    }
                    // A full page a chunk: a restart makes each chunk a page as it
                    // is, so pages that removals left sparse are packed again.
                    let mut entries = Vec::with_capacity(index::PAGE);
                    while start < index.slot_count() && entries.len() < index::PAGE {
                        entries.extend(index.entry(start as u32));
                        start += 1;
                    }
                    if entries.is_empty() {
                        break;
                    }
                    snapshot::Chunk::encode(&entries)?
                };
                writer.chunk(chunk)?;
            }
            writer.finish()?;
            Ok(frozen)
        })
        .await
        .map_err(|_| SaveError::Io(std::io::Error::other("snapshot writer panicked")))??;
        frozen.saved = true;
        Ok(true)
    }

    /// `save`, with the outcome logged (for background saves).
    pub async fn save_logged(&self, db: &DatabaseConnection) {
        let started = std::time::Instant::now();
        match self.save(db).await {
            Ok(true) => tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "search index snapshot saved"
            ),
            Ok(false) => {}
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
        // Vocabularies and the need map change without a service changing (`import
        // taxonomy`, `import need-map`): read them each time; they are small.
        let terms = crate::domain::taxonomy::all_terms(db).await?;
        let needs = crate::domain::needs::all(db).await?;
        {
            let mut index = self.write();
            index.set_terms(terms);
            if index.needs() != needs.as_slice() {
                index.set_needs(needs);
            }
        }
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
        {
            let mut index = self.write();
            for id in &ids {
                index.remove(id);
            }
            for entry in entries {
                index.upsert(entry);
            }
        }
        follow.saved = false;
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
        follow.saved = false;
        for id in ids {
            index.remove(id);
        }
        for entry in entries {
            // The follower need not reload what is applied here.
            follow
                .applied
                .insert(entry.id.to_string(), entry.updated_at);
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
