//! Installing agentwatch into the agents' own configuration, and taking it
//! out again: the only place agentwatch writes to the agents' files.
//!
//! - hooks, Claude Code: `hooks` entries in `settings.json` that run
//!   `agentwatch hook` on the events that tell where a turn stands
//!   (permission requests included); with `http`, the same events are
//!   posted to the loopback API instead (no process per event);
//! - hooks, Codex: `[[hooks.<Event>]]` tables in `config.toml` (Codex asks
//!   the person to trust them at its next start), and `notify`;
//! - hooks, Gemini CLI: `hooks` entries in `~/.gemini/settings.json`;
//! - MCP proxy, Claude Code / Cursor / Codex: every stdio MCP server in
//!   `~/.claude.json`, `~/.cursor/mcp.json` or `config.toml` is wrapped as
//!   `agentwatch mcp-proxy --label NAME -- <its command>`;
//! - status line, Claude Code: `statusLine` in `settings.json` runs
//!   `agentwatch statusline`; a command already there is kept and run by it
//!   (`--then`), its output printed after agentwatch's line, and put back
//!   on uninstall;
//! - telemetry, Claude Code / Codex / Gemini CLI: the agent's OpenTelemetry
//!   log export, pointed at the API's OTLP endpoint with the hook token
//!   (Claude: `env` in `settings.json`; Codex: `[otel]` in `config.toml`;
//!   Gemini: `telemetry` in `settings.json`, whose exporter cannot carry a
//!   header: the person exports `OTEL_EXPORTER_OTLP_HEADERS` themselves).
//!   Telemetry already sent elsewhere is left alone.
//!
//! Every change is planned first (with a unified diff to show), is
//! idempotent (installing twice changes nothing), keeps everything else in
//! the file, backs the file up before writing, and writes atomically.
//! Uninstalling removes exactly what installing added.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::sources::{AgentInfo, SourceEnv};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Hooks,
    McpProxy,
    /// Claude Code's `statusLine`: `agentwatch statusline`, wrapping the
    /// person's own status line command if they have one.
    Statusline,
    /// The agent's OpenTelemetry logs, sent to the API (`POST /v1/logs`).
    Telemetry,
}

impl Target {
    /// Every target, in the order the app's integrations table shows them.
    pub const ALL: [Target; 4] = [Target::Hooks, Target::McpProxy, Target::Statusline, Target::Telemetry];

    /// The target of that name ([`Target::name`]).
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The command's name: `agentwatch <name> install`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Hooks => "hooks",
            Target::McpProxy => "mcp-proxy",
            Target::Statusline => "statusline",
            Target::Telemetry => "telemetry",
        }
    }
}

/// The files an install of `Target` edits for one agent, and how: each
/// agent folder's `install::files` (see [`crate::sources::AgentInfo`]).
/// Called only for the targets the agent lists in `installs`.
pub(crate) type FilesFn = fn(Target, &SourceEnv) -> Result<Vec<(PathBuf, Editor)>>;

/// An agent something can be installed for: one of [`crate::sources::AGENTS`].
#[derive(Debug, Clone, Copy)]
pub struct Agent(&'static AgentInfo);

impl PartialEq for Agent {
    fn eq(&self, other: &Agent) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for Agent {}

impl Agent {
    /// The agent named by id or alias that agentwatch can install for.
    pub fn parse(s: &str) -> Result<Agent> {
        let expected = or_list(&installable(None));
        match crate::sources::agent_info(s) {
            Some(a) if !a.installs.is_empty() => Ok(Agent(a)),
            Some(a) => Err(Error::Usage(format!(
                "{} has no hooks, MCP proxy, status line or telemetry agentwatch installs (expected {expected})",
                a.display
            ))),
            None => Err(Error::Usage(format!("unknown agent '{s}' (expected {expected})"))),
        }
    }

    pub fn id(self) -> &'static str {
        self.0.id
    }
}

/// An agent something can be installed for, and what: a row of the app's
/// integrations table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub agent: &'static str,
    pub name: &'static str,
    /// In [`Target::ALL`]'s order.
    pub targets: Vec<Target>,
}

/// Every agent something can be installed for (`sources::AGENTS`' order),
/// with its targets.
pub fn offers() -> Vec<Offer> {
    crate::sources::AGENTS
        .iter()
        .filter(|a| !a.installs.is_empty())
        .map(|a| Offer {
            agent: a.id,
            name: a.display,
            targets: Target::ALL.into_iter().filter(|t| a.installs.contains(t)).collect(),
        })
        .collect()
}

/// The ids of the agents with an install (of `target`, or of any).
fn installable(target: Option<Target>) -> Vec<&'static str> {
    crate::sources::AGENTS
        .iter()
        .filter(|a| match target {
            Some(t) => a.installs.contains(&t),
            None => !a.installs.is_empty(),
        })
        .map(|a| a.id)
        .collect()
}

/// "a, b or c".
fn or_list(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => items.join(""),
    }
}

/// "a, b and c".
fn and_list(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => items.join(""),
    }
}

/// Why `target` cannot be installed for `agent`, and what can.
fn unsupported(target: Target, agent: Agent) -> Error {
    let knows = and_list(&installable(Some(target)));
    let why = match target {
        Target::Statusline => {
            let names: Vec<&str> = crate::sources::AGENTS
                .iter()
                .filter(|a| a.installs.contains(&Target::Statusline))
                .map(|a| a.display)
                .collect();
            format!("only {} has a status line command", and_list(&names))
        }
        Target::Telemetry => format!("telemetry install knows {knows} (the agents that export OpenTelemetry)"),
        Target::Hooks => format!("{} has no hooks agentwatch can use (hooks install knows {knows})", agent.0.display),
        Target::McpProxy => format!("mcp-proxy install knows {knows}"),
    };
    let others: Vec<String> =
        agent.0.installs.iter().map(|t| format!("`{} install --agent {}`", t.name(), agent.0.id)).collect();
    match others.is_empty() {
        true => Error::Usage(why),
        false => Error::Usage(format!(
            "{why}; for {}, try {}",
            agent.0.display,
            or_list(&others.iter().map(String::as_str).collect::<Vec<_>>())
        )),
    }
}

/// What the agents' configuration is to run: the agentwatch binary, with
/// the data dir the person chose (a hook that wrote elsewhere would be lost),
/// and for Claude Code's `http` hooks the API to post to.
#[derive(Debug, Clone, PartialEq)]
pub struct Exe {
    pub path: PathBuf,
    pub data_dir: Option<PathBuf>,
    /// `http://127.0.0.1:PORT` and the hook-only token, for `http` hooks
    /// and telemetry.
    pub http: Option<(String, String)>,
}

impl Exe {
    pub fn new(path: &Path) -> Exe {
        Exe { path: path.to_path_buf(), data_dir: None, http: None }
    }

    /// The arguments before the subcommand: `--data-dir DIR` when chosen.
    fn global_args(&self) -> Vec<String> {
        match &self.data_dir {
            Some(d) => vec!["--data-dir".into(), d.display().to_string()],
            None => Vec::new(),
        }
    }

    /// `agentwatch [--data-dir DIR] statusline [--then CMD]`, as one shell command.
    fn statusline_command(&self, then: Option<&str>) -> String {
        let mut words = vec![self.path.display().to_string()];
        words.extend(self.global_args());
        words.push("statusline".into());
        let mut cmd = words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ");
        if let Some(t) = then {
            cmd.push_str(&format!("{THEN}{}", shell_quote(t)));
        }
        cmd
    }

