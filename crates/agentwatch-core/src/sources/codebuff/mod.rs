//! Codebuff: sessions and model calls from the chats it keeps
//! (`~/.config/manicode/projects/<project>/chats/<chat id>/chat-messages.json`,
//! one document per chat, rewritten as a turn starts, while it runs and
//! after it), and where a running chat's turn stands. See README.md.

pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LineError, LiveProcess, Record, Source, SourceEnv, Storage, TranscriptLink, TurnInfo};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "codebuff",
    display: "Codebuff",
    short: "Codebuff",
    aliases: &["manicode"],
    ccusage: Some("codebuff"),
    client_needles: &["codebuff"],
    open: Some(|env| Box::new(CodebuffSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct CodebuffSource {
    /// The `projects` folders of each channel, whether they exist or not.
    projects: Vec<PathBuf>,
}

impl CodebuffSource {
    pub fn new(env: &SourceEnv) -> CodebuffSource {
        CodebuffSource { projects: paths::projects_dirs(env) }
    }
}

impl Source for CodebuffSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// Where the chat stands, from its newest response (`live.rs`).
    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }

    /// The chat of the process's project written since it started.
    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_chat(&self.roots(), p, claimed)
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Document
    }

    fn roots(&self) -> Vec<PathBuf> {
        crate::sources::dedup_dirs(self.projects.iter().filter(|d| d.is_dir()).cloned().collect())
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.projects.clone()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        // The production build's folder; the dev and staging builds' if they exist.
        self.projects.iter().enumerate().filter(|(i, d)| *i == 0 || d.is_dir()).map(|(_, d)| d.clone()).collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.roots().iter().flat_map(|d| paths::chats(d)).collect()
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        (paths::is_chat(path) && crate::sources::plainly_within(&self.projects, path)).then(|| paths::session_of(path))
    }

    fn parse_document(&self, path: &Path, bytes: &[u8], mtime_ms: i64, out: &mut Vec<Record>) -> Result<(), LineError> {
        let (_, _, chat_id) = paths::chat_parts(path);
        parser::chat(&paths::session_of(path), &chat_id, bytes, mtime_ms, out)
    }
}
