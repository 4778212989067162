//! Grok Build, live: which session a running `grok` writes, and where its
//! turn stands.
//!
//! A session's folder is `sessions/<its work dir, URL-encoded>/<session
//! id>/`: a running `grok` is linked to the newest `updates.jsonl` in a
//! folder of its work dir written since it started. The log says a turn
//! starts with the prompt (`user_message_chunk`), goes on with the model's
//! chunks and tool calls, and ends with `turn_completed` (`stop_reason`
//! `end_turn` or `cancelled`).

use std::path::Path;

use serde_json::Value;

use crate::liveness::{Signal, Turn};
use crate::sources::{LiveProcess, TranscriptLink, TurnInfo, last_lines, mtime_ms, real_dir_within};

use super::paths::{UPDATES, url_decode};

/// The newest update log in a folder of the process's work dir, written
/// since it started and not `claimed` by another process.
pub fn newest_link(sessions: &Path, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let since = (p.start - 2) * 1000;
    let mut best: Option<(i64, String, std::path::PathBuf)> = None;
    for d in std::fs::read_dir(sessions).ok()?.flatten() {
        if url_decode(&d.file_name().to_string_lossy()) != cwd {
            continue;
        }
        let Ok(runs) = std::fs::read_dir(d.path()) else { continue };
        for run in runs.flatten() {
            let log = run.path().join(UPDATES);
            if !real_dir_within(sessions, &run.path()) || claimed(&log) {
                continue;
            }
            let Some(m) = mtime_ms(&log).filter(|m| *m >= since) else { continue };
            if best.as_ref().is_none_or(|(b, _, _)| m > *b) {
                best = Some((m, run.file_name().to_string_lossy().into_owned(), log));
            }
        }
    }
    let (_, id, path) = best?;
    Some(TranscriptLink { external_id: id, path: Some(path), ..Default::default() })
}

/// What one update says about the turn, and when it was written (ms).
pub(crate) fn line_turn(v: &Value) -> Option<(Turn, Option<i64>)> {
    let p = &v["params"];
    let turn = match p.pointer("/update/sessionUpdate")?.as_str()? {
        "user_message_chunk"
        | "agent_message_chunk"
        | "agent_thought_chunk"
        | "tool_call"
        | "tool_call_update"
        | "plan" => Turn::Working,
        "turn_completed" => Turn::IDLE,
        _ => return None,
    };
    let at = p
        .pointer("/_meta/agentTimestampMs")
        .and_then(Value::as_i64)
        .or_else(|| v["timestamp"].as_i64().map(|s| s * 1000));
    Some((turn, at))
}

/// Where the conversation stands, from the newest decisive update.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    turn_of(&last_lines(path, 64 * 1024))
}

fn turn_of(lines: &[String]) -> Option<TurnInfo> {
    lines.iter().rev().find_map(|l| {
        let v: Value = serde_json::from_str(l).ok()?;
        let (turn, at) = line_turn(&v)?;
        Some(TurnInfo::new(turn, at, Signal::Transcript))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_works_until_the_turn_completes() {
        let text = include_str!("fixtures/updates.jsonl");
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let t = turn_of(&lines[..3]).unwrap();
        assert_eq!((t.turn, t.at), (Turn::Working, Some(1_785_225_594_310)));
        let t = turn_of(&lines[..4]).unwrap();
        assert_eq!((t.turn, t.at), (Turn::IDLE, Some(1_785_225_600_500)));
        let t = turn_of(&lines[..5]).unwrap();
        assert_eq!(t.turn, Turn::Working);
        // The cut-off last line says nothing; the one before it decides.
        let t = turn_of(&lines).unwrap();
        assert_eq!((t.turn, t.at), (Turn::IDLE, Some(1_785_226_000_000)));
    }

    #[test]
    fn a_running_grok_is_linked_to_the_newest_log_of_its_work_dir() {
        let t = tempfile::tempdir().unwrap();
        let sessions = t.path().join("sessions");
        let mine = sessions.join("%2Fhome%2Fu%2Fapp");
        for (dir, id) in [(&mine, "s-old"), (&mine, "s-new"), (&sessions.join("%2Fother"), "s-else")] {
            std::fs::create_dir_all(dir.join(id)).unwrap();
            std::fs::write(dir.join(id).join(UPDATES), "{}\n").unwrap();
        }
        let old = std::fs::File::options().write(true).open(mine.join("s-old").join(UPDATES)).unwrap();
        old.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600)).unwrap();
        let now = chrono::Utc::now().timestamp();
        let p = LiveProcess { pids: vec![1], start: now - 60, cwd: Some("/home/u/app".into()) };
        let link = newest_link(&sessions, &p, &|_| false).unwrap();
        assert_eq!(link.external_id, "s-new");
        assert_eq!(link.path, Some(mine.join("s-new").join(UPDATES)));
        assert!(newest_link(&sessions, &p, &|q| q.ends_with(format!("s-new/{UPDATES}"))).is_none(), "claimed");
        let elsewhere = LiveProcess { cwd: Some("/home/u/none".into()), ..p };
        assert!(newest_link(&sessions, &elsewhere, &|_| false).is_none());
    }
}
