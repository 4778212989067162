//! Incremental ingest: transcripts → parsed records → store.
//!
//! Every file has a cursor (identity, size, mtime, the offset after its last
//! complete line, a hash of the bytes before that offset). A re-run:
//! - skips files whose identity, size and mtime are unchanged, without
//!   opening them;
//! - reads only the bytes after the offset of a file that grew;
//! - re-reads from the start a file that shrank, was replaced, or was
//!   rewritten in place (the tail hash no longer matches); deduplication
//!   keeps that idempotent;
//! - leaves a partial last line for the next run.
//!
//! A document (a file the agent rewrites in place) is read whole when its
//! identity, size or time changed; a database (with its WAL in its size and
//! time) is read from the watermark its source keeps in the cursor's state
//! (`sources::storage`).
//!
//! Files are read and parsed on worker threads and written by one writer, in
//! transactions that carry the cursors with the events they cover.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::model::EventKey;
use crate::pricing::PriceBook;
use crate::sources::{Record, Source, Storage};
use crate::store::{CallCopy, FileCursor, IngestWriter, Store, supersedes};
use crate::util::{Fnv64, io_threads, par_map};

/// Bytes read from a file at a time.
const READ_CHUNK: usize = 1 << 20;
/// A longer line is skipped and counted as malformed, so memory stays bounded.
pub const MAX_LINE: usize = 64 << 20;

/// How much of a file a worker holds at once.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Bytes read at a time; the buffer starts at twice this.
    chunk: usize,
    /// The longest line parsed; the buffer never grows beyond it.
    max_line: usize,
}

const LIMITS: Limits = Limits { chunk: READ_CHUNK, max_line: MAX_LINE };
/// Records handed to the writer at a time, so memory stays bounded on huge files.
const RECORDS_PER_CHUNK: usize = 20_000;
/// Bytes hashed before a cursor's offset to notice a rewritten file.
const TAIL_BYTES: u64 = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Transcript files found.
    pub files_scanned: u64,
    /// Files that had new bytes and were read.
    pub files_read: u64,
    /// Files read again from the start (shrunk, replaced, rewritten).
    pub files_reset: u64,
    /// Files that could not be read (permissions, vanished); skipped.
    pub files_failed: u64,
    /// Those files, each with why: reports leave out what they hold.
    pub unreadable: Vec<Unreadable>,
    pub bytes_read: u64,
    pub new_events: u64,
    pub duplicate_events: u64,
    pub replaced_events: u64,
    /// Calls a rewritten document no longer holds, taken out of the totals.
    pub removed_events: u64,
    pub malformed_lines: u64,
    pub sessions_updated: u64,
    /// The sessions whose usage changed (pks).
    pub sessions: Vec<i64>,
    pub elapsed: Duration,
}

/// A transcript file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unreadable {
    pub path: PathBuf,
    pub error: String,
}

/// Progress of a running ingest.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// Reads everything new from every source into the store. A source whose
/// agent keeps no list of its files is first told where the store knows it
/// ran ([`follow_store`]).
pub fn ingest(
    store: &mut Store,
    prices: &PriceBook,
    sources: &[Box<dyn Source>],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IngestReport> {
    follow_store(store, sources)?;
    // The walks of the agents' folders are the kernel's work: on every core,
    // while this thread loads where each file was read to.
    let (found, cursors) = std::thread::scope(|scope| {
        let walk = scope.spawn(|| par_map(sources, io_threads(), 2, |s| s.discover()));
        let cursors = store.file_cursors();
        (walk.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), cursors)
    });
    let files = found.into_iter().enumerate().flat_map(|(i, paths)| paths.into_iter().map(move |p| (i, p))).collect();
    ingest_files(store, prices, sources, files, cursors?, progress)
}

