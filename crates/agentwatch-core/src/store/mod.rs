//! The SQLite store: one file, WAL mode, versioned migrations.
//!
//! Several processes may write at once (the daemon, `mcp-proxy`, `hook`);
//! WAL plus a busy timeout keeps them consistent, and every write that must
//! be all-or-nothing runs in one transaction.

mod alerts;
mod blocks;
mod ingest;
mod limits;
mod live;
mod metrics;
mod otel;
mod plans;
mod push;
mod sessions;
mod spool;
mod usage;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use rusqlite_migration::{M, Migrations};

pub(crate) use alerts::SESSION_ALERTS_SQL;
pub use alerts::{AlertCandidate, AlertRow, AlertTrigger};
pub use blocks::CallRow;
pub use ingest::{BUCKET_MS, FileCursor, IngestWriter, WriterStats, flags};
pub(crate) use ingest::{CallCopy, supersedes};
pub use limits::{LimitSample, StatuslineReport};
pub use live::{EventRecord, ProcessFacts, ToolCallRecord, Transition, event};
pub use metrics::LAST_INGEST;
pub use otel::PendingCall;
pub use plans::{QueryPlan, query_plans};
pub use push::{Registration, Report};
pub use sessions::*;
pub use usage::*;

use crate::error::{Error, Result};
use crate::paths::Dirs;

/// The schema, one migration per version.
const MIGRATION_SQL: [&str; 10] = [
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_live.sql"),
    include_str!("migrations/003_scale.sql"),
    include_str!("migrations/004_hook_spool.sql"),
    include_str!("migrations/005_hourly.sql"),
    include_str!("migrations/006_waiting.sql"),
    include_str!("migrations/007_redact.sql"),
    include_str!("migrations/008_limits.sql"),
    include_str!("migrations/009_otel.sql"),
    include_str!("migrations/010_calls_in_order.sql"),
];

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(
        MIGRATION_SQL
            .iter()
            .enumerate()
            .map(|(i, sql)| match i + 1 {
                7 => M::up_with_hook(sql, redact_stored_commands),
                _ => M::up(sql),
            })
            .collect(),
    )
});

/// Migration 7: command lines stored before secrets were masked get masked.
fn redact_stored_commands(tx: &rusqlite::Transaction) -> rusqlite_migration::HookResult {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT pk, command FROM sessions WHERE command IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx.prepare("UPDATE sessions SET command = ?2 WHERE pk = ?1")?;
    for (pk, command) in rows {
        let masked = crate::redact::redact(&command);
        if masked != command {
            update.execute(rusqlite::params![pk, masked])?;
        }
    }
    Ok(())
}

/// The newest schema version this build knows.
pub fn schema_version() -> usize {
    MIGRATION_SQL.len()
}

