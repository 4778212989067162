//! OpenCode's database, read as records: a `session` row is a session, an
//! assistant `message` row with `tokens` is a model call. The rows are what
//! [`storage::sqlite`](crate::sources::storage::sqlite) reads; this file
//! never opens one.
//!
//! How OpenCode fills a message (`Session.getUsage`): `tokens.input` is
//! the prompt without cached tokens,
//! `tokens.output` the completion without reasoning, `tokens.reasoning` the
//! reasoning (priced as output by OpenCode itself), `tokens.cache.read` and
//! `.write` the cache; `cost` what OpenCode priced the call at (0 for a
//! model it has no price for). A message is one step of a turn: a turn
//! with tool calls has one message per step.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::DateTime;
use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::storage::sqlite::Db;
use crate::sources::{LineError, MAX_TOKENS, Record, SessionInfo, TableReader, plausible_cost};

#[cfg(test)]
use super::AGENT;

/// The columns read; a database without them is a schema not understood.
const SESSION_COLUMNS: &[&str] = &["id", "parent_id", "directory", "version", "time_created", "time_updated"];
const MESSAGE_COLUMNS: &[&str] = &["id", "session_id", "time_created", "time_updated", "data"];

/// How far back a row's `time_updated` is read again: a row written in the
/// same millisecond as the newest one read last time is read again, so no
/// change is missed (the call's key makes the second read a no-op).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct State {
    /// The newest `session.time_updated` read, ms.
    sessions: i64,
    /// The newest `message.time_updated` read, ms.
    messages: i64,
}

/// Reads the database of OpenCode or of a fork of it that kept its tables
/// (Kilo CLI).
pub struct OpenCodeReader {
    /// The agent's id, for the calls' keys.
    agent: &'static str,
    /// Its name, for messages.
    name: &'static str,
    state: State,
}

impl OpenCodeReader {
    pub fn new(agent: &'static str, name: &'static str, state: Option<&str>) -> OpenCodeReader {
        OpenCodeReader { agent, name, state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default() }
    }
}

impl TableReader for OpenCodeReader {
    fn read(&mut self, db: &Db, out: &mut Vec<Record>) -> Result<u64, String> {
        let schema = |e: String| format!("{} database schema not understood: {e}", self.name);
        db.require("session", SESSION_COLUMNS).map_err(schema)?;
        db.require("message", MESSAGE_COLUMNS).map_err(schema)?;
        // A sub-agent's session (`parent_id`) is part of the session that
        // started it: its calls count there.
        let mut parents: HashMap<String, String> = HashMap::new();
        db.each("SELECT id, parent_id FROM session WHERE parent_id IS NOT NULL", &[], &mut |r| {
            if let (Ok(id), Ok(parent)) = (r.get::<_, String>(0), r.get::<_, String>(1)) {
                parents.insert(id, parent);
            }
        })?;
        let root = |id: &str| -> String {
            let mut at = id;
            for _ in 0..32 {
                match parents.get(at) {
                    Some(p) if p != at => at = p,
                    _ => break,
                }
            }
            at.to_string()
        };

        let mut malformed = 0u64;
        let (old, mut newest) = (self.state.sessions, self.state.sessions);
        db.each(
            "SELECT id, parent_id, directory, version, time_created, time_updated FROM session WHERE time_updated >= ?1",
            &[&old],
            &mut |r| {
                let updated = r.get::<_, i64>(5).unwrap_or(0);
                newest = newest.max(updated);
                match session_row(r) {
                    Ok(Some(info)) => out.push(Record::Session(info)),
                    Ok(None) => {}
                    // Seen (and counted) already when it is as old as the watermark.
                    Err(_) if updated > old || old == 0 => malformed += 1,
                    Err(_) => {}
                }
            },
        )?;
        self.state.sessions = newest;

        let (old, mut newest) = (self.state.messages, self.state.messages);
        db.each(
            "SELECT id, session_id, time_created, time_updated, data FROM message WHERE time_updated >= ?1",
            &[&old],
            &mut |r| {
                let updated = r.get::<_, i64>(3).unwrap_or(0);
                newest = newest.max(updated);
                let row = (|| {
                    let id = r.get::<_, String>(0).map_err(|_| LineError::Malformed)?;
                    let session = r.get::<_, String>(1).map_err(|_| LineError::Malformed)?;
                    let created = r.get::<_, i64>(2).map_err(|_| LineError::Malformed)?;
                    let data = r.get_ref(4).ok().and_then(|v| v.as_str().ok()).ok_or(LineError::Malformed)?;
                    message_usage(self.agent, &id, &root(&session), created, data)
                })();
                match row {
                    Ok(Some(ev)) => out.push(Record::Usage(ev)),
                    Ok(None) => {}
                    Err(_) if updated > old || old == 0 => malformed += 1,
                    Err(_) => {}
                }
            },
        )?;
        self.state.messages = newest;
        Ok(malformed)
    }

