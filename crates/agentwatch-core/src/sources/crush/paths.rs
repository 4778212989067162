//! Where Crush keeps its files (charmbracelet/crush).
//!
//! - Each project's database is `crush.db` in that project's data directory
//!   (`internal/db/connect.go`): `options.data_directory` when configured,
//!   else the nearest `.crush` folder up from the working directory, else
//!   `<cwd>/.crush` (`internal/config/load.go`, `defaultDataDirectory`).
//! - Crush lists every project it ran in, with that data directory, in
//!   `projects.json` (`internal/projects/projects.go`), next to its global
//!   data file (`config.GlobalConfigData()`): `$CRUSH_GLOBAL_DATA`, else
//!   `$XDG_DATA_HOME/crush`, else on Windows `%LOCALAPPDATA%\crush` (or
//!   `%USERPROFILE%\AppData\Local\crush`), elsewhere, macOS too,
//!   `~/.local/share/crush`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::sources::SourceEnv;

/// The database's name in a project's data directory.
pub const DATABASE: &str = "crush.db";
/// The list of projects in the global data directory.
pub const PROJECTS: &str = "projects.json";
/// A project's data directory when none is configured.
pub const DEFAULT_DATA_DIR: &str = ".crush";

/// Crush's global data directory, where `projects.json` is.
pub fn global_dir(env: &SourceEnv) -> Option<PathBuf> {
    if let Some(d) = env.var("CRUSH_GLOBAL_DATA").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = env.var("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Some(Path::new(d).join("crush"));
    }
    if cfg!(windows) {
        let local = env
            .var("LOCALAPPDATA")
            .map(PathBuf::from)
            .or_else(|| env.var("USERPROFILE").map(|u| Path::new(u).join("AppData").join("Local")))?;
        return Some(local.join("crush"));
    }
    env.home.as_ref().map(|h| h.join(".local/share/crush"))
}

/// One project of `projects.json`: `{"path", "data_dir", "last_accessed"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The working directory Crush ran in.
    pub path: PathBuf,
    /// Where its `crush.db` is.
    pub data_dir: PathBuf,
}

#[derive(Deserialize)]
struct ProjectList {
    #[serde(default)]
    projects: Vec<ProjectEntry>,
}

#[derive(Deserialize)]
struct ProjectEntry {
    #[serde(default)]
    path: String,
    #[serde(default)]
    data_dir: String,
}

/// The projects `projects.json` lists (`{"projects": [{"path": …,
/// "data_dir": …, "last_accessed": …}]}`), each with an absolute path and
/// data directory (Crush writes them absolute); nothing when it is not that.
pub fn parse_projects(bytes: &[u8]) -> Vec<Project> {
    let Ok(list) = serde_json::from_slice::<ProjectList>(bytes) else { return Vec::new() };
    let mut out: Vec<Project> = Vec::new();
    for p in list.projects {
        let (path, data_dir) = (PathBuf::from(p.path), PathBuf::from(p.data_dir));
        if path.is_absolute() && data_dir.is_absolute() && !out.iter().any(|o| o.data_dir == data_dir) {
            out.push(Project { path, data_dir });
        }
    }
    out
}

/// The projects Crush has listed, read now.
pub fn projects(env: &SourceEnv) -> Vec<Project> {
    global_dir(env).and_then(|d| std::fs::read(d.join(PROJECTS)).ok()).map(|b| parse_projects(&b)).unwrap_or_default()
}

/// The data directory Crush uses in `cwd`: the one `projects.json` lists for
/// it, else the default `<cwd>/.crush`.
pub fn data_dir_of(projects: &[Project], cwd: &Path) -> PathBuf {
    projects.iter().find(|p| p.path == cwd).map_or_else(|| cwd.join(DEFAULT_DATA_DIR), |p| p.data_dir.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> SourceEnv {
        SourceEnv::of("/home/u", vars)
    }

    #[test]
    fn the_global_data_dir_as_crush_decides_it() {
        assert_eq!(
            global_dir(&env(&[("CRUSH_GLOBAL_DATA", "/srv/c"), ("XDG_DATA_HOME", "/d")])),
            Some("/srv/c".into())
        );
        assert_eq!(global_dir(&env(&[("XDG_DATA_HOME", "/d")])), Some("/d/crush".into()));
        if cfg!(windows) {
            assert_eq!(global_dir(&env(&[("LOCALAPPDATA", "C:\\L")])), Some(Path::new("C:\\L").join("crush")));
        } else {
            assert_eq!(global_dir(&env(&[])), Some("/home/u/.local/share/crush".into()));
        }
    }

    #[test]
    fn projects_json_as_crush_writes_it() {
        let list = parse_projects(include_bytes!("fixtures/projects.json"));
        assert_eq!(
            list,
            vec![
                Project { path: "/home/u/proj".into(), data_dir: "/home/u/proj/.crush".into() },
                Project { path: "/home/u/app".into(), data_dir: "/srv/crush-data/app".into() },
            ],
            "a relative entry is skipped"
        );
        assert_eq!(data_dir_of(&list, Path::new("/home/u/app")), PathBuf::from("/srv/crush-data/app"));
        assert_eq!(data_dir_of(&list, Path::new("/home/u/new")), PathBuf::from("/home/u/new/.crush"));
        assert!(parse_projects(b"{not json").is_empty());
        assert!(parse_projects(b"{}").is_empty());
    }
}
