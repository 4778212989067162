//! Google Antigravity (the IDE, its desktop app and its `agy` CLI): each
//! model call's usage from its conversations' SQLite databases
//! (`~/.gemini/antigravity*/conversations/<id>.db`, read-only), whose rows
//! hold protobuf blobs. See README.md.

pub mod parser;
pub mod paths;
mod wire;

use std::path::{Path, PathBuf};

use super::{AgentInfo, Source, SourceEnv, Storage, TableReader};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "antigravity",
    display: "Antigravity",
    short: "Antigravity",
    aliases: &["agy"],
    ccusage: Some("antigravity"),
    client_needles: &["antigravity"],
    open: Some(|env| Box::new(AntigravitySource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct AntigravitySource {
    /// The app data folders, whether they exist yet or not.
    dirs: Vec<PathBuf>,
}

impl AntigravitySource {
    pub fn new(env: &SourceEnv) -> AntigravitySource {
        AntigravitySource { dirs: paths::data_dirs(env) }
    }

    /// The folders holding databases now: each app data folder's
    /// `conversations/`, or the folder itself.
    fn scan_dirs(&self) -> Vec<PathBuf> {
        self.dirs.iter().filter(|d| d.is_dir()).map(|d| paths::scan_dir(d)).collect()
    }
}

impl Source for AntigravitySource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// Nothing read says where a turn stands.
    fn reads_turns(&self) -> bool {
        false
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Sqlite
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.scan_dirs()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| paths::scan_dir(d)).collect()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        // The IDE's folder; the others only if they exist.
        self.dirs.iter().enumerate().filter(|(i, d)| *i == 0 || d.is_dir()).map(|(_, d)| d.clone()).collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for dir in self.scan_dirs() {
            super::find_files(&dir, &paths::is_database, &mut out);
        }
        out.sort();
        out.dedup();
        out
    }

    fn reads_file(&self, path: &Path) -> bool {
        paths::conversation_of(path).is_some() && super::plainly_within(&self.scan_dirs(), path)
    }

    fn table_reader(&self, path: &Path, state: Option<&str>) -> Option<Box<dyn TableReader>> {
        let conversation = paths::conversation_of(path)?;
        // The time of a call nothing else dates, as ccusage dates it.
        let mtime = super::mtime_ms(path);
        Some(Box::new(parser::AntigravityReader::new(&conversation, mtime, state)))
    }
}
