//! Gemini CLI, live: which chat a running `gemini` writes, and where its
//! conversation stands.
//!
//! A chat file (0.61) is JSON lines: a header (`sessionId`, `startTime`,
//! `kind`), then message records (`id`, `timestamp`, `type`: `user`,
//! `gemini`, `info`, …) appended again under the same id when they change,
//! and `{"$set": …}` lines. It is created when the CLI starts, before any
//! prompt. Nothing is written while a reply streams or while a permission
//! prompt is open: the hooks tell that (see `hooks.rs`).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::paths::project_slug;
use crate::liveness::Turn;
use crate::sources::{LineTurn, LiveProcess, TranscriptLink, TurnInfo, parse_ts, plainly_within, real_dir_within};

/// The first user message of every chat, which is no prompt.
const CONTEXT: &str = "<session_context>";
const CONTEXT_END: &str = "</session_context>";

/// A chat file's header: (session id, start time ms).
fn header(path: &Path) -> Option<(String, Option<i64>)> {
    let f = std::fs::File::open(path).ok()?;
    let mut first = String::new();
    BufReader::new(f.take(64 * 1024)).read_line(&mut first).ok()?;
    let v: Value = serde_json::from_str(&first).ok()?;
    let id = v["sessionId"].as_str().filter(|s| !s.is_empty())?.to_string();
    let start = v["startTime"].as_str().and_then(parse_ts).map(|t| t.timestamp_millis());
    Some((id, start))
}

fn is_chat(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.starts_with("session-") && name.ends_with(".jsonl")
}

/// Whether `path` lies in a project's `chats` folder, `~/.gemini/tmp/<project>/chats/**`
/// (by plain names: a path from a hook must not climb out).
pub fn in_chats(gemini: &Path, path: &Path) -> bool {
    let root = gemini.join("tmp");
    path.strip_prefix(&root).is_ok_and(|r| r.components().nth(1).is_some_and(|c| c.as_os_str() == "chats"))
        && plainly_within(&[root], path)
}

/// The session of a chat file, `~/.gemini/tmp/<project>/chats/**/*.jsonl`:
/// its header's, else (a header not written yet) its name's.
pub fn session_of(gemini: &Path, path: &Path) -> Option<String> {
    if !in_chats(gemini, path) || path.extension().is_none_or(|e| e != "jsonl") {
        return None;
    }
    match header(path) {
        Some((id, _)) => Some(id),
        // Not until its first line is written whole: the parser names the
        // session by that line's `sessionId`, and a link made from the
        // file's name a moment before would name another session.
        None if first_line_written(path) => path.file_stem().map(|s| s.to_string_lossy().into_owned()),
        None => None,
    }
}

/// Whether a file's first line is complete (ends with its newline).
fn first_line_written(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else { return false };
    let mut first = Vec::new();
    BufReader::new(f.take(64 * 1024)).read_until(b'\n', &mut first).is_ok() && first.ends_with(b"\n")
}

/// The chat a process started: the newest one in its project's folder whose
/// header says it began after the process did. (Its modification time says
/// nothing: a new CLI writes a summary into the previous chat.)
pub fn newest_link(gemini: &Path, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let root = gemini.join("tmp");
    let dir = root.join(project_slug(gemini, &cwd)).join("chats");
    if !real_dir_within(&root, &dir) {
        return None;
    }
    let since = (p.start - 2) * 1000;
    let mut best: Option<(i64, PathBuf, String)> = None;
    for e in std::fs::read_dir(&dir).ok()?.flatten() {
        let path = e.path();
        if !is_chat(&path) || !e.file_type().is_ok_and(|t| t.is_file()) || claimed(&path) {
            continue;
        }
        let Some((id, Some(start))) = header(&path) else { continue };
        if start >= since && best.as_ref().is_none_or(|(b, _, _)| start > *b) {
            best = Some((start, path, id));
        }
    }
    let (_, path, id) = best?;
    Some(TranscriptLink { external_id: id, path: Some(path), ..Default::default() })
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(""),
        _ => String::new(),
    }
}

