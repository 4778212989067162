//! Aider: recognised among running processes (`signatures.toml`); its chat
//! history is not read yet.

use super::AgentInfo;

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo { client_needles: &["aider"], ..AgentInfo::named("aider", "Aider", "Aider") };
