//! pi's session files (`<time>_<session id>.jsonl`), line by line.
//!
//! `session-manager.ts` writes a header, `{"type": "session", "version",
//! "id", "timestamp", "cwd"}`, then one entry per line, each `{"type", "id",
//! "parentId", "timestamp": <ISO>}` plus its fields. A model call is a
//! `message` entry whose `message` is pi-ai's `AssistantMessage`
//! (`packages/ai/src/types.ts`): `{"role": "assistant", "provider",
//! "model", "usage": {"input", "output", "cacheRead", "cacheWrite",
//! "totalTokens", "cost": {…, "total"}}, "stopReason", "timestamp": <ms>}`.
//! `input` is the input not read from the cache (pi-ai's providers take the
//! cached part out, `openai-completions.ts`, `openai-responses-shared.ts`),
//! and `cost.total` is what pi priced the call at from its model list.
//! A message that names no model has the one the last `model_change` (or
//! OpenClaw's `custom` `model-snapshot`) named, flagged as assumed.
//!
//! A call is dated by its entry's `timestamp` (when pi wrote it), as ccusage
//! dates it. It is keyed by the message's own time (ms), provider, model and
//! counts, not by the session: `createBranchedSession` copies a branch's
//! entries verbatim into a new session file, and a copy is the same call.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{
    LineError, LineParser, MAX_TOKENS, Record, SessionInfo, looks_complete, parse_ts, plausible_cost,
};

/// The model named when a call names none.
pub const UNKNOWN_MODEL: &str = "unknown";

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cwd: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Message<'a>>,
    /// `model_change`: the model from now on.
    #[serde(borrow)]
    provider: Option<Cow<'a, str>>,
    #[serde(rename = "modelId", borrow)]
    model_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    /// OpenClaw's `custom` entries (`model-snapshot`).
    #[serde(rename = "customType", borrow)]
    custom_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<ModelChange<'a>>,
}

/// A model change (`model_change`, OpenClaw's `model-snapshot` data).
#[derive(Deserialize, Default)]
struct ModelChange<'a> {
    #[serde(borrow)]
    provider: Option<Cow<'a, str>>,
    #[serde(rename = "modelId", borrow)]
    model_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(crate) struct Message<'a> {
    #[serde(borrow)]
    pub role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub provider: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub model: Option<Cow<'a, str>>,
    #[serde(rename = "modelId", borrow)]
    pub model_id: Option<Cow<'a, str>>,
    pub usage: Option<Usage>,
    /// ms, when the call began.
    pub timestamp: Option<f64>,
    /// OpenClaw's id of the operation a call belongs to, by which it
    /// reconciles its accounting entries with calls (`sources/openclaw`).
    #[serde(rename = "usageBudgetOperationId", borrow)]
    pub operation: Option<Cow<'a, str>>,
}

/// pi-ai's `Usage`.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub total_tokens: u64,
    /// OpenClaw's normalized usage names the total `total`.
    pub total: u64,
    pub cost: Option<Cost>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
pub(crate) struct Cost {
    pub total: Option<f64>,
}

impl Usage {
    /// The tokens billed. A usage with a total and no output (written by
    /// some providers, or early versions) has the rest of its total as
    /// output, as ccusage counts it.
    pub fn tokens(&self) -> Result<Tokens, LineError> {
        let u = self;
        if [u.input, u.output, u.cache_read, u.cache_write, u.total_tokens].iter().any(|&n| n > MAX_TOKENS) {
            return Err(LineError::Malformed);
        }
        let known = u.input + u.output + u.cache_read + u.cache_write;
        let output = if u.output == 0 { u.total_tokens.saturating_sub(known) } else { u.output };
        Ok(Tokens {
            input: u.input,
            output,
            cache_write_5m: u.cache_write,
            cache_write_1h: 0,
            cache_read: u.cache_read,
            reasoning: 0,
        })
    }

    /// What pi priced the call at; 0 (a model without a price in its list,
    /// a local one) is no price: the tokens are priced instead.
    pub fn cost(&self) -> Option<f64> {
        plausible_cost(self.cost.and_then(|c| c.total)).filter(|c| *c > 0.0)
    }

