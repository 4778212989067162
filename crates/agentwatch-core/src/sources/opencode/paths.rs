//! Where OpenCode keeps its database, as its `Database.path()` decides: in
//! its data folder (`xdg-basedir`'s data dir: `$XDG_DATA_HOME`, else
//! `~/.local/share`, then `opencode/`), named `opencode.db` for the release
//! channels and `opencode-<channel>.db` for the others. `OPENCODE_DB` names
//! another file: an absolute path, or a name in the data folder. Its fork
//! Kilo CLI does the same with `kilo` and `KILO_DB`.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// Where an OpenCode-like agent keeps its databases.
#[derive(Debug, Clone)]
pub struct Databases {
    /// The app's name: its folder and its databases' names (`opencode`).
    app: &'static str,
    /// The data folder, whether it exists yet or not.
    data: Option<PathBuf>,
    /// The one database the override variable names, instead of the data folder's.
    database: Option<PathBuf>,
}

impl Databases {
    /// `app`'s databases; `var` names the variable that overrides them.
    pub fn new(env: &SourceEnv, app: &'static str, var: &str) -> Databases {
        let data = data_dir(env, app);
        let database = database_override(env, var, data.as_deref());
        Databases { app, data, database }
    }

    /// The folder the databases are in.
    pub fn folder(&self) -> Option<PathBuf> {
        match &self.database {
            Some(db) => db.parent().map(Path::to_path_buf),
            None => self.data.clone(),
        }
    }

    /// Every database there is (regular files only: a link there is not
    /// followed).
    pub fn discover(&self) -> Vec<PathBuf> {
        match &self.database {
            Some(db) => {
                std::fs::symlink_metadata(db).is_ok_and(|m| m.is_file()).then(|| db.clone()).into_iter().collect()
            }
            None => self.data.as_deref().map(|d| databases(d, self.app)).unwrap_or_default(),
        }
    }

    /// Whether `path` is one of them.
    pub fn is_database(&self, path: &Path) -> bool {
        match &self.database {
            Some(db) => path == db,
            None => {
                path.parent() == self.data.as_deref()
                    && path.file_name().is_some_and(|n| is_database_name(&n.to_string_lossy(), self.app))
            }
        }
    }
}

/// The app's data folder.
pub fn data_dir(env: &SourceEnv, app: &str) -> Option<PathBuf> {
    env.var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".local/share")))
        .map(|d| d.join(app))
}

/// The database `var` names, if it names a file.
pub fn database_override(env: &SourceEnv, var: &str, data: Option<&Path>) -> Option<PathBuf> {
    let v = env.var(var).filter(|v| *v != ":memory:")?;
    let p = PathBuf::from(v);
    if p.is_absolute() { Some(p) } else { data.map(|d| d.join(p)) }
}

/// Whether a file name is one of the app's databases in its data folder:
/// `<app>.db` or `<app>-<channel>.db`.
pub fn is_database_name(name: &str, app: &str) -> bool {
    let Some(rest) = name.strip_prefix(app).and_then(|r| r.strip_suffix(".db")) else { return false };
    rest.is_empty()
        || rest.strip_prefix('-').is_some_and(|channel| {
            !channel.is_empty() && channel.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}

/// Every database of `app` in `data`.
fn databases(data: &Path, app: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data) else { return Vec::new() };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()) && is_database_name(&e.file_name().to_string_lossy(), app))
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
        let env = |vars: &[(&str, &str)]| SourceEnv::of("/home/u", vars);
        assert_eq!(data_dir(&env(&[]), "opencode"), Some("/home/u/.local/share/opencode".into()));
        let xdg = env(&[("XDG_DATA_HOME", "/data")]);
        assert_eq!(data_dir(&xdg, "kilo"), Some("/data/kilo".into()));
        let d = data_dir(&xdg, "opencode");
        let over = |vars: &[(&str, &str)]| database_override(&env(vars), "OPENCODE_DB", d.as_deref());
        assert_eq!(over(&[("OPENCODE_DB", "/srv/oc.db")]), Some("/srv/oc.db".into()));
        assert_eq!(over(&[("OPENCODE_DB", "mine.db")]), Some("/data/opencode/mine.db".into()));
        assert_eq!(over(&[("OPENCODE_DB", ":memory:")]), None);
        assert_eq!(over(&[("KILO_DB", "/srv/k.db")]), None);
        assert_eq!(over(&[]), None);
        let kilo = Databases::new(&env(&[("KILO_DB", "/srv/k.db")]), "kilo", "KILO_DB");
        assert_eq!(kilo.folder(), Some("/srv".into()));
        assert!(kilo.is_database(Path::new("/srv/k.db")) && !kilo.is_database(Path::new("/srv/kilo.db")));
    }

    #[test]
    fn database_names() {
        for ok in ["opencode.db", "opencode-beta.db", "opencode-dev_2.db"] {
            assert!(is_database_name(ok, "opencode"), "{ok}");
        }
        for no in [
            "opencode.db-wal",
            "opencode-.db",
            "other.db",
            "opencode-a b.db",
            "opencode.json",
            "opencodex.db",
            "kilo.db",
        ] {
            assert!(!is_database_name(no, "opencode"), "{no}");
        }
        assert!(is_database_name("kilo.db", "kilo") && is_database_name("kilo-dev.db", "kilo"));
    }
}
