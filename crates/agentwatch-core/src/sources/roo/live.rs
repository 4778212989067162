//! Roo Code, live: which task a running `roo` (the CLI, `apps/cli`) works
//! on, and where a task's turn stands.
//!
//! The CLI runs the extension with its global storage in
//! `~/.vscode-mock/global-storage` (`apps/cli/src/lib/task-history`
//! `getDefaultCliTaskStoragePath`), a task per folder of `tasks/`, and
//! takes its workspace from `--workspace`, else the directory it runs in
//! (`apps/cli/src/commands/cli/run.ts`). Each save of a task writes its
//! `ui_messages.json` and its `history_item.json`, whose `workspace` is
//! that folder (`src/core/task/Task.ts` `saveClineMessages`,
//! `src/core/task-persistence/TaskHistoryStore.ts`): a process is linked to
//! the task of its working directory written since it started, as the CLI
//! itself lists a workspace's tasks (`filterSessionsForWorkspace`).
//!
//! The turn is what the newest UI message is ([`turn`]).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::liveness::{Signal, Turn, WaitingFor};
use crate::model::PendingTool;
use crate::sources::cline::paths::{UI_MESSAGES, task_of};
use crate::sources::{LiveProcess, TranscriptLink, TurnInfo, mtime_ms, real_dir_within};

/// A task's record in the task history, beside its messages.
pub const HISTORY_ITEM: &str = "history_item.json";

/// The newest task in the CLI's `tasks` folder whose workspace is the
/// process's working directory, written at or after its start (2 s of
/// slack), and not `claimed` by another process.
pub fn newest_task(tasks: &Path, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_deref()?;
    let since = (p.start - 2) * 1000;
    let mut best: Option<(i64, PathBuf)> = None;
    for e in std::fs::read_dir(tasks).ok()?.flatten() {
        let dir = e.path();
        let file = dir.join(UI_MESSAGES);
        if !e.file_type().is_ok_and(|t| t.is_dir()) || !real_dir_within(tasks, &dir) || claimed(&file) {
            continue;
        }
        let Some(m) = mtime_ms(&file).filter(|m| *m >= since) else { continue };
        if best.as_ref().is_some_and(|(b, _)| *b >= m) {
            continue;
        }
        let Ok(bytes) = std::fs::read(dir.join(HISTORY_ITEM)) else { continue };
        let item: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if item["workspace"].as_str().is_some_and(|w| Path::new(w) == cwd) {
            best = Some((m, file));
        }
    }
    let (_, path) = best?;
    Some(TranscriptLink { external_id: task_of(&path)?, path: Some(path), ..Default::default() })
}

/// Where a task stands, from the newest message of its `ui_messages.json`
/// (`ClineMessage`, `packages/types/src/message.ts`), whose `ask`s Roo
/// itself sorts:
/// - `completion_result`, `api_req_failed`, `resume_completed_task`,
///   `mistake_limit_reached`, `auto_approval_max_req_reached` (its "idle"
///   asks) and `resume_task` (a task reopened): waiting for input;
/// - `followup`, a question to the person, until it `isAnswered`: waiting
///   for a question;
/// - `tool`, a file operation to approve, until it `isAnswered` (Roo marks
///   it so when it is approved, by the person or by its auto-approval:
///   `Task.handleWebviewAskResponse`): waiting for permission;
/// - `command` and `use_mcp_server`: working, as the permission they ask
///   for cannot be told from one Roo granted itself (it marks neither as
///   answered, and a command says nothing until its first output);
/// - `command_output` (a command runs), a partial ask (still streaming), or
///   any `say` (a prompt, a request, a reply, a tool's result): working.
///
/// `at` is the message's `ts`.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    let bytes = std::fs::read(path).ok()?;
    let messages: Vec<Value> = serde_json::from_slice(&bytes).ok()?;
    turn_of(&messages)
}

