//! Codex: `sessions/YYYY/MM/DD/rollout-*.jsonl` and `archived_sessions/`.

pub mod hooks;
mod install;
pub mod live;
pub mod otel;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{
    AgentInfo, HookEvent, LineParser, LiveProcess, OtelEvent, Source, SourceEnv, TranscriptLine, TranscriptLink,
    TurnInfo,
};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "codex",
    display: "Codex",
    short: "Codex",
    aliases: &[],
    ccusage: Some("codex"),
    client_needles: &["codex"],
    open: Some(|env| Box::new(CodexSource::new(env))),
    installs: &[crate::install::Target::Hooks, crate::install::Target::McpProxy, crate::install::Target::Telemetry],
    install_files: Some(install::files),
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct CodexSource {
    homes: Vec<PathBuf>,
}

impl CodexSource {
    pub fn new(env: &SourceEnv) -> CodexSource {
        CodexSource { homes: paths::homes(env) }
    }
}

impl Source for CodexSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn roots(&self) -> Vec<PathBuf> {
        paths::session_dirs(&self.homes)
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.homes.iter().map(|h| h.join("sessions")).collect()
    }

    fn continues_without_process(&self, external_id: &str) -> bool {
        live::thread_loaded(&self.homes, external_id)
    }

    fn discover(&self) -> Vec<PathBuf> {
        paths::transcripts(&self.homes)
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(parser::CodexParser::new(path, state))
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        live::session_of(&self.homes, path)
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(&self.homes, p, claimed)
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