/// Hands every source that [`follows_leads`](Source::follows_leads) what
/// the store knows of where its agent ran ([`Store::leads`]); true when one
/// learned of a file or folder it did not know.
pub fn follow_store(store: &Store, sources: &[Box<dyn Source>]) -> Result<bool> {
    let mut learned = false;
    for s in sources.iter().filter(|s| s.follows_leads()) {
        learned |= s.follow(&store.leads(s.agent())?);
    }
    Ok(learned)
}

/// Reads what is new in these paths (as reported by a file watcher). Paths
/// that are not transcripts of any source are ignored.
pub fn ingest_paths(
    store: &mut Store,
    prices: &PriceBook,
    sources: &[Box<dyn Source>],
    paths: &[PathBuf],
) -> Result<IngestReport> {
    let mut files: Vec<(usize, PathBuf)> = Vec::new();
    for p in paths {
        if let Some((i, p)) = source_of(sources, p)
            && !files.iter().any(|(_, q)| *q == p)
        {
            files.push((i, p));
        }
    }
    let keys: Vec<String> = files.iter().map(|(_, p)| p.to_string_lossy().into_owned()).collect();
    let cursors = store.file_cursors_of(&keys)?;
    ingest_files(store, prices, sources, files, cursors, &|_| {})
}

/// The source that reads this file, and the file it reads: a database's
/// WAL changes first, and that is a change of the database.
pub fn source_of(sources: &[Box<dyn Source>], p: &Path) -> Option<(usize, PathBuf)> {
    let db = crate::sources::storage::sqlite::database_of(p);
    let p = if db != p && sources.iter().any(|s| s.storage(&db) == Storage::Sqlite && s.reads_file(&db)) {
        db
    } else {
        p.to_path_buf()
    };
    let i = sources.iter().position(|s| s.roots().iter().any(|r| p.starts_with(r)) && s.reads_file(&p))?;
    Some((i, p))
}

