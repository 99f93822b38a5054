//! The search index snapshot's file format: the index's entries saved to a file, so
//! a restart reads one file instead of every listing table (at 1M services: seconds
//! instead of a minute). It knows frames, checksums and chunks of any serde type; the
//! index (`domain::search`) decides what goes in. The database
//! stays the source of truth: a snapshot is only used when it was written from this
//! same database (its instance id) under the same capacity policy and format, and the
//! caller then reloads whatever changed since it was written (`SearchHandle::open`).
//!
//! Layout: `MAGIC`, then frames (length, CRC-32, postcard bytes): the header, chunks
//! of entries, and an empty frame followed by the entry count. A file cut short lacks
//! the end, and a scribbled one fails its checksums: either is refused. Files are written beside the target and renamed into
//! place, so a crash leaves the previous snapshot (or none), never half of one.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 8] = b"SPSNAP\r\n";
/// Bump whenever `domain::search::index::Entry`, or anything it holds, changes shape:
/// older files are then refused rather than misread.
pub const FORMAT: u32 = 2;

/// What a snapshot was written from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    /// The database's instance id.
    pub database: String,
    /// Capacity expiry the entries were read with (it shapes `Entry::capacity`).
    pub capacity_expiry_days: u32,
    /// Every change stamped before this (less the follower's lag) is in the file.
    pub scanned_at: DateTime<Utc>,
    /// The newest service `updated_at` in the database when written: a database
    /// restored to an earlier state has an older one, and the file is refused.
    pub newest_change: Option<DateTime<Utc>>,
}

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("no snapshot at {0}")]
    Missing(PathBuf),
    #[error("snapshot is from another database, policy or format")]
    Mismatch,
    #[error("snapshot is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn damaged(what: impl std::fmt::Display) -> Refused {
    Refused::Damaged(what.to_string())
}

/// Some entries, encoded.
pub struct Chunk {
    count: usize,
    bytes: Vec<u8>,
}

impl Chunk {
    pub fn encode<T: Serialize>(entries: &[&T]) -> io::Result<Self> {
        Ok(Chunk {
            count: entries.len(),
            bytes: postcard::to_stdvec(entries).map_err(io::Error::other)?,
        })
    }
}

/// Writes a snapshot chunk by chunk; `finish` moves it into place. Dropped
/// unfinished (an error on the way), it removes what it wrote.
pub struct Writer {
    out: BufWriter<File>,
    temp: PathBuf,
    path: PathBuf,
    count: u64,
    finished: bool,
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

impl Writer {
    pub fn create(path: &Path, header: &Header) -> io::Result<Self> {
        // Per process and writer, in case two are (wrongly) given one path.
        static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let writer = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut temp = path.as_os_str().to_owned();
        temp.push(format!(".partial-{}-{writer}", std::process::id()));
        let temp = PathBuf::from(temp);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut writer = Writer {
            out: BufWriter::with_capacity(1 << 20, File::create(&temp)?),
            temp,
            path: path.to_path_buf(),
            count: 0,
            finished: false,
        };
        writer.out.write_all(MAGIC)?;
        writer.frame(header)?;
        Ok(writer)
    }

    fn frame<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        let bytes = postcard::to_stdvec(value).map_err(io::Error::other)?;
        self.frame_bytes(&bytes)
    }

    fn frame_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(&(bytes.len() as u64).to_le_bytes())?;
        self.out.write_all(&crc32fast::hash(bytes).to_le_bytes())?;
        self.out.write_all(bytes)
    }

    /// Append a chunk (encoded beforehand, so the index is locked only to encode).
    pub fn chunk(&mut self, chunk: Chunk) -> io::Result<()> {
        if chunk.count == 0 {
            return Ok(());
        }
        self.count += chunk.count as u64;
        self.frame_bytes(&chunk.bytes)
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.out.write_all(&0u64.to_le_bytes())?;
        self.out.write_all(&crc32fast::hash(&[]).to_le_bytes())?;
        self.out.write_all(&self.count.to_le_bytes())?;
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        std::fs::rename(&self.temp, &self.path)?;
        self.finished = true;
        Ok(())
    }
}

const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Read the header only, to decide cheaply whether the rest is worth reading.
pub fn read_header(path: &Path) -> Result<Header, Refused> {
    let mut frames = Frames::open(path)?;
    // A header is a few hundred bytes: a scribbled length must not read the file.
    let header = frames.next_at_most(MAX_HEADER_BYTES)?;
    // One that does not decode was written by another version.
    postcard::from_bytes(&header).map_err(|_| Refused::Mismatch)
}