/// What one message record says about the turn.
fn message_turn(v: &Value) -> Option<Turn> {
    match v["type"].as_str()? {
        "user" => {
            let has_response =
                v["content"].as_array().is_some_and(|a| a.iter().any(|p| p.get("functionResponse").is_some()));
            let text = text_of(&v["content"]);
            // The context every chat starts with is no prompt; a prompt may follow it.
            let prompt = match text.trim_start().strip_prefix(CONTEXT) {
                Some(rest) => rest.split_once(CONTEXT_END).map_or("", |(_, after)| after),
                None => &text,
            };
            (has_response || !prompt.trim().is_empty()).then_some(Turn::Working)
        }
        "gemini" => {
            // Tool calls are recorded when they finish; a reply with no text
            // and no recorded calls is a call still to run (or to approve).
            if v.get("toolCalls").and_then(Value::as_array).is_some_and(|c| !c.is_empty()) {
                let cancelled = v["toolCalls"].as_array().is_some_and(|c| c.iter().all(|t| t["status"] == "cancelled"));
                return Some(if cancelled { Turn::IDLE } else { Turn::Working });
            }
            let calls = v["content"].as_array().is_some_and(|a| a.iter().any(|p| p.get("functionCall").is_some()));
            if calls || text_of(&v["content"]).trim().is_empty() { Some(Turn::Working) } else { Some(Turn::IDLE) }
        }
        // "Request cancelled.": a denied tool, a stopped reply.
        "info" if text_of(&v["content"]).contains("cancelled") => Some(Turn::IDLE),
        _ => None,
    }
}

fn line_turn(v: &Value) -> Option<LineTurn> {
    if let Some(set) = v.get("$set") {
        // A rewritten message list: its last message says where things stand.
        let last = set.get("messages")?.as_array()?.iter().rev().find_map(message_turn)?;
        return LineTurn::turn(last);
    }
    LineTurn::turn(message_turn(v)?)
}

/// Where the conversation stands, from the newest decisive record.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    TurnInfo::from_tail(path, line_turn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cuts of a chat Gemini CLI 0.61 wrote in tests/agents: a plain turn,
    /// an approved and a denied command, the history rewritten after the
    /// deny, a question, a reply stopped with Esc.
    #[test]
    fn turns_in_a_real_chat() {
        let lines: Vec<String> = include_str!("fixtures/turns-0.61.0.jsonl").lines().map(str::to_string).collect();
        let at = |n: usize| TurnInfo::from_lines(&lines[..=n], line_turn).map(|t| t.turn);
        let cases: &[(usize, Option<Turn>)] = &[
            (1, None),                 // started: only the context
            (2, Some(Turn::Working)),  // a prompt
            (4, Some(Turn::IDLE)),     // the reply
            (8, Some(Turn::Working)),  // a call to approve (or run)
            (11, Some(Turn::Working)), // approved: its result
            (13, Some(Turn::IDLE)),
            (17, Some(Turn::Working)),
            (20, Some(Turn::IDLE)),    // denied: "Request cancelled."
            (34, Some(Turn::IDLE)),    // the history re-appended and replaced
            (37, Some(Turn::Working)), // ask_user pending (hooks say "question")
            (42, Some(Turn::IDLE)),
            (48, Some(Turn::Working)),
            (50, Some(Turn::IDLE)), // Esc while streaming
            (62, Some(Turn::IDLE)),
        ];
        for (n, want) in cases {
            assert_eq!(at(*n), *want, "after line {n}");
        }
    }

    #[test]
    fn links_the_chat_started_after_the_process_not_an_older_one_written_since() {
        let t = tempfile::tempdir().unwrap();
        let g = t.path().join(".gemini");
        let chats = g.join("tmp/app/chats");
        std::fs::create_dir_all(&chats).unwrap();
        let now = chrono::Utc::now();
        let head = |id: &str, start: chrono::DateTime<chrono::Utc>| {
            format!(
                "{}\n",
                serde_json::json!({"sessionId": id, "projectHash": "x", "startTime": start.to_rfc3339(), "kind": "main"})
            )
        };
        // The previous session's file is written after the new start (its summary).
        std::fs::write(chats.join("session-new.jsonl"), head("new-id", now)).unwrap();
        std::fs::write(chats.join("session-old.jsonl"), head("old-id", now - chrono::Duration::hours(1))).unwrap();
        let p = LiveProcess { pids: vec![1], start: now.timestamp() - 1, cwd: Some("/home/u/app".into()) };
        let l = newest_link(&g, &p, &|_| false).unwrap();
        assert_eq!(l.external_id, "new-id");
        assert_eq!(session_of(&g, l.path.as_deref().unwrap()), Some("new-id".into()));
        assert_eq!(newest_link(&g, &p, &|q| q.ends_with("session-new.jsonl")), None);
        assert_eq!(session_of(&g, &g.join("tmp/app/chats/../../../x/session-a.jsonl")), None);
        // Created, its header not written whole yet: no session, not the file's name.
        let fresh = chats.join("session-2026-12-07T03-00-fresh.jsonl");
        let header = head("fresh-id", now);
        std::fs::write(&fresh, &header[..30]).unwrap();
        assert_eq!(session_of(&g, &fresh), None);
        std::fs::write(&fresh, &header).unwrap();
        assert_eq!(session_of(&g, &fresh).as_deref(), Some("fresh-id"));
    }
}