fn ingest_files(
    store: &mut Store,
    prices: &PriceBook,
    sources: &[Box<dyn Source>],
    files: Vec<(usize, PathBuf)>,
    cursors: HashMap<String, FileCursor>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IngestReport> {
    let started = Instant::now();
    let mut report = IngestReport::default();
    let mut work = Vec::new();
    // Every file's identity, size and time, looked up on every core.
    let metas = par_map(&files, io_threads(), 512, |(si, path)| {
        let meta = std::fs::metadata(path)?;
        let mut id = FileId::of(&meta);
        if sources[*si].storage(path) == Storage::Sqlite {
            // Its WAL is part of it: commits land there first.
            let (size, mtime_ns) = crate::sources::storage::sqlite::wal_fingerprint(path);
            id.size += size;
            id.mtime_ns = id.mtime_ns.max(mtime_ns);
        }
        Ok::<FileId, std::io::Error>(id)
    });
    for ((si, path), meta) in files.into_iter().zip(metas) {
        report.files_scanned += 1;
        let id = match meta {
            Ok(id) => id,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue, // deleted meanwhile
            Err(e) => {
                report.files_failed += 1;
                report.unreadable.push(Unreadable { path, error: e.to_string() });
                continue;
            }
        };
        let storage = sources[si].storage(&path);
        let key = path.to_string_lossy().into_owned();
        let cursor = cursors.get(&key);
        if let Some(c) = cursor
            && c.dev == id.dev
            && c.ino == id.ino
            && c.size == id.size
            && c.mtime_ns == id.mtime_ns
        {
            continue;
        }
        let todo = match cursor {
            _ if storage != Storage::Lines => id.size,
            Some(c) if c.dev == id.dev && c.ino == id.ino && id.size >= c.offset => id.size - c.offset,
            _ => id.size,
        };
        work.push(WorkItem { source: si, path, key, id, cursor: cursor.cloned(), todo });
    }
    // Largest first, so one big file does not finish last on its own.
    work.sort_by_key(|w| std::cmp::Reverse(w.todo));
    let total = Progress {
        files_done: 0,
        files_total: work.len() as u64,
        bytes_done: 0,
        bytes_total: work.iter().map(|w| w.todo).sum(),
    };
    progress(total);

    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4).min(work.len().max(1));
    let (tx, rx) = mpsc::sync_channel::<Chunk>(workers * 2);
    let mut writer_result: Result<()> = Ok(());
    let mut touched = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (work, next) = (&work, &next);
            scope.spawn(move || {
                // One read buffer per worker, zeroed once.
                let mut buf: Vec<u8> = vec![0; LIMITS.chunk * 2];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = work.get(i) else { break };
                    let source = sources[item.source].as_ref();
                    let sent = match source.storage(&item.path) {
                        Storage::Lines => read_file(item, source, prices, &mut buf, LIMITS, &tx),
                        Storage::Document => read_document(item, source, prices, &tx),
                        Storage::Sqlite => read_database(item, source, prices, &tx),
                    };
                    if sent.is_err() {
                        // The writer hung up after an error; stop.
                        break;
                    }
                }
            });
        }
        drop(tx);
        writer_result = (|| {
            let mut writer = IngestWriter::new(store, prices)?;
            let mut p = total;
            for chunk in rx.iter() {
                match chunk {
                    Chunk::Failed { path, error } => {
                        report.files_failed += 1;
                        report.unreadable.push(Unreadable { path, error });
                        p.files_done += 1;
                    }
                    Chunk::Data {
                        cursor,
                        records,
                        folded,
                        bytes,
                        malformed,
                        reset,
                        last,
                        transcript_path,
                        removed,
                    } => {
                        writer.remove(&removed)?;
                        writer.apply(&cursor.agent, &records, &cursor, transcript_path.as_deref())?;
                        report.duplicate_events += folded.duplicates;
                        report.replaced_events += folded.replaced;
                        report.bytes_read += bytes;
                        report.malformed_lines += malformed;
                        p.bytes_done += bytes;
                        if reset {
                            report.files_reset += 1;
                        }
                        if last {
                            report.files_read += 1;
                            p.files_done += 1;
                        }
                    }
                }
                progress(p);
            }
            let (stats, t) = writer.finish()?;
            report.new_events = stats.new_events;
            report.duplicate_events += stats.duplicate_events;
            report.replaced_events += stats.replaced_events;
            report.removed_events += stats.removed_events;
            touched = t;
            Ok(())
        })();
        // On a writer error, drain so workers blocked on send can finish.
        for _ in rx.iter() {}
    });
    writer_result?;
    report.sessions_updated = touched.len() as u64;
    crate::store::ensure_costs_current(store, prices, &touched)?;
    report.sessions = touched;
    report.elapsed = started.elapsed();
    Ok(report)
}

struct WorkItem {
    source: usize,
    path: PathBuf,
    key: String,
    id: FileId,
    cursor: Option<FileCursor>,
    todo: u64,
}

#[derive(Debug, Clone, Copy)]
struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i64,
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> FileId {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileId {
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            FileId { dev: 0, ino: 0, size: meta.len(), mtime_ns }
        }
    }
}

enum Chunk {
    Data {
        cursor: FileCursor,
        records: Vec<Record>,
        /// The copies of calls already folded into `records`.
        folded: Folded,
        bytes: u64,
        malformed: u64,
        reset: bool,
        /// The file's final chunk in this run.
        last: bool,
        transcript_path: Option<String>,
        /// Calls the file held at its previous read and holds no more (a
        /// document rewritten without them): removed from the totals.
        removed: Vec<EventKey>,
    },
    Failed {
        path: PathBuf,
        error: String,
    },
}

/// Err when the writer hung up (after an error of its own).
type SendResult = std::result::Result<(), WriterGone>;

struct WriterGone;

fn send(tx: &mpsc::SyncSender<Chunk>, c: Chunk) -> SendResult {
    tx.send(c).map_err(|_| WriterGone)
}

