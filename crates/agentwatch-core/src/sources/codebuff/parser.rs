//! A Codebuff chat (`chat-messages.json`, a JSON array of the CLI's
//! `ChatMessage`s), read as records: the chat is a session; each assistant
//! message (`variant` `ai` or `agent`, or a `role` of `assistant`) whose
//! usage says something is a model call. See README.md for where each field
//! comes from.
//!
//! The usage of a message is looked for where public readers of these files
//! find it, field by field, the first found winning: `metadata.usage`, then
//! `metadata.codebuff.usage`, then the assistant entries of the run state
//! the CLI stores on the message (`metadata.runState.sessionState.
//! mainAgentState.messageHistory[].providerOptions`, newest first). Its model
//! is `metadata.model`, else the usage object's own `model`, else the run
//! state's `providerOptions.codebuff.model`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, MAX_TOKENS, Record, SessionInfo, parse_ts};

use super::AGENT;

/// The model of a call whose chat names none.
pub const UNKNOWN_MODEL: &str = "codebuff-unknown";

/// What one usage object says. `input` is without cached input.
#[derive(Debug, Clone, Default, PartialEq)]
struct Usage {
    model: Option<String>,
    credits: f64,
    input: u64,
    output: u64,
    cache_write: u64,
    cache_read: u64,
    reasoning: u64,
    /// A total beyond the parts while the output is known: billed as output.
    extra: u64,
}

impl Usage {
    fn signal(&self) -> bool {
        self.input > 0
            || self.output > 0
            || self.cache_write > 0
            || self.cache_read > 0
            || self.extra > 0
            || self.credits > 0.0
    }

    /// Fills what `self` lacks from `o`, field by field.
    fn fill(&mut self, o: Usage) {
        let fill = |a: &mut u64, b: u64| {
            if *a == 0 {
                *a = b;
            }
        };
        fill(&mut self.input, o.input);
        fill(&mut self.output, o.output);
        fill(&mut self.cache_write, o.cache_write);
        fill(&mut self.cache_read, o.cache_read);
        fill(&mut self.reasoning, o.reasoning);
        fill(&mut self.extra, o.extra);
        if self.credits <= 0.0 {
            self.credits = o.credits;
        }
        if self.model.is_none() {
            self.model = o.model;
        }
    }
}

fn text(o: &Map<String, Value>, key: &str) -> Option<String> {
    let s = o.get(key)?.as_str()?.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn positive(o: &Map<String, Value>, key: &str) -> f64 {
    o.get(key).and_then(Value::as_f64).filter(|c| c.is_finite() && *c > 0.0).unwrap_or(0.0)
}

/// The first of `keys` that holds a positive whole count (and which key).
fn first_count<'k>(o: &Map<String, Value>, keys: &[&'k str]) -> Result<(u64, Option<&'k str>), LineError> {
    for k in keys {
        if let Some(n) = o.get(*k).and_then(Value::as_u64).filter(|n| *n > 0) {
            if n > MAX_TOKENS {
                return Err(LineError::Malformed);
            }
            return Ok((n, Some(k)));
        }
    }
    Ok((0, None))
}

fn nested_count(o: &Map<String, Value>, key: &str, keys: &[&str]) -> Result<u64, LineError> {
    o.get(key).and_then(Value::as_object).map_or(Ok(0), |n| first_count(n, keys).map(|c| c.0))
}