    /// `agentwatch [--data-dir DIR] hook --agent AGENT`, as one shell command.
    fn hook_command(&self, agent: &str) -> String {
        let mut words = vec![self.path.display().to_string()];
        words.extend(self.global_args());
        words.extend(["hook".into(), "--agent".into(), agent.into()]);
        words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
    }
}

/// One file to change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: PathBuf,
    /// The file as it is (None: it does not exist yet).
    pub before: Option<String>,
    pub after: String,
    /// A unified diff, for people.
    pub diff: String,
    /// Uninstalling removes the file (agentwatch's own, the OpenCode plugin).
    pub remove: bool,
}

/// What an install or uninstall would do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub target: Target,
    pub agent: Agent,
    pub uninstall: bool,
    /// Already in place (for install) or already absent (for uninstall).
    pub done: bool,
    pub changes: Vec<Change>,
    /// Things left alone, e.g. MCP servers that are not stdio.
    pub notes: Vec<String>,
}

/// Whether `agent` exports OpenTelemetry agentwatch reads: a usage error
/// if not (checked before anything else is asked for).
pub fn check_telemetry_agent(agent: Agent) -> Result<()> {
    match agent.0.installs.contains(&Target::Telemetry) {
        true => Ok(()),
        false => Err(unsupported(Target::Telemetry, agent)),
    }
}

/// Plans an install (or uninstall). `exe` is the agentwatch binary to call.
pub fn plan(target: Target, agent: Agent, uninstall: bool, env: &SourceEnv, exe: &Exe) -> Result<Plan> {
    let mut p = Plan { target, agent, uninstall, done: false, changes: Vec::new(), notes: Vec::new() };
    if exe.http.is_some()
        && !(target == Target::Hooks && agent.0.id == crate::sources::claude::INFO.id)
        && target != Target::Telemetry
    {
        return Err(Error::Usage("--http is for `hooks install --agent claude-code` only".into()));
    }
    if target == Target::Telemetry && !uninstall && exe.http.is_none() {
        return Err(Error::Other(
            "telemetry install needs the API's port and token: start `agentwatch daemon` or the app once".into(),
        ));
    }
    let files = match agent.0.install_files {
        Some(files) if agent.0.installs.contains(&target) => files(target, env)?,
        _ => return Err(unsupported(target, agent)),
    };
    for (path, editor) in files {
        let before = match std::fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(&path, e)),
        };
        let text = before.clone().unwrap_or_default();
        let after = editor.edit(&path, &text, uninstall, exe, &mut p.notes)?;
        if after != text && !(before.is_none() && uninstall) {
            let diff = similar::TextDiff::from_lines(&text, &after)
                .unified_diff()
                .context_radius(3)
                .header(&path.display().to_string(), &path.display().to_string())
                .to_string();
            let remove = uninstall && after.is_empty() && matches!(editor, Editor::OpenCodePlugin);
            p.changes.push(Change { path, before, after, diff, remove });
        }
    }
    p.done = p.changes.is_empty();
    Ok(p)
}

/// Writes a plan's changes, backing each existing file up first. Returns
/// the backups made.
pub fn apply(p: &Plan) -> Result<Vec<PathBuf>> {
    let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
    let mut backups = Vec::new();
    for c in &p.changes {
        if let Some(dir) = c.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mode = std::fs::metadata(&c.path).ok().map(|m| m.permissions());
        if c.before.is_some() {
            let name = format!(
                "{}.agentwatch-backup-{stamp}",
                c.path.file_name().and_then(|n| n.to_str()).unwrap_or("config")
            );
            // Never overwrite an earlier backup (two installs in a second).
            let mut backup = c.path.with_file_name(&name);
            let mut n = 1;
            while backup.exists() {
                n += 1;
                backup = c.path.with_file_name(format!("{name}-{n}"));
            }
            std::fs::copy(&c.path, &backup).map_err(|e| Error::io(&backup, e))?;
            backups.push(backup);
        }
        if c.remove {
            std::fs::remove_file(&c.path).map_err(|e| Error::io(&c.path, e))?;
            continue;
        }
        // The new content is private from its first byte (these files may
        // hold tokens), then gets the original file's mode.
        let tmp = c.path.with_extension("agentwatch-tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o.open(&tmp).map_err(|e| Error::io(&tmp, e))?;
        std::io::Write::write_all(&mut f, c.after.as_bytes()).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        if let Some(perm) = mode {
            let _ = std::fs::set_permissions(&tmp, perm);
        }
        std::fs::rename(&tmp, &c.path).map_err(|e| Error::io(&c.path, e))?;
    }
    Ok(backups)
}

/// The home directory, which every agent's configuration is under.
pub(crate) fn home(env: &SourceEnv) -> Result<PathBuf> {
    env.home.clone().ok_or_else(|| Error::Other("cannot find the home directory".into()))
}

/// How agentwatch's OpenCode plugin begins: a file that does not is someone
/// else's.
const PLUGIN_MARK: &str = "// agentwatch: tells agentwatch";

/// The Claude Code hook events agentwatch listens to; tool events take a
/// matcher.
const CLAUDE_EVENTS: &[(&str, bool)] = &[
    ("SessionStart", false),
    ("UserPromptSubmit", false),
    ("PreToolUse", true),
    ("PermissionRequest", true),
    ("PostToolUse", true),
    ("PostToolUseFailure", true),
    ("PreCompact", false),
    ("Notification", false),
    ("Stop", false),
    ("SubagentStop", false),
    ("SessionEnd", false),
];

/// Codex's hook events (0.171): a turn starts, a tool waits for approval,
/// a turn ends (or is interrupted: a denied approval ends it), the thread
/// is unloaded.
const CODEX_EVENTS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "Stop",
    "Interrupt",
    "SessionEnd",
];

/// Gemini CLI's hook events (0.61), every one with the matcher `*`. Not the
/// per-chunk model events: Gemini waits for every hook.
const GEMINI_EVENTS: &[(&str, bool)] = &[
    ("SessionStart", true),
    ("BeforeAgent", true),
    ("BeforeTool", true),
    ("Notification", true),
    ("AfterTool", true),
    ("AfterAgent", true),
    ("SessionEnd", true),
];

pub(crate) enum Editor {
    /// A file of agentwatch's own: written whole, removed on uninstall.
    OpenCodePlugin,
    ClaudeHooks,
    ClaudeStatusline,
    ClaudeTelemetry,
    CodexTelemetry,
    GeminiTelemetry,
    CodexHooks,
    GeminiHooks,
    QwenHooks,
    JsonServers,
    TomlServers,
}