    /// The counts as OpenClaw compares two rows of one call (`normalizeUsage`):
    /// input, output, cache read, cache write and the total it recorded
    /// (`total`, else `totalTokens`), else their sum.
    pub fn counts(&self) -> [u64; 5] {
        let sum = self.input + self.output + self.cache_read + self.cache_write;
        let total = [self.total, self.total_tokens].into_iter().find(|&n| n > 0).unwrap_or(sum);
        [self.input, self.output, self.cache_read, self.cache_write, total]
    }
}

/// What a call's line says beyond its event, as OpenClaw reconciles its
/// accounting entries with calls (`sources/openclaw/accounting.rs`): the
/// provider and model as the line names them, the counts, the operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallFacts {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub counts: [u64; 5],
    pub operation: Option<String>,
}

/// The key of a call: its own time, provider, model and counts.
pub(crate) fn call_key(agent: &str, at: &str, provider: &str, model: &str, t: &Tokens) -> EventKey {
    let n = [t.input, t.output, t.cache_read, t.cache_write_5m].map(|n| n.to_string());
    EventKey::of(&[agent, at, provider, model, &n[0], &n[1], &n[2], &n[3]])
}

/// What the parser remembers between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    announced: bool,
    /// The model the last model change named, for a message that names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
}

/// Parses pi's session files, and OpenClaw's (pi's `SessionManager`
/// writes both).
pub struct PiParser {
    state: State,
    /// The agent's id, first part of every key.
    agent: &'static str,
    session: String,
    finders: [memmem::Finder<'static>; 4],
    /// Whether [`PiParser::parse_call`] says what each call's line said
    /// (OpenClaw's parser asks; pi's does not).
    facts: bool,
}

impl PiParser {
    pub fn new(path: &Path, state: Option<&str>) -> PiParser {
        PiParser::for_agent("pi", super::paths::session_id_of(path).unwrap_or_default(), state)
    }

    /// A parser of the same files for another agent (`agent` keys its
    /// calls) and `session`.
    pub fn for_agent(agent: &'static str, session: String, state: Option<&str>) -> PiParser {
        PiParser {
            state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
            agent,
            session,
            finders: [
                memmem::Finder::new(b"\"usage\""),
                memmem::Finder::new(b"\"session\""),
                memmem::Finder::new(b"\"model_change\""),
                memmem::Finder::new(b"\"model-snapshot\""),
            ],
            facts: false,
        }
    }

    /// This parser, saying what each call's line said ([`CallFacts`]).
    pub(crate) fn with_facts(mut self) -> PiParser {
        self.facts = true;
        self
    }

    /// The session its calls belong to.
    pub(crate) fn session(&self) -> &str {
        &self.session
    }

    /// The model and provider the last model change named.
    pub(crate) fn assumed(&self) -> (Option<&str>, Option<&str>) {
        (self.state.model.as_deref(), self.state.provider.as_deref())
    }

    /// Says the session began, at `at`, unless it already has.
    pub(crate) fn announce_at(&mut self, at: DateTime<Utc>, out: &mut Vec<Record>) {
        self.announce(None, Some(at), out);
    }

    fn change_model(&mut self, c: &ModelChange) {
        let text = |v: &Option<Cow<str>>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(m) = text(&c.model_id).or_else(|| text(&c.model)) {
            self.state.model = Some(m);
        }
        if let Some(p) = text(&c.provider) {
            self.state.provider = Some(p);
        }
    }

