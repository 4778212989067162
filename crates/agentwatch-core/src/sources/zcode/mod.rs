//! ZCode (Z.ai's desktop coding agent): each model request's usage from its
//! SQLite ledger (`~/.zcode/cli/db/db.sqlite`, read-only). See README.md.

pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, Source, SourceEnv, Storage, TableReader};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "zcode",
    display: "ZCode",
    short: "ZCode",
    aliases: &[],
    ccusage: Some("zcode"),
    client_needles: &["zcode"],
    open: Some(|env| Box::new(ZcodeSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct ZcodeSource {
    /// The folders a database may be in, whether they exist yet or not.
    dirs: Vec<PathBuf>,
}

impl ZcodeSource {
    pub fn new(env: &SourceEnv) -> ZcodeSource {
        ZcodeSource { dirs: paths::db_dirs(env) }
    }
}

impl Source for ZcodeSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// Nothing read says where a turn stands (its ledger is written when a
    /// request ends).
    fn reads_turns(&self) -> bool {
        false
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
        self.dirs.clone()
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

    fn table_reader(&self, _path: &Path, state: Option<&str>) -> Option<Box<dyn TableReader>> {
        Some(Box::new(parser::ZcodeReader::new(state)))
    }
}