/// An open agentwatch database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Where a damaged database was moved when this one was made to replace it.
    pub recovered: Option<PathBuf>,
    /// The state of `conn`'s busy handler, which SQLite holds a pointer to:
    /// declared after `conn`, so it is dropped after the connection closes.
    waiting: Box<Waiting>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database in the data dir. A damaged
    /// database, or a file that is not agentwatch's, is moved aside and a new
    /// one started ([`Store::recovered`] says where the old one went); usage
    /// is rebuilt from the agents' files by the next ingest.
    pub fn open_in(dirs: &Dirs) -> Result<Store> {
        dirs.ensure_data_dir()?;
        let path = dirs.db_path();
        if damaged_marker(&path).exists() {
            return recover(&path, "it was found damaged while in use");
        }
        match Store::open(&path) {
            Err(Error::Damaged { why, .. }) => recover(&path, &why),
            other => other,
        }
    }

    /// Opens (creating if needed) the database at `path`. A new file is
    /// created readable by the user only (0600).
    pub fn open(path: &Path) -> Result<Store> {
        create_private_file(path)?;
        let db_err = |e: rusqlite::Error| match is_damage(&e) {
            true => Error::Damaged { path: path.to_path_buf(), why: explain(&e) },
            false => Error::Database { path: path.to_path_buf(), message: describe(path, &e) },
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_err)?;
        let waiting = Box::new(Waiting::new(lock_wanted_path(path), 10_000));
        waiting.install(&conn).map_err(db_err)?;
        use_wal(&conn).map_err(db_err)?;
        // An ingest's long transactions can leave a large log: once copied
        // back, it is cut to 16 MB, not kept at its largest.
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -16000;
             PRAGMA journal_size_limit = 16777216;",
        )
        .map_err(db_err)?;
        migrate(&mut conn, path)?;
        Ok(Store { conn, path: path.to_path_buf(), recovered: None, waiting })
    }

    /// How long a statement waits for another writer's lock before it
    /// fails as busy (10 s unless set). Hooks wait less: they must not keep
    /// the agent waiting. `limit` is rounded up to 250 ms, 1 s, 2 s or 10 s.
    pub fn busy_timeout(&self, limit: std::time::Duration) -> Result<()> {
        let ms = match limit.as_millis() {
            0..=250 => 250,
            251..=1000 => 1000,
            1001..=2000 => 2000,
            _ => 10_000,
        };
        self.waiting.limit_ms.set(ms);
        Ok(())
    }

    /// The file a writer waiting for the lock touches (see [`Waiting`]).
    pub(crate) fn lock_wanted_path(&self) -> &Path {
        &self.waiting.wanted
    }

    /// For short-lived writers (hooks, the MCP proxy): closing the last
    /// connection then leaves the write-ahead log for the next opener instead
    /// of copying it back into the database, which costs several fsyncs.
    pub fn skip_checkpoint_on_close(&self) {
        let _ = self.conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for the store's own modules and the core's tests:
    /// every query lives in `store/`.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Every model name usage was recorded for, sorted.
    pub fn model_names(&self) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached("SELECT name FROM models ORDER BY name").map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// How many rows the tables that grow with history hold: sessions,
    /// usage events and rollup rows.
    pub fn row_counts(&self) -> Result<(i64, i64, i64)> {
        let count = |t: &str| -> Result<i64> {
            self.conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)).map_err(|e| self.err(e))
        };
        Ok((count("sessions")?, count("usage_events")?, count("usage_rollup")?))
    }

    /// A value from the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// What the database holds: (sessions, live sessions not archived, usage events).
    pub fn counts(&self) -> Result<(i64, i64, i64)> {
        let count = |sql: &str| -> Result<i64> { self.conn.query_row(sql, [], |r| r.get(0)).map_err(|e| self.err(e)) };
        Ok((
            count("SELECT COUNT(*) FROM sessions")?,
            count(&format!(
                "SELECT COUNT(*) FROM sessions WHERE state IN {} AND archived = 0",
                crate::model::SessionState::live_sql()
            ))?,
            count("SELECT COUNT(*) FROM usage_events")?,
        ))
    }

    /// Per agent type: (agent, sessions, live sessions), as [`Store::counts`] counts them.
    pub fn counts_per_agent(&self) -> Result<Vec<(String, i64, i64)>> {
        let sql = format!(
            "SELECT agent, COUNT(*), COALESCE(SUM(state IN {} AND archived = 0), 0) FROM sessions GROUP BY agent",
            crate::model::SessionState::live_sql()
        );
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// A write transaction that takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred one that reads first can fail with "locked"
    /// when another writer commits in between, without the busy timeout
    /// helping. Here the wait happens up front, inside the busy timeout.
    ///
    /// Inside [`Store::atomically`] it joins the transaction already open:
    /// its commit is then the outer one's.
    pub fn write_tx(&self) -> Result<WriteTx<'_>> {
        if !self.conn.is_autocommit() {
            return Ok(WriteTx { conn: &self.conn, own: false, done: false });
        }
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| self.err(e))?;
        Ok(WriteTx { conn: &self.conn, own: true, done: false })
    }

    /// Runs `f` as one write transaction: everything it writes lands, or
    /// nothing does (an error rolls it all back).
    pub fn atomically<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let tx = self.write_tx()?;
        let out = f()?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Runs `f` in one read transaction: its queries see one snapshot of the
    /// database (the several reads of a report agree while ingest writes)
    /// and take the shared lock once instead of once each. `f` must not
    /// write. Inside a transaction already open, `f` just runs.
    pub fn snapshot<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            return f();
        }
        self.conn.execute_batch("BEGIN DEFERRED").map_err(|e| self.err(e))?;
        let out = f();
        // Nothing to keep: a read transaction ends the same way either way.
        let end = self.conn.execute_batch("COMMIT");
        let out = out?;
        end.map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Attaches the database path to an error from a query. Damage found
    /// while in use is remembered, so the next open rebuilds the database.
    pub fn err(&self, e: rusqlite::Error) -> Error {
        if matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        ) {
            mark_damaged(&self.path);
            return Error::Damaged { path: self.path.clone(), why: format!("{}; {REBUILT}", explain(&e)) };
        }
        Error::Database { path: self.path.clone(), message: describe(&self.path, &e) }
    }
}

