//! Codex's OpenTelemetry log events (`[otel]` in config.toml), read as
//! [`OtelEvent`]s. Every event carries `conversation.id`; many numbers come
//! as text.
//!
//! | event | says |
//! |---|---|
//! | `codex.sse_event` of kind `response.completed` | a model call: `input_token_count` (cached included), `cached_token_count`, `output_token_count` (reasoning included), `reasoning_token_count` |
//! | `codex.tool_decision` | `tool_name`, `decision` |
//! | `codex.tool_result` | a tool call finished: `tool_name`, `success` |
//!
//! Others (`conversation_starts`, `user_prompt`, `api_request`, …) are
//! signs of life.

use serde_json::{Map, Value};

use crate::model::Tokens;
use crate::sources::{OtelCall, OtelEvent, otel_bool, otel_count, otel_num, otel_text};

pub const PREFIX: &str = "codex.";

pub fn event(name: &str, a: &Map<String, Value>) -> Option<OtelEvent> {
    let mut ev = OtelEvent { session_id: otel_text(a, "conversation.id")?, ..Default::default() };
    match name {
        "codex.sse_event" if otel_text(a, "event.kind").as_deref() == Some("response.completed") => {
            let input = otel_count(a, "input_token_count");
            let cached = otel_count(a, "cached_token_count").min(input);
            ev.call = Some(OtelCall {
                request_id: None,
                model: otel_text(a, "model").unwrap_or_else(|| "unknown".into()),
                tokens: Tokens {
                    input: input - cached,
                    output: otel_count(a, "output_token_count"),
                    cache_read: cached,
                    reasoning: otel_count(a, "reasoning_token_count"),
                    ..Default::default()
                },
                cost_usd: None,
                duration_ms: otel_num(a, "duration_ms").unwrap_or(0.0) as i64,
            });
        }
        "codex.tool_decision" => {
            let tool = otel_text(a, "tool_name").unwrap_or_else(|| "tool".into());
            ev.decision = Some((tool, otel_text(a, "decision").unwrap_or_default()));
        }
        "codex.tool_result" => {
            let tool = otel_text(a, "tool_name").unwrap_or_else(|| "tool".into());
            ev.tool_call = Some((tool, otel_bool(a, "success") == Some(false)));
        }
        _ => {}
    }
    Some(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_completed_response_is_a_call_and_text_numbers_are_read() {
        let a = json!({"conversation.id": "th-1", "event.kind": "response.completed", "model": "gpt-5-codex",
            "input_token_count": "1000", "cached_token_count": 400, "output_token_count": "60",
            "reasoning_token_count": 20, "duration_ms": "1500"});
        let c = event("codex.sse_event", a.as_object().unwrap()).unwrap().call.unwrap();
        assert_eq!((c.tokens.input, c.tokens.cache_read, c.tokens.output, c.tokens.reasoning), (600, 400, 60, 20));
        assert_eq!((c.model.as_str(), c.duration_ms), ("gpt-5-codex", 1500));
        let delta = json!({"conversation.id": "th-1", "event.kind": "response.output_text.delta"});
        assert_eq!(event("codex.sse_event", delta.as_object().unwrap()).unwrap().call, None);
    }

    #[test]
    fn tool_results_and_decisions() {
        let a = json!({"conversation.id": "th-1", "tool_name": "shell", "success": "false", "decision": "approved"});
        let a = a.as_object().unwrap();
        assert_eq!(event("codex.tool_result", a).unwrap().tool_call, Some(("shell".into(), true)));
        assert_eq!(event("codex.tool_decision", a).unwrap().decision, Some(("shell".into(), "approved".into())));
    }
}
