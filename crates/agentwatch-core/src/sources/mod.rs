//! The agents' own local files, one folder per agent.
//!
//! Every agent folder has the same shape:
//! - `paths.rs`: where the agent keeps its transcripts, and which files count;
//! - `parser.rs`: turns one transcript line ([`LineParser`]) or the changed
//!   rows of a database ([`TableReader`], over [`storage::sqlite`]) into
//!   [`Record`]s, resumable from a saved state so that a re-run reads only
//!   what is new; it never opens a file;
//! - `live.rs`: for running agents: which transcript a process writes, and
//!   what the transcript's last lines say (working, waiting);
//! - `mod.rs`: the [`Source`] that ties them together.
//!
//! Each folder's `mod.rs` also holds its agent's [`AgentInfo`] (`INFO`):
//! every table that names agents (display names, MCP client names, hook
//! aliases, installers, ccusage's names) is derived from [`AGENTS`].
//!
//! Adding an agent means copying that shape and listing its `INFO` in
//! [`AGENTS`].

pub mod aider;
pub mod amp;
pub mod antigravity;
pub mod claude;
pub mod cline;
pub mod codebuff;
pub mod codex;
pub mod copilot;
pub mod crush;
pub mod cursor;
pub mod droid;
pub mod gemini;
pub mod goose;
pub mod grok;
pub mod hermes;
pub mod kilo;
pub mod kimi;
pub mod openclaw;
pub mod opencode;
pub mod pi;
pub mod qwen;
pub mod roo;
pub mod storage;
pub mod zcode;

pub use storage::Storage;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::liveness::{Signal, Turn};
use crate::model::{PendingTool, Tokens, UsageEvent};

/// What a transcript line says.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Facts about a session (from its first lines, or a metadata line).
    Session(SessionInfo),
    /// A billed model call.
    Usage(UsageEvent),
    /// What the agent said about a window of its plan (Codex's `rate_limits`).
    Limit(crate::limits::LimitReading),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionInfo {
    pub external_id: String,
    pub project_path: Option<String>,
    pub agent_version: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
}

/// Why a line gave nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    /// Not valid JSON, or truncated: counted and reported.
    Malformed,
}

/// Parses the lines of one transcript file, in order.
pub trait LineParser: Send {
    /// Parses one complete line (without its newline) that starts at byte
    /// `offset` of the file, appending what it says to `out`.
    fn parse(&mut self, line: &[u8], offset: u64, out: &mut Vec<Record>) -> Result<(), LineError>;

    /// The state to save with the file's cursor, so that parsing can resume
    /// after the last line given to [`LineParser::parse`].
    fn state(&self) -> Option<String>;
}

/// Reads an agent's database (see [`storage::sqlite`]): the rows changed
/// since the state it was made with.
pub trait TableReader: Send {
    /// Appends what the changed rows say to `out`, and returns how many rows
    /// it could not use (malformed: counted and skipped). `Err` says in one
    /// line why the database cannot be read as the agent's (a schema not
    /// understood, locked, damaged); nothing of it is then used.
    fn read(&mut self, db: &storage::sqlite::Db, out: &mut Vec<Record>) -> Result<u64, String>;

    /// The state to save, so that the next read asks only for newer rows.
    fn state(&self) -> Option<String>;
}

/// How an agent's own files record its usage: what `agentwatch agents`
/// says of it, so that a usage the agent never recorded shows as that, not
/// as $0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UsageKind {
    /// Tokens per call, priced by agentwatch (or at a cost the agent recorded).
    Tokens,
    /// The agent's own cost only: its files keep no token totals (Crush).
    CostOnly,
    /// Nothing: the agent keeps no tokens or cost in its files (Cursor's CLI).
    NotRecorded,
    /// Tokens and cost per call, rounded by the agent as it wrote them (Aider).
    Approximate,
}

impl UsageKind {
    /// For people: what the usage shown of `agent` (its display name) is;
    /// `maker` names who records it ("Cursor").
    pub fn describe(self, agent: &str, maker: &str) -> String {
        match self {
            UsageKind::Tokens => format!("{agent}: tokens per call"),
            UsageKind::CostOnly => format!("{agent}: cost only, tokens not recorded by {maker}"),
            UsageKind::NotRecorded => format!("{agent}: usage not recorded by {maker}"),
            UsageKind::Approximate => format!("{agent}: tokens and cost per call, as rounded by {maker}"),
        }
    }
}

/// Opens an agent's files: its [`Source`].
pub type OpenFn = fn(&SourceEnv) -> Box<dyn Source>;

