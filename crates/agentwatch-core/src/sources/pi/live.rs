//! pi, live: which session file a running `pi` writes, and where its
//! conversation stands.
//!
//! A new session's file is written first when the first reply ends
//! (`SessionManager._persist` holds every entry until then), in
//! `sessions/--<cwd>--/`; from then on each entry is appended as it ends
//! (`agent-session.ts`, `message_end`): the prompt, each assistant message,
//! each tool result. pi asks no permission before a tool runs.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::paths::{cwd_folder, session_id_of};
use crate::liveness::Turn;
use crate::sources::{LineTurn, LiveProcess, TranscriptLink, TurnInfo, newest_jsonl};

/// The newest session file in the process's working-directory folder
/// written since it started.
pub fn newest_link(sessions: &[PathBuf], p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let folder = cwd_folder(&p.cwd.as_ref()?.to_string_lossy());
    let dirs: Vec<(PathBuf, PathBuf)> = sessions.iter().map(|r| (r.clone(), r.join(&folder))).collect();
    let path = newest_jsonl(&dirs, (p.start - 2) * 1000, claimed)?;
    Some(TranscriptLink { external_id: session_id_of(&path)?, path: Some(path), ..Default::default() })
}

/// What one entry says about the turn.
pub(crate) fn line_turn(v: &Value) -> Option<LineTurn> {
    if v["type"].as_str()? != "message" {
        return None;
    }
    let m = &v["message"];
    let turn = match m["role"].as_str()? {
        // A prompt; a tool's result goes back to the model.
        "user" | "toolResult" => Turn::Working,
        // Tool calls to run; else the reply ended (stop, length, error, aborted).
        "assistant" if m["stopReason"].as_str() == Some("toolUse") => Turn::Working,
        "assistant" => Turn::IDLE,
        _ => return None,
    };
    LineTurn::turn(turn)
}

/// Where the conversation stands, from the newest decisive entry.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    TurnInfo::from_tail(path, line_turn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_in_a_session() {
        let lines: Vec<String> = include_str!("fixtures/session.jsonl").lines().map(str::to_string).collect();
        let at = |n: usize| TurnInfo::from_lines(&lines[..=n], line_turn).map(|t| t.turn);
        let cases: &[(usize, Option<Turn>)] = &[
            (2, None),                // the header and settings say nothing
            (3, Some(Turn::Working)), // the prompt
            (4, Some(Turn::Working)), // a tool call
            (5, Some(Turn::Working)), // its result
            (6, Some(Turn::IDLE)),    // the reply
            (8, Some(Turn::Working)), // the next prompt
            (10, Some(Turn::IDLE)),   // the user's own `!git status` says nothing
            (12, Some(Turn::IDLE)),   // a failed call ends the turn
            (16, Some(Turn::IDLE)),
        ];
        for (n, want) in cases {
            assert_eq!(at(*n), *want, "after line {n}: {}", lines[*n]);
        }
    }

    #[test]
    fn turns_in_the_real_pis_session() {
        // Written by pi 0.73.1 in tests/agents/pi.rs (parser.rs says what).
        let lines: Vec<String> = include_str!("fixtures/pi-0.73.1.jsonl").lines().map(str::to_string).collect();
        let turns: Vec<Option<Turn>> =
            (0..lines.len()).map(|n| TurnInfo::from_lines(&lines[..=n], line_turn).map(|t| t.turn)).collect();
        let (w, i) = (Some(Turn::Working), Some(Turn::IDLE));
        assert_eq!(
            turns,
            [
                None, None, None, // the header, the model, the thinking level
                w, i, // "hello", its reply
                w, i, // the slow one
                w, w, w, i, // the prompt, its tool call, the result, the reply after it
                i, // the person's `!echo` says nothing
                w, i, // interrupted: pi writes the reply as aborted
            ]
        );
    }

    #[test]
    fn links_the_session_written_since_the_process_started() {
        let t = tempfile::tempdir().unwrap();
        let sessions = t.path().join(".pi/agent/sessions");
        let dir = sessions.join("--home-u-app--");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("2026-03-14T09-12-03-511Z_6f1d.jsonl"), "{}\n").unwrap();
        let p =
            LiveProcess { pids: vec![1], start: chrono::Utc::now().timestamp() - 5, cwd: Some("/home/u/app".into()) };
        let s = std::slice::from_ref(&sessions);
        let l = newest_link(s, &p, &|_| false).unwrap();
        assert_eq!(l.external_id, "6f1d");
        let later = LiveProcess { start: chrono::Utc::now().timestamp() + 60, ..p.clone() };
        assert_eq!(newest_link(s, &later, &|_| false), None);
        let elsewhere = LiveProcess { cwd: Some("/home/u/other".into()), ..p };
        assert_eq!(newest_link(s, &elsewhere, &|_| false), None);
    }
}
