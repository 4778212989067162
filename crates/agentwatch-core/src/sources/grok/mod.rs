//! Grok Build (xAI's coding agent CLI): its sessions' update logs
//! (`~/.grok/sessions/<cwd>/<session>/updates.jsonl`): token usage and cost
//! per completed turn and model, and where a session's turn stands. See
//! README.md.

pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LineParser, LiveProcess, Source, SourceEnv, TranscriptLink, TurnInfo};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "grok",
    display: "Grok Build",
    short: "Grok",
    aliases: &["grok-build", "grok-cli"],
    ccusage: Some("grok"),
    client_needles: &["grok"],
    open: Some(|env| Box::new(GrokSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

/// The most of a `summary.json` read: it is a few hundred bytes.
const MAX_SUMMARY: u64 = 1 << 20;

pub struct GrokSource {
    /// Grok's `sessions` folder, existing or not.
    sessions: Option<PathBuf>,
}

impl GrokSource {
    pub fn new(env: &SourceEnv) -> GrokSource {
        GrokSource { sessions: paths::sessions_dir(env) }
    }
}

/// The `summary.json` beside an update log, if it can be read.
fn summary_of(path: &Path) -> parser::Summary {
    use std::io::Read;
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path.with_file_name(paths::SUMMARY))
        .and_then(|f| f.take(MAX_SUMMARY).read_to_end(&mut bytes));
    match read {
        Ok(_) => parser::Summary::parse(&bytes),
        Err(_) => parser::Summary::default(),
    }
}

impl Source for GrokSource {
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
        self.sessions.iter().cloned().collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.sessions.iter().flat_map(|s| paths::updates(s)).collect()
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        let session = self.session_of(path).unwrap_or_default();
        Box::new(parser::GrokParser::new(&session, summary_of(path), paths::cwd_of(path), state))
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        paths::session_of(self.sessions.as_deref()?, path)
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(self.sessions.as_deref()?, p, claimed)
    }

    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }
}
