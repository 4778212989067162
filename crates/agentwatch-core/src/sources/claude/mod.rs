//! Claude Code: `projects/<encoded cwd>/<session>.jsonl` transcripts,
//! including sub-agent transcripts under `<session>/subagents/`.

pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{LineParser, LiveProcess, Source, SourceEnv, TranscriptLine, TranscriptLink, TurnInfo};

pub const AGENT: &str = "claude-code";

pub struct ClaudeSource {
    configs: Vec<PathBuf>,
    projects: Vec<PathBuf>,
}

impl ClaudeSource {
    pub fn new(env: &SourceEnv) -> ClaudeSource {
        ClaudeSource { configs: paths::config_dirs(env), projects: paths::projects_dirs(env) }
    }
}

impl Source for ClaudeSource {
    fn agent(&self) -> &'static str {
        AGENT
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.projects.clone()
    }

    fn discover(&self) -> Vec<PathBuf> {
        paths::transcripts(&self.projects)
    }

    fn parser(&self, path: &Path, _state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(parser::ClaudeParser::new(path))
    }

    fn live_dirs(&self) -> Vec<PathBuf> {
        self.configs.iter().map(|c| c.join("sessions")).filter(|d| d.is_dir()).collect()
    }

    fn registry_link(&self, p: &LiveProcess) -> Option<TranscriptLink> {
        live::registry_link(&self.configs, p)
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        live::session_of(&self.projects, path)
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(&self.projects, p, claimed)
    }

    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }

    fn tail(&self, path: &Path, max: usize) -> Vec<TranscriptLine> {
        live::tail(path, max)
    }
}
