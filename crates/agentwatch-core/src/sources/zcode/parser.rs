//! ZCode's ledger, read as records: a `session` row is a session, a
//! `model_usage` row with `status = 'completed'` a model call. The rows are
//! what [`storage::sqlite`](crate::sources::storage::sqlite) reads; this
//! file never opens one.
//!
//! What a call row holds (as ccusage 20.0.24 reads it, and as other readers
//! of real ledgers describe it): `input_tokens` is the whole prompt, the
//! cache reads (`cache_read_input_tokens`) and writes
//! (`cache_creation_input_tokens`) inside it; `output_tokens` the
//! completion; `computed_total_tokens` input + output, so whatever it holds
//! beyond them (reasoning outside output, `reasoning_tokens` being zero in
//! every ledger seen) is priced as output and shown as reasoning.
//! `started_at` is ms since the epoch; `provider_id` names the provider
//! (`builtin:zai-coding-plan`, … or the UUID of one of the person's own).
//! ZCode records no cost: calls are priced from their tokens.

use std::sync::Arc;

use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::storage::sqlite::Db;
use crate::sources::{LineError, MAX_TOKENS, Record, SessionInfo, TableReader};

use super::AGENT;

const CALL_COLUMNS: &[&str] = &[
    "id",
    "session_id",
    "model_id",
    "status",
    "started_at",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
];

/// How far back of the newest call read each read looks again: a request's
/// row may be finished after a later one's.
pub const LOOKBACK_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct State {
    /// The newest `started_at` of a completed call read.
    since: i64,
}

pub struct ZcodeReader {
    state: State,
}

impl ZcodeReader {
    pub fn new(state: Option<&str>) -> ZcodeReader {
        ZcodeReader { state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default() }
    }
}

/// A text column; ids may be integers.
fn text(v: ValueRef<'_>) -> Result<Option<String>, LineError> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => Ok(Some(String::from_utf8_lossy(t).trim().to_string()).filter(|s| !s.is_empty())),
        ValueRef::Integer(n) => Ok(Some(n.to_string())),
        _ => Err(LineError::Malformed),
    }
}

/// A count column: NULL is none; a negative, fractional or absurd one is garbage.
fn count(v: ValueRef<'_>) -> Result<u64, LineError> {
    match v {
        ValueRef::Null => Ok(0),
        ValueRef::Integer(n) if (0..=MAX_TOKENS as i64).contains(&n) => Ok(n as u64),
        _ => Err(LineError::Malformed),
    }
}

/// One completed `model_usage` row.
#[derive(Debug, Clone, Default)]
pub struct Call {
    pub id: Option<String>,
    pub session_id: Option<String>,
    pub started_at: Option<i64>,
    pub model_id: Option<String>,
    pub input: u64,
    pub output: u64,
    pub cache_creation: u64,
    pub cache_read: u64,
    /// `computed_total_tokens`, when the ledger has it.
    pub computed_total: u64,
}

/// The call a row is, if it billed anything.
pub fn call_usage(c: &Call) -> Result<Option<UsageEvent>, LineError> {
    let (Some(id), Some(session), Some(model)) = (&c.id, &c.session_id, &c.model_id) else {
        return Err(LineError::Malformed);
    };
    let at = c
        .started_at
        .filter(|ms| *ms > 0)
        .and_then(chrono::DateTime::from_timestamp_millis)
        .ok_or(LineError::Malformed)?;
    let cache_read = c.cache_read.min(c.input);
    let cache_write = c.cache_creation.min(c.input - cache_read);
    let input = c.input - cache_read - cache_write;
    let extra = c.computed_total.saturating_sub(c.input.max(cache_read) + c.output);
    let tokens = Tokens {
        input,
        output: c.output + extra,
        cache_write_5m: cache_write,
        cache_write_1h: 0,
        cache_read,
        reasoning: extra,
    };
    if tokens.is_zero() {
        return Ok(None);
    }
    Ok(Some(UsageEvent {
        key: EventKey::of(&[AGENT, id]),
        session_external_id: Arc::from(session.as_str()),
        timestamp: at,
        model: Arc::from(model.as_str()),
        model_fallback: false,
        fast: false,
        sidechain: false,
        tokens,
        cost_usd: None,
    }))
}