/// Reads a file's new bytes line by line, sending records to the writer in
/// chunks.
fn read_file(
    item: &WorkItem,
    source: &dyn Source,
    prices: &PriceBook,
    buf: &mut Vec<u8>,
    limits: Limits,
    tx: &mpsc::SyncSender<Chunk>,
) -> SendResult {
    let failed = |e: std::io::Error| Chunk::Failed { path: item.path.clone(), error: e.to_string() };
    let mut file = match File::open(&item.path) {
        Ok(f) => f,
        Err(e) => return send(tx, failed(e)),
    };
    // Resume from the cursor if the file is the same one, only longer, with
    // the same bytes before the cursor.
    let mut tail = Tail::default();
    let resume = item.cursor.as_ref().filter(|c| {
        c.dev == item.id.dev
            && c.ino == item.id.ino
            && item.id.size >= c.offset
            && Tail::read(&mut file, c.offset).is_ok_and(|t| {
                let same = t.hash(c.offset) == c.tail_hash;
                tail = t;
                same
            })
    });
    let (start, state, mut malformed_total) = match resume {
        Some(c) => (c.offset, c.state.clone(), c.malformed),
        None => {
            tail = Tail::default();
            (0, None, 0)
        }
    };
    let mut first_chunk_resets = item.cursor.is_some() && resume.is_none();
    let mut parser = source.parser(&item.path, state.as_deref());
    if let Err(e) = file.seek(SeekFrom::Start(start)) {
        return send(tx, failed(e));
    }
    let transcript_path = (!item.key.contains("/subagents/")).then(|| item.key.clone());

    // Data is buf[lo..hi].
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut records = Vec::new();
    let mut pos = start; // file offset of buf[lo]
    let mut done = start; // end of the last complete line
    let mut sent = start; // end of what the last chunk sent covered
    let mut skipping = false; // inside an over-long line
    let mut malformed = 0u64;
    let mut eof = false;
    while !eof {
        if hi == buf.len() {
            if lo > 0 {
                buf.copy_within(lo..hi, 0);
                hi -= lo;
                lo = 0;
            } else if buf.len() < limits.max_line {
                buf.resize((buf.len() * 2).min(limits.max_line), 0); // a long line: grow, up to the cap
            } else {
                // An over-long line: count it (once, however long it is),
                // drop what was read of it, and skip to its end.
                if !skipping {
                    malformed += 1;
                }
                tail.push(&buf[lo..hi]);
                pos += (hi - lo) as u64;
                (lo, hi) = (0, 0);
                skipping = true;
            }
        }
        let n = file.read(&mut buf[hi..]).unwrap_or(0);
        hi += n;
        eof = n == 0;
        let mut line_start = lo;
        while let Some(nl) = memchr::memchr(b'\n', &buf[line_start..hi]) {
            let end = line_start + nl;
            let line = &buf[line_start..end];
            if skipping {
                skipping = false;
            } else if !line.trim_ascii().is_empty()
                && parser.parse(line, pos + (line_start - lo) as u64, &mut records).is_err()
            {
                malformed += 1;
            }
            line_start = end + 1;
        }
        if line_start > lo {
            tail.push(&buf[lo..line_start]);
            pos += (line_start - lo) as u64;
            done = pos;
            lo = line_start;
        }
        if records.len() >= RECORDS_PER_CHUNK || eof {
            malformed_total += malformed;
            let cursor = FileCursor {
                path: item.key.clone(),
                agent: source.agent().to_string(),
                dev: item.id.dev,
                ino: item.id.ino,
                size: item.id.size,
                mtime_ns: item.id.mtime_ns,
                offset: done,
                tail_hash: tail.hash(done),
                state: parser.state(),
                malformed: malformed_total,
            };
            let folded = fold_copies(&mut records, prices);
            send(
                tx,
                Chunk::Data {
                    cursor,
                    folded,
                    records: std::mem::take(&mut records),
                    bytes: done - sent,
                    malformed: std::mem::take(&mut malformed),
                    reset: std::mem::take(&mut first_chunk_resets),
                    last: eof,
                    transcript_path: transcript_path.clone(),
                    removed: Vec::new(),
                },
            )?;
            sent = done;
        }
    }
    Ok(())
}

