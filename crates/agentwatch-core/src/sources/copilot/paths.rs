//! Where GitHub Copilot CLI keeps its files: `COPILOT_HOME`, else `~/.copilot`
//! (`%USERPROFILE%\.copilot` on Windows). In it:
//! - `session-store.db`: SQLite, every session (`sessions`) and every model
//!   call (`assistant_usage_events`);
//! - `session-state/<session id>/events.jsonl`: the session's event log,
//!   with `workspace.yaml` beside it and, while a process has the session
//!   open, `inuse.<pid>.lock`.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// Copilot CLI's folder.
pub fn copilot_home(env: &SourceEnv) -> Option<PathBuf> {
    env.var("COPILOT_HOME").map(PathBuf::from).or_else(|| env.home.as_ref().map(|h| h.join(".copilot")))
}

/// The database's name in that folder.
pub const DATABASE: &str = "session-store.db";

/// The folder of the sessions' event logs.
pub fn session_state(home: &Path) -> PathBuf {
    home.join("session-state")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copilot_home_moves_everything() {
        let env = |vars: &[(&str, &str)]| SourceEnv::of("/home/u", vars);
        assert_eq!(copilot_home(&env(&[])), Some("/home/u/.copilot".into()));
        assert_eq!(copilot_home(&env(&[("COPILOT_HOME", "/srv/c")])), Some("/srv/c".into()));
    }
}
