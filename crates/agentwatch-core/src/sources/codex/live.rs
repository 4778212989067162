//! Codex, live: which rollout a running `codex` writes, and where its
//! conversation stands (`task_complete` ends a turn).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{Duration, Local, TimeZone};
use serde_json::Value;

use crate::liveness::{Turn, WaitingFor};
use crate::model::PendingTool;
use crate::sources::{
    LineTurn, LiveProcess, TranscriptLine, TranscriptLink, TurnInfo, clip, last_lines, mtime_ms, plainly_within,
    real_dir_within,
};

/// The `session_meta` of a rollout (its first line): (id, cwd).
fn meta(path: &Path) -> Option<(String, Option<String>)> {
    meta_of(&first_line(path)??)
}

/// The id and cwd a `session_meta` line names.
fn meta_of(v: &Value) -> Option<(String, Option<String>)> {
    if v["type"] != "session_meta" {
        return None;
    }
    let id = v.pointer("/payload/id")?.as_str()?.to_string();
    Some((id, v.pointer("/payload/cwd").and_then(Value::as_str).map(str::to_string)))
}

/// A rollout's first line: `None` while it is not written whole yet (Codex
/// opens the file before its `session_meta` is flushed), `Some(None)` when
/// it is not JSON.
fn first_line(path: &Path) -> Option<Option<Value>> {
    let f = std::fs::File::open(path).ok()?;
    let mut first = String::new();
    BufReader::new(f.take(64 * 1024)).read_line(&mut first).ok()?;
    if !first.ends_with('\n') {
        return None;
    }
    Some(serde_json::from_str(&first).ok())
}

/// The session of a rollout file under one of the Codex homes: its
/// `session_meta` id, as its parser reads it (else, as the parser does, the
/// file's name). `None` until the first line is written whole: a link made
/// from the name then would name another session than the parser's.
pub fn session_of(homes: &[PathBuf], path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy();
    if !name.starts_with("rollout-") || !name.ends_with(".jsonl") || !plainly_within(homes, path) {
        return None;
    }
    let first = first_line(path)?;
    Some(
        first
            .as_ref()
            .and_then(meta_of)
            .map(|(id, _)| id)
            .unwrap_or_else(|| name.trim_end_matches(".jsonl").to_string()),
    )
}