/// The most a document may weigh; a bigger one is named, not read.
pub const MAX_DOCUMENT: u64 = 256 << 20;

/// Reads a whole document (it changed: its size or time differs from its
/// cursor's) and sends what it says to the writer in one chunk. A call it
/// still holds has the same key as before, so it replaces, never adds; a
/// call it held at its last read and holds no more is removed. The keys it
/// holds are its cursor's state. A document caught half-written keeps the
/// state it had, so nothing is removed for it.
fn read_document(item: &WorkItem, source: &dyn Source, prices: &PriceBook, tx: &mpsc::SyncSender<Chunk>) -> SendResult {
    let failed = |error: String| Chunk::Failed { path: item.path.clone(), error };
    if item.id.size > MAX_DOCUMENT {
        return send(tx, failed(format!("{} MB, more than a document may be", item.id.size >> 20)));
    }
    let bytes = match std::fs::read(&item.path) {
        Ok(b) => b,
        Err(e) => return send(tx, failed(e.to_string())),
    };
    let mut records = Vec::new();
    let before = item.cursor.as_ref().and_then(|c| c.state.as_deref());
    let (state, removed, malformed) =
        match source.parse_document(&item.path, &bytes, item.id.mtime_ns / 1_000_000, &mut records) {
            Ok(()) => {
                let held: Vec<EventKey> = records
                    .iter()
                    .filter_map(|r| match r {
                        Record::Usage(e) => Some(e.key),
                        _ => None,
                    })
                    .collect();
                let kept: std::collections::HashSet<EventKey> = held.iter().copied().collect();
                let removed = before.map(document_keys).unwrap_or_default().into_iter().filter(|k| !kept.contains(k));
                (Some(document_state(&held)), removed.collect(), 0)
            }
            Err(_) => {
                records.clear();
                (before.map(str::to_string), Vec::new(), 1)
            }
        };
    let whole = Whole { records, state, malformed_total: malformed, malformed, reset: false, removed };
    send_whole(item, source, prices, tx, whole)
}

/// A document's cursor state: the keys of the calls it holds, `id.check,…`.
fn document_state(keys: &[EventKey]) -> String {
    let mut s = String::with_capacity(keys.len() * 40);
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("{}.{}", k.id, k.check));
    }
    s
}

/// The keys of [`document_state`]; anything else in it is ignored.
fn document_keys(state: &str) -> Vec<EventKey> {
    state
        .split(',')
        .filter_map(|k| {
            let (id, check) = k.split_once('.')?;
            Some(EventKey { id: id.parse().ok()?, check: check.parse().ok()? })
        })
        .collect()
}

/// Reads what changed in an agent's database since its cursor's watermark,
/// through the source's reader, and sends it to the writer in one chunk.
fn read_database(item: &WorkItem, source: &dyn Source, prices: &PriceBook, tx: &mpsc::SyncSender<Chunk>) -> SendResult {
    use crate::sources::storage::sqlite::Db;
    let failed = |error: String| Chunk::Failed { path: item.path.clone(), error };
    // The same database (not one put in its place) resumes from its watermark.
    let same = item.cursor.as_ref().filter(|c| c.dev == item.id.dev && c.ino == item.id.ino);
    let Some(mut reader) = source.table_reader(&item.path, same.and_then(|c| c.state.as_deref())) else {
        return send(tx, failed(format!("{} reads no database", source.agent())));
    };
    let mut records = Vec::new();
    let read = Db::open(&item.path).and_then(|db| reader.read(&db, &mut records));
    let malformed = match read {
        Ok(n) => n,
        Err(e) => return send(tx, failed(e)),
    };
    let whole = Whole {
        records,
        state: reader.state(),
        malformed_total: same.map_or(0, |c| c.malformed) + malformed,
        malformed,
        // Another database in its place: read from the start.
        reset: item.cursor.is_some() && same.is_none(),
        removed: Vec::new(),
    };
    send_whole(item, source, prices, tx, whole)
}

