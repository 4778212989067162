//! Kimi, live: where a session's turn stands, from its wire log's newest
//! decisive record. Kimi CLI (`wire/types.py`): `TurnBegin` … `TurnEnd`
//! (left out when the turn is interrupted: `StepInterrupted`), an
//! `ApprovalRequest` waits for its `ApprovalResponse`, a `QuestionRequest`
//! for the tool result of its call. Kimi Code (`event2.ts`): `turn.prompt`
//! … `turn.ended`, and `interaction.request` (`approval`, `question`) until
//! its `interaction.resolved`.
//!
//! A running `kimi` is linked to the newest log of its work dir written
//! since it started. Kimi CLI names a work dir's folder by the MD5 of its
//! path (`metadata.py`); Kimi Code by `wd_<slug>_<first 12 of its
//! SHA-256>` (`workdir-slug.ts`), of the path without trailing slashes.

use std::path::{Path, PathBuf};

use md5::Digest as _;
use serde_json::Value;

use crate::liveness::{Turn, WaitingFor};
use crate::model::PendingTool;
use crate::sources::{LineTurn, LiveProcess, TranscriptLink, TurnInfo, mtime_ms, real_dir_within};

/// Kimi CLI's folder of a work dir: the MD5 of its path, in hex.
pub fn cli_work_dir(cwd: &str) -> String {
    hex(&md5::Md5::digest(cwd.as_bytes()))
}

