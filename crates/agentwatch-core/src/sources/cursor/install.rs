//! What `agentwatch mcp-proxy install --agent cursor-agent` edits:
//! `~/.cursor/mcp.json`.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::install::{Editor, Target, home};
use crate::sources::SourceEnv;

pub(crate) fn files(target: Target, env: &SourceEnv) -> Result<Vec<(PathBuf, Editor)>> {
    if target != Target::McpProxy {
        return Err(Error::Usage(format!("Cursor has no {} agentwatch installs", target.name())));
    }
    Ok(vec![(home(env)?.join(".cursor/mcp.json"), Editor::JsonServers)])
}