/// Read every entry of a snapshot whose header is `expected`, in chunks. Frames are
/// read one at a time and decoded on every core as they arrive: a few frames are in
/// memory at once rather than the whole file (at 1M services, 250 MB of fresh pages
/// that the kernel zeroed first: a sixth of a restart's profile).
pub fn read<T: DeserializeOwned + Send>(
    path: &Path,
    expected: &Header,
) -> Result<Vec<Vec<T>>, Refused> {
    let mut frames = Frames::open(path)?;
    let header = frames.next_at_most(MAX_HEADER_BYTES)?;
    let header: Header = postcard::from_bytes(&header).map_err(|_| Refused::Mismatch)?;
    if &header != expected {
        return Err(Refused::Mismatch);
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (send, queue) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(workers);
    let queue = std::sync::Mutex::new(queue);
    let (read, decoded) = std::thread::scope(|scope| {
        let decoders: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| decode_from(&queue)))
            .collect();
        let read = frames.send_chunks(&send);
        drop(send);
        let decoded: Result<Vec<_>, Refused> = decoders
            .into_iter()
            .map(|decoder| decoder.join().map_err(|_| damaged("decoder panicked"))?)
            .collect();
        (read, decoded)
    });
    let count = read?;
    let mut chunks: Vec<(usize, Vec<T>)> = decoded?.into_iter().flatten().collect();
    chunks.sort_unstable_by_key(|(i, _)| *i);
    let found: usize = chunks.iter().map(|(_, c)| c.len()).sum();
    if found != count {
        return Err(damaged(format!(
            "{found} entries where the end says {count}"
        )));
    }
    Ok(chunks.into_iter().map(|(_, c)| c).collect())
}

/// Decode numbered chunks until the queue closes. A decoder that meets a bad chunk
/// keeps draining the queue (so the reader never waits on a full one) and reports it.
fn decode_from<T: DeserializeOwned>(
    queue: &std::sync::Mutex<std::sync::mpsc::Receiver<(usize, Vec<u8>)>>,
) -> Result<Vec<(usize, Vec<T>)>, Refused> {
    let mut out = Ok(Vec::new());
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return Err(damaged("decoder queue poisoned")),
        };
        let Ok((i, frame)) = next else {
            return out;
        };
        if let Ok(chunks) = out.as_mut() {
            match postcard::from_bytes::<Exact<T>>(&frame) {
                Ok(Exact(chunk)) => chunks.push((i, chunk)),
                Err(e) => out = Err(damaged(e)),
            }
        }
    }
}

/// A chunk's entries in a list of exactly their number: serde's `Vec` reserves at
/// most 1 MB up front and then doubles, which left the index's pages (`Slots`, made
/// from these lists as they are) a quarter empty: 56 MB at a million services.
struct Exact<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Exact<T> {
    fn deserialize<D: serde::Deserializer<'de>>(input: D) -> Result<Self, D::Error> {
        struct Entries<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Entries<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a chunk of entries")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Vec<T>, A::Error> {
                // The frame passed its checksum; the cap still bounds a wrong count.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(entry) = seq.next_element()? {
                    out.push(entry);
                }
                Ok(out)
            }
        }
        let entries = Entries(std::marker::PhantomData);
        input.deserialize_seq(entries).map(Exact)
    }
}

/// A snapshot file read frame by frame, each checked against its checksum, never
/// past the file's end (a scribbled length is damage, not an allocation to try).
struct Frames {
    input: io::BufReader<File>,
    left: u64,
}