/// A write transaction from [`Store::write_tx`]: rolled back when dropped
/// without [`WriteTx::commit`]. One opened inside another is part of it.
pub struct WriteTx<'s> {
    conn: &'s Connection,
    own: bool,
    done: bool,
}

impl WriteTx<'_> {
    pub fn commit(mut self) -> rusqlite::Result<()> {
        if self.own {
            self.conn.execute_batch("COMMIT")?;
        }
        self.done = true;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if self.own && !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// How the user is told what happens to a database found damaged in use.
pub const REBUILT: &str = "it will be rebuilt at the next start";

/// Remembers that the database at `db` was found damaged while in use, so
/// that the next open moves it aside and rebuilds it.
pub fn mark_damaged(db: &Path) {
    let _ = std::fs::write(damaged_marker(db), b"");
}

/// What a failure to open or write the database means, when SQLite only
/// says "disk I/O error" or "unable to open": see [`io_cause`].
fn describe(db: &Path, e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(SystemIoFailure | DiskFull | CannotOpen | ReadOnly) => io_cause(db).unwrap_or_else(|| explain(e)),
        _ => explain(e),
    }
}

/// Why nothing can be written next to the database at `db`, found by
/// writing (and removing) a small file there: a full disk, a read-only file
/// system, or no permission. `None` when writing works.
pub fn io_cause(db: &Path) -> Option<String> {
    use std::io::{ErrorKind, Write};
    let dir = db.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let probe = dir.join(format!(".agentwatch-write-test-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| f.write_all(&[0u8; 64 * 1024]).and_then(|_| f.sync_all()));
    let _ = std::fs::remove_file(&probe);
    let e = written.err()?;
    Some(match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            format!("the disk is full (no space left in {})", dir.display())
        }
        ErrorKind::ReadOnlyFilesystem => format!("the data dir {} is on a read-only file system", dir.display()),
        ErrorKind::PermissionDenied => format!("no permission to write in the data dir {}", dir.display()),
        _ => format!("cannot write in the data dir {}: {e}", dir.display()),
    })
}

/// The file beside the database that a writer waiting for the write lock
/// touches, to ask whoever holds it to commit.
fn lock_wanted_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-wanted");
    PathBuf::from(p)
}

/// A connection's busy handler: SQLite calls it while another connection
/// holds the write lock, `n` times before in this wait; `false` gives up
/// (SQLITE_BUSY).
///
/// - It tries again every millisecond. SQLite's own `busy_timeout` sleeps
///   longer and longer (up to 100 ms between tries), so a writer that holds
///   the lock for long stretches with short breaks between them starved it:
///   hooks gave up after their 250 ms and the MCP proxy after 2 s while the
///   daemon read a large history (bench/concurrency).
/// - It asks for the lock: it touches [`lock_wanted_path`] when the wait
///   begins and every [`ASK_EVERY`] tries after. An ingest holds the lock
///   for up to a second while nobody asks, and commits within
///   [`ingest::HOLD_MS`] when somebody does (`store/ingest.rs`): every
///   writer is agentwatch's own, so every one asks this way.
pub(crate) struct Waiting {
    wanted: PathBuf,
    limit_ms: std::cell::Cell<u64>,
    since: std::cell::Cell<std::time::Instant>,
}

/// Tries between two touches of the wanted file while waiting (one a
/// millisecond): a writer that committed for somebody else and began again
/// is asked again.
const ASK_EVERY: i32 = 20;

impl Waiting {
    fn new(wanted: PathBuf, limit_ms: u64) -> Waiting {
        Waiting {
            wanted,
            limit_ms: std::cell::Cell::new(limit_ms),
            since: std::cell::Cell::new(std::time::Instant::now()),
        }
    }

