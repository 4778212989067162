//! Copilot CLI, live. While a process has a session open, Copilot keeps
//! `session-state/<session id>/inuse.<pid>.lock` (the pid of its native
//! process, a child of the `copilot` launcher), and removes it at exit: an
//! exact link from the process to its session. The session's
//! `events.jsonl` logs, as they happen:
//! - `user.message`, `assistant.turn_start`, `tool.execution_start`: at work;
//! - `permission.requested`: a permission prompt waits, naming the command
//!   or file; `permission.completed` is the answer;
//! - `assistant.turn_end`: the model's turn is over (a new `turn_start`
//!   follows at once when a tool's result goes back to the model);
//! - `session.shutdown`: the session ended.

use std::path::Path;

use serde_json::Value;

use crate::liveness::{Turn, WaitingFor};
use crate::model::PendingTool;
use crate::sources::{
    LineTurn, LiveProcess, RegistryError, TranscriptLine, TranscriptLink, TurnInfo, clip, last_lines, mtime_ms,
    plainly_within, real_dir_within,
};

/// The session whose folder holds a lock of one of the process's pids.
/// Only folders changed since the process started are looked in (the lock
/// is made when the process opens the session).
pub fn registry_link(home: &Path, p: &LiveProcess) -> Result<TranscriptLink, RegistryError> {
    let state = super::paths::session_state(home);
    let Ok(entries) = std::fs::read_dir(&state) else { return Err(RegistryError::Missing) };
    let since = (p.start - 60) * 1000;
    for e in entries.flatten() {
        let dir = e.path();
        if !e.file_type().is_ok_and(|t| t.is_dir()) || mtime_ms(&dir).is_none_or(|m| m < since) {
            continue;
        }
        if p.pids.iter().any(|pid| dir.join(format!("inuse.{pid}.lock")).is_file()) && real_dir_within(&state, &dir) {
            let id = e.file_name().to_string_lossy().into_owned();
            return Ok(TranscriptLink { external_id: id, path: Some(dir.join("events.jsonl")), ..Default::default() });
        }
    }
    Err(RegistryError::Missing)
}

/// The session of an event log under `session-state`.
pub fn session_of(home: &Path, path: &Path) -> Option<String> {
    let state = super::paths::session_state(home);
    if path.file_name()? != "events.jsonl" || path.parent()?.parent()? != state || !plainly_within(&[state], path) {
        return None;
    }
    Some(path.parent()?.file_name()?.to_string_lossy().into_owned())
}

/// The tool a permission request is about: a shell command, a file, a URL.
fn requested_tool(req: &Value) -> PendingTool {
    match req["kind"].as_str().unwrap_or("tool") {
        "shell" => PendingTool::from_input("bash", &serde_json::json!({"command": req["fullCommandText"]})),
        kind => PendingTool::from_input(kind, req),
    }
}

/// What one event says about the turn.
fn line_turn(v: &Value) -> Option<LineTurn> {
    let data = &v["data"];
    match v["type"].as_str()? {
        "user.message" | "assistant.turn_start" | "tool.execution_start" => LineTurn::turn(Turn::Working),
        "assistant.turn_end" => LineTurn::turn(Turn::IDLE),
        "session.shutdown" => LineTurn::turn(Turn::Ended),
        "permission.requested" => {
            let req = &data["permissionRequest"];
            let call = req["toolCallId"].as_str().unwrap_or_default().to_string();
            Some(LineTurn {
                turn: Some(Turn::Waiting(WaitingFor::Permission)),
                call: Some((call, requested_tool(req))),
                ..Default::default()
            })
        }
        "permission.completed" => {
            let call = data["toolCallId"].as_str().unwrap_or_default().to_string();
            let approved = data.pointer("/result/kind").and_then(Value::as_str) == Some("approved");
            Some(LineTurn { turn: approved.then_some(Turn::Working), answers: vec![call], ..Default::default() })
        }
        _ => None,
    }
}

/// Where the conversation stands, from the newest decisive event.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    TurnInfo::from_tail(path, line_turn)
}

