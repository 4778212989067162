//! Where Hermes Agent keeps its state database, as `get_hermes_home()`
//! decides (`hermes_constants.py`): `HERMES_HOME` when set, else
//! `~/.hermes` (on Windows `%LOCALAPPDATA%\hermes`), with
//! `HERMES_DATA_DIR_SUFFIX` appended to the folder's name. The database is
//! `state.db` in it (`hermes_state.py`, `DEFAULT_DB_PATH`). A named profile
//! is a home of its own, `<home>/profiles/<name>/`, with its own `state.db`:
//! agentwatch reads those too. `HERMES_HOME` may list several homes,
//! comma-separated, as ccusage reads it.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// The database's name in a Hermes home.
pub const DATABASE: &str = "state.db";

/// The Hermes homes to read, whether they exist or not.
pub fn homes(env: &SourceEnv) -> Vec<PathBuf> {
    if let Some(list) = env.path_list("HERMES_HOME") {
        return crate::sources::dedup_dirs(list);
    }
    let name = |base: &str| format!("{base}{}", env.var("HERMES_DATA_DIR_SUFFIX").unwrap_or(""));
    let home = if cfg!(windows) {
        env.var("LOCALAPPDATA")
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .or_else(|| env.home.as_ref().map(|h| h.join("AppData").join("Local")))
            .map(|base| base.join(name("hermes")))
    } else {
        env.home.as_ref().map(|h| h.join(name(".hermes")))
    };
    home.into_iter().collect()
}

/// The folders a state database may be in: each home, and each of its
/// named profiles (`profiles/<name>`, not a hidden one: `.deleted` holds
/// tombstones), reached without following links.
pub fn database_dirs(homes: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for h in homes {
        out.push(h.clone());
        let profiles = h.join("profiles");
        let Ok(entries) = std::fs::read_dir(&profiles) else { continue };
        let mut named: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        named.sort();
        out.extend(named);
    }
    out
}

/// The state databases that exist in `dirs` (regular files, not links).
pub fn databases(dirs: &[PathBuf]) -> Vec<PathBuf> {
    dirs.iter().map(|d| d.join(DATABASE)).filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file())).collect()
}

/// Whether `path` is a state database of one of `homes` (or of one of their
/// profiles) by its place.
pub fn is_database(homes: &[PathBuf], path: &Path) -> bool {
    if path.file_name() != Some(DATABASE.as_ref()) {
        return false;
    }
    let Some(dir) = path.parent() else { return false };
    homes.iter().any(|h| {
        dir == h
            || (dir.parent() == Some(h.join("profiles").as_path())
                && dir.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> SourceEnv {
        SourceEnv::of("/home/u", vars)
    }

    #[test]
    fn where_and_which() {
        if cfg!(windows) {
            assert_eq!(homes(&env(&[("LOCALAPPDATA", "C:\\L")])), [PathBuf::from("C:\\L").join("hermes")]);
        } else {
            assert_eq!(homes(&env(&[])), [PathBuf::from("/home/u/.hermes")]);
            assert_eq!(homes(&env(&[("HERMES_DATA_DIR_SUFFIX", "-dev")])), [PathBuf::from("/home/u/.hermes-dev")]);
        }
        assert_eq!(homes(&env(&[("HERMES_HOME", "/srv/h, /srv/i")])), [PathBuf::from("/srv/h"), "/srv/i".into()]);
        let h = [PathBuf::from("/home/u/.hermes")];
        assert!(is_database(&h, Path::new("/home/u/.hermes/state.db")));
        assert!(is_database(&h, Path::new("/home/u/.hermes/profiles/work/state.db")));
        assert!(!is_database(&h, Path::new("/home/u/.hermes/profiles/.deleted/state.db")));
        assert!(!is_database(&h, Path::new("/home/u/.hermes/sessions/state.db")));
        assert!(!is_database(&h, Path::new("/home/u/.hermes/state.db-wal")));
    }

    #[test]
    fn profiles_are_homes_of_their_own() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join(".hermes");
        for d in ["profiles/work", "profiles/.deleted/old", "profiles/empty"] {
            std::fs::create_dir_all(home.join(d)).unwrap();
        }
        for f in ["state.db", "profiles/work/state.db", "profiles/.deleted/old/state.db"] {
            std::fs::write(home.join(f), b"").unwrap();
        }
        let dirs = database_dirs(std::slice::from_ref(&home));
        assert_eq!(dirs, [home.clone(), home.join("profiles/empty"), home.join("profiles/work")]);
        assert_eq!(databases(&dirs), [home.join("state.db"), home.join("profiles/work/state.db")]);
    }
}
