//! Where OpenCode keeps its database, as its `Database.path()` decides: in
//! its data folder (`xdg-basedir`'s data dir: `$XDG_DATA_HOME`, else
//! `~/.local/share`, then `opencode/`), named `opencode.db` for the release
//! channels and `opencode-<channel>.db` for the others. `OPENCODE_DB` names
//! another file: an absolute path, or a name in the data folder.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// OpenCode's data folder.
pub fn data_dir(env: &SourceEnv) -> Option<PathBuf> {
    env.var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".local/share")))
        .map(|d| d.join("opencode"))
}

/// The database `OPENCODE_DB` names, if it names a file.
pub fn database_override(env: &SourceEnv, data: Option<&Path>) -> Option<PathBuf> {
    let v = env.var("OPENCODE_DB").filter(|v| *v != ":memory:")?;
    let p = PathBuf::from(v);
    if p.is_absolute() { Some(p) } else { data.map(|d| d.join(p)) }
}

/// Whether a file name is one of OpenCode's databases in its data folder.
pub fn is_database_name(name: &str) -> bool {
    name == "opencode.db"
        || name.strip_prefix("opencode-").and_then(|rest| rest.strip_suffix(".db")).is_some_and(|channel| {
            !channel.is_empty() && channel.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}

/// Every database in `data` (regular files only: a link there is not
/// followed).
pub fn databases(data: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data) else { return Vec::new() };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()) && is_database_name(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_folder_and_the_database_override() {
        let env = |vars: &[(&str, &str)]| SourceEnv {
            home: Some("/home/u".into()),
            vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        assert_eq!(data_dir(&env(&[])), Some("/home/u/.local/share/opencode".into()));
        let xdg = env(&[("XDG_DATA_HOME", "/data")]);
        assert_eq!(data_dir(&xdg), Some("/data/opencode".into()));
        let d = data_dir(&xdg);
        assert_eq!(database_override(&env(&[("OPENCODE_DB", "/srv/oc.db")]), d.as_deref()), Some("/srv/oc.db".into()));
        assert_eq!(
            database_override(&env(&[("OPENCODE_DB", "mine.db")]), d.as_deref()),
            Some("/data/opencode/mine.db".into())
        );
        assert_eq!(database_override(&env(&[("OPENCODE_DB", ":memory:")]), d.as_deref()), None);
        assert_eq!(database_override(&env(&[]), d.as_deref()), None);
    }

    #[test]
    fn database_names() {
        for ok in ["opencode.db", "opencode-beta.db", "opencode-dev_2.db"] {
            assert!(is_database_name(ok), "{ok}");
        }
        for no in ["opencode.db-wal", "opencode-.db", "other.db", "opencode-a b.db", "opencode.json"] {
            assert!(!is_database_name(no), "{no}");
        }
    }
}