/// The log's last prompts, replies and commands, for display.
pub fn tail(path: &Path, max: usize) -> Vec<TranscriptLine> {
    let mut out: Vec<TranscriptLine> = Vec::new();
    for l in last_lines(path, 256 * 1024) {
        let Ok(v) = serde_json::from_str::<Value>(&l) else { continue };
        let at = v["timestamp"].as_str().map(str::to_string);
        let data = &v["data"];
        let (role, text) = match v["type"].as_str() {
            Some("user.message") => ("user", data["content"].as_str().unwrap_or_default().to_string()),
            Some("assistant.message") => ("assistant", data["content"].as_str().unwrap_or_default().to_string()),
            Some("tool.execution_start") => {
                let t = PendingTool::from_input(data["toolName"].as_str().unwrap_or("tool"), &data["arguments"]);
                ("tool", format!("{}({})", t.name, t.summary))
            }
            _ => continue,
        };
        if !text.trim().is_empty() {
            out.push(TranscriptLine { at, role, text: clip(&text, 2000) });
        }
    }
    let skip = out.len().saturating_sub(max);
    out.split_off(skip)
}

/// The folder a session's log is in, for tests.
#[cfg(test)]
fn session_dir(home: &Path, id: &str) -> std::path::PathBuf {
    super::paths::session_state(home).join(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The event log the real Copilot CLI 1.0.102 wrote against the model
    /// stub: a plain turn, a command it asked permission for (approved),
    /// the exit. Its system prompt is left out.
    const REAL: &str = include_str!("fixtures/events-1.0.102.jsonl");

    #[test]
    fn turns_in_the_real_log() {
        let lines: Vec<String> = REAL.lines().map(str::to_string).collect();
        let at = |n: usize| TurnInfo::from_lines(&lines[..=n], line_turn);
        let kind = |n: usize| lines[n].split('"').nth(3).unwrap_or_default().to_string();
        let cases: &[(usize, Turn)] = &[
            (2, Turn::Working),                          // "hello there"
            (7, Turn::IDLE),                             // the reply's turn is over
            (8, Turn::Working),                          // "run AW_TOOL please"
            (13, Turn::Waiting(WaitingFor::Permission)), // the command waits for approval
            (14, Turn::Working),                         // approved
            (16, Turn::IDLE),                            // turn_end…
            (17, Turn::Working),                         // …and at once the next turn_start
            (20, Turn::IDLE),                            // the reply
            (21, Turn::Ended),                           // /exit
        ];
        for (n, want) in cases {
            assert_eq!(at(*n).map(|t| t.turn), Some(*want), "after line {n} ({})", kind(*n));
        }
        let waiting = at(13).unwrap();
        assert_eq!(
            waiting.tool,
            Some(PendingTool { name: "bash".into(), summary: "echo aw-tool-ran | tee aw-tool-ran.txt".into() })
        );
        assert_eq!(at(14).unwrap().tool, None, "answered");
    }

    #[test]
    fn the_lock_links_the_process_and_the_log_its_session() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join(".copilot");
        let dir = session_dir(&home, "c850be41-3994-48c9-82a6-1d2e87a16a3d");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("events.jsonl"), REAL).unwrap();
        std::fs::write(dir.join("inuse.4242.lock"), "").unwrap();
        let now = chrono::Utc::now().timestamp();
        let p = LiveProcess { pids: vec![4240, 4242], start: now - 5, cwd: None };
        let l = registry_link(&home, &p).unwrap();
        assert_eq!(l.external_id, "c850be41-3994-48c9-82a6-1d2e87a16a3d");
        assert_eq!(session_of(&home, l.path.as_deref().unwrap()), Some(l.external_id.clone()));
        let other = LiveProcess { pids: vec![7], ..p.clone() };
        assert_eq!(registry_link(&home, &other), Err(RegistryError::Missing));
        let tail = tail(l.path.as_deref().unwrap(), 3);
        assert_eq!(tail.iter().map(|l| l.role).collect::<Vec<_>>(), ["user", "tool", "assistant"]);
        assert_eq!(tail[1].text, "bash(echo aw-tool-ran | tee aw-tool-ran.txt)");
    }
}
