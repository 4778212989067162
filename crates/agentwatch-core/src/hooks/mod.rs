//! Agent hooks: Claude Code runs `agentwatch hook` on its hook events, Codex
//! runs it as its `notify` program. Each call records a heartbeat, the state
//! the event implies, and tool calls, then exits.
//!
//! | Claude Code event | recorded |
//! |---|---|
//! | SessionStart | waiting (a fresh session waits for the first prompt) |
//! | UserPromptSubmit, PreToolUse | working |
//! | PostToolUse | a tool call (an error if the tool says so) |
//! | Notification, Stop | waiting |
//! | SubagentStop | activity |
//! | SessionEnd | completed |
//!
//! Codex's `agent-turn-complete` means waiting.

use serde_json::Value;

use crate::collector::judge_now;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::liveness::{Reported, Turn};
use crate::store::{Registration, Report, Store};

pub mod spool;

/// The agents `agentwatch hook` takes events from.
pub const AGENTS: &[&str] = &["claude-code", "claude", "codex"];

/// Records one hook event of `agent` (see [`AGENTS`]) at `now`.
pub fn record(store: &Store, cfg: &Config, agent: &str, payload: &Value, now: i64) -> Result<HookOutcome> {
    match agent {
        "claude-code" | "claude" => claude(store, cfg, payload, now),
        "codex" => codex(store, cfg, payload, now),
        other => Err(Error::Usage(format!("unknown agent '{other}' (expected claude-code or codex)"))),
    }
}

/// What a hook call did, for logs and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct HookOutcome {
    pub session_id: String,
    pub event: String,
}

/// Handles a Claude Code hook payload (the JSON Claude Code writes to the
/// hook's stdin).
pub fn claude(store: &Store, cfg: &Config, payload: &Value, now: i64) -> Result<HookOutcome> {
    let text = |k: &str| payload.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let session_id = text("session_id").ok_or_else(|| Error::Usage("hook payload has no session_id".into()))?;
    let event = text("hook_event_name").ok_or_else(|| Error::Usage("hook payload has no hook_event_name".into()))?;
    let (row, _) = store.register(
        &Registration {
            agent: crate::sources::claude::AGENT.into(),
            external_id: Some(session_id),
            source: "hook".into(),
            project_path: text("cwd"),
            transcript_path: text("transcript_path"),
            heartbeats: true,
            ..Default::default()
        },
        now,
    )?;
    let mut report = Report { heartbeat: true, ..Default::default() };
    match event.as_str() {
        "SessionStart" | "Notification" | "Stop" => report.turn = Some(Turn::Waiting),
        "UserPromptSubmit" | "PreToolUse" => report.turn = Some(Turn::Working),
        "SessionEnd" => report.state = Some(Reported::Complete),
        "PostToolUse" => {
            let tool = text("tool_name").unwrap_or_else(|| "tool".into());
            let resp = payload.get("tool_response");
            let is_error = resp.is_some_and(|r| {
                r.get("is_error").and_then(Value::as_bool) == Some(true)
                    || r.get("success").and_then(Value::as_bool) == Some(false)
                    || r.get("error").is_some_and(|e| !e.is_null())
            });
            store.record_tool_call(row.pk, &tool, "hook", is_error, now)?;
        }
        _ => {} // SubagentStop, PreCompact and newer events: activity only
    }
    store.report(row.pk, &report, now)?;
    judge_now(store, cfg, row.pk, &format!("hook {event}"))?;
    Ok(HookOutcome { session_id: row.id, event })
}

