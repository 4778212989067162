//! A Cline 4 messages file (`<sid>.messages.json`), read as records. The
//! file is one JSON document `@cline/core` rewrites after each turn
//! (`buildMessagesFilePayload`, contract in cline/cline
//! `sdk/packages/core/docs/messages-contract-v1.md`): `messages` in order,
//! each with a stable `id`; an assistant message that ended a model call
//! has `ts` (ms), `modelInfo.id` and `metrics`: `inputTokens` (the whole
//! prompt, cache reads and writes included: the AI SDK's count,
//! `sdk/packages/core/src/services/usage.ts`), `outputTokens`,
//! `cacheReadTokens`, `cacheWriteTokens` and `cost`, Cline's price of the
//! call. Each such message is a call, keyed by its `id` and `ts` (a fork
//! copies its parent's messages with their ids: the copies are the same
//! calls, counted once).
//!
//! The session's manifest (`<sid>.json`, read beside it) names its `cwd`,
//! `started_at` and Cline's version.
//!
//! A Cline 3 task resumed in the Cline 4 extension starts a session with
//! the old task's messages, followed by a user message with
//! [`LEGACY_RESUME_WARNING`], and its last assistant message stamped with
//! the whole old task's totals as `metrics` (cline/cline
//! `apps/vscode/src/sdk/legacy-task-handling.ts`,
//! `legacyApiHistoryToSdkMessages`). Those calls are the old task's, read
//! from its own files: the messages up to the warning count nothing here.

use std::sync::Arc;

use serde_json::Value;

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, MAX_TOKENS, Record, SessionInfo, parse_ts, plausible_cost};

use super::AGENT;

/// A token count: absent is 0; anything but a whole number in range is
/// malformed.
pub(crate) fn count(v: &Value) -> Result<u64, LineError> {
    match v {
        Value::Null => Ok(0),
        n => n.as_u64().filter(|n| *n <= MAX_TOKENS).ok_or(LineError::Malformed),
    }
}

/// What the session's manifest says (an unreadable one says nothing).
fn manifest_info(session: &str, manifest: Option<&[u8]>) -> (SessionInfo, Option<String>) {
    let mut info = SessionInfo { external_id: session.to_string(), ..Default::default() };
    let Some(v) = manifest.and_then(|b| serde_json::from_slice::<Value>(b).ok()).filter(Value::is_object) else {
        return (info, None);
    };
    let text = |v: &Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    info.project_path = text(&v["cwd"]).or_else(|| text(&v["workspace_root"]));
    info.started_at = v["started_at"].as_str().and_then(parse_ts);
    info.agent_version = text(&v["metadata"]["sessionHistoryOrigin"]["version"]);
    (info, text(&v["model"]))
}

/// The text the Cline 4 extension adds after a resumed Cline 3 task's
/// messages (`LEGACY_RESUME_MODEL_WARNING`).
pub const LEGACY_RESUME_WARNING: &str =
    "Warning: this is a legacy conversation, which means tool names may have changed.";

/// Whether a message holds the legacy-resume warning.
fn is_legacy_resume_warning(m: &Value) -> bool {
    match &m["content"] {
        Value::String(s) => s.contains(LEGACY_RESUME_WARNING),
        Value::Array(blocks) => {
            blocks.iter().any(|b| b["text"].as_str().is_some_and(|t| t.contains(LEGACY_RESUME_WARNING)))
        }
        _ => false,
    }
}

