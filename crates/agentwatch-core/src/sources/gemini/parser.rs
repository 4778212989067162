//! Gemini CLI chat lines (`session-*.jsonl`): the header, message records,
//! `$set` and `$rewindTo` lines (see README.md).
//!
//! - The header (`sessionId`, `startTime`) names the session; before it (or
//!   without it) the file's name does.
//! - A `gemini` record with `tokens` is a billed model call. Gemini CLI
//!   appends a message again under the same `id` whenever it changes (its
//!   tokens arrive, its tool calls finish); its tokens are set once and never
//!   change afterwards (`recordMessageTokens` only fills a message that has
//!   none), so the call is keyed by session and message id and counted once.
//! - `$set` (a rewritten history) and `$rewindTo` (a rewind) re-state or
//!   hide messages already written: calls that were made stay billed, so
//!   neither changes the usage.
//! - Tokens are the API's `usageMetadata`: `input` is the prompt, cached
//!   part included; `output` the reply; `thoughts` the thinking, billed as
//!   output; `tool` the tool-use prompt, billed as input; `total` their sum.
//!   Input is reported without the cached part (as cache reads) when
//!   `total` shows the cached part inside it. Output includes the thoughts
//!   (shown apart as reasoning), so that output is all that is billed as
//!   output, as it is for the other agents.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, LineParser, MAX_TOKENS, Record, SessionInfo, looks_complete, parse_ts};

/// Gemini CLI's default model, assumed (and flagged) for a call whose
/// record and file name none.
pub const FALLBACK_MODEL: &str = "gemini-2.5-pro";

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(rename = "startTime", borrow)]
    start_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    tokens: Option<RawTokens>,
}

/// A message's `tokens`, as Gemini CLI copies them from `usageMetadata`.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
struct RawTokens {
    input: u64,
    output: u64,
    cached: u64,
    thoughts: u64,
    tool: u64,
    total: Option<u64>,
}

impl RawTokens {
    fn over_max(&self) -> bool {
        [self.input, self.output, self.cached, self.thoughts, self.tool, self.total.unwrap_or(0)]
            .iter()
            .any(|&n| n > MAX_TOKENS)
    }

    fn tokens(&self) -> Tokens {
        let RawTokens { input, output, cached, thoughts, tool, total } = *self;
        // The prompt count includes the cached part when the total adds up
        // without it.
        let cached_inside = cached > 0 && total == Some(input + output + thoughts + tool);
        let input = if cached_inside { input - cached.min(input) } else { input };
        let mut t = Tokens {
            input: input + tool,
            output: output + thoughts,
            cache_write_5m: 0,
            cache_write_1h: 0,
            cache_read: cached,
            reasoning: thoughts,
        };
        // A total larger than its parts: the rest is output the parts do
        // not name (thinking, when the reply itself is counted).
        let named = t.input + t.output + t.cache_read;
        if let Some(missing) = total.map(|n| n.saturating_sub(named)).filter(|m| *m > 0) {
            t.output += missing;
            if output > 0 {
                t.reasoning += missing;
            }
        }
        t
    }
}

/// What the parser must remember between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    session: Option<String>,
    /// The newest model a record named, for a call that names none.
    model: Option<String>,
}

