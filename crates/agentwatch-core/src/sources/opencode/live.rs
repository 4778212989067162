//! OpenCode (and Kilo CLI), live: which session a running process works
//! in, from its database. A session row holds its `directory` and when it
//! was created (`time_created`, ms); a process is linked to the newest
//! session created in its working directory since it started. A session
//! resumed from before (`--continue`) is not linked this way: its process
//! is shown without one rather than with another's. Only agentwatch's
//! plugin says where a turn stands.

use std::path::PathBuf;

use crate::sources::storage::sqlite::newest_id;
use crate::sources::{LiveProcess, TranscriptLink};

/// The newest session of `databases` created in the process's directory
/// since it started (2 s of slack for the clocks).
pub fn newest_session(databases: &[PathBuf], p: &LiveProcess) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let since = (p.start - 2) * 1000;
    let id = newest_id(
        databases,
        "SELECT id, time_created FROM session
         WHERE directory = ?1 AND time_created >= ?2 AND parent_id IS NULL
         ORDER BY time_created DESC LIMIT 1",
        &[&cwd, &since],
        &|r| Some((r.get(1).ok()?, r.get(0).ok()?)),
    )?;
    Some(TranscriptLink { external_id: id, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_the_session_created_in_its_directory_since_it_started() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("opencode.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(include_str!("fixtures/opencode-1.18.33.sql")).unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        c.execute(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated)
             SELECT 'ses_new', project_id, NULL, 'new', '/home/u/app', 'new', version, ?1, ?1 FROM session LIMIT 1",
            [now],
        )
        .unwrap();
        c.execute(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated)
             SELECT 'ses_child', project_id, 'ses_new', 'child', '/home/u/app', 'child', version, ?1, ?1 FROM session LIMIT 1",
            [now + 5],
        )
        .unwrap();
        let p = |cwd: &str, ago: i64| LiveProcess {
            pids: vec![1],
            start: chrono::Utc::now().timestamp() - ago,
            cwd: Some(cwd.into()),
        };
        let dbs = vec![db];
        assert_eq!(newest_session(&dbs, &p("/home/u/app", 10)).map(|l| l.external_id).as_deref(), Some("ses_new"));
        assert_eq!(newest_session(&dbs, &p("/home/u/elsewhere", 10)), None);
        assert_eq!(newest_session(&dbs, &p("/home/u/app", -60)), None, "created before it started");
    }
}