impl Frames {
    /// The file, past its magic bytes.
    fn open(path: &Path) -> Result<Self, Refused> {
        let file = open(path)?;
        let left = file.metadata()?.len();
        let mut frames = Frames {
            input: io::BufReader::with_capacity(1 << 16, file),
            left,
        };
        let mut magic = [0u8; MAGIC.len()];
        frames.exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(Refused::Mismatch);
        }
        Ok(frames)
    }

    fn exact(&mut self, buf: &mut [u8]) -> Result<(), Refused> {
        if buf.len() as u64 > self.left {
            return Err(damaged("cut short"));
        }
        self.input.read_exact(buf)?;
        self.left -= buf.len() as u64;
        Ok(())
    }

    /// The next frame's body (empty for the end marker).
    fn next(&mut self) -> Result<Vec<u8>, Refused> {
        self.next_at_most(u64::MAX)
    }

    /// The next frame's body, refused when longer than `most` bytes.
    fn next_at_most(&mut self, most: u64) -> Result<Vec<u8>, Refused> {
        let mut head = [0u8; FRAME_HEAD];
        self.exact(&mut head)?;
        let len = frame_len(&head[..8])?;
        if len as u64 > self.left {
            return Err(damaged("cut short"));
        }
        if len as u64 > most {
            return Err(damaged("a frame is longer than it can be"));
        }
        let mut body = vec![0; len];
        self.exact(&mut body)?;
        if crc32fast::hash(&body).to_le_bytes() != head[8..] {
            return Err(damaged("checksum does not match"));
        }
        Ok(body)
    }

    /// Send each chunk, numbered, up to the end marker; then the entry count after it.
    fn send_chunks(
        &mut self,
        send: &std::sync::mpsc::SyncSender<(usize, Vec<u8>)>,
    ) -> Result<usize, Refused> {
        for i in 0.. {
            let frame = self.next()?;
            if frame.is_empty() {
                break;
            }
            send.send((i, frame))
                .map_err(|_| damaged("decoders stopped"))?;
        }
        let mut count = [0u8; 8];
        self.exact(&mut count)?;
        if self.left != 0 {
            return Err(damaged("bytes after the end"));
        }
        frame_len(&count)
    }
}

fn open(path: &Path) -> Result<File, Refused> {
    File::open(path).map_err(|e| opened(path, e))
}

/// Why a file could not be opened or read.
fn opened(path: &Path, e: io::Error) -> Refused {
    match e.kind() {
        io::ErrorKind::NotFound => Refused::Missing(path.to_path_buf()),
        _ => Refused::Io(e),
    }
}

fn frame_len(bytes: &[u8]) -> Result<usize, Refused> {
    let array: [u8; 8] = bytes.try_into().map_err(|_| damaged("short length"))?;
    usize::try_from(u64::from_le_bytes(array)).map_err(damaged)
}

