//! Claude Code, live: linking a running `claude` to its session, and reading
//! where its conversation stands.
//!
//! Claude Code keeps a registry of live sessions, `<config>/sessions/<pid>.json`
//! (`pid, sessionId, cwd, startedAt, procStart, version, kind, entrypoint,
//! name, status, updatedAt`). `procStart` is the process start time in clock
//! ticks since boot, as in `/proc/<pid>/stat`; a file whose `procStart` does
//! not match the live process is left over from a reused pid and ignored.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::paths::encode_project_dir;
use crate::collector::process::start_ticks;
use crate::liveness::{Signal, Turn, WaitingFor};
use crate::model::PendingTool;
use crate::sources::{
    LineTurn, LiveProcess, RegistryError, TranscriptLine, TranscriptLink, TurnInfo, clip, last_lines, newest_jsonl,
    plainly_within,
};

/// A `sessions/<pid>.json` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryEntry {
    pub pid: u32,
    pub session_id: String,
    pub cwd: Option<String>,
    pub started_at: Option<i64>,
    pub proc_start: Option<u64>,
    pub name: Option<String>,
    /// `idle`, `busy`, `waiting` or `shell` (idle with a shell command of the user's running).
    pub status: Option<String>,
    /// With `waiting`: `permission prompt`, `worker request`, `sandbox request`,
    /// `dialog open` or `input needed`.
    pub waiting_for: Option<String>,
    /// When `status` last changed, ms.
    pub status_at: Option<i64>,
}

pub fn read_registry(config_dir: &Path, pid: u32) -> Result<RegistryEntry, RegistryError> {
    let path = config_dir.join("sessions").join(format!("{pid}.json"));
    // An entry is a few hundred bytes; anything much larger is not one.
    let text = match std::fs::File::open(&path) {
        Ok(f) => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::Read::take(f, 64 * 1024), &mut s)
                .map_err(|e| RegistryError::Malformed(format!("{}: {e}", path.display())))?;
            s
        }
        Err(_) => return Err(RegistryError::Missing),
    };
    let bad = |why: &str| RegistryError::Malformed(format!("{}: {why}", path.display()));
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(&format!("not JSON ({e})")))?;
    let num = |k: &str| v.get(k).and_then(|x| x.as_u64().or_else(|| x.as_str().and_then(|s| s.parse().ok())));
    let text = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    Ok(RegistryEntry {
        pid: num("pid").and_then(|p| u32::try_from(p).ok()).ok_or_else(|| bad("no pid"))?,
        session_id: text("sessionId").ok_or_else(|| bad("no sessionId"))?,
        cwd: text("cwd"),
        started_at: num("startedAt").map(|n| n as i64),
        proc_start: num("procStart"),
        // A name Claude Code made up (`<dir>-<hex>`) is no name the person gave.
        name: text("name").filter(|_| v.get("nameSource").and_then(Value::as_str) != Some("derived")),
        status: text("status"),
        waiting_for: text("waitingFor"),
        status_at: num("statusUpdatedAt").or_else(|| num("updatedAt")).map(|n| n as i64),
    })
}

/// What the registry's `status` and `waitingFor` say about the turn.
pub fn status_turn(status: &str, waiting_for: Option<&str>) -> Option<Turn> {
    match status {
        "idle" | "shell" => Some(Turn::IDLE),
        "busy" => Some(Turn::Working),
        "waiting" => Some(match waiting_for.unwrap_or("") {
            // A tool waits for approval (a question is shown the same way;
            // the pending tool tells them apart).
            w if w.contains("permission") || w.contains("request") => Turn::Waiting(WaitingFor::Permission),
            _ => Turn::IDLE, // "input needed", "dialog open"
        }),
        _ => None,
    }
}

/// The registry entry of one of `p`'s processes, written by that very
/// process (its recorded start matches). A file left by an earlier process
/// with the same pid is not it.
pub fn registry_entry(config_dirs: &[PathBuf], p: &LiveProcess) -> Result<RegistryEntry, RegistryError> {
    let mut err = RegistryError::Missing;
    for dir in config_dirs {
        for pid in &p.pids {
            let e = match read_registry(dir, *pid) {
                Ok(e) => e,
                Err(RegistryError::Missing) => continue,
                Err(m) => {
                    err = m;
                    continue;
                }
            };
            if e.pid != *pid {
                err = RegistryError::Malformed(format!("sessions/{pid}.json names pid {}", e.pid));
                continue;
            }
            if same_process(e.proc_start, start_ticks(*pid), e.started_at, p.start) {
                return Ok(e);
            }
        }
    }
    Err(err)
}