    fn state(&self) -> Option<String> {
        Some(serde_json::to_string(&self.state).expect("state serializes"))
    }
}

/// A top-level session row as a session; `None` for a sub-agent's.
fn session_row(r: &rusqlite::Row<'_>) -> Result<Option<SessionInfo>, LineError> {
    let bad = |_| LineError::Malformed;
    let id: String = r.get(0).map_err(bad)?;
    if r.get::<_, Option<String>>(1).map_err(bad)?.is_some() {
        return Ok(None);
    }
    let directory: Option<String> = r.get(2).map_err(bad)?;
    let version: Option<String> = r.get(3).map_err(bad)?;
    let created: i64 = r.get(4).map_err(bad)?;
    Ok(Some(SessionInfo {
        external_id: id,
        project_path: directory.filter(|d| !d.is_empty()),
        agent_version: version.filter(|v| !v.is_empty()),
        started_at: DateTime::from_timestamp_millis(created),
    }))
}

#[derive(Deserialize)]
struct Message {
    role: Option<String>,
    #[serde(rename = "modelID")]
    model_id: Option<String>,
    tokens: Option<MessageTokens>,
    cost: Option<f64>,
    time: Option<MessageTime>,
}

#[derive(Deserialize)]
struct MessageTime {
    created: Option<f64>,
}

#[derive(Deserialize, Default)]
struct MessageTokens {
    #[serde(default)]
    input: f64,
    #[serde(default)]
    output: f64,
    #[serde(default)]
    reasoning: f64,
    #[serde(default)]
    cache: CacheTokens,
}

#[derive(Deserialize, Default)]
struct CacheTokens {
    #[serde(default)]
    read: f64,
    #[serde(default)]
    write: f64,
}

/// A count of tokens: a whole number from 0 to [`MAX_TOKENS`].
fn count(n: f64) -> Result<u64, LineError> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= MAX_TOKENS as f64 {
        Ok(n as u64)
    } else {
        Err(LineError::Malformed)
    }
}

