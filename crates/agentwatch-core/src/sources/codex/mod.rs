//! Codex: `sessions/YYYY/MM/DD/rollout-*.jsonl` and `archived_sessions/`.

pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{LineParser, Source, SourceEnv};

pub const AGENT: &str = "codex";

pub struct CodexSource {
    homes: Vec<PathBuf>,
}

impl CodexSource {
    pub fn new(env: &SourceEnv) -> CodexSource {
        CodexSource { homes: paths::homes(env) }
    }
}

impl Source for CodexSource {
    fn agent(&self) -> &'static str {
        AGENT
    }

    fn roots(&self) -> Vec<PathBuf> {
        paths::session_dirs(&self.homes)
    }

    fn discover(&self) -> Vec<PathBuf> {
        paths::transcripts(&self.homes)
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(parser::CodexParser::new(path, state))
    }
}