/// How Kimi Code's folder of a work dir ends: `_` and the first 12 hex
/// digits of the SHA-256 of its path, trailing slashes dropped.
pub fn code_work_dir_suffix(cwd: &str) -> String {
    let normalized = cwd.replace('\\', "/");
    let normalized = normalized.trim_end_matches('/');
    format!("_{}", &hex(&sha2::Sha256::digest(normalized.as_bytes()))[..12])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The newest main log, in the process's work dir, written since it
/// started and not `claimed` by another process: Kimi CLI's
/// `<md5>/<session>/wire.jsonl` or Kimi Code's
/// `wd_…_<sha>/<session>/agents/main/wire.jsonl`.
pub fn newest_link(sessions: &[PathBuf], p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let (cli, code) = (cli_work_dir(&cwd), code_work_dir_suffix(&cwd));
    let since = (p.start - 2) * 1000;
    let mut best: Option<(i64, String, PathBuf)> = None;
    for root in sessions {
        let Ok(dirs) = std::fs::read_dir(root) else { continue };
        for d in dirs.flatten() {
            let name = d.file_name().to_string_lossy().into_owned();
            let main: &[&str] = if name == cli {
                &[]
            } else if name.starts_with("wd_") && name.ends_with(&code) {
                &["agents", "main"]
            } else {
                continue;
            };
            let Ok(runs) = std::fs::read_dir(d.path()) else { continue };
            for run in runs.flatten() {
                let mut dir = run.path();
                dir.extend(main);
                let log = dir.join("wire.jsonl");
                if !real_dir_within(root, &dir) || claimed(&log) {
                    continue;
                }
                let Some(m) = mtime_ms(&log).filter(|m| *m >= since) else { continue };
                if best.as_ref().is_none_or(|(b, _, _)| m > *b) {
                    best = Some((m, run.file_name().to_string_lossy().into_owned(), log));
                }
            }
        }
    }
    let (_, id, path) = best?;
    Some(TranscriptLink { external_id: id, path: Some(path), ..Default::default() })
}

/// What one wire record says about the turn.
pub(crate) fn line_turn(v: &Value) -> Option<LineTurn> {
    // Kimi CLI wraps each record as {timestamp, message: {type, payload}}.
    let (kind, p) = match v.get("message") {
        Some(m) => (m["type"].as_str()?, &m["payload"]),
        None => (v["type"].as_str()?, v),
    };
    let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
    let waiting = |w: WaitingFor, id: String, tool: PendingTool| {
        Some(LineTurn { turn: Some(Turn::Waiting(w)), call: Some((id, tool)), answers: Vec::new() })
    };
    match kind {
        "TurnBegin" | "SteerInput" | "turn.prompt" | "turn.steer" => LineTurn::turn(Turn::Working),
        "TurnEnd" | "StepInterrupted" | "turn.ended" | "turn.cancel" => LineTurn::turn(Turn::IDLE),
        "ApprovalRequest" => waiting(
            WaitingFor::Permission,
            text("id"),
            PendingTool {
                name: text("sender"),
                summary: crate::sources::clip(&text("description"), PendingTool::MAX_SUMMARY),
            },
        ),
        "QuestionRequest" => waiting(
            WaitingFor::Question,
            text("tool_call_id"),
            PendingTool::from_input("AskUserQuestion", &p["questions"][0]),
        ),
        "ApprovalResponse" | "ApprovalRequestResolved" => {
            Some(LineTurn { turn: Some(Turn::Working), call: None, answers: vec![text("request_id")] })
        }
        "ToolResult" => Some(LineTurn { turn: Some(Turn::Working), call: None, answers: vec![text("tool_call_id")] }),
        "interaction.request" => {
            let w = match p["kind"].as_str() {
                Some("approval") => WaitingFor::Permission,
                Some("question") => WaitingFor::Question,
                _ => return None,
            };
            let name = p.pointer("/request/tool").and_then(Value::as_str).unwrap_or("tool");
            waiting(w, text("id"), PendingTool::from_input(name, &p["request"]))
        }
        "interaction.resolved" => Some(LineTurn { turn: Some(Turn::Working), call: None, answers: vec![text("id")] }),
        _ => None,
    }
}

/// Where the conversation stands, from the newest decisive record.
pub fn turn(path: &Path) -> Option<TurnInfo> {
    TurnInfo::from_tail(path, line_turn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_dir_folders_as_the_two_kimis_name_them() {
        // hashlib.md5(b"/home/u/app").hexdigest(); sha256("/home/u/app")[:12].
        assert_eq!(cli_work_dir("/home/u/app"), "e8fe62499352db84ffbb31a6ce9eda68");
        assert_eq!(code_work_dir_suffix("/home/u/app/"), "_2bf7c3a66bb6");
    }

    #[test]
    fn links_the_newest_log_of_its_work_dir_written_since_it_started() {
        let t = tempfile::tempdir().unwrap();
        let (cli, code) = (t.path().join(".kimi/sessions"), t.path().join(".kimi-code/sessions"));
        let sessions = vec![cli.clone(), code.clone()];
        let write = |dir: PathBuf| {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("wire.jsonl"), "{}\n").unwrap();
        };
        let p = |cwd: &str, ago: i64| LiveProcess {
            pids: vec![1],
            start: chrono::Utc::now().timestamp() - ago,
            cwd: Some(cwd.into()),
        };
        write(cli.join(cli_work_dir("/home/u/app")).join("5b1c"));
        write(cli.join(cli_work_dir("/home/u/other")).join("9999"));
        let l = newest_link(&sessions, &p("/home/u/app", 5), &|_| false).unwrap();
        assert_eq!(l.external_id, "5b1c");
        assert_eq!(newest_link(&sessions, &p("/home/u/app", -60), &|_| false), None, "written before it started");
        assert_eq!(newest_link(&sessions, &p("/home/u/app", 5), &|q| q == l.path.as_deref().unwrap()), None);

        write(code.join(format!("wd_web{}", code_work_dir_suffix("/srv/web"))).join("s-9/agents/main"));
        let l = newest_link(&sessions, &p("/srv/web", 5), &|_| false).unwrap();
        assert_eq!((l.external_id.as_str(), l.path.unwrap().ends_with("s-9/agents/main/wire.jsonl")), ("s-9", true));
    }

    fn at(text: &str, n: usize) -> Option<(Turn, Option<String>)> {
        let lines: Vec<String> = text.lines().take(n + 1).map(str::to_string).collect();
        TurnInfo::from_lines(&lines, line_turn).map(|t| (t.turn, t.tool.map(|t| format!("{}: {}", t.name, t.summary))))
    }

    #[test]
    fn kimi_cli_turns_and_its_permission_prompt() {
        let w = include_str!("fixtures/kimi-cli-wire.jsonl");
        assert_eq!(at(w, 0), None, "metadata says nothing");
        assert_eq!(at(w, 1), Some((Turn::Working, None)));
        let asks = Some((Turn::Waiting(WaitingFor::Permission), Some("Shell: cargo test -p parser".into())));
        assert_eq!(at(w, 4), asks);
        assert_eq!(at(w, 5), Some((Turn::Working, None)), "approved");
        assert_eq!(at(w, 9), Some((Turn::IDLE, None)));
        assert_eq!(at(w, 10), Some((Turn::Working, None)));
    }

    #[test]
    fn kimi_code_turns_and_its_interactions() {
        let w = include_str!("fixtures/kimi-code-wire.jsonl");
        assert_eq!(at(w, 1), Some((Turn::Working, None)));
        assert_eq!(at(w, 4), Some((Turn::Waiting(WaitingFor::Permission), Some("Bash: npm test".into()))));
        assert_eq!(at(w, 5), Some((Turn::Working, None)));
        assert_eq!(at(w, 9), Some((Turn::IDLE, None)));
    }
}