    fn announce(&mut self, cwd: Option<&str>, at: Option<DateTime<Utc>>, out: &mut Vec<Record>) {
        if !self.state.announced {
            self.state.announced = true;
            out.push(Record::Session(SessionInfo {
                external_id: self.session.clone(),
                project_path: cwd.filter(|c| !c.is_empty()).map(str::to_string),
                agent_version: None,
                started_at: at,
            }));
        }
    }
}

impl PiParser {
    /// Parses one line as [`LineParser::parse`] does; when it gave a call
    /// (the last record) and this parser says so ([`PiParser::with_facts`]),
    /// what the line said of it.
    pub(crate) fn parse_call(&mut self, line: &[u8], out: &mut Vec<Record>) -> Result<Option<CallFacts>, LineError> {
        if self.finders.iter().all(|f| f.find(line).is_none()) {
            return if looks_complete(line) { Ok(None) } else { Err(LineError::Malformed) };
        }
        let l: Line = serde_json::from_slice(line).map_err(|_| LineError::Malformed)?;
        let ts = l.timestamp.as_deref().map(|t| parse_ts(t).ok_or(LineError::Malformed)).transpose()?;
        match l.kind.as_deref() {
            Some("session") => {
                self.announce(l.cwd.as_deref(), ts, out);
                return Ok(None);
            }
            Some("model_change") => {
                let change = ModelChange { provider: l.provider, model_id: l.model_id, model: l.model };
                self.change_model(&change);
                return Ok(None);
            }
            Some("custom") if l.custom_type.as_deref() == Some("model-snapshot") => {
                if let Some(d) = &l.data {
                    self.change_model(d);
                }
                return Ok(None);
            }
            // ccusage also takes a message line without a type.
            Some("message") | None => {}
            _ => return Ok(None),
        }
        let Some(m) = l.message.filter(|m| m.role.as_deref() == Some("assistant")) else { return Ok(None) };
        let Some(u) = m.usage else { return Ok(None) };
        let tokens = u.tokens()?;
        let started = m.timestamp.filter(|t| t.is_finite() && *t >= 0.0).map(|t| t as i64);
        let at = ts.or_else(|| started.and_then(DateTime::from_timestamp_millis)).ok_or(LineError::Malformed)?;
        self.announce(None, Some(at), out);
        if tokens.is_zero() {
            return Ok(None); // a failed call (`stopReason` "error"): nothing billed
        }
        let text = |v: &Option<Cow<'_, str>>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let name = text(&m.model_id).or_else(|| text(&m.model));
        // A message without a model: the one the last model change named.
        let model = name.clone().or_else(|| self.state.model.clone()).unwrap_or_else(|| UNKNOWN_MODEL.to_string());
        let provider = text(&m.provider).or_else(|| self.state.provider.clone()).unwrap_or_default();
        let when = started.map_or_else(|| at.timestamp_millis().to_string(), |t| t.to_string());
        out.push(Record::Usage(UsageEvent {
            key: call_key(self.agent, &when, &provider, &model, &tokens),
            session_external_id: Arc::from(self.session.as_str()),
            timestamp: at,
            model: Arc::from(model.as_str()),
            model_fallback: name.is_none(),
            fast: false,
            sidechain: false,
            tokens,
            cost_usd: u.cost(),
        }));
        if !self.facts {
            return Ok(None);
        }
        let raw = |v: &Option<Cow<'_, str>>| v.as_deref().map(str::to_string);
        Ok(Some(CallFacts {
            provider: raw(&m.provider).or_else(|| raw(&l.provider)),
            model: raw(&m.model).or_else(|| raw(&l.model)),
            counts: u.counts(),
            operation: raw(&m.operation).filter(|o| !o.trim().is_empty()),
        }))
    }
}

impl LineParser for PiParser {
    fn parse(&mut self, line: &[u8], _offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        self.parse_call(line, out).map(|_| ())
    }

