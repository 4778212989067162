//! Where Aider writes its chat history: `.aider.chat.history.md` at the root
//! of the git repository it runs in (else in its working directory), as
//! `aider/args.py` defaults `--chat-history-file`; the option, or its
//! variable `AIDER_CHAT_HISTORY_FILE`, names another file. Aider keeps no
//! list of the repositories it ran in, so the files are found from the
//! variable (an absolute path) and from where agentwatch saw it run: the
//! working directories of the `aider` processes the collector finds, and
//! the folders and files of Aider's sessions in the store
//! ([`crate::sources::Leads`]). `--analytics-log` (`AIDER_ANALYTICS_LOG`)
//! names the file of its analytics events.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// The history file's default name (`default_chat_history_file`).
pub const HISTORY_FILE: &str = ".aider.chat.history.md";

/// The variable Aider reads `--chat-history-file` from (configargparse's
/// `AIDER_` prefix).
pub const HISTORY_VAR: &str = "AIDER_CHAT_HISTORY_FILE";

/// The variable Aider reads `--analytics-log` from: the file it appends
/// its analytics events to (`aider/analytics.py`).
pub const ANALYTICS_VAR: &str = "AIDER_ANALYTICS_LOG";

/// The file `AIDER_CHAT_HISTORY_FILE` names, when it names one wherever
/// Aider runs: an absolute path, or `~/…`. A relative one is relative to
/// each run's directory: those are found from where Aider ran.
pub fn env_history_file(env: &SourceEnv) -> Option<PathBuf> {
    one_file(env, HISTORY_VAR)
}

/// The analytics log `AIDER_ANALYTICS_LOG` names, when it is one file
/// wherever Aider runs (absolute, or `~/…`).
pub fn env_analytics_log(env: &SourceEnv) -> Option<PathBuf> {
    one_file(env, ANALYTICS_VAR)
}

fn one_file(env: &SourceEnv, var: &str) -> Option<PathBuf> {
    let v = env.var(var)?.trim();
    if let Some(rest) = v.strip_prefix("~/") {
        return env.home.as_ref().map(|h| h.join(rest));
    }
    let p = PathBuf::from(v);
    p.is_absolute().then_some(p)
}

/// The folder Aider takes as its root when started in `cwd`: the nearest
/// one up that holds `.git` (a folder, or a worktree's file), else `cwd`.
pub fn project_root(cwd: &Path) -> PathBuf {
    cwd.ancestors().find(|d| d.join(".git").exists()).unwrap_or(cwd).to_path_buf()
}

/// The history file an `aider` started in `cwd` writes by default.
pub fn history_of(cwd: &Path) -> PathBuf {
    project_root(cwd).join(HISTORY_FILE)
}

/// The project a history file belongs to: its folder, when it has the
/// default name (a file named otherwise may gather several projects).
pub fn project_of(file: &Path) -> Option<String> {
    (file.file_name() == Some(HISTORY_FILE.as_ref()))
        .then(|| file.parent().map(|d| d.to_string_lossy().into_owned()))
        .flatten()
        .filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_names_a_file_when_it_is_absolute_and_the_repo_root_holds_the_default() {
        let env = |v: &str| SourceEnv::of("/home/u", &[(HISTORY_VAR, v)]);
        assert_eq!(env_history_file(&env("/srv/chat.md")), Some("/srv/chat.md".into()));
        assert_eq!(env_history_file(&env("~/notes/aider.md")), Some("/home/u/notes/aider.md".into()));
        assert_eq!(env_history_file(&env("chat.md")), None, "relative: each run's own folder");
        assert_eq!(env_history_file(&SourceEnv::default()), None);
        let log = |v: &str| SourceEnv::of("/home/u", &[(ANALYTICS_VAR, v)]);
        assert_eq!(env_analytics_log(&log("~/aider.jsonl")), Some("/home/u/aider.jsonl".into()));
        assert_eq!(env_analytics_log(&log("/var/log/aider.jsonl")), Some("/var/log/aider.jsonl".into()));
        assert_eq!(env_analytics_log(&log("aider.jsonl")), None);

        let t = tempfile::tempdir().unwrap();
        let repo = t.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src/deep")).unwrap();
        std::fs::create_dir_all(t.path().join("loose")).unwrap();
        assert_eq!(history_of(&repo.join("src/deep")), repo.join(HISTORY_FILE));
        assert_eq!(history_of(&repo), repo.join(HISTORY_FILE));
        let loose = t.path().join("loose");
        assert_eq!(project_root(&loose), loose, "no repository: the folder it runs in");
        assert_eq!(project_of(&repo.join(HISTORY_FILE)), Some(repo.to_string_lossy().into_owned()));
        assert_eq!(project_of(Path::new("/srv/chat.md")), None);
    }
}
