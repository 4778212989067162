//! OpenCode's plugin events, as agentwatch's plugin (`plugin.js`, installed
//! by `hooks install --agent opencode`) passes them: `{"event", "properties",
//! "pid", "directory"}`.
//!
//! | event | says |
//! |---|---|
//! | session.created (at the first prompt), session.status `busy` | working |
//! | permission.asked | a tool waits for approval |
//! | permission.replied | approved: working; rejected: the turn ends |
//! | question.asked | a question is asked |
//! | session.status `idle`, session.idle, session.error (interrupted) | the turn ended |
//! | session.deleted | the session ended |
//!
//! OpenCode sends nothing when it exits: its process going tells.

use serde_json::Value;

use crate::liveness::{Turn, WaitingFor};
use crate::model::PendingTool;
use crate::sources::{HookEvent, text_field};

pub fn event(p: &Value) -> Result<HookEvent, String> {
    let event = text_field(p, "event").ok_or("plugin payload has no event")?;
    let props = p.get("properties").unwrap_or(&Value::Null);
    let session_id = text_field(props, "sessionID")
        .or_else(|| props.pointer("/info/id").and_then(Value::as_str).map(str::to_string))
        .ok_or("plugin payload has no sessionID")?;
    let mut ev = HookEvent {
        session_id,
        cwd: text_field(p, "directory"),
        pid: p.get("pid").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()),
        ..Default::default()
    };
    match event.as_str() {
        "session.created" => {
            ev.started = true;
            ev.turn = Some(Turn::Working);
        }
        "session.status" => {
            ev.turn = match props.pointer("/status/type").and_then(Value::as_str) {
                Some("idle") => Some(Turn::IDLE),
                Some(_) => Some(Turn::Working), // busy, retry
                None => None,
            }
        }
        "session.idle" | "session.error" => ev.turn = Some(Turn::IDLE),
        "permission.asked" => {
            ev.turn = Some(Turn::Waiting(WaitingFor::Permission));
            let name = props["permission"].as_str().unwrap_or("tool");
            let what = props.pointer("/metadata/command").or_else(|| props.pointer("/patterns/0"));
            ev.tool = Some(PendingTool::new(name, what.and_then(Value::as_str).unwrap_or("")));
        }
        "permission.replied" => {
            ev.turn = Some(if props["reply"] == "reject" { Turn::IDLE } else { Turn::Working });
        }
        "question.asked" => {
            ev.turn = Some(Turn::Waiting(WaitingFor::Question));
            let q = props.pointer("/questions/0/question").or_else(|| props.get("question"));
            ev.tool = Some(PendingTool::new("question", q.and_then(Value::as_str).unwrap_or("")));
        }
        "question.replied" | "question.rejected" => ev.turn = Some(Turn::Working),
        "session.deleted" => ev.ended = true,
        _ => {}
    }
    ev.event = event;
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(event: &str, properties: Value) -> HookEvent {
        super::event(&json!({"event": event, "properties": properties, "pid": 4242, "directory": "/w"})).unwrap()
    }

    #[test]
    fn opencode_1_18_plugin_events_say_where_the_turn_is() {
        let asked = ev(
            "permission.asked",
            json!({"id": "per_1", "sessionID": "ses_1", "permission": "bash",
            "patterns": ["echo aw-tool-ran | tee aw-tool-ran.txt"], "metadata": {"command": "echo aw-tool-ran | tee aw-tool-ran.txt"},
            "always": ["echo *"], "tool": {"messageID": "msg_1", "callID": "call_1"}}),
        );
        assert_eq!((asked.session_id.as_str(), asked.pid), ("ses_1", Some(4242)));
        assert_eq!(asked.turn, Some(Turn::Waiting(WaitingFor::Permission)));
        assert_eq!(asked.tool.unwrap().label(), "bash(echo aw-tool-ran | tee aw-tool-ran.txt)");
        assert_eq!(ev("permission.replied", json!({"sessionID": "ses_1", "reply": "once"})).turn, Some(Turn::Working));
        assert_eq!(ev("permission.replied", json!({"sessionID": "ses_1", "reply": "reject"})).turn, Some(Turn::IDLE));
        assert_eq!(
            ev("session.status", json!({"sessionID": "ses_1", "status": {"type": "busy"}})).turn,
            Some(Turn::Working)
        );
        assert_eq!(
            ev("session.status", json!({"sessionID": "ses_1", "status": {"type": "idle"}})).turn,
            Some(Turn::IDLE)
        );
        assert_eq!(ev("session.idle", json!({"sessionID": "ses_1"})).turn, Some(Turn::IDLE));
        let created = ev("session.created", json!({"sessionID": "ses_2", "info": {"id": "ses_2", "directory": "/w"}}));
        assert!(created.started && created.session_id == "ses_2");
        assert!(ev("session.deleted", json!({"info": {"id": "ses_2"}})).ended);
        assert!(super::event(&json!({"event": "session.idle", "properties": {}})).is_err());
    }
}
