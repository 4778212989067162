//! Amp: sessions and model calls from the threads it kept locally
//! (`~/.local/share/amp/threads/T-*.json`, one document per thread). Amp
//! stopped writing them in 2026: this reads the history. See README.md.

pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LineError, Record, Source, SourceEnv, Storage};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "amp",
    display: "Amp",
    short: "Amp",
    aliases: &[],
    ccusage: Some("amp"),
    client_needles: &["amp"],
    open: Some(|env| Box::new(AmpSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct AmpSource {
    /// The `threads` folder, whether it exists or not.
    threads: Option<PathBuf>,
}

impl AmpSource {
    pub fn new(env: &SourceEnv) -> AmpSource {
        AmpSource { threads: paths::threads_dir(env) }
    }
}

impl Source for AmpSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn reads_turns(&self) -> bool {
        false
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Document
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.threads.iter().filter(|d| d.is_dir()).cloned().collect()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.threads.iter().cloned().collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.threads.as_deref().map(paths::threads).unwrap_or_default()
    }

    fn reads_file(&self, path: &Path) -> bool {
        paths::is_thread(path)
            && self.threads.as_ref().is_some_and(|t| crate::sources::plainly_within(std::slice::from_ref(t), path))
    }

    fn parse_document(
        &self,
        _path: &Path,
        bytes: &[u8],
        _mtime_ms: i64,
        out: &mut Vec<Record>,
    ) -> Result<(), LineError> {
        parser::thread(bytes, out)
    }
}
