//! GitHub Copilot CLI: sessions and model calls from its SQLite store
//! (`~/.copilot/session-store.db`, read-only), live state from the event
//! log of the session a running `copilot` holds. See README.md.

pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{
    AgentInfo, LiveProcess, RegistryError, Source, SourceEnv, Storage, TableReader, TranscriptLine, TranscriptLink,
    TurnInfo,
};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "copilot",
    display: "Copilot",
    short: "Copilot",
    aliases: &[],
    ccusage: Some("copilot"),
    client_needles: &["copilot"],
    open: Some(|env| Box::new(CopilotSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct CopilotSource {
    /// `~/.copilot`, whether it exists yet or not.
    home: Option<PathBuf>,
}

impl CopilotSource {
    pub fn new(env: &SourceEnv) -> CopilotSource {
        CopilotSource { home: paths::copilot_home(env) }
    }

    fn database(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(paths::DATABASE))
    }
}

impl Source for CopilotSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Sqlite
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.home.iter().filter(|d| d.is_dir()).cloned().collect()
    }

    /// Only the files directly in `~/.copilot` (its database) are watched
    /// for usage; the event logs are read for live state at each scan.
    fn watch_roots(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn live_dirs(&self) -> Vec<PathBuf> {
        self.home.iter().cloned().collect()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        self.home.iter().cloned().collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.database().filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file())).into_iter().collect()
    }

    fn reads_file(&self, path: &Path) -> bool {
        self.database().is_some_and(|d| d == path)
    }

    fn table_reader(&self, _path: &Path, state: Option<&str>) -> Option<Box<dyn TableReader>> {
        Some(Box::new(parser::CopilotReader::new(state)))
    }

    fn registry_link(&self, p: &LiveProcess) -> Result<TranscriptLink, RegistryError> {
        live::registry_link(self.home.as_deref().ok_or(RegistryError::Missing)?, p)
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        live::session_of(self.home.as_deref()?, path)
    }

    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }

    fn tail(&self, path: &Path, max: usize) -> Vec<TranscriptLine> {
        live::tail(path, max)
    }
}
