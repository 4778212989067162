//! Goose (Block's agent): sessions and their running token totals from its
//! SQLite database (`sessions.db`, read-only). See README.md.

pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LiveProcess, Source, SourceEnv, Storage, TableReader, TranscriptLink};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "goose",
    display: "Goose",
    short: "Goose",
    aliases: &[],
    ccusage: Some("goose"),
    client_needles: &["goose"],
    open: Some(|env| Box::new(GooseSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct GooseSource {
    /// The folders a sessions database may be in, whether they exist yet or not.
    dirs: Vec<PathBuf>,
}

impl GooseSource {
    pub fn new(env: &SourceEnv) -> GooseSource {
        GooseSource { dirs: paths::session_dirs(env) }
    }
}

impl Source for GooseSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// Nothing of Goose's says where a turn stands (no hooks read yet).
    fn reads_turns(&self) -> bool {
        false
    }

    /// The newest session created in the process's directory since it started.
    fn newest_link(&self, p: &LiveProcess, _claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_session(&self.discover(), p)
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Sqlite
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.dirs.iter().filter(|d| d.is_dir()).cloned().collect()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn live_dirs(&self) -> Vec<PathBuf> {
        self.dirs.clone()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        // The first is where Goose writes; the others only if they exist.
        self.dirs.iter().enumerate().filter(|(i, d)| *i == 0 || d.is_dir()).map(|(_, d)| d.clone()).collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .map(|d| d.join(paths::DATABASE))
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
            .collect()
    }

    fn reads_file(&self, path: &Path) -> bool {
        path.file_name() == Some(paths::DATABASE.as_ref())
            && path.parent().is_some_and(|p| self.dirs.iter().any(|d| d == p))
    }

    fn table_reader(&self, _path: &Path, _state: Option<&str>) -> Option<Box<dyn TableReader>> {
        Some(Box::new(parser::GooseReader))
    }
}
