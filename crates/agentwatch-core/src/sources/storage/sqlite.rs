//! Agents' SQLite databases (OpenCode, Kilo, Goose, Copilot …), read without
//! ever getting in the agent's way:
//! - opened read-only (`mode=ro`, `PRAGMA query_only`), so agentwatch never
//!   writes to, checkpoints or deletes anything of the agent's database;
//! - with a short busy timeout: a locked database is tried again at the
//!   next change, never waited on;
//! - read incrementally: each agent's reader keeps a watermark (its rows'
//!   `time_updated`) and asks only for rows changed since.
//!
//! The agents write in WAL mode: a change goes to `<db>-wal` first, and the
//! database file itself may not change until a checkpoint. So a database's
//! fingerprint (size and mtime) covers its WAL too, and a watcher's event on
//! the WAL is an event on its database ([`database_of`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How long a read waits for a writer's lock before giving up until the
/// next change. The agents' own busy timeouts are seconds; ours must never
/// make them wait.
const BUSY_TIMEOUT: Duration = Duration::from_millis(200);

/// An agent's database, open for reading only.
pub struct Db {
    conn: Connection,
}

impl Db {
    /// Opens `path` read-only. The error says why, in a line.
    pub fn open(path: &Path) -> Result<Db, String> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| one_line(&e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| one_line(&e))?;
        conn.execute_batch("PRAGMA query_only = 1").map_err(|e| one_line(&e))?;
        // SQLite reads the file only when asked: a file that is not a
        // database, or one locked or damaged, is said here, not taken for
        // a database of another schema.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).map_err(|e| one_line(&e))?;
        Ok(Db { conn })
    }

    /// The columns of `table`; empty when there is no such table.
    pub fn columns(&self, table: &str) -> Result<Vec<String>, String> {
        let mut st = self.conn.prepare("SELECT name FROM pragma_table_info(?1)").map_err(|e| one_line(&e))?;
        let rows = st.query_map([table], |r| r.get::<_, String>(0)).map_err(|e| one_line(&e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| one_line(&e))
    }

    /// Whether `table` has every one of `columns`: `Err` names what is
    /// missing, for a "schema not understood" line.
    pub fn require(&self, table: &str, columns: &[&str]) -> Result<(), String> {
        let have = self.columns(table)?;
        if have.is_empty() {
            return Err(format!("no table {table}"));
        }
        let missing: Vec<&str> = columns.iter().copied().filter(|c| !have.iter().any(|h| h == c)).collect();
        if missing.is_empty() { Ok(()) } else { Err(format!("table {table} has no column {}", missing.join(", "))) }
    }

    /// Runs `sql` with `params`, calling `row` for each row. A row the
    /// callback cannot use is its business (it counts it); an error of the
    /// query itself (locked, damaged) ends the read.
    pub fn each(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
        row: &mut dyn FnMut(&rusqlite::Row<'_>),
    ) -> Result<(), String> {
        let mut st = self.conn.prepare_cached(sql).map_err(|e| one_line(&e))?;
        let mut rows = st.query(params).map_err(|e| one_line(&e))?;
        while let Some(r) = rows.next().map_err(|e| one_line(&e))? {
            row(r);
        }
        Ok(())
    }
}

/// Of the rows `sql` gives in every database of `paths` that opens, the id
/// of the newest: `row` turns a row into (time in ms, id), or skips it.
/// For linking a running agent to a session (its reads are best effort: a
/// database that cannot be read now links nothing).
pub fn newest_id(
    paths: &[PathBuf],
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    row: &dyn Fn(&rusqlite::Row<'_>) -> Option<(i64, String)>,
) -> Option<String> {
    let mut best: Option<(i64, String)> = None;
    for path in paths {
        let Ok(db) = Db::open(path) else { continue };
        let _ = db.each(sql, params, &mut |r| {
            if let Some((at, id)) = row(r)
                && best.as_ref().is_none_or(|(b, _)| at > *b)
            {
                best = Some((at, id));
            }
        });
    }
    best.map(|(_, id)| id)
}

fn one_line(e: &rusqlite::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// The database a file of it belongs to: `x.db-wal` and `x.db-shm` are
/// `x.db`'s; any other path is itself.
pub fn database_of(path: &Path) -> PathBuf {
    let s = path.as_os_str().to_string_lossy();
    for suffix in ["-wal", "-shm", "-journal"] {
        if let Some(db) = s.strip_suffix(suffix) {
            return PathBuf::from(db);
        }
    }
    path.to_path_buf()
}

/// The size and modification time (ns) a database's fingerprint adds for
/// its WAL: a change committed to the WAL changes the fingerprint.
pub fn wal_fingerprint(db: &Path) -> (u64, i64) {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    match std::fs::metadata(PathBuf::from(wal)) {
        // An empty WAL holds no commit: SQLite makes one when a reader (this
        // one) opens a database in WAL mode whose WAL a checkpoint removed.
        Ok(m) if m.len() == 0 => (0, 0),
        Ok(m) => {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            (m.len(), mtime)
        }
        Err(_) => (0, 0),
    }
}

/// For tests of an agent's [`TableReader`](crate::sources::TableReader):
/// reads, and what the store keeps of them.
#[cfg(test)]
pub(crate) mod check {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::Db;
    use crate::model::UsageEvent;
    use crate::sources::{Record, SessionInfo, TableReader};

    /// One read of `path` by `reader`: its records and its malformed rows.
    pub(crate) fn read(reader: &mut dyn TableReader, path: &Path) -> (Vec<Record>, u64) {
        let mut out = Vec::new();
        let bad = reader.read(&Db::open(path).unwrap(), &mut out).unwrap();
        (out, bad)
    }

    /// What the store keeps of these reads, in order: of each call its last
    /// copy (a row the agent updates only grows, and the store keeps the
    /// bigger copy), by key; each session once, its last copy, by id.
    pub(crate) fn kept(reads: &[&[Record]]) -> (Vec<UsageEvent>, Vec<SessionInfo>) {
        let mut calls = BTreeMap::new();
        let mut sessions = BTreeMap::new();
        for r in reads.iter().flat_map(|r| r.iter()) {
            match r {
                Record::Usage(u) => {
                    calls.insert((u.key.id, u.key.check), u.clone());
                }
                Record::Session(s) => {
                    sessions.insert(s.external_id.clone(), s.clone());
                }
                Record::Limit(_) => {}
            }
        }
        (calls.into_values().collect(), sessions.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(path: &Path) -> Connection {
        let c = Connection::open(path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL);
             INSERT INTO t VALUES ('a', 1), ('b', 2);",
        )
        .unwrap();
        c
    }

    #[test]
    fn reads_without_writing_and_names_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let writer = make(&path);
        let db = Db::open(&path).unwrap();
        let mut seen = Vec::new();
        db.each("SELECT id, n FROM t WHERE n >= ?1 ORDER BY id", &[&2], &mut |r| {
            seen.push((r.get::<_, String>(0).unwrap(), r.get::<_, i64>(1).unwrap()))
        })
        .unwrap();
        assert_eq!(seen, vec![("b".to_string(), 2)]);
        assert!(db.each("INSERT INTO t VALUES ('c', 3)", &[], &mut |_| {}).is_err(), "read-only");
        assert_eq!(db.require("t", &["id", "n"]), Ok(()));
        assert_eq!(db.require("t", &["id", "data"]), Err("table t has no column data".into()));
        assert_eq!(db.require("u", &["id"]), Err("no table u".into()));
        // The agent keeps writing while we hold the database open.
        writer.execute("INSERT INTO t VALUES ('c', 3)", []).unwrap();
        let mut n = 0;
        db.each("SELECT count(*) FROM t", &[], &mut |r| n = r.get::<_, i64>(0).unwrap()).unwrap();
        assert_eq!(n, 3);
        drop(db);
        // Closing our connection did not checkpoint the agent's WAL away.
        assert!(wal_fingerprint(&path).0 > 0, "the WAL is still there");
    }

    #[test]
    fn reading_a_checkpointed_database_changes_not_its_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.db");
        drop(make(&path)); // the agent closed it: checkpointed, its WAL removed
        let before = wal_fingerprint(&path);
        let db = Db::open(&path).unwrap();
        let mut n = 0;
        db.each("SELECT count(*) FROM t", &[], &mut |r| n = r.get::<_, i64>(0).unwrap()).unwrap();
        drop(db);
        assert_eq!(n, 2);
        // SQLite may leave an empty WAL behind our read: no commit in it.
        assert_eq!(wal_fingerprint(&path), before);
        let c = Connection::open(&path).unwrap();
        c.execute("INSERT INTO t VALUES ('c', 3)", []).unwrap();
        assert!(wal_fingerprint(&path).0 > 0, "a commit is in the WAL: {:?}", wal_fingerprint(&path));
    }

    #[test]
    fn a_wal_or_shm_file_is_its_database() {
        assert_eq!(database_of(Path::new("/d/opencode.db-wal")), PathBuf::from("/d/opencode.db"));
        assert_eq!(database_of(Path::new("/d/opencode.db-shm")), PathBuf::from("/d/opencode.db"));
        assert_eq!(database_of(Path::new("/d/opencode.db")), PathBuf::from("/d/opencode.db"));
    }

    #[test]
    fn garbage_is_an_error_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.db");
        std::fs::write(&path, b"this is not a database, just text that goes on for a while").unwrap();
        let e = Db::open(&path).err().expect("not opened");
        assert!(e.contains("not a database"), "{e}");
        assert!(!e.contains('\n'));
    }
}