/// The call one `message` row records: `None` for a user's message or an
/// assistant's without tokens yet (it is still streaming; its row is
/// updated when the step finishes).
pub fn message_usage(
    agent: &str,
    id: &str,
    session: &str,
    created_ms: i64,
    data: &str,
) -> Result<Option<UsageEvent>, LineError> {
    let m: Message = serde_json::from_str(data).map_err(|_| LineError::Malformed)?;
    if m.role.as_deref().is_some_and(|r| r != "assistant") {
        return Ok(None);
    }
    let Some(t) = m.tokens else { return Ok(None) };
    let reasoning = count(t.reasoning)?;
    let tokens = Tokens {
        input: count(t.input)?,
        // OpenCode takes reasoning out of the output and prices it as output.
        output: count(t.output)? + reasoning,
        cache_write_5m: count(t.cache.write)?,
        cache_write_1h: 0,
        cache_read: count(t.cache.read)?,
        reasoning,
    };
    if tokens.is_zero() {
        return Ok(None);
    }
    let at = m.time.and_then(|t| t.created).filter(|c| c.is_finite() && *c > 0.0).map_or(created_ms, |c| c as i64);
    let timestamp = DateTime::from_timestamp_millis(at).ok_or(LineError::Malformed)?;
    let (model, model_fallback) = match m.model_id.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => (m.to_string(), false),
        None => ("unknown".to_string(), true),
    };
    Ok(Some(UsageEvent {
        key: EventKey::of(&[agent, id]),
        session_external_id: Arc::from(session),
        timestamp,
        model: Arc::from(model.as_str()),
        model_fallback,
        fast: false,
        sidechain: false,
        tokens,
        // OpenCode's own price; 0 means it had none for the model.
        cost_usd: plausible_cost(m.cost).filter(|c| *c > 0.0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows the real OpenCode 1.18.33 wrote against the model stub (two
    /// turns, the second with a tool call: three steps).
    const REAL: &str = include_str!("fixtures/messages-1.18.33.tsv");

    fn real_rows() -> Vec<(String, String, i64, i64, String)> {
        REAL.lines()
            .map(|l| {
                let f: Vec<&str> = l.splitn(5, '\t').collect();
                (f[0].into(), f[1].into(), f[2].parse().unwrap(), f[3].parse().unwrap(), f[4].into())
            })
            .collect()
    }

    #[test]
    fn the_real_rows_give_one_call_per_step() {
        let calls: Vec<UsageEvent> = real_rows()
            .iter()
            .filter_map(|(id, s, created, _, data)| message_usage(AGENT, id, s, *created, data).unwrap())
            .collect();
        assert_eq!(calls.len(), 3);
        // The stub said: prompt 120 (64 cached), completion 40 (8 reasoning).
        for c in &calls {
            assert_eq!(
                c.tokens,
                Tokens { input: 56, output: 40, cache_read: 64, reasoning: 8, ..Default::default() },
                "{c:?}"
            );
            assert_eq!(&*c.model, "stub-model");
            assert_eq!(&*c.session_external_id, "ses_db288e317ffeILjZco4XWz5M0J");
            assert_eq!(c.cost_usd, None, "OpenCode had no price for the stub");
        }
        assert_eq!(calls[0].timestamp.timestamp_millis(), 1796595982078);
    }

    #[test]
    fn a_recorded_cost_is_used_and_bad_rows_are_malformed() {
        let data = r#"{"role":"assistant","modelID":"claude-sonnet-4.5","providerID":"anthropic","cost":0.0123,
            "tokens":{"input":10,"output":5,"reasoning":0,"cache":{"read":0,"write":100}},"time":{"created":1767312000000}}"#;
        let c = message_usage(AGENT, "msg_1", "ses_1", 0, data).unwrap().unwrap();
        assert_eq!((c.cost_usd, &*c.model, c.tokens.cache_write_5m), (Some(0.0123), "claude-sonnet-4.5", 100));
        assert_eq!(c.timestamp.timestamp_millis(), 1767312000000);
        // Still streaming: no tokens yet.
        let streaming = r#"{"role":"assistant","modelID":"m","tokens":{"input":0,"output":0,"reasoning":0,"cache":{"read":0,"write":0}}}"#;
        assert_eq!(message_usage(AGENT, "msg_2", "ses_1", 1, streaming), Ok(None));
        assert_eq!(message_usage(AGENT, "msg_3", "ses_1", 1, r#"{"role":"user","time":{"created":1}}"#), Ok(None));
        for bad in [
            "{not json",
            r#"{"role":"assistant","modelID":"m","tokens":{"input":-1}}"#,
            r#"{"role":"assistant","modelID":"m","tokens":{"input":1.5}}"#,
            r#"{"role":"assistant","modelID":"m","tokens":{"output":1e300}}"#,
            r#"{"role":"assistant","modelID":"m","tokens":{"input":"many"}}"#,
        ] {
            assert_eq!(message_usage(AGENT, "msg_4", "ses_1", 1, bad), Err(LineError::Malformed), "{bad}");
        }
    }

    /// The real database, from its dump, in WAL mode as OpenCode keeps it.
    fn real_db(dir: &std::path::Path) -> (std::path::PathBuf, rusqlite::Connection) {
        let path = dir.join("opencode.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!("fixtures/opencode-1.18.33.sql")).unwrap();
        (path, c)
    }

    fn read(reader: &mut OpenCodeReader, path: &std::path::Path) -> (Vec<Record>, u64) {
        let mut out = Vec::new();
        let bad = reader.read(&Db::open(path).unwrap(), &mut out).unwrap();
        (out, bad)
    }

    #[test]
    fn the_real_database_then_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let (path, agent) = real_db(dir.path());
        let mut r = OpenCodeReader::new(AGENT, "OpenCode", None);
        let (out, bad) = read(&mut r, &path);
        assert_eq!(bad, 0);
        let Record::Session(s) = &out[0] else { panic!("{out:?}") };
        assert_eq!(s.external_id, "ses_db288e317ffeILjZco4XWz5M0J");
        assert_eq!((s.project_path.as_deref(), s.agent_version.as_deref()), (Some("/tmp/oc/proj"), Some("1.18.33")));
        assert_eq!(out.iter().filter(|r| matches!(r, Record::Usage(_))).count(), 3);

        // Resumed: only the rows at the watermark again (here: none newer).
        let mut again = OpenCodeReader::new(AGENT, "OpenCode", r.state().as_deref());
        let (out, _) = read(&mut again, &path);
        assert!(out.len() <= 2, "only rows as new as the watermark: {out:?}");

        // A sub-agent's session and its call, and a broken row.
        agent
            .execute_batch(
                "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated)
                   VALUES ('ses_child', 'global', 'ses_db288e317ffeILjZco4XWz5M0J', 's', '/tmp/oc/proj', 't', '1.18.33', 1796596000000, 1796596000000);
                 INSERT INTO message VALUES ('msg_child', 'ses_child', 1796596000001, 1796596000001,
                   '{\"role\":\"assistant\",\"modelID\":\"stub-model\",\"tokens\":{\"input\":7,\"output\":3,\"reasoning\":0,\"cache\":{\"read\":0,\"write\":0}}}');
                 INSERT INTO message VALUES ('msg_bad', 'ses_child', 1796596000002, 1796596000002, '{broken');",
            )
            .unwrap();
        let (out, bad) = read(&mut again, &path);
        assert_eq!(bad, 1, "the broken row is counted");
        let calls: Vec<&UsageEvent> = out
            .iter()
            .filter_map(|r| match r {
                Record::Usage(u) if u.key == EventKey::of(&[AGENT, "msg_child"]) => Some(u),
                _ => None,
            })
            .collect();
        assert_eq!(calls.len(), 1);
        assert_eq!(&*calls[0].session_external_id, "ses_db288e317ffeILjZco4XWz5M0J", "counted in the parent session");
        assert!(!out.iter().any(|r| matches!(r, Record::Session(s) if s.external_id == "ses_child")));
        // Read again from there: the broken row is not counted twice.
        let (_, bad) = read(&mut again, &path);
        assert_eq!(bad, 0);
    }

    #[test]
    fn a_resumed_read_equals_a_fresh_full_one() {
        use crate::sources::storage::sqlite::check::{kept, read};
        let dir = tempfile::tempdir().unwrap();
        let (path, agent) = real_db(dir.path());
        let mut first = OpenCodeReader::new(AGENT, "OpenCode", None);
        let (a, _) = read(&mut first, &path);
        // OpenCode goes on: a call streams on (its row rewritten, later), a
        // new call, a broken row.
        agent
            .execute_batch(
                "UPDATE message SET time_updated = 1796596000000,
                   data = replace(data, '\"output\":32', '\"output\":900')
                   WHERE id = 'msg_24d774c3e0015BDIEPCrC52aF5';
                 INSERT INTO message VALUES ('msg_new', 'ses_db288e317ffeILjZco4XWz5M0J', 1796596000001, 1796596000001,
                   '{\"role\":\"assistant\",\"modelID\":\"stub-model\",\"tokens\":{\"input\":7,\"output\":3,\"reasoning\":0,\"cache\":{\"read\":0,\"write\":0}}}');
                 INSERT INTO message VALUES ('msg_bad', 'ses_db288e317ffeILjZco4XWz5M0J', 1796596000002, 1796596000002, '{broken');",
            )
            .unwrap();
        let (b, bad) = read(&mut OpenCodeReader::new(AGENT, "OpenCode", first.state().as_deref()), &path);
        assert_eq!(bad, 1);
        let (whole, bad) = read(&mut OpenCodeReader::new(AGENT, "OpenCode", None), &path);
        assert_eq!(bad, 1);
        let (calls, sessions) = kept(&[&whole]);
        assert_eq!(kept(&[&a, &b]), (calls.clone(), sessions.clone()), "read as it grew, as read whole");
        let outputs: Vec<(EventKey, u64)> = calls.iter().map(|u| (u.key, u.tokens.output)).collect();
        let mut want: Vec<(EventKey, u64)> = [
            ("msg_24d771efe001cOnKvDHuuHlV4m", 40),
            ("msg_24d77311c001hdWiiJ8vcWz9K7", 40),
            // 900 and its 8 of reasoning, grown after the first read.
            ("msg_24d774c3e0015BDIEPCrC52aF5", 908),
            ("msg_new", 3),
        ]
        .map(|(id, o)| (EventKey::of(&[AGENT, id]), o))
        .to_vec();
        want.sort_by_key(|(k, _)| (k.id, k.check));
        assert_eq!(outputs, want);
        assert_eq!(sessions.len(), 1);
    }

    #[test]
    fn a_schema_not_understood_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opencode.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE session (id TEXT); CREATE TABLE message (id TEXT, body TEXT);").unwrap();
        let mut out = Vec::new();
        let e = OpenCodeReader::new(AGENT, "OpenCode", None).read(&Db::open(&path).unwrap(), &mut out).unwrap_err();
        assert_eq!(
            e,
            "OpenCode database schema not understood: table session has no column parent_id, directory, version, time_created, time_updated"
        );
    }
}
