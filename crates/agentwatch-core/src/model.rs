//! The session model shared by every part of agentwatch.
//!
//! A *session* is one run of one coding agent. Many signals can describe the
//! same session (a transcript file, a running process, a hook, an MCP
//! registration); they all attach to one row in the store, identified by
//! [`Session::id`]. Token usage arrives as [`UsageEvent`]s.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::sources::{AGENTS, AgentInfo};

/// The display name of an agent type id ("claude-code" → "Claude Code").
/// Unknown ids (from user signatures or MCP clients) display as themselves.
pub fn agent_display_name(id: &str) -> &str {
    crate::sources::agent_info(id).map_or(id, |a| a.display)
}

/// A short name of an agent type id ("claude-code" → "Claude").
pub fn agent_short_name(id: &str) -> &str {
    crate::sources::agent_info(id).map_or(id, |a| a.short)
}

/// The model Claude Code names on the messages it writes itself (`No
/// response requested.`, API errors), not a model's: they carry no usage
/// worth pricing. Stored, because ccusage counts them as entries of a
/// 5-hour block; every other report leaves them out.
pub const SYNTHETIC_MODEL: &str = "<synthetic>";

/// The signals a session can come from (the `source` of a session).
pub const SESSION_SOURCES: [&str; 5] = ["transcript", "process", "mcp", "proxy", "hook"];

/// Checks a `source` filter, so that a typo is an error, not an empty list.
pub fn check_session_source(s: &str) -> crate::Result<()> {
    match SESSION_SOURCES.contains(&s) {
        true => Ok(()),
        false => Err(crate::Error::Usage(format!("unknown source '{s}' (known: {})", SESSION_SOURCES.join(", ")))),
    }
}

/// The agent type id of an MCP client, from its `clientInfo.name`
/// ("claude-code", "Claude Code" → "claude-code"; "cursor-vscode" → "cursor-agent");
/// unknown clients get a lowercase slug of their name.
pub fn agent_id_for_client(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    for a in AGENTS {
        // Word by word, so "example-client" is not Amp.
        if n.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| a.client_needles.iter().any(|needle| word.starts_with(needle)))
        {
            return a.id.to_string();
        }
    }
    let slug: String = n.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let slug = slug.trim_matches('-').to_string();
    if slug.is_empty() { "mcp-client".to_string() } else { slug }
}

/// Token counts of one event or a sum of events.
///
/// `input` never includes cached input: for Codex, whose logs count cached
/// input inside `input_tokens`, the parser splits it out. `reasoning` is part
/// of `output` (it is shown, never billed twice).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    /// Cache writes with the 5-minute lifetime.
    pub cache_write_5m: u64,
    /// Cache writes with the 1-hour lifetime.
    pub cache_write_1h: u64,
    pub cache_read: u64,
    pub reasoning: u64,
}

impl Tokens {
    pub fn cache_creation(&self) -> u64 {
        self.cache_write_5m + self.cache_write_1h
    }

    /// Input + output + cache writes + cache reads, as ccusage counts it.
    pub fn total(&self) -> u64 {
        self.input + self.output + self.cache_creation() + self.cache_read
    }

    pub fn is_zero(&self) -> bool {
        self.total() == 0 && self.reasoning == 0
    }

    pub fn add(&mut self, o: &Tokens) {
        self.input += o.input;
        self.output += o.output;
        self.cache_write_5m += o.cache_write_5m;
        self.cache_write_1h += o.cache_write_1h;
        self.cache_read += o.cache_read;
        self.reasoning += o.reasoning;
    }
}

/// A call's identity: two independent 64-bit hashes of its key parts (for
/// Claude: message id and request id). The first is the stored row id, the
/// second confirms a match, so two different calls never merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKey {
    /// 63 bits, non-negative: a SQLite rowid.
    pub id: i64,
    pub check: i64,
}

impl EventKey {
    pub fn of(parts: &[&str]) -> EventKey {
        let mut a = crate::util::Fnv64::new();
        let mut b: u64 = 0x9e37_79b9_7f4a_7c15;
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                a.write(&[0x1f]);
            }
            a.write(p.as_bytes());
            for byte in p.bytes().chain(std::iter::once(0x1f)) {
                b = (b ^ u64::from(byte)).wrapping_mul(0xff51_afd7_ed55_8ccd);
                b ^= b >> 33;
            }
        }
        EventKey { id: (a.finish() & i64::MAX as u64) as i64, check: b as i64 }
    }
}