/// Who an agent is, and what agentwatch can do with it: one per agent
/// folder (its `INFO`), listed in [`AGENTS`].
#[derive(Debug, Clone, Copy)]
pub struct AgentInfo {
    /// The agent type id used in the database, CLI and API ("claude-code").
    pub id: &'static str,
    /// The name the agent calls itself ("Claude Code").
    pub display: &'static str,
    /// For narrow tables ("Claude").
    pub short: &'static str,
    /// Other names accepted wherever an agent is named (`--agent claude`).
    pub aliases: &'static [&'static str],
    /// Its name in ccusage (`ccusage <name> daily`), if ccusage reads it.
    pub ccusage: Option<&'static str>,
    /// Words an MCP client's `clientInfo.name` of this agent begins with.
    pub client_needles: &'static [&'static str],
    /// Opens its files, if agentwatch reads them (its [`Source`]).
    pub open: Option<OpenFn>,
    /// What `agentwatch <target> install --agent <id>` can set up for it.
    pub installs: &'static [crate::install::Target],
    /// The files each of those installs edits, and how.
    pub(crate) install_files: Option<crate::install::FilesFn>,
    /// How its files record usage (see [`UsageKind`]).
    pub usage: UsageKind,
    /// When some of its sessions record usage otherwise than `usage` says:
    /// the kind of the session with this id (Aider's analytics log is
    /// exact where its chat history is rounded).
    pub session_usage: Option<fn(&str) -> UsageKind>,
}

impl AgentInfo {
    /// A known agent without a reader of its files yet: named only.
    pub const fn named(id: &'static str, display: &'static str, short: &'static str) -> AgentInfo {
        AgentInfo {
            id,
            display,
            short,
            aliases: &[],
            ccusage: None,
            client_needles: &[],
            open: None,
            installs: &[],
            install_files: None,
            usage: UsageKind::Tokens,
            session_usage: None,
        }
    }

    /// How the usage of its session with this id (the agent's own) is
    /// recorded.
    pub fn usage_of(&self, external_id: Option<&str>) -> UsageKind {
        match (self.session_usage, external_id) {
            (Some(of), Some(id)) => of(id),
            _ => self.usage,
        }
    }

    /// Whether `name` is this agent's id or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        self.id == name || self.aliases.contains(&name)
    }
}

/// Every agent agentwatch knows by name, in the order lists show them.
pub const AGENTS: &[&AgentInfo] = &[
    &claude::INFO,
    &codex::INFO,
    &gemini::INFO,
    &opencode::INFO,
    &kilo::INFO,
    &goose::INFO,
    &crush::INFO,
    &copilot::INFO,
    &droid::INFO,
    &amp::INFO,
    &qwen::INFO,
    &kimi::INFO,
    &grok::INFO,
    &zcode::INFO,
    &antigravity::INFO,
    &pi::INFO,
    &openclaw::INFO,
    &codebuff::INFO,
    &hermes::INFO,
    &cline::INFO,
    &roo::INFO,
    &aider::INFO,
    &cursor::INFO,
];

/// The agent with this id or alias.
pub fn agent_info(name: &str) -> Option<&'static AgentInfo> {
    AGENTS.iter().copied().find(|a| a.is_named(name))
}

/// One agent's transcripts.
pub trait Source: Send + Sync {
    /// Who the agent is: its folder's `INFO`.
    fn info(&self) -> &'static AgentInfo;