/// What one messages file of `session` says, with its manifest's bytes if
/// it has one.
pub fn messages(session: &str, bytes: &[u8], manifest: Option<&[u8]>, out: &mut Vec<Record>) -> Result<(), LineError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|_| LineError::Malformed)?;
    let Some(list) = v["messages"].as_array() else { return Err(LineError::Malformed) };
    let (info, session_model) = manifest_info(session, manifest);
    let updated = v["updated_at"].as_str().and_then(parse_ts);
    // Messages carried over from a Cline 3 task count in that task.
    let carried = list.iter().rposition(|m| m["role"] == "user" && is_legacy_resume_warning(m)).map_or(0, |i| i + 1);
    let mut calls = Vec::new();
    for (i, m) in list.iter().enumerate().skip(carried) {
        let metrics = &m["metrics"];
        if m["role"] != "assistant" || !metrics.is_object() {
            continue;
        }
        let (whole_input, output) = (count(&metrics["inputTokens"])?, count(&metrics["outputTokens"])?);
        let (cache_read, cache_write) = (count(&metrics["cacheReadTokens"])?, count(&metrics["cacheWriteTokens"])?);
        let cost = plausible_cost(metrics["cost"].as_f64()).filter(|c| *c > 0.0);
        let tokens = Tokens {
            // The prompt less what was read from or written to the cache.
            input: whole_input.saturating_sub(cache_read + cache_write),
            output,
            cache_write_5m: cache_write,
            cache_write_1h: 0,
            cache_read,
            reasoning: 0,
        };
        if tokens.is_zero() && cost.is_none() {
            continue;
        }
        let at = match &m["ts"] {
            Value::Null => updated,
            t => Some(t.as_i64().and_then(chrono::DateTime::from_timestamp_millis).ok_or(LineError::Malformed)?),
        };
        let Some(timestamp) = at else { return Err(LineError::Malformed) };
        let (model, fallback) = match m["modelInfo"]["id"].as_str().filter(|s| !s.is_empty()) {
            Some(id) => (id.to_string(), false),
            None => (session_model.clone().unwrap_or_else(|| "unknown".to_string()), true),
        };
        let id = m["id"].as_str().filter(|s| !s.is_empty()).map_or_else(|| format!("{session}#{i}"), str::to_string);
        calls.push(Record::Usage(UsageEvent {
            key: EventKey::of(&[AGENT, &id, &timestamp.timestamp_millis().to_string()]),
            session_external_id: Arc::from(session),
            timestamp,
            model: Arc::from(model.as_str()),
            model_fallback: fallback,
            fast: false,
            sidechain: false,
            tokens,
            cost_usd: cost,
        }));
    }
    out.push(Record::Session(info));
    out.extend(calls);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    const SID: &str = "1784094124598_rruoq";

    /// Written by the real Cline CLI 3.0.65 in tests/agents/cline.rs (its
    /// temporary folder as `/home/u`): a slow reply, a tool call denied and
    /// the reply after it, a tool call approved and the reply after it.
    #[test]
    fn a_session_the_real_cline_cli_wrote() {
        const REAL: &str = "1796646349014_4jiuh";
        let mut out = Vec::new();
        messages(
            REAL,
            include_bytes!("fixtures/v4-real/1796646349014_4jiuh/1796646349014_4jiuh.messages.json"),
            Some(include_bytes!("fixtures/v4-real/1796646349014_4jiuh/1796646349014_4jiuh.json")),
            &mut out,
        )
        .unwrap();
        let Record::Session(s) = &out[0] else { panic!("{out:?}") };
        assert_eq!(s.external_id, REAL);
        assert_eq!(s.project_path.as_deref(), Some("/home/u/src/lib"));
        assert_eq!(s.agent_version.as_deref(), Some("3.0.65"));
        assert_eq!(s.started_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-12-07T12:25:49.016+00:00"));
        let c = calls(&out);
        // The stub's 120 prompt tokens (64 cached) and 40 completion tokens:
        // Cline records the whole prompt as `inputTokens`, and no `cost` at
        // all for a model it has no price for.
        let stub = Tokens { input: 56, output: 40, cache_read: 64, ..Default::default() };
        assert_eq!(c.len(), 5, "the assistant messages with metrics");
        for u in &c {
            assert_eq!((&*u.model, u.model_fallback, u.tokens, u.cost_usd), ("stub-model", false, stub, None));
            assert_eq!(&*u.session_external_id, REAL);
        }
        let at: Vec<i64> = c.iter().map(|u| u.timestamp.timestamp_millis()).collect();
        assert_eq!(at, [1_796_646_360_808, 1_796_646_364_665, 1_796_646_368_920, 1_796_646_369_666, 1_796_646_374_012]);
        assert_eq!(c[1].key, EventKey::of(&[AGENT, "msg_KwdcczXf", "1796646364665"]));
    }

    #[test]
    fn a_session_as_cline_4_writes_it() {
        let mut out = Vec::new();
        messages(
            SID,
            include_bytes!("fixtures/v4/1784094124598_rruoq/1784094124598_rruoq.messages.json"),
            Some(include_bytes!("fixtures/v4/1784094124598_rruoq/1784094124598_rruoq.json")),
            &mut out,
        )
        .unwrap();
        let Record::Session(s) = &out[0] else { panic!("{out:?}") };
        assert_eq!(s.project_path.as_deref(), Some("/home/alice/src/webapp"));
        assert_eq!(s.agent_version.as_deref(), Some("3.0.56"));
        assert_eq!(s.started_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-07-15T05:42:04.609+00:00"));
        let c = calls(&out);
        assert_eq!(c.len(), 3, "the assistant messages with metrics");
        assert_eq!(
            c[0].tokens,
            Tokens { input: 34_334, output: 741, ..Default::default() },
            "a prompt without cache is all input"
        );
        assert_eq!(c[0].cost_usd, Some(0.114117));
        assert_eq!((&*c[0].model, c[0].model_fallback), ("anthropic/claude-sonnet-4.5", false));
        assert_eq!(c[0].timestamp.timestamp_millis(), 1_784_094_127_493);
        assert_eq!(
            c[1].tokens,
            Tokens { input: 1_580, output: 164, cache_read: 34_332, ..Default::default() },
            "the cached part is taken out of the prompt"
        );
        assert_eq!(
            c[2].tokens,
            Tokens { input: 200, output: 310, cache_write_5m: 1_200, cache_read: 35_910, ..Default::default() }
        );
        assert_eq!(c[2].cost_usd, None, "a cost of 0 is no price: the tokens are priced");
        assert_eq!(c[1].key, EventKey::of(&[AGENT, "msg_WLUQWTo-", "1784094129985"]));
        assert!(c.iter().all(|u| &*u.session_external_id == SID));
    }

    #[test]
    fn a_sub_agents_file_counts_in_its_session_and_without_a_manifest_names_no_project() {
        let mut out = Vec::new();
        messages(SID, include_bytes!("fixtures/v4/1784094124598_rruoq/researcher.messages.json"), None, &mut out)
            .unwrap();
        let Record::Session(s) = &out[0] else { panic!() };
        assert_eq!((s.external_id.as_str(), s.project_path.as_deref()), (SID, None));
        let c = calls(&out);
        assert_eq!(c.len(), 1);
        assert_eq!(&*c[0].model, "claude-haiku-4-5");
        assert_eq!(c[0].tokens, Tokens { input: 900, output: 120, cache_read: 3_000, ..Default::default() });
    }

    #[test]
    fn a_cline_3_task_resumed_in_cline_4_counts_only_what_came_after() {
        // As `legacyApiHistoryToSdkMessages` hands them to the new session:
        // no `ts`, the old task's totals on its last assistant message.
        let doc = serde_json::json!({"version": 1, "updated_at": "2026-07-20T10:00:00.000Z", "sessionId": "s", "messages": [
            {"id": "a", "role": "user", "content": [{"type": "text", "text": "<task>old</task>"}]},
            {"id": "b", "role": "assistant", "content": [{"type": "text", "text": "done"}],
             "modelInfo": {"id": "claude-sonnet-4-5-20250929", "provider": "unknown"},
             "metrics": {"inputTokens": 30_000, "outputTokens": 1_000, "cacheReadTokens": 20_000, "cacheWriteTokens": 5_000, "cost": 0.2}},
            {"id": "c", "role": "user", "content": LEGACY_RESUME_WARNING.to_string() + " Please use the most up-to-date tools you are aware of."},
            {"id": "d", "role": "user", "content": [{"type": "text", "text": "go on"}]},
            {"id": "e", "role": "assistant", "content": [{"type": "text", "text": "ok"}], "ts": 1_784_541_600_000_i64,
             "modelInfo": {"id": "claude-sonnet-4-5", "provider": "anthropic"},
             "metrics": {"inputTokens": 40, "outputTokens": 5, "cacheReadTokens": 0, "cacheWriteTokens": 0, "cost": 0.0002}}
        ]});
        let mut out = Vec::new();
        messages("s", doc.to_string().as_bytes(), None, &mut out).unwrap();
        let c = calls(&out);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!((c[0].tokens.input, c[0].tokens.output), (40, 5));
    }

    #[test]
    fn a_file_cut_short_or_not_cline_s_is_malformed() {
        let full = include_bytes!("fixtures/v4/1784094124598_rruoq/1784094124598_rruoq.messages.json");
        assert_eq!(messages(SID, &full[..full.len() / 2], None, &mut Vec::new()), Err(LineError::Malformed));
        assert_eq!(messages(SID, b"[]", None, &mut Vec::new()), Err(LineError::Malformed));
        let negative = br#"{"messages":[{"id":"a","role":"assistant","ts":1,"metrics":{"inputTokens":-5}}]}"#;
        assert_eq!(messages(SID, negative, None, &mut Vec::new()), Err(LineError::Malformed));
        let mut out = Vec::new();
        messages(SID, br#"{"messages":[{"id":"u","role":"user","content":[]}]}"#, Some(b"{oops"), &mut out).unwrap();
        assert_eq!(out.len(), 1, "a session without calls; a broken manifest says nothing");
    }
}
