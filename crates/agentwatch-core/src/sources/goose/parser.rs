//! Goose's `sessions` table, read as records. Goose keeps no row per model
//! call: each session row carries running totals, `accumulated_input_tokens`,
//! `accumulated_output_tokens` and `accumulated_total_tokens`, which Goose
//! adds each call's usage to (`update_session_metrics`), beside the last
//! call's (`input_tokens`, …). So a session is one call-like record keyed
//! by the session: read again as it grows, the bigger totals replace the
//! smaller, and it counts on the day the session was created, as ccusage
//! counts it. What the total holds beyond input and output (reasoning) is
//! priced as output. Goose reports no cache tokens here: cached input is
//! inside the input, priced as input.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::storage::sqlite::Db;
use crate::sources::{LineError, MAX_TOKENS, Record, SessionInfo, TableReader};

use super::AGENT;

const COLUMNS: &[&str] = &[
    "id",
    "working_dir",
    "created_at",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "accumulated_input_tokens",
    "accumulated_output_tokens",
    "accumulated_total_tokens",
    "model_config_json",
];

/// Reads every row of the table at each change: it has one row per session,
/// and its `updated_at` is not written in one format (SQLite's
/// `CURRENT_TIMESTAMP`, or RFC 3339 from Goose's code), so it makes no
/// watermark that can be trusted.
pub struct GooseReader;

impl TableReader for GooseReader {
    fn read(&mut self, db: &Db, out: &mut Vec<Record>) -> Result<u64, String> {
        db.require("sessions", COLUMNS).map_err(|e| format!("Goose database schema not understood: {e}"))?;
        let mut malformed = 0;
        db.each(
            "SELECT id, working_dir, created_at, input_tokens, output_tokens, total_tokens, accumulated_input_tokens,
                    accumulated_output_tokens, accumulated_total_tokens, model_config_json
             FROM sessions",
            &[],
            &mut |r| {
                let row = (|| {
                    let text = |i| r.get::<_, Option<String>>(i).map_err(|_| LineError::Malformed);
                    let int = |i| r.get::<_, Option<i64>>(i).map_err(|_| LineError::Malformed);
                    let id = text(0)?.ok_or(LineError::Malformed)?;
                    let (dir, created, config) = (text(1)?, text(2)?, text(9)?);
                    let row = Row {
                        id: &id,
                        working_dir: dir.as_deref(),
                        created_at: created.as_deref(),
                        last: [int(3)?, int(4)?, int(5)?],
                        accumulated: [int(6)?, int(7)?, int(8)?],
                        model_config: config.as_deref(),
                    };
                    session_records(&row, out)
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

/// One `sessions` row.
pub struct Row<'a> {
    pub id: &'a str,
    pub working_dir: Option<&'a str>,
    pub created_at: Option<&'a str>,
    /// The last call's input, output, total.
    pub last: [Option<i64>; 3],
    /// The session's running input, output, total.
    pub accumulated: [Option<i64>; 3],
    pub model_config: Option<&'a str>,
}

/// The session, and its usage so far if it has any.
pub fn session_records(row: &Row<'_>, out: &mut Vec<Record>) -> Result<(), LineError> {
    let started = row.created_at.map(|t| parse_time(t).ok_or(LineError::Malformed)).transpose()?;
    out.push(Record::Session(SessionInfo {
        external_id: row.id.to_string(),
        project_path: row.working_dir.filter(|d| !d.is_empty()).map(str::to_string),
        agent_version: None,
        started_at: started,
    }));
    // A running total, else the last call's (a session of one call).
    let count = |i: usize| -> Result<u64, LineError> {
        match row.accumulated[i].filter(|n| *n > 0).or(row.last[i].filter(|n| *n > 0)) {
            Some(n) if n as u64 > MAX_TOKENS => Err(LineError::Malformed),
            Some(n) => Ok(n as u64),
            None => Ok(0),
        }
    };
    let (input, output) = (count(0)?, count(1)?);
    let total = match count(2)? {
        0 => input + output,
        t => t,
    };
    let extra = total.saturating_sub(input + output);
    if input + output + extra == 0 {
        return Ok(());
    }
    let model = row
        .model_config
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|c| c["model_name"].as_str().map(str::trim).filter(|m| !m.is_empty()).map(str::to_string));
    // A session with usage has a model and a time; without them it cannot be billed.
    let (Some(model), Some(timestamp)) = (model, started) else { return Err(LineError::Malformed) };
    out.push(Record::Usage(UsageEvent {
        key: EventKey::of(&[AGENT, row.id]),
        session_external_id: Arc::from(row.id),
        timestamp,
        model: Arc::from(model.as_str()),
        model_fallback: false,
        fast: false,
        sidechain: false,
        tokens: Tokens { input, output: output + extra, reasoning: extra, ..Default::default() },
        cost_usd: None,
    }));
    Ok(())
}

/// A time as Goose's columns hold it: SQLite's `YYYY-MM-DD HH:MM:SS` (UTC),
/// RFC 3339, a date, or seconds or milliseconds since the epoch.
pub(crate) fn parse_time(t: &str) -> Option<DateTime<Utc>> {
    let t = t.trim();
    if let Ok(n) = t.parse::<i64>() {
        return if n > 1_000_000_000_000 { DateTime::from_timestamp_millis(n) } else { DateTime::from_timestamp(n, 0) };
    }
    if let Some(d) = crate::sources::parse_ts(t) {
        return Some(d);
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    #[test]
    fn the_fixture_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!("fixtures/goose-v13.sql")).unwrap();
        let mut out = Vec::new();
        let bad = GooseReader.read(&Db::open(&path).unwrap(), &mut out).unwrap();
        assert_eq!(bad, 1, "the session with usage and no model");
        let calls = calls(&out);
        assert_eq!(calls.len(), 2);
        let first = calls[0];
        assert_eq!(
            (&*first.model, first.tokens.input, first.tokens.output),
            ("claude-sonnet-4-20250514", 176900, 5440)
        );
        assert_eq!(first.timestamp.to_rfc3339(), "2026-05-01T01:02:03+00:00");
        // total − input − output: priced as output, shown as reasoning.
        assert_eq!((calls[1].tokens.output, calls[1].tokens.reasoning), (2500, 500));
        let sessions = out.iter().filter(|r| matches!(r, Record::Session(_))).count();
        assert_eq!(sessions, 4, "a session without usage (or without a model) is still a session");
        // It grows: read again, the bigger totals replace the smaller under the same key.
        c.execute("UPDATE sessions SET accumulated_input_tokens = 200000 WHERE id = '20260501_1'", []).unwrap();
        let mut again = Vec::new();
        GooseReader.read(&Db::open(&path).unwrap(), &mut again).unwrap();
        let grown = crate::sources::calls(&again)[0];
        assert_eq!((grown.key, grown.tokens.input), (first.key, 200000));
    }

    #[test]
    fn times_as_goose_writes_them() {
        for (t, want) in [
            ("2026-05-01 01:02:03", "2026-05-01T01:02:03+00:00"),
            ("2026-05-01T01:02:03.123456789+00:00", "2026-05-01T01:02:03.123456789+00:00"),
            ("1777597323", "2026-05-01T01:02:03+00:00"),
            ("1777597323000", "2026-05-01T01:02:03+00:00"),
            ("2026-05-01", "2026-05-01T00:00:00+00:00"),
        ] {
            assert_eq!(parse_time(t).map(|d| d.to_rfc3339()).as_deref(), Some(want), "{t}");
        }
        assert_eq!(parse_time("yesterday"), None);
    }
}
