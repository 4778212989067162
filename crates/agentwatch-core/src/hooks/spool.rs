//! The hook spool: where a hook call leaves its event when the database
//! stays locked longer than an agent should wait (a long first ingest, a
//! burst of writers). Nothing is lost and the agent is not held up.
//!
//! Each event is one file, `<time ms>-<uuid>.json`, written whole and then
//! renamed into place. The next writer that holds the write lock, the
//! daemon at its next scan or the next hook call before its own event,
//! applies the spooled events in the order they came. It records each file's
//! name in the same transaction (`hook_spool_applied`), so a file left
//! behind by a writer killed between its commit and the file's removal is
//! removed, not applied again.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::paths::{Dirs, create_private_dir};
use crate::store::Store;

/// Names of applied events are kept this long (files are removed at once;
/// the names only guard against a writer killed in between).
const KEEP_NAMES_MS: i64 = 7 * 24 * 3_600_000;

/// The spool folder in the data dir.
pub fn dir(dirs: &Dirs) -> PathBuf {
    dirs.data.join("spool").join("hooks")
}

#[derive(Debug, Serialize, Deserialize)]
struct Spooled {
    agent: String,
    at: i64,
    payload: Value,
}

/// Leaves a hook event for the next writer. Returns its file.
pub fn put(dirs: &Dirs, agent: &str, payload: &Value, at: i64) -> Result<PathBuf> {
    create_private_dir(&dirs.data)?;
    create_private_dir(&dirs.data.join("spool"))?;
    let dir = dir(dirs);
    create_private_dir(&dir)?;
    let name = format!("{:013}-{}.json", at.max(0), uuid::Uuid::new_v4().simple());
    let (tmp, path) = (dir.join(format!(".{name}.tmp")), dir.join(&name));
    let body = serde_json::to_vec(&Spooled { agent: agent.into(), at, payload: payload.clone() })
        .map_err(|e| Error::Other(format!("spooling a hook event: {e}")))?;
    let mut o = std::fs::OpenOptions::new();
    o.create_new(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let write = |o: &std::fs::OpenOptions| -> std::io::Result<()> {
        let mut f = o.open(&tmp)?;
        std::io::Write::write_all(&mut f, &body)?;
        f.sync_data()
    };
    if let Err(e) = write(&o).and_then(|_| std::fs::rename(&tmp, &path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&path, e));
    }
    Ok(path)
}

/// What [`apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Files whose events are now in the store (or were refused): remove
    /// them with [`remove`] once the transaction has committed.
    pub files: Vec<PathBuf>,
    /// Events recorded.
    pub recorded: usize,
    /// Events refused (a payload without a session, say), with why.
    pub refused: Vec<String>,
}

/// Applies every spooled event, oldest first. Call it inside
/// [`Store::atomically`], then [`remove`] the files after the commit.
pub fn apply(store: &Store, cfg: &Config, dirs: &Dirs, now: i64) -> Result<Applied> {
    let mut out = Applied::default();
    let Ok(entries) = std::fs::read_dir(dir(dirs)) else { return Ok(out) };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            if n.starts_with('.') {
                remove_if_abandoned(&dir(dirs).join(n));
            }
            n.ends_with(".json") && !n.starts_with('.')
        })
        .collect();
    if names.is_empty() {
        return Ok(out);
    }
    names.sort();
    let env = crate::sources::SourceEnv::from_process();
    for name in names {
        let path = dir(dirs).join(&name);
        if !store.spool_applied(&name)? {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                // Applied and removed by another writer since the listing.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&path, e)),
            };
            match serde_json::from_slice::<Spooled>(&bytes) {
                Ok(ev) => match super::record(store, cfg, &env, &ev.agent, &ev.payload, ev.at) {
                    Ok(_) => out.recorded += 1,
                    Err(e @ (Error::Usage(_) | Error::NotFound(_))) => out.refused.push(format!("{name}: {e}")),
                    Err(e) => return Err(e),
                },
                Err(e) => out.refused.push(format!("{name}: not a spooled hook event: {e}")),
            }
            store.mark_spool_applied(&name, now)?;
        }
        out.files.push(path);
    }
    store.forget_spool_names(now - KEEP_NAMES_MS)?;
    Ok(out)
}

/// A temp file a hook killed while writing left behind: removed after an
/// hour (a live writer renames its own within milliseconds).
fn remove_if_abandoned(tmp: &Path) {
    let old = std::fs::metadata(tmp)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > std::time::Duration::from_secs(3600)));
    if old {
        let _ = std::fs::remove_file(tmp);
    }
}

/// Removes applied files (after their transaction committed).
pub fn remove(files: &[PathBuf]) {
    for f in files {
        let _ = std::fs::remove_file(f);
    }
}

/// Applies the spool in a transaction of its own and removes the files: the
/// daemon's and the desktop app's monitor call this on every scan.
pub fn drain(store: &Store, cfg: &Config, dirs: &Dirs) -> Result<Applied> {
    if is_empty(&dir(dirs)) {
        return Ok(Applied::default());
    }
    let applied = store.atomically(|| apply(store, cfg, dirs, crate::util::now_ms()))?;
    remove(&applied.files);
    Ok(applied)
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map_or(true, |mut d| !d.any(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.'))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn post_tool(tool: &str) -> Value {
        json!({"session_id": "s-1", "hook_event_name": "PostToolUse", "cwd": "/w", "tool_name": tool})
    }

    fn tools(store: &Store) -> i64 {
        store.conn().query_row("SELECT tool_calls FROM sessions WHERE external_id = 's-1'", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_file_left_behind_after_its_commit_is_removed_not_applied_again() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        let store = Store::open_in(&dirs).unwrap();
        let cfg = Config::default();
        put(&dirs, "claude-code", &post_tool("Bash"), 1_000).unwrap();
        put(&dirs, "claude-code", &post_tool("Read"), 2_000).unwrap();
        // Committed, then killed before removing the files.
        let a = store.atomically(|| apply(&store, &cfg, &dirs, 3_000)).unwrap();
        assert_eq!((a.recorded, a.files.len()), (2, 2));
        assert_eq!(tools(&store), 2);
        let again = drain(&store, &cfg, &dirs).unwrap();
        assert_eq!((again.recorded, again.files.len()), (0, 2));
        assert_eq!(tools(&store), 2, "counted once");
        assert!(is_empty(&dir(&dirs)));
    }

    #[test]
    fn a_refused_event_is_dropped_and_said_and_a_failed_transaction_keeps_the_files() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        let store = Store::open_in(&dirs).unwrap();
        let cfg = Config::default();
        put(&dirs, "claude-code", &json!({"hook_event_name": "Stop"}), 1_000).unwrap();
        put(&dirs, "claude-code", &post_tool("Bash"), 2_000).unwrap();
        // A transaction that fails after applying: nothing lands, nothing is removed.
        let failed: Result<()> = store.atomically(|| {
            apply(&store, &cfg, &dirs, 3_000)?;
            Err(Error::Other("later step failed".into()))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_dir(dir(&dirs)).unwrap().count(), 2);
        let a = drain(&store, &cfg, &dirs).unwrap();
        assert_eq!(a.recorded, 1);
        assert_eq!(a.refused.len(), 1);
        assert!(a.refused[0].contains("no session_id"), "{:?}", a.refused);
        assert_eq!(tools(&store), 1);
        assert!(is_empty(&dir(&dirs)));
    }
}
