//! Crush, live: which session a running `crush` works in, and where its
//! turn stands. The process's working directory gives its project's
//! database (the data directory `projects.json` lists for it, else
//! `<cwd>/.crush/crush.db`); it is linked to the top-level session of that
//! database updated most recently since it started (`updated_at` moves at
//! every step), and the database is its transcript.
//!
//! The turn is the newest prompt or assistant message of the session
//! (`internal/agent/agent.go`, `Run`): a prompt is a user message; each step
//! of a turn is an assistant message, created as the step begins and given
//! a `finish` part when it ends: `tool_use` when its tool calls' results go
//! back to the model in a next step, else the end of the turn (`end_turn`,
//! also for a permission denied or a hook that halts it, `max_tokens`,
//! `content_filter`, `canceled`, `error`, `unknown`).

use std::path::Path;

use serde_json::Value;

use crate::liveness::Turn;
use crate::sources::storage::sqlite::{Db, newest_id};
use crate::sources::{LiveProcess, TranscriptLink, TurnInfo};

use super::paths::{self, Project};

/// The newest top-level session of the process's project updated since it
/// started (2 s of slack).
pub fn newest_session(projects: &[Project], p: &LiveProcess) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_deref()?;
    let db = paths::data_dir_of(projects, cwd).join(paths::DATABASE);
    newest_in(&db, p.start)
}

fn newest_in(db: &Path, start: i64) -> Option<TranscriptLink> {
    if !std::fs::symlink_metadata(db).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let since = (start - 2) * 1000;
    let id = newest_id(
        &[db.to_path_buf()],
        "SELECT id, updated_at FROM sessions WHERE parent_session_id IS NULL OR parent_session_id = ''",
        &[],
        &|r| {
            let at = super::parser::time(r.get::<_, i64>(1).ok()?)?.timestamp_millis();
            (at >= since).then(|| Some((at, r.get(0).ok()?)))?
        },
    )?;
    Some(TranscriptLink { external_id: id, path: Some(db.to_path_buf()), ..Default::default() })
}

