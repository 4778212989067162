//! The SQLite store: one file, WAL mode, versioned migrations.
//!
//! Several processes may write at once (the daemon, `mcp-proxy`, `hook`);
//! WAL plus a busy timeout keeps them consistent, and every write that must
//! be all-or-nothing runs in one transaction.

mod ingest;
mod live;
mod push;
mod sessions;
mod usage;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use rusqlite_migration::{M, Migrations};

pub use ingest::{BUCKET_MS, FileCursor, IngestWriter, WriterStats, flags};
pub use live::{EventRecord, ProcessFacts, ToolCallRecord, Transition, event};
pub use push::{Registration, Report};
pub use sessions::*;
pub use usage::*;

use crate::error::{Error, Result};
use crate::paths::Dirs;

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("migrations/001_initial.sql")),
        M::up(include_str!("migrations/002_live.sql")),
    ])
});

/// The newest schema version this build knows.
pub fn schema_version() -> usize {
    2
}

/// An open agentwatch database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database in the data dir.
    pub fn open_in(dirs: &Dirs) -> Result<Store> {
        dirs.ensure_data_dir()?;
        Store::open(&dirs.db_path())
    }

    /// Opens (creating if needed) the database at `path`. A new file is
    /// created readable by the user only (0600).
    pub fn open(path: &Path) -> Result<Store> {
        create_private_file(path)?;
        let db_err = |e: rusqlite::Error| Error::Database { path: path.to_path_buf(), message: explain(&e) };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -16000;",
        )
        .map_err(db_err)?;
        migrate(&mut conn, path)?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// A value from the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// Attaches the database path to an error from a query.
    pub fn err(&self, e: rusqlite::Error) -> Error {
        Error::Database { path: self.path.clone(), message: explain(&e) }
    }
}

/// Creates the file with mode 0600 if it does not exist, and narrows the mode
/// of an existing one.
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
            "the database stayed locked by another agentwatch process".into()
        }
        _ => e.to_string(),
    }
}

/// Brings the schema up to date. Several processes may open a new database at
/// once (the daemon, the CLI, a hook): a lock file lets one migrate while the
/// others wait, then find nothing left to do.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| Error::Database { path: path.to_path_buf(), message: explain(&e) })?;
    if version == schema_version() as i64 {
        return Ok(());
    }
    let lock_path = path.with_extension("db.migrate-lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    let r = MIGRATIONS.to_latest(conn).map_err(|e| migration_error(path, e));
    let _ = lock.unlock();
    r
}

fn migration_error(path: &Path, e: rusqlite_migration::Error) -> Error {
    let message = match &e {
        rusqlite_migration::Error::MigrationDefinition(
            rusqlite_migration::MigrationDefinitionError::DatabaseTooFarAhead,
        ) => format!(
            "written by a newer agentwatch (schema newer than version {}); upgrade agentwatch or use another --data-dir",
            schema_version()
        ),
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

    #[test]
    fn a_foreign_file_is_a_clear_error() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("agentwatch.db");
        std::fs::write(&p, b"this is not sqlite, just some text that is long enough to matter....").unwrap();
        let e = Store::open(&p).unwrap_err().to_string();
        assert!(e.contains("not an SQLite database"), "{e}");
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