    fn install(&self, conn: &Connection) -> rusqlite::Result<()> {
        unsafe extern "C" fn on_busy(ctx: *mut std::ffi::c_void, n: std::ffi::c_int) -> std::ffi::c_int {
            // SAFETY: `ctx` is the `Waiting` boxed in the `Store` that owns
            // the connection; it is dropped after the connection closes, and
            // SQLite calls this only on the thread using the connection.
            let w = unsafe { &*(ctx as *const Waiting) };
            w.wait(n) as std::ffi::c_int
        }
        // SAFETY: the handle is the open connection's; `self` outlives it
        // (above), and only shared references are made from the pointer.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_busy_handler(
                conn.handle(),
                Some(on_busy),
                self as *const Waiting as *mut std::ffi::c_void,
            )
        };
        match rc {
            rusqlite::ffi::SQLITE_OK => Ok(()),
            rc => Err(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rc), None)),
        }
    }

    fn wait(&self, n: i32) -> bool {
        use std::time::{Duration, Instant};
        let now = Instant::now();
        if n == 0 {
            self.since.set(now);
        }
        if now.duration_since(self.since.get()) >= Duration::from_millis(self.limit_ms.get()) {
            return false;
        }
        if n % ASK_EVERY == 0 {
            ask_for_lock(&self.wanted);
        }
        std::thread::sleep(Duration::from_millis(1));
        true
    }
}

/// Touches the wanted file. At worst (a read-only data dir) the holder
/// commits at the end of its longest hold anyway.
fn ask_for_lock(wanted: &Path) {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    if let Ok(f) = o.open(wanted) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

/// Switches the database to write-ahead logging, which a new file records in
/// its header with a write. When two processes open a new file at once
/// (the daemon and a `status`), one can find the other holding that write's
/// lock: SQLite then answers busy without calling the busy handler, because
/// a reader waiting for a writer could deadlock. The other's switch is done
/// within milliseconds, so the switch is tried again, for up to 10 s.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    use std::time::{Duration, Instant};
    let started = Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Err(e) if is_busy(&e) && started.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(1));
            }
            other => return other.map(drop),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// Creates the file with mode 0600 if it does not exist, and narrows the mode
/// of an existing one (Windows: an ACL only the owner is on).
fn create_private_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
                if meta.permissions().mode() & 0o077 != 0 {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| Error::io(path, e))?;
                }
            }
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    #[cfg(not(unix))]
    {
        if !path.exists() {
            std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        }
        #[cfg(windows)]
        crate::paths::restrict_to_owner(path).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

fn explain(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => "not an SQLite database (damaged or a foreign file)".into(),
        Some(rusqlite::ErrorCode::DiskFull) => "the disk is full".into(),
        Some(rusqlite::ErrorCode::ReadOnly) => "the database is read-only".into(),
        Some(rusqlite::ErrorCode::CannotOpen) => "cannot open the file".into(),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
            "the database stayed locked by another process".into()
        }
        _ => e.to_string(),
    }
}

/// Left next to a database found damaged while in use.
fn damaged_marker(db: &Path) -> PathBuf {
    db.with_extension("db.damaged")
}

/// Whether an error means the file itself is damaged or foreign.
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase))
}

/// Moves a damaged database (and its journal files) aside and opens a new
/// one. Serialised with the migration lock, so concurrent openers agree.
fn recover(path: &Path, why: &str) -> Result<Store> {
    let lock = migration_lock(path)?;
    let aside = aside_name(path);
    // Another process may have recovered it meanwhile.
    let still_bad = damaged_marker(path).exists() || matches!(probe(path), Err(Error::Damaged { .. }));
    if still_bad && path.exists() {
        std::fs::rename(path, &aside).map_err(|e| Error::io(path, e))?;
        // Named as SQLite expects (`<file>-wal`), so the copy opens whole.
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", path.display()));
            if side.exists() {
                let _ = std::fs::rename(&side, format!("{}{suffix}", aside.display()));
            }
        }
    }
    let _ = std::fs::remove_file(damaged_marker(path));
    drop(lock);
    let mut store = Store::open(path)?;
    if still_bad {
        // Info, not warn: each shell tells the person itself, once.
        tracing::info!("database {} was damaged ({why}); moved to {} and rebuilt", path.display(), aside.display());
        store.recovered = Some(aside);
    }
    Ok(store)
}