/// One billed model call, as read from an agent's transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageEvent {
    /// Identifies the call across lines and files; two events with the same
    /// key are the same call and are counted once.
    pub key: EventKey,
    /// The agent's own id for the session the call belongs to.
    pub session_external_id: Arc<str>,
    pub timestamp: DateTime<Utc>,
    pub model: Arc<str>,
    /// The model was not in the log and a default was assumed.
    pub model_fallback: bool,
    /// Claude's "fast" output mode, billed at a multiple of the normal price.
    pub fast: bool,
    /// A copy from a sub-agent's side chain; a main copy of the same call wins.
    pub sidechain: bool,
    pub tokens: Tokens,
    /// A cost the agent recorded itself (legacy Claude `costUSD`); when
    /// present it is used instead of computing one.
    pub cost_usd: Option<f64>,
}

/// The tool call a permission prompt or a question is about: `Bash` and
/// `echo hi`, shown as `Bash(echo hi)`. Both parts come from the agent's
/// files or hooks: untrusted text, escaped wherever it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTool {
    pub name: String,
    pub summary: String,
}

impl PendingTool {
    /// Longest summary kept, in characters.
    pub const MAX_SUMMARY: usize = 200;

    /// A pending tool from its name and input (a JSON object): the summary
    /// is the input's most telling field (a command, a path, a URL, a
    /// question), else its first text.
    pub fn from_input(name: &str, input: &serde_json::Value) -> PendingTool {
        const KEYS: &[&str] = &[
            "command",
            "cmd",
            "file_path",
            "path",
            "filePath",
            "absolute_path",
            "url",
            "pattern",
            "query",
            "question",
            "prompt",
            "description",
        ];
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(a) if !a.is_empty() && a.iter().all(|x| x.is_string()) => {
                Some(a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(" "))
            }
            _ => None,
        };
        let summary = match input {
            serde_json::Value::Object(o) => KEYS
                .iter()
                .find_map(|k| o.get(*k).and_then(text))
                // Claude's question tool: the first question's text.
                .or_else(|| o.get("questions").and_then(|q| q.pointer("/0/question")).and_then(text))
                .or_else(|| o.values().find_map(text)),
            serde_json::Value::String(s) => {
                // Arguments as a JSON string (the OpenAI wire format).
                serde_json::from_str::<serde_json::Value>(s)
                    .ok()
                    .filter(|v| v.is_object())
                    .map(|v| PendingTool::from_input(name, &v).summary)
                    .or_else(|| Some(s.clone()))
            }
            other => text(other),
        };
        PendingTool::new(name, summary.as_deref().unwrap_or(""))
    }

    pub fn new(name: &str, summary: &str) -> PendingTool {
        let one_line = summary.split_whitespace().collect::<Vec<_>>().join(" ");
        let summary = if one_line.chars().count() > Self::MAX_SUMMARY {
            let mut s: String = one_line.chars().take(Self::MAX_SUMMARY - 1).collect();
            s.push('…');
            s
        } else {
            one_line
        };
        PendingTool { name: name.chars().take(100).collect(), summary }
    }

    /// `Bash(echo hi)`, or the name alone.
    pub fn label(&self) -> String {
        if self.summary.is_empty() { self.name.clone() } else { format!("{}({})", self.name, self.summary) }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serializes")
    }

    /// From its stored JSON; anything else is no tool.
    pub fn from_json(s: &str) -> Option<PendingTool> {
        serde_json::from_str(s).ok()
    }
}

/// The lifecycle state of a session. The transitions live in `liveness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    /// Recent activity: transcript growth, tool calls, CPU.
    Working,
    /// The agent finished its turn and waits for the user.
    Waiting,
    /// Alive, no activity for a while.
    Idle,
    /// A session that sends heartbeats has not sent one within the threshold.
    Stale,
    /// Ended normally.
    Completed,
    /// The process vanished without completing.
    Dead,
    /// Kept by the user; never reaped.
    Pinned,
}

