//! OpenCode: live state from agentwatch's plugin (`plugin.js`, installed by
//! `hooks install --agent opencode` into OpenCode's plugin folder). OpenCode
//! keeps its sessions in SQLite (`~/.local/share/opencode/opencode.db`);
//! reading their usage from it is not done yet (see README.md).

pub mod hooks;

use std::path::PathBuf;

use super::{HookEvent, Source, SourceEnv};

pub const AGENT: &str = "opencode";

/// The plugin agentwatch installs; `__AGENTWATCH_COMMAND__` becomes the
/// command (a JSON array) it runs for each event.
pub const PLUGIN: &str = include_str!("plugin.js");

/// The plugin's file name in OpenCode's plugin folder.
pub const PLUGIN_FILE: &str = "agentwatch.js";

pub struct OpenCodeSource {
    /// `~/.config/opencode` (or `$XDG_CONFIG_HOME/opencode`).
    config: Option<PathBuf>,
}

impl OpenCodeSource {
    pub fn new(env: &SourceEnv) -> OpenCodeSource {
        OpenCodeSource { config: config_dir(env) }
    }
}

/// OpenCode's config dir.
pub fn config_dir(env: &SourceEnv) -> Option<PathBuf> {
    env.var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".config")))
        .map(|c| c.join("opencode"))
}

impl Source for OpenCodeSource {
    fn agent(&self) -> &'static str {
        AGENT
    }

    /// Only its plugin tells OpenCode's turns: with it installed, a running
    /// OpenCode that sent nothing yet sits at its prompt.
    fn reads_turns(&self) -> bool {
        self.config.as_ref().is_some_and(|c| c.join("plugin").join(PLUGIN_FILE).is_file())
    }

    fn has_hooks(&self) -> bool {
        true
    }

    fn hook_event(&self, payload: &serde_json::Value) -> Result<HookEvent, String> {
        hooks::event(payload)
    }
}
