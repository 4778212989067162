//! Kimi's wire logs (`wire.jsonl`), in either of its two shapes.
//!
//! **Kimi CLI** (`kimi_cli/wire/file.py`): after a `metadata` line, every
//! line is `{"timestamp": <seconds, float>, "message": {"type", "payload"}}`.
//! A `StatusUpdate` whose `payload.token_usage` is an object is one model
//! call (`soul/kimisoul.py` writes one per step), with `message_id` the
//! provider's response id (or null). Its `input_other` excludes cached
//! input (kosong's `TokenUsage`). The log names no model: Kimi CLI runs
//! `kimi-for-coding` unless configured otherwise, so that is assumed (and
//! flagged as assumed). A subagent's usage is mirrored into its parent's log
//! inside a `SubagentEvent`; that copy is not counted here, the subagent's
//! own log is.
//!
//! **Kimi Code** (`agent-core-v2`, `usageOps.ts`): compact records
//! `{"type": "usage.record", "agentId", "model", "usage": {"inputOther",
//! "output", "inputCacheRead", "inputCacheCreation"}, "usageScope", "time":
//! <ms>}`, one per model request. `model` is the configured alias
//! (`kimi-code/kimi-for-coding`). `usageScope` is `turn` for a turn's steps
//! and `session` for the other requests (compaction): both are billed calls
//! (`usageAgentModel.ts` adds each record to the session's totals), so both
//! count. ccusage counts only `turn` (see bench/README.md).
//!
//! `kimi-for-coding` is the plan's alias of a model that changed: K2.5 until
//! 2026-04-20 15:28:10 UTC, K2.6 since (as ccusage prices it). A call is
//! reported under the model it was served by then.
//!
//! A call is keyed by its `message_id` when it has one (a copy of it, in a
//! forked session, is the same call; of two copies the larger wins), else by
//! its session, agent, time and counts.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, LineParser, MAX_TOKENS, Record, SessionInfo, looks_complete};

/// The model Kimi CLI is assumed to run (its log names none).
pub const ASSUMED_MODEL: &str = "kimi-for-coding";

/// When `kimi-for-coding` moved from Kimi K2.5 to K2.6 (ms since the epoch).
pub const K2_6_FROM_MS: i64 = 1_776_698_890_072;

/// The model a call was served by: `kimi-code/` dropped, and the plan's
/// `kimi-for-coding` resolved by the call's time.
pub fn served_model(name: &str, at_ms: i64) -> &str {
    match name.strip_prefix("kimi-code/").unwrap_or(name) {
        "kimi-for-coding" if at_ms < K2_6_FROM_MS => "kimi-k2.5",
        "kimi-for-coding" => "kimi-k2.6",
        m => m,
    }
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    /// Kimi CLI: seconds.
    timestamp: Option<f64>,
    #[serde(borrow)]
    message: Option<Message<'a>>,
    /// Kimi Code: ms.
    time: Option<f64>,
    /// Kimi Code's `metadata`: ms.
    created_at: Option<f64>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    usage: Option<CodeUsage>,
    #[serde(rename = "usageScope", borrow)]
    usage_scope: Option<Cow<'a, str>>,
    #[serde(rename = "agentId", borrow)]
    agent_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payload: Option<Payload<'a>>,
}