/// Whether a registry entry was written by the running process: the tick
/// counts agree (Linux, where `/proc` gives them), or else, on macOS and
/// Windows or for an entry without `procStart`, its `startedAt` (ms) is
/// within 5 s of the process's start (s, from sysinfo).
fn same_process(recorded_ticks: Option<u64>, live_ticks: Option<u64>, started_at_ms: Option<i64>, start: i64) -> bool {
    match (recorded_ticks, live_ticks) {
        (Some(recorded), Some(live)) => recorded == live,
        _ => started_at_ms.is_some_and(|s| (s / 1000 - start).abs() <= 5),
    }
}

/// Links a process through the registry, if an entry matches it exactly,
/// with where its turn stands according to the agent itself.
pub fn registry_link(config_dirs: &[PathBuf], p: &LiveProcess) -> Result<TranscriptLink, RegistryError> {
    let e = registry_entry(config_dirs, p)?;
    let dir = config_dirs
        .iter()
        .find(|d| d.join("sessions").join(format!("{}.json", e.pid)).is_file())
        .cloned()
        .unwrap_or_default();
    let cwd = e.cwd.clone().or_else(|| p.cwd.as_ref().map(|c| c.display().to_string()));
    let path = cwd.map(|c| dir.join("projects").join(encode_project_dir(&c)).join(format!("{}.jsonl", e.session_id)));
    let turn = e.status.as_deref().and_then(|s| status_turn(s, e.waiting_for.as_deref())).map(|t| {
        let now = crate::util::now_ms();
        TurnInfo::new(t, e.status_at.and_then(|a| crate::liveness::plausible(a, now)), Signal::Registry)
    });
    Ok(TranscriptLink { external_id: e.session_id, path, name: e.name, turn, project: None })
}

/// The session of a transcript under one of the `projects` dirs.
pub fn session_of(projects: &[PathBuf], path: &Path) -> Option<String> {
    if path.extension()? != "jsonl" || !plainly_within(projects, path) {
        return None;
    }
    let parent = path.parent()?;
    if parent.file_name()? == "subagents" {
        return Some(parent.parent()?.file_name()?.to_string_lossy().into_owned());
    }
    Some(path.file_stem()?.to_string_lossy().into_owned())
}

/// The newest transcript in the process's project folder written since it
/// started.
pub fn newest_link(projects: &[PathBuf], p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let dirs: Vec<(PathBuf, PathBuf)> =
        projects.iter().map(|r| (r.clone(), r.join(encode_project_dir(&cwd)))).collect();
    let path = newest_jsonl(&dirs, (p.start - 2) * 1000, claimed)?;
    Some(TranscriptLink {
        external_id: path.file_stem()?.to_string_lossy().into_owned(),
        path: Some(path),
        ..Default::default()
    })
}

fn content_blocks(v: &Value) -> Vec<&Value> {
    match v.pointer("/message/content") {
        Some(Value::Array(a)) => a.iter().collect(),
        _ => Vec::new(),
    }
}

fn user_text(v: &Value) -> Option<String> {
    match v.pointer("/message/content") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(a)) => {
            let t: Vec<&str> = a.iter().filter(|b| b["type"] == "text").filter_map(|b| b["text"].as_str()).collect();
            (!t.is_empty()).then(|| t.join("\n"))
        }
        _ => None,
    }
}

/// Claude Code's tool for asking the person a question.
pub const QUESTION_TOOL: &str = "AskUserQuestion";

