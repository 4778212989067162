//! OpenClaw: token usage from its agents' session transcripts
//! (`~/.openclaw/agents/<agent>/sessions/<session>.jsonl`, pi's format).
//! OpenClaw is a long-running gateway serving many chats at once, so a
//! running process is not linked to one session. See README.md.

pub mod accounting;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LineParser, Source, SourceEnv, TurnInfo};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "openclaw",
    display: "OpenClaw",
    short: "OpenClaw",
    aliases: &["clawdbot", "moltbot"],
    ccusage: Some("openclaw"),
    client_needles: &["openclaw"],
    open: Some(|env| Box::new(OpenClawSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct OpenClawSource {
    /// The state dirs, existing or not.
    states: Vec<PathBuf>,
}

impl OpenClawSource {
    pub fn new(env: &SourceEnv) -> OpenClawSource {
        OpenClawSource { states: paths::state_dirs(env) }
    }

    fn agents_dirs(&self) -> Vec<PathBuf> {
        self.states.iter().map(|s| s.join("agents")).collect()
    }
}

impl Source for OpenClawSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.agents_dirs().into_iter().filter(|d| d.is_dir()).collect()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.agents_dirs()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.states.iter().flat_map(|s| paths::transcripts(s)).collect()
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(parser::parser(path, state))
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        paths::session_of(&self.states, path)
    }

    /// The transcript's turns are pi's.
    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        super::pi::live::turn(path)
    }
}
