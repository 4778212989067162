//! Claude Code: `projects/<encoded cwd>/<session>.jsonl` transcripts,
//! including sub-agent transcripts under `<session>/subagents/`.

pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{LineParser, Source, SourceEnv};

pub const AGENT: &str = "claude-code";

pub struct ClaudeSource {
    projects: Vec<PathBuf>,
}

impl ClaudeSource {
    pub fn new(env: &SourceEnv) -> ClaudeSource {
        ClaudeSource { projects: paths::projects_dirs(env) }
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
}
