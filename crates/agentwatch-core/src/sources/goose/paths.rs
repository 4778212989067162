//! Where Goose keeps its sessions database, as its `Paths::data_dir()`
//! decides (`crates/goose/src/config/paths.rs`, `etcetera`'s app strategy
//! for "Block"/"goose"): `GOOSE_PATH_ROOT/data` when that variable is an
//! absolute path; else on Windows `%APPDATA%\Block\goose\data`, elsewhere
//! (macOS too) `$XDG_DATA_HOME/goose` or `~/.local/share/goose`. The
//! database is `sessions/sessions.db` in it. ccusage also looks in
//! `~/Library/Application Support/goose` and `~/.local/share/Block/goose`,
//! where older builds kept it; so does agentwatch.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// The folders a sessions database may be in, the one Goose uses first.
pub fn session_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    if let Some(root) = env.var("GOOSE_PATH_ROOT").map(str::trim).map(Path::new).filter(|p| p.is_absolute()) {
        return vec![root.join("data").join("sessions")];
    }
    let mut out = Vec::new();
    if cfg!(windows) {
        if let Some(app) = env.var("APPDATA") {
            out.push(Path::new(app).join("Block").join("goose").join("data").join("sessions"));
        }
    } else {
        let data =
            env.var("XDG_DATA_HOME").map(PathBuf::from).or_else(|| env.home.as_ref().map(|h| h.join(".local/share")));
        out.extend(data.map(|d| d.join("goose").join("sessions")));
    }
    if let Some(h) = &env.home {
        out.push(h.join("Library/Application Support/goose/sessions"));
        out.push(h.join(".local/share/Block/goose/sessions"));
    }
    crate::sources::dedup_dirs(out)
}

/// The database's name in its folder.
pub const DATABASE: &str = "sessions.db";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goose_path_root_wins_when_absolute() {
        let env = |vars: &[(&str, &str)]| SourceEnv::of("/home/u", vars);
        assert_eq!(session_dirs(&env(&[("GOOSE_PATH_ROOT", "/srv/g")])), vec![PathBuf::from("/srv/g/data/sessions")]);
        let default = session_dirs(&env(&[("GOOSE_PATH_ROOT", "relative/ignored")]));
        assert_eq!(default[0], PathBuf::from("/home/u/.local/share/goose/sessions"));
        assert_eq!(session_dirs(&env(&[("XDG_DATA_HOME", "/d")]))[0], PathBuf::from("/d/goose/sessions"));
    }
}