/// Bytes before each frame's body: its length (u64) and CRC-32 (u32), little-endian.
const FRAME_HEAD: usize = 12;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codes::{CapacityStatus, DayOfWeek, DeliveryMode};
    use crate::domain::eligibility::{Listing, Price, Session};
    use crate::domain::search::index::{Entry, Packed};
    use crate::spatial::Coordinates;

    fn header() -> Header {
        Header {
            format: FORMAT,
            database: "db-1".into(),
            capacity_expiry_days: 28,
            scanned_at: Utc::now(),
            newest_change: Some(Utc::now()),
        }
    }

    fn entry(i: usize) -> Entry {
        let at = Coordinates {
            latitude: 53.4 + i as f64 * 1e-4,
            longitude: -2.3,
        };
        let area = geo::MultiPolygon::new(vec![geo::Polygon::new(
            geo::LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
            vec![],
        )]);
        Entry {
            id: format!("svc-{i:05}").into(),
            name: format!("Walking group {i}").into(),
            listing: Packed::of(&Listing {
                minimum_age: Some(18.5),
                languages: vec!["en".into(), "ur".into()],
                prices: vec![Price {
                    pence: Some(250),
                    concessions: vec!["carer".into()],
                }],
                sessions: vec![Session {
                    days: vec![DayOfWeek::Tuesday],
                    opens: Some(600),
                    closes: Some(720),
                    valid_from: None,
                    valid_to: chrono::NaiveDate::from_ymd_opt(2027, 1, 1),
                }],
                delivery_modes: vec![DeliveryMode::InPerson],
                ..Listing::default()
            }),
            locations: Box::new([(format!("loc-{i}").into(), at)]),
            terms: Box::new(["walking".into()]),
            term_keys: Box::default(),
            text: "walking group".into(),
            capacity: Some((CapacityStatus::Accepting, Utc::now(), Some(3))),
            last_verified_at: None,
            updated_at: Utc::now(),
            service_areas: if i.is_multiple_of(7) {
                Box::new([area])
            } else {
                Box::default()
            },
            remote: i.is_multiple_of(5),
            residency_area: i.is_multiple_of(11).then(|| "E08000009".into()),
        }
    }

    fn write(path: &Path, header: &Header, entries: &[Entry]) {
        let mut writer = Writer::create(path, header).expect("create");
        for chunk in entries.chunks(7) {
            let chunk = Chunk::encode(&chunk.iter().collect::<Vec<_>>()).expect("encode");
            writer.chunk(chunk).expect("chunk");
        }
        writer.finish().expect("finish");
    }

    #[test]
    fn entries_come_back_as_written_and_in_order() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("index.snapshot");
        let entries: Vec<Entry> = (0..100).map(entry).collect();
        write(&path, &header(), &entries);
        let expected = header_of(&path);
        let back: Vec<Entry> = read(&path, &expected)
            .expect("read")
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(back.len(), entries.len());
        for (a, b) in back.iter().zip(&entries) {
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
        assert_eq!(left.len(), 1, "only the snapshot is left: {left:?}");
    }

    /// A chunk larger than serde reserves up front (1 MB) still comes back in a list
    /// of exactly its size: the index keeps these lists as its pages.
    #[test]
    fn a_large_chunk_comes_back_without_spare_room() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("index.snapshot");
        let entries: Vec<Entry> = (0..6000).map(entry).collect();
        let mut writer = Writer::create(&path, &header()).expect("create");
        let chunk = Chunk::encode(&entries.iter().collect::<Vec<_>>()).expect("encode");
        writer.chunk(chunk).expect("chunk");
        writer.finish().expect("finish");
        let chunks: Vec<Vec<Entry>> = read(&path, &header_of(&path)).expect("read");
        assert_eq!(chunks.len(), 1);
        assert_eq!((chunks[0].len(), chunks[0].capacity()), (6000, 6000));
    }

    fn header_of(path: &Path) -> Header {
        read_header(path).expect("header")
    }

    #[test]
    fn an_unfinished_write_leaves_no_file_and_the_previous_snapshot_stands() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("index.snapshot");
        write(&path, &header(), &[entry(1)]);
        let before = std::fs::read(&path).expect("first");
        let mut writer = Writer::create(&path, &header()).expect("create");
        let chunk = Chunk::encode(&[&entry(2)]).expect("encode");
        writer.chunk(chunk).expect("chunk");
        drop(writer);
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(std::fs::read(&path).expect("still there"), before);
    }

    #[test]
    fn another_database_policy_or_format_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("index.snapshot");
        let written = header();
        write(&path, &written, &[entry(1)]);
        for other in [
            Header {
                database: "db-2".into(),
                ..written.clone()
            },
            Header {
                capacity_expiry_days: 14,
                ..written.clone()
            },
            Header {
                format: FORMAT + 1,
                ..written.clone()
            },
        ] {
            assert!(matches!(
                read::<Entry>(&path, &other),
                Err(Refused::Mismatch)
            ));
        }
        assert!(matches!(
            read::<Entry>(&dir.path().join("none"), &written),
            Err(Refused::Missing(_))
        ));
    }

    #[test]
    fn a_file_cut_short_or_scribbled_on_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("index.snapshot");
        let written = header();
        write(&path, &written, &(0..50).map(entry).collect::<Vec<_>>());
        let bytes = std::fs::read(&path).expect("bytes");
        for cut in [bytes.len() - 1, bytes.len() - 9, bytes.len() / 2, 20] {
            std::fs::write(&path, &bytes[..cut]).expect("cut");
            assert!(
                matches!(read::<Entry>(&path, &written), Err(Refused::Damaged(_))),
                "cut at {cut}"
            );
        }
        let mut scribbled = bytes.clone();
        let middle = scribbled.len() / 2;
        scribbled[middle] ^= 0x10;
        std::fs::write(&path, &scribbled).expect("scribble");
        assert!(matches!(
            read::<Entry>(&path, &written),
            Err(Refused::Damaged(_))
        ));
        // Bytes after the end, or a header length scribbled huge.
        let mut longer = bytes.clone();
        longer.push(0);
        std::fs::write(&path, &longer).expect("longer");
        assert!(matches!(
            read::<Entry>(&path, &written),
            Err(Refused::Damaged(_))
        ));
        let mut huge = bytes.clone();
        huge.resize(bytes.len() + (2 << 20), 0);
        let at = MAGIC.len();
        huge[at..at + 8].copy_from_slice(&(3u64 << 19).to_le_bytes());
        std::fs::write(&path, &huge).expect("huge");
        assert!(
            matches!(read_header(&path), Err(Refused::Damaged(why)) if why.contains("longer than it can be"))
        );
    }
}
