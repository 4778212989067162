//! Kimi, live: where a session's turn stands, from its wire log's newest
//! decisive record. Kimi CLI (`wire/types.py`): `TurnBegin` … `TurnEnd`
//! (left out when the turn is interrupted: `StepInterrupted`), an
//! `ApprovalRequest` waits for its `ApprovalResponse`, a `QuestionRequest`
//! for the tool result of its call. Kimi Code (`event2.ts`): `turn.prompt`
//! … `turn.ended`, and `interaction.request` (`approval`, `question`) until
//! its `interaction.resolved`.

use std::path::Path;

use serde_json::Value;

use crate::liveness::{Turn, WaitingFor};
use crate::model::PendingTool;
use crate::sources::{LineTurn, TurnInfo};

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
