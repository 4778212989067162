//! Kimi (Moonshot AI): Kimi CLI's and Kimi Code's wire logs
//! (`~/.kimi/sessions/…/wire.jsonl`, `~/.kimi-code/sessions/…/wire.jsonl`):
//! token usage per model call, and where a session's turn stands. See
//! README.md.

pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LineParser, LiveProcess, Source, SourceEnv, TranscriptLink, TurnInfo};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "kimi",
    display: "Kimi",
    short: "Kimi",
    aliases: &["kimi-cli", "kimi-code"],
    ccusage: Some("kimi"),
    client_needles: &["kimi"],
    open: Some(|env| Box::new(KimiSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct KimiSource {
    /// Kimi CLI's and Kimi Code's `sessions` folders, existing or not.
    sessions: Vec<PathBuf>,
    work_dirs: paths::WorkDirs,
}

impl KimiSource {
    pub fn new(env: &SourceEnv) -> KimiSource {
        KimiSource { sessions: paths::sessions_dirs(env), work_dirs: paths::WorkDirs::default() }
    }
}

impl Source for KimiSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.sessions.iter().filter(|d| d.is_dir()).cloned().collect()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.sessions.clone()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.sessions.iter().flat_map(|s| paths::wires(s)).collect()
    }

    fn reads_file(&self, path: &Path) -> bool {
        paths::session_of(&self.sessions, path).is_some()
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        let p = parser::KimiParser::new(path, state);
        if p.announced() {
            return Box::new(p);
        }
        Box::new(p.with_project(self.work_dirs.of(&self.sessions, path)))
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        paths::session_of(&self.sessions, path)
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(&self.sessions, p, claimed)
    }

    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }
}
