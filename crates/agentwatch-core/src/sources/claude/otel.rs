//! Claude Code's OpenTelemetry log events (`CLAUDE_CODE_ENABLE_TELEMETRY`
//! and the `OTEL_*` variables), read as [`OtelEvent`]s. The record's body
//! is the full name (`claude_code.api_request`), its `event.name` the bare
//! one; every event carries `session.id`.
//!
//! | event | says |
//! |---|---|
//! | `claude_code.api_request` | a model call: `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_creation_tokens`, `cost_usd`, `duration_ms`, `request_id` |
//! | `claude_code.tool_decision` | `tool_name`, `decision` (accept, reject) |
//! | `claude_code.tool_result` | a tool call finished: `tool_name`, `success` (text) |
//!
//! Others (`user_prompt`, `api_error`, …) are signs of life. Claude Code
//! does not say which cache lifetime a write used: it counts as 5-minute.

use serde_json::{Map, Value};

use crate::model::Tokens;
use crate::sources::{OtelCall, OtelEvent, otel_bool, otel_count, otel_num, otel_text};

pub const PREFIX: &str = "claude_code.";

pub fn event(name: &str, a: &Map<String, Value>) -> Option<OtelEvent> {
    let mut ev = OtelEvent { session_id: otel_text(a, "session.id")?, ..Default::default() };
    let tool = || otel_text(a, "tool_name").unwrap_or_else(|| "tool".into());
    match name {
        "claude_code.api_request" => {
            ev.call = Some(OtelCall {
                request_id: otel_text(a, "request_id"),
                model: otel_text(a, "model").unwrap_or_else(|| "unknown".into()),
                tokens: Tokens {
                    input: otel_count(a, "input_tokens"),
                    output: otel_count(a, "output_tokens"),
                    cache_read: otel_count(a, "cache_read_tokens"),
                    cache_write_5m: otel_count(a, "cache_creation_tokens"),
                    ..Default::default()
                },
                cost_usd: otel_num(a, "cost_usd").filter(|c| *c >= 0.0),
                duration_ms: otel_num(a, "duration_ms").unwrap_or(0.0) as i64,
            });
        }
        "claude_code.tool_decision" => ev.decision = Some((tool(), otel_text(a, "decision").unwrap_or_default())),
        "claude_code.tool_result" => ev.tool_call = Some((tool(), otel_bool(a, "success") == Some(false))),
        _ => {}
    }
    Some(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_api_request_is_a_call_with_its_cost_and_request_id() {
        let a = json!({"session.id": "s-1", "event.name": "api_request", "model": "claude-sonnet-4-5",
            "input_tokens": 12, "output_tokens": 30, "cache_read_tokens": 1000, "cache_creation_tokens": 200,
            "cost_usd": 0.0123, "duration_ms": 2100, "request_id": "req_1"});
        let c = event("claude_code.api_request", a.as_object().unwrap()).unwrap().call.unwrap();
        assert_eq!(
            (c.tokens.input, c.tokens.output, c.tokens.cache_read, c.tokens.cache_write_5m),
            (12, 30, 1000, 200)
        );
        assert_eq!((c.cost_usd, c.duration_ms, c.request_id.as_deref()), (Some(0.0123), 2100, Some("req_1")));
    }

    #[test]
    fn tool_results_say_success_as_text() {
        let a = json!({"session.id": "s-1", "tool_name": "Bash", "success": "false", "decision": "reject"});
        let a = a.as_object().unwrap();
        assert_eq!(event("claude_code.tool_result", a).unwrap().tool_call, Some(("Bash".into(), true)));
        assert_eq!(event("claude_code.tool_decision", a).unwrap().decision, Some(("Bash".into(), "reject".into())));
        assert_eq!(
            event("claude_code.user_prompt", a).unwrap(),
            OtelEvent { session_id: "s-1".into(), ..Default::default() }
        );
    }
}
