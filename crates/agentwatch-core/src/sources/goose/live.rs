//! Goose, live: which session a running `goose session` works in, from
//! its database. A session row holds its `working_dir` and `created_at`;
//! a process is linked to the newest session created in its working
//! directory since it started (a resumed one is not linked this way).
//! Nothing of Goose's read says where a turn stands.

use std::path::PathBuf;

use crate::sources::storage::sqlite::newest_id;
use crate::sources::{LiveProcess, TranscriptLink};

/// The newest session of `databases` created in the process's directory
/// since it started (2 s of slack).
pub fn newest_session(databases: &[PathBuf], p: &LiveProcess) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let since = (p.start - 2) * 1000;
    // `created_at` is text in two formats: compared once parsed.
    let id = newest_id(databases, "SELECT id, created_at FROM sessions WHERE working_dir = ?1", &[&cwd], &|r| {
        let at = super::parser::parse_time(&r.get::<_, String>(1).ok()?)?.timestamp_millis();
        if at < since {
            return None;
        }
        Some((at, r.get(0).ok()?))
    })?;
    Some(TranscriptLink { external_id: id, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_the_session_created_in_its_directory_since_it_started() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("sessions.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(include_str!("fixtures/goose-v13.sql")).unwrap();
        let now = chrono::Utc::now();
        for (id, at) in [
            ("20261207_1", (now - chrono::Duration::seconds(1)).format("%Y-%m-%d %H:%M:%S").to_string()),
            ("20261207_2", now.to_rfc3339()),
        ] {
            c.execute("INSERT INTO sessions (id, working_dir, created_at) VALUES (?1, '/home/u/proj', ?2)", [id, &at])
                .unwrap();
        }
        let p = |cwd: &str, ago: i64| LiveProcess {
            pids: vec![1],
            start: chrono::Utc::now().timestamp() - ago,
            cwd: Some(cwd.into()),
        };
        let dbs = vec![db];
        let l = newest_session(&dbs, &p("/home/u/proj", 30)).unwrap();
        assert_eq!(l.external_id, "20261207_2", "the newest, in either format");
        assert_eq!(newest_session(&dbs, &p("/home/u/app", 30)), None, "its 2026-05 session is older");
        assert_eq!(newest_session(&dbs, &p("/home/u/proj", -60)), None);
    }
}
