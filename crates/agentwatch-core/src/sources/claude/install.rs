//! What `agentwatch <target> install --agent claude-code` edits.

use std::path::PathBuf;

use crate::error::Result;
use crate::install::{Editor, Target, home};
use crate::sources::SourceEnv;

/// Claude Code's folder: the first of `CLAUDE_CONFIG_DIR`, else `~/.claude`.
fn claude_dir(env: &SourceEnv) -> Result<PathBuf> {
    match env.path_list("CLAUDE_CONFIG_DIR") {
        Some(list) => Ok(list[0].clone()),
        None => Ok(home(env)?.join(".claude")),
    }
}

/// `~/.claude.json` (its MCP servers), or `.claude.json` in `CLAUDE_CONFIG_DIR`.
fn claude_json(env: &SourceEnv) -> Result<PathBuf> {
    match env.path_list("CLAUDE_CONFIG_DIR") {
        Some(list) => Ok(list[0].join(".claude.json")),
        None => Ok(home(env)?.join(".claude.json")),
    }
}

pub(crate) fn files(target: Target, env: &SourceEnv) -> Result<Vec<(PathBuf, Editor)>> {
    let settings = || Ok::<_, crate::Error>(claude_dir(env)?.join("settings.json"));
    Ok(vec![match target {
        Target::Hooks => (settings()?, Editor::ClaudeHooks),
        Target::Statusline => (settings()?, Editor::ClaudeStatusline),
        Target::Telemetry => (settings()?, Editor::ClaudeTelemetry),
        Target::McpProxy => (claude_json(env)?, Editor::JsonServers),
    }])
}
