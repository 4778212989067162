//! Claude Code: `projects/<encoded cwd>/<session>.jsonl` transcripts,
//! including sub-agent transcripts under `<session>/subagents/`.

pub mod hooks;
mod install;
pub mod live;
pub mod otel;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{
    AgentInfo, HookEvent, LineParser, LiveProcess, OtelEvent, RegistryError, Source, SourceEnv, TranscriptLine,
    TranscriptLink, TurnInfo,
};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "claude-code",
    display: "Claude Code",
    short: "Claude",
    aliases: &["claude"],
    ccusage: Some("claude"),
    client_needles: &["claude"],
    open: Some(|env| Box::new(ClaudeSource::new(env))),
    installs: &[
        crate::install::Target::Hooks,
        crate::install::Target::McpProxy,
        crate::install::Target::Statusline,
        crate::install::Target::Telemetry,
    ],
    install_files: Some(install::files),
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct ClaudeSource {
    /// Every config dir Claude Code may use, whether it exists yet or not:
    /// on a fresh install the registry and `projects/` appear later.
    configs: Vec<PathBuf>,
}

impl ClaudeSource {
    pub fn new(env: &SourceEnv) -> ClaudeSource {
        ClaudeSource { configs: paths::config_dirs(env) }
    }

    /// The `projects/` dirs that exist now.
    fn projects(&self) -> Vec<PathBuf> {
        self.configs.iter().map(|d| d.join("projects")).filter(|p| p.is_dir()).collect()
    }
}

impl Source for ClaudeSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.projects()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.configs.iter().map(|c| c.join("projects")).collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        paths::transcripts(&self.projects())
    }

    fn parser(&self, path: &Path, _state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(parser::ClaudeParser::new(path))
    }

    fn live_dirs(&self) -> Vec<PathBuf> {
        // Watched even before a fresh install creates them (the monitor
        // waits for them to appear), like the `projects/` dirs.
        self.configs.iter().map(|c| c.join("sessions")).collect()
    }

    fn registry_link(&self, p: &LiveProcess) -> Result<TranscriptLink, RegistryError> {
        live::registry_link(&self.configs, p)
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        live::session_of(&self.projects(), path)
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(&self.projects(), p, claimed)
    }

    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }

    fn tail(&self, path: &Path, max: usize) -> Vec<TranscriptLine> {
        live::tail(path, max)
    }

    fn has_hooks(&self) -> bool {
        true
    }

    fn hook_event(&self, payload: &serde_json::Value) -> Result<HookEvent, String> {
        hooks::event(payload)
    }

    fn otel_prefix(&self) -> Option<&'static str> {
        Some(otel::PREFIX)
    }

    fn otel_event(&self, name: &str, attrs: &serde_json::Map<String, serde_json::Value>) -> Option<OtelEvent> {
        otel::event(name, attrs)
    }
}
