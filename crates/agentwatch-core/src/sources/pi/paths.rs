//! Where pi keeps its sessions.
//!
//! pi (`packages/coding-agent/src/config.ts`): the agent dir is
//! `PI_CODING_AGENT_DIR` (`~` and `~/…` under the home), else
//! `~/.pi/agent`, on every platform; sessions are in its `sessions/`, one
//! folder per working directory (`--<cwd, "/", "\" and ":" as "-">--`,
//! `session-manager.ts`), one `<ISO time, ":" and "." as "-">_<uuid>.jsonl`
//! per session. ccusage reads `PI_AGENT_DIR` instead: a comma-separated
//! list of `sessions` folders; those count too.

use std::path::{Path, PathBuf};

use crate::sources::{SourceEnv, dedup_dirs, find_jsonl, plainly_within};

/// The agent dir: `PI_CODING_AGENT_DIR`, else `~/.pi/agent`.
pub fn agent_dir(env: &SourceEnv) -> Option<PathBuf> {
    match env.var("PI_CODING_AGENT_DIR") {
        Some("~") => env.home.clone(),
        Some(v) => match v.strip_prefix("~/") {
            Some(rest) => env.home.as_ref().map(|h| h.join(rest)),
            None => Some(PathBuf::from(v)),
        },
        None => env.home.as_ref().map(|h| h.join(".pi").join("agent")),
    }
}

/// The `sessions` folders, whether they exist yet or not: the agent dir's,
/// then those `PI_AGENT_DIR` lists.
pub fn sessions_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    let own = agent_dir(env).map(|d| d.join("sessions"));
    dedup_dirs(own.into_iter().chain(env.path_list("PI_AGENT_DIR").unwrap_or_default()).collect())
}

/// The folder pi keeps a working directory's sessions in.
pub fn cwd_folder(cwd: &str) -> String {
    let rest = cwd.strip_prefix(['/', '\\']).unwrap_or(cwd);
    format!("--{}--", rest.replace(['/', '\\', ':'], "-"))
}

/// The session of a file: the part of its name after the first `_` (pi
/// names it `<time>_<session id>.jsonl`), else the whole name.
pub fn session_id_of(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    Some(stem.split_once('_').map_or(stem, |(_, id)| id).to_string())
}

/// The session of a file under one of the `sessions` folders.
pub fn session_of(sessions: &[PathBuf], path: &Path) -> Option<String> {
    if path.extension()? != "jsonl" || !plainly_within(sessions, path) {
        return None;
    }
    session_id_of(path)
}

/// Every session file under a `sessions` folder (at any depth, as ccusage
/// reads them).
pub fn session_files(sessions: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    find_jsonl(sessions, &|_| true, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> SourceEnv {
        SourceEnv::of("/home/u", vars)
    }

    #[test]
    fn the_agent_dir_and_its_variables() {
        assert_eq!(sessions_dirs(&env(&[])), vec![PathBuf::from("/home/u/.pi/agent/sessions")]);
        assert_eq!(sessions_dirs(&env(&[("PI_CODING_AGENT_DIR", "/srv/pi")])), vec![PathBuf::from("/srv/pi/sessions")]);
        assert_eq!(sessions_dirs(&env(&[("PI_CODING_AGENT_DIR", "~/pi")])), vec![PathBuf::from("/home/u/pi/sessions")]);
        assert_eq!(sessions_dirs(&env(&[("PI_CODING_AGENT_DIR", "~")])), vec![PathBuf::from("/home/u/sessions")]);
        assert_eq!(
            sessions_dirs(&env(&[("PI_AGENT_DIR", "/a/sessions, /b/sessions")])),
            ["/home/u/.pi/agent/sessions", "/a/sessions", "/b/sessions"].map(PathBuf::from).to_vec(),
            "ccusage's list, beside pi's own folder"
        );
    }

    #[test]
    fn folders_and_sessions_are_named_as_pi_names_them() {
        assert_eq!(cwd_folder("/home/u/my.app"), "--home-u-my.app--");
        assert_eq!(cwd_folder("C:\\Users\\u\\app"), "--C--Users-u-app--");
        let s = vec![PathBuf::from("/h/.pi/agent/sessions")];
        let of = |p: &str| session_of(&s, Path::new(p));
        assert_eq!(
            of("/h/.pi/agent/sessions/--h-app--/2026-03-14T09-12-03-511Z_6f1d2c7e-1b3a-4c55-9e0f-2a7b8c9d0e1f.jsonl")
                .as_deref(),
            Some("6f1d2c7e-1b3a-4c55-9e0f-2a7b8c9d0e1f")
        );
        assert_eq!(of("/h/.pi/agent/sessions/--h-app--/plain.jsonl").as_deref(), Some("plain"));
        assert_eq!(of("/h/.pi/agent/sessions/--h-app--/notes.txt"), None);
        assert_eq!(of("/h/.pi/agent/sessions/../../x/a_b.jsonl"), None);
        assert_eq!(of("/elsewhere/a_b.jsonl"), None);
    }
}