    /// The agent type id ("claude-code").
    fn agent(&self) -> &'static str {
        self.info().id
    }

    /// The directories that hold transcripts (watched by the daemon). A
    /// source that reads no usage (yet) has none.
    fn roots(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// The transcript roots to watch, including ones that do not exist yet
    /// (a fresh install): the monitor waits for them to appear.
    fn watch_roots(&self) -> Vec<PathBuf> {
        self.roots()
    }

    /// Where the agent's data is, for people (`agentwatch agents`): the
    /// transcript roots, or the folder of its database.
    fn data_paths(&self) -> Vec<PathBuf> {
        self.watch_roots()
    }

    /// Every transcript file, in no particular order.
    fn discover(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// How the agent stores `path`, one of its files: lines (the default),
    /// a document or a database.
    fn storage(&self, _path: &Path) -> Storage {
        Storage::Lines
    }

    /// A parser for `path`, resuming from `state` when given.
    fn parser(&self, _path: &Path, _state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(NoUsage)
    }

    /// For a document (see [`Storage::Document`]): what the whole of it says.
    /// `mtime_ms` is when it was last written. `Err`: it is not one (cut
    /// short while the agent rewrote it, say): counted, and read again when
    /// it changes.
    fn parse_document(
        &self,
        _path: &Path,
        _bytes: &[u8],
        _mtime_ms: i64,
        _out: &mut Vec<Record>,
    ) -> Result<(), LineError> {
        Ok(())
    }

    /// For a database source: a reader of `path`, resuming from `state`.
    fn table_reader(&self, _path: &Path, _state: Option<&str>) -> Option<Box<dyn TableReader>> {
        None
    }

    /// Whether `path` (under one of [`Source::roots`]) is a file this source
    /// reads: a watcher's event on it is read at once.
    fn reads_file(&self, path: &Path) -> bool {
        self.session_of(path).is_some()
    }

    /// More directories to watch for live changes, not recursively (a
    /// session registry, the agent's config dir where the transcript roots
    /// will appear). They need not exist yet.
    fn live_dirs(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// An exact link from a running process to its session, from the
    /// agent's own live-state records (Claude Code's session registry), with
    /// where its turn stands. Read at every scan: it is the first-party
    /// signal of the process's state.
    fn registry_link(&self, _p: &LiveProcess) -> Result<TranscriptLink, RegistryError> {
        Err(RegistryError::Missing)
    }

    /// Whether the agent keeps no list of its files, so that the source
    /// finds them from where the agent ran: it is handed [`Leads`]
    /// ([`Source::follow`]). Aider writes its history into each repository.
    fn follows_leads(&self) -> bool {
        false
    }

    /// What agentwatch knows of where the agent ran (its processes running
    /// now, its sessions' folders and files in the store), for a source that
    /// [`follows_leads`](Source::follows_leads). It keeps what it learns;
    /// true when that is a file or folder it did not know.
    fn follow(&self, _leads: &Leads) -> bool {
        false
    }

    /// Whether agentwatch reads this agent's token usage from its files.
    fn reads_usage(&self) -> bool {
        false
    }

    /// How the agent's files record its usage: its `INFO`'s.
    fn usage_kind(&self) -> UsageKind {
        self.info().usage
    }

    /// Whether agentwatch can read this agent's turns (its transcripts say
    /// when a turn starts and ends). Then a running agent with nothing said
    /// yet sits at its prompt.
    fn reads_turns(&self) -> bool {
        true
    }

    /// Whether a session whose process is gone is still carried on by the
    /// agent elsewhere (Codex's background server keeps a thread running
    /// after its terminal client quits).
    fn continues_without_process(&self, _external_id: &str) -> bool {
        false
    }

    /// The session a transcript file belongs to, if it is one of this
    /// agent's transcripts.
    fn session_of(&self, _path: &Path) -> Option<String> {
        None
    }

    /// The newest transcript written since the process started, in its
    /// working directory, not already `claimed` by another process.
    fn newest_link(&self, _p: &LiveProcess, _claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        None
    }

    /// Where the conversation stands, from the transcript's last lines.
    fn turn(&self, _path: &Path) -> Option<TurnInfo> {
        None
    }

    /// Where the conversation of the session with this id (the agent's
    /// own) stands, from `path`: a file of its own ([`Source::turn`], the
    /// default), or a database that holds it among others (Crush's
    /// `crush.db`), read through [`storage::sqlite`].
    fn session_turn(&self, path: &Path, _external_id: &str) -> Option<TurnInfo> {
        self.turn(path)
    }

    /// The transcript's last lines, for display.
    fn tail(&self, _path: &Path, _max: usize) -> Vec<TranscriptLine> {
        Vec::new()
    }

    /// Whether the agent sends hook (or plugin) events agentwatch reads.
    fn has_hooks(&self) -> bool {
        false
    }

    /// Reads one of the agent's hook (or plugin) payloads. `Err` says why
    /// it is not one (it lacks its session, say).
    fn hook_event(&self, _payload: &serde_json::Value) -> Result<HookEvent, String> {
        Err(format!("{} sends no hook events agentwatch reads", self.agent()))
    }

    /// The prefix of the agent's OpenTelemetry event names (`claude_code.`),
    /// if agentwatch reads its telemetry.
    fn otel_prefix(&self) -> Option<&'static str> {
        None
    }

    /// Reads one of the agent's OpenTelemetry log events: its name and
    /// attributes (the record's and its resource's, as JSON). `None`: it
    /// names no session or says nothing agentwatch uses.
    fn otel_event(&self, _name: &str, _attrs: &serde_json::Map<String, serde_json::Value>) -> Option<OtelEvent> {
        None
    }
}

/// What one OpenTelemetry log event of an agent says, in agentwatch's terms.
/// Events are batched by the agents' exporters (a second or more late), so
/// they are signs of life and facts, never the state of the turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtelEvent {
    /// The agent's own session id.
    pub session_id: String,
    /// A model call with its tokens.
    pub call: Option<OtelCall>,
    /// A tool call that finished: (tool, failed).
    pub tool_call: Option<(String, bool)>,
    /// A decision on a tool: (tool, decision as the agent words it).
    pub decision: Option<(String, String)>,
}

