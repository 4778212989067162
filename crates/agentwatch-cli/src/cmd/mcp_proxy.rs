//! `agentwatch mcp-proxy [--label NAME] -- <server command…>`

use std::path::Path;

use agentwatch_core::install::Target;
use agentwatch_core::paths::Dirs;
use agentwatch_core::proxy::{ProxyOptions, run as proxy};
use agentwatch_core::{Error, Result};

use crate::cli::McpProxyArgs;

pub fn run(data_dir: Option<&Path>, a: &McpProxyArgs) -> Result<()> {
    if let Some(c) = &a.command {
        return super::install::run(data_dir, Target::McpProxy, c);
    }
    if a.server.is_empty() {
        return Err(Error::Usage("give the MCP server to run after --, e.g. `agentwatch mcp-proxy -- npx -y @modelcontextprotocol/server-everything`".into()));
    }
    let dirs = Dirs::resolve(data_dir)?;
    let code = proxy(&dirs, &ProxyOptions { label: a.label.clone() }, &a.server)?;
    // The agent sees the server's own exit status.
    std::process::exit(code);
}