/// Handles a Codex `notify` payload (the JSON Codex passes as the last
/// argument). The session is found by the payload's thread id, else by its
/// working directory among running Codex sessions.
pub fn codex(store: &Store, cfg: &Config, payload: &Value, now: i64) -> Result<HookOutcome> {
    let kind = payload.get("type").and_then(Value::as_str).unwrap_or("").to_string();
    let text = |k: &str| payload.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let thread = text("thread-id").or_else(|| text("thread_id")).or_else(|| text("session-id"));
    let cwd = text("cwd");
    let agent = crate::sources::codex::AGENT;
    let pk = match (&thread, &cwd) {
        (Some(t), _) => {
            let r = Registration {
                agent: agent.into(),
                external_id: Some(t.clone()),
                source: "hook".into(),
                project_path: cwd.clone(),
                heartbeats: true,
                ..Default::default()
            };
            store.register(&r, now)?.0.pk
        }
        (None, Some(dir)) => store
            .conn()
            .query_row(
                "SELECT pk FROM sessions WHERE agent = ?1 AND project_path = ?2 AND archived = 0
                 ORDER BY (pid IS NOT NULL) DESC, last_activity DESC LIMIT 1",
                rusqlite::params![agent, dir],
                |r| r.get(0),
            )
            .map_err(|_| Error::NotFound(format!("no Codex session in {dir}")))?,
        (None, None) => return Err(Error::Usage("Codex notify payload names neither a thread nor a directory".into())),
    };
    if kind == "agent-turn-complete" {
        store.report(pk, &Report { turn: Some(Turn::Waiting), heartbeat: true, ..Default::default() }, now)?;
    } else {
        store.report(pk, &Report { heartbeat: true, ..Default::default() }, now)?;
    }
    judge_now(store, cfg, pk, &format!("codex {kind}"))?;
    let id = store.session_by_pk(pk)?.map(|s| s.id).unwrap_or_default();
    Ok(HookOutcome { session_id: id, event: kind })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SessionState;
    use crate::paths::Dirs;
    use serde_json::json;

    fn hook(store: &Store, event: &str, extra: Value) -> SessionState {
        let mut p = json!({"session_id": "s-1", "transcript_path": "/t/s-1.jsonl", "cwd": "/home/u/app", "hook_event_name": event});
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let out = claude(store, &Config::default(), &p, crate::util::now_ms()).unwrap();
        crate::store::find_session(store, &out.session_id).unwrap().state
    }

    #[test]
    fn claude_events_drive_the_state() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        assert_eq!(hook(&store, "SessionStart", json!({"source": "startup"})), SessionState::Waiting);
        assert_eq!(hook(&store, "UserPromptSubmit", json!({"prompt": "fix it"})), SessionState::Working);
        assert_eq!(hook(&store, "PreToolUse", json!({"tool_name": "Bash"})), SessionState::Working);
        hook(&store, "PostToolUse", json!({"tool_name": "Bash", "tool_response": {"stdout": "ok"}}));
        hook(&store, "PostToolUse", json!({"tool_name": "Edit", "tool_response": {"success": false}}));
        assert_eq!(hook(&store, "Stop", json!({})), SessionState::Waiting);
        let s = crate::store::find_session(&store, "s-1").unwrap();
        assert_eq!((s.live.tool_calls, s.live.errors, s.live.last_tool.as_deref()), (2, 1, Some("Edit")));
        assert_eq!((s.source.as_str(), s.project_path.as_deref()), ("hook", Some("/home/u/app")));
        assert!(s.live.heartbeat_at.is_some());
        assert_eq!(hook(&store, "SessionEnd", json!({"reason": "exit"})), SessionState::Completed);
    }

    #[test]
    fn codex_turn_complete_means_waiting() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let p = json!({"type": "agent-turn-complete", "thread-id": "th-1", "turn-id": "1", "cwd": "/home/u/api",
                       "input-messages": ["fix"], "last-assistant-message": "done"});
        let out = codex(&store, &Config::default(), &p, crate::util::now_ms()).unwrap();
        assert_eq!(crate::store::find_session(&store, &out.session_id).unwrap().state, SessionState::Waiting);
        // Without a thread id, the session working in that directory.
        let q = json!({"type": "agent-turn-complete", "cwd": "/home/u/api"});
        assert_eq!(codex(&store, &Config::default(), &q, crate::util::now_ms()).unwrap().session_id, out.session_id);
        assert!(codex(&store, &Config::default(), &json!({"type": "x"}), 0).unwrap_err().is_usage());
        assert!(claude(&store, &Config::default(), &json!({"hook_event_name": "Stop"}), 0).unwrap_err().is_usage());
    }
}
