//! Claude Code's hook payloads (the JSON on a command hook's stdin, or the
//! body of an `http` hook), read as [`HookEvent`]s.
//!
//! | event | says |
//! |---|---|
//! | SessionStart | a session (re)starts at its prompt |
//! | UserPromptSubmit, PreToolUse, PostToolUse(Failure), PreCompact, PostCompact | working |
//! | PreToolUse of the question tool | a question is asked |
//! | PermissionRequest | a tool waits for approval (the question tool: a question) |
//! | Notification `permission_prompt` / `elicitation_dialog` / `idle_prompt` | permission / question / input |
//! | Stop, StopFailure | the turn ended |
//! | SessionEnd | the session ended |
//!
//! Other events (SubagentStop, MessageDisplay, InstructionsLoaded, …) are
//! signs of life only. A permission prompt that is denied ends the turn
//! with no hook at all: the registry or the transcript tells.

use serde_json::Value;

use super::live::QUESTION_TOOL;
use crate::liveness::{Turn, WaitingFor};
use crate::sources::{HookEvent, hook_tool, text_field};

pub fn event(p: &Value) -> Result<HookEvent, String> {
    let (mut ev, event) = HookEvent::claude_style(p)?;
    let tool_name = text_field(p, "tool_name");
    let tool = || hook_tool(p);
    let is_question = tool_name.as_deref() == Some(QUESTION_TOOL);
    match event.as_str() {
        "SessionStart" => {
            ev.started = true;
            ev.turn = Some(Turn::IDLE);
        }
        "UserPromptSubmit" | "PreCompact" | "PostCompact" => ev.turn = Some(Turn::Working),
        "PreToolUse" if is_question => {
            ev.turn = Some(Turn::Waiting(WaitingFor::Question));
            ev.tool = tool();
        }
        "PreToolUse" => ev.turn = Some(Turn::Working),
        "PermissionRequest" => {
            ev.turn = Some(Turn::Waiting(if is_question { WaitingFor::Question } else { WaitingFor::Permission }));
            ev.tool = tool();
        }
        "PostToolUse" | "PostToolUseFailure" => {
            ev.turn = Some(Turn::Working);
            let resp = p.get("tool_response");
            let failed = event == "PostToolUseFailure"
                || resp.is_some_and(|r| {
                    r.get("is_error").and_then(Value::as_bool) == Some(true)
                        || r.get("success").and_then(Value::as_bool) == Some(false)
                        || r.get("error").is_some_and(|e| !e.is_null())
                });
            ev.tool_call = Some((tool_name.clone().unwrap_or_else(|| "tool".into()), failed));
        }
        "Notification" => match p.get("notification_type").and_then(Value::as_str) {
            Some("permission_prompt" | "worker_permission_prompt") => {
                ev.turn = Some(Turn::Waiting(WaitingFor::Permission));
                ev.keep_tool = true;
            }
            Some("elicitation_dialog" | "elicitation_url_dialog") => {
                ev.turn = Some(Turn::Waiting(WaitingFor::Question));
            }
            Some("idle_prompt") => ev.turn = Some(Turn::IDLE),
            _ => {} // auth_success, elicitation_complete, …: a sign of life
        },
        "Elicitation" => ev.turn = Some(Turn::Waiting(WaitingFor::Question)),
        "ElicitationResult" => ev.turn = Some(Turn::Working),
        "Stop" | "StopFailure" => ev.turn = Some(Turn::IDLE),
        "SessionEnd" => ev.ended = true,
        _ => {}
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(name: &str, extra: Value) -> HookEvent {
        let mut p =
            json!({"session_id": "s-1", "transcript_path": "/t/s-1.jsonl", "cwd": "/w", "hook_event_name": name});
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        event(&p).unwrap()
    }

    #[test]
    fn events_of_claude_code_2_1_say_where_the_turn_is() {
        // Payloads as Claude Code 2.1.197 sends them (tests/agents records them live).
        let bash = json!({"tool_name": "Bash", "tool_input": {"command": "echo aw-tool-ran | tee aw-tool-ran.txt", "description": "Print"}});
        let p = ev("PermissionRequest", bash.clone());
        assert_eq!(p.turn, Some(Turn::Waiting(WaitingFor::Permission)));
        assert_eq!(p.tool.unwrap().label(), "Bash(echo aw-tool-ran | tee aw-tool-ran.txt)");
        let ask = json!({"tool_name": "AskUserQuestion", "tool_input": {"questions": [{"question": "Which colour?"}]}});
        let q = ev("PermissionRequest", ask.clone());
        assert_eq!(
            (q.turn, q.tool.unwrap().summary.as_str()),
            (Some(Turn::Waiting(WaitingFor::Question)), "Which colour?")
        );
        assert_eq!(ev("PreToolUse", ask).turn, Some(Turn::Waiting(WaitingFor::Question)));
        assert_eq!(ev("PreToolUse", bash.clone()).turn, Some(Turn::Working));
        let n = ev(
            "Notification",
            json!({"notification_type": "permission_prompt", "message": "Claude needs your permission"}),
        );
        assert_eq!((n.turn, n.keep_tool), (Some(Turn::Waiting(WaitingFor::Permission)), true));
        assert_eq!(ev("Notification", json!({"notification_type": "idle_prompt"})).turn, Some(Turn::IDLE));
        assert_eq!(ev("Notification", json!({"notification_type": "auth_success"})).turn, None);
        assert_eq!(ev("Stop", json!({})).turn, Some(Turn::IDLE));
        assert_eq!(ev("PreCompact", json!({"trigger": "auto"})).turn, Some(Turn::Working));
        let done =
            ev("PostToolUse", json!({"tool_name": "Bash", "tool_response": {"stdout": "x", "interrupted": false}}));
        assert_eq!((done.turn, done.tool_call), (Some(Turn::Working), Some(("Bash".into(), false))));
        let failed = ev("PostToolUseFailure", json!({"tool_name": "Edit", "error": "no such file"}));
        assert_eq!(failed.tool_call, Some(("Edit".into(), true)));
        let start = ev("SessionStart", json!({"source": "startup"}));
        assert!(start.started && start.turn == Some(Turn::IDLE));
        assert!(ev("SessionEnd", json!({"reason": "prompt_input_exit"})).ended);
        assert_eq!(ev("MessageDisplay", json!({"delta": "hi"})).turn, None);
        assert!(event(&json!({"hook_event_name": "Stop"})).unwrap_err().contains("session_id"));
        assert!(event(&json!({"session_id": "x"})).unwrap_err().contains("hook_event_name"));
    }
}