impl SessionState {
    pub const ALL: [SessionState; 7] = [
        SessionState::Working,
        SessionState::Waiting,
        SessionState::Idle,
        SessionState::Stale,
        SessionState::Completed,
        SessionState::Dead,
        SessionState::Pinned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Working => "working",
            SessionState::Waiting => "waiting",
            SessionState::Idle => "idle",
            SessionState::Stale => "stale",
            SessionState::Completed => "completed",
            SessionState::Dead => "dead",
            SessionState::Pinned => "pinned",
        }
    }

    pub fn parse(s: &str) -> Option<SessionState> {
        SessionState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the session is live: running, or kept by the agent (pinned).
    /// The one answer to "is it live?": the collector, the CLI, the API, the
    /// tray and the UI all ask this (the UI through `live` in the session JSON).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            SessionState::Working
                | SessionState::Waiting
                | SessionState::Idle
                | SessionState::Stale
                | SessionState::Pinned
        )
    }

    /// The live states as an SQL list, `('working', …)`, for queries.
    pub fn live_sql() -> &'static str {
        static LIST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        LIST.get_or_init(|| {
            let names: Vec<String> =
                SessionState::ALL.iter().filter(|s| s.is_live()).map(|s| format!("'{}'", s.as_str())).collect();
            format!("({})", names.join(", "))
        })
    }

    /// Whether the session has ended, for good or bad.
    pub fn is_ended(self) -> bool {
        matches!(self, SessionState::Completed | SessionState::Dead)
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SessionState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionState::parse(s).ok_or_else(|| {
            let all: Vec<_> = SessionState::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown state '{s}' (expected one of: {})", all.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_tool_is_summed_up_by_its_most_telling_input() {
        use serde_json::json;
        let bash = PendingTool::from_input("Bash", &json!({"command": "echo aw-tool-ran", "description": "Print"}));
        assert_eq!(bash.label(), "Bash(echo aw-tool-ran)");
        assert_eq!(
            PendingTool::from_input("Edit", &json!({"file_path": "/a/b.rs", "old_string": "x"})).summary,
            "/a/b.rs"
        );
        assert_eq!(
            PendingTool::from_input("shell", &json!(r#"{"command": ["bash", "-lc", "ls -la"]}"#)).label(),
            "shell(bash -lc ls -la)"
        );
        let q = json!({"questions": [{"question": "Which colour?", "options": [{"label": "red"}]}]});
        assert_eq!(PendingTool::from_input("AskUserQuestion", &q).summary, "Which colour?");
        assert_eq!(PendingTool::from_input("Tool", &json!({})).label(), "Tool");
        let long = PendingTool::new("Bash", &format!("echo {}\nls", "x".repeat(500)));
        assert_eq!(long.summary.chars().count(), PendingTool::MAX_SUMMARY);
        assert!(!long.summary.contains('\n'));
        assert_eq!(PendingTool::from_json(&bash.to_json()), Some(bash));
        assert_eq!(PendingTool::from_json("garbage"), None);
    }

    #[test]
    fn live_states_are_decided_in_one_place() {
        assert_eq!(SessionState::live_sql(), "('working', 'waiting', 'idle', 'stale', 'pinned')");
        for s in SessionState::ALL {
            assert!(!(s.is_live() && s.is_ended()), "{s}");
            assert!(s.is_live() || s.is_ended(), "every state is live or ended: {s}");
        }
    }

    #[test]
    fn tokens_total_counts_every_billed_kind_once() {
        let t =
            Tokens { input: 1, output: 20, cache_write_5m: 300, cache_write_1h: 4000, cache_read: 50000, reasoning: 7 };
        assert_eq!(t.total(), 54321);
        assert_eq!(t.cache_creation(), 4300);
    }

    #[test]
    fn states_round_trip_through_strings() {
        for st in SessionState::ALL {
            assert_eq!(st.as_str().parse::<SessionState>().unwrap(), st);
        }
        assert!("sleeping".parse::<SessionState>().unwrap_err().contains("working"));
    }

    #[test]
    fn event_keys_tell_parts_apart() {
        let k = EventKey::of(&["claude", "msg_1", "req_1"]);
        assert_eq!(k, EventKey::of(&["claude", "msg_1", "req_1"]));
        assert!(k.id >= 0);
        assert_ne!(k, EventKey::of(&["claude", "msg_1req_1", ""]));
        assert_ne!(k.check, EventKey::of(&["claude", "msg_2", "req_1"]).check);
    }

    #[test]
    fn mcp_clients_map_to_agent_ids() {
        assert_eq!(agent_id_for_client("claude-code"), "claude-code");
        assert_eq!(agent_id_for_client("Claude Code"), "claude-code");
        assert_eq!(agent_id_for_client("cursor-vscode"), "cursor-agent");
        assert_eq!(agent_id_for_client("My Bot 2"), "my-bot-2");
        assert_eq!(agent_id_for_client("???"), "mcp-client");
        assert_eq!(agent_id_for_client("example-client"), "example-client", "not Amp");
        assert_eq!(agent_id_for_client("ampcode"), "amp");
        assert_eq!(agent_id_for_client("gemini-cli-mcp-client"), "gemini-cli");
    }

    #[test]
    fn unknown_agents_display_as_themselves() {
        assert_eq!(agent_display_name("codex"), "Codex");
        assert_eq!(agent_display_name("my-bot"), "my-bot");
    }
}
