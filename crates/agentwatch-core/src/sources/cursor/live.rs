//! cursor-agent, live: which chat a running `cursor-agent` (or `agent`)
//! works in, and where its turn stands.
//!
//! Its chats are in `chats/<md5 of its work dir>/<chat id>/store.db`: a
//! process is linked to the chat of its work dir's bucket whose store (or
//! its WAL) was written most recently since it started. The chat's
//! transcript (`projects/<slug>/agent-transcripts/<chat id>.jsonl`) says
//! where the turn stands: a `user` or `assistant` line means a turn is under
//! way, `{"type": "turn_ended"}` that it ended. Its lines carry no times.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::liveness::{Signal, Turn};
use crate::sources::{
    LiveProcess, TranscriptLine, TranscriptLink, TurnInfo, clip, last_lines, mtime_ms, real_dir_within,
};

use super::paths::{DATABASE, bucket, transcript_of};

/// The chat of the process's work dir written most recently since it
/// started, with its transcript when there is one.
pub fn newest_link(
    roots: &[PathBuf],
    projects: Option<&Path>,
    p: &LiveProcess,
    claimed: &dyn Fn(&Path) -> bool,
) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let since = (p.start - 2) * 1000;
    let mut best: Option<(i64, String, Option<PathBuf>)> = None;
    for root in roots {
        let dir = root.join(bucket(&cwd));
        let Ok(chats) = std::fs::read_dir(&dir) else { continue };
        for chat in chats.flatten() {
            let db = chat.path().join(DATABASE);
            if !real_dir_within(root, &chat.path()) {
                continue;
            }
            let wal = chat.path().join(format!("{DATABASE}-wal"));
            let Some(m) = mtime_ms(&db).max(mtime_ms(&wal)).filter(|m| *m >= since) else { continue };
            let id = chat.file_name().to_string_lossy().into_owned();
            let transcript = projects.and_then(|pr| transcript_of(pr, &id));
            if claimed(transcript.as_deref().unwrap_or(&db)) {
                continue;
            }
            if best.as_ref().is_none_or(|(b, _, _)| m > *b) {
                best = Some((m, id, transcript));
            }
        }
    }
    let (_, external_id, path) = best?;
    Some(TranscriptLink { external_id, path, ..Default::default() })
}

/// Where the conversation stands, from the transcript's newest decisive line.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    turn_of(&last_lines(path, 64 * 1024))
}

fn turn_of(lines: &[String]) -> Option<TurnInfo> {
    lines.iter().rev().find_map(|l| {
        let v: Value = serde_json::from_str(l).ok()?;
        let turn = if v["type"] == "turn_ended" {
            Turn::IDLE
        } else if matches!(v["role"].as_str(), Some("user" | "assistant")) {
            Turn::Working
        } else {
            return None;
        };
        Some(TurnInfo::new(turn, None, Signal::Transcript))
    })
}

/// The transcript's last messages, for display.
pub fn tail(path: &Path, max: usize) -> Vec<TranscriptLine> {
    let mut out = Vec::new();
    for l in last_lines(path, 256 * 1024) {
        let Ok(v) = serde_json::from_str::<Value>(&l) else { continue };
        let role = match v["role"].as_str() {
            Some("user") => "user",
            Some("assistant") => "assistant",
            _ => continue,
        };
        for part in v.pointer("/message/content").and_then(Value::as_array).into_iter().flatten() {
            match part["type"].as_str() {
                Some("text") => {
                    let text = part["text"].as_str().unwrap_or_default();
                    // The prompt is wrapped in `<user_query>`; show what was asked.
                    let text = text
                        .split_once("<user_query>")
                        .and_then(|(_, q)| q.split_once("</user_query>"))
                        .map_or(text, |(q, _)| q)
                        .trim();
                    if !text.is_empty() {
                        out.push(TranscriptLine { at: None, role, text: clip(text, 4000) });
                    }
                }
                Some("tool_use") => {
                    let name = part["name"].as_str().unwrap_or("tool");
                    let summary = crate::model::PendingTool::from_input(name, &part["input"]).summary;
                    out.push(TranscriptLine {
                        at: None,
                        role: "tool",
                        text: clip(&format!("{name}({summary})"), 2000),
                    });
                }
                _ => {}
            }
        }
    }
    let skip = out.len().saturating_sub(max);
    out.split_off(skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_works_until_the_turn_ends() {
        let lines: Vec<String> = include_str!("fixtures/transcript.jsonl").lines().map(str::to_string).collect();
        assert_eq!(turn_of(&lines[..1]).unwrap().turn, Turn::Working);
        assert_eq!(turn_of(&lines[..3]).unwrap().turn, Turn::Working);
        assert_eq!(turn_of(&lines).unwrap().turn, Turn::IDLE);
        let mut cut = lines.clone();
        cut.push("{\"role\":\"user\",\"mess".into());
        assert_eq!(turn_of(&cut).unwrap().turn, Turn::IDLE, "a cut-off line says nothing");
    }

    #[test]
    fn the_tail_shows_the_prompt_the_replies_and_the_tools() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("c.jsonl");
        std::fs::write(&path, include_str!("fixtures/transcript.jsonl")).unwrap();
        let got: Vec<(&str, String)> = tail(&path, 10).into_iter().map(|l| (l.role, l.text)).collect();
        assert_eq!(
            got,
            vec![
                ("user", "fix the failing test".to_string()),
                ("assistant", "Running the tests.".into()),
                ("tool", "Shell(cargo test)".into()),
                ("assistant", "Fixed the off-by-one in parse; the tests pass.".into()),
            ]
        );
        assert_eq!(tail(&path, 1).len(), 1);
    }

    #[test]
    fn a_running_agent_is_linked_to_the_newest_chat_of_its_work_dir() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("chats");
        let projects = t.path().join("projects");
        let mine = root.join(bucket("/home/u/proj"));
        for (dir, id) in [(&mine, "c-old"), (&mine, "c-new"), (&root.join(bucket("/else")), "c-else")] {
            std::fs::create_dir_all(dir.join(id)).unwrap();
            std::fs::write(dir.join(id).join(DATABASE), "").unwrap();
        }
        let old = std::fs::File::options().write(true).open(mine.join("c-old").join(DATABASE)).unwrap();
        old.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600)).unwrap();
        std::fs::create_dir_all(projects.join("home-u-proj/agent-transcripts")).unwrap();
        let transcript = projects.join("home-u-proj/agent-transcripts/c-new.jsonl");
        std::fs::write(&transcript, "").unwrap();
        let now = chrono::Utc::now().timestamp();
        let p = LiveProcess { pids: vec![1], start: now - 60, cwd: Some("/home/u/proj".into()) };
        let roots = vec![root.clone()];
        let link = newest_link(&roots, Some(&projects), &p, &|_| false).unwrap();
        assert_eq!((link.external_id.as_str(), link.path.as_deref()), ("c-new", Some(transcript.as_path())));
        assert!(newest_link(&roots, Some(&projects), &p, &|q| q == transcript).is_none(), "claimed");
        let elsewhere = LiveProcess { cwd: Some("/home/u/none".into()), ..p };
        assert!(newest_link(&roots, None, &elsewhere, &|_| false).is_none());
    }
}