/// What one read of a whole unit (a document, a database's changes) gave.
struct Whole {
    records: Vec<Record>,
    /// The reader's state, saved with the cursor.
    state: Option<String>,
    /// Malformed rows or documents so far (the cursor's count).
    malformed_total: u64,
    /// This read's (the report's).
    malformed: u64,
    reset: bool,
    /// Calls to take out of the totals.
    removed: Vec<EventKey>,
}

/// Sends what a whole unit says to the writer, with its cursor.
fn send_whole(
    item: &WorkItem,
    source: &dyn Source,
    prices: &PriceBook,
    tx: &mpsc::SyncSender<Chunk>,
    w: Whole,
) -> SendResult {
    let Whole { mut records, state, malformed_total, malformed, reset, removed } = w;
    let cursor = FileCursor {
        path: item.key.clone(),
        agent: source.agent().to_string(),
        dev: item.id.dev,
        ino: item.id.ino,
        size: item.id.size,
        mtime_ns: item.id.mtime_ns,
        offset: item.id.size,
        tail_hash: 0,
        state,
        malformed: malformed_total,
    };
    let folded = fold_copies(&mut records, prices);
    send(
        tx,
        Chunk::Data {
            cursor,
            records,
            folded,
            bytes: item.todo,
            malformed,
            reset,
            last: true,
            // Many sessions share a database, and a document is no transcript.
            transcript_path: None,
            removed,
        },
    )
}

/// Copies of calls dropped from a chunk by [`fold_copies`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Folded {
    /// Dropped for an earlier copy that stays.
    duplicates: u64,
    /// Dropped after replacing an earlier copy.
    replaced: u64,
}

/// Keeps one copy of each call within a chunk: the one the writer would keep
/// of them ([`supersedes`]), where the first copy was. Claude Code writes a
/// line per content block and streaming snapshots, so a third of the usage
/// lines are copies; folded here, on the workers, the one writer sees each
/// call once per chunk instead of looking each copy up in the database.
fn fold_copies(records: &mut Vec<Record>, prices: &PriceBook) -> Folded {
    let mut first: HashMap<(i64, i64), usize> = HashMap::new();
    let mut dropped: Vec<usize> = Vec::new();
    let mut folded = Folded::default();
    for i in 0..records.len() {
        let Record::Usage(ev) = &records[i] else { continue };
        match first.entry((ev.key.id, ev.key.check)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                let j = *o.get();
                let Record::Usage(kept) = &records[j] else { unreachable!("only usage records are keyed") };
                if supersedes(prices, &CallCopy::of(ev), &CallCopy::of(kept)) {
                    records.swap(i, j);
                    folded.replaced += 1;
                } else {
                    folded.duplicates += 1;
                }
                dropped.push(i);
            }
        }
    }
    if !dropped.is_empty() {
        let mut next = dropped.into_iter().peekable();
        let mut i = 0;
        records.retain(|_| {
            let keep = next.peek() != Some(&i);
            if !keep {
                next.next();
            }
            i += 1;
            keep
        });
    }
    folded
}

/// The last bytes before a cursor's offset, to recognise the same file later.
#[derive(Default)]
struct Tail(Vec<u8>);

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        let keep = TAIL_BYTES as usize;
        if bytes.len() >= keep {
            self.0.clear();
            self.0.extend_from_slice(&bytes[bytes.len() - keep..]);
        } else {
            self.0.extend_from_slice(bytes);
            let excess = self.0.len().saturating_sub(keep);
            self.0.drain(..excess);
        }
    }

    fn hash(&self, offset: u64) -> u64 {
        let mut h = Fnv64::new();
        h.write(&self.0);
        h.write(&offset.to_le_bytes());
        h.finish()
    }

    /// The tail of a file at `offset`, read from disk.
    fn read(file: &mut File, offset: u64) -> std::io::Result<Tail> {
        let from = offset.saturating_sub(TAIL_BYTES);
        let mut bytes = vec![0u8; (offset - from) as usize];
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut bytes)?;
        Ok(Tail(bytes))
    }
}

