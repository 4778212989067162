//! Qwen Code, live: which chat a running `qwen` writes, and where its
//! conversation stands. Its chat files are `~/.qwen/projects/<cwd, every
//! character but letters and digits as "-">/chats/<session id>.jsonl`,
//! created at the first prompt.
//!
//! Records are appended when something is over: the prompt (`user`), the
//! model's reply (`assistant`, written when its stream ends or is stopped
//! with Esc), a tool's result (`tool_result`, `status` `cancelled` when the
//! person denied it). Nothing is written while a permission prompt waits:
//! the hooks say that.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::liveness::Turn;
use crate::sources::claude::paths::encode_project_dir;
use crate::sources::{LineTurn, LiveProcess, TranscriptLink, TurnInfo, newest_jsonl, plainly_within};

/// The session of a chat file under one of the `projects` dirs.
pub fn session_of(projects: &[PathBuf], path: &Path) -> Option<String> {
    if path.extension()? != "jsonl" || path.parent()?.file_name()? != "chats" || !plainly_within(projects, path) {
        return None;
    }
    Some(path.file_stem()?.to_string_lossy().into_owned())
}

/// The newest chat in the process's project folder written since it started.
pub fn newest_link(projects: &[PathBuf], p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let dirs: Vec<(PathBuf, PathBuf)> =
        projects.iter().map(|r| (r.clone(), r.join(encode_project_dir(&cwd)).join("chats"))).collect();
    let path = newest_jsonl(&dirs, (p.start - 2) * 1000, claimed)?;
    Some(TranscriptLink {
        external_id: path.file_stem()?.to_string_lossy().into_owned(),
        path: Some(path),
        ..Default::default()
    })
}

/// What one chat record says about the turn.
fn line_turn(v: &Value) -> Option<LineTurn> {
    let parts = v.pointer("/message/parts").and_then(Value::as_array);
    let has = |key: &str| parts.is_some_and(|p| p.iter().any(|p| p.get(key).is_some()));
    let turn = match v["type"].as_str()? {
        // A prompt (a cron prompt or a notification has a subtype: no turn).
        "user" if v.get("subtype").is_none() => Turn::Working,
        // A denied tool ends the turn; any other result goes back to the model.
        "tool_result" if v.pointer("/toolCallResult/status").and_then(Value::as_str) == Some("cancelled") => Turn::IDLE,
        "tool_result" => Turn::Working,
        // A call to run (or to approve); else the reply, whole or stopped.
        "assistant" if has("functionCall") => Turn::Working,
        "assistant" if has("text") => Turn::IDLE,
        _ => return None,
    };
    LineTurn::turn(turn)
}

/// Where the conversation stands, from the newest decisive record.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    TurnInfo::from_tail(path, line_turn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chat Qwen Code 0.15.10 wrote against tests/agents' stub: a plain
    /// turn, an approved command, a denied one, a reply stopped with Esc.
    #[test]
    fn turns_in_a_real_chat() {
        let lines: Vec<String> = include_str!("fixtures/turns-0.15.10.jsonl").lines().map(str::to_string).collect();
        let at = |n: usize| TurnInfo::from_lines(&lines[..=n], line_turn).map(|t| t.turn);
        let cases: &[(usize, Option<Turn>)] = &[
            (0, Some(Turn::Working)),  // "hello there"
            (2, Some(Turn::Working)),  // system records say nothing
            (3, Some(Turn::IDLE)),     // the reply
            (5, Some(Turn::Working)),  // "run AW_TOOL please"
            (8, Some(Turn::Working)),  // the call, its permission prompt open
            (10, Some(Turn::Working)), // approved: its result
            (12, Some(Turn::IDLE)),    // the reply after it
            (16, Some(Turn::Working)), // the next call
            (18, Some(Turn::IDLE)),    // denied
            (19, Some(Turn::Working)), // "AW_SLOW please"
            (22, Some(Turn::IDLE)),    // stopped with Esc
        ];
        for (n, want) in cases {
            assert_eq!(at(*n), *want, "after line {n}: {}", lines[*n]);
        }
    }

    #[test]
    fn links_the_chat_written_since_the_process_started() {
        let t = tempfile::tempdir().unwrap();
        let projects = t.path().join(".qwen/projects");
        let chats = projects.join("-home-u-app/chats");
        std::fs::create_dir_all(&chats).unwrap();
        std::fs::write(chats.join("0ea65665-aaaa.jsonl"), "{}\n").unwrap();
        let p =
            LiveProcess { pids: vec![1], start: chrono::Utc::now().timestamp() - 5, cwd: Some("/home/u/app".into()) };
        let pr = std::slice::from_ref(&projects);
        let l = newest_link(pr, &p, &|_| false).unwrap();
        assert_eq!(l.external_id, "0ea65665-aaaa");
        assert_eq!(session_of(pr, l.path.as_deref().unwrap()), Some("0ea65665-aaaa".into()));
        assert_eq!(session_of(pr, &projects.join("-home-u-app/chats/../../../etc/x.jsonl")), None);
        let later = LiveProcess { start: chrono::Utc::now().timestamp() + 60, ..p };
        assert_eq!(newest_link(pr, &later, &|_| false), None);
    }
}