/// Where the conversation of `session` in the database `db` stands, from
/// its newest messages (read-only, through `storage::sqlite`):
/// - a prompt (a user message with text or an attachment) newer than any
///   assistant message: working, the reply not begun yet;
/// - an assistant message without `finish` (streaming, or its tools run, a
///   permission prompt among them: Crush keeps those in memory only) or
///   finished `tool_use` (the next step follows): working;
/// - one finished otherwise: the turn is over, waiting for input.
///
/// A user message holding only a `shell_command` is a command the person
/// ran from the prompt (`internal/shell/persist_message.go`): not a turn.
/// Tool results (`tool` messages) come within a step and decide nothing.
/// `at` is when the deciding message was last written.
pub fn turn(db: &Path, session: &str) -> Option<TurnInfo> {
    let db = Db::open(db).ok()?;
    let mut rows: Vec<(String, String, i64, i64)> = Vec::new();
    db.each(
        "SELECT role, parts, created_at, updated_at FROM messages
         WHERE session_id = ?1 AND role IN ('user', 'assistant')
         ORDER BY created_at DESC, rowid DESC LIMIT 64",
        &[&session],
        &mut |r| {
            if let (Ok(role), Ok(parts), Ok(created), Ok(updated)) = (r.get(0), r.get(1), r.get(2), r.get(3)) {
                rows.push((role, parts, created, updated));
            }
        },
    )
    .ok()?;
    rows.iter().find_map(|(role, parts, created, updated)| {
        let parts: Vec<Value> = serde_json::from_str(parts).ok()?;
        let ms = |t: i64| super::parser::time(t).map(|t| t.timestamp_millis());
        let kind = |p: &Value| p["type"].as_str().unwrap_or_default().to_string();
        match role.as_str() {
            "user" => parts
                .iter()
                .any(|p| !matches!(kind(p).as_str(), "finish" | "shell_command"))
                .then(|| TurnInfo::new(Turn::Working, ms(*created), crate::liveness::Signal::Transcript)),
            _ => {
                let finish = parts.iter().find(|p| kind(p) == "finish").map(|p| p["data"]["reason"].as_str());
                let turn = match finish {
                    None | Some(Some("tool_use")) => Turn::Working,
                    Some(_) => Turn::IDLE,
                };
                Some(TurnInfo::new(turn, ms(*updated), crate::liveness::Signal::Transcript))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveness::Signal;

    #[test]
    fn links_the_session_updated_in_its_project_since_it_started() {
        let t = tempfile::tempdir().unwrap();
        let proj = t.path().join("proj");
        std::fs::create_dir_all(proj.join(".crush")).unwrap();
        let c = rusqlite::Connection::open(proj.join(".crush/crush.db")).unwrap();
        c.execute_batch(include_str!("fixtures/crush.sql")).unwrap();
        let now = chrono::Utc::now().timestamp();
        for (id, parent, at) in [("old", None, now - 3600), ("new", None, now), ("sub", Some("new"), now + 1)] {
            c.execute(
                "INSERT INTO sessions (id, parent_session_id, title, updated_at, created_at) VALUES (?1, ?2, 't', ?3, ?3)",
                rusqlite::params![id, parent, at],
            )
            .unwrap();
        }
        let p = |cwd: &Path, ago: i64| LiveProcess { pids: vec![1], start: now - ago, cwd: Some(cwd.into()) };
        let l = newest_session(&[], &p(&proj, 30)).unwrap();
        assert_eq!(l.external_id, "new", "the newest top-level session, not its sub-agent's");
        assert_eq!(l.path, Some(proj.join(".crush/crush.db")), "its database is its transcript");
        assert_eq!(newest_session(&[], &p(&proj, -60)), None, "nothing updated since it started");
        assert_eq!(newest_session(&[], &p(&t.path().join("other"), 30)), None);
        // A data directory projects.json names elsewhere.
        let listed = [Project { path: t.path().join("app"), data_dir: proj.join(".crush") }];
        assert_eq!(newest_session(&listed, &p(&t.path().join("app"), 30)).unwrap().external_id, "new");
    }

    /// The messages of one turn as Crush's agent loop writes them
    /// (`internal/agent/agent.go` `Run`, `internal/message/message.go`
    /// `Create`/`Update`: parts wrapped as `{"type", "data"}`, a non-assistant
    /// message created with a `finish` of reason `stop`, times in seconds).
    #[test]
    fn turns_from_the_newest_prompt_and_step() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("crush.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(include_str!("fixtures/crush.sql")).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        const S: &str = "5b0c7e2a-4f1d-4c3e-9a51-2f7d0c1e0001";
        let at = |secs: i64| Some(secs * 1000);
        // The fixture's session ended its turn (msg-a4, end_turn), and a
        // session whose one assistant message has no finish yet is mid-step.
        assert_eq!(turn(&path, S), Some(TurnInfo::new(Turn::IDLE, at(1777601400), Signal::Transcript)));
        let broken = turn(&path, "f9e8d7c6-0000-4000-8000-000000000005").unwrap();
        assert_eq!((broken.turn, broken.at), (Turn::Working, at(1777720000)));
        assert_eq!(turn(&path, "no-such-session"), None);
        assert_eq!(turn(&t.path().join("missing.db"), S), None);

        let add = |id: &str, role: &str, parts: &str, created: i64| {
            c.execute(
                "INSERT INTO messages (id, session_id, role, parts, model, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'gpt-5', ?5, ?5)",
                rusqlite::params![id, S, role, parts, created],
            )
            .unwrap();
        };
        let update = |id: &str, parts: &str, updated: i64| {
            c.execute(
                "UPDATE messages SET parts = ?2, updated_at = ?3 WHERE id = ?1",
                rusqlite::params![id, parts, updated],
            )
            .unwrap();
        };
        let now = |want: Turn, when: i64, why: &str| {
            let got = turn(&path, S).unwrap();
            assert_eq!((got.turn, got.at, got.signal), (want, at(when), Signal::Transcript), "{why}");
        };
        const STOP: &str = r#"{"type":"finish","data":{"reason":"stop","time":0}}"#;
        const CALL: &str = r#"{"type":"tool_call","data":{"id":"call_1","name":"bash","input":"{\"command\":\"make\"}","provider_executed":false,"finished":true}}"#;
        let finish =
            |reason: &str, time: i64| format!(r#"{{"type":"finish","data":{{"reason":"{reason}","time":{time}}}}}"#);

        // A command the person ran from the prompt is no turn.
        add(
            "sh-1",
            "user",
            &format!(r#"[{{"type":"shell_command","data":{{"command":"ls","output":"a\n","exit_code":0}}}},{STOP}]"#),
            1777700000,
        );
        now(Turn::IDLE, 1777601400, "a shell command after the turn ended");
        // A prompt: working before the first step begins.
        add("u-1", "user", &format!(r#"[{{"type":"text","data":{{"text":"build it"}}}},{STOP}]"#), 1777700010);
        now(Turn::Working, 1777700010, "a prompt");
        // The first step: created empty, then a tool call (it runs, or waits
        // for a permission Crush keeps in memory).
        add("a-1", "assistant", "[]", 1777700011);
        now(Turn::Working, 1777700011, "a step begun");
        update("a-1", &format!("[{CALL}]"), 1777700012);
        now(Turn::Working, 1777700012, "its tool runs");
        // Its result, then the step finishes for the next one: same second.
        add(
            "t-1",
            "tool",
            &format!(
                r#"[{{"type":"tool_result","data":{{"tool_call_id":"call_1","name":"bash","content":"ok"}}}},{STOP}]"#
            ),
            1777700020,
        );
        update("a-1", &format!("[{CALL},{}]", finish("tool_use", 1777700020)), 1777700020);
        now(Turn::Working, 1777700020, "tool_use: the next step follows");
        add("a-2", "assistant", "[]", 1777700020);
        now(Turn::Working, 1777700020, "the next step");
        update(
            "a-2",
            &format!(r#"[{{"type":"text","data":{{"text":"Built."}}}},{}]"#, finish("end_turn", 1777700030)),
            1777700030,
        );
        now(Turn::IDLE, 1777700030, "end_turn");

        // A turn canceled while its tool ran: the tool's error result is
        // written after the step's last update, then the step is finished.
        add("u-2", "user", &format!(r#"[{{"type":"text","data":{{"text":"and test it"}}}},{STOP}]"#), 1777700100);
        // (its step created in the same second as the prompt: rowid order)
        add("a-3", "assistant", &format!("[{CALL}]"), 1777700100);
        add(
            "t-2",
            "tool",
            &format!(
                r#"[{{"type":"tool_result","data":{{"tool_call_id":"call_1","name":"bash","content":"Error: user cancelled assistant tool calling","is_error":true}}}},{STOP}]"#
            ),
            1777700105,
        );
        update("a-3", &format!("[{CALL},{}]", finish("canceled", 1777700105)), 1777700105);
        now(Turn::IDLE, 1777700105, "canceled");
        // A provider's error ends the turn too; a step whose parts are not
        // JSON is skipped.
        add("u-3", "user", &format!(r#"[{{"type":"text","data":{{"text":"again"}}}},{STOP}]"#), 1777700200);
        add("a-4", "assistant", &format!("[{}]", finish("error", 1777700201)), 1777700201);
        now(Turn::IDLE, 1777700201, "error");
        add("a-5", "assistant", "not json", 1777700300);
        now(Turn::IDLE, 1777700201, "a malformed row decides nothing");
        // Another session's messages are not this one's.
        c.execute(
            "INSERT INTO messages (id, session_id, role, parts, created_at, updated_at) VALUES ('o-1', '7d9e1f30-2b6a-4d8c-8e02-6a1b3c4d0002', 'user', '[{\"type\":\"text\",\"data\":{\"text\":\"x\"}}]', 1777800000, 1777800000)",
            [],
        )
        .unwrap();
        now(Turn::IDLE, 1777700201, "another session's prompt");
        drop(c);
    }
}
