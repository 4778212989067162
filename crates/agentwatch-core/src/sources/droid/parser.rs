//! A Droid session's settings file, read as a record. Droid keeps no line
//! per model call: `tokenUsage` holds the session's running totals
//! (`inputTokens`, `outputTokens`, `cacheCreationTokens`, `cacheReadTokens`,
//! `thinkingTokens`), rewritten in place. So a session is one call-like
//! record keyed by the session: read again as it grows, the bigger totals
//! replace the smaller. It counts on the day Droid locked the session's
//! provider (`providerLockTimestamp`, its start; else the file's time), as
//! ccusage counts it. Thinking is priced as output.
//!
//! The model is `model`, as Droid names it (`custom:Claude-Opus-4.5-[Anthropic]-0`
//! for a model of the person's own key): without `custom:` and the
//! bracketed provider, lower case, dots and spaces as dashes
//! (`claude-opus-4-5-0`), as ccusage names it.

use std::sync::Arc;

use serde_json::Value;

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, MAX_TOKENS, Record, SessionInfo, parse_ts};

use super::AGENT;

/// What a settings file says: the session, and its usage if any.
pub fn settings(session: &str, bytes: &[u8], mtime_ms: i64, out: &mut Vec<Record>) -> Result<(), LineError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|_| LineError::Malformed)?;
    if !v.is_object() {
        return Err(LineError::Malformed);
    }
    let locked = v["providerLockTimestamp"].as_str().and_then(parse_ts);
    let at = locked.or_else(|| chrono::DateTime::from_timestamp_millis(mtime_ms)).ok_or(LineError::Malformed)?;
    out.push(Record::Session(SessionInfo {
        external_id: session.to_string(),
        project_path: None,
        agent_version: None,
        started_at: locked,
    }));
    let u = &v["tokenUsage"];
    let count = |key: &str| -> Result<u64, LineError> {
        match &u[key] {
            Value::Null => Ok(0),
            n => n.as_u64().filter(|n| *n <= MAX_TOKENS).ok_or(LineError::Malformed),
        }
    };
    let (input, mut output) = (count("inputTokens")?, count("outputTokens")?);
    let (cache_write, cache_read, thinking) =
        (count("cacheCreationTokens")?, count("cacheReadTokens")?, count("thinkingTokens")?);
    // A total beyond the parts (an older file with only a total) is output.
    let known = input + output + cache_write + cache_read + thinking;
    let mut extra = thinking;
    if let Some(missing) = count("totalTokens")?.checked_sub(known).filter(|m| *m > 0) {
        if output == 0 { output = missing } else { extra += missing }
    }
    let tokens = Tokens {
        input,
        output: output + extra,
        cache_write_5m: cache_write,
        cache_write_1h: 0,
        cache_read,
        reasoning: extra,
    };
    if [tokens.input, tokens.output, tokens.cache_write_5m, tokens.cache_read, tokens.reasoning]
        .iter()
        .any(|&n| n > MAX_TOKENS)
    {
        return Err(LineError::Malformed);
    }
    if tokens.is_zero() {
        return Ok(());
    }
    let (model, fallback) = match v["model"].as_str().map(model_name).filter(|m| !m.is_empty()) {
        Some(m) => (m, false),
        None => (provider_default(v["providerLock"].as_str().unwrap_or_default()).to_string(), true),
    };
    out.push(Record::Usage(UsageEvent {
        key: EventKey::of(&[AGENT, session]),
        session_external_id: Arc::from(session),
        timestamp: at,
        model: Arc::from(model.as_str()),
        model_fallback: fallback,
        fast: false,
        sidechain: false,
        tokens,
        cost_usd: None,
    }));
    Ok(())
}

/// A model as Droid names it, as the price lists do.
pub fn model_name(m: &str) -> String {
    let m = m.trim();
    let m = m.strip_prefix("custom:").unwrap_or(m);
    // Without anything in brackets.
    let mut plain = String::new();
    let mut depth = 0usize;
    for c in m.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let mut out = String::new();
    for c in plain.trim().trim_end_matches('-').to_lowercase().chars() {
        let c = if c == '.' || c.is_whitespace() { '-' } else { c };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_string()
}

/// The model of a session whose settings name none, by its provider.
fn provider_default(provider: &str) -> &'static str {
    match provider.to_ascii_lowercase().replace('-', "_").as_str() {
        "anthropic" | "claude" => "claude-unknown",
        "openai" => "gpt-unknown",
        "google" | "google_ai" | "gemini" | "vertex" | "vertex_ai" => "gemini-unknown",
        "xai" | "x_ai" | "grok" => "grok-unknown",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    #[test]
    fn a_settings_file_as_droid_writes_it() {
        let mut out = Vec::new();
        settings("0b6a", include_bytes!("fixtures/0b6a3c1e.settings.json"), 0, &mut out).unwrap();
        let u = calls(&out)[0];
        assert_eq!(&*u.model, "claude-opus-4-5-thinking-0");
        assert_eq!(
            u.tokens,
            Tokens { input: 100, output: 55, cache_write_5m: 20, cache_read: 10, reasoning: 5, ..Default::default() }
        );
        assert_eq!(u.timestamp.to_rfc3339(), "2026-05-01T01:02:03+00:00");
        assert_eq!(u.key, EventKey::of(&[AGENT, "0b6a"]));
    }

    #[test]
    fn names_totals_and_bad_files() {
        assert_eq!(model_name("custom:Claude-Opus-4.5-[Anthropic]-0"), "claude-opus-4-5-0");
        assert_eq!(model_name("Claude-Sonnet-4-[Anthropic]"), "claude-sonnet-4");
        assert_eq!(model_name("gemini-2.5-pro"), "gemini-2-5-pro");
        let mut out = Vec::new();
        settings("t", br#"{"providerLock":"openai","tokenUsage":{"totalTokens":456}}"#, 1_777_600_000_000, &mut out)
            .unwrap();
        let u = calls(&out)[0];
        assert_eq!((u.tokens.output, &*u.model, u.model_fallback), (456, "gpt-unknown", true));
        assert_eq!(u.timestamp.timestamp_millis(), 1_777_600_000_000, "the file's time without a lock time");
        let mut out = Vec::new();
        settings("z", br#"{"model":"gpt-5","tokenUsage":{"inputTokens":0}}"#, 0, &mut out).unwrap();
        assert_eq!(out.len(), 1, "a session without usage");
        for bad in [
            &b"{\"model\":\"gpt-5\",\"tokenUsage\":{\"inputTokens\":1"[..],
            b"[]",
            b"{\"tokenUsage\":{\"inputTokens\":-1}}",
        ] {
            assert_eq!(settings("b", bad, 0, &mut Vec::new()), Err(LineError::Malformed));
        }
    }
}
