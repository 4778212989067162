//! OpenCode: sessions and token usage from its SQLite database
//! (`~/.local/share/opencode/opencode.db`, read-only), live state from
//! agentwatch's plugin (`plugin.js`, installed by `hooks install --agent
//! opencode` into OpenCode's plugin folder). See README.md.

pub mod hooks;
mod install;
pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, HookEvent, LiveProcess, Source, SourceEnv, Storage, TableReader, TranscriptLink};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "opencode",
    display: "OpenCode",
    short: "OpenCode",
    aliases: &[],
    ccusage: Some("opencode"),
    client_needles: &["opencode"],
    open: Some(|env| Box::new(OpenCodeSource::new(env))),
    installs: &[crate::install::Target::Hooks],
    install_files: Some(install::files),
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

/// The plugin agentwatch installs; `__AGENTWATCH_COMMAND__` becomes the
/// command (a JSON array) it runs for each event.
pub const PLUGIN: &str = include_str!("plugin.js");

/// The plugin's file name in OpenCode's plugin folder.
pub const PLUGIN_FILE: &str = "agentwatch.js";

pub struct OpenCodeSource {
    /// `~/.config/opencode` (or `$XDG_CONFIG_HOME/opencode`).
    config: Option<PathBuf>,
    databases: paths::Databases,
}

impl OpenCodeSource {
    pub fn new(env: &SourceEnv) -> OpenCodeSource {
        OpenCodeSource { config: config_dir(env), databases: paths::Databases::new(env, "opencode", "OPENCODE_DB") }
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
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Sqlite
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.databases.folder().into_iter().filter(|d| d.is_dir()).collect()
    }

    /// The folder holds OpenCode's logs, snapshots and legacy storage too:
    /// only the files directly in it are watched ([`Source::live_dirs`]).
    fn watch_roots(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn live_dirs(&self) -> Vec<PathBuf> {
        self.databases.folder().into_iter().collect()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        self.databases.folder().into_iter().collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.databases.discover()
    }

    fn reads_file(&self, path: &Path) -> bool {
        self.databases.is_database(path)
    }

    fn table_reader(&self, _path: &Path, state: Option<&str>) -> Option<Box<dyn TableReader>> {
        Some(Box::new(parser::OpenCodeReader::new(AGENT, "OpenCode", state)))
    }

    /// Only its plugin tells OpenCode's turns: with it installed, a running
    /// OpenCode that sent nothing yet sits at its prompt.
    fn reads_turns(&self) -> bool {
        self.config.as_ref().is_some_and(|c| c.join("plugin").join(PLUGIN_FILE).is_file())
    }

    /// The newest session created in the process's directory since it started.
    fn newest_link(&self, p: &LiveProcess, _claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_session(&self.databases.discover(), p)
    }

    fn has_hooks(&self) -> bool {
        true
    }

    fn hook_event(&self, payload: &serde_json::Value) -> Result<HookEvent, String> {
        hooks::event(payload)
    }
}
