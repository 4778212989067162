//! Hermes Agent (Nous Research): sessions and their running token totals
//! from its SQLite state database (`~/.hermes/state.db`, read-only). See
//! README.md.

pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, Source, SourceEnv, Storage, TableReader};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "hermes",
    display: "Hermes Agent",
    short: "Hermes",
    aliases: &[],
    ccusage: Some("hermes"),
    client_needles: &["hermes"],
    open: Some(|env| Box::new(HermesSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct HermesSource {
    /// The Hermes homes, whether they exist yet or not.
    homes: Vec<PathBuf>,
}

impl HermesSource {
    pub fn new(env: &SourceEnv) -> HermesSource {
        HermesSource { homes: paths::homes(env) }
    }

    fn dirs(&self) -> Vec<PathBuf> {
        paths::database_dirs(&self.homes)
    }
}

impl Source for HermesSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// Nothing of Hermes's read yet says where a turn stands.
    fn reads_turns(&self) -> bool {
        false
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Sqlite
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.dirs().into_iter().filter(|d| d.is_dir()).collect()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn live_dirs(&self) -> Vec<PathBuf> {
        self.dirs()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        self.homes.clone()
    }

    fn discover(&self) -> Vec<PathBuf> {
        paths::databases(&self.dirs())
    }

    fn reads_file(&self, path: &Path) -> bool {
        paths::is_database(&self.homes, path)
    }

    fn table_reader(&self, _path: &Path, _state: Option<&str>) -> Option<Box<dyn TableReader>> {
        Some(Box::new(parser::HermesReader))
    }
}
