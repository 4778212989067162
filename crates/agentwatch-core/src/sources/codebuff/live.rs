//! Codebuff, live: which chat a running `codebuff` writes. The CLI keeps its
//! chats under `projects/<its project root's folder name>/chats/<chat id>/`
//! (`cli/src/project-files.ts`: the project root is the directory it runs
//! in) and rewrites `chat-messages.json` after every turn; a process is
//! linked to the chat of its directory's name written since it started (a
//! resumed chat too, as it is rewritten). Where its turn stands: [`turn`].

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::liveness::{Signal, Turn, WaitingFor};
use crate::model::PendingTool;
use crate::sources::{LiveProcess, TranscriptLink, TurnInfo, mtime_ms, real_dir_within};

use super::paths;

/// The newest chat of the process's project, in any of `projects`, written
/// at or after its start (2 s of slack) and not `claimed` by another process.
pub fn newest_chat(projects: &[PathBuf], p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let name = p.cwd.as_ref()?.file_name()?.to_owned();
    let since = (p.start - 2) * 1000;
    let mut best: Option<(i64, PathBuf)> = None;
    for root in projects {
        let chats = root.join(&name).join("chats");
        if !real_dir_within(root, &chats) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&chats) else { continue };
        for e in entries.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let f = e.path().join(paths::MESSAGES);
            if !std::fs::symlink_metadata(&f).is_ok_and(|m| m.is_file()) || claimed(&f) {
                continue;
            }
            let Some(m) = mtime_ms(&f).filter(|m| *m >= since) else { continue };
            if best.as_ref().is_none_or(|(b, _)| m > *b) {
                best = Some((m, f));
            }
        }
    }
    let (_, path) = best?;
    Some(TranscriptLink { external_id: paths::session_of(&path), path: Some(path), ..Default::default() })
}

/// The run state the SDK gives a snapshot of a run still in flight
/// (`sdk/src/run.ts`, `STATE_SNAPSHOT_INTERRUPTION_MESSAGE`, the `output`
/// of `getCancelledRunState`): what a chat restored from it would say.
pub const IN_FLIGHT: &str = "The session ended before this response completed. Partial progress has been preserved.";

