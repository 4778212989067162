//! An Amp thread, read as records: the thread is a session (`id`, `created`,
//! its first tree's folder as the project); each assistant message with a
//! `usage` object is a model call (`model`, `timestamp`, `inputTokens`,
//! `outputTokens`, `cacheCreationInputTokens`, `cacheReadInputTokens`:
//! Anthropic's counts, the cached part apart from the input). An older
//! thread keeps a `usageLedger` of events instead (tokens in `tokens`, the
//! cache counts on the message the event points to, `toMessageId`): when a
//! thread has one, its events are the calls, as ccusage reads them.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, MAX_TOKENS, Record, SessionInfo, parse_ts};

use super::AGENT;

fn count(v: &Value) -> Result<u64, LineError> {
    match v {
        Value::Null => Ok(0),
        n => n.as_u64().filter(|n| *n <= MAX_TOKENS).ok_or(LineError::Malformed),
    }
}

/// A message id as Amp writes it (a number, or text).
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// What one thread document says.
pub fn thread(bytes: &[u8], out: &mut Vec<Record>) -> Result<(), LineError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|_| LineError::Malformed)?;
    let Some(id) = v["id"].as_str().filter(|s| !s.is_empty()) else { return Err(LineError::Malformed) };
    let project = v
        .pointer("/env/initial/trees/0/uri")
        .and_then(Value::as_str)
        .and_then(|u| u.strip_prefix("file://"))
        .map(str::to_string);
    out.push(Record::Session(SessionInfo {
        external_id: id.to_string(),
        project_path: project,
        agent_version: None,
        started_at: v["created"].as_i64().and_then(chrono::DateTime::from_timestamp_millis),
    }));
    let messages: &[Value] = v["messages"].as_array().map_or(&[], Vec::as_slice);
    let call = |key: &str, at: &Value, model: &Value, tokens: Tokens| -> Result<Option<Record>, LineError> {
        if tokens.is_zero() {
            return Ok(None);
        }
        if [tokens.input, tokens.output, tokens.cache_write_5m, tokens.cache_read, tokens.reasoning]
            .iter()
            .any(|&n| n > MAX_TOKENS)
        {
            return Err(LineError::Malformed);
        }
        let (Some(timestamp), Some(model)) = (at.as_str().and_then(parse_ts), model.as_str().filter(|m| !m.is_empty()))
        else {
            return Err(LineError::Malformed);
        };
        Ok(Some(Record::Usage(UsageEvent {
            key: EventKey::of(&[AGENT, id, key]),
            session_external_id: Arc::from(id),
            timestamp,
            model: Arc::from(model),
            model_fallback: false,
            fast: false,
            sidechain: false,
            tokens,
            cost_usd: None,
        })))
    };
    // A total beyond the parts is output.
    let tokens = |input: u64, output: u64, cw: u64, cr: u64, total: u64| {
        let missing = total.saturating_sub(input + output + cw + cr);
        Tokens { input, output: output + missing, cache_write_5m: cw, cache_write_1h: 0, cache_read: cr, reasoning: 0 }
    };
    if let Some(events) = v.pointer("/usageLedger/events").and_then(Value::as_array) {
        let cache: HashMap<String, (u64, u64)> = messages
            .iter()
            .filter(|m| m["role"] == "assistant")
            .filter_map(|m| {
                let u = &m["usage"];
                Some((
                    id_text(&m["messageId"])?,
                    (count(&u["cacheCreationInputTokens"]).ok()?, count(&u["cacheReadInputTokens"]).ok()?),
                ))
            })
            .collect();
        for (i, e) in events.iter().enumerate() {
            let t = &e["tokens"];
            let (cw, cr) = id_text(&e["toMessageId"]).and_then(|m| cache.get(&m).copied()).unwrap_or_default();
            let key = id_text(&e["id"]).unwrap_or_else(|| format!("event-{i}"));
            let tk = tokens(count(&t["input"])?, count(&t["output"])?, cw, cr, count(&t["total"])?);
            out.extend(call(&key, &e["timestamp"], &e["model"], tk)?);
        }
        return Ok(());
    }
    for (i, m) in messages.iter().enumerate() {
        let u = &m["usage"];
        if m["role"] != "assistant" || !u.is_object() {
            continue;
        }
        let key = id_text(&m["messageId"]).unwrap_or_else(|| format!("message-{i}"));
        let tk = tokens(
            count(&u["inputTokens"])?,
            count(&u["outputTokens"])?,
            count(&u["cacheCreationInputTokens"])?,
            count(&u["cacheReadInputTokens"])?,
            count(&u["totalTokens"])?,
        );
        let at = if u["timestamp"].is_string() { &u["timestamp"] } else { &m["timestamp"] };
        let model = if u["model"].is_string() { &u["model"] } else { &m["model"] };
        out.extend(call(&key, at, model, tk)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    #[test]
    fn a_thread_and_a_ledger_thread() {
        let mut out = Vec::new();
        thread(include_bytes!("fixtures/T-019b9d03.json"), &mut out).unwrap();
        let Record::Session(s) = &out[0] else { panic!() };
        assert_eq!(
            (s.external_id.as_str(), s.project_path.as_deref()),
            ("T-019b9d03-62e3-772f-9780-3e637f90eaec", Some("/home/alice/src/webapp"))
        );
        let c = calls(&out);
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].tokens,
            Tokens { input: 10, output: 178, cache_write_5m: 986, cache_read: 11372, ..Default::default() }
        );
        assert_eq!(
            (&*c[0].model, c[0].timestamp.to_rfc3339().as_str()),
            ("claude-haiku-4-5-20251001", "2026-01-19T11:42:10.652+00:00")
        );

        let ledger = br#"{"id":"thread-a","messages":[{"role":"assistant","messageId":2,"usage":{"cacheCreationInputTokens":20,"cacheReadInputTokens":10}}],
            "usageLedger":{"events":[{"id":"event-a","timestamp":"2026-05-01T01:02:03.000Z","model":"claude-sonnet-4-20250514","credits":1.25,
            "tokens":{"input":100,"output":50},"toMessageId":2}]}}"#;
        let mut out = Vec::new();
        thread(ledger, &mut out).unwrap();
        let c = calls(&out);
        assert_eq!(c.len(), 1, "the ledger's events, not the messages");
        assert_eq!(
            (c[0].tokens.input, c[0].tokens.output, c[0].tokens.cache_write_5m, c[0].tokens.cache_read),
            (100, 50, 20, 10)
        );
    }

    #[test]
    fn a_thread_cut_short_or_without_an_id_is_malformed() {
        let full = include_bytes!("fixtures/T-019b9d03.json");
        assert_eq!(thread(&full[..full.len() / 2], &mut Vec::new()), Err(LineError::Malformed));
        assert_eq!(thread(br#"{"messages":[]}"#, &mut Vec::new()), Err(LineError::Malformed));
    }
}