/// What one line says about the turn.
fn line_turn(v: &Value) -> Option<LineTurn> {
    match v["type"].as_str()? {
        "assistant" => {
            let blocks = content_blocks(v);
            if let Some(call) = blocks.iter().rev().find(|b| b["type"] == "tool_use") {
                let name = call["name"].as_str().unwrap_or("tool");
                let tool = PendingTool::from_input(name, &call["input"]);
                // A question always waits for the person; any other tool may
                // run at once or wait for approval (the registry and hooks tell).
                let turn = if name == QUESTION_TOOL { Turn::Waiting(WaitingFor::Question) } else { Turn::Working };
                let id = call["id"].as_str().unwrap_or("").to_string();
                Some(LineTurn { turn: Some(turn), call: Some((id, tool)), answers: Vec::new() })
            } else if blocks.iter().any(|b| b["type"] == "text") {
                // The text before a tool call is written with the call's stop reason.
                let more = v.pointer("/message/stop_reason").and_then(Value::as_str) == Some("tool_use");
                LineTurn::turn(if more { Turn::Working } else { Turn::IDLE })
            } else {
                None
            }
        }
        "user" => {
            let answers: Vec<String> = content_blocks(v)
                .iter()
                .filter(|b| b["type"] == "tool_result")
                .filter_map(|b| b["tool_use_id"].as_str().map(str::to_string))
                .collect();
            if !answers.is_empty() || content_blocks(v).iter().any(|b| b["type"] == "tool_result") {
                return Some(LineTurn { turn: Some(Turn::Working), call: None, answers });
            }
            let text = user_text(v)?;
            if text.contains("<command-name>/exit</command-name>") || text.trim() == "/exit" || text.trim() == "/quit" {
                LineTurn::turn(Turn::Ended)
            } else if text.starts_with("[Request interrupted by user") {
                LineTurn::turn(Turn::IDLE)
            } else if text.contains("<local-command-stdout>") || text.contains("<command-name>") {
                None // local commands do not start a turn
            } else {
                LineTurn::turn(Turn::Working)
            }
        }
        // Written when a turn is over.
        "system" if v["subtype"] == "turn_duration" => LineTurn::turn(Turn::IDLE),
        _ => None,
    }
}

/// Where the conversation stands, from the last decisive line.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    TurnInfo::from_tail(path, line_turn)
}