/// One usage object, in Anthropic's names (`inputTokens`,
/// `cacheReadInputTokens`: the cached input apart) or OpenAI's
/// (`prompt_tokens`, whose `prompt_tokens_details.cached_tokens` are part of
/// it).
fn usage_of(v: Option<&Value>) -> Result<Usage, LineError> {
    let mut u = Usage::default();
    let Some(o) = v.and_then(Value::as_object) else { return Ok(u) };
    let (input, input_key) = first_count(o, &["inputTokens", "input_tokens", "promptTokens", "prompt_tokens"])?;
    u.input = input;
    u.output = first_count(o, &["outputTokens", "output_tokens", "completionTokens", "completion_tokens"])?.0;
    let details = nested_count(o, "promptTokensDetails", &["cachedTokens"])?.max(nested_count(
        o,
        "prompt_tokens_details",
        &["cached_tokens"],
    )?);
    u.cache_read = first_count(o, &["cacheReadInputTokens", "cache_read_input_tokens"])?.0.max(details);
    if matches!(input_key, Some("promptTokens" | "prompt_tokens")) {
        // OpenAI's prompt count holds its cached part.
        u.input = u.input.saturating_sub(details);
    }
    u.cache_write = first_count(
        o,
        &[
            "cacheCreationInputTokens",
            "cache_creation_input_tokens",
            "cacheCreationTokens",
            "cache_creation_tokens",
            "cachedTokensCreated",
            "cached_tokens_created",
        ],
    )?
    .0;
    u.reasoning = nested_count(o, "completionTokensDetails", &["reasoningTokens"])?
        .max(nested_count(o, "completion_tokens_details", &["reasoning_tokens"])?)
        .min(u.output);
    // A total beyond the parts: the output when none is given, else more of it.
    let total = first_count(o, &["totalTokens", "total_tokens", "total"])?.0;
    let missing = total.saturating_sub(u.input + u.output + u.cache_write + u.cache_read);
    if missing > 0 {
        if u.output == 0 {
            u.output = missing;
        } else {
            u.extra = missing;
        }
    }
    u.credits = positive(o, "credits");
    u.model = text(o, "model");
    Ok(u)
}

/// The usage in the run state stored on a message: its assistant entries,
/// newest first, each filling what the newer ones lack.
fn run_state_usage(metadata: &Map<String, Value>) -> Result<Option<Usage>, LineError> {
    let Some(history) = metadata
        .get("runState")
        .and_then(|r| r.pointer("/sessionState/mainAgentState/messageHistory"))
        .and_then(Value::as_array)
    else {
        return Ok(None);
    };
    let mut usage = Usage::default();
    let mut found = false;
    for e in history.iter().rev().filter_map(Value::as_object) {
        if text(e, "role").as_deref() != Some("assistant") {
            continue;
        }
        let Some(po) = e.get("providerOptions").and_then(Value::as_object) else { continue };
        let mut eu = usage_of(po.get("usage"))?;
        if let Some(cb) = po.get("codebuff").and_then(Value::as_object) {
            eu.fill(usage_of(cb.get("usage"))?);
            eu.model = text(cb, "model").or(eu.model);
        }
        found |= eu.signal() || eu.model.is_some();
        usage.fill(eu);
    }
    Ok(found.then_some(usage))
}

fn message_usage(m: &Map<String, Value>) -> Result<Usage, LineError> {
    let mut u = Usage::default();
    if let Some(md) = m.get("metadata").and_then(Value::as_object) {
        u.model = text(md, "model");
        u.fill(usage_of(md.get("usage"))?);
        u.fill(usage_of(md.get("codebuff").and_then(|c| c.get("usage")))?);
        if let Some(rs) = run_state_usage(md)? {
            u.fill(rs);
        }
    }
    let credits = positive(m, "credits");
    if credits > 0.0 && u.credits <= 0.0 {
        u.credits = credits;
    }
    Ok(u)
}

/// A time as the CLI or its readers write it: RFC 3339 text, or seconds or
/// milliseconds since the epoch.
fn time_of(v: Option<&Value>) -> Option<DateTime<Utc>> {
    match v? {
        Value::String(s) => parse_ts(s),
        Value::Number(n) => {
            let raw = n.as_i64()?;
            let ms = if raw < 10_000_000_000 { raw.checked_mul(1000)? } else { raw };
            (ms > 0).then(|| DateTime::from_timestamp_millis(ms)).flatten()
        }
        _ => None,
    }
}

/// When a chat began, from its id: `new Date().toISOString()` with its
/// colons as dashes (`2026-01-02T03-04-05.000Z`).
pub fn chat_started(chat_id: &str) -> Option<DateTime<Utc>> {
    let (date, time) = chat_id.split_once('T')?;
    let time = time.replacen('-', ":", 2);
    parse_ts(&format!("{date}T{time}"))
}

fn is_assistant(m: &Map<String, Value>) -> bool {
    matches!(text(m, "variant").or_else(|| text(m, "role")).as_deref(), Some("ai" | "agent" | "assistant"))
}

/// The project the run state names (`sessionState.fileContext`).
fn project_of(m: &Value) -> Option<String> {
    let fc = m.pointer("/metadata/runState/sessionState/fileContext")?;
    ["projectRoot", "cwd"].iter().find_map(|k| fc[k].as_str().filter(|s| !s.is_empty()).map(str::to_string))
}

