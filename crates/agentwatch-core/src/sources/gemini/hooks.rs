//! Gemini CLI's hooks (`hooks` in `~/.gemini/settings.json`; a JSON object
//! on stdin; the hook prints nothing and exits 0), read as [`HookEvent`]s.
//!
//! | event | says |
//! |---|---|
//! | SessionStart | the CLI sits at its prompt |
//! | BeforeAgent, BeforeTool, AfterTool | working |
//! | Notification `ToolPermission` | a tool waits for approval; `ask_user`: a question |
//! | AfterAgent | the turn ended |
//! | SessionEnd | the session ended (not sent when the terminal closes) |
//!
//! A denied tool or a cancelled question sends no hook: the chat file's
//! "Request cancelled." tells.

use serde_json::Value;

use crate::liveness::{Turn, WaitingFor};
use crate::model::PendingTool;
use crate::sources::{HookEvent, text_field};

/// Gemini CLI's tool for asking the person.
pub const QUESTION_TOOL: &str = "ask_user";

pub fn event(p: &Value) -> Result<HookEvent, String> {
    let (mut ev, event) = HookEvent::claude_style(p)?;
    let tool_name = text_field(p, "tool_name");
    match event.as_str() {
        "SessionStart" => {
            ev.started = true;
            ev.turn = Some(Turn::IDLE);
        }
        "BeforeAgent" | "BeforeTool" => ev.turn = Some(Turn::Working),
        "Notification" if p["notification_type"] == "ToolPermission" => {
            let d = &p["details"];
            if d["type"] == QUESTION_TOOL {
                ev.turn = Some(Turn::Waiting(WaitingFor::Question));
                ev.tool = Some(PendingTool::new(QUESTION_TOOL, ""));
            } else {
                ev.turn = Some(Turn::Waiting(WaitingFor::Permission));
                let name = match d["type"].as_str() {
                    Some("exec") => "Shell".to_string(),
                    Some("edit") => "Edit".to_string(),
                    Some("info") => "WebFetch".to_string(),
                    _ => d["toolName"].as_str().or(d["title"].as_str()).unwrap_or("tool").to_string(),
                };
                ev.tool = Some(PendingTool::from_input(&name, d));
            }
        }
        "AfterTool" => {
            ev.turn = Some(Turn::Working);
            let failed = p.pointer("/tool_response/error").is_some_and(|e| !e.is_null());
            ev.tool_call = Some((tool_name.clone().unwrap_or_else(|| "tool".into()), failed));
        }
        "AfterAgent" => ev.turn = Some(Turn::IDLE),
        "SessionEnd" => ev.ended = true,
        _ => {} // PreCompress, BeforeModel, AfterModel …: signs of life
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(name: &str, extra: Value) -> HookEvent {
        let mut p = json!({"session_id": "g-1", "transcript_path": "/x/session-a.jsonl", "cwd": "/w",
                           "hook_event_name": name, "timestamp": "2026-12-05T11:39:28.106Z"});
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        event(&p).unwrap()
    }

    #[test]
    fn gemini_cli_0_61_hooks_say_where_the_turn_is() {
        let perm = ev(
            "Notification",
            json!({"notification_type": "ToolPermission", "message": "Tool Confirm Shell Command requires execution",
            "details": {"type": "exec", "title": "Confirm Shell Command", "command": "printf 'aw-tool-ran\\n'", "rootCommand": "printf"}}),
        );
        assert_eq!(perm.turn, Some(Turn::Waiting(WaitingFor::Permission)));
        assert_eq!(perm.tool.unwrap().label(), "Shell(printf 'aw-tool-ran\\n')");
        let ask = ev(
            "Notification",
            json!({"notification_type": "ToolPermission", "details": {"type": "ask_user", "title": "Ask User"}}),
        );
        assert_eq!(ask.turn, Some(Turn::Waiting(WaitingFor::Question)));
        let start = ev("SessionStart", json!({"source": "startup"}));
        assert!(start.started && start.turn == Some(Turn::IDLE));
        assert_eq!(ev("BeforeAgent", json!({"prompt": "hi"})).turn, Some(Turn::Working));
        assert_eq!(ev("AfterAgent", json!({"prompt_response": "x"})).turn, Some(Turn::IDLE));
        let after = ev("AfterTool", json!({"tool_name": "run_shell_command", "tool_response": {"llmContent": "ok"}}));
        assert_eq!(after.tool_call, Some(("run_shell_command".into(), false)));
        assert!(ev("SessionEnd", json!({"reason": "exit"})).ended);
        assert_eq!(ev("AfterModel", json!({})).turn, None);
    }
}