/// The transcript's last lines, for display.
pub fn tail(path: &Path, max: usize) -> Vec<TranscriptLine> {
    let mut out = Vec::new();
    for l in last_lines(path, 256 * 1024) {
        let Ok(v) = serde_json::from_str::<Value>(&l) else { continue };
        let at = v["timestamp"].as_str().map(str::to_string);
        match v["type"].as_str() {
            Some("user") => {
                for b in content_blocks(&v).into_iter().filter(|b| b["type"] == "tool_result") {
                    let text = match &b["content"] {
                        Value::String(s) => s.clone(),
                        Value::Array(a) => a.iter().filter_map(|x| x["text"].as_str()).collect::<Vec<_>>().join("\n"),
                        _ => String::new(),
                    };
                    out.push(TranscriptLine { at: at.clone(), role: "tool", text: clip(&text, 2000) });
                }
                if let Some(t) = user_text(&v) {
                    out.push(TranscriptLine { at, role: "user", text: clip(&t, 4000) });
                }
            }
            Some("assistant") => {
                for b in content_blocks(&v) {
                    match b["type"].as_str() {
                        Some("text") => out.push(TranscriptLine {
                            at: at.clone(),
                            role: "assistant",
                            text: clip(b["text"].as_str().unwrap_or(""), 4000),
                        }),
                        Some("tool_use") => out.push(TranscriptLine {
                            at: at.clone(),
                            role: "tool",
                            text: format!(
                                "→ {} {}",
                                b["name"].as_str().unwrap_or("tool"),
                                clip(&b["input"].to_string(), 500)
                            ),
                        }),
                        _ => {}
                    }
                }
            }
            Some("system") => {
                if let Some(t) = v["content"].as_str() {
                    out.push(TranscriptLine { at, role: "system", text: clip(t, 1000) });
                }
            }
            _ => {}
        }
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

    fn user(text: &str) -> Value {
        json!({"type": "user", "timestamp": "2026-11-20T10:00:00Z", "message": {"role": "user", "content": text}})
    }

    fn assistant(blocks: Value) -> Value {
        json!({"type": "assistant", "timestamp": "2026-11-20T10:00:05Z", "message": {"role": "assistant", "content": blocks}})
    }

    #[test]
    fn the_last_decisive_line_gives_the_turn() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("s.jsonl");
        let tool = assistant(json!([{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}]));
        let result = json!({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]}});
        let done = assistant(json!([{"type": "text", "text": "All done."}]));
        let summary = json!({"type": "summary", "summary": "x"});
        let cases: Vec<(Vec<Value>, Turn)> = vec![
            (vec![user("fix it")], Turn::Working),
            (vec![user("fix it"), tool.clone()], Turn::Working),
            (vec![user("fix it"), tool.clone(), result.clone()], Turn::Working),
            (vec![user("fix it"), tool, result, done.clone(), summary], Turn::IDLE),
            (vec![user("fix it"), user("[Request interrupted by user]")], Turn::IDLE),
            (
                vec![
                    done,
                    json!({"type": "user", "timestamp": "2026-11-20T10:00:09Z", "message": {"content": "<command-name>/exit</command-name>"}}),
                ],
                Turn::Ended,
            ),
        ];
        for (lines, want) in cases {
            write(&p, &lines);
            assert_eq!(turn(&p).map(|t| t.turn), Some(want), "{lines:?}");
        }
        assert_eq!(turn(&t.path().join("missing.jsonl")), None);
    }

    #[test]
    fn registry_statuses_of_claude_code_2_1() {
        assert_eq!(status_turn("idle", None), Some(Turn::IDLE));
        assert_eq!(status_turn("shell", None), Some(Turn::IDLE));
        assert_eq!(status_turn("busy", None), Some(Turn::Working));
        for w in ["permission prompt", "worker request", "sandbox request"] {
            assert_eq!(status_turn("waiting", Some(w)), Some(Turn::Waiting(WaitingFor::Permission)), "{w}");
        }
        assert_eq!(status_turn("waiting", Some("dialog open")), Some(Turn::IDLE));
        assert_eq!(status_turn("waiting", Some("input needed")), Some(Turn::IDLE));
        assert_eq!(status_turn("sleeping", None), None);
    }

    /// Cuts of a transcript Claude Code 2.1.197 wrote in tests/agents: a
    /// plain turn, an approved, a denied and an interrupted tool call, a
    /// question, a stream stopped with Esc.
    #[test]
    fn turns_in_a_real_transcript() {
        let lines: Vec<String> = include_str!("fixtures/turns-2.1.197.jsonl").lines().map(str::to_string).collect();
        let at = |n: usize| TurnInfo::from_lines(&lines[..=n], line_turn).unwrap();
        let bash = "Bash(echo aw-tool-ran | tee aw-tool-ran.txt)";
        let cases: &[(usize, Turn, Option<&str>)] = &[
            (4, Turn::Working, None),        // a prompt
            (10, Turn::IDLE, None),          // turn_duration
            (13, Turn::Working, None),       // text before a tool call
            (14, Turn::Working, Some(bash)), // the call (approval pending or running)
            (16, Turn::Working, None),       // approved: its result
            (22, Turn::IDLE, None),
            (28, Turn::IDLE, None), // denied: "[Request interrupted …]"
            (31, Turn::Waiting(WaitingFor::Question), Some("AskUserQuestion(Which colour should I use?)")),
            (33, Turn::Working, None),       // answered
            (47, Turn::Working, Some(bash)), // metadata lines after a pending call
            (54, Turn::IDLE, None),          // Esc while streaming
            (56, Turn::Working, None),
            (61, Turn::IDLE, None),
        ];
        for (n, turn, tool) in cases {
            let t = at(*n);
            assert_eq!((t.turn, t.tool.map(|x| x.label()).as_deref()), (*turn, *tool), "after line {n}");
            assert_eq!(t.signal, Signal::Transcript);
        }
    }

    #[test]
    fn without_tick_counts_the_wall_clock_start_tells_the_same_process() {
        let start = 1_796_400_000; // the process's start, s
        // Linux: the ticks decide, whatever startedAt says.
        assert!(same_process(Some(42), Some(42), None, start));
        assert!(!same_process(Some(42), Some(43), Some(start * 1000), start));
        // macOS and Windows (no ticks), or an entry without procStart.
        for recorded in [None, Some(42)] {
            assert!(same_process(recorded, None, Some(start * 1000 + 1_500), start));
            assert!(same_process(recorded, None, Some((start - 5) * 1000), start));
            assert!(!same_process(recorded, None, Some((start - 60) * 1000), start), "an earlier process, same pid");
            assert!(!same_process(recorded, None, None, start), "nothing to compare");
        }
        assert!(same_process(None, Some(42), Some(start * 1000), start));
    }

    #[test]
    fn registry_links_only_the_process_that_wrote_it() {
        let t = tempfile::tempdir().unwrap();
        let cfg = t.path().join(".claude");
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let ticks = start_ticks(pid);
        let proj = cfg.join("projects").join(encode_project_dir("/home/u/app"));
        write(&proj.join("sess-1.jsonl"), &[user("hi")]);
        let entry = |proc_start: Option<u64>| {
            json!({"pid": pid, "sessionId": "sess-1", "cwd": "/home/u/app", "startedAt": 0, "procStart": proc_start,
                   "version": "2.0.50", "kind": "interactive", "entrypoint": "cli", "name": "refactor", "status": "idle", "updatedAt": 0})
        };
        std::fs::create_dir_all(cfg.join("sessions")).unwrap();
        let lp = LiveProcess { pids: vec![pid], start: 0, cwd: None };
        if let Some(ticks) = ticks {
            std::fs::write(cfg.join(format!("sessions/{pid}.json")), entry(Some(ticks)).to_string()).unwrap();
            let l = registry_link(std::slice::from_ref(&cfg), &lp).expect("linked");
            assert_eq!(l.external_id, "sess-1");
            assert_eq!(l.path, Some(proj.join("sess-1.jsonl")));
            assert_eq!(l.name.as_deref(), Some("refactor"));
            assert_eq!(l.turn.map(|t| (t.turn, t.signal)), Some((Turn::IDLE, Signal::Registry)));
            // Waiting for permission, as Claude Code 2.1.197 writes it.
            let mut waiting = entry(Some(ticks));
            waiting["status"] = json!("waiting");
            waiting["waitingFor"] = json!("permission prompt");
            waiting["statusUpdatedAt"] = json!(1_796_471_342_430_i64);
            std::fs::write(cfg.join(format!("sessions/{pid}.json")), waiting.to_string()).unwrap();
            let t = registry_link(std::slice::from_ref(&cfg), &lp).unwrap().turn.unwrap();
            assert_eq!((t.turn, t.at), (Turn::Waiting(WaitingFor::Permission), Some(1_796_471_342_430)));
            // A file left by an earlier process with the same pid is ignored.
            std::fs::write(cfg.join(format!("sessions/{pid}.json")), entry(Some(ticks + 1)).to_string()).unwrap();
            assert_eq!(registry_link(std::slice::from_ref(&cfg), &lp), Err(RegistryError::Missing));
            // Garbage, a truncated write or another pid's entry: malformed, never fatal.
            for bad in ["", "{\"pid\": ", "not json", &json!({"pid": pid + 1, "sessionId": "x"}).to_string()] {
                std::fs::write(cfg.join(format!("sessions/{pid}.json")), bad).unwrap();
                assert!(
                    matches!(registry_link(std::slice::from_ref(&cfg), &lp), Err(RegistryError::Malformed(_))),
                    "{bad:?}"
                );
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn newest_unclaimed_transcript_in_the_project_folder() {
        let t = tempfile::tempdir().unwrap();
        let projects = t.path().join("projects");
        let dir = projects.join(encode_project_dir("/home/u/app"));
        write(&dir.join("old.jsonl"), &[user("a")]);
        std::thread::sleep(std::time::Duration::from_millis(20));
        write(&dir.join("new.jsonl"), &[user("b")]);
        let p = LiveProcess { pids: vec![1], start: 0, cwd: Some("/home/u/app".into()) };
        let pr = std::slice::from_ref(&projects);
        assert_eq!(newest_link(pr, &p, &|_| false).unwrap().external_id, "new");
        assert_eq!(newest_link(pr, &p, &|q| q.ends_with("new.jsonl")).unwrap().external_id, "old");
        let later = LiveProcess { start: chrono::Utc::now().timestamp() + 60, ..p };
        assert_eq!(newest_link(pr, &later, &|_| false), None, "written before the process started");
        assert_eq!(session_of(pr, &dir.join("s9/subagents/agent-1.jsonl")), Some("s9".into()));
        assert_eq!(session_of(pr, &dir.join("s9.jsonl")), Some("s9".into()));
        assert_eq!(session_of(pr, Path::new("/elsewhere/x.jsonl")), None);
    }

    #[test]
    fn tail_shows_text_tools_and_results_as_plain_text() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("s.jsonl");
        write(
            &p,
            &[
                user("<script>alert(1)</script>"),
                assistant(
                    json!([{"type": "text", "text": "Looking."}, {"type": "tool_use", "name": "Read", "input": {"path": "a.rs"}}]),
                ),
                json!({"type": "user", "message": {"content": [{"type": "tool_result", "content": "fn main() {}"}]}}),
            ],
        );
        let lines = tail(&p, 10);
        let roles: Vec<&str> = lines.iter().map(|l| l.role).collect();
        assert_eq!(roles, vec!["user", "assistant", "tool", "tool"]);
        assert_eq!(lines[0].text, "<script>alert(1)</script>");
        assert!(lines[2].text.starts_with("→ Read"));
        assert_eq!(tail(&p, 2).len(), 2);
    }
}
