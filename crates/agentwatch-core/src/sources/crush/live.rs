//! Crush, live: which session a running `crush` works in. The process's
//! working directory gives its project's database (the data directory
//! `projects.json` lists for it, else `<cwd>/.crush/crush.db`); it is linked
//! to the top-level session of that database updated most recently since it
//! started (`updated_at` moves at every step). Nothing of Crush's read says
//! where a turn stands.

use std::path::Path;

use crate::sources::storage::sqlite::newest_id;
use crate::sources::{LiveProcess, TranscriptLink};

use super::paths::{self, Project};

/// The newest top-level session of the process's project updated since it
/// started (2 s of slack).
pub fn newest_session(projects: &[Project], p: &LiveProcess) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_deref()?;
    let db = paths::data_dir_of(projects, cwd).join(paths::DATABASE);
    newest_in(&db, p.start)
}

fn newest_in(db: &Path, start: i64) -> Option<TranscriptLink> {
    if !std::fs::symlink_metadata(db).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let since = (start - 2) * 1000;
    let id = newest_id(
        &[db.to_path_buf()],
        "SELECT id, updated_at FROM sessions WHERE parent_session_id IS NULL OR parent_session_id = ''",
        &[],
        &|r| {
            let at = super::parser::time(r.get::<_, i64>(1).ok()?)?.timestamp_millis();
            (at >= since).then(|| Some((at, r.get(0).ok()?)))?
        },
    )?;
    Some(TranscriptLink { external_id: id, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_the_session_updated_in_its_project_since_it_started() {
        let t = tempfile::tempdir().unwrap();
        let proj = t.path().join("proj");
        std::fs::create_dir_all(proj.join(".crush")).unwrap();
        let c = rusqlite::Connection::open(proj.join(".crush/crush.db")).unwrap();
        c.execute_batch(include_str!("fixtures/crush.sql")).unwrap();
        let now = chrono::Utc::now().timestamp();
        for (id, parent, at) in [("old", None, now - 3600), ("new", None, now), ("sub", Some("new"), now + 1)] {
            c.execute(
                "INSERT INTO sessions (id, parent_session_id, title, updated_at, created_at) VALUES (?1, ?2, 't', ?3, ?3)",
                rusqlite::params![id, parent, at],
            )
            .unwrap();
        }
        let p = |cwd: &Path, ago: i64| LiveProcess { pids: vec![1], start: now - ago, cwd: Some(cwd.into()) };
        let l = newest_session(&[], &p(&proj, 30)).unwrap();
        assert_eq!(l.external_id, "new", "the newest top-level session, not its sub-agent's");
        assert_eq!(newest_session(&[], &p(&proj, -60)), None, "nothing updated since it started");
        assert_eq!(newest_session(&[], &p(&t.path().join("other"), 30)), None);
        // A data directory projects.json names elsewhere.
        let listed = [Project { path: t.path().join("app"), data_dir: proj.join(".crush") }];
        assert_eq!(newest_session(&listed, &p(&t.path().join("app"), 30)).unwrap().external_id, "new");
    }
}
