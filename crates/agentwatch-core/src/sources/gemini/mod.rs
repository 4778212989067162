//! Gemini CLI: `~/.gemini/tmp/<project>/chats/session-*.jsonl` chat files,
//! and its hooks (`hooks` in `~/.gemini/settings.json`).
//!
//! Token usage from the chats' `gemini` records; live state (which chat a
//! running `gemini` writes, where its turn stands, its hook events). See
//! README.md for the format.

pub mod hooks;
mod install;
pub mod live;
pub mod otel;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{
    AgentInfo, HookEvent, LineError, LineParser, LiveProcess, OtelEvent, Record, Source, SourceEnv, Storage,
    TranscriptLink, TurnInfo,
};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "gemini-cli",
    display: "Gemini CLI",
    short: "Gemini",
    aliases: &["gemini"],
    ccusage: Some("gemini"),
    client_needles: &["gemini"],
    open: Some(|env| Box::new(GeminiSource::new(env))),
    installs: &[crate::install::Target::Hooks, crate::install::Target::Telemetry],
    install_files: Some(install::files),
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct GeminiSource {
    /// `~/.gemini`, whether it exists yet or not.
    home: Option<PathBuf>,
}

impl GeminiSource {
    pub fn new(env: &SourceEnv) -> GeminiSource {
        GeminiSource { home: paths::gemini_dir(env) }
    }
}

impl Source for GeminiSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.home.iter().map(|h| h.join("tmp")).filter(|d| d.is_dir()).collect()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.home.iter().map(|h| h.join("tmp")).collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.home.as_deref().map(paths::chats).unwrap_or_default()
    }

    /// A chat of lines, or a legacy single-document chat.
    fn storage(&self, path: &Path) -> Storage {
        if paths::is_document(path) { Storage::Document } else { Storage::Lines }
    }

    fn parse_document(
        &self,
        path: &Path,
        bytes: &[u8],
        _mtime_ms: i64,
        out: &mut Vec<Record>,
    ) -> Result<(), LineError> {
        let project = self.home.as_deref().and_then(|h| paths::project_of(h, path));
        parser::document(path, project, bytes, out)
    }

    fn reads_file(&self, path: &Path) -> bool {
        self.home.as_deref().is_some_and(|h| live::in_chats(h, path))
            && (paths::is_document(path) || self.session_of(path).is_some())
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        let project = self.home.as_deref().and_then(|h| paths::project_of(h, path));
        Box::new(parser::GeminiParser::new(path, project, state))
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        live::session_of(self.home.as_deref()?, path)
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(self.home.as_deref()?, p, claimed)
    }

    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
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
