//! A project's `crush.db`, read as records.
//!
//! Crush keeps no row per model call, and no token totals: a session row's
//! `prompt_tokens` and `completion_tokens` are overwritten with the last
//! step's counts (`internal/agent/agent.go`, `updateSessionTokenCounters`),
//! so they are never read as usage. Its `cost` is the running total Crush
//! priced itself (the catwalk price of each step's tokens, or OpenRouter's
//! own figure), and a finished sub-agent's cost is added into its parent's
//! (`internal/agent/coordinator.go`, `updateParentSessionCost`).
//!
//! So usage is cost only, tokens unknown: each top-level session with a cost
//! is one call, keyed by the session, with no tokens and the session's
//! `cost` as its recorded cost (provenance "transcript"). Read again as the
//! session grows, the higher cost replaces the lower under the same key
//! (the store keeps the copy with more tokens, then the higher cost). It
//! counts on the day the session was created, as Goose's running totals do.
//! A sub-agent's session (`parent_session_id` set) is a session with no
//! call of its own: its cost is in its parent's once it finishes.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::storage::sqlite::Db;
use crate::sources::{LineError, Record, SessionInfo, TableReader, plausible_cost};

use super::AGENT;

/// The model of a session none of whose messages names one.
pub const UNKNOWN_MODEL: &str = "unknown";

const SESSION_COLUMNS: &[&str] = &["id", "parent_session_id", "created_at", "cost"];
const MESSAGE_COLUMNS: &[&str] = &["session_id", "model", "created_at"];

/// Reads every session at each change: one row per session, few rows.
pub struct CrushReader {
    /// The project the database belongs to (from `projects.json`).
    pub project: Option<String>,
}

impl TableReader for CrushReader {
    fn read(&mut self, db: &Db, out: &mut Vec<Record>) -> Result<u64, String> {
        let schema = |e| format!("Crush database schema not understood: {e}");
        db.require("sessions", SESSION_COLUMNS).map_err(schema)?;
        db.require("messages", MESSAGE_COLUMNS).map_err(schema)?;
        let mut malformed = 0;
        db.each(
            "SELECT s.id, s.parent_session_id, s.created_at, s.cost,
                    (SELECT m.model FROM messages m WHERE m.session_id = s.id AND m.model IS NOT NULL AND m.model != ''
                     ORDER BY m.created_at DESC, m.rowid DESC LIMIT 1)
             FROM sessions s",
            &[],
            &mut |r| {
                let row = (|| {
                    let id: Option<String> = r.get(0).map_err(|_| LineError::Malformed)?;
                    let parent: Option<String> = r.get(1).map_err(|_| LineError::Malformed)?;
                    let model: Option<String> = r.get(4).map_err(|_| LineError::Malformed)?;
                    let row = Row {
                        id: &id.ok_or(LineError::Malformed)?,
                        parent: parent.as_deref(),
                        created_at: r.get(2).map_err(|_| LineError::Malformed)?,
                        cost: r.get(3).map_err(|_| LineError::Malformed)?,
                        model: model.as_deref(),
                    };
                    session_records(&row, self.project.as_deref(), out)
                })();
                if row.is_err() {
                    malformed += 1;
                }
            },
        )?;
        Ok(malformed)
    }

    fn state(&self) -> Option<String> {
        None
    }
}

/// One `sessions` row, with the newest model its messages name.
pub struct Row<'a> {
    pub id: &'a str,
    pub parent: Option<&'a str>,
    /// Seconds since the epoch (`strftime('%s', 'now')`).
    pub created_at: i64,
    pub cost: f64,
    pub model: Option<&'a str>,
}

/// The session, and its cost so far as one call if it is a top-level
/// session with a cost.
pub fn session_records(row: &Row<'_>, project: Option<&str>, out: &mut Vec<Record>) -> Result<(), LineError> {
    if row.id.is_empty() {
        return Err(LineError::Malformed);
    }
    let started = time(row.created_at).ok_or(LineError::Malformed)?;
    let cost = plausible_cost(Some(row.cost)).ok_or(LineError::Malformed)?;
    out.push(Record::Session(SessionInfo {
        external_id: row.id.to_string(),
        project_path: project.map(str::to_string),
        agent_version: None,
        started_at: Some(started),
    }));
    let top_level = row.parent.is_none_or(str::is_empty);
    if !top_level || cost <= 0.0 {
        return Ok(());
    }
    let model = row.model.map(str::trim).filter(|m| !m.is_empty());
    out.push(Record::Usage(UsageEvent {
        key: EventKey::of(&[AGENT, row.id]),
        session_external_id: Arc::from(row.id),
        timestamp: started,
        model: Arc::from(model.unwrap_or(UNKNOWN_MODEL)),
        model_fallback: model.is_none(),
        fast: false,
        sidechain: false,
        tokens: Tokens::default(),
        cost_usd: Some(cost),
    }));
    Ok(())
}

