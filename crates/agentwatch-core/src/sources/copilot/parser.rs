//! Copilot CLI's `session-store.db`, read as records: a `sessions` row is a
//! session, an `assistant_usage_events` row a model call. The rows are what
//! [`storage::sqlite`](crate::sources::storage::sqlite) reads; this file
//! never opens one.
//!
//! What a call row holds (checked against the real 1.0.102, whose own
//! summary at exit says "↑ 360 (192 cached) • ↓ 120 (24 reasoning)" for
//! the three calls of the fixture): `input_tokens` is the whole prompt, the
//! cached part (`cache_read_tokens`, `cache_write_tokens`) inside it;
//! `output_tokens` the whole completion, `reasoning_tokens` inside it;
//! `total_nano_aiu` what GitHub billed for it in nano AI units (none for a
//! model of the person's own provider key), 10^11 of them a dollar;
//! `created_at` RFC 3339.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::storage::sqlite::Db;
use crate::sources::{LineError, MAX_TOKENS, Record, SessionInfo, TableReader, parse_ts, plausible_cost};

use super::AGENT;

const SESSION_COLUMNS: &[&str] = &["id", "cwd", "created_at"];
const CALL_COLUMNS: &[&str] = &[
    "id",
    "session_id",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_nano_aiu",
    "created_at",
];

/// Nano AI units in a US dollar (an AI unit, an "AI credit", is one cent).
pub const NANO_AIU_PER_USD: f64 = 1e11;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct State {
    /// The last `assistant_usage_events.id` read: ids only grow
    /// (`AUTOINCREMENT`), and a call's row is written once, when it ends.
    calls: i64,
}

pub struct CopilotReader {
    state: State,
}

impl CopilotReader {
    pub fn new(state: Option<&str>) -> CopilotReader {
        CopilotReader { state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default() }
    }
}

impl TableReader for CopilotReader {
    fn read(&mut self, db: &Db, out: &mut Vec<Record>) -> Result<u64, String> {
        let schema = |e: String| format!("Copilot CLI database schema not understood: {e}");
        db.require("sessions", SESSION_COLUMNS).map_err(schema)?;
        db.require("assistant_usage_events", CALL_COLUMNS).map_err(schema)?;
        let mut malformed = 0u64;
        // One row per session: read whole (a session's row changes as it goes on).
        db.each("SELECT id, cwd, created_at FROM sessions", &[], &mut |r| {
            let row = (|| {
                let id: String = r.get(0).map_err(|_| LineError::Malformed)?;
                let cwd: Option<String> = r.get(1).map_err(|_| LineError::Malformed)?;
                let created: Option<String> = r.get(2).map_err(|_| LineError::Malformed)?;
                Ok::<_, LineError>(SessionInfo {
                    external_id: id,
                    project_path: cwd.filter(|c| !c.is_empty()),
                    agent_version: None,
                    started_at: created.as_deref().and_then(time),
                })
            })();
            match row {
                Ok(s) => out.push(Record::Session(s)),
                Err(_) => malformed += 1,
            }
        })?;
        let mut last = self.state.calls;
        db.each(
            "SELECT id, session_id, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
                    reasoning_tokens, total_nano_aiu, created_at
             FROM assistant_usage_events WHERE id > ?1 ORDER BY id",
            &[&self.state.calls],
            &mut |r| {
                let row = (|| {
                    let id: i64 = r.get(0).map_err(|_| LineError::Malformed)?;
                    last = last.max(id);
                    let n = |i| r.get::<_, Option<i64>>(i).map_err(|_| LineError::Malformed);
                    let created = r.get::<_, Option<String>>(9).map_err(|_| LineError::Malformed)?;
                    let call = Call {
                        id,
                        session: &r.get::<_, String>(1).map_err(|_| LineError::Malformed)?,
                        model: &r.get::<_, String>(2).map_err(|_| LineError::Malformed)?,
                        input: n(3)?,
                        output: n(4)?,
                        cache_read: n(5)?,
                        cache_write: n(6)?,
                        reasoning: n(7)?,
                        nano_aiu: r.get::<_, Option<f64>>(8).map_err(|_| LineError::Malformed)?,
                        created_at: created.as_deref(),
                    };
                    call_usage(&call)
                })();
                match row {
                    Ok(Some(ev)) => out.push(Record::Usage(ev)),
                    Ok(None) => {}
                    Err(_) => malformed += 1,
                }
            },
        )?;
        self.state.calls = last;
        Ok(malformed)
    }

