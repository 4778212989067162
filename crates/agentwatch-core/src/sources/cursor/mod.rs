//! Cursor's agent: recognised among running processes (`signatures.toml`),
//! and an MCP client agentwatch's proxy can wrap. Its local files are not
//! read yet.

mod install;

use super::AgentInfo;

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    aliases: &["cursor"],
    client_needles: &["cursor"],
    installs: &[crate::install::Target::McpProxy],
    install_files: Some(install::files),
    ..AgentInfo::named("cursor-agent", "Cursor Agent", "Cursor")
};