pub struct GeminiParser {
    state: State,
    file_stem: String,
    project: Option<String>,
    finders: [memmem::Finder<'static>; 3],
}

impl GeminiParser {
    /// A parser for the chat file `path`, of the project `project` (read by
    /// the source from Gemini CLI's own records), resuming from `state`.
    pub fn new(path: &Path, project: Option<String>, state: Option<&str>) -> GeminiParser {
        GeminiParser {
            state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
            file_stem: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            project,
            finders: [
                memmem::Finder::new(b"\"tokens\""),
                memmem::Finder::new(b"\"sessionId\""),
                memmem::Finder::new(b"\"model\""),
            ],
        }
    }
}

impl LineParser for GeminiParser {
    fn parse(&mut self, line: &[u8], offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        if !self.finders.iter().any(|f| f.find(line).is_some()) {
            return if looks_complete(line) { Ok(()) } else { Err(LineError::Malformed) };
        }
        let l: Line = serde_json::from_slice(line).map_err(|_| LineError::Malformed)?;
        // The header: a session id and no message type.
        if l.kind.is_none()
            && let Some(id) = l.session_id.as_deref().filter(|s| !s.is_empty())
        {
            self.state.session = Some(id.to_string());
            out.push(Record::Session(SessionInfo {
                external_id: id.to_string(),
                project_path: self.project.clone(),
                agent_version: None,
                started_at: l.start_time.as_deref().and_then(parse_ts),
            }));
            return Ok(());
        }
        if let Some(m) = l.model.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            self.state.model = Some(m.to_string());
        }
        let (Some("gemini"), Some(raw)) = (l.kind.as_deref(), l.tokens) else { return Ok(()) };
        if raw.over_max() {
            return Err(LineError::Malformed);
        }
        let tokens = raw.tokens();
        // Each part may be within bounds and their sums not.
        if [tokens.input, tokens.output, tokens.cache_read, tokens.reasoning].iter().any(|&n| n > MAX_TOKENS) {
            return Err(LineError::Malformed);
        }
        if tokens.is_zero() {
            return Ok(());
        }
        let Some(timestamp) = l.timestamp.as_deref().and_then(parse_ts) else {
            // Usage at a time that cannot be read is reported, as the other agents' is.
            return if l.timestamp.is_some() { Err(LineError::Malformed) } else { Ok(()) };
        };
        let session = self.state.session.as_deref().unwrap_or(&self.file_stem);
        // A record without an id (none is known) is known by its place.
        let at;
        let message = match l.id.as_deref().filter(|s| !s.is_empty()) {
            Some(id) => id,
            None => {
                at = offset.to_string();
                &at
            }
        };
        let (model, model_fallback) = match &self.state.model {
            Some(m) => (Arc::from(m.as_str()), false),
            None => (Arc::from(FALLBACK_MODEL), true),
        };
        out.push(Record::Usage(UsageEvent {
            key: EventKey::of(&["gemini-cli", session, message]),
            session_external_id: Arc::from(session),
            timestamp,
            model,
            model_fallback,
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

/// A legacy single-document chat (`session-*.json`, which Gemini CLI
/// rewrote whole, `JSON.stringify(conversation, null, 2)`, until it moved
/// to JSON lines in April 2026): the same header and messages as a chat of
/// lines, read whole, with the same keys, so a session resumed into a
/// `.jsonl` (which copies its messages, ids and all) counts once.
pub fn document(path: &Path, project: Option<String>, bytes: &[u8], out: &mut Vec<Record>) -> Result<(), LineError> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| LineError::Malformed)?;
    if !v.is_object() {
        return Err(LineError::Malformed);
    }
    let mut p = GeminiParser::new(path, project, None);
    if v["sessionId"].is_string() {
        let header = serde_json::json!({"sessionId": v["sessionId"], "startTime": v["startTime"]});
        p.parse(header.to_string().as_bytes(), 0, out)?;
    }
    for (i, m) in v["messages"].as_array().map_or(&[][..], Vec::as_slice).iter().enumerate() {
        // A message has a type (without one it would read as a header); one
        // that cannot be read is left out, the others count.
        if m["type"].is_string() {
            let _ = p.parse(m.to_string().as_bytes(), i as u64 + 1, out);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    const REAL: &str = include_str!("fixtures/turns-0.61.0.jsonl");

    fn parse(p: &mut GeminiParser, text: &str) -> (Vec<Record>, usize) {
        let (mut out, mut bad, mut offset) = (Vec::new(), 0, 0u64);
        for l in text.split_inclusive('\n') {
            if p.parse(l.trim_end_matches('\n').as_bytes(), offset, &mut out).is_err() {
                bad += 1;
            }
            offset += l.len() as u64;
        }
        (out, bad)
    }

    fn sum(events: &[&UsageEvent]) -> Tokens {
        let mut t = Tokens::default();
        for e in events {
            t.input += e.tokens.input;
            t.output += e.tokens.output;
            t.cache_read += e.tokens.cache_read;
            t.reasoning += e.tokens.reasoning;
        }
        t
    }

    #[test]
    fn a_real_chat_gives_its_session_and_each_call_once_per_message() {
        let mut p = GeminiParser::new(Path::new("/g/tmp/proj/chats/session-x.jsonl"), Some("/w/proj".into()), None);
        let (out, bad) = parse(&mut p, REAL);
        assert_eq!(bad, 0);
        let Record::Session(s) = &out[0] else { panic!("{:?}", out[0]) };
        assert_eq!(
            (s.external_id.as_str(), s.project_path.as_deref()),
            ("a1d62ca9-98e8-4f59-abac-6db4f57b8d95", Some("/w/proj"))
        );
        assert_eq!(s.started_at.unwrap().to_rfc3339(), "2026-12-05T11:39:28.101+00:00");
        let calls = calls(&out);
        // The records with tokens, by distinct message id.
        let mut ids: Vec<String> = REAL
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "gemini" && v["tokens"].is_object())
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids.dedup();
        let mut keys: Vec<EventKey> = calls.iter().map(|u| u.key).collect();
        keys.sort_by_key(|k| k.id);
        keys.dedup();
        assert_eq!(keys.len(), ids.len(), "one key per message, however often it is appended");
        let first = calls[0];
        assert_eq!(
            (first.model.as_ref(), first.model_fallback, first.session_external_id.as_ref()),
            ("gemini-3.8-flash", false, "a1d62ca9-98e8-4f59-abac-6db4f57b8d95")
        );
        // input 140 with 70 cached inside (total 160 = 140 + 20).
        assert_eq!((first.tokens.input, first.tokens.output, first.tokens.cache_read), (70, 20, 70));
        assert_eq!(first.timestamp.to_rfc3339(), "2026-12-05T11:39:48.253+00:00");
    }

    #[test]
    fn resumed_reads_equal_one_full_read() {
        let full = {
            let mut p = GeminiParser::new(Path::new("s.jsonl"), None, None);
            parse(&mut p, REAL).0
        };
        let lines: Vec<&str> = REAL.split_inclusive('\n').collect();
        for cut in 0..=lines.len() {
            let (a, b) = lines.split_at(cut);
            let mut p = GeminiParser::new(Path::new("s.jsonl"), None, None);
            let mut out = parse(&mut p, &a.concat()).0;
            let state = p.state();
            let mut p = GeminiParser::new(Path::new("s.jsonl"), None, state.as_deref());
            // Offsets of the rest start where the first part ended.
            let mut offset = a.concat().len() as u64;
            for l in b {
                p.parse(l.trim_end_matches('\n').as_bytes(), offset, &mut out).unwrap();
                offset += l.len() as u64;
            }
            assert_eq!(calls(&out), calls(&full), "cut after line {cut}");
        }
    }

    #[test]
    fn a_legacy_document_chat_counts_as_its_lines_would() {
        let doc = include_bytes!("fixtures/session-2025-09-18T14-03-5b7e2c1a.json");
        let path = Path::new("/home/u/.gemini/tmp/app/chats/session-2025-09-18T14-03-5b7e2c1a.json");
        let mut out = Vec::new();
        document(path, Some("/home/u/app".into()), doc, &mut out).unwrap();
        let Record::Session(s) = &out[0] else { panic!("{out:?}") };
        assert_eq!(s.external_id, "5b7e2c1a-3d4f-4a6b-8c9d-0e1f2a3b4c5d");
        let calls = calls(&out);
        assert_eq!(calls.len(), 2, "the message with tokens: null is no call");
        // ccusage's own example: input 15327 with 11526 cached, 7 tool (input 3801 + 7), 919 thoughts.
        assert_eq!(
            (calls[0].tokens.input, calls[0].tokens.cache_read, calls[0].tokens.output),
            (3808, 11526, 23 + 919)
        );
        assert_eq!(&*calls[1].model, "gemini-2.5-flash");
        // The same messages as lines (a resumed session's .jsonl): the same keys.
        let mut lines = Vec::new();
        let mut p = GeminiParser::new(path, None, None);
        let v: serde_json::Value = serde_json::from_slice(doc).unwrap();
        p.parse(serde_json::json!({"sessionId": v["sessionId"]}).to_string().as_bytes(), 0, &mut lines).unwrap();
        for m in v["messages"].as_array().unwrap() {
            let _ = p.parse(m.to_string().as_bytes(), 1, &mut lines);
        }
        let keys = |r: &[&UsageEvent]| r.iter().map(|u| u.key).collect::<Vec<_>>();
        assert_eq!(keys(&crate::sources::calls(&lines)), keys(&calls));
        assert_eq!(document(path, None, &doc[..doc.len() / 2], &mut Vec::new()), Err(LineError::Malformed));
    }

    #[test]
    fn tokens_follow_usage_metadata() {
        let t = |input, output, cached, thoughts, tool, total| {
            RawTokens { input, output, cached, thoughts, tool, total: Some(total) }.tokens()
        };
        // Cached inside the prompt, thinking billed as output.
        let a = t(15327, 23, 11526, 919, 7, 16276);
        assert_eq!((a.input, a.output, a.cache_read, a.reasoning), (3808, 942, 11526, 919));
        // A total that counts the cached part apart: the prompt is all new.
        let b = t(100, 10, 40, 0, 0, 150);
        assert_eq!((b.input, b.output, b.cache_read), (100, 10, 40));
        // A total beyond its parts: the rest is output.
        let c = t(100, 0, 0, 0, 0, 130);
        assert_eq!((c.input, c.output, c.reasoning), (100, 30, 0));
        let d = t(100, 10, 0, 0, 0, 130);
        assert_eq!((d.output, d.reasoning), (30, 20));
    }

    #[test]
    fn bad_lines_are_counted_and_the_rest_is_read() {
        let text = concat!(
            r#"{"sessionId":"s1","projectHash":"h","startTime":"2026-12-05T10:00:00Z","kind":"main"}"#,
            "\n",
            r#"{"id":"m1","timestamp":"2026-12-05T10:00:01Z","type":"gemini","tokens":{"input":10,"output":"#,
            "\n",
            r#"{"id":"m2","timestamp":"yesterday","type":"gemini","tokens":{"input":10,"output":1,"total":11},"model":"gemini-2.5-flash"}"#,
            "\n",
            r#"{"id":"m3","timestamp":"2026-12-05T10:00:03Z","type":"gemini","tokens":{"input":1099511627777},"model":"gemini-2.5-flash"}"#,
            "\n",
            r#"{"id":"m4","timestamp":"2026-12-05T10:00:04Z","type":"gemini","tokens":{"input":5,"output":2,"total":7}}"#,
            "\n",
            r#"{"$rewindTo":"m4"}"#,
            "\n",
        );
        let mut p = GeminiParser::new(Path::new("session-f.jsonl"), None, None);
        let (out, bad) = parse(&mut p, text);
        assert_eq!(bad, 3, "a cut line, a time that is no time, an impossible count");
        let calls = calls(&out);
        assert_eq!(calls.len(), 1);
        // The model of the record before it (which was itself malformed).
        assert_eq!((calls[0].model.as_ref(), calls[0].model_fallback), ("gemini-2.5-flash", false));
        assert_eq!(sum(&calls).input, 5);
    }

    #[test]
    fn without_a_header_or_a_model_the_file_and_the_default_stand_in() {
        let line = r#"{"id":"m1","timestamp":"2026-12-05T10:00:01Z","type":"gemini","tokens":{"input":5,"output":2,"total":7}}"#;
        let mut p = GeminiParser::new(Path::new("/x/session-abc.jsonl"), None, None);
        let (out, _) = parse(&mut p, line);
        let u = calls(&out)[0];
        assert_eq!(
            (u.session_external_id.as_ref(), u.model.as_ref(), u.model_fallback),
            ("session-abc", FALLBACK_MODEL, true)
        );
    }
}