impl TableReader for ZcodeReader {
    fn read(&mut self, db: &Db, out: &mut Vec<Record>) -> Result<u64, String> {
        let schema = |e: String| format!("ZCode database schema not understood: {e}");
        db.require("model_usage", CALL_COLUMNS).map_err(schema)?;
        let mut malformed = 0u64;
        // Sessions: read whole (one row each), when the ledger has them.
        let session_cols = db.columns("session")?;
        let has = |c: &str| session_cols.iter().any(|h| h == c);
        if has("id") {
            let dir = if has("directory") { "directory" } else { "NULL" };
            let version = if has("version") { "version" } else { "NULL" };
            db.each(&format!("SELECT id, {dir}, {version} FROM session"), &[], &mut |r| {
                let row = (|| {
                    let id = text(r.get_ref(0).map_err(|_| LineError::Malformed)?)?.ok_or(LineError::Malformed)?;
                    Ok::<_, LineError>(SessionInfo {
                        external_id: id,
                        project_path: text(r.get_ref(1).map_err(|_| LineError::Malformed)?)?,
                        agent_version: text(r.get_ref(2).map_err(|_| LineError::Malformed)?)?,
                        started_at: None,
                    })
                })();
                match row {
                    Ok(s) => out.push(Record::Session(s)),
                    Err(_) => malformed += 1,
                }
            })?;
        }
        let total = if db.columns("model_usage")?.iter().any(|c| c == "computed_total_tokens") {
            "computed_total_tokens"
        } else {
            "NULL"
        };
        let from = self.state.since.saturating_sub(LOOKBACK_MS);
        let mut newest = self.state.since;
        db.each(
            &format!(
                "SELECT id, session_id, started_at, model_id, input_tokens, output_tokens,
                        cache_creation_input_tokens, cache_read_input_tokens, {total}
                 FROM model_usage WHERE status = 'completed' AND started_at >= ?1 ORDER BY started_at"
            ),
            &[&from],
            &mut |r| {
                let row = (|| {
                    let v = |i| r.get_ref(i).map_err(|_| LineError::Malformed);
                    let started_at = match v(2)? {
                        ValueRef::Integer(n) => Some(n),
                        ValueRef::Null => None,
                        _ => return Err(LineError::Malformed),
                    };
                    let call = Call {
                        id: text(v(0)?)?,
                        session_id: text(v(1)?)?,
                        started_at,
                        model_id: text(v(3)?)?,
                        input: count(v(4)?)?,
                        output: count(v(5)?)?,
                        cache_creation: count(v(6)?)?,
                        cache_read: count(v(7)?)?,
                        computed_total: count(v(8)?)?,
                    };
                    let ev = call_usage(&call)?;
                    newest = newest.max(started_at.unwrap_or(0));
                    Ok(ev)
                })();
                match row {
                    Ok(Some(ev)) => out.push(Record::Usage(ev)),
                    Ok(None) => {}
                    Err(_) => malformed += 1,
                }
            },
        )?;
        self.state.since = newest;
        Ok(malformed)
    }

    fn state(&self) -> Option<String> {
        Some(serde_json::to_string(&self.state).expect("state serializes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    fn ledger() -> (tempfile::TempDir, std::path::PathBuf, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!("fixtures/zcode.sql")).unwrap();
        (dir, path, c)
    }

    fn by_id<'a>(out: &'a [Record], id: &str) -> &'a UsageEvent {
        let key = EventKey::of(&[AGENT, id]);
        calls(out).into_iter().find(|c| c.key == key).unwrap_or_else(|| panic!("no call {id}"))
    }