impl Editor {
    fn edit(&self, path: &Path, text: &str, uninstall: bool, exe: &Exe, notes: &mut Vec<String>) -> Result<String> {
        match self {
            Editor::OpenCodePlugin => {
                if !text.is_empty() && !text.starts_with(PLUGIN_MARK) {
                    return Err(Error::Other(format!("{}: not agentwatch's plugin; left alone", path.display())));
                }
                if uninstall {
                    return Ok(String::new());
                }
                let mut argv = vec![exe.path.display().to_string()];
                argv.extend(exe.global_args());
                argv.extend(["hook".into(), "--agent".into(), "opencode".into()]);
                let argv = serde_json::to_string(&argv).expect("serializes");
                Ok(crate::sources::opencode::PLUGIN.replace("__AGENTWATCH_COMMAND__", &argv))
            }
            Editor::ClaudeHooks => edit_json(path, text, |root| claude_hooks(root, uninstall, exe)),
            Editor::ClaudeStatusline => edit_json(path, text, |root| claude_statusline(root, uninstall, exe)),
            Editor::GeminiHooks => edit_json(path, text, |root| gemini_hooks(root, uninstall, exe)),
            Editor::ClaudeTelemetry => edit_json(path, text, |root| claude_telemetry(path, root, uninstall, exe)),
            Editor::GeminiTelemetry => {
                let out = edit_json(path, text, |root| gemini_telemetry(path, root, uninstall, exe))?;
                if !uninstall && let Some((_, token)) = &exe.http {
                    notes.push(format!(
                        "Gemini CLI cannot read a token from settings.json: add `export OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer {token}'` to your shell profile (this token can only post hook events and telemetry)"
                    ));
                }
                Ok(out)
            }
            Editor::CodexTelemetry => edit_toml(path, text, |doc| codex_telemetry(path, doc, uninstall, exe)),
            Editor::QwenHooks => edit_json(path, text, |root| qwen_hooks(root, uninstall, exe)),
            Editor::JsonServers => edit_json(path, text, |root| {
                if let Some(s) = root.get_mut("mcpServers").and_then(Value::as_object_mut) {
                    wrap_json_servers(s, uninstall, exe, "", notes);
                }
                if let Some(projects) = root.get_mut("projects").and_then(Value::as_object_mut) {
                    for (dir, p) in projects.iter_mut() {
                        if let Some(s) = p.get_mut("mcpServers").and_then(Value::as_object_mut) {
                            wrap_json_servers(s, uninstall, exe, dir, notes);
                        }
                    }
                }
                Ok(())
            }),
            Editor::CodexHooks => edit_toml(path, text, |doc| {
                codex_hooks(doc, uninstall, exe)?;
                codex_notify(doc, uninstall, exe, notes)?;
                if !uninstall {
                    notes.push(
                        "Codex asks you to review new hooks when it next starts: choose \"Trust all and continue\""
                            .into(),
                    );
                }
                Ok(())
            }),
            Editor::TomlServers => edit_toml(path, text, |doc| {
                if let Some(servers) = doc.get_mut("mcp_servers").and_then(|i| i.as_table_like_mut()) {
                    let names: Vec<String> = servers.iter().map(|(k, _)| k.to_string()).collect();
                    for name in names {
                        let Some(t) = servers.get_mut(&name).and_then(|i| i.as_table_like_mut()) else { continue };
                        wrap_toml_server(&name, t, uninstall, exe, notes);
                    }
                }
                Ok(())
            }),
        }
    }
}

fn edit_json(path: &Path, text: &str, f: impl FnOnce(&mut Map<String, Value>) -> Result<()>) -> Result<String> {
    let mut root: Value = if text.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(text)
            .map_err(|e| Error::Other(format!("{}: not valid JSON ({e}); left alone", path.display())))?
    };
    let obj = root
        .as_object_mut()
        .ok_or_else(|| Error::Other(format!("{}: not a JSON object; left alone", path.display())))?;
    f(obj)?;
    if text.trim().is_empty() && obj.is_empty() {
        return Ok(String::new());
    }
    Ok(serde_json::to_string_pretty(&root).expect("serializes") + "\n")
}

fn edit_toml(path: &Path, text: &str, f: impl FnOnce(&mut toml_edit::DocumentMut) -> Result<()>) -> Result<String> {
    let mut doc: toml_edit::DocumentMut =
        text.parse().map_err(|e| Error::Other(format!("{}: not valid TOML ({e}); left alone", path.display())))?;
    f(&mut doc)?;
    Ok(doc.to_string())
}

/// One word of a hook command, quoted for the shell the agent runs it in:
/// `sh` on Unix. On Windows that may be `cmd.exe`, PowerShell or Git Bash,
/// which all read a double-quoted path the same way (a Windows path cannot
/// hold `"`; one holding `%` or `$` would be expanded by some of them).
fn shell_quote(s: &str) -> String {
    quote_word(s, cfg!(windows))
}

fn quote_word(s: &str, windows: bool) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c)) {
        s.to_string()
    } else if windows {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Between agentwatch's status line command and the person's own, which it
/// runs after itself.
const THEN: &str = " --then ";

/// Whether a status line command is agentwatch's, and the person's own
/// command it wraps, if any.
fn our_statusline(cmd: &str) -> Option<Option<String>> {
    let head = cmd.split(THEN).next().unwrap_or(cmd);
    if !(head.contains("agentwatch") && head.split_whitespace().last() == Some("statusline")) {
        return None;
    }
    Some(cmd.find(THEN).map(|i| unquote_word(&cmd[i + THEN.len()..])))
}

/// The inverse of [`quote_word`]: `'it'\''s'` → `it's`, `"a b"` → `a b`.
fn unquote_word(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => out.extend(chars.by_ref().take_while(|c| *c != '\'')),
            '"' => out.extend(chars.by_ref().take_while(|c| *c != '"')),
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// Sets (or takes out) agentwatch's status line. The person's own status
/// line command is wrapped, then restored; their other status line settings
/// (padding, refresh interval) are kept.
fn claude_statusline(root: &mut Map<String, Value>, uninstall: bool, exe: &Exe) -> Result<()> {
    let current = root.get("statusLine").and_then(|v| v.get("command")).and_then(Value::as_str).map(str::to_string);
    let wrapped = current.as_deref().and_then(our_statusline);
    if uninstall {
        match wrapped {
            None => {}
            Some(None) => {
                root.remove("statusLine");
            }
            Some(Some(theirs)) => {
                if let Some(o) = root.get_mut("statusLine").and_then(Value::as_object_mut) {
                    o.insert("command".into(), Value::String(theirs));
                }
            }
        }
        return Ok(());
    }
    let theirs = match (&wrapped, &current) {
        (Some(then), _) => then.clone(),
        (None, Some(cmd)) if !cmd.trim().is_empty() => Some(cmd.clone()),
        _ => None,
    };
    let command = Value::String(exe.statusline_command(theirs.as_deref()));
    match root.get_mut("statusLine").and_then(Value::as_object_mut) {
        Some(o) => {
            o.insert("type".into(), json!("command"));
            o.insert("command".into(), command);
        }
        None => {
            root.insert("statusLine".into(), json!({"type": "command", "command": command, "padding": 0}));
        }
    }
    Ok(())
}

/// The variables Claude Code's telemetry install sets in `settings.json`'s
/// `env`: logs only, as protobuf, to the API, every 2 s.
fn claude_telemetry_env(api: &str, token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1".into()),
        ("OTEL_LOGS_EXPORTER", "otlp".into()),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf".into()),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", format!("{api}/v1/logs")),
        ("OTEL_EXPORTER_OTLP_HEADERS", format!("Authorization=Bearer {token}")),
        ("OTEL_LOGS_EXPORT_INTERVAL", "2000".into()),
    ]
}

/// Whether an OTLP endpoint is agentwatch's API (any port).
fn our_endpoint(url: &str) -> bool {
    url.strip_prefix("http://127.0.0.1:")
        .is_some_and(|rest| rest.split(['/', '?']).next().is_some_and(|p| p.parse::<u16>().is_ok()))
}

