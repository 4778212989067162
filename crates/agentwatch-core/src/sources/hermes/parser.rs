//! Hermes Agent's `sessions` table, read as records. Hermes keeps a row per
//! session with running totals: each API call's usage, normalized by
//! `agent/usage_pricing.py` (`normalize_usage`), is added to
//! `input_tokens` (without cached input), `output_tokens` (reasoning
//! included), `cache_read_tokens`, `cache_write_tokens` and
//! `reasoning_tokens` (the part of the output that was reasoning), with
//! Hermes's estimate of the cost in `estimated_cost_usd` and, where the
//! provider said what it billed, `actual_cost_usd` (`hermes_state_usage.py`,
//! `update_token_counts`). So a session is one call-like record keyed by
//! the session, counted on the day it started (`started_at`, seconds since
//! the epoch), as ccusage counts it; read again as it grows, the bigger
//! totals replace the smaller. Its cost is the provider's when Hermes
//! recorded one above 0; else its tokens are priced like every agent's (an
//! estimate is not a bill).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::storage::sqlite::Db;
use crate::sources::{LineError, MAX_TOKENS, Record, SessionInfo, TableReader, plausible_cost};

use super::AGENT;

/// The columns every Hermes schema has.
const REQUIRED: &[&str] = &["id", "model", "started_at", "input_tokens", "output_tokens"];

