//! Qwen Code chat lines (`projects/<cwd>/chats/<session>.jsonl`).
//!
//! Every record carries `uuid`, `sessionId`, `timestamp`, `type`, `cwd` and
//! `version`. An `assistant` record with `usageMetadata` is a billed model
//! call (`recordAssistantTurn` in Qwen Code's `chatRecordingService`); its
//! `uuid` is random and written once, except that `/branch` copies a chat's
//! records into a new session under the same uuids: a call is keyed by its
//! uuid, so a branch does not count it again.
//!
//! `usageMetadata` is in Gemini's shape whatever the provider, converted by
//! Qwen Code: `promptTokenCount` includes the cached part
//! (`cachedContentTokenCount`) for every provider, so input is reported
//! without it. Whether `candidatesTokenCount` includes the thinking
//! (`thoughtsTokenCount`) depends on the provider: OpenAI-compatible ones
//! (Qwen's own API, DashScope) count reasoning inside the completion, and
//! then `totalTokenCount` is prompt + candidates; Gemini counts thoughts
//! apart, and then the total includes them. The total tells which.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, LineParser, MAX_TOKENS, Record, SessionInfo, looks_complete, parse_ts};

/// The model of a call whose record names none (not priced).
pub const FALLBACK_MODEL: &str = "unknown";

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    uuid: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cwd: Option<Cow<'a, str>>,
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(rename = "usageMetadata")]
    usage: Option<Usage>,
}

/// `usageMetadata`, as Qwen Code records it.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
struct Usage {
    prompt_token_count: u64,
    candidates_token_count: u64,
    cached_content_token_count: u64,
    thoughts_token_count: u64,
    tool_use_prompt_token_count: u64,
    total_token_count: u64,
}

impl Usage {
    fn over_max(&self) -> bool {
        [
            self.prompt_token_count,
            self.candidates_token_count,
            self.cached_content_token_count,
            self.thoughts_token_count,
            self.tool_use_prompt_token_count,
            self.total_token_count,
        ]
        .iter()
        .any(|&n| n > MAX_TOKENS)
    }

    fn tokens(&self) -> Tokens {
        let (prompt, out, cached, thoughts, tool) = (
            self.prompt_token_count,
            self.candidates_token_count,
            self.cached_content_token_count.min(self.prompt_token_count),
            self.thoughts_token_count,
            self.tool_use_prompt_token_count,
        );
        // Thinking inside the completion (OpenAI-compatible): the total is
        // prompt + completion, or not given.
        let inside = self.total_token_count == 0 || self.total_token_count == prompt + out + tool;
        let (output, reasoning) = if inside { (out, thoughts.min(out)) } else { (out + thoughts, thoughts) };
        Tokens {
            input: prompt - cached + tool,
            output,
            cache_write_5m: 0,
            cache_write_1h: 0,
            cache_read: cached,
            reasoning,
        }
    }
}

/// What the parser must remember between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Sessions already announced in this file (a `/branch` copy holds its
    /// own id only, but nothing stops a file from naming two).
    announced: BTreeSet<String>,
}

