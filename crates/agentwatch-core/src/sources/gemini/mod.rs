//! Gemini CLI: `~/.gemini/tmp/<project>/chats/session-*.jsonl` chat files,
//! and its hooks (`hooks` in `~/.gemini/settings.json`).
//!
//! So far this folder gives live state (which chat a running `gemini`
//! writes, where its turn stands, its hook events). Its token usage is not
//! read yet: `discover` lists no files (see README.md).

pub mod hooks;
pub mod live;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{HookEvent, LineError, LineParser, LiveProcess, Record, Source, SourceEnv, TranscriptLink, TurnInfo};

pub const AGENT: &str = "gemini-cli";

pub struct GeminiSource {
    /// `~/.gemini`, whether it exists yet or not.
    home: Option<PathBuf>,
}

impl GeminiSource {
    pub fn new(env: &SourceEnv) -> GeminiSource {
        GeminiSource { home: paths::gemini_dir(env) }
    }
}

/// Reads no usage from a chat file (not yet: see README.md).
struct NoUsage;

impl LineParser for NoUsage {
    fn parse(&mut self, _line: &[u8], _offset: u64, _out: &mut Vec<Record>) -> Result<(), LineError> {
        Ok(())
    }

    fn state(&self) -> Option<String> {
        None
    }
}

impl Source for GeminiSource {
    fn agent(&self) -> &'static str {
        AGENT
    }

    fn roots(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.home.iter().map(|h| h.join("tmp")).collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn parser(&self, _path: &Path, _state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(NoUsage)
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        live::session_of(self.home.as_deref()?, path)
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(self.home.as_deref()?, p, claimed)
    }

    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }

    fn has_hooks(&self) -> bool {
        true
    }

    fn hook_aliases(&self) -> &'static [&'static str] {
        &["gemini"]
    }

    fn hook_event(&self, payload: &serde_json::Value) -> Result<HookEvent, String> {
        hooks::event(payload)
    }
}
