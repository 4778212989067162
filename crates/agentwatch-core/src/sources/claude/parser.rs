//! Claude Code transcript lines.
//!
//! Usage lines are `type: "assistant"` lines with `message.usage`. Claude Code
//! writes one line per content block, each carrying the same usage, so a call
//! is identified by `message.id` (with `requestId` when present) and counted
//! once; of several copies the one with the most tokens wins (earlier lines
//! may carry a partial count while the response streams). Lines without a
//! timestamp or a model are skipped; `<synthetic>` messages (Claude Code's
//! own, without usage) are kept under that model name, for the 5-hour blocks
//! only (see [`SYNTHETIC_MODEL`](crate::model::SYNTHETIC_MODEL)). Malformed lines (including token counts over
//! [`MAX_TOKENS`](crate::sources::MAX_TOKENS)) are reported, never fatal; a
//! `costUSD` no call can have (negative, huge) is ignored.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use memchr::memmem;
use serde::Deserialize;

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{
    LineError, LineParser, MAX_TOKENS, Record, SessionInfo, looks_complete, parse_ts, plausible_cost,
};

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cwd: Option<Cow<'a, str>>,
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<Cow<'a, str>>,
    #[serde(rename = "isSidechain")]
    is_sidechain: Option<bool>,
    #[serde(rename = "costUSD")]
    cost_usd: Option<f64>,
    #[serde(borrow)]
    message: Option<Message<'a>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    usage: Option<Usage<'a>>,
}

#[derive(Deserialize)]
struct Usage<'a> {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation: Option<CacheCreation>,
    #[serde(borrow)]
    speed: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Option<u64>,
    ephemeral_1h_input_tokens: Option<u64>,
}

pub struct ClaudeParser {
    /// The session a line without `sessionId` belongs to: the file's stem.
    file_session: String,
    /// Used in the dedup key of calls without a message id.
    file_key: String,
    /// Sessions whose metadata was already emitted by this parser.
    announced: HashSet<String>,
    /// The last session and model seen, shared by the events that follow.
    session: Option<Arc<str>>,
    model: Option<Arc<str>>,
    usage_finder: memmem::Finder<'static>,
}

impl ClaudeParser {
    pub fn new(path: &Path) -> ClaudeParser {
        ClaudeParser {
            file_session: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            file_key: path.display().to_string(),
            announced: HashSet::new(),
            session: None,
            model: None,
            usage_finder: memmem::Finder::new(b"\"usage\""),
        }
    }
}

impl LineParser for ClaudeParser {
    fn parse(&mut self, line: &[u8], offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        // Most bytes are in lines without usage (tool results, user turns):
        // look for the key before paying for a parse.
        if self.usage_finder.find(line).is_none() {
            return if looks_complete(line) { Ok(()) } else { Err(LineError::Malformed) };
        }
        let l: Line = serde_json::from_slice(line).map_err(|_| LineError::Malformed)?;
        if l.kind.as_deref() != Some("assistant") {
            return Ok(());
        }
        let Some(msg) = l.message else { return Ok(()) };
        let Some(u) = msg.usage else { return Ok(()) };
        let Some(model) = msg.model.as_deref().filter(|m| !m.is_empty()) else {
            return Ok(());
        };
        let Some(ts) = l.timestamp.as_deref() else { return Ok(()) };
        let timestamp = parse_ts(ts).ok_or(LineError::Malformed)?;
        let session = l.session_id.as_deref().filter(|s| !s.is_empty()).unwrap_or(&self.file_session);

        let (cache_write_5m, cache_write_1h) = match &u.cache_creation {
            Some(c) => (c.ephemeral_5m_input_tokens.unwrap_or(0), c.ephemeral_1h_input_tokens.unwrap_or(0)),
            None => (u.cache_creation_input_tokens.unwrap_or(0), 0),
        };
        let tokens = Tokens {
            input: u.input_tokens.unwrap_or(0),
            output: u.output_tokens.unwrap_or(0),
            cache_write_5m,
            cache_write_1h,
            cache_read: u.cache_read_input_tokens.unwrap_or(0),
            reasoning: 0,
        };
        let counts = [tokens.input, tokens.output, tokens.cache_write_5m, tokens.cache_write_1h, tokens.cache_read];
        if counts.iter().any(|&n| n > MAX_TOKENS) {
            return Err(LineError::Malformed);
        }

        if !self.announced.contains(session) {
            self.announced.insert(session.to_string());
            out.push(Record::Session(SessionInfo {
                external_id: session.to_string(),
                project_path: l.cwd.as_deref().map(str::to_string),
                agent_version: l.version.as_deref().map(str::to_string),
                started_at: Some(timestamp),
            }));
        }

        // A call is (message id, request id). A message id alone also names
        // one response, so lines without a request id share its key. (ccusage
        // 20's daily report counts such lines once per timestamp instead; its
        // session report agrees with this. Current Claude Code always writes
        // request ids.)
        let key = match msg.id.as_deref() {
            Some(id) => EventKey::of(&["claude", id, l.request_id.as_deref().unwrap_or("")]),
            None => EventKey::of(&["claude-line", &self.file_key, &offset.to_string()]),
        };
        out.push(Record::Usage(UsageEvent {
            key,
            session_external_id: intern(&mut self.session, session),
            timestamp,
            model: intern(&mut self.model, model),
            model_fallback: false,
            fast: u.speed.as_deref() == Some("fast"),
            sidechain: l.is_sidechain.unwrap_or(false),
            tokens,
            cost_usd: plausible_cost(l.cost_usd),
        }));
        Ok(())
    }

