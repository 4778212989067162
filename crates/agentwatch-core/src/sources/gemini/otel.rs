//! Gemini CLI's OpenTelemetry log events (`telemetry` in settings.json),
//! read as [`OtelEvent`]s. Every record carries `session.id`.
//!
//! | event | says |
//! |---|---|
//! | `gemini_cli.api_response` | a model call: `input_token_count` (cached included), `cached_content_token_count`, `output_token_count`, `thoughts_token_count` (billed as output), `duration_ms` |
//! | `gemini_cli.tool_call` | a tool call finished: `function_name`, `success`, `decision` |
//!
//! Others (`config`, `user_prompt`, `api_request`, …) are signs of life.

use serde_json::{Map, Value};

use crate::model::Tokens;
use crate::sources::{OtelCall, OtelEvent, otel_bool, otel_count, otel_num, otel_text};

pub const PREFIX: &str = "gemini_cli.";

pub fn event(name: &str, a: &Map<String, Value>) -> Option<OtelEvent> {
    let mut ev = OtelEvent { session_id: otel_text(a, "session.id")?, ..Default::default() };
    match name {
        "gemini_cli.api_response" => {
            let cached = otel_count(a, "cached_content_token_count");
            let thoughts = otel_count(a, "thoughts_token_count");
            ev.call = Some(OtelCall {
                request_id: None,
                model: otel_text(a, "model").unwrap_or_else(|| "unknown".into()),
                tokens: Tokens {
                    input: otel_count(a, "input_token_count").saturating_sub(cached),
                    output: otel_count(a, "output_token_count") + thoughts,
                    cache_read: cached,
                    reasoning: thoughts,
                    ..Default::default()
                },
                cost_usd: None,
                duration_ms: otel_num(a, "duration_ms").unwrap_or(0.0) as i64,
            });
        }
        "gemini_cli.tool_call" => {
            let tool = otel_text(a, "function_name").unwrap_or_else(|| "tool".into());
            if let Some(d) = otel_text(a, "decision") {
                ev.decision = Some((tool.clone(), d));
            }
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

    fn attrs(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_response_is_a_call_with_cached_and_thinking_split_out() {
        let a = attrs(json!({"session.id": "g-1", "event.name": "gemini_cli.api_response", "model": "gemini-2.5-pro",
            "input_token_count": 1200, "cached_content_token_count": 200, "output_token_count": 50,
            "thoughts_token_count": 30, "duration_ms": 900}));
        let c = event("gemini_cli.api_response", &a).unwrap().call.unwrap();
        assert_eq!(c.model, "gemini-2.5-pro");
        assert_eq!((c.tokens.input, c.tokens.cache_read, c.tokens.output, c.tokens.reasoning), (1000, 200, 80, 30));
        assert_eq!(c.duration_ms, 900);
    }

    #[test]
    fn a_tool_call_and_its_decision() {
        let a = attrs(
            json!({"session.id": "g-1", "function_name": "run_shell_command", "success": false, "decision": "reject"}),
        );
        let ev = event("gemini_cli.tool_call", &a).unwrap();
        assert_eq!(ev.tool_call, Some(("run_shell_command".into(), true)));
        assert_eq!(ev.decision, Some(("run_shell_command".into(), "reject".into())));
        assert!(event("gemini_cli.user_prompt", &attrs(json!({"prompt_length": 4}))).is_none(), "no session");
    }
}