fn claude_telemetry(path: &Path, root: &mut Map<String, Value>, uninstall: bool, exe: &Exe) -> Result<()> {
    let env = root.entry("env").or_insert_with(|| json!({}));
    let Some(env) = env.as_object_mut() else {
        return Err(Error::Other(format!("{}: `env` is not an object; left alone", path.display())));
    };
    let endpoint = env.get("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT").and_then(Value::as_str).map(str::to_string);
    let ours = endpoint.as_deref().is_some_and(our_endpoint);
    if uninstall {
        if ours {
            for (k, _) in claude_telemetry_env("", "") {
                env.remove(k);
            }
        }
        if env.is_empty() {
            root.remove("env");
        }
        return Ok(());
    }
    let elsewhere = endpoint
        .filter(|_| !ours)
        .or_else(|| env.get("OTEL_EXPORTER_OTLP_ENDPOINT").and_then(Value::as_str).map(str::to_string));
    if let Some(e) = elsewhere {
        return Err(Error::Other(format!(
            "{}: Claude Code already sends its telemetry to {e}; left alone",
            path.display()
        )));
    }
    let (api, token) = exe.http.as_ref().expect("checked in plan");
    for (k, v) in claude_telemetry_env(api, token) {
        env.insert(k.into(), Value::String(v));
    }
    Ok(())
}

fn gemini_telemetry(path: &Path, root: &mut Map<String, Value>, uninstall: bool, exe: &Exe) -> Result<()> {
    let current = root.get("telemetry").cloned();
    let ours = current.as_ref().and_then(|t| t.get("otlpEndpoint")).and_then(Value::as_str).is_some_and(our_endpoint);
    if uninstall {
        if ours {
            root.remove("telemetry");
        }
        return Ok(());
    }
    let on = |t: &Value| t.as_bool() == Some(true) || t.get("enabled").and_then(Value::as_bool) == Some(true);
    if let Some(t) = current.as_ref().filter(|t| !ours && on(t)) {
        let to = t.get("otlpEndpoint").and_then(Value::as_str).unwrap_or("its default collector");
        return Err(Error::Other(format!(
            "{}: Gemini CLI already sends its telemetry to {to}; left alone",
            path.display()
        )));
    }
    let (api, _) = exe.http.as_ref().expect("checked in plan");
    // logPrompts: Gemini's default sends prompt text; agentwatch reads none.
    root.insert(
        "telemetry".into(),
        json!({"enabled": true, "target": "local", "otlpProtocol": "http", "otlpEndpoint": api, "logPrompts": false}),
    );
    Ok(())
}

fn codex_telemetry(path: &Path, doc: &mut toml_edit::DocumentMut, uninstall: bool, exe: &Exe) -> Result<()> {
    let exporter = doc.get("otel").and_then(|o| o.get("exporter"));
    let endpoint = exporter
        .and_then(|e| e.get("otlp-http"))
        .and_then(|h| h.get("endpoint"))
        .and_then(|e| e.as_str())
        .map(str::to_string);
    let ours = endpoint.as_deref().is_some_and(our_endpoint);
    if uninstall {
        if ours && let Some(otel) = doc.get_mut("otel").and_then(|o| o.as_table_like_mut()) {
            otel.remove("exporter");
            if otel.is_empty() {
                doc.remove("otel");
            }
        }
        return Ok(());
    }
    let configured = exporter.is_some_and(|e| e.as_str() != Some("none"));
    if configured && !ours {
        return Err(Error::Other(format!(
            "{}: Codex already exports its telemetry ([otel] exporter{}); left alone",
            path.display(),
            endpoint.map(|e| format!(" to {e}")).unwrap_or_default()
        )));
    }
    let (api, token) = exe.http.as_ref().expect("checked in plan");
    let mut headers = toml_edit::InlineTable::new();
    headers.insert("Authorization", format!("Bearer {token}").into());
    let mut http = toml_edit::Table::new();
    http.insert("endpoint", toml_edit::value(format!("{api}/v1/logs")));
    http.insert("protocol", toml_edit::value("binary"));
    http.insert("headers", toml_edit::value(headers));
    let mut exp = toml_edit::Table::new();
    exp.set_implicit(true);
    exp.insert("otlp-http", toml_edit::Item::Table(http));
    if doc.get("otel").is_none() {
        doc.insert("otel", toml_edit::Item::Table(toml_edit::Table::new()));
    }
    let otel = doc
        .get_mut("otel")
        .and_then(|o| o.as_table_like_mut())
        .ok_or_else(|| Error::Other(format!("{}: `otel` is not a table; left alone", path.display())))?;
    otel.insert("exporter", toml_edit::Item::Table(exp));
    Ok(())
}

/// Whether a hook command is one of agentwatch's (any install path, any
/// version: `agentwatch hook`, `agentwatch --data-dir D hook --agent X`).
fn is_our_hook(cmd: &str) -> bool {
    cmd.contains("agentwatch") && cmd.split_whitespace().any(|w| w == "hook")
}

/// Whether an `http` hook posts to agentwatch's API.
fn is_our_url(url: &str) -> bool {
    url.starts_with("http://127.0.0.1:") && url.contains("/api/hooks/")
}

/// Whether a hook entry (`{"type": …, "command"|"url": …}`) is agentwatch's.
fn is_ours(h: &Value) -> bool {
    h.get("command").and_then(Value::as_str).is_some_and(is_our_hook)
        || h.get("url").and_then(Value::as_str).is_some_and(is_our_url)
}

/// Puts `entry` into the JSON hook groups of `event` (Claude Code's and
/// Gemini CLI's shape: `[{matcher?, hooks: [entry…]}]`): an entry of ours
/// already there is updated in place, else a group is added. Uninstalling
/// removes ours, and groups and events left empty.
fn set_json_hook(hooks: &mut Map<String, Value>, event: &str, matcher: Option<&str>, entry: Option<Value>) {
    let groups = hooks.entry(event).or_insert_with(|| json!([]));
    let Some(groups) = groups.as_array_mut() else { return };
    let mut placed = false;
    for g in groups.iter_mut() {
        let Some(list) = g.get_mut("hooks").and_then(Value::as_array_mut) else { continue };
        match &entry {
            Some(e) => {
                for h in list.iter_mut().filter(|h| is_ours(h)) {
                    if !placed {
                        *h = e.clone();
                        placed = true;
                    } else {
                        *h = Value::Null; // a second copy of ours
                    }
                }
                list.retain(|h| !h.is_null());
            }
            None => list.retain(|h| !is_ours(h)),
        }
    }
    groups.retain(|g| g.get("hooks").and_then(Value::as_array).is_none_or(|l| !l.is_empty()));
    if let (Some(e), false) = (entry, placed) {
        let mut g = Map::new();
        if let Some(m) = matcher {
            g.insert("matcher".into(), json!(m));
        }
        g.insert("hooks".into(), json!([e]));
        groups.push(Value::Object(g));
    }
    if groups.is_empty() {
        hooks.remove(event);
    }
}

fn hooks_object<'a>(root: &'a mut Map<String, Value>, file: &str) -> Result<&'a mut Map<String, Value>> {
    root.entry("hooks")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| Error::Other(format!("{file}: `hooks` is not an object; left alone")))
}

/// Claude Code's layout of hooks in a JSON settings file (Gemini CLI's and
/// Qwen Code's too): `hooks.<Event>` holds groups of entries; `entry` makes
/// agentwatch's entry for an event.
fn json_hooks(
    root: &mut Map<String, Value>,
    uninstall: bool,
    events: &[(&str, bool)],
    entry: impl Fn(&str) -> Value,
) -> Result<()> {
    let hooks = hooks_object(root, "settings.json")?;
    for (event, tool) in events {
        set_json_hook(hooks, event, tool.then_some("*"), (!uninstall).then(|| entry(event)));
    }
    if hooks.is_empty() {
        root.remove("hooks");
    }
    Ok(())
}