fn turn_of(messages: &[Value]) -> Option<TurnInfo> {
    let m = messages.last()?;
    let at = m["ts"].as_i64();
    let info =
        |turn: Turn, tool: Option<PendingTool>| Some(TurnInfo { tool, ..TurnInfo::new(turn, at, Signal::Transcript) });
    if m["type"] != "ask" || m["partial"].as_bool() == Some(true) {
        return info(Turn::Working, None);
    }
    let answered = m["isAnswered"].as_bool() == Some(true);
    let text: Value = m["text"].as_str().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    match m["ask"].as_str()? {
        "completion_result"
        | "api_req_failed"
        | "resume_completed_task"
        | "mistake_limit_reached"
        | "auto_approval_max_req_reached"
        | "resume_task" => info(Turn::IDLE, None),
        "followup" if !answered => {
            let question = serde_json::json!({ "question": text["question"] });
            info(Turn::Waiting(WaitingFor::Question), Some(PendingTool::from_input("ask_followup_question", &question)))
        }
        "tool" if !answered => {
            let name = text["tool"].as_str().unwrap_or("tool");
            info(Turn::Waiting(WaitingFor::Permission), Some(PendingTool::from_input(name, &text)))
        }
        _ => info(Turn::Working, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TASK: &str = "019a7c2e-5b41-7d0a-8f3e-2c6b9d1a4e70";

    fn fixture(file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sources/roo/fixtures/tasks").join(TASK).join(file)
    }

    /// The messages a task ends with at each stage, as `Task.ask` and
    /// `Task.say` add them (`src/core/task/Task.ts`; `text` of a `tool` ask
    /// is `ClineSayTool` JSON, of a `followup` `FollowUpData` JSON).
    #[test]
    fn turns_from_the_newest_message() {
        let at = |m: Value| turn_of(&[json!({"ts": 1, "type": "say", "say": "text", "text": "go"}), m]).unwrap();
        let state = |m: Value| {
            let t = at(m);
            (t.turn, t.tool.map(|p| (p.name, p.summary)))
        };
        // The fixture's task has a request under way.
        let t = turn(&fixture(UI_MESSAGES)).unwrap();
        assert_eq!((t.turn, t.at, t.signal), (Turn::Working, Some(1770192030000), Signal::Transcript));

        let done = at(json!({"ts": 1770200000000_i64, "type": "ask", "ask": "completion_result", "text": ""}));
        assert_eq!((done.turn, done.at), (Turn::IDLE, Some(1770200000000)));
        for ask in ["api_req_failed", "resume_task", "resume_completed_task", "mistake_limit_reached"] {
            assert_eq!(state(json!({"ts": 2, "type": "ask", "ask": ask})), (Turn::IDLE, None), "{ask}");
        }
        let followup = json!({"ts": 3, "type": "ask", "ask": "followup",
            "text": "{\"question\":\"Which date format?\",\"suggest\":[{\"answer\":\"ISO 8601\"}]}"});
        assert_eq!(
            state(followup.clone()),
            (Turn::Waiting(WaitingFor::Question), Some(("ask_followup_question".into(), "Which date format?".into())))
        );
        let mut answered = followup;
        answered["isAnswered"] = json!(true);
        assert_eq!(state(answered), (Turn::Working, None));
        let edit = json!({"ts": 4, "type": "ask", "ask": "tool",
            "text": "{\"tool\":\"editedExistingFile\",\"path\":\"src/dates.ts\",\"diff\":\"@@\"}"});
        assert_eq!(
            state(edit.clone()),
            (Turn::Waiting(WaitingFor::Permission), Some(("editedExistingFile".into(), "src/dates.ts".into())))
        );
        let mut approved = edit.clone();
        approved["isAnswered"] = json!(true);
        assert_eq!(state(approved), (Turn::Working, None), "approved, by the person or Roo's auto-approval");
        let mut streaming = edit;
        streaming["partial"] = json!(true);
        assert_eq!(state(streaming), (Turn::Working, None), "the ask still streaming");
        for ask in ["command", "use_mcp_server", "command_output"] {
            assert_eq!(
                state(json!({"ts": 5, "type": "ask", "ask": ask, "text": "npm test"})),
                (Turn::Working, None),
                "{ask}"
            );
        }
        assert_eq!(
            state(json!({"ts": 6, "type": "say", "say": "user_feedback", "text": "yes"})),
            (Turn::Working, None)
        );
        assert_eq!(turn_of(&[]), None);
        assert_eq!(turn_of(&[json!({"ts": 7, "type": "ask", "ask": 3})]), None, "not an ask Roo writes");
        assert_eq!(turn(Path::new("/nonexistent/ui_messages.json")), None);
    }

    #[test]
    fn links_the_task_of_its_workspace_written_since_it_started() {
        let t = tempfile::tempdir().unwrap();
        let tasks = t.path().join(".vscode-mock/global-storage/tasks");
        let task = |id: &str, workspace: &str| {
            let d = tasks.join(id);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(UI_MESSAGES), "[]").unwrap();
            std::fs::write(
                d.join(HISTORY_ITEM),
                json!({"id": id, "ts": 1, "task": "t", "workspace": workspace}).to_string(),
            )
            .unwrap();
            d.join(UI_MESSAGES)
        };
        let old = task("old", "/home/u/app");
        let older = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&old).unwrap().set_modified(older).unwrap();
        let new = task("new", "/home/u/app");
        task("other", "/home/u/api");
        let p = |cwd: &str, ago: i64| LiveProcess {
            pids: vec![1],
            start: chrono::Utc::now().timestamp() - ago,
            cwd: Some(cwd.into()),
        };
        let l = newest_task(&tasks, &p("/home/u/app", 60), &|_| false).unwrap();
        assert_eq!((l.external_id.as_str(), l.path.as_deref()), ("new", Some(new.as_path())));
        assert_eq!(newest_task(&tasks, &p("/home/u/app", 60), &|f| f == new), None, "claimed; the other is old");
        assert_eq!(newest_task(&tasks, &p("/home/u/app", -60), &|_| false), None, "started after both");
        assert_eq!(newest_task(&tasks, &p("/home/u/docs", 60), &|_| false), None, "no task of its workspace");
        assert_eq!(newest_task(&tasks, &p("/home/u/api", 60), &|_| false).unwrap().external_id, "other");
        std::fs::remove_file(tasks.join("other").join(HISTORY_ITEM)).unwrap();
        assert_eq!(newest_task(&tasks, &p("/home/u/api", 60), &|_| false), None, "no workspace known");
    }
}
