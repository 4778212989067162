//! pi (pi-agent, `@mariozechner/pi-coding-agent`): token usage and turns
//! from its session files (`~/.pi/agent/sessions/--<cwd>--/<time>_<id>.jsonl`),
//! and the session a running `pi` writes. See README.md.

pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LineParser, LiveProcess, Source, SourceEnv, TranscriptLink, TurnInfo};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "pi",
    display: "pi",
    short: "pi",
    aliases: &["pi-agent", "pi-coding-agent"],
    ccusage: Some("pi"),
    // pi has no MCP client of its own.
    client_needles: &[],
    open: Some(|env| Box::new(PiSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct PiSource {
    /// The `sessions` folders, existing or not.
    sessions: Vec<PathBuf>,
}

impl PiSource {
    pub fn new(env: &SourceEnv) -> PiSource {
        PiSource { sessions: paths::sessions_dirs(env) }
    }
}

impl Source for PiSource {
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
        self.sessions.iter().flat_map(|s| paths::session_files(s)).collect()
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(parser::PiParser::new(path, state))
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