fn claude_hooks(root: &mut Map<String, Value>, uninstall: bool, exe: &Exe) -> Result<()> {
    json_hooks(root, uninstall, CLAUDE_EVENTS, |event| match &exe.http {
        // Claude Code posts no http hook for SessionStart.
        Some((url, token)) if event != "SessionStart" => json!({
            "type": "http", "url": format!("{url}/api/hooks/claude-code"),
            "headers": {"Authorization": format!("Bearer {token}")}, "timeout": 5
        }),
        _ => json!({"type": "command", "command": exe.hook_command("claude-code"), "timeout": 5}),
    })
}

/// Gemini CLI waits for its hooks: ours returns at once; 5 s at most.
fn gemini_hooks(root: &mut Map<String, Value>, uninstall: bool, exe: &Exe) -> Result<()> {
    json_hooks(
        root,
        uninstall,
        GEMINI_EVENTS,
        |_| json!({"name": "agentwatch", "type": "command", "command": exe.hook_command("gemini-cli"), "timeout": 5000}),
    )
}

/// Qwen Code has Claude Code's events; its timeouts are in milliseconds.
fn qwen_hooks(root: &mut Map<String, Value>, uninstall: bool, exe: &Exe) -> Result<()> {
    json_hooks(
        root,
        uninstall,
        CLAUDE_EVENTS,
        |_| json!({"type": "command", "command": exe.hook_command("qwen-code"), "timeout": 5000}),
    )
}

/// `[[hooks.<Event>]]` with `[[hooks.<Event>.hooks]]` in Codex's config.toml.
fn codex_hooks(doc: &mut toml_edit::DocumentMut, uninstall: bool, exe: &Exe) -> Result<()> {
    use toml_edit::{ArrayOfTables, Item, Table, value};
    let cmd = exe.hook_command("codex");
    if doc.get("hooks").is_none() {
        if uninstall {
            return Ok(());
        }
        let mut t = Table::new();
        t.set_implicit(true);
        doc.insert("hooks", Item::Table(t));
    }
    let hooks = doc["hooks"]
        .as_table_mut()
        .ok_or_else(|| Error::Other("config.toml: `hooks` is not a table; left alone".into()))?;
    let ours = |t: &Table| {
        t.get("hooks")
            .and_then(Item::as_array_of_tables)
            .is_some_and(|hs| hs.iter().any(|h| h.get("command").and_then(|c| c.as_str()).is_some_and(is_our_hook)))
    };
    for event in CODEX_EVENTS {
        let mut updated = false;
        if let Some(groups) = hooks.get_mut(event).and_then(Item::as_array_of_tables_mut) {
            if uninstall {
                groups.retain(|g| !ours(g));
            } else {
                for g in groups.iter_mut().filter(|g| ours(g)) {
                    if let Some(hs) = g.get_mut("hooks").and_then(Item::as_array_of_tables_mut) {
                        for h in hs.iter_mut() {
                            if h.get("command").and_then(|c| c.as_str()).is_some_and(is_our_hook)
                                && h.get("command").and_then(|c| c.as_str()) != Some(cmd.as_str())
                            {
                                h["command"] = value(cmd.clone());
                            }
                        }
                    }
                    updated = true;
                }
            }
            if groups.is_empty() {
                hooks.remove(event);
            }
        }
        if !uninstall && !updated {
            let mut h = Table::new();
            h["type"] = value("command");
            h["command"] = value(cmd.clone());
            h["timeout"] = value(5);
            let mut hs = ArrayOfTables::new();
            hs.push(h);
            let mut g = Table::new();
            g.insert("hooks", Item::ArrayOfTables(hs));
            match hooks.get_mut(event).and_then(Item::as_array_of_tables_mut) {
                Some(groups) => groups.push(g),
                None => {
                    let mut groups = ArrayOfTables::new();
                    groups.push(g);
                    hooks.insert(event, Item::ArrayOfTables(groups));
                }
            }
        }
    }
    if hooks.is_empty() {
        doc.remove("hooks");
    }
    Ok(())
}

fn codex_notify(doc: &mut toml_edit::DocumentMut, uninstall: bool, exe: &Exe, notes: &mut Vec<String>) -> Result<()> {
    let ours = |item: &toml_edit::Item| {
        item.as_array().is_some_and(|a| {
            let v: Vec<&str> = a.iter().filter_map(|x| x.as_str()).collect();
            v.first().is_some_and(|p| p.contains("agentwatch")) && v.contains(&"hook")
        })
    };
    let mut want = toml_edit::Array::new();
    for s in std::iter::once(exe.path.display().to_string()).chain(exe.global_args()).chain([
        "hook".into(),
        "--agent".into(),
        "codex".into(),
    ]) {
        want.push(s);
    }
    match doc.get("notify") {
        Some(item) if ours(item) && uninstall => {
            doc.remove("notify");
        }
        Some(item) if ours(item) && item.as_array().map(|a| a.to_string()) != Some(want.to_string()) => {
            doc.insert("notify", toml_edit::value(want));
        }
        Some(item) if ours(item) => {}
        Some(item) if !uninstall => notes.push(format!(
            "Codex already runs a notify program ({}); left as it is (the hooks tell agentwatch the same)",
            item.to_string().trim()
        )),
        Some(_) => {}
        None if !uninstall => {
            doc.insert("notify", toml_edit::value(want));
        }
        None => {}
    }
    Ok(())
}

/// Whether a server entry is already wrapped by agentwatch.
fn wrapped_args(command: &str, args: &[String]) -> Option<(String, Vec<String>)> {
    let proxy = args.iter().position(|a| a == "mcp-proxy")?;
    if !command.contains("agentwatch") || (proxy != 0 && args.first().map(String::as_str) != Some("--data-dir")) {
        return None;
    }
    let sep = args.iter().position(|a| a == "--")?;
    let (cmd, rest) = args[sep + 1..].split_first()?;
    Some((cmd.clone(), rest.to_vec()))
}

fn wrap_args(exe: &Exe, name: &str, command: &str, args: &[String]) -> (String, Vec<String>) {
    let mut a = exe.global_args();
    a.extend(["mcp-proxy".to_string(), "--label".into(), name.to_string(), "--".into(), command.to_string()]);
    a.extend(args.iter().cloned());
    (exe.path.display().to_string(), a)
}

fn wrap_json_servers(
    servers: &mut Map<String, Value>,
    uninstall: bool,
    exe: &Exe,
    scope: &str,
    notes: &mut Vec<String>,
) {
    for (name, cfg) in servers.iter_mut() {
        let Some(obj) = cfg.as_object_mut() else { continue };
        let stdio = obj.get("type").and_then(Value::as_str).is_none_or(|t| t == "stdio");
        let Some(command) = obj.get("command").and_then(Value::as_str).map(str::to_string).filter(|_| stdio) else {
            if !uninstall {
                let at = if scope.is_empty() { String::new() } else { format!(" (project {scope})") };
                notes.push(format!("{name}{at}: not a stdio server, left as it is"));
            }
            continue;
        };
        let args: Vec<String> = obj
            .get("args")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let new = match (wrapped_args(&command, &args), uninstall) {
            (Some(orig), true) => orig,
            (None, false) => wrap_args(exe, name, &command, &args),
            _ => continue,
        };
        obj.insert("command".into(), json!(new.0));
        obj.insert("args".into(), json!(new.1));
    }
}

