//! Codex's hooks (`[hooks]` in `config.toml`, a JSON object on stdin) and
//! its `notify` program (a JSON argument), read as [`HookEvent`]s.
//!
//! | event | says |
//! |---|---|
//! | SessionStart (at the first prompt), UserPromptSubmit, PreToolUse, PostToolUse, Pre/PostCompact | working |
//! | PreToolUse of `request_user_input` | a question is asked |
//! | PermissionRequest | a tool waits for approval |
//! | Stop, Interrupt (a denied approval ends the turn) | the turn ended |
//! | SessionEnd (the thread unloaded) | the session ended |
//! | notify `agent-turn-complete` | the turn ended |
//!
//! Codex's background server runs the hooks of every thread it holds, and
//! `notify` also fires for its hidden title-generation thread: that one is
//! ignored.

use serde_json::Value;

use super::live::QUESTION_TOOL;
use crate::liveness::{Turn, WaitingFor};
use crate::sources::{HookEvent, hook_tool, text_field};

/// How the prompt of Codex's title-generation side thread begins.
const TITLE_PROMPT: &str = "Generate a concise, single-line task title";

pub fn event(p: &Value) -> Result<HookEvent, String> {
    if p.get("hook_event_name").is_some() { hook(p) } else { notify(p) }
}

fn hook(p: &Value) -> Result<HookEvent, String> {
    let (mut ev, event) = HookEvent::claude_style(p)?;
    let tool_name = text_field(p, "tool_name");
    let tool = || hook_tool(p);
    match event.as_str() {
        "SessionStart" => {
            ev.started = true;
            ev.turn = Some(Turn::Working); // Codex starts a thread at its first prompt
        }
        "PreToolUse" if tool_name.as_deref() == Some(QUESTION_TOOL) => {
            ev.turn = Some(Turn::Waiting(WaitingFor::Question));
            ev.tool = tool();
        }
        "UserPromptSubmit" | "PreToolUse" | "PreCompact" | "PostCompact" | "SubagentStart" => {
            ev.turn = Some(Turn::Working)
        }
        "PermissionRequest" => {
            ev.turn = Some(Turn::Waiting(WaitingFor::Permission));
            ev.tool = tool();
        }
        "PostToolUse" => {
            ev.turn = Some(Turn::Working);
            let failed = p.pointer("/tool_response/success").and_then(Value::as_bool) == Some(false)
                || p.pointer("/tool_response/exit_code").and_then(Value::as_i64).is_some_and(|c| c != 0);
            ev.tool_call = Some((tool_name.clone().unwrap_or_else(|| "tool".into()), failed));
        }
        "Stop" | "Interrupt" => ev.turn = Some(Turn::IDLE),
        "SessionEnd" => ev.ended = true,
        _ => {}
    }
    Ok(ev)
}

fn notify(p: &Value) -> Result<HookEvent, String> {
    let kind = p.get("type").and_then(Value::as_str).unwrap_or("").to_string();
    let thread =
        text_field(p, "thread-id").or_else(|| text_field(p, "thread_id")).or_else(|| text_field(p, "session-id"));
    let cwd = text_field(p, "cwd");
    if thread.is_none() && cwd.is_none() {
        return Err("Codex notify payload names neither a thread nor a directory".into());
    }
    let title_thread = p
        .get("input-messages")
        .and_then(Value::as_array)
        .and_then(|m| m.first())
        .and_then(Value::as_str)
        .is_some_and(|m| m.starts_with(TITLE_PROMPT));
    Ok(HookEvent {
        session_id: thread.unwrap_or_default(),
        turn: (kind == "agent-turn-complete").then_some(Turn::IDLE),
        event: kind,
        cwd,
        ignore: title_thread,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(name: &str, extra: Value) -> HookEvent {
        let mut p = json!({"session_id": "th-1", "turn_id": "t1", "transcript_path": "/x.jsonl", "cwd": "/w",
                           "hook_event_name": name, "model": "gpt-5", "permission_mode": "default"});
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        event(&p).unwrap()
    }

    #[test]
    fn codex_0_171_hooks_and_notify_say_where_the_turn_is() {
        let perm =
            ev("PermissionRequest", json!({"tool_name": "Bash", "tool_input": {"command": "touch a && echo aw"}}));
        assert_eq!(perm.turn, Some(Turn::Waiting(WaitingFor::Permission)));
        assert_eq!(perm.tool.unwrap().label(), "Bash(touch a && echo aw)");
        let q = ev(
            "PreToolUse",
            json!({"tool_name": "request_user_input", "tool_input": {"questions": [{"question": "Pick?"}]}}),
        );
        assert_eq!((q.turn, q.tool.unwrap().summary.as_str()), (Some(Turn::Waiting(WaitingFor::Question)), "Pick?"));
        assert_eq!(ev("PreToolUse", json!({"tool_name": "Bash"})).turn, Some(Turn::Working));
        assert_eq!(ev("Interrupt", json!({})).turn, Some(Turn::IDLE));
        assert_eq!(ev("Stop", json!({"last_assistant_message": "done"})).turn, Some(Turn::IDLE));
        assert!(ev("SessionEnd", json!({"reason": "other"})).ended);
        let done = ev("PostToolUse", json!({"tool_name": "Bash", "tool_response": "aw\n"}));
        assert_eq!(done.tool_call, Some(("Bash".into(), false)));
        let n = event(&json!({"type": "agent-turn-complete", "thread-id": "th-1", "cwd": "/w",
                              "input-messages": ["fix it"], "last-assistant-message": "done"}))
        .unwrap();
        assert_eq!((n.session_id.as_str(), n.turn, n.ignore), ("th-1", Some(Turn::IDLE), false));
        let title = event(&json!({"type": "agent-turn-complete", "thread-id": "th-2",
            "input-messages": ["Generate a concise, single-line task title of at most 36 characters …"]}))
        .unwrap();
        assert!(title.ignore, "Codex's title thread is no session");
        assert!(event(&json!({"type": "x"})).is_err());
    }
}