/// Whether the file at `path` reads as an agentwatch database (or an empty
/// one), without migrating it: [`recover`] calls it holding the migration lock.
fn probe(path: &Path) -> Result<()> {
    let damaged = |e: rusqlite::Error| match is_damage(&e) {
        true => Error::Damaged { path: path.to_path_buf(), why: explain(&e) },
        false => Error::Database { path: path.to_path_buf(), message: explain(&e) },
    };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(damaged)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(damaged)?;
    let tables: i64 =
        conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0)).map_err(damaged)?;
    if version == 0 && tables > 0 {
        return Err(Error::Damaged { path: path.to_path_buf(), why: "not an agentwatch database".into() });
    }
    Ok(())
}

/// `agentwatch.db.damaged-<time>`, with a counter if that is taken: an
/// earlier copy is never overwritten.
fn aside_name(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("agentwatch.db");
    let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
    let mut aside = path.with_file_name(format!("{name}.damaged-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = path.with_file_name(format!("{name}.damaged-{stamp}-{n}"));
    }
    aside
}

fn migration_lock(path: &Path) -> Result<std::fs::File> {
    let lock_path = path.with_extension("db.migrate-lock");
    let mut o = std::fs::OpenOptions::new();
    o.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let lock = o.open(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    Ok(lock)
}

/// Brings the schema up to date. Several processes may open a new database at
/// once (the daemon, the CLI, a hook): a lock file lets one migrate while the
/// others wait, then find nothing left to do.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let damaged = |e: &rusqlite::Error| match is_damage(e) {
        true => Error::Damaged { path: path.to_path_buf(), why: explain(e) },
        false => Error::Database { path: path.to_path_buf(), message: explain(e) },
    };
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| damaged(&e))?;
    if version == schema_version() as i64 {
        return Ok(());
    }
    let _lock = migration_lock(path)?;
    // Another process may have migrated while this one waited for the lock.
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| damaged(&e))?;
    if version == 0 {
        // A new database is empty; one with tables but no version is someone else's.
        let tables: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
            .map_err(|e| damaged(&e))?;
        if tables > 0 {
            return Err(Error::Damaged { path: path.to_path_buf(), why: "not an agentwatch database".into() });
        }
    }
    MIGRATIONS.to_latest(conn).map_err(|e| migration_error(path, e))
}