    fn state(&self) -> Option<String> {
        Some(serde_json::to_string(&self.state).expect("state serializes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    const PATH: &str =
        "/h/.pi/agent/sessions/--home-u-app--/2026-03-14T09-12-03-511Z_6f1d2c7e-1b3a-4c55-9e0f-2a7b8c9d0e1f.jsonl";
    const SESSION: &str = "6f1d2c7e-1b3a-4c55-9e0f-2a7b8c9d0e1f";

    fn parse_all(path: &str, text: &str) -> (Vec<Record>, usize) {
        let mut p = PiParser::new(Path::new(path), None);
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
    fn assistant_messages_are_calls_with_pis_own_cost() {
        let (out, bad) = parse_all(PATH, include_str!("fixtures/session.jsonl"));
        assert_eq!(bad, 1, "the cut-off last line");
        let Record::Session(s) = &out[0] else { panic!("{:?}", out[0]) };
        assert_eq!(s.external_id, SESSION);
        assert_eq!(s.project_path.as_deref(), Some("/home/u/app"));
        assert_eq!(s.started_at.map(|t| t.timestamp_millis()), Some(1_773_479_523_511));
        let c = calls(&out);
        assert_eq!(c.len(), 4, "a failed call with no usage is none; user, tool and bash lines say nothing");
        assert!(c.iter().all(|e| e.session_external_id.as_ref() == SESSION && !e.model_fallback));
        assert_eq!(c[0].model.as_ref(), "claude-sonnet-4-5");
        assert_eq!(
            c[0].tokens,
            Tokens { input: 3, output: 120, cache_read: 0, cache_write_5m: 4210, cache_write_1h: 0, reasoning: 0 }
        );
        assert_eq!(c[0].timestamp.timestamp_millis(), 1_773_479_534_870, "the entry's time, as ccusage dates it");
        assert_eq!(c[0].cost_usd, Some(0.0175965));
        assert_eq!((c[1].tokens.cache_read, c[1].tokens.cache_write_5m), (4210, 310));
        assert_eq!(c[2].model.as_ref(), "gpt-5");
        assert_eq!((c[2].tokens.input, c[2].tokens.output, c[2].tokens.cache_read), (1200, 340, 2048));
        assert_eq!(c[2].timestamp.to_rfc3339(), "2026-03-15T00:00:04.750+00:00", "after midnight, begun before");
        assert_eq!(c[3].model.as_ref(), "qwen3-coder:30b");
        assert_eq!(c[3].cost_usd, None, "pi priced it at 0: the tokens are priced instead");
    }

    /// Written by the real pi 0.73.1 in tests/agents/pi.rs (its temporary
    /// folder as `/home/u/lib`): a greeting, a slow reply, a tool call and
    /// the reply after it, the person's own `!echo`, an interrupted turn.
    const REAL: &str = include_str!("fixtures/pi-0.73.1.jsonl");
    const REAL_PATH: &str =
        "/h/.pi/agent/sessions/--home-u-lib--/2026-12-07T11-42-11-861Z_01a2504f-b995-72cb-9da1-f2d65623678f.jsonl";
    const REAL_SESSION: &str = "01a2504f-b995-72cb-9da1-f2d65623678f";

    #[test]
    fn the_real_pis_calls_are_the_stubs_usage_with_pis_price() {
        let (out, bad) = parse_all(REAL_PATH, REAL);
        assert_eq!(bad, 0);
        let Record::Session(s) = &out[0] else { panic!("{:?}", out[0]) };
        assert_eq!(s.external_id, REAL_SESSION);
        assert_eq!(s.project_path.as_deref(), Some("/home/u/lib"));
        assert_eq!(s.started_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-12-07T11:42:11.861+00:00"));
        let c = calls(&out);
        // The stub's 120 prompt tokens (64 cached) and 40 completion
        // tokens, as pi's openai-completions provider records them: the
        // cached part taken out of the input. The interrupted call is all
        // zeros (`stopReason` "aborted"): no call.
        let stub = Tokens { input: 56, output: 40, cache_read: 64, cache_write_5m: 0, cache_write_1h: 0, reasoning: 0 };
        assert_eq!(c.len(), 4);
        for e in &c {
            assert_eq!((e.model.as_ref(), e.model_fallback, e.tokens), ("stub-model", false, stub));
            assert_eq!(e.session_external_id.as_ref(), REAL_SESSION);
            // pi's price from models.json (3, 15 and 0.3 $ per million).
            assert_eq!(e.cost_usd, Some(0.0007872));
        }
        let at: Vec<String> = c.iter().map(|e| e.timestamp.to_rfc3339()).collect();
        assert_eq!(
            at,
            [
                "2026-12-07T11:42:15.961+00:00",
                "2026-12-07T11:42:24.809+00:00",
                "2026-12-07T11:42:28.647+00:00",
                "2026-12-07T11:42:32.789+00:00"
            ],
            "each entry's time, when pi wrote the reply"
        );
        let mut keys: Vec<_> = c.iter().map(|e| e.key).collect();
        keys.dedup();
        assert_eq!(keys.len(), 4, "equal usage, four calls: keyed by when each began");
    }

    #[test]
    fn a_message_without_a_model_has_the_last_changes() {
        let text = [
            r#"{"type":"model_change","id":"a","parentId":null,"timestamp":"2026-01-02T00:00:00.000Z","provider":"anthropic","modelId":"claude-sonnet-4-5"}"#,
            r#"{"type":"message","id":"b","parentId":"a","timestamp":"2026-01-02T00:00:01.000Z","message":{"role":"assistant","usage":{"input":1,"output":2}}}"#,
            r#"{"type":"custom","customType":"model-snapshot","id":"c","parentId":"b","timestamp":"2026-01-02T00:00:02.000Z","data":{"provider":"openai","modelId":"gpt-5"}}"#,
            r#"{"type":"message","id":"d","parentId":"c","timestamp":"2026-01-02T00:00:03.000Z","message":{"role":"assistant","usage":{"input":1,"output":3}}}"#,
        ];
        let (full, _) = parse_all(PATH, &text.join("\n"));
        let c = calls(&full);
        assert_eq!((c[0].model.as_ref(), c[0].model_fallback), ("claude-sonnet-4-5", true));
        assert_eq!(c[1].model.as_ref(), "gpt-5", "OpenClaw's model snapshot");
        // Resumed after the change: the state keeps it.
        let mut p = PiParser::new(Path::new(PATH), None);
        let mut out = Vec::new();
        p.parse(text[0].as_bytes(), 0, &mut out).unwrap();
        let mut q = PiParser::new(Path::new(PATH), p.state().as_deref());
        q.parse(text[1].as_bytes(), 0, &mut out).unwrap();
        assert_eq!(calls(&out)[0].model.as_ref(), "claude-sonnet-4-5");
    }

    #[test]
    fn a_resumed_read_equals_a_full_one() {
        for (path, text) in [(PATH, include_str!("fixtures/session.jsonl")), (REAL_PATH, REAL)] {
            let (full, _) = parse_all(path, text);
            let lines: Vec<&str> = text.lines().collect();
            for cut in 0..lines.len() {
                let mut p = PiParser::new(Path::new(path), None);
                let mut out = Vec::new();
                for l in &lines[..cut] {
                    let _ = p.parse(l.as_bytes(), 0, &mut out);
                }
                let mut q = PiParser::new(Path::new(path), p.state().as_deref());
                for l in &lines[cut..] {
                    let _ = q.parse(l.as_bytes(), 0, &mut out);
                }
                assert_eq!(out, full, "{path}: cut at {cut}");
            }
        }
    }

    #[test]
    fn a_branched_copy_is_the_same_call_and_garbage_is_counted() {
        let text = include_str!("fixtures/session.jsonl");
        let (a, _) = parse_all(PATH, text);
        // createBranchedSession: a new header, then the branch's entries as they were.
        let branch = format!(
            "{{\"type\":\"session\",\"version\":3,\"id\":\"9a8b\",\"timestamp\":\"2026-03-16T10:00:00.000Z\",\"cwd\":\"/home/u/app\",\"parentSession\":\"{PATH}\"}}\n{}",
            text.lines().skip(1).take(6).collect::<Vec<_>>().join("\n")
        );
        let (b, bad) = parse_all("/h/.pi/agent/sessions/--home-u-app--/2026-03-16T10-00-00-000Z_9a8b.jsonl", &branch);
        assert_eq!(bad, 0);
        let (ca, cb) = (calls(&a), calls(&b));
        assert_eq!(cb.len(), 2);
        assert_eq!((cb[0].key, cb[1].key), (ca[0].key, ca[1].key));
        assert_eq!(cb[0].session_external_id.as_ref(), "9a8b");
        // Only a total: the rest of it is output, as ccusage counts it.
        let total = r#"{"type":"message","timestamp":"2026-01-02T00:00:00.000Z","message":{"role":"assistant","model":"gpt-5","usage":{"input":100,"totalTokens":333}}}"#;
        let (out, _) = parse_all(PATH, total);
        assert_eq!((calls(&out)[0].tokens.input, calls(&out)[0].tokens.output), (100, 233));
        for bad in [
            r#"{"type":"message","timestamp":"yesterday","message":{"role":"assistant","model":"m","usage":{"output":2}}}"#,
            r#"{"type":"message","timestamp":"2026-01-02T00:00:00Z","message":{"role":"assistant","model":"m","usage":{"output":1099511627777}}}"#,
            r#"{"type":"message","message":{"role":"assistant","model":"m","usage":{"output":5}}}"#,
            r#"{"type":"message","message":{"role":"assistant","usage":"#,
            r#"{"type":"session","id":"x","#,
        ] {
            let (out, n) = parse_all(PATH, bad);
            assert_eq!((calls(&out).len(), n), (0, 1), "{bad}");
        }
    }
}