    fn state(&self) -> Option<String> {
        Some(serde_json::to_string(&self.state).expect("state serializes"))
    }
}

/// One `assistant_usage_events` row.
pub struct Call<'a> {
    pub id: i64,
    pub session: &'a str,
    pub model: &'a str,
    pub input: Option<i64>,
    pub output: Option<i64>,
    pub cache_read: Option<i64>,
    pub cache_write: Option<i64>,
    pub reasoning: Option<i64>,
    pub nano_aiu: Option<f64>,
    pub created_at: Option<&'a str>,
}

fn time(t: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    parse_ts(t).or_else(|| {
        // SQLite's `datetime('now')`, the column's default: UTC.
        chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok().map(|d| d.and_utc())
    })
}

/// The call a row records; `None` for one without tokens.
pub fn call_usage(c: &Call<'_>) -> Result<Option<UsageEvent>, LineError> {
    let count = |n: Option<i64>| match n.unwrap_or(0) {
        n if n < 0 || n as u64 > MAX_TOKENS => Err(LineError::Malformed),
        n => Ok(n as u64),
    };
    let (prompt, output) = (count(c.input)?, count(c.output)?);
    let (cache_read, cache_write, reasoning) = (count(c.cache_read)?, count(c.cache_write)?, count(c.reasoning)?);
    // The cached part is inside the prompt; a row that says otherwise is not one Copilot writes.
    let Some(input) = prompt.checked_sub(cache_read + cache_write) else { return Err(LineError::Malformed) };
    let tokens = Tokens { input, output, cache_write_5m: cache_write, cache_write_1h: 0, cache_read, reasoning };
    if tokens.is_zero() {
        return Ok(None);
    }
    let timestamp = c.created_at.and_then(time).ok_or(LineError::Malformed)?;
    let model = c.model.trim();
    let cost = plausible_cost(c.nano_aiu.map(|n| n / NANO_AIU_PER_USD)).filter(|c| *c > 0.0);
    Ok(Some(UsageEvent {
        key: EventKey::of(&[AGENT, c.session, &c.id.to_string()]),
        session_external_id: Arc::from(c.session),
        timestamp,
        model: Arc::from(if model.is_empty() { "unknown" } else { model }),
        model_fallback: model.is_empty(),
        fast: false,
        sidechain: false,
        tokens,
        cost_usd: cost,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    fn real_db(dir: &std::path::Path) -> (std::path::PathBuf, rusqlite::Connection) {
        let path = dir.join("session-store.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!("fixtures/session-store-1.0.102.sql")).unwrap();
        (path, c)
    }

    #[test]
    fn the_real_database_as_copilot_counted_it_then_only_new_calls() {
        let dir = tempfile::tempdir().unwrap();
        let (path, agent) = real_db(dir.path());
        let mut r = CopilotReader::new(None);
        let mut out = Vec::new();
        assert_eq!(r.read(&Db::open(&path).unwrap(), &mut out).unwrap(), 0);
        let c = calls(&out);
        assert_eq!(c.len(), 3);
        // The stub's usage: prompt 120 with 64 cached, completion 40 with 8 reasoning.
        for call in &c {
            assert_eq!(
                call.tokens,
                Tokens { input: 56, output: 40, cache_read: 64, reasoning: 8, ..Default::default() },
                "{call:?}"
            );
            assert_eq!((&*call.model, call.cost_usd), ("stub-model", None));
        }
        let total: u64 = c.iter().map(|u| u.tokens.input + u.tokens.cache_read).sum();
        assert_eq!(total, 360, "as Copilot's own summary: ↑ 360 (192 cached)");
        assert!(matches!(&out[0], Record::Session(s) if s.project_path.as_deref() == Some("/tmp/cop/proj")));

        // A call GitHub billed: 0.33 AI units.
        agent
            .execute_batch(
                "INSERT INTO assistant_usage_events (session_id, model, input_tokens, output_tokens, cache_read_tokens,
                   cache_write_tokens, reasoning_tokens, total_nano_aiu, created_at)
                 VALUES ('c850be41-3994-48c9-82a6-1d2e87a16a3d', 'claude-sonnet-4.5', 1000, 50, 0, 0, 0, 330000000,
                   '2026-12-06T23:11:00.000Z');
                 INSERT INTO assistant_usage_events (session_id, model, input_tokens, output_tokens, cache_read_tokens,
                   created_at) VALUES ('c850be41-3994-48c9-82a6-1d2e87a16a3d', 'gpt-5', 10, 5, 64, '2026-12-06T23:12:00Z');",
            )
            .unwrap();
        let mut out = Vec::new();
        assert_eq!(r.read(&Db::open(&path).unwrap(), &mut out).unwrap(), 1, "cached beyond the prompt");
        let c = calls(&out);
        assert_eq!(c.len(), 1, "only the new rows");
        assert_eq!((c[0].cost_usd, c[0].tokens.input), (Some(0.0033), 1000));
    }

    #[test]
    fn a_resumed_read_equals_a_fresh_full_one() {
        use crate::sources::storage::sqlite::check::{kept, read};
        let dir = tempfile::tempdir().unwrap();
        let (path, agent) = real_db(dir.path());
        let mut first = CopilotReader::new(None);
        let (a, bad) = read(&mut first, &path);
        assert_eq!((bad, first.state().as_deref()), (0, Some(r#"{"calls":3}"#)));
        // Two more calls end, and a row Copilot would not write (more cached than the prompt).
        agent
            .execute_batch(
                "INSERT INTO assistant_usage_events (session_id, model, input_tokens, output_tokens, cache_read_tokens,
                   created_at) VALUES ('c850be41-3994-48c9-82a6-1d2e87a16a3d', 'gpt-5', 10, 5, 64, '2026-12-06T23:11:00Z');
                 INSERT INTO assistant_usage_events (session_id, model, input_tokens, output_tokens, cache_read_tokens,
                   created_at) VALUES ('c850be41-3994-48c9-82a6-1d2e87a16a3d', 'gpt-5', 1000, 50, 600, '2026-12-06T23:12:00Z');",
            )
            .unwrap();
        let mut resumed = CopilotReader::new(first.state().as_deref());
        let (b, bad) = read(&mut resumed, &path);
        assert_eq!((bad, calls(&b).len()), (1, 1), "only the new rows, the broken one counted");
        let (whole, bad) = read(&mut CopilotReader::new(None), &path);
        assert_eq!(bad, 1);
        let (calls, sessions) = kept(&[&whole]);
        assert_eq!(kept(&[&a, &b]), (calls.clone(), sessions.clone()), "read as it grew, as read whole");
        let got: Vec<(u64, u64, u64)> =
            calls.iter().map(|u| (u.tokens.input, u.tokens.output, u.tokens.cache_read)).collect();
        let mut want = vec![(56, 40, 64), (56, 40, 64), (56, 40, 64), (400, 50, 600)];
        let mut sorted = got.clone();
        sorted.sort();
        want.sort();
        assert_eq!(sorted, want);
        assert_eq!(sessions.len(), 1);
        // Nothing new: nothing read, nothing counted again.
        let (c, bad) = read(&mut resumed, &path);
        assert_eq!((bad, crate::sources::calls(&c).len()), (0, 0));
    }
}