/// The sources for this machine's environment.
pub fn default_sources() -> Vec<Box<dyn Source>> {
    crate::sources::all(&crate::sources::SourceEnv::from_process())
}

/// Checks that a path given by the user exists, for a clear error.
pub fn require_dir(p: &Path) -> Result<()> {
    if p.is_dir() { Ok(()) } else { Err(Error::Usage(format!("{}: no such directory", p.display()))) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{LineError, LineParser, SessionInfo};

    /// Turns every line into a record named by the line.
    struct Echo;

    impl LineParser for Echo {
        fn parse(&mut self, line: &[u8], _offset: u64, out: &mut Vec<Record>) -> std::result::Result<(), LineError> {
            let external_id = String::from_utf8_lossy(line).into_owned();
            out.push(Record::Session(SessionInfo { external_id, ..Default::default() }));
            Ok(())
        }

        fn state(&self) -> Option<String> {
            None
        }
    }

    struct EchoSource;

    impl Source for EchoSource {
        fn info(&self) -> &'static crate::sources::AgentInfo {
            const ECHO: crate::sources::AgentInfo = crate::sources::AgentInfo::named("echo", "Echo", "Echo");
            &ECHO
        }

        fn roots(&self) -> Vec<PathBuf> {
            Vec::new()
        }

        fn discover(&self) -> Vec<PathBuf> {
            Vec::new()
        }

        fn parser(&self, _path: &Path, _state: Option<&str>) -> Box<dyn LineParser> {
            Box::new(Echo)
        }
    }

    #[test]
    fn copies_of_a_call_fold_into_the_copy_the_writer_keeps() {
        use std::sync::Arc;

        use crate::model::{EventKey, Tokens, UsageEvent};
        let ev = |key: &str, input: u64, sidechain: bool, ts: i64| {
            Record::Usage(UsageEvent {
                key: EventKey::of(&[key]),
                session_external_id: Arc::from("s"),
                timestamp: chrono::DateTime::from_timestamp_millis(ts).unwrap(),
                model: Arc::from("claude-sonnet-4-5"),
                model_fallback: false,
                fast: false,
                sidechain,
                tokens: Tokens { input, ..Default::default() },
                cost_usd: None,
            })
        };
        let session = Record::Session(SessionInfo {
            external_id: "s".into(),
            project_path: None,
            agent_version: None,
            started_at: None,
        });
        let mut records = vec![
            session.clone(),
            ev("a", 10, false, 1),
            ev("b", 5, false, 2),
            ev("a", 30, false, 3), // more tokens: replaces a's first copy
            ev("a", 20, false, 4), // fewer than the copy kept: dropped
            ev("b", 90, true, 5),  // a side-chain copy never beats a main one
            ev("c", 50, true, 6),
            ev("c", 1, false, 7),  // a main copy beats a side-chain one
            ev("a", 30, false, 8), // a full tie: the earlier copy stays
        ];
        let folded = fold_copies(&mut records, &PriceBook::embedded());
        assert_eq!(folded, Folded { duplicates: 3, replaced: 2 });
        let kept: Vec<(u64, bool, i64)> = records
            .iter()
            .filter_map(|r| match r {
                Record::Usage(e) => Some((e.tokens.input, e.sidechain, e.timestamp.timestamp_millis())),
                Record::Session(_) | Record::Limit(_) => None,
            })
            .collect();
        assert_eq!(kept, [(30, false, 3), (5, false, 2), (1, false, 7)], "the winners, where each call was first");
        assert!(matches!(records[0], Record::Session(_)));
    }

    /// Reads a whole file as a worker does: (lines parsed, malformed, the
    /// final cursor, the buffer size reached).
    fn read_all(path: &Path, limits: Limits) -> (Vec<String>, u64, FileCursor, usize) {
        let meta = std::fs::metadata(path).unwrap();
        let item = WorkItem {
            source: 0,
            path: path.to_path_buf(),
            key: path.display().to_string(),
            id: FileId::of(&meta),
            cursor: None,
            todo: meta.len(),
        };
        let (tx, rx) = mpsc::sync_channel(64);
        let mut buf = vec![0; limits.chunk * 2];
        assert!(read_file(&item, &EchoSource, &PriceBook::embedded(), &mut buf, limits, &tx).is_ok());
        drop(tx);
        let (mut lines, mut malformed, mut last) = (Vec::new(), 0, None);
        for c in rx {
            let Chunk::Data { cursor, records, malformed: m, .. } = c else { panic!("the read failed") };
            for r in records {
                if let Record::Session(s) = r {
                    lines.push(s.external_id);
                }
            }
            malformed += m;
            last = Some(cursor);
        }
        (lines, malformed, last.expect("a chunk"), buf.len())
    }

    /// [`EchoSource`] reading every `*.jsonl` in one folder.
    struct FolderEcho(PathBuf);

    impl Source for FolderEcho {
        fn info(&self) -> &'static crate::sources::AgentInfo {
            EchoSource.info()
        }

        fn roots(&self) -> Vec<PathBuf> {
            vec![self.0.clone()]
        }

        fn discover(&self) -> Vec<PathBuf> {
            let mut out = Vec::new();
            crate::sources::find_jsonl(&self.0, &|_| true, &mut out);
            out
        }

        fn reads_file(&self, path: &Path) -> bool {
            path.extension().is_some_and(|x| x == "jsonl")
        }

        fn parser(&self, _path: &Path, _state: Option<&str>) -> Box<dyn LineParser> {
            Box::new(Echo)
        }
    }

    /// A watcher's changed file is read on from where the last read of it
    /// stopped (its cursor, looked up by its path), and only it is read.
    #[test]
    fn a_changed_file_is_read_from_its_cursor_on() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("agent");
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
        std::fs::write(&a, "one\ntwo\n").unwrap();
        std::fs::write(&b, "x\n").unwrap();
        let mut store = Store::open(&t.path().join("a.db")).unwrap();
        let prices = PriceBook::embedded();
        let sources: Vec<Box<dyn Source>> = vec![Box::new(FolderEcho(dir))];
        let first = ingest(&mut store, &prices, &sources, &|_| {}).unwrap();
        assert_eq!((first.files_read, first.bytes_read), (2, 10));
        std::io::Write::write_all(&mut std::fs::OpenOptions::new().append(true).open(&a).unwrap(), b"three\n").unwrap();
        let next = ingest_paths(&mut store, &prices, &sources, &[a.clone(), b.clone()]).unwrap();
        assert_eq!((next.files_scanned, next.files_read, next.bytes_read), (2, 1, 6), "only a's new line");
        assert_eq!(store.file_cursors_of(&[a.display().to_string()]).unwrap()[&a.display().to_string()].offset, 14);
    }

    #[test]
    fn an_over_long_line_is_skipped_and_counted_once_with_bounded_memory() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("t.jsonl");
        let text = format!("a\n{}\nb\n{}\n{}\nc\n", "x".repeat(1000), "y".repeat(150), "z".repeat(80));
        std::fs::write(&p, &text).unwrap();
        let limits = Limits { chunk: 16, max_line: 100 };
        let (lines, malformed, cursor, buf_len) = read_all(&p, limits);
        assert_eq!(lines, ["a", "b", &"z".repeat(80), "c"], "lines under the cap are parsed");
        assert_eq!(malformed, 2, "a line ten times the cap is one malformed line");
        assert!(buf_len <= limits.max_line, "the buffer stays within the cap: {buf_len}");
        // The cursor covers the skipped bytes, and its hash matches the
        // file, so the next run resumes after them.
        let len = text.len() as u64;
        assert_eq!(cursor.offset, len);
        let mut f = File::open(&p).unwrap();
        assert_eq!(Tail::read(&mut f, len).unwrap().hash(len), cursor.tail_hash);
        assert_eq!(cursor.malformed, 2);
    }
}
