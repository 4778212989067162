//! What `agentwatch <target> install --agent codex` edits: `config.toml`.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::install::{Editor, Target, home};
use crate::sources::SourceEnv;

/// Codex's folder: the first of `CODEX_HOME`, else `~/.codex`.
fn codex_dir(env: &SourceEnv) -> Result<PathBuf> {
    match env.path_list("CODEX_HOME") {
        Some(list) => Ok(list[0].clone()),
        None => Ok(home(env)?.join(".codex")),
    }
}

pub(crate) fn files(target: Target, env: &SourceEnv) -> Result<Vec<(PathBuf, Editor)>> {
    let editor = match target {
        Target::Hooks => Editor::CodexHooks,
        Target::Telemetry => Editor::CodexTelemetry,
        Target::McpProxy => Editor::TomlServers,
        Target::Statusline => return Err(Error::Usage("Codex has no status line command".into())),
    };
    Ok(vec![(codex_dir(env)?.join("config.toml"), editor)])
}