/// A model call an agent's telemetry reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtelCall {
    /// The provider's request id, when the event has it.
    pub request_id: Option<String>,
    pub model: String,
    pub tokens: Tokens,
    /// What the agent says the call cost.
    pub cost_usd: Option<f64>,
    pub duration_ms: i64,
}

/// An attribute as a number, whether the exporter sent an integer, a double
/// or a string of digits (Codex's `%` fields).
pub(crate) fn otel_num(a: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<f64> {
    match a.get(key)? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// A token count attribute: a whole, non-negative number (0 if absent).
pub(crate) fn otel_count(a: &serde_json::Map<String, serde_json::Value>, key: &str) -> u64 {
    otel_num(a, key).filter(|n| *n >= 0.0 && *n < 1e15).map_or(0, |n| n as u64)
}

/// A text attribute, non-empty.
pub(crate) fn otel_text(a: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<String> {
    match a.get(key)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean attribute: a bool or the text `true`/`false`.
pub(crate) fn otel_bool(a: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<bool> {
    match a.get(key)? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The parser of a source that reads no usage (yet): nothing from any line.
struct NoUsage;

impl LineParser for NoUsage {
    fn parse(&mut self, _line: &[u8], _offset: u64, _out: &mut Vec<Record>) -> Result<(), LineError> {
        Ok(())
    }

    fn state(&self) -> Option<String> {
        None
    }
}

/// What one hook or plugin event of an agent says, in agentwatch's terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookEvent {
    /// The agent's own session id; empty when the event names none (Codex's
    /// `notify` without a thread id): then its `cwd` finds the session.
    pub session_id: String,
    /// The event's name, for logs.
    pub event: String,
    pub cwd: Option<String>,
    /// The transcript the event names (kept only if it is one of the
    /// agent's own files).
    pub transcript_path: Option<PathBuf>,
    /// Where the turn stands now, if the event says.
    pub turn: Option<Turn>,
    /// The tool a permission prompt or question is about.
    pub tool: Option<PendingTool>,
    /// The event repeats what an earlier one said (a reminder): keep the
    /// tool that one named.
    pub keep_tool: bool,
    /// A tool call that finished: (tool, failed).
    pub tool_call: Option<(String, bool)>,
    /// A session (re)starts: an earlier end no longer holds.
    pub started: bool,
    /// The session ended.
    pub ended: bool,
    /// Says nothing about this session (Codex's title-generation side
    /// thread): recorded nowhere.
    pub ignore: bool,
    /// The agent's process, when the event names it (OpenCode's plugin):
    /// that process's session is this one.
    pub pid: Option<u32>,
}

impl HookEvent {
    /// The fields every hook payload in Claude Code's shape has (Claude Code,
    /// Codex, Gemini CLI, Qwen Code): the session, the event's name, the
    /// directory and the transcript. Returns the event's name too.
    pub(crate) fn claude_style(p: &serde_json::Value) -> Result<(HookEvent, String), String> {
        let session_id = text_field(p, "session_id").ok_or("hook payload has no session_id")?;
        let event = text_field(p, "hook_event_name").ok_or("hook payload has no hook_event_name")?;
        let ev = HookEvent {
            session_id,
            event: event.clone(),
            cwd: text_field(p, "cwd"),
            transcript_path: text_field(p, "transcript_path").map(Into::into),
            ..Default::default()
        };
        Ok((ev, event))
    }
}

/// The tool call a hook payload in Claude Code's shape is about
/// (`tool_name`, `tool_input`).
pub(crate) fn hook_tool(p: &serde_json::Value) -> Option<PendingTool> {
    let name = text_field(p, "tool_name")?;
    Some(PendingTool::from_input(&name, p.get("tool_input").unwrap_or(&serde_json::Value::Null)))
}

/// A string field of a hook payload, if present and not empty.
pub(crate) fn text_field(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(serde_json::Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Why an agent's live-state record of a process was not used.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistryError {
    /// There is none (the agent keeps none, has not written it yet, or
    /// removed it when it exited).
    Missing,
    /// There is one, but it is garbage, truncated, or names another pid:
    /// counted, logged, and otherwise ignored.
    Malformed(String),
}

/// A running agent, as the collector sees it.
#[derive(Debug, Clone)]
pub struct LiveProcess {
    /// The agent's own processes, outermost first.
    pub pids: Vec<u32>,
    /// Process start, seconds since the epoch.
    pub start: i64,
    pub cwd: Option<PathBuf>,
}

/// What agentwatch already knows of where an agent ran, handed to a source
/// whose agent keeps no list of its files ([`Source::follow`]): the
/// collector gives the processes it found at each scan, a full ingest what
/// the store knows. A source never looks at processes itself.
#[derive(Debug, Clone, Default)]
pub struct Leads {
    /// The agent's processes running now (the collector's scan).
    pub processes: Vec<LiveProcess>,
    /// Folders its sessions ran in (their projects, their processes' working
    /// directories), from the store.
    pub dirs: Vec<PathBuf>,
    /// Its files already read or linked to a process (the store's file
    /// cursors, its sessions' transcripts).
    pub files: Vec<PathBuf>,
}

/// A process linked to its session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TranscriptLink {
    pub external_id: String,
    pub path: Option<PathBuf>,
    /// The session's name, if the agent records one.
    pub name: Option<String>,
    /// The agent's own idea of its state (Claude's registry `status`).
    pub turn: Option<TurnInfo>,
    /// The session's project as the agent's files give it (Aider's
    /// repository root, the process running in a folder below); else the
    /// process's working directory is.
    pub project: Option<String>,
}

/// Where a conversation stands, and who said so.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnInfo {
    pub turn: Turn,
    /// When the deciding line or report was written, ms.
    pub at: Option<i64>,
    pub signal: Signal,
    /// The tool call the turn is about: pending approval, or a question.
    pub tool: Option<PendingTool>,
}

impl TurnInfo {
    pub fn new(turn: Turn, at: Option<i64>, signal: Signal) -> TurnInfo {
        TurnInfo { turn, at, signal, tool: None }
    }

    /// The turn given by the newest decisive line of the transcript's tail
    /// (each agent knows its own markers), with the tool call it waits on.
    ///
    /// "Newest" is by the lines' timestamps, then file order: Claude Code
    /// sometimes flushes a turn's reply before the prompt that started it.
    /// A line without a timestamp counts as written when the one before it was.
    pub(crate) fn from_tail(path: &Path, line_turn: fn(&serde_json::Value) -> Option<LineTurn>) -> Option<TurnInfo> {
        Self::from_lines(&last_lines(path, 64 * 1024), line_turn)
    }

    pub(crate) fn from_lines(
        lines: &[String],
        line_turn: fn(&serde_json::Value) -> Option<LineTurn>,
    ) -> Option<TurnInfo> {
        // (timestamp, index): the order lines were written in.
        let mut best: Option<((i64, usize), Turn)> = None;
        let mut newest_call: Option<((i64, usize), String, PendingTool)> = None;
        let mut answered: Vec<String> = Vec::new();
        let mut ts = i64::MIN;
        for (i, l) in lines.iter().enumerate() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else { continue };
            if let Some(t) = v["timestamp"].as_str().and_then(parse_ts) {
                ts = t.timestamp_millis();
            }
            let Some(lt) = line_turn(&v) else { continue };
            let at = (ts, i);
            if let Some(turn) = lt.turn
                && best.as_ref().is_none_or(|(b, _)| at >= *b)
            {
                best = Some((at, turn));
            }
            if let Some((id, tool)) = lt.call
                && newest_call.as_ref().is_none_or(|(c, _, _)| at >= *c)
            {
                newest_call = Some((at, id, tool));
            }
            answered.extend(lt.answers);
        }
        let ((at, _), turn) = best?;
        let mut info = TurnInfo::new(turn, (at != i64::MIN).then_some(at), Signal::Transcript);
        // The newest call, if nothing answered it and nothing came after it.
        if let Some((c_at, id, tool)) = newest_call
            && c_at >= best.map(|(b, _)| b).unwrap_or_default()
            && !answered.contains(&id)
            && turn != Turn::IDLE
            && turn != Turn::Ended
        {
            let _ = c_at;
            info.tool = Some(tool);
        }
        Some(info)
    }
}

/// What one transcript line says about the turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineTurn {
    /// The turn it decides, if it is decisive.
    pub turn: Option<Turn>,
    /// A tool call it makes: (call id, tool).
    pub call: Option<(String, PendingTool)>,
    /// Calls it answers (tool results), by call id.
    pub answers: Vec<String>,
}

impl LineTurn {
    pub fn turn(t: Turn) -> Option<LineTurn> {
        Some(LineTurn { turn: Some(t), ..Default::default() })
    }
}

/// One line of a transcript, for display. `text` is untrusted.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TranscriptLine {
    pub at: Option<String>,
    /// user, assistant, tool or system.
    pub role: &'static str,
    pub text: String,
}

/// The last `max_bytes` of a file, split into complete lines, newest last.
pub(crate) fn last_lines(path: &Path, max_bytes: u64) -> Vec<String> {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else { return Vec::new() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(max_bytes);
    if f.seek(SeekFrom::Start(from)).is_err() {
        return Vec::new();
    }
    let mut buf = Vec::new();
    if f.take(max_bytes).read_to_end(&mut buf).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if from > 0 && !lines.is_empty() {
        lines.remove(0); // probably cut
    }
    lines
}

/// The complete lines of a file's first `max_bytes`, oldest first.
pub(crate) fn first_lines(path: &Path, max_bytes: u64) -> Vec<String> {
    use std::io::Read;
    let Ok(f) = std::fs::File::open(path) else { return Vec::new() };
    let mut buf = Vec::new();
    if f.take(max_bytes).read_to_end(&mut buf).is_err() {
        return Vec::new();
    }
    // A last line without its newline may be cut (or still being written).
    let end = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    String::from_utf8_lossy(&buf[..end]).lines().map(str::to_string).collect()
}

/// Shortens untrusted text for display.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// Modification time of a file, ms.
pub(crate) fn mtime_ms(path: &Path) -> Option<i64> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// The environment the sources read their locations from, captured once so
/// tests can supply their own.
#[derive(Debug, Clone, Default)]
pub struct SourceEnv {
    pub home: Option<PathBuf>,
    pub vars: HashMap<String, String>,
}

impl SourceEnv {
    const VARS: &'static [&'static str] = &[
        "AIDER_ANALYTICS_LOG",
        "AIDER_CHAT_HISTORY_FILE",
        "ANTIGRAVITY_DATA_DIR",
        "APPDATA",
        "CLAUDE_CONFIG_DIR",
        "CLAWDBOT_STATE_DIR",
        "CLINE_DATA_DIR",
        "CLINE_DB_DATA_DIR",
        "CLINE_DIR",
        "CLINE_SESSION_DATA_DIR",
        "CODEBUFF_DATA_DIR",
        "CODEX_HOME",
        "COPILOT_HOME",
        "CRUSH_GLOBAL_DATA",
        "CURSOR_CONFIG_DIR",
        "CURSOR_DATA_DIR",
        "FACTORY_HOME",
        "GEMINI_CLI_HOME",
        "GOOSE_PATH_ROOT",
        "GROK_HOME",
        "HERMES_DATA_DIR_SUFFIX",
        "HERMES_HOME",
        "KILO_DB",
        "KIMI_CODE_HOME",
        "KIMI_SHARE_DIR",
        "LOCALAPPDATA",
        "NEXT_PUBLIC_CB_ENVIRONMENT",
        "OPENCLAW_DIR",
        "OPENCLAW_HOME",
        "OPENCLAW_STATE_DIR",
        "OPENCODE_DB",
        "PI_AGENT_DIR",
        "PI_CODING_AGENT_DIR",
        "QWEN_HOME",
        "QWEN_RUNTIME_DIR",
        "USERPROFILE",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "ZCODE_HOME",
    ];

    pub fn from_process() -> SourceEnv {
        let vars = Self::VARS
            .iter()
            .filter_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()).map(|v| (k.to_string(), v)))
            .collect();
        SourceEnv { home: crate::paths::home_dir(), vars }
    }

    /// A home and variables, as tests give them.
    #[cfg(test)]
    pub(crate) fn of(home: &str, vars: &[(&str, &str)]) -> SourceEnv {
        SourceEnv { home: Some(home.into()), vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// Paths from a comma-separated variable.
    pub fn path_list(&self, key: &str) -> Option<Vec<PathBuf>> {
        let v = self.var(key)?;
        let list: Vec<PathBuf> = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(PathBuf::from).collect();
        (!list.is_empty()).then_some(list)
    }
}

/// The sources of every agent whose files agentwatch reads, in [`AGENTS`] order.
pub fn all(env: &SourceEnv) -> Vec<Box<dyn Source>> {
    AGENTS.iter().filter_map(|a| a.open).map(|open| open(env)).collect()
}

/// Every `*.jsonl` file under `dir` whose name passes `keep`, recursively.
/// Symbolic links are not followed: a link inside an agent's folder must not
/// make agentwatch read files elsewhere.
pub(crate) fn find_jsonl(dir: &Path, keep: &(dyn Fn(&str) -> bool + Sync), out: &mut Vec<PathBuf>) {
    find_files(dir, &|name| name.ends_with(".jsonl") && keep(name), out)
}

/// Every file under `dir` whose name passes `keep`, recursively, without
/// following links. A tree of many folders (Kimi Code keeps each session
/// four deep) is walked on every core: level by level until there are
/// [`SPLIT_AT`] folders, then each of those on its own.
pub(crate) fn find_files(dir: &Path, keep: &(dyn Fn(&str) -> bool + Sync), out: &mut Vec<PathBuf>) {
    let mut level = vec![dir.to_path_buf()];
    while !level.is_empty() && level.len() < SPLIT_AT {
        let mut next = Vec::new();
        for d in &level {
            list_dir(d, keep, out, &mut next);
        }
        level = next;
    }
    let found = crate::util::par_map(&level, crate::util::io_threads(), SPLIT_AT, |d| {
        let mut found = Vec::new();
        walk_dir(d, keep, &mut found);
        found
    });
    out.extend(found.into_iter().flatten());
}

/// Folders in a walk's level before the rest is shared among threads.
const SPLIT_AT: usize = 32;

fn walk_dir(dir: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
    let mut dirs = Vec::new();
    list_dir(dir, keep, out, &mut dirs);
    for d in dirs {
        walk_dir(&d, keep, out);
    }
}

/// One folder's files that pass `keep` into `out`, its folders into `dirs`.
fn list_dir(dir: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>, dirs: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            dirs.push(entry.path());
        } else if ft.is_file() && keep(&entry.file_name().to_string_lossy()) {
            out.push(entry.path());
        }
    }
}

