//! Qwen Code: token usage from its chats
//! (`~/.qwen/projects/<encoded cwd>/chats/<session>.jsonl`, from the first
//! prompt on), live state from its hooks (Claude Code's hook shape, in
//! `~/.qwen/settings.json`) and the chat a running `qwen` writes. See
//! README.md.

mod install;
pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, HookEvent, LineParser, LiveProcess, Source, SourceEnv, TranscriptLink, TurnInfo};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "qwen-code",
    display: "Qwen Code",
    short: "Qwen",
    aliases: &["qwen"],
    ccusage: Some("qwen"),
    client_needles: &["qwen"],
    open: Some(|env| Box::new(QwenSource::new(env))),
    installs: &[crate::install::Target::Hooks],
    install_files: Some(install::files),
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct QwenSource {
    /// The `projects` folder, whether it exists yet or not.
    projects: Option<PathBuf>,
}

impl QwenSource {
    pub fn new(env: &SourceEnv) -> QwenSource {
        QwenSource { projects: paths::projects_dir(env) }
    }

    fn projects(&self) -> Vec<PathBuf> {
        self.projects.iter().cloned().collect()
    }
}

impl Source for QwenSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.projects().into_iter().filter(|d| d.is_dir()).collect()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.projects()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.projects.as_deref().map(paths::chats).unwrap_or_default()
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(parser::QwenParser::new(path, state))
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        live::session_of(&self.projects(), path)
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(&self.projects(), p, claimed)
    }

    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }

    fn has_hooks(&self) -> bool {
        true
    }

    /// Qwen Code sends Claude Code's hook events, with the same fields.
    fn hook_event(&self, payload: &serde_json::Value) -> Result<HookEvent, String> {
        super::claude::hooks::event(payload)
    }
}
