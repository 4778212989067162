//! Where Google Antigravity keeps its conversations: one SQLite database per
//! conversation, `<uuid>.db`, in `conversations/` of an app data folder under
//! the home folder's `.gemini` (the same on Linux, macOS and Windows, where
//! the home is `%USERPROFILE%`): `antigravity` (the IDE, the desktop app),
//! `antigravity-ide` (the IDE's language server, `--app_data_dir
//! antigravity-ide`), `antigravity-cli` (the `agy` CLI) and
//! `antigravity-backup`; and `~/.config/antigravity`. These are the folders
//! ccusage 20.0.24 reads (its binary's strings), which other readers of real
//! installs confirm (README.md).
//!
//! `ANTIGRAVITY_DATA_DIR` (comma-separated folders) replaces them all; it is
//! ccusage's variable, not Antigravity's (Antigravity takes its folder from
//! its `--app_data_dir` flag). In each folder the databases are read from
//! `conversations/` when there is one, else from the folder itself, in
//! sub-folders too.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// The app data folders under the home folder, in the order ccusage lists them.
const HOME_DIRS: &[&str] = &[
    ".gemini/antigravity",
    ".gemini/antigravity-cli",
    ".gemini/antigravity-ide",
    ".gemini/antigravity-backup",
    ".config/antigravity",
];

/// The folder of conversations in an app data folder.
pub const CONVERSATIONS: &str = "conversations";

/// The extension of a conversation's database.
pub const EXTENSION: &str = "db";

/// The app data folders to read, whether they exist yet or not.
pub fn data_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    let dirs = env.path_list("ANTIGRAVITY_DATA_DIR").unwrap_or_else(|| {
        env.home
            .as_ref()
            .map(|h| HOME_DIRS.iter().map(|d| d.split('/').fold(h.clone(), |p, part| p.join(part))).collect())
            .unwrap_or_default()
    });
    crate::sources::dedup_dirs(dirs)
}

/// The folder of an app data folder that holds its databases:
/// `conversations/` when there is one, else the folder itself.
pub fn scan_dir(data_dir: &Path) -> PathBuf {
    let nested = data_dir.join(CONVERSATIONS);
    if nested.is_dir() { nested } else { data_dir.to_path_buf() }
}

/// Whether `name` is a conversation's database (`<id>.db`): not its WAL or
/// shared-memory file.
pub fn is_database(name: &str) -> bool {
    Path::new(name).extension().is_some_and(|e| e == EXTENSION) && name.len() > EXTENSION.len() + 1
}

/// The conversation a database is: its file's name without `.db`.
pub fn conversation_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    is_database(name).then(|| path.file_stem()?.to_str().map(str::to_string)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gemini_folders_or_antigravity_data_dir() {
        let env = |vars: &[(&str, &str)]| SourceEnv::of("/home/u", vars);
        assert_eq!(
            data_dirs(&env(&[])),
            [
                "/home/u/.gemini/antigravity",
                "/home/u/.gemini/antigravity-cli",
                "/home/u/.gemini/antigravity-ide",
                "/home/u/.gemini/antigravity-backup",
                "/home/u/.config/antigravity"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(
            data_dirs(&env(&[("ANTIGRAVITY_DATA_DIR", "/srv/a, /srv/b,")])),
            vec![PathBuf::from("/srv/a"), PathBuf::from("/srv/b")]
        );
        assert_eq!(data_dirs(&env(&[("ANTIGRAVITY_DATA_DIR", " , ")])).len(), 5, "a list of nothing is no list");
    }

    #[test]
    fn conversations_folder_when_there_is_one() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(scan_dir(t.path()), t.path());
        std::fs::create_dir(t.path().join("conversations")).unwrap();
        assert_eq!(scan_dir(t.path()), t.path().join("conversations"));
    }

    #[test]
    fn databases_are_named_by_their_conversation() {
        let id = "0f6c6a52-3b1e-4d7a-9c55-2f4e8b1a7d10";
        assert_eq!(conversation_of(Path::new(&format!("/c/{id}.db"))).as_deref(), Some(id));
        assert_eq!(conversation_of(Path::new(&format!("/c/{id}.db-wal"))), None);
        assert_eq!(conversation_of(Path::new(&format!("/c/{id}.pb"))), None);
        assert_eq!(conversation_of(Path::new("/c/.db")), None);
    }
}