fn wrap_toml_server(name: &str, t: &mut dyn toml_edit::TableLike, uninstall: bool, exe: &Exe, notes: &mut Vec<String>) {
    let Some(command) = t.get("command").and_then(|c| c.as_str()).map(str::to_string) else {
        if !uninstall {
            notes.push(format!("{name}: not a stdio server, left as it is"));
        }
        return;
    };
    let args: Vec<String> = t
        .get("args")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let new = match (wrapped_args(&command, &args), uninstall) {
        (Some(orig), true) => orig,
        (None, false) => wrap_args(exe, name, &command, &args),
        _ => return,
    };
    let mut a = toml_edit::Array::new();
    for s in new.1 {
        a.push(s);
    }
    replace_value(t, "command", toml_edit::Value::from(new.0));
    replace_value(t, "args", toml_edit::Value::Array(a));
}

/// Replaces a value, keeping the comments and spacing around the old one.
fn replace_value(t: &mut dyn toml_edit::TableLike, key: &str, mut v: toml_edit::Value) {
    if let Some(old) = t.get(key).and_then(|i| i.as_value()) {
        *v.decor_mut() = old.decor().clone();
    }
    t.insert(key, toml_edit::Item::Value(v));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str) -> Agent {
        Agent::parse(id).unwrap()
    }

    #[test]
    fn the_offers_are_every_agent_with_an_install_and_exactly_its_targets() {
        use Target::*;
        let got: Vec<(&str, &str, Vec<Target>)> = offers().into_iter().map(|o| (o.agent, o.name, o.targets)).collect();
        assert_eq!(
            got,
            [
                ("claude-code", "Claude Code", vec![Hooks, McpProxy, Statusline, Telemetry]),
                ("codex", "Codex", vec![Hooks, McpProxy, Telemetry]),
                ("gemini-cli", "Gemini CLI", vec![Hooks, Telemetry]),
                ("opencode", "OpenCode", vec![Hooks]),
                ("qwen-code", "Qwen Code", vec![Hooks]),
                ("cursor-agent", "Cursor Agent", vec![McpProxy]),
            ]
        );
        for t in Target::ALL {
            assert_eq!(Target::from_name(t.name()), Some(t));
        }
        assert_eq!(Target::from_name("plugins"), None);
        // Each one offered plans.
        let dir = tempfile::tempdir().unwrap();
        let plain = Exe::new(Path::new("/usr/bin/agentwatch"));
        // Telemetry posts to the API: its port and token (as the app passes them).
        let http = Exe { http: Some(("http://127.0.0.1:4317".into(), "hook-token".into())), ..plain.clone() };
        for o in offers() {
            for t in o.targets {
                let exe = if t == Telemetry { &http } else { &plain };
                plan(t, agent(o.agent), false, &env(dir.path()), exe)
                    .unwrap_or_else(|e| panic!("{} {t:?}: {e}", o.agent));
            }
        }
    }

    #[test]
    fn hook_commands_are_quoted_for_the_platforms_shell() {
        let unix = ["/usr/local/bin/agentwatch", "/home/me/my apps/agentwatch", "/tmp/it's"];
        let quoted: Vec<String> = unix.iter().map(|w| quote_word(w, false)).collect();
        assert_eq!(quoted, ["/usr/local/bin/agentwatch", "'/home/me/my apps/agentwatch'", r"'/tmp/it'\''s'"]);
        let exe = r"C:\Users\Me\AppData\Local\Programs\agentwatch\agentwatch.exe";
        assert_eq!(quote_word(exe, true), format!("\"{exe}\""));
        assert_eq!(quote_word(r"C:\Program Files\agentwatch", true), r#""C:\Program Files\agentwatch""#);
        let cmd = [exe, "hook", "--agent", "claude-code"].map(|w| quote_word(w, true)).join(" ");
        assert!(is_our_hook(&cmd), "{cmd}");
    }

    fn env(home: &Path) -> SourceEnv {
        SourceEnv { home: Some(home.to_path_buf()), ..Default::default() }
    }

    const EXE: &str = "/usr/local/bin/agentwatch";

    #[test]
    fn telemetry_already_sent_elsewhere_is_left_alone_and_ours_is_replaced_on_a_new_port() {
        let t = tempfile::tempdir().unwrap();
        let h = t.path();
        let mut exe = Exe::new(Path::new(EXE));
        // Without the API's port and token there is nothing to point at.
        assert!(plan(Target::Telemetry, agent("codex"), false, &env(h), &exe).is_err());
        exe.http = Some(("http://127.0.0.1:7411".into(), "tok".into()));
        std::fs::create_dir_all(h.join(".claude")).unwrap();
        let theirs = json!({"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example.com"}});
        std::fs::write(h.join(".claude/settings.json"), theirs.to_string()).unwrap();
        let e = plan(Target::Telemetry, agent("claude-code"), false, &env(h), &exe).unwrap_err().to_string();
        assert!(e.contains("already sends its telemetry to https://otel.example.com; left alone"), "{e}");
        std::fs::create_dir_all(h.join(".codex")).unwrap();
        let cfg = "model = \"o3\"\n\n[otel.exporter.otlp-grpc]\nendpoint = \"http://collector:4317\"\n";
        std::fs::write(h.join(".codex/config.toml"), cfg).unwrap();
        let e = plan(Target::Telemetry, agent("codex"), false, &env(h), &exe).unwrap_err().to_string();
        assert!(e.contains("Codex already exports its telemetry"), "{e}");
        std::fs::create_dir_all(h.join(".gemini")).unwrap();
        std::fs::write(h.join(".gemini/settings.json"), r#"{"telemetry": {"enabled": true, "target": "gcp"}}"#)
            .unwrap();
        assert!(plan(Target::Telemetry, agent("gemini-cli"), false, &env(h), &exe).is_err());
        assert!(plan(Target::Telemetry, agent("cursor"), false, &env(h), &exe).unwrap_err().is_usage());

        // Ours, installed while the API had another port: moved to the new one.
        std::fs::write(h.join(".codex/config.toml"), "model = \"o3\"\n").unwrap();
        let old = Exe { http: Some(("http://127.0.0.1:7000".into(), "old".into())), ..exe.clone() };
        apply(&plan(Target::Telemetry, agent("codex"), false, &env(h), &old).unwrap()).unwrap();
        let p = plan(Target::Telemetry, agent("codex"), false, &env(h), &exe).unwrap();
        assert!(p.changes[0].after.contains("endpoint = \"http://127.0.0.1:7411/v1/logs\""), "{}", p.changes[0].after);
        assert!(p.changes[0].after.contains("Authorization = \"Bearer tok\""));
        apply(&p).unwrap();
        assert!(plan(Target::Telemetry, agent("codex"), false, &env(h), &exe).unwrap().done);
        apply(&plan(Target::Telemetry, agent("codex"), true, &env(h), &exe).unwrap()).unwrap();
        assert_eq!(std::fs::read_to_string(h.join(".codex/config.toml")).unwrap(), "model = \"o3\"\n");
    }

    #[test]
    fn the_statusline_wraps_the_persons_own_and_gives_it_back() {
        let t = tempfile::tempdir().unwrap();
        let settings = t.path().join(".claude/settings.json");
        std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
        let theirs = r#"echo "$(whoami)'s line""#;
        let original = serde_json::to_string_pretty(
            &json!({"model": "opus", "statusLine": {"type": "command", "command": theirs, "padding": 2}}),
        )
        .unwrap()
            + "\n";
        std::fs::write(&settings, &original).unwrap();
        let exe = Exe::new(Path::new(EXE));
        let p = plan(Target::Statusline, agent("claude-code"), false, &env(t.path()), &exe).unwrap();
        let after: Value = serde_json::from_str(&p.changes[0].after).unwrap();
        let cmd = after["statusLine"]["command"].as_str().unwrap();
        assert_eq!(cmd, format!("{EXE} statusline --then {}", quote_word(theirs, cfg!(windows))));
        assert_eq!((&after["statusLine"]["padding"], &after["model"]), (&json!(2), &json!("opus")));
        apply(&p).unwrap();
        // Idempotent: installing again changes nothing.
        assert!(plan(Target::Statusline, agent("claude-code"), false, &env(t.path()), &exe).unwrap().done);
        // Uninstalling gives the person's command back, exactly.
        let u = plan(Target::Statusline, agent("claude-code"), true, &env(t.path()), &exe).unwrap();
        assert_eq!(u.changes[0].after, original);
        // Without a command of theirs, ours is added, and removed again.
        std::fs::write(&settings, "{}\n").unwrap();
        let p = plan(Target::Statusline, agent("claude-code"), false, &env(t.path()), &exe).unwrap();
        let after: Value = serde_json::from_str(&p.changes[0].after).unwrap();
        assert_eq!(
            after["statusLine"],
            json!({"type": "command", "command": format!("{EXE} statusline"), "padding": 0})
        );
        apply(&p).unwrap();
        let u = plan(Target::Statusline, agent("claude-code"), true, &env(t.path()), &exe).unwrap();
        assert_eq!(u.changes[0].after, "{}\n");
        assert!(plan(Target::Statusline, agent("codex"), false, &env(t.path()), &exe).is_err());
    }

    #[test]
    fn backups_are_never_overwritten_and_the_mode_is_kept() {
        let t = tempfile::tempdir().unwrap();
        let settings = t.path().join(".claude/settings.json");
        std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
        std::fs::write(&settings, "{\"model\": \"opus\"}\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        let mut backups = Vec::new();
        for uninstall in [false, true, false] {
            let p = plan(Target::Hooks, agent("claude-code"), uninstall, &env(t.path()), &Exe::new(Path::new(EXE)))
                .unwrap();
            backups.extend(apply(&p).unwrap());
        }
        assert_eq!(backups.len(), 3, "{backups:?}");
        let distinct: std::collections::HashSet<_> = backups.iter().collect();
        assert_eq!(distinct.len(), 3, "one backup per change, within the same second too: {backups:?}");
        assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), "{\"model\": \"opus\"}\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&settings).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o640);
        }
        assert!(!settings.with_extension("agentwatch-tmp").exists());
    }

    #[test]
    fn claude_hooks_install_once_keep_other_settings_and_uninstall_cleanly() {
        let t = tempfile::tempdir().unwrap();
        let settings = t.path().join(".claude/settings.json");
        std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
        let original = r#"{
  "model": "opus",
  "hooks": {
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "say done"
          }
        ]
      }
    ]
  }
}
"#;
        std::fs::write(&settings, original).unwrap();
        let p = plan(Target::Hooks, agent("claude-code"), false, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap();
        assert!(!p.done);
        assert!(p.changes[0].diff.contains("+") && p.changes[0].diff.contains("agentwatch hook"));
        let backups = apply(&p).unwrap();
        assert_eq!(backups.len(), 1);
        assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), original);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
        assert_eq!(v["model"], "opus");
        assert_eq!(v["hooks"]["Stop"].as_array().unwrap().len(), 2, "the user's hook stays");
        assert_eq!(v["hooks"]["PreToolUse"][0]["matcher"], "*");
        assert_eq!(
            v["hooks"]["SessionEnd"][0]["hooks"][0]["command"],
            "/usr/local/bin/agentwatch hook --agent claude-code"
        );
        assert_eq!(v["hooks"]["PermissionRequest"][0]["matcher"], "*");
        assert!(v["hooks"]["PreCompact"].is_array());
        // Again: nothing to do.
        assert!(
            plan(Target::Hooks, agent("claude-code"), false, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap().done
        );
        // Uninstall gives the original back.
        let u = plan(Target::Hooks, agent("claude-code"), true, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap();
        apply(&u).unwrap();
        assert_eq!(std::fs::read_to_string(&settings).unwrap(), original);
    }

    #[test]
    fn mcp_servers_are_wrapped_and_unwrapped_in_every_scope() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join(".claude.json");
        let original = serde_json::to_string_pretty(&json!({
            "numStartups": 3,
            "mcpServers": {
                "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/u"], "env": {"A": "1"}},
                "remote": {"type": "http", "url": "https://example.com/mcp"}
            },
            "projects": {"/home/u/app": {"mcpServers": {"db": {"type": "stdio", "command": "python", "args": ["db.py"]}}}}
        }))
        .unwrap()
            + "\n";
        std::fs::write(&file, &original).unwrap();
        let p = plan(Target::McpProxy, agent("claude-code"), false, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap();
        assert_eq!(p.notes, vec!["remote: not a stdio server, left as it is"]);
        apply(&p).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(v["mcpServers"]["fs"]["command"], EXE);
        assert_eq!(
            v["mcpServers"]["fs"]["args"],
            json!([
                "mcp-proxy",
                "--label",
                "fs",
                "--",
                "npx",
                "-y",
                "@modelcontextprotocol/server-filesystem",
                "/home/u"
            ])
        );
        assert_eq!(v["mcpServers"]["fs"]["env"]["A"], "1");
        assert_eq!(
            v["projects"]["/home/u/app"]["mcpServers"]["db"]["args"],
            json!(["mcp-proxy", "--label", "db", "--", "python", "db.py"])
        );
        assert_eq!(v["mcpServers"]["remote"]["url"], "https://example.com/mcp");
        assert!(
            plan(Target::McpProxy, agent("claude-code"), false, &env(t.path()), &Exe::new(Path::new(EXE)))
                .unwrap()
                .done
        );
        apply(&plan(Target::McpProxy, agent("claude-code"), true, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap())
            .unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    }

    #[test]
    fn codex_config_keeps_its_comments_and_order() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join(".codex/config.toml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let original = "# my settings\nmodel = \"gpt-5-codex\"\n\n[mcp_servers.docs]\ncommand = \"node\"\nargs = [\"docs.js\"] # local\n";
        std::fs::write(&file, original).unwrap();
        apply(&plan(Target::Hooks, agent("codex"), false, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap()).unwrap();
        apply(&plan(Target::McpProxy, agent("codex"), false, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap())
            .unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("# my settings\n"), "{text}");
        let doc: toml_edit::DocumentMut = text.parse().unwrap();
        assert_eq!(
            doc["notify"].as_array().unwrap().iter().filter_map(|x| x.as_str()).collect::<Vec<_>>(),
            vec![EXE, "hook", "--agent", "codex"]
        );
        assert_eq!(doc["mcp_servers"]["docs"]["command"].as_str(), Some(EXE));
        assert!(
            text.find("notify").unwrap() < text.find("[mcp_servers").unwrap(),
            "top-level key before tables:\n{text}"
        );
        apply(&plan(Target::Hooks, agent("codex"), true, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap()).unwrap();
        apply(&plan(Target::McpProxy, agent("codex"), true, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap())
            .unwrap();
        let back = std::fs::read_to_string(&file).unwrap();
        let doc: toml_edit::DocumentMut = back.parse().unwrap();
        assert!(doc.get("notify").is_none());
        assert_eq!(doc["mcp_servers"]["docs"]["command"].as_str(), Some("node"));
        assert!(back.contains("# my settings") && back.contains("# local"), "{back}");
    }

    #[test]
    fn someone_elses_notify_is_not_replaced() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join(".codex/config.toml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "notify = [\"notify-send\", \"codex\"]\n").unwrap();
        let p = plan(Target::Hooks, agent("codex"), false, &env(t.path()), &Exe::new(Path::new(EXE))).unwrap();
        assert!(p.notes.iter().any(|n| n.contains("already runs a notify program")), "{:?}", p.notes);
        apply(&p).unwrap();
        let doc: toml_edit::DocumentMut = std::fs::read_to_string(&file).unwrap().parse().unwrap();
        assert_eq!(doc["notify"].as_array().unwrap().get(0).and_then(|v| v.as_str()), Some("notify-send"));
        assert!(doc["hooks"]["PermissionRequest"].is_array_of_tables(), "the hooks go in all the same");
        assert!(
            plan(Target::Hooks, agent("cursor"), false, &env(t.path()), &Exe::new(Path::new(EXE)))
                .unwrap_err()
                .is_usage()
        );
    }

    #[test]
    fn the_opencode_plugin_is_written_whole_and_removed_and_a_foreign_one_left_alone() {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join(".config/opencode/plugin/agentwatch.js");
        let exe = Exe { data_dir: Some("/srv/aw".into()), ..Exe::new(Path::new(EXE)) };
        let p = plan(Target::Hooks, agent("opencode"), false, &env(t.path()), &exe).unwrap();
        assert!(apply(&p).unwrap().is_empty(), "a new file: nothing to back up");
        let js = std::fs::read_to_string(&file).unwrap();
        assert!(js.starts_with(PLUGIN_MARK));
        assert!(
            js.contains(
                r#"const COMMAND = ["/usr/local/bin/agentwatch","--data-dir","/srv/aw","hook","--agent","opencode"];"#
            ),
            "{js}"
        );
        assert!(js.contains("permission.asked") && js.contains("export const Agentwatch"));
        assert!(plan(Target::Hooks, agent("opencode"), false, &env(t.path()), &exe).unwrap().done);
        apply(&plan(Target::Hooks, agent("opencode"), true, &env(t.path()), &exe).unwrap()).unwrap();
        assert!(!file.exists(), "uninstalled");
        assert!(plan(Target::Hooks, agent("opencode"), true, &env(t.path()), &exe).unwrap().done);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "export const Mine = async () => ({});\n").unwrap();
        let e = plan(Target::Hooks, agent("opencode"), false, &env(t.path()), &exe).unwrap_err().to_string();
        assert!(e.contains("not agentwatch's plugin"), "{e}");
    }

    #[test]
    fn the_chosen_data_dir_is_in_every_installed_command() {
        let t = tempfile::tempdir().unwrap();
        let exe = Exe { data_dir: Some("/srv/aw data".into()), ..Exe::new(Path::new(EXE)) };
        for agent in [agent("claude-code"), agent("codex"), agent("gemini-cli")] {
            apply(&plan(Target::Hooks, agent, false, &env(t.path()), &exe).unwrap()).unwrap();
        }
        let claude = std::fs::read_to_string(t.path().join(".claude/settings.json")).unwrap();
        let gemini = std::fs::read_to_string(t.path().join(".gemini/settings.json")).unwrap();
        let codex = std::fs::read_to_string(t.path().join(".codex/config.toml")).unwrap();
        assert!(
            claude.contains("/usr/local/bin/agentwatch --data-dir '/srv/aw data' hook --agent claude-code"),
            "{claude}"
        );
        assert!(gemini.contains("--data-dir '/srv/aw data' hook --agent gemini-cli"), "{gemini}");
        assert!(codex.contains("--data-dir '/srv/aw data' hook --agent codex"), "{codex}");
        assert!(
            codex.contains(
                r#"notify = ["/usr/local/bin/agentwatch", "--data-dir", "/srv/aw data", "hook", "--agent", "codex"]"#
            ),
            "{codex}"
        );
        // Installing again with another data dir updates the commands in place.
        let other = Exe { data_dir: Some("/srv/other".into()), ..exe.clone() };
        let p = plan(Target::Hooks, agent("claude-code"), false, &env(t.path()), &other).unwrap();
        apply(&p).unwrap();
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(t.path().join(".claude/settings.json")).unwrap()).unwrap();
        assert_eq!(v["hooks"]["Stop"].as_array().unwrap().len(), 1, "updated, not added twice");
        assert!(v["hooks"]["Stop"][0]["hooks"][0]["command"].as_str().unwrap().contains("/srv/other"));
    }

    #[test]
    fn gemini_and_codex_hooks_install_once_and_uninstall_cleanly() {
        let t = tempfile::tempdir().unwrap();
        let gemini = t.path().join(".gemini/settings.json");
        let codex = t.path().join(".codex/config.toml");
        std::fs::create_dir_all(gemini.parent().unwrap()).unwrap();
        std::fs::create_dir_all(codex.parent().unwrap()).unwrap();
        let g0 = "{\n  \"security\": {\n    \"auth\": {\n      \"selectedType\": \"gemini-api-key\"\n    }\n  }\n}\n";
        let c0 =
            "model = \"gpt-5\"\n\n[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ntype = \"command\"\ncommand = \"say done\"\n";
        std::fs::write(&gemini, g0).unwrap();
        std::fs::write(&codex, c0).unwrap();
        let exe = Exe::new(Path::new(EXE));
        for agent in [agent("gemini-cli"), agent("codex"), agent("qwen-code")] {
            apply(&plan(Target::Hooks, agent, false, &env(t.path()), &exe).unwrap()).unwrap();
            assert!(
                plan(Target::Hooks, agent, false, &env(t.path()), &exe).unwrap().done,
                "{agent:?} twice: nothing to do"
            );
        }
        let qwen: Value =
            serde_json::from_str(&std::fs::read_to_string(t.path().join(".qwen/settings.json")).unwrap()).unwrap();
        let q = &qwen["hooks"]["PermissionRequest"][0];
        assert_eq!((q["matcher"].as_str(), q["hooks"][0]["timeout"].as_u64()), (Some("*"), Some(5000)));
        assert_eq!(q["hooks"][0]["command"], "/usr/local/bin/agentwatch hook --agent qwen-code");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&gemini).unwrap()).unwrap();
        assert_eq!(v["security"]["auth"]["selectedType"], "gemini-api-key");
        let n = &v["hooks"]["Notification"][0]["hooks"][0];
        assert_eq!((n["type"].as_str(), n["timeout"].as_u64()), (Some("command"), Some(5000)));
        let doc: toml_edit::DocumentMut = std::fs::read_to_string(&codex).unwrap().parse().unwrap();
        assert_eq!(doc["hooks"]["Stop"].as_array_of_tables().unwrap().len(), 2, "the user's Stop hook stays");
        let perm = &doc["hooks"]["PermissionRequest"].as_array_of_tables().unwrap().get(0).unwrap()["hooks"];
        assert_eq!(
            perm.as_array_of_tables().unwrap().get(0).unwrap()["command"].as_str(),
            Some("/usr/local/bin/agentwatch hook --agent codex")
        );
        for agent in [agent("gemini-cli"), agent("codex")] {
            apply(&plan(Target::Hooks, agent, true, &env(t.path()), &exe).unwrap()).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&gemini).unwrap(), g0);
        let back: toml_edit::DocumentMut = std::fs::read_to_string(&codex).unwrap().parse().unwrap();
        assert!(back.get("notify").is_none());
        assert_eq!(back["hooks"]["Stop"].as_array_of_tables().unwrap().len(), 1);
        assert!(back["hooks"].get("PermissionRequest").is_none());
    }
}