#[derive(Deserialize)]
struct Payload<'a> {
    token_usage: Option<CliUsage>,
    #[serde(borrow)]
    message_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct CliUsage {
    input_other: u64,
    output: u64,
    input_cache_read: u64,
    input_cache_creation: u64,
    /// Written by early versions only.
    total: u64,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
struct CodeUsage {
    input_other: u64,
    output: u64,
    input_cache_read: u64,
    input_cache_creation: u64,
}

fn tokens(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Result<Tokens, LineError> {
    if [input, output, cache_read, cache_write].iter().any(|&n| n > MAX_TOKENS) {
        return Err(LineError::Malformed);
    }
    Ok(Tokens { input, output, cache_write_5m: cache_write, cache_write_1h: 0, cache_read, reasoning: 0 })
}

/// A time in ms, if it is one.
fn time(ms: f64) -> Result<DateTime<Utc>, LineError> {
    (ms.is_finite() && ms >= 0.0)
        .then(|| DateTime::from_timestamp_millis(ms as i64))
        .flatten()
        .ok_or(LineError::Malformed)
}

/// What the parser remembers between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    announced: bool,
}

pub struct KimiParser {
    state: State,
    session: String,
    /// The session's work dir, where Kimi wrote it down.
    project: Option<String>,
    finders: [memmem::Finder<'static>; 3],
}

impl KimiParser {
    pub fn new(path: &Path, state: Option<&str>) -> KimiParser {
        KimiParser {
            state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
            session: session_of_path(path),
            project: None,
            finders: [
                memmem::Finder::new(b"\"token_usage\""),
                memmem::Finder::new(b"\"usage.record\""),
                memmem::Finder::new(b"\"metadata\""),
            ],
        }
    }

    /// Whether the session is yet to be announced: only then is its work
    /// dir ([`KimiParser::with_project`]) used.
    pub fn announced(&self) -> bool {
        self.state.announced
    }

    pub fn with_project(mut self, project: Option<String>) -> KimiParser {
        self.project = project;
        self
    }

    fn announce(&mut self, at: Option<DateTime<Utc>>, out: &mut Vec<Record>) {
        if !self.state.announced {
            self.state.announced = true;
            out.push(Record::Session(SessionInfo {
                external_id: self.session.clone(),
                project_path: self.project.clone(),
                agent_version: None,
                started_at: at,
            }));
        }
    }
}

/// The session of a log from its place: its folder, or the session above
/// `agents/<agent>` or `subagents/<agent>`.
pub fn session_of_path(path: &Path) -> String {
    let name = |p: Option<&Path>| p.and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
    let dir = path.parent();
    let up = dir.and_then(Path::parent);
    match name(up).as_deref() {
        Some("agents" | "subagents") => name(up.and_then(Path::parent)),
        _ => name(dir),
    }
    .unwrap_or_default()
}

impl LineParser for KimiParser {
    fn parse(&mut self, line: &[u8], _offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        if self.finders.iter().all(|f| f.find(line).is_none()) {
            return if looks_complete(line) { Ok(()) } else { Err(LineError::Malformed) };
        }
        let l: Line = serde_json::from_slice(line).map_err(|_| LineError::Malformed)?;
        let (at, tokens, model, assumed, key) = match (l.kind.as_deref(), l.message) {
            (Some("metadata"), _) => {
                // Kimi Code's says when the session began; Kimi CLI's does not.
                if let Some(at) = l.created_at.map(time).transpose()? {
                    self.announce(Some(at), out);
                }
                return Ok(());
            }
            (Some("usage.record"), _) => {
                let Some(u) = l.usage else { return Ok(()) };
                let at = time(l.time.ok_or(LineError::Malformed)?)?;
                let t = tokens(u.input_other, u.output, u.input_cache_read, u.input_cache_creation)?;
                let model = l.model.as_deref().map(str::trim).filter(|m| !m.is_empty());
                let agent = l.agent_id.as_deref().unwrap_or("");
                let scope = l.usage_scope.as_deref().unwrap_or("");
                let key = by_place(&self.session, agent, scope, at, &t);
                (at, t, model.unwrap_or(ASSUMED_MODEL).to_string(), model.is_none(), key)
            }
            (_, Some(Message { kind: Some(kind), payload: Some(Payload { token_usage: Some(u), message_id }) }))
                if kind == "StatusUpdate" =>
            {
                let at = time(l.timestamp.ok_or(LineError::Malformed)? * 1000.0)?;
                let mut t = tokens(u.input_other, u.output, u.input_cache_read, u.input_cache_creation)?;
                if t.is_zero() && u.total > 0 {
                    // Early versions gave only a total: output, as ccusage counts it.
                    t = tokens(0, u.total, 0, 0)?;
                }
                let key = match message_id.as_deref().filter(|m| !m.is_empty()) {
                    Some(id) => EventKey::of(&["kimi", id]),
                    None => by_place(&self.session, "", "", at, &t),
                };
                (at, t, ASSUMED_MODEL.to_string(), true, key)
            }
            _ => return Ok(()),
        };
        self.announce(Some(at), out);
        if tokens.is_zero() {
            return Ok(());
        }
        let model = served_model(&model, at.timestamp_millis());
        out.push(Record::Usage(UsageEvent {
            key,
            session_external_id: Arc::from(self.session.as_str()),
            timestamp: at,
            model: Arc::from(model),
            model_fallback: assumed,
            fast: false,
            sidechain: false,
            tokens,
            cost_usd: None,
        }));
        Ok(())
    }

    fn state(&self) -> Option<String> {
        Some(serde_json::to_string(&self.state).expect("state serializes"))
    }
}

/// The key of a call without an id of its own.
fn by_place(session: &str, agent: &str, scope: &str, at: DateTime<Utc>, t: &Tokens) -> EventKey {
    let ms = at.timestamp_millis().to_string();
    let n = [t.input, t.output, t.cache_read, t.cache_write_5m].map(|n| n.to_string());
    EventKey::of(&["kimi", session, agent, scope, &ms, &n[0], &n[1], &n[2], &n[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    fn parse_all(path: &str, text: &str) -> (Vec<Record>, usize) {
        let mut p = KimiParser::new(Path::new(path), None);
        let mut out = Vec::new();
        let mut bad = 0;
        let mut offset = 0;
        for l in text.lines() {
            if p.parse(l.as_bytes(), offset, &mut out).is_err() {
                bad += 1;
            }
            offset += l.len() as u64 + 1;
        }
        (out, bad)
    }

    #[test]
    fn kimi_cli_status_updates_are_calls_of_the_assumed_model() {
        let (out, bad) =
            parse_all("/h/.kimi/sessions/0f3a/5b1c/wire.jsonl", include_str!("fixtures/kimi-cli-wire.jsonl"));
        assert_eq!(bad, 1, "the cut-off last line");
        let c = calls(&out);
        assert_eq!(c.len(), 3, "three steps; a null token_usage and the subagent's mirrored copy are not calls");
        assert_eq!(c[0].session_external_id.as_ref(), "5b1c");
        assert_eq!(
            c[0].tokens,
            Tokens { input: 1243, output: 312, cache_read: 14800, cache_write_5m: 0, cache_write_1h: 0, reasoning: 0 }
        );
        assert_eq!(c[0].timestamp.timestamp_millis(), 1_776_162_403_512);
        assert_eq!((c[0].model.as_ref(), c[0].model_fallback), ("kimi-k2.5", true), "before 2026-04-20 15:28 UTC");
        assert_eq!(c[2].model.as_ref(), "kimi-k2.6", "after");
        assert_eq!(c[1].tokens.cache_write_5m, 512);
        assert!(matches!(&out[0], Record::Session(s) if s.external_id == "5b1c"));
    }

    #[test]
    fn kimi_code_usage_records_of_every_scope_count() {
        let (out, bad) = parse_all(
            "/h/.kimi-code/sessions/wd_app_1a2b3c4d5e6f/s-9/agents/main/wire.jsonl",
            include_str!("fixtures/kimi-code-wire.jsonl"),
        );
        assert_eq!(bad, 0);
        let c = calls(&out);
        assert_eq!(c.len(), 3, "turn and session (compaction) scopes; an all-zero record is no call");
        assert!(c.iter().all(|e| e.session_external_id.as_ref() == "s-9"));
        assert_eq!((c[0].model.as_ref(), c[0].model_fallback), ("kimi-k2.6", false));
        assert_eq!(c[0].timestamp.timestamp_millis(), 1_781_055_528_344);
        assert_eq!((c[0].tokens.input, c[0].tokens.output, c[0].tokens.cache_read), (4099, 101, 6400));
        assert_eq!(c[2].model.as_ref(), "kimi-k3", "another model keeps its name");
        let Record::Session(s) = &out[0] else { panic!("{:?}", out[0]) };
        assert_eq!(s.started_at.map(|t| t.timestamp_millis()), Some(1_781_055_520_000), "from the metadata line");
    }

    #[test]
    fn a_resumed_read_equals_a_full_one() {
        let text = include_str!("fixtures/kimi-cli-wire.jsonl");
        let path = Path::new("/h/.kimi/sessions/0f3a/5b1c/wire.jsonl");
        let (full, _) = parse_all(path.to_str().unwrap(), text);
        let lines: Vec<&str> = text.lines().collect();
        for cut in 0..lines.len() {
            let mut p = KimiParser::new(path, None);
            let mut out = Vec::new();
            for l in &lines[..cut] {
                let _ = p.parse(l.as_bytes(), 0, &mut out);
            }
            let mut q = KimiParser::new(path, p.state().as_deref());
            for l in &lines[cut..] {
                let _ = q.parse(l.as_bytes(), 0, &mut out);
            }
            assert_eq!(out, full, "cut at {cut}");
        }
    }

    #[test]
    fn a_call_read_twice_has_one_key_and_garbage_is_counted() {
        let line = r#"{"timestamp": 1776162403.5, "message": {"type": "StatusUpdate", "payload": {"token_usage": {"input_other": 1, "output": 2, "input_cache_read": 0, "input_cache_creation": 0}, "message_id": "chatcmpl-1"}}}"#;
        let (a, _) = parse_all("/h/.kimi/sessions/w/s1/wire.jsonl", line);
        let (b, _) = parse_all("/h/.kimi/sessions/w/s2-fork/wire.jsonl", line);
        assert_eq!(calls(&a)[0].key, calls(&b)[0].key, "a forked copy is the same call");
        for bad in [
            r#"{"timestamp": "yesterday", "message": {"type": "StatusUpdate", "payload": {"token_usage": {"output": 2}}}}"#,
            r#"{"type":"usage.record","model":"k","usage":{"output":1099511627777},"time":1}"#,
            r#"{"type":"usage.record","model":"k","usage":{"output":5}}"#,
            r#"{"type":"usage.record","#,
        ] {
            let (out, n) = parse_all("/h/.kimi/sessions/w/s/wire.jsonl", bad);
            assert_eq!((calls(&out).len(), n), (0, 1), "{bad}");
        }
    }
}