/// What one chat says. `session` is its id (see `paths::session_of`),
/// `chat_id` its folder's name; `mtime_ms` dates the calls when neither the
/// message nor the chat id does.
pub fn chat(session: &str, chat_id: &str, bytes: &[u8], mtime_ms: i64, out: &mut Vec<Record>) -> Result<(), LineError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|_| LineError::Malformed)?;
    let Some(messages) = v.as_array() else { return Err(LineError::Malformed) };
    let started = chat_started(chat_id);
    let fallback = started.or_else(|| DateTime::from_timestamp_millis(mtime_ms)).unwrap_or_default();
    out.push(Record::Session(SessionInfo {
        external_id: session.to_string(),
        project_path: messages.iter().find_map(project_of),
        agent_version: None,
        started_at: started,
    }));
    let sid: Arc<str> = Arc::from(session);
    let mut calls = Vec::new();
    for (ordinal, m) in messages.iter().enumerate() {
        let Some(m) = m.as_object() else { continue };
        if !is_assistant(m) {
            continue;
        }
        let u = message_usage(m)?;
        // Credits alone (a call that billed no tokens) are not a call to price.
        if !u.signal() || u.input + u.output + u.extra + u.cache_write + u.cache_read == 0 {
            continue;
        }
        let timestamp = time_of(m.get("timestamp"))
            .or_else(|| time_of(m.get("createdAt")))
            .or_else(|| time_of(m.get("metadata").and_then(|md| md.get("timestamp"))))
            .unwrap_or(fallback);
        let model_fallback = u.model.is_none();
        let model = u.model.clone().unwrap_or_else(|| UNKNOWN_MODEL.to_string());
        let key = match text(m, "id") {
            Some(id) => EventKey::of(&[AGENT, session, &id]),
            None => EventKey::of(&[
                AGENT,
                session,
                &timestamp.timestamp_millis().to_string(),
                &model,
                &ordinal.to_string(),
                &format!("{}:{}:{}:{}:{}", u.input, u.output, u.cache_read, u.cache_write, u.extra),
            ]),
        };
        calls.push(Record::Usage(UsageEvent {
            key,
            session_external_id: sid.clone(),
            timestamp,
            model: Arc::from(model),
            model_fallback,
            fast: false,
            sidechain: false,
            tokens: Tokens {
                input: u.input,
                output: u.output + u.extra,
                cache_write_5m: u.cache_write,
                cache_write_1h: 0,
                cache_read: u.cache_read,
                reasoning: u.reasoning,
            },
            cost_usd: None,
        }));
    }
    out.extend(calls);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    const CHAT: &[u8] = include_bytes!("fixtures/chat-messages.json");
    const SESSION: &str = "manicode/webapp/2026-01-02T03-04-05.000Z";

    fn read(bytes: &[u8]) -> Result<Vec<Record>, LineError> {
        let mut out = Vec::new();
        chat(SESSION, "2026-01-02T03-04-05.000Z", bytes, 0, &mut out).map(|_| out)
    }

    fn tokens(input: u64, output: u64, cache_write: u64, cache_read: u64) -> Tokens {
        Tokens { input, output, cache_write_5m: cache_write, cache_read, ..Default::default() }
    }

    #[test]
    fn a_chat_gives_each_assistant_message_with_usage_once() {
        let out = read(CHAT).unwrap();
        let Record::Session(s) = &out[0] else { panic!("{out:?}") };
        assert_eq!(s.external_id, SESSION);
        assert_eq!(s.project_path.as_deref(), Some("/home/alice/src/webapp"));
        assert_eq!(s.started_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-01-02T03:04:05+00:00"));
        let c = calls(&out);
        let got: Vec<(&str, String, Tokens, bool)> =
            c.iter().map(|u| (&*u.model, u.timestamp.to_rfc3339(), u.tokens, u.model_fallback)).collect();
        assert_eq!(
            got,
            [
                (
                    "claude-sonnet-4-20250514",
                    "2026-01-02T03:04:46+00:00".to_string(),
                    tokens(1200, 340, 5000, 18000),
                    false
                ),
                // From the run state: its newest assistant entry.
                (
                    "anthropic/claude-sonnet-4.5",
                    "2026-01-02T03:06:10.500+00:00".to_string(),
                    tokens(1500, 410, 800, 23000),
                    false
                ),
                // OpenAI's counts: the cached part taken out of the prompt;
                // a time that is not one dates it by the chat's id.
                (
                    "openai/gpt-5",
                    "2026-01-02T03:04:05+00:00".to_string(),
                    Tokens { reasoning: 256, ..tokens(2000, 700, 0, 4000) },
                    false
                ),
            ]
        );
        assert_eq!(c[0].key, EventKey::of(&[AGENT, SESSION, "ai-1767323046000"]));
        assert!(c.iter().all(|u| &*u.session_external_id == SESSION && u.cost_usd.is_none()));
        // Read again (Codebuff rewrote it): the same calls.
        assert_eq!(read(CHAT).unwrap(), out);
    }

    #[test]
    fn usage_is_filled_field_by_field_and_a_total_beyond_the_parts_is_output() {
        let one = |m: &str| calls(&read(format!("[{m}]").as_bytes()).unwrap()).into_iter().cloned().collect::<Vec<_>>();
        // Only a total: it is the output.
        let c = one(r#"{"role":"assistant","timestamp":1767323046,"metadata":{"usage":{"totalTokens":789}}}"#);
        assert_eq!((c[0].tokens, &*c[0].model, c[0].model_fallback), (tokens(0, 789, 0, 0), UNKNOWN_MODEL, true));
        assert_eq!(c[0].timestamp.to_rfc3339(), "2026-01-02T03:04:06+00:00", "seconds since the epoch");
        // A total beyond known parts: more output.
        let c = one(
            r#"{"variant":"ai","metadata":{"model":"m","usage":{"input_tokens":10,"output_tokens":5,"total":20}}}"#,
        );
        assert_eq!(c[0].tokens, tokens(10, 10, 0, 0));
        // metadata.usage first, metadata.codebuff.usage filling what it lacks.
        let c = one(
            r#"{"variant":"ai","id":"x","metadata":{"usage":{"inputTokens":7},"codebuff":{"usage":{"inputTokens":99,"outputTokens":3,"cache_creation_tokens":4,"model":"claude-haiku-4-5"}}}}"#,
        );
        assert_eq!((c[0].tokens, &*c[0].model), (tokens(7, 3, 4, 0), "claude-haiku-4-5"));
        // The run state's entries, newest first; the newest names the model.
        let c = one(r#"{"variant":"ai","metadata":{"runState":{"sessionState":{"mainAgentState":{"messageHistory":[
                {"role":"assistant","providerOptions":{"codebuff":{"usage":{"inputTokens":4242,"outputTokens":99}}}},
                {"role":"user","providerOptions":{}},
                {"role":"assistant"},
                {"role":"assistant","providerOptions":{"codebuff":{"model":"openai/gpt-5-newer"}}}]}}}}}"#);
        assert_eq!((c[0].tokens, &*c[0].model), (tokens(4242, 99, 0, 0), "openai/gpt-5-newer"));
        // A user's, an error's, a variant overriding a role: no call.
        assert!(one(r#"{"variant":"user","role":"assistant","metadata":{"usage":{"inputTokens":1}}}"#).is_empty());
        assert!(one(r#"{"variant":"error","metadata":{"usage":{"inputTokens":1}}}"#).is_empty());
        // Without an id, two equal messages are two calls.
        let twice =
            r#"{"variant":"ai","timestamp":"2026-01-02T03:05:00Z","metadata":{"model":"m","usage":{"inputTokens":5}}}"#;
        let c = one(&format!("{twice},{twice}"));
        assert_eq!(c.len(), 2);
        assert_ne!(c[0].key, c[1].key);
    }

    #[test]
    fn a_chat_cut_short_or_not_a_list_or_absurd_is_malformed() {
        assert_eq!(read(&CHAT[..CHAT.len() / 2]), Err(LineError::Malformed));
        assert_eq!(read(br#"{"messages":[]}"#), Err(LineError::Malformed));
        let huge = format!(r#"[{{"variant":"ai","metadata":{{"usage":{{"inputTokens":{}}}}}}}]"#, MAX_TOKENS + 1);
        assert_eq!(read(huge.as_bytes()), Err(LineError::Malformed));
        // Not numbers: no usage (as ccusage reads them), not malformed.
        assert_eq!(
            calls(&read(br#"[{"variant":"ai","metadata":{"usage":{"inputTokens":"12"}}},7]"#).unwrap()).len(),
            0
        );
    }

    #[test]
    fn a_chat_id_is_when_it_began() {
        assert_eq!(chat_started("2026-01-02T03-04-05.000Z").map(|t| t.timestamp()), Some(1767323045));
        assert_eq!(chat_started("chat-1"), None);
    }
}