pub struct QwenParser {
    state: State,
    file_stem: String,
    finders: [memmem::Finder<'static>; 1],
}

impl QwenParser {
    pub fn new(path: &Path, state: Option<&str>) -> QwenParser {
        QwenParser {
            state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
            file_stem: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            finders: [memmem::Finder::new(b"\"sessionId\"")],
        }
    }
}

impl LineParser for QwenParser {
    fn parse(&mut self, line: &[u8], offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        if self.finders.iter().all(|f| f.find(line).is_none()) {
            return if looks_complete(line) { Ok(()) } else { Err(LineError::Malformed) };
        }
        let l: Line = serde_json::from_slice(line).map_err(|_| LineError::Malformed)?;
        let ts = l.timestamp.as_deref().and_then(parse_ts);
        let session = l.session_id.as_deref().filter(|s| !s.is_empty()).unwrap_or(&self.file_stem).to_string();
        let usage = match (l.kind.as_deref(), l.usage) {
            (Some("assistant"), Some(u)) => {
                if u.over_max() {
                    return Err(LineError::Malformed);
                }
                let t = u.tokens();
                // Each part may be within bounds and their sums not.
                if [t.input, t.output].iter().any(|&n| n > MAX_TOKENS) {
                    return Err(LineError::Malformed);
                }
                if t.is_zero() {
                    None
                } else if let Some(timestamp) = ts {
                    Some((t, timestamp))
                } else {
                    // Usage at a time that cannot be read is reported.
                    return if l.timestamp.is_some() { Err(LineError::Malformed) } else { Ok(()) };
                }
            }
            _ => None,
        };
        if !self.state.announced.contains(&session) {
            self.state.announced.insert(session.clone());
            out.push(Record::Session(SessionInfo {
                external_id: session.clone(),
                project_path: l.cwd.as_deref().filter(|c| !c.is_empty()).map(str::to_string),
                agent_version: l.version.as_deref().filter(|v| !v.is_empty()).map(str::to_string),
                started_at: ts,
            }));
        }
        let Some((tokens, timestamp)) = usage else { return Ok(()) };
        let at;
        let call = match l.uuid.as_deref().filter(|s| !s.is_empty()) {
            Some(u) => u,
            None => {
                // Known by its place in its session's file, then.
                at = format!("{}:{offset}", self.file_stem);
                &at
            }
        };
        let (model, model_fallback) = match l.model.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => (Arc::from(m), false),
            None => (Arc::from(FALLBACK_MODEL), true),
        };
        out.push(Record::Usage(UsageEvent {
            key: EventKey::of(&["qwen-code", call]),
            session_external_id: Arc::from(session.as_str()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;
    use serde_json::json;

    fn record(uuid: &str, kind: &str, usage: Option<serde_json::Value>) -> String {
        let mut v = json!({"uuid": uuid, "parentUuid": null, "sessionId": "q-1", "timestamp": "2026-12-05T10:00:01.000Z",
            "type": kind, "cwd": "/home/u/lib", "version": "0.15.10", "gitBranch": "main", "model": "qwen3-coder-plus"});
        if let Some(u) = usage {
            v["usageMetadata"] = u;
        }
        v.to_string()
    }

    fn run(p: &mut QwenParser, lines: &[String]) -> (Vec<Record>, usize) {
        let (mut out, mut bad) = (Vec::new(), 0);
        for (i, l) in lines.iter().enumerate() {
            if p.parse(l.as_bytes(), i as u64 * 1000, &mut out).is_err() {
                bad += 1;
            }
        }
        (out, bad)
    }

    #[test]
    fn an_openai_compatible_call_has_cached_input_and_reasoning_inside() {
        let u = json!({"promptTokenCount": 120, "candidatesTokenCount": 40, "cachedContentTokenCount": 64,
            "thoughtsTokenCount": 8, "totalTokenCount": 160});
        let lines = [record("u1", "user", None), record("a1", "assistant", Some(u))];
        let mut p = QwenParser::new(Path::new("q-1.jsonl"), None);
        let (out, bad) = run(&mut p, &lines);
        assert_eq!(bad, 0);
        let Record::Session(s) = &out[0] else { panic!() };
        assert_eq!(
            (s.external_id.as_str(), s.project_path.as_deref(), s.agent_version.as_deref()),
            ("q-1", Some("/home/u/lib"), Some("0.15.10"))
        );
        let c = calls(&out)[0];
        assert_eq!(
            (c.tokens.input, c.tokens.output, c.tokens.cache_read, c.tokens.reasoning),
            (56, 40, 64, 8),
            "160 tokens in all, as the API counted them"
        );
        assert_eq!((c.model.as_ref(), c.model_fallback), ("qwen3-coder-plus", false));
    }

    #[test]
    fn a_gemini_call_bills_its_thoughts_and_tool_prompt_apart() {
        let u = json!({"promptTokenCount": 1000, "candidatesTokenCount": 50, "cachedContentTokenCount": 400,
            "thoughtsTokenCount": 30, "toolUsePromptTokenCount": 5, "totalTokenCount": 1085});
        let mut p = QwenParser::new(Path::new("q-1.jsonl"), None);
        let (out, _) = run(&mut p, &[record("a1", "assistant", Some(u))]);
        let t = calls(&out)[0].tokens;
        assert_eq!((t.input, t.output, t.cache_read, t.reasoning), (605, 80, 400, 30));
    }

    #[test]
    fn a_branch_copy_of_a_call_has_its_key_and_bad_lines_are_counted() {
        let u = json!({"promptTokenCount": 10, "candidatesTokenCount": 2, "totalTokenCount": 12});
        let copy = record("a1", "assistant", Some(u.clone())).replace("\"q-1\"", "\"q-2\"");
        let lines = [
            record("a1", "assistant", Some(u.clone())),
            copy,
            record("a2", "assistant", Some(json!({"promptTokenCount": -1}))),
            record("a3", "assistant", Some(json!({"promptTokenCount": 1u64 << 41}))),
            r#"{"uuid":"a4","sessionId":"q-1","type":"assistant","usageMetadata":{"prompt"#.to_string(),
            record("a5", "assistant", Some(json!({}))),
            record("a6", "assistant", Some(u)).replace("2026-12-05T10:00:01.000Z", "soon"),
        ];
        let mut p = QwenParser::new(Path::new("q-1.jsonl"), None);
        let (out, bad) = run(&mut p, &lines);
        assert_eq!(bad, 4, "a negative count, an impossible one, a cut line, a time that is no time");
        let calls = calls(&out);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].key, calls[1].key, "the branch's copy is the same call");
        let sessions = out.iter().filter(|r| matches!(r, Record::Session(_))).count();
        assert_eq!(sessions, 2);
    }

    #[test]
    fn resumed_reads_equal_one_full_read() {
        let u = |n: u64| json!({"promptTokenCount": n, "candidatesTokenCount": 3, "totalTokenCount": n + 3});
        let lines: Vec<String> = (0..6)
            .map(|i| record(&format!("a{i}"), if i % 2 == 0 { "user" } else { "assistant" }, Some(u(i))))
            .collect();
        let mut full = QwenParser::new(Path::new("q-1.jsonl"), None);
        let (all, _) = run(&mut full, &lines);
        for cut in 0..lines.len() {
            let mut a = QwenParser::new(Path::new("q-1.jsonl"), None);
            let (mut out, _) = run(&mut a, &lines[..cut]);
            let mut b = QwenParser::new(Path::new("q-1.jsonl"), a.state().as_deref());
            for (i, l) in lines.iter().enumerate().skip(cut) {
                b.parse(l.as_bytes(), i as u64 * 1000, &mut out).unwrap();
            }
            assert_eq!(out, all, "cut at {cut}");
        }
    }
}