fn migration_error(path: &Path, e: rusqlite_migration::Error) -> Error {
    let message = match &e {
        rusqlite_migration::Error::MigrationDefinition(
            rusqlite_migration::MigrationDefinitionError::DatabaseTooFarAhead,
        ) => format!(
            "written by a newer agentwatch (schema newer than version {}); upgrade agentwatch or use another --data-dir",
            schema_version()
        ),
        rusqlite_migration::Error::RusqliteError { err, .. } if is_damage(err) => {
            return Error::Damaged { path: path.to_path_buf(), why: explain(err) };
        }
        rusqlite_migration::Error::RusqliteError { err, .. } => explain(err),
        other => other.to_string(),
    };
    Error::Database { path: path.to_path_buf(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_a_new_database_in_wal_mode_with_private_permissions() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        let store = Store::open_in(&dirs).unwrap();
        let mode: String = store.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(dirs.db_path()).unwrap().permissions().mode();
            assert_eq!(m & 0o777, 0o600);
        }
        store.set_meta("k", "v").unwrap();
        drop(store);
        let again = Store::open_in(&dirs).unwrap();
        assert_eq!(again.meta("k").unwrap().as_deref(), Some("v"));
    }

    #[test]
    fn schema_5_sums_an_existing_rollup_per_hour() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("a.db");
        let mut c = Connection::open(&path).unwrap();
        MIGRATIONS.to_version(&mut c, 4).unwrap();
        // Buckets of two hours, one before 1970 (SQLite's `/` truncates toward zero).
        for (bucket, input) in [(8, 1), (9, 10), (11, 100), (12, 1000), (-1, 5), (-4, 50), (-5, 500)] {
            c.execute(
                "INSERT INTO usage_rollup (session, bucket, model, flags, events, input, cost_usd) VALUES (1, ?1, 1, 0, 1, ?2, 0.5)",
                [bucket, input],
            )
            .unwrap();
        }
        drop(c);
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.conn().pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap(),
            schema_version() as i64
        );
        let mut st =
            store.conn().prepare("SELECT hour, events, input, cost_usd FROM usage_rollup_hour ORDER BY hour").unwrap();
        let rows: Vec<(i64, i64, i64, f64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rows, [(-2, 1, 500, 0.5), (-1, 2, 55, 1.0), (2, 3, 111, 1.5), (3, 1, 1000, 0.5)]);
    }

    #[test]
    fn schema_7_masks_secrets_in_stored_command_lines() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("a.db");
        let mut c = Connection::open(&path).unwrap();
        MIGRATIONS.to_version(&mut c, 6).unwrap();
        for (id, command) in [
            ("a", "bash -c ANTHROPIC_API_KEY=sk-ant-secret claude"),
            ("b", "codex --api-key sk-proj-secret"),
            ("c", "claude --resume x"),
        ] {
            c.execute(
                "INSERT INTO sessions (id, agent, source, state, started_at, last_activity, updated_at, command)
                 VALUES (?1, 'claude-code', 'process', 'idle', 0, 0, 0, ?2)",
                [id, command],
            )
            .unwrap();
        }
        drop(c);
        let store = Store::open(&path).unwrap();
        let commands: Vec<String> = store
            .conn()
            .prepare("SELECT command FROM sessions ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(commands, ["bash -c ANTHROPIC_API_KEY=*** claude", "codex --api-key ***", "claude --resume x"]);
        assert_eq!(schema_version(), 10);
    }

    #[test]
    fn processes_opening_a_new_database_at_once_all_succeed() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("agentwatch.db");
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let p = p.clone();
                std::thread::spawn(move || Store::open(&p).map(|_| ()))
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    }

    /// A new file being switched to WAL by another process holds a write
    /// lock that SQLite reports as busy without calling the busy handler (a
    /// reader may not wait for a writer's lock it would deadlock with). The
    /// opener must wait for it, not fail: it did, once in CI, when a
    /// `status` ran as the daemon created the database.
    #[test]
    fn opening_waits_while_another_process_creates_the_database() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("agentwatch.db");
        let first = Connection::open(&p).unwrap();
        first.execute_batch("BEGIN IMMEDIATE").unwrap();
        let opener = {
            let p = p.clone();
            std::thread::spawn(move || Store::open(&p).map(|s| s.meta("x").unwrap()))
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        if opener.is_finished() {
            panic!("the opener did not wait for the lock: {:?}", opener.join().unwrap());
        }
        first.execute_batch("CREATE TABLE t (x); DROP TABLE t; COMMIT").unwrap();
        assert_eq!(opener.join().unwrap().unwrap(), None);
        drop(first);
        let mode: String = Connection::open(&p).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_damaged_or_foreign_file_is_moved_aside_and_rebuilt() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        dirs.ensure_data_dir().unwrap();
        let p = dirs.db_path();
        std::fs::write(&p, b"this is not sqlite, just some text that is long enough to matter....").unwrap();
        let e = Store::open(&p).unwrap_err().to_string();
        assert!(e.contains("not an SQLite database"), "{e}");
        let s = Store::open_in(&dirs).unwrap();
        let aside = s.recovered.clone().expect("told where the old file went");
        assert_eq!(
            std::fs::read(&aside).unwrap(),
            b"this is not sqlite, just some text that is long enough to matter...."
        );
        assert_eq!(s.meta("x").unwrap(), None, "a working new database");
        drop(s);
        assert!(Store::open_in(&dirs).unwrap().recovered.is_none(), "only once");
        // Someone else's SQLite database: left intact, moved aside.
        std::fs::remove_file(&p).unwrap();
        let c = Connection::open(&p).unwrap();
        c.execute_batch(
            "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('cat');",
        )
        .unwrap();
        drop(c);
        let s = Store::open_in(&dirs).unwrap();
        let aside = s.recovered.clone().unwrap();
        let c = Connection::open(&aside).unwrap();
        let n: i64 = c.query_row("SELECT COUNT(*) FROM photos", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "their data is untouched");
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_error() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("agentwatch.db");
        drop(Store::open(&p).unwrap());
        let c = Connection::open(&p).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        let e = Store::open(&p).unwrap_err().to_string();
        assert!(e.contains("newer agentwatch"), "{e}");
    }
}