/// Whether `path` lies under one of `roots` by plain names only (no `..`,
/// no `.`): a path from outside (a hook payload) must not climb out.
pub(crate) fn plainly_within(roots: &[PathBuf], path: &Path) -> bool {
    path.is_absolute()
        && roots.iter().any(|r| {
            path.strip_prefix(r).is_ok_and(|rel| rel.components().all(|c| matches!(c, std::path::Component::Normal(_))))
        })
}

/// Whether `dir` is a folder under `root` that is reached without following
/// a symbolic link below `root` (`root` itself may be one): the live
/// collector's counterpart of [`find_jsonl`] not following links.
pub(crate) fn real_dir_within(root: &Path, dir: &Path) -> bool {
    let Ok(rel) = dir.strip_prefix(root) else { return false };
    let mut p = root.to_path_buf();
    for c in rel.components() {
        if !matches!(c, std::path::Component::Normal(_)) {
            return false;
        }
        p.push(c);
        if !std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            return false;
        }
    }
    true
}

/// The newest `*.jsonl` file directly in one of `dirs` (each a `(root,
/// dir)`: the dir is reached from its root without following links),
/// written at or after `since` (ms), and not `claimed` by another process.
pub(crate) fn newest_jsonl(
    dirs: &[(PathBuf, PathBuf)],
    since: i64,
    claimed: &dyn Fn(&Path) -> bool,
) -> Option<PathBuf> {
    let mut best: Option<(i64, PathBuf)> = None;
    for (root, dir) in dirs {
        if !real_dir_within(root, dir) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "jsonl")
                || !e.file_type().is_ok_and(|t| t.is_file())
                || claimed(&path)
            {
                continue;
            }
            let Some(m) = mtime_ms(&path).filter(|m| *m >= since) else { continue };
            if best.as_ref().is_none_or(|(b, _)| m > *b) {
                best = Some((m, path));
            }
        }
    }
    best.map(|(_, p)| p)
}