/// Where the chat of `path` (its `chat-messages.json`) stands, from its
/// newest response and the `run-state.json` written beside it
/// (`cli/src/utils/run-state-storage.ts` `saveChatState`):
/// - the newest streamed response (`variant` `ai`, an id `ai-…`) marked
///   `isComplete` (its turn over, or interrupted), or an `error` message
///   after it: waiting for input;
/// - a response with a pending `ask_user` tool (no `output` yet): the
///   agent asked a question;
/// - an empty response (saved as the turn starts), or one saved with an
///   in-flight snapshot's run state ([`IN_FLIGHT`], written about every
///   5 s while a run streams): working;
/// - any other response: its turn's final save (written as `client.run`
///   returns, before the response is marked complete): waiting for input;
/// - a prompt with no response after it: working.
///
/// Releases that save only at the end of a turn never show it under way.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    let bytes = std::fs::read(path).ok()?;
    let messages: Vec<Value> = serde_json::from_slice(&bytes).ok()?;
    let run_state = || -> Option<Value> {
        let bytes = std::fs::read(path.with_file_name(super::paths::RUN_STATE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let turn = turn_of(&messages, run_state)?;
    Some(TurnInfo { tool: turn.1, ..TurnInfo::new(turn.0, None, Signal::Transcript) })
}

/// The turn the messages say, and the question it waits on; `run_state`
/// reads the chat's run state when it is needed.
fn turn_of(messages: &[Value], run_state: impl FnOnce() -> Option<Value>) -> Option<(Turn, Option<PendingTool>)> {
    for m in messages.iter().rev() {
        let id = m["id"].as_str().unwrap_or_default();
        let Some(variant) = m["variant"].as_str() else { continue };
        match variant {
            "error" => return Some((Turn::IDLE, None)),
            "user" => return Some((Turn::Working, None)),
            "ai" if id.starts_with("ai-") => {
                if m["isComplete"].as_bool() == Some(true) {
                    return Some((Turn::IDLE, None));
                }
                let blocks = m["blocks"].as_array().map(Vec::as_slice).unwrap_or_default();
                if let Some(q) = pending_question(blocks) {
                    return Some((Turn::Waiting(WaitingFor::Question), Some(q)));
                }
                let empty = blocks.is_empty() && m["content"].as_str().unwrap_or_default().is_empty();
                let in_flight = || {
                    run_state().is_some_and(|r| {
                        r["output"]["type"] == "error" && r["output"]["message"].as_str() == Some(IN_FLIGHT)
                    })
                };
                return Some((if empty || in_flight() { Turn::Working } else { Turn::IDLE }, None));
            }
            // Mode dividers, sub-agents' and shell commands' messages.
            _ => continue,
        }
    }
    None
}

/// An `ask_user` tool call not answered yet, among `blocks` and the blocks
/// of the agents they hold: its first question.
fn pending_question(blocks: &[Value]) -> Option<PendingTool> {
    blocks.iter().rev().find_map(|b| match b["type"].as_str()? {
        "tool" if b["toolName"] == "ask_user" && b.get("output").is_none_or(Value::is_null) => {
            let question = &b["input"]["questions"][0]["question"];
            Some(PendingTool::from_input("ask_user", &serde_json::json!({ "question": question })))
        }
        "agent" => pending_question(b["blocks"].as_array()?),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_the_chat_of_its_directory_written_since_it_started() {
        let t = tempfile::tempdir().unwrap();
        let projects = t.path().join("manicode/projects");
        let chat = |project: &str, id: &str| {
            let d = projects.join(project).join("chats").join(id);
            std::fs::create_dir_all(&d).unwrap();
            let f = d.join(paths::MESSAGES);
            std::fs::write(&f, "[]").unwrap();
            f
        };
        let old = chat("webapp", "2026-01-02T03-04-05.000Z");
        let older = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&old).unwrap().set_modified(older).unwrap();
        let new = chat("webapp", "2026-12-07T04-00-00.000Z");
        chat("api", "2026-12-07T04-00-01.000Z");
        let p = |cwd: &str, ago: i64| LiveProcess {
            pids: vec![1],
            start: chrono::Utc::now().timestamp() - ago,
            cwd: Some(cwd.into()),
        };
        let roots = [projects.clone()];
        let l = newest_chat(&roots, &p("/home/u/src/webapp", 60), &|_| false).unwrap();
        assert_eq!(l.external_id, "manicode/webapp/2026-12-07T04-00-00.000Z");
        assert_eq!(l.path.as_deref(), Some(new.as_path()));
        assert_eq!(newest_chat(&roots, &p("/home/u/src/webapp", 60), &|f| f == new), None, "claimed; the other is old");
        assert_eq!(newest_chat(&roots, &p("/home/u/src/webapp", -60), &|_| false), None, "started after both");
        assert_eq!(newest_chat(&roots, &p("/home/u/src/docs", 60), &|_| false), None);
    }

    fn stage(name: &str) -> (std::path::PathBuf, Option<TurnInfo>) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sources/codebuff/fixtures/turns").join(name);
        let path = dir.join(paths::MESSAGES);
        let t = turn(&path);
        (path, t)
    }

    #[test]
    fn turns_from_the_newest_response_and_its_run_state() {
        let at = |name: &str| stage(name).1.map(|t| (t.turn, t.tool.map(|p| p.summary)));
        assert_eq!(at("started"), Some((Turn::Working, None)), "saved as the turn starts: an empty response");
        assert_eq!(at("streaming"), Some((Turn::Working, None)), "an in-flight snapshot");
        assert_eq!(
            at("asking"),
            Some((Turn::Waiting(WaitingFor::Question), Some("Should /healthz check the database too?".into()))),
            "ask_user without its answer"
        );
        assert_eq!(at("finished"), Some((Turn::IDLE, None)), "the final save: the run's own output");
        assert_eq!(at("interrupted"), Some((Turn::IDLE, None)), "marked complete, though the snapshot was in flight");
        let t = stage("started").1.unwrap();
        assert_eq!((t.signal, t.at), (Signal::Transcript, None), "its time is the file's");
        // The usage fixture ends with an error after its last response.
        let usage = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sources/codebuff/fixtures/chat-messages.json");
        assert_eq!(turn(&usage).map(|t| t.turn), Some(Turn::IDLE));
    }

    #[test]
    fn a_response_without_its_run_state_is_a_finished_turn_unless_empty() {
        let shell = json!({"id": "ai-1-a", "variant": "ai", "content": "", "blocks": []});
        let said =
            json!({"id": "ai-1-a", "variant": "ai", "content": "", "blocks": [{"type": "text", "content": "Done."}]});
        let prompt = json!({"id": "user-1", "variant": "user", "content": "go"});
        let none = || None;
        assert_eq!(turn_of(&[prompt.clone(), shell], none), Some((Turn::Working, None)));
        assert_eq!(turn_of(&[prompt.clone(), said.clone()], none), Some((Turn::IDLE, None)));
        let snapshot = || Some(json!({"output": {"type": "error", "message": IN_FLIGHT}}));
        assert_eq!(turn_of(&[prompt.clone(), said.clone()], snapshot), Some((Turn::Working, None)));
        let failed = || Some(json!({"output": {"type": "error", "message": "Out of credits"}}));
        assert_eq!(turn_of(&[prompt.clone(), said.clone()], failed), Some((Turn::IDLE, None)), "a run that failed");
        assert_eq!(turn_of(std::slice::from_ref(&prompt), none), Some((Turn::Working, None)), "a prompt alone");
        // A sub-agent's question, inside its agent block.
        let nested = json!({"id": "ai-2-b", "variant": "ai", "content": "", "blocks": [{"type": "agent", "agentId": "a1",
            "blocks": [{"type": "tool", "toolCallId": "c", "toolName": "ask_user", "input": {"questions": [{"question": "Which port?"}]}}]}]});
        let q = turn_of(&[prompt.clone(), nested], none).unwrap();
        assert_eq!((q.0, q.1.map(|p| p.summary)), (Turn::Waiting(WaitingFor::Question), Some("Which port?".into())));
        // An answered question is no longer pending.
        let answered = json!({"id": "ai-3-c", "variant": "ai", "content": "", "blocks": [{"type": "tool", "toolCallId": "c",
            "toolName": "ask_user", "input": {"questions": [{"question": "Which port?"}]}, "output": "8080"}]});
        assert_eq!(turn_of(&[prompt, answered], none), Some((Turn::IDLE, None)));
        // Nothing a turn is made of.
        assert_eq!(
            turn_of(&[json!({"id": "divider-1", "variant": "ai", "blocks": [{"type": "mode-divider"}]})], none),
            None
        );
        assert_eq!(turn(Path::new("/nonexistent/chat-messages.json")), None);
    }
}