/// The columns read when the schema has them (added over Hermes's
/// migrations, or by some builds only): read as NULL otherwise.
const OPTIONAL: &[&str] =
    &["cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "estimated_cost_usd", "actual_cost_usd", "cwd"];

/// Reads every row of the table at each change: one row per session, with
/// no column that says when it last changed in every schema.
pub struct HermesReader;

impl TableReader for HermesReader {
    fn read(&mut self, db: &Db, out: &mut Vec<Record>) -> Result<u64, String> {
        db.require("sessions", REQUIRED).map_err(|e| format!("Hermes database schema not understood: {e}"))?;
        let have = db.columns("sessions")?;
        let optional: Vec<String> = OPTIONAL
            .iter()
            .map(|c| if have.iter().any(|h| h == c) { c.to_string() } else { format!("NULL AS {c}") })
            .collect();
        let sql = format!("SELECT {}, {} FROM sessions", REQUIRED.join(", "), optional.join(", "));
        let mut malformed = 0;
        db.each(&sql, &[], &mut |r| {
            let values: Result<Vec<Value>, _> =
                (0..REQUIRED.len() + OPTIONAL.len()).map(|i| r.get::<_, Value>(i)).collect();
            if values.map_err(|_| LineError::Malformed).and_then(|v| session_records(&v, out)).is_err() {
                malformed += 1;
            }
        })?;
        Ok(malformed)
    }

    fn state(&self) -> Option<String> {
        None
    }
}

fn text(v: &Value) -> Result<Option<&str>, LineError> {
    match v {
        Value::Null => Ok(None),
        Value::Text(s) => Ok(Some(s.trim()).filter(|s| !s.is_empty())),
        _ => Err(LineError::Malformed),
    }
}

fn count(v: &Value) -> Result<u64, LineError> {
    let n = match v {
        Value::Null => return Ok(0),
        Value::Integer(n) => *n as f64,
        Value::Real(f) => f.trunc(),
        _ => return Err(LineError::Malformed),
    };
    if !(0.0..=MAX_TOKENS as f64).contains(&n) {
        return Err(LineError::Malformed);
    }
    Ok(n as u64)
}

fn number(v: &Value) -> Result<Option<f64>, LineError> {
    match v {
        Value::Null => Ok(None),
        Value::Integer(n) => Ok(Some(*n as f64)),
        Value::Real(f) if f.is_finite() => Ok(Some(*f)),
        _ => Err(LineError::Malformed),
    }
}

/// `started_at`: seconds since the epoch (Python's `time.time()`), or
/// milliseconds.
fn started(v: &Value) -> Result<DateTime<Utc>, LineError> {
    let n = number(v)?.ok_or(LineError::Malformed)?;
    let ms = if n > 1e12 { n } else { n * 1000.0 };
    (ms > 0.0).then(|| DateTime::from_timestamp_millis(ms.trunc() as i64)).flatten().ok_or(LineError::Malformed)
}

/// The session of one row (its values in `REQUIRED`, then `OPTIONAL`
/// order), and its usage so far if it has any.
pub fn session_records(v: &[Value], out: &mut Vec<Record>) -> Result<(), LineError> {
    let id = text(&v[0])?.ok_or(LineError::Malformed)?;
    let model = text(&v[1])?;
    let at = started(&v[2])?;
    let [input, output, cache_read, cache_write, reasoning] = [&v[3], &v[4], &v[5], &v[6], &v[7]].map(count);
    let (input, output, cache_read, cache_write, reasoning) = (input?, output?, cache_read?, cache_write?, reasoning?);
    // What the provider billed, when Hermes was told (a subscription's 0 is
    // priced from the tokens). Its estimate is checked, never used.
    number(&v[8])?;
    let recorded = number(&v[9])?;
    out.push(Record::Session(SessionInfo {
        external_id: id.to_string(),
        project_path: text(&v[10])?.map(str::to_string),
        agent_version: None,
        started_at: Some(at),
    }));
    let cost_usd = plausible_cost(recorded).filter(|c| *c > 0.0);
    if input + output + cache_read + cache_write + reasoning == 0 && cost_usd.is_none() {
        return Ok(());
    }
    // Usage with no model cannot be priced or shown by model.
    let Some(model) = model else { return Err(LineError::Malformed) };
    out.push(Record::Usage(UsageEvent {
        key: EventKey::of(&[AGENT, id]),
        session_external_id: Arc::from(id),
        timestamp: at,
        model: Arc::from(model),
        model_fallback: false,
        fast: false,
        sidechain: false,
        tokens: Tokens {
            input,
            output,
            cache_write_5m: cache_write,
            cache_write_1h: 0,
            cache_read,
            reasoning: reasoning.min(output),
        },
        cost_usd,
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    fn fixture() -> (tempfile::TempDir, std::path::PathBuf, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!("fixtures/hermes-state.sql")).unwrap();
        (dir, path, c)
    }

    fn read(path: &std::path::Path) -> (Vec<Record>, u64) {
        let mut out = Vec::new();
        let bad = HermesReader.read(&Db::open(path).unwrap(), &mut out).unwrap();
        (out, bad)
    }

    #[test]
    fn the_fixture_database() {
        let (_dir, path, c) = fixture();
        let (out, bad) = read(&path);
        assert_eq!(bad, 1, "usage without a model");
        let sessions = out.iter().filter(|r| matches!(r, Record::Session(_))).count();
        assert_eq!(sessions, 7, "a session without usage (or without a model) is still a session");
        let got: Vec<(&str, &str, String, Tokens, Option<f64>)> = calls(&out)
            .iter()
            .map(|u| (&*u.session_external_id, &*u.model, u.timestamp.to_rfc3339(), u.tokens, u.cost_usd))
            .collect();
        let t = |input, output, cache_write_5m, cache_read, reasoning| Tokens {
            input,
            output,
            cache_write_5m,
            cache_read,
            reasoning,
            ..Default::default()
        };
        assert_eq!(
            got,
            [
                // Hermes's estimate only: priced from the tokens.
                (
                    "20260501_010203_a1b2c3",
                    "claude-sonnet-4-20250514",
                    "2026-05-01T01:02:03.250+00:00".to_string(),
                    t(1200, 300, 20, 50, 0),
                    None
                ),
                // Subscription-included (estimated 0): priced from its tokens; the
                // reasoning is part of the output.
                (
                    "20260501_235930_d4e5f6",
                    "gpt-5",
                    "2026-05-01T23:59:30+00:00".to_string(),
                    t(5000, 900, 0, 20000, 400),
                    None
                ),
                // What the provider billed (OpenRouter's generation cost).
                (
                    "20260502_080000_0a1b2c",
                    "anthropic/claude-opus-4.1",
                    "2026-05-02T08:00:00+00:00".to_string(),
                    t(800, 200, 3000, 10000, 0),
                    Some(0.5)
                ),
                // An actual cost of 0 is no cost: priced from the tokens.
                (
                    "20260502_090000_3d4e5f",
                    "gpt-4o",
                    "2026-05-02T09:00:00+00:00".to_string(),
                    t(100, 10, 0, 0, 0),
                    None
                ),
            ]
        );
        assert_eq!(calls(&out)[0].key, EventKey::of(&[AGENT, "20260501_010203_a1b2c3"]));
        // It grows: read again, the bigger totals replace the smaller under the same key.
        c.execute("UPDATE sessions SET input_tokens = 2400 WHERE id = '20260501_010203_a1b2c3'", []).unwrap();
        let (again, _) = read(&path);
        let grown = calls(&again)[0];
        assert_eq!((grown.key, grown.tokens.input), (calls(&out)[0].key, 2400));
    }

    #[test]
    fn an_older_schema_without_cost_or_cache_columns_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT NOT NULL, model TEXT, started_at REAL NOT NULL,
                 input_tokens INTEGER DEFAULT 0, output_tokens INTEGER DEFAULT 0);
             INSERT INTO sessions VALUES ('s1', 'cli', 'claude-sonnet-4-20250514', 1777597323, 10, 5);",
        )
        .unwrap();
        let (out, bad) = read(&path);
        assert_eq!((bad, calls(&out).len(), calls(&out)[0].tokens.output), (0, 1, 5));
        drop(c);
        let other = dir.path().join("other.db");
        rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE sessions (id TEXT)").unwrap();
        let e = HermesReader.read(&Db::open(&other).unwrap(), &mut Vec::new()).unwrap_err();
        assert!(e.contains("schema not understood") && e.contains("model"), "{e}");
    }

    #[test]
    fn a_row_that_cannot_be_used_is_malformed() {
        let v = |id: Value, started: Value, input: Value| {
            let mut row = vec![id, Value::Text("m".into()), started, input, Value::Integer(1)];
            row.extend(std::iter::repeat_n(Value::Null, OPTIONAL.len()));
            session_records(&row, &mut Vec::new())
        };
        assert_eq!(v(Value::Text("s".into()), Value::Real(1.7e9), Value::Integer(3)), Ok(()));
        assert_eq!(v(Value::Null, Value::Real(1.7e9), Value::Integer(3)), Err(LineError::Malformed));
        assert_eq!(v(Value::Text("s".into()), Value::Text("x".into()), Value::Integer(3)), Err(LineError::Malformed));
        assert_eq!(v(Value::Text("s".into()), Value::Real(1.7e9), Value::Integer(-3)), Err(LineError::Malformed));
        assert_eq!(
            v(Value::Text("s".into()), Value::Real(1.7e9), Value::Integer(MAX_TOKENS as i64 + 1)),
            Err(LineError::Malformed)
        );
    }
}