/// Removes duplicate paths that name the same directory.
pub(crate) fn dedup_dirs(dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for d in dirs {
        let canon = std::fs::canonicalize(&d).unwrap_or_else(|_| d.clone());
        if !seen.contains(&canon) {
            seen.push(canon);
            out.push(d);
        }
    }
    out
}

/// The most tokens of one kind a usage line may report: far more than any
/// model call or any session's running total reaches (about 10^12), yet
/// small enough that the store's signed 64-bit sums of millions of events
/// cannot overflow. A line that reports more is malformed.
pub const MAX_TOKENS: u64 = 1 << 40;

/// The most a line's own cost (Claude's legacy `costUSD`) may be, in USD.
/// Costs that are negative or above this are ignored, and the call is priced
/// from its tokens instead.
pub const MAX_LINE_COST: f64 = 1_000_000.0;

/// A cost a line reports, if it is one a call can have.
pub(crate) fn plausible_cost(c: Option<f64>) -> Option<f64> {
    c.filter(|c| c.is_finite() && (0.0..=MAX_LINE_COST).contains(c))
}

/// Parses an RFC 3339 timestamp as written by the agents.
pub(crate) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

/// A cheap structural check for lines the parser does not need to read in
/// full: a complete JSON object line starts with `{` and ends with `}`.
pub(crate) fn looks_complete(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.first() == Some(&b'{') && t.last() == Some(&b'}')
}