    #[test]
    fn completed_requests_are_calls_with_the_cache_taken_out_of_input() {
        let (_d, path, _c) = ledger();
        let mut out = Vec::new();
        let bad = ZcodeReader::new(None).read(&Db::open(&path).unwrap(), &mut out).unwrap();
        assert_eq!(bad, 1, "the row without a time");
        assert_eq!(calls(&out).len(), 6, "completed rows only; the failed and cancelled ones bill nothing");
        let c = by_id(&out, "mu_01");
        assert_eq!((c.session_external_id.as_ref(), c.model.as_ref()), ("sess_01JZ8Q4W2K", "GLM-5.3"));
        assert_eq!(c.timestamp.timestamp_millis(), 1_786_909_042_666);
        assert_eq!(
            c.tokens,
            Tokens {
                input: 16_507 - 11_712 - 300,
                output: 59,
                cache_write_5m: 300,
                cache_write_1h: 0,
                cache_read: 11_712,
                reasoning: 0
            }
        );
        assert_eq!(c.cost_usd, None, "ZCode records no cost");
        // What the total holds beyond input and output: output, shown as reasoning.
        let c = by_id(&out, "mu_06");
        assert_eq!((c.tokens.input, c.tokens.cache_read, c.tokens.output, c.tokens.reasoning), (4000, 1000, 240, 40));
        // Cache reads above the input are held to it.
        let c = by_id(&out, "mu_08");
        assert_eq!((c.tokens.input, c.tokens.cache_read, c.tokens.output), (0, 100, 50));
        assert_eq!(by_id(&out, "mu_07").model.as_ref(), "deepseek-v4-flash");
        let sessions: Vec<&SessionInfo> = out
            .iter()
            .filter_map(|r| match r {
                Record::Session(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0].project_path.as_deref(), Some("/home/u/app"));
        assert_eq!(sessions[0].agent_version.as_deref(), Some("3.11.2"));
    }

    #[test]
    fn a_later_read_asks_for_recent_rows_only_and_sees_a_request_finish() {
        let (_d, path, c) = ledger();
        let mut r = ZcodeReader::new(None);
        let mut first = Vec::new();
        r.read(&Db::open(&path).unwrap(), &mut first).unwrap();
        let state = r.state().unwrap();
        assert_eq!(state, r#"{"since":1786995550000}"#);
        // A request begun before the newest one read, finished since.
        c.execute(
            "INSERT INTO model_usage (id, session_id, model_id, status, started_at, input_tokens, output_tokens,
                 cache_creation_input_tokens, cache_read_input_tokens, computed_total_tokens)
             VALUES ('mu_10', 'sess_01JZ9A7B3C', 'GLM-5.3', 'running', 1786995545000, 0, 0, 0, 0, 0)",
            [],
        )
        .unwrap();
        let mut r = ZcodeReader::new(Some(&state));
        let mut out = Vec::new();
        r.read(&Db::open(&path).unwrap(), &mut out).unwrap();
        assert_eq!(calls(&out).len(), 3, "the rows of the last day before the newest: {:?}", calls(&out));
        c.execute(
            "UPDATE model_usage SET status = 'completed', input_tokens = 70, output_tokens = 7 WHERE id = 'mu_10'",
            [],
        )
        .unwrap();
        let mut out = Vec::new();
        ZcodeReader::new(r.state().as_deref()).read(&Db::open(&path).unwrap(), &mut out).unwrap();
        assert_eq!(by_id(&out, "mu_10").tokens.input, 70);
        // Read again, a call is the same call.
        assert_eq!(by_id(&out, "mu_06").key, by_id(&first, "mu_06").key);
    }

    #[test]
    fn a_resumed_read_equals_a_fresh_full_one() {
        use crate::sources::storage::sqlite::check::{kept, read};
        let (_d, path, c) = ledger();
        let insert =
            "INSERT INTO model_usage (id, session_id, model_id, status, started_at, input_tokens, output_tokens,
                 cache_creation_input_tokens, cache_read_input_tokens, computed_total_tokens) VALUES ";
        c.execute_batch(&format!(
            "{insert} ('mu_10', 'sess_01JZ9A7B3C', 'GLM-5.3', 'running', 1786995545000, 0, 0, 0, 0, 0)"
        ))
        .unwrap();
        let mut first = ZcodeReader::new(None);
        let (a, bad) = read(&mut first, &path);
        assert_eq!((bad, calls(&a).len()), (1, 6), "the running request is no call yet");
        // It finishes; a later one finishes; a row with a negative count.
        c.execute_batch(&format!(
            "UPDATE model_usage SET status = 'completed', input_tokens = 70, output_tokens = 7 WHERE id = 'mu_10';
             {insert} ('mu_11', 'sess_01JZ9A7B3C', 'GLM-5.3', 'completed', 1786995600000, 500, 20, 0, 100, 520);
             {insert} ('mu_12', 'sess_01JZ9A7B3C', 'GLM-5.3', 'completed', 1786995601000, -5, 20, 0, 0, 15);"
        ))
        .unwrap();
        let (b, bad) = read(&mut ZcodeReader::new(first.state().as_deref()), &path);
        assert_eq!(bad, 1, "the new broken row; the old one is not read again");
        let (whole, bad) = read(&mut ZcodeReader::new(None), &path);
        assert_eq!(bad, 2);
        let (calls, sessions) = kept(&[&whole]);
        assert_eq!(kept(&[&a, &b]), (calls.clone(), sessions.clone()), "read as it grew, as read whole");
        assert_eq!(calls.len(), 8);
        assert_eq!((by_id(&whole, "mu_10").tokens.input, by_id(&whole, "mu_10").tokens.output), (70, 7));
        assert_eq!((by_id(&whole, "mu_11").tokens.input, by_id(&whole, "mu_11").tokens.cache_read), (400, 100));
        assert_eq!(sessions.len(), 2);
    }

    #[test]
    fn a_ledger_of_another_shape_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE model_usage (id TEXT, tokens INTEGER)").unwrap();
        let err = ZcodeReader::new(None).read(&Db::open(&path).unwrap(), &mut Vec::new()).unwrap_err();
        assert!(err.contains("not understood"), "{err}");
        // The oldest shape: no session table, no computed total.
        c.execute_batch(
            "DROP TABLE model_usage;
             CREATE TABLE model_usage (id TEXT, session_id TEXT, model_id TEXT, status TEXT, started_at INTEGER,
                 input_tokens INTEGER, output_tokens INTEGER, cache_creation_input_tokens INTEGER,
                 cache_read_input_tokens INTEGER);
             INSERT INTO model_usage VALUES ('a', 's', 'GLM-5.3', 'completed', 1786909042666, 10, 1, 0, 0);
             INSERT INTO model_usage VALUES ('b', 's', 'GLM-5.3', 'completed', 1786909042667, -10, 1, 0, 0);",
        )
        .unwrap();
        let mut out = Vec::new();
        let bad = ZcodeReader::new(None).read(&Db::open(&path).unwrap(), &mut out).unwrap();
        assert_eq!((calls(&out).len(), bad), (1, 1), "a negative count is garbage");
    }

    #[test]
    fn glm_models_are_priced_from_z_ais_list_with_cache_writes_at_the_input_price() {
        let book = crate::pricing::PriceBook::embedded();
        let p = book.lookup("GLM-5.3").expect("priced").price;
        assert_eq!((p.input, p.cache_write_5m, p.cache_read, p.output), (1.4e-6, 1.4e-6, 2.6e-7, 4.4e-6));
    }
}
