//! Qwen Code: live state from its hooks (Claude Code's hook shape, in
//! `~/.qwen/settings.json`) and the chat a running `qwen` writes
//! (`~/.qwen/projects/<encoded cwd>/chats/<session>.jsonl`, from the first
//! prompt on). Its token usage is not read yet (see README.md).

pub mod live;

use std::path::{Path, PathBuf};

use super::{HookEvent, LiveProcess, Source, SourceEnv, TranscriptLink};

pub const AGENT: &str = "qwen-code";

pub struct QwenSource {
    /// `~/.qwen`.
    home: Option<PathBuf>,
}

impl QwenSource {
    pub fn new(env: &SourceEnv) -> QwenSource {
        QwenSource { home: env.home.as_ref().map(|h| h.join(".qwen")) }
    }

    fn projects(&self) -> Vec<PathBuf> {
        self.home.iter().map(|h| h.join("projects")).collect()
    }
}

impl Source for QwenSource {
    fn agent(&self) -> &'static str {
        AGENT
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        live::session_of(&self.projects(), path)
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(&self.projects(), p, claimed)
    }

    fn has_hooks(&self) -> bool {
        true
    }

    fn hook_aliases(&self) -> &'static [&'static str] {
        &["qwen"]
    }

    /// Qwen Code sends Claude Code's hook events, with the same fields.
    fn hook_event(&self, payload: &serde_json::Value) -> Result<HookEvent, String> {
        super::claude::hooks::event(payload)
    }
}
