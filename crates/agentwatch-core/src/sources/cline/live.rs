//! Cline 4, live. `@cline/core` keeps a row per session in
//! `data/db/sessions.db` (`sessions`, cline/cline
//! `sdk/packages/shared/src/db/sqlite-db.ts`): its `pid` is the process
//! that runs it (`process.pid`, `sdk/packages/core/src/runtime/host/
//! local/session-record.ts`), its `status` is `running` until it ends, and
//! a sub-agent's row has `is_subagent` 1. So a running process is linked
//! exactly to the newest running top-level session that names one of its
//! pids. The database is opened read-only (`storage::sqlite`), never
//! written. Nothing read says where a turn stands.

use std::path::{Path, PathBuf};

use crate::sources::storage::sqlite::Db;
use crate::sources::{LiveProcess, RegistryError, TranscriptLink};

/// The session `sessions.db` says one of the process's pids runs.
pub fn registry_link(db: &Path, sessions: Option<&Path>, p: &LiveProcess) -> Result<TranscriptLink, RegistryError> {
    if !db.is_file() {
        return Err(RegistryError::Missing);
    }
    let db = Db::open(db).map_err(RegistryError::Malformed)?;
    let mut best: Option<(String, String)> = None;
    for pid in &p.pids {
        let pid = i64::from(*pid);
        db.each(
            "SELECT session_id, started_at FROM sessions
              WHERE pid = ?1 AND status = 'running' AND COALESCE(is_subagent, 0) = 0",
            &[&pid],
            &mut |r| {
                let (Ok(id), Ok(at)) = (r.get::<_, String>(0), r.get::<_, String>(1)) else { return };
                if !id.is_empty() && best.as_ref().is_none_or(|(_, b)| at > *b) {
                    best = Some((id, at));
                }
            },
        )
        .map_err(RegistryError::Malformed)?;
    }
    let (id, _) = best.ok_or(RegistryError::Missing)?;
    // Its messages file, where Cline keeps it (a session id is a plain name).
    let path: Option<PathBuf> = sessions
        .filter(|_| !id.contains(['/', '\\']) && id != "." && id != "..")
        .map(|s| s.join(&id).join(format!("{id}{}", super::paths::MESSAGES)));
    Ok(TranscriptLink { external_id: id, path, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_linked_to_the_running_session_that_names_its_pid() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("sessions.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(include_str!("fixtures/sessions-db.sql")).unwrap();
        let p = |pids: Vec<u32>| LiveProcess { pids, start: 0, cwd: None };
        let sessions = Path::new("/home/u/.cline/data/sessions");
        let l = registry_link(&db, Some(sessions), &p(vec![4100, 85916])).unwrap();
        assert_eq!(l.external_id, "1784094124598_rruoq", "the newest running top-level session of its pids");
        assert_eq!(l.path, Some(sessions.join("1784094124598_rruoq/1784094124598_rruoq.messages.json")));
        assert_eq!(registry_link(&db, None, &p(vec![4242])), Err(RegistryError::Missing), "its session ended");
        assert_eq!(registry_link(&db, None, &p(vec![1])), Err(RegistryError::Missing));
        assert_eq!(registry_link(&t.path().join("none.db"), None, &p(vec![85916])), Err(RegistryError::Missing));
        // Read only: the database is as it was.
        let n: i64 = c.query_row("SELECT count(*) FROM sessions", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 4);
    }
}