/// A time as Crush writes it: seconds since the epoch (its schema's comments
/// say milliseconds; a value that large is taken as such).
pub(crate) fn time(n: i64) -> Option<DateTime<Utc>> {
    if n <= 0 {
        return None;
    }
    if n > 100_000_000_000 { DateTime::from_timestamp_millis(n) } else { DateTime::from_timestamp(n, 0) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    fn fixture(dir: &std::path::Path) -> (std::path::PathBuf, rusqlite::Connection) {
        let path = dir.join("crush.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!("fixtures/crush.sql")).unwrap();
        (path, c)
    }

    fn read(path: &std::path::Path) -> (Vec<Record>, u64) {
        let mut out = Vec::new();
        let mut reader = CrushReader { project: Some("/home/u/proj".into()) };
        let bad = reader.read(&Db::open(path).unwrap(), &mut out).unwrap();
        (out, bad)
    }

    #[test]
    fn the_fixture_database() {
        let dir = tempfile::tempdir().unwrap();
        let (path, c) = fixture(dir.path());
        let (out, bad) = read(&path);
        assert_eq!(bad, 1, "the session whose created_at is not a time");
        let sessions: Vec<&SessionInfo> = out
            .iter()
            .filter_map(|r| match r {
                Record::Session(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(sessions.len(), 6, "sub-agents' and empty sessions are sessions");
        assert_eq!(sessions[0].project_path.as_deref(), Some("/home/u/proj"));
        assert_eq!(sessions[0].started_at.unwrap().to_rfc3339(), "2026-05-01T01:02:03+00:00");
        let calls = calls(&out);
        let got: Vec<(&str, &str, bool, Option<f64>, String)> = calls
            .iter()
            .map(|c| (&*c.session_external_id, &*c.model, c.model_fallback, c.cost_usd, c.timestamp.to_rfc3339()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "5b0c7e2a-4f1d-4c3e-9a51-2f7d0c1e0001",
                    "claude-sonnet-4-5-20250929",
                    false,
                    Some(0.4213),
                    "2026-05-01T01:02:03+00:00".to_string()
                ),
                (
                    "7d9e1f30-2b6a-4d8c-8e02-6a1b3c4d0002",
                    "gpt-5",
                    false,
                    Some(0.0385),
                    "2026-05-01T23:59:30+00:00".into()
                ),
                (
                    "e1f2a3b4-0000-4000-8000-000000000004",
                    UNKNOWN_MODEL,
                    true,
                    Some(0.25),
                    "2026-05-02T10:00:00+00:00".into()
                ),
            ],
            "top-level sessions with a cost; the sub-agent's cost is in its parent's, the orphan's nowhere"
        );
        assert!(calls.iter().all(|c| c.tokens == Tokens::default()), "tokens are unknown, never the last step's");
        // It grows: read again, the same call with the higher cost.
        c.execute("UPDATE sessions SET cost = 0.5 WHERE id = '5b0c7e2a-4f1d-4c3e-9a51-2f7d0c1e0001'", []).unwrap();
        let (again, _) = read(&path);
        let grown = crate::sources::calls(&again)[0];
        assert_eq!((grown.key, grown.cost_usd), (calls[0].key, Some(0.5)));
    }

    #[test]
    fn another_schema_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crush.db");
        rusqlite::Connection::open(&path).unwrap().execute_batch("CREATE TABLE sessions (id TEXT)").unwrap();
        let err = CrushReader { project: None }.read(&Db::open(&path).unwrap(), &mut Vec::new()).unwrap_err();
        assert!(err.starts_with("Crush database schema not understood"), "{err}");
    }

    #[test]
    fn times_as_crush_writes_them() {
        assert_eq!(time(1777597323).unwrap().to_rfc3339(), "2026-05-01T01:02:03+00:00");
        assert_eq!(time(1777597323000).unwrap().to_rfc3339(), "2026-05-01T01:02:03+00:00");
        assert_eq!(time(0), None);
    }
}