/// The calls among `records`, in order (for tests).
#[cfg(test)]
pub(crate) fn calls(records: &[Record]) -> Vec<&UsageEvent> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Usage(u) => Some(u),
            _ => None,
        })
        .collect()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn every_agent_is_named_once_and_its_folder_opens_its_own_source() {
        let mut names = HashMap::new();
        for a in AGENTS {
            for name in std::iter::once(a.id).chain(a.aliases.iter().copied()) {
                assert_eq!(names.insert(name, a.id), None, "{name} names two agents");
            }
            assert_eq!(agent_info(a.id).map(|i| i.display), Some(a.display));
        }
        let env = SourceEnv { home: Some("/home/u".into()), vars: HashMap::new() };
        let ids: Vec<&str> = all(&env).iter().map(|s| s.agent()).collect();
        let readers: Vec<&str> = AGENTS.iter().filter(|a| a.open.is_some()).map(|a| a.id).collect();
        assert_eq!(ids, readers);
        assert!(ids.len() >= 10, "{ids:?}");
    }

    #[test]
    fn every_agent_has_a_process_signature_and_every_signature_an_agent() {
        let sigs = crate::collector::signatures::Signatures::builtin();
        let signed: std::collections::HashSet<&str> = sigs.list().iter().map(|s| s.agent.as_str()).collect();
        for a in AGENTS {
            assert!(signed.contains(a.id), "no [[signature]] for {}", a.id);
        }
        for s in &signed {
            assert!(agent_info(s).is_some(), "signature of {s}, an agent without an INFO");
        }
    }

    #[test]
    fn every_install_an_agent_lists_names_its_files() {
        let env = SourceEnv { home: Some("/home/u".into()), vars: HashMap::new() };
        for a in AGENTS {
            assert_eq!(a.installs.is_empty(), a.install_files.is_none(), "{}", a.id);
            for t in a.installs {
                let files = (a.install_files.unwrap())(*t, &env).unwrap();
                assert!(!files.is_empty() && files.iter().all(|(p, _)| p.starts_with("/home/u")), "{} {t:?}", a.id);
            }
        }
    }

    #[test]
    fn real_dirs_are_reached_without_following_links_below_the_root() {
        let t = tempfile::tempdir().unwrap();
        let (root, elsewhere) = (t.path().join("root"), t.path().join("elsewhere"));
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(elsewhere.join("c")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join("a/linked")).unwrap();
        std::os::unix::fs::symlink(&root, t.path().join("root-link")).unwrap();
        assert!(real_dir_within(&root, &root.join("a/b")));
        assert!(
            real_dir_within(&t.path().join("root-link"), &t.path().join("root-link/a/b")),
            "the root may be a link"
        );
        assert!(!real_dir_within(&root, &root.join("a/linked")));
        assert!(!real_dir_within(&root, &root.join("a/linked/c")));
        assert!(!real_dir_within(&root, &root.join("a/missing")));
        assert!(!real_dir_within(&root, &root.join("a/../../elsewhere")));
        assert!(!real_dir_within(&root, &elsewhere));
    }

    /// A walk finds the same files whether a tree is narrow (walked on this
    /// thread) or wider than [`SPLIT_AT`] at some depth (shared among
    /// threads), at every depth, and never through a link.
    #[test]
    fn a_walk_finds_every_file_at_every_depth_narrow_or_wide_and_follows_no_link() {
        for width in [3, SPLIT_AT - 1, SPLIT_AT, 3 * SPLIT_AT] {
            let t = tempfile::tempdir().unwrap();
            let (root, elsewhere) = (t.path().join("root"), t.path().join("elsewhere"));
            std::fs::create_dir_all(&elsewhere).unwrap();
            std::fs::write(elsewhere.join("wire.jsonl"), "").unwrap();
            let mut want = Vec::new();
            std::fs::create_dir_all(&root).unwrap();
            std::fs::write(root.join("wire.jsonl"), "").unwrap();
            want.push(root.join("wire.jsonl"));
            for i in 0..width {
                // Kimi Code's shape: <wd>/<session>/agents/<agent>/wire.jsonl.
                let session = root.join(format!("wd{i}/s{i}"));
                let agent = session.join("agents/main");
                std::fs::create_dir_all(&agent).unwrap();
                for (dir, name) in [(&session, "wire.jsonl"), (&session, "state.json"), (&agent, "wire.jsonl")] {
                    std::fs::write(dir.join(name), "").unwrap();
                }
                want.extend([session.join("wire.jsonl"), agent.join("wire.jsonl")]);
            }
            std::os::unix::fs::symlink(&elsewhere, root.join("wd0/linked")).unwrap();
            let mut got = Vec::new();
            find_files(&root, &|name| name == "wire.jsonl", &mut got);
            got.sort();
            want.sort();
            assert_eq!(got, want, "{width} folders wide");
        }
    }
}