/// The newest rollout started in the process's working directory since it
/// started. Codex files rollouts under `sessions/YYYY/MM/DD` by local date.
pub fn newest_link(homes: &[PathBuf], p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let since = (p.start - 2) * 1000;
    let first = Local.timestamp_opt(p.start, 0).single()?.date_naive() - Duration::days(1);
    let today = Local::now().date_naive() + Duration::days(1);
    let mut best: Option<(i64, PathBuf, String)> = None;
    for home in homes {
        let mut day = first;
        while day <= today {
            let root = home.join("sessions");
            let dir = root.join(day.format("%Y/%m/%d").to_string());
            day += Duration::days(1);
            // Links are not followed: they must not make agentwatch read elsewhere.
            if !real_dir_within(&root, &dir) {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for e in entries.flatten() {
                let path = e.path();
                if !e.file_name().to_string_lossy().starts_with("rollout-")
                    || !e.file_type().is_ok_and(|t| t.is_file())
                    || claimed(&path)
                {
                    continue;
                }
                let Some(m) = mtime_ms(&path).filter(|m| *m >= since) else { continue };
                if best.as_ref().is_some_and(|(b, _, _)| *b >= m) {
                    continue;
                }
                if let Some((id, Some(c))) = meta(&path)
                    && c == cwd
                {
                    best = Some((m, path, id));
                }
            }
        }
    }
    let (_, path, id) = best?;
    Some(TranscriptLink { external_id: id, path: Some(path), ..Default::default() })
}

/// Codex's tool for asking the person to choose (Plan mode).
pub const QUESTION_TOOL: &str = "request_user_input";

/// What one rollout line says about the turn. Codex records nothing while
/// an approval waits (its hooks tell); a question is the pending
/// `request_user_input` call.
fn line_turn(v: &Value) -> Option<LineTurn> {
    let p = v.get("payload")?;
    let kind = p["type"].as_str()?;
    match (v["type"].as_str()?, kind) {
        ("event_msg", "task_complete" | "turn_aborted") => LineTurn::turn(Turn::IDLE),
        ("event_msg", "user_message" | "task_started") => LineTurn::turn(Turn::Working),
        ("response_item", "function_call" | "custom_tool_call" | "local_shell_call") => {
            let name = p["name"].as_str().unwrap_or("tool");
            let args =
                p.get("arguments").or_else(|| p.get("input")).or_else(|| p.get("action")).unwrap_or(&Value::Null);
            let mut tool = PendingTool::from_input(name, args);
            if name == "exec_command" || name == "shell" || name == "local_shell_call" || kind == "local_shell_call" {
                // Shown as Codex's hooks name it.
                tool.name = "Bash".into();
            }
            let turn = if name == QUESTION_TOOL { Turn::Waiting(WaitingFor::Question) } else { Turn::Working };
            let id = p["call_id"].as_str().unwrap_or("").to_string();
            Some(LineTurn { turn: Some(turn), call: Some((id, tool)), answers: Vec::new() })
        }
        ("response_item", "function_call_output" | "custom_tool_call_output" | "local_shell_call_output") => {
            let answers = p["call_id"].as_str().map(|c| vec![c.to_string()]).unwrap_or_default();
            Some(LineTurn { turn: Some(Turn::Working), call: None, answers })
        }
        _ => None,
    }
}

/// Whether a Codex process (its background server) still holds the
/// thread: its writer lock is there and open. The session goes on after its
/// terminal client quit. A lock left by a process that was killed says
/// nothing.
pub fn thread_loaded(homes: &[PathBuf], id: &str) -> bool {
    if id.is_empty() || id.contains(['/', '\\']) {
        return false;
    }
    homes
        .iter()
        .map(|h| h.join("thread-writer-locks").join(format!("{id}.lock")))
        .filter(|lock| lock.is_file())
        .any(|lock| crate::collector::process::held_open_by("codex", &lock))
}

pub fn turn(path: &Path) -> Option<TurnInfo> {
    TurnInfo::from_tail(path, line_turn)
}

pub fn tail(path: &Path, max: usize) -> Vec<TranscriptLine> {
    let mut out = Vec::new();
    for l in last_lines(path, 256 * 1024) {
        let Ok(v) = serde_json::from_str::<Value>(&l) else { continue };
        let at = v["timestamp"].as_str().map(str::to_string);
        let p = &v["payload"];
        let line = match (v["type"].as_str(), p["type"].as_str()) {
            (Some("event_msg"), Some("user_message")) => ("user", p["message"].as_str().unwrap_or("").to_string()),
            (Some("event_msg"), Some("agent_message")) => {
                ("assistant", p["message"].as_str().unwrap_or("").to_string())
            }
            (Some("response_item"), Some("function_call" | "custom_tool_call")) => (
                "tool",
                format!(
                    "→ {} {}",
                    p["name"].as_str().unwrap_or("tool"),
                    p["arguments"].as_str().or(p["input"].as_str()).unwrap_or("")
                ),
            ),
            (Some("response_item"), Some("function_call_output" | "custom_tool_call_output")) => {
                ("tool", p["output"].as_str().map(str::to_string).unwrap_or_else(|| p["output"].to_string()))
            }
            (Some("event_msg"), Some("task_complete")) => ("system", "turn complete".to_string()),
            _ => continue,
        };
        out.push(TranscriptLine { at, role: line.0, text: clip(&line.1, if line.0 == "tool" { 2000 } else { 4000 }) });
    }
    let skip = out.len().saturating_sub(max);
    out.drain(..skip);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(path: &Path, lines: &[Value]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let s: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        std::fs::write(path, s.join("\n") + "\n").unwrap();
    }

    fn ev(kind: &str) -> Value {
        json!({"timestamp": "2026-11-20T10:00:00Z", "type": "event_msg", "payload": {"type": kind, "message": "hi"}})
    }

    /// Cuts of a rollout Codex 0.171 wrote in tests/agents: a plain turn, an
    /// approved and a denied command, two questions (Plan mode).
    #[test]
    fn turns_in_a_real_rollout() {
        let lines: Vec<String> = include_str!("fixtures/turns-0.171.0.jsonl").lines().map(str::to_string).collect();
        let at = |n: usize| TurnInfo::from_lines(&lines[..=n], line_turn).unwrap();
        let touch = "Bash(touch aw-tool-ran.txt && echo aw-tool-ran)";
        let cases: &[(usize, Turn, Option<&str>)] = &[
            (12, Turn::Working, None),
            (13, Turn::IDLE, None),           // task_complete
            (22, Turn::Working, Some(touch)), // the approval is pending here: only hooks tell
            (24, Turn::Working, None),
            (30, Turn::IDLE, None),
            (43, Turn::IDLE, None), // denied: turn_aborted
            (50, Turn::Waiting(WaitingFor::Question), Some("request_user_input(Which option should agentwatch test?)")),
            (51, Turn::Working, None),
            (88, Turn::IDLE, None),
        ];
        for (n, turn, tool) in cases {
            let t = at(*n);
            assert_eq!((t.turn, t.tool.map(|x| x.label()).as_deref()), (*turn, *tool), "after line {n}");
        }
    }

    #[test]
    fn task_complete_means_waiting() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("rollout-x.jsonl");
        write(&p, &[ev("task_started"), ev("agent_message"), ev("token_count")]);
        assert_eq!(turn(&p).unwrap().turn, Turn::Working);
        write(&p, &[ev("task_started"), ev("agent_message"), ev("task_complete"), ev("token_count")]);
        assert_eq!(turn(&p).unwrap().turn, Turn::IDLE);
        write(&p, &[ev("task_complete"), ev("user_message")]);
        assert_eq!(turn(&p).unwrap().turn, Turn::Working);
    }

    #[test]
    fn links_the_rollout_started_in_the_same_directory() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join(".codex");
        let today = Local::now().format("%Y/%m/%d").to_string();
        let meta =
            |id: &str, cwd: &str| json!({"timestamp": "x", "type": "session_meta", "payload": {"id": id, "cwd": cwd}});
        write(&home.join("sessions").join(&today).join("rollout-a.jsonl"), &[meta("a", "/home/u/api")]);
        write(&home.join("sessions").join(&today).join("rollout-b.jsonl"), &[meta("b", "/home/u/web")]);
        let homes = std::slice::from_ref(&home);
        let p =
            LiveProcess { pids: vec![1], start: chrono::Utc::now().timestamp() - 60, cwd: Some("/home/u/api".into()) };
        let l = newest_link(homes, &p, &|_| false).unwrap();
        assert_eq!(l.external_id, "a");
        assert_eq!(newest_link(homes, &p, &|q| q.ends_with("rollout-a.jsonl")), None);
        assert_eq!(session_of(homes, l.path.as_deref().unwrap()), Some("a".into()));
    }

    #[test]
    fn a_rollout_whose_first_line_is_not_written_yet_names_no_session() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join(".codex");
        let homes = std::slice::from_ref(&home);
        let path = home.join("sessions/2026/11/20/rollout-2026-11-20T10-00-00-0199a213-81c0.jsonl");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let meta = r#"{"timestamp":"x","type":"session_meta","payload":{"id":"0199a213-81c0","cwd":"/home/u/api"}}"#;
        for partial in ["", &meta[..40]] {
            std::fs::write(&path, partial).unwrap();
            assert_eq!(session_of(homes, &path), None, "{partial:?}: not the file's name, which the parser never uses");
        }
        std::fs::write(&path, format!("{meta}\n")).unwrap();
        assert_eq!(session_of(homes, &path).as_deref(), Some("0199a213-81c0"));
        // A first line that is not a session_meta: the name, as the parser takes it.
        std::fs::write(&path, "{\"type\":\"event_msg\"}\n").unwrap();
        assert_eq!(session_of(homes, &path).as_deref(), Some("rollout-2026-11-20T10-00-00-0199a213-81c0"));
    }
}