    fn state(&self) -> Option<String> {
        None
    }
}

/// The cached string when it is the same, else a new one, cached.
fn intern(slot: &mut Option<Arc<str>>, s: &str) -> Arc<str> {
    match slot {
        Some(a) if &**a == s => a.clone(),
        _ => {
            let a: Arc<str> = Arc::from(s);
            *slot = Some(a.clone());
            a
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(lines: &[&str]) -> (Vec<Record>, usize) {
        let mut p = ClaudeParser::new(Path::new("/x/projects/-p/file-session.jsonl"));
        let mut out = Vec::new();
        let mut bad = 0;
        let mut off = 0;
        for l in lines {
            if p.parse(l.as_bytes(), off, &mut out).is_err() {
                bad += 1;
            }
            off += l.len() as u64 + 1;
        }
        (out, bad)
    }

    fn usages(r: &[Record]) -> Vec<&UsageEvent> {
        r.iter()
            .filter_map(|r| match r {
                Record::Usage(u) => Some(u),
                _ => None,
            })
            .collect()
    }

    const FULL: &str = r#"{"parentUuid":null,"isSidechain":false,"cwd":"/home/u/app","sessionId":"s-1","version":"2.0.14","type":"assistant","requestId":"req_1","timestamp":"2026-11-20T10:00:01.000Z","message":{"id":"msg_1","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_1","name":"Read","input":{"usage":"not this one","model":"nor this"}}],"usage":{"input_tokens":100,"output_tokens":50,"cache_creation_input_tokens":1000,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":600},"speed":"fast"}}}"#;

    #[test]
    fn reads_every_usage_field() {
        let (r, bad) = parse_all(&[FULL]);
        assert_eq!(bad, 0);
        assert_eq!(
            r[0],
            Record::Session(SessionInfo {
                external_id: "s-1".into(),
                project_path: Some("/home/u/app".into()),
                agent_version: Some("2.0.14".into()),
                started_at: parse_ts("2026-11-20T10:00:01Z"),
            })
        );
        let u = usages(&r)[0];
        assert_eq!(u.key, EventKey::of(&["claude", "msg_1", "req_1"]));
        assert_eq!(&*u.model, "claude-sonnet-4-5-20250929");
        assert!(u.fast && !u.sidechain && u.cost_usd.is_none());
        assert_eq!(
            u.tokens,
            Tokens { input: 100, output: 50, cache_write_5m: 400, cache_write_1h: 600, cache_read: 2000, reasoning: 0 }
        );
    }

    #[test]
    fn without_the_cache_object_all_writes_are_5m() {
        let l = r#"{"type":"assistant","timestamp":"2026-11-20T10:00:01Z","message":{"id":"m","model":"x","usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":700,"cache_read_input_tokens":3}}}"#;
        let (r, _) = parse_all(&[l]);
        let u = usages(&r)[0];
        assert_eq!((u.tokens.cache_write_5m, u.tokens.cache_write_1h), (700, 0));
        assert_eq!(&*u.session_external_id, "file-session", "no sessionId: the file names the session");
        assert_eq!(u.key, EventKey::of(&["claude", "m", ""]), "a message id alone names one response");
    }

    #[test]
    fn keeps_synthetic_messages_under_their_own_model() {
        // Claude Code's own messages: ccusage counts them as entries of a
        // 5-hour block, so they are kept (and left out of other reports).
        let line = r#"{"type":"assistant","timestamp":"2026-11-20T10:00:01Z","message":{"id":"a","model":"<synthetic>","usage":{"input_tokens":0,"output_tokens":0}}}"#;
        let (r, bad) = parse_all(&[line]);
        let u = usages(&r);
        assert_eq!((u.len(), bad), (1, 0));
        assert_eq!(&*u[0].model, crate::model::SYNTHETIC_MODEL);
    }

    #[test]
    fn skips_no_timestamp_no_model_and_non_assistant_lines() {
        let lines = [
            r#"{"type":"assistant","message":{"id":"b","model":"claude-x","usage":{"input_tokens":1}}}"#,
            r#"{"type":"assistant","timestamp":"2026-11-20T10:00:01Z","message":{"id":"c","usage":{"input_tokens":1}}}"#,
            r#"{"type":"user","timestamp":"2026-11-20T10:00:01Z","message":{"role":"user","content":"what is \"usage\"?"}}"#,
            r#"{"type":"summary","summary":"x"}"#,
        ];
        let (r, bad) = parse_all(&lines);
        assert!(r.is_empty(), "{r:?}");
        assert_eq!(bad, 0);
    }

    #[test]
    fn counts_malformed_and_truncated_lines() {
        let truncated = &FULL[..FULL.len() - 40];
        let (r, bad) =
            parse_all(&[truncated, "{\"type\":\"user\",\"message\":{\"content\":\"cut", "not json at all", FULL]);
        assert_eq!(bad, 3);
        assert_eq!(usages(&r).len(), 1, "a bad line never stops the file");
    }

    #[test]
    fn a_resumed_read_equals_a_full_one() {
        // Written by the real Claude Code 2.1.197 (tests/agents): its calls
        // and sessions read in one go, and read stopped at any line and
        // resumed (Claude's parser keeps no state: `state` is `None`).
        let text = include_str!("fixtures/turns-2.1.197.jsonl");
        let path = Path::new("/x/projects/-p/turns.jsonl");
        let lines: Vec<&str> = text.lines().collect();
        let read = |parts: &[&[&str]]| {
            let mut out = Vec::new();
            for part in parts {
                let mut p = ClaudeParser::new(path);
                assert_eq!(p.state(), None);
                for (i, l) in part.iter().enumerate() {
                    let _ = p.parse(l.as_bytes(), i as u64, &mut out);
                }
            }
            let calls: Vec<UsageEvent> = usages(&out).into_iter().cloned().collect();
            // A resumed read announces the session again, begun at its first
            // line after the cut: the store keeps the earliest start.
            let mut sessions: std::collections::BTreeMap<String, SessionInfo> = Default::default();
            for r in &out {
                if let Record::Session(s) = r {
                    let e = sessions.entry(s.external_id.clone()).or_insert_with(|| s.clone());
                    e.started_at = e.started_at.min(s.started_at);
                }
            }
            let sessions: Vec<SessionInfo> = sessions.into_values().collect();
            (calls, sessions)
        };
        let full = read(&[&lines]);
        let mut keys: Vec<EventKey> = full.0.iter().map(|u| u.key).collect();
        keys.dedup();
        assert_eq!((full.0.len(), keys.len()), (12, 9), "a line per content block: copies of a call");
        assert_eq!(full.1.len(), 1);
        for cut in 0..=lines.len() {
            assert_eq!(read(&[&lines[..cut], &lines[cut..]]), full, "cut at line {cut}");
        }
    }

    #[test]
    fn impossible_token_counts_are_malformed_and_odd_costs_ignored() {
        // Seen writing the claude_line fuzz target's checks: a count near
        // u64::MAX went negative in the store's signed sums and overflowed
        // `Tokens::total`.
        let line = |usage: &str, cost: &str| {
            format!(
                r#"{{"type":"assistant","sessionId":"s-9","costUSD":{cost},"timestamp":"2026-11-20T10:00:01Z","message":{{"id":"m","model":"claude-x","usage":{usage}}}}}"#
            )
        };
        let huge = line(r#"{"input_tokens":18446744073709551615,"output_tokens":1}"#, "null");
        let over = line(&format!(r#"{{"cache_creation":{{"ephemeral_1h_input_tokens":{}}}}}"#, MAX_TOKENS + 1), "null");
        let (r, bad) = parse_all(&[&huge, &over]);
        assert_eq!((r.len(), bad), (0, 2), "nothing, not even the session, comes of them");
        let at_max = line(&format!(r#"{{"input_tokens":{MAX_TOKENS}}}"#), "-0.5");
        let (r, bad) = parse_all(&[&at_max, &line("{}", "1e300"), &line("{}", "0.25")]);
        let u = usages(&r);
        assert_eq!((u.len(), bad), (3, 0));
        assert_eq!(u[0].tokens.input, MAX_TOKENS);
        assert_eq!(u.iter().map(|u| u.cost_usd).collect::<Vec<_>>(), [None, None, Some(0.25)]);
    }

    #[test]
    fn legacy_cost_and_sidechain_are_kept() {
        let l = r#"{"type":"assistant","isSidechain":true,"costUSD":0.25,"timestamp":"2026-11-20T10:00:01Z","message":{"model":"claude-x","usage":{"input_tokens":1}}}"#;
        let (r, _) = parse_all(&[l, l]);
        let u = usages(&r);
        assert!(u[0].sidechain);
        assert_eq!(u[0].cost_usd, Some(0.25));
        // Without a message id each line is its own call.
        assert_ne!(u[0].key, u[1].key);
    }
}
