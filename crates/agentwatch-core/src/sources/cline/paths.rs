//! Where Cline keeps its sessions.
//!
//! - **Cline 4 (CLI and extension, `@cline/core`):** `~/.cline` (`CLINE_DIR`
//!   moves it); its data folder `~/.cline/data` (`CLINE_DATA_DIR`); the
//!   sessions under `data/sessions` (`CLINE_SESSION_DATA_DIR`), one folder
//!   per session, `<sid>/<sid>.messages.json` (the messages, with each
//!   model call's `metrics`) beside `<sid>.json` (the manifest: cwd, model,
//!   pid) and a sub-agent's `<agent>.messages.json`; the sessions database
//!   `data/db/sessions.db` (`CLINE_DB_DATA_DIR`). As `resolveClineDir`,
//!   `resolveClineDataDir`, `resolveSessionDataDir` and `resolveDbDataDir`
//!   decide in cline/cline `sdk/packages/shared/src/storage/paths.ts`.
//! - **The VS Code extensions before it** (Cline 3, Roo Code, Kilo Code):
//!   `tasks/<task id>/ui_messages.json` in the extension's folder of the
//!   editor's `User/globalStorage`, for VS Code, its Insiders build,
//!   Cursor, Windsurf and VSCodium (Linux `$XDG_CONFIG_HOME` or `~/.config`,
//!   macOS `~/Library/Application Support`, Windows `%APPDATA%`), and a
//!   remote host's `~/.vscode-server/data/User/globalStorage`.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// `~/.cline`, or `CLINE_DIR`.
fn cline_dir(env: &SourceEnv) -> Option<PathBuf> {
    env.var("CLINE_DIR")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".cline")))
}

/// `~/.cline/data`, or `CLINE_DATA_DIR`.
fn data_dir(env: &SourceEnv) -> Option<PathBuf> {
    env.var("CLINE_DATA_DIR")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| cline_dir(env).map(|d| d.join("data")))
}

/// The folder of Cline 4's session folders.
pub fn sessions_dir(env: &SourceEnv) -> Option<PathBuf> {
    env.var("CLINE_SESSION_DATA_DIR")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| data_dir(env).map(|d| d.join("sessions")))
}

/// Cline 4's sessions database (`sessions.db`), whose rows name each
/// session's process.
pub fn sessions_db(env: &SourceEnv) -> Option<PathBuf> {
    env.var("CLINE_DB_DATA_DIR")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| data_dir(env).map(|d| d.join("db")))
        .map(|d| d.join("sessions.db"))
}

/// Where Cline 3 kept tasks in Cline's data folder, `data/tasks` (its CLI's
/// `cline-core` had the extension's storage there,
/// `src/standalone/vscode-context.ts`; Cline 4's extension looks for old
/// tasks there, `apps/vscode/src/sdk/legacy-state-reader.ts` `taskDirPath`).
pub fn legacy_cli_tasks(env: &SourceEnv) -> Option<PathBuf> {
    data_dir(env).map(|d| d.join("tasks"))
}

/// The suffix of a messages file.
pub const MESSAGES: &str = ".messages.json";

/// The session a Cline 4 messages file belongs to: the folder it is in
/// (a sub-agent's file lies in its root session's folder).
pub fn session_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name.len() <= MESSAGES.len() || !name.ends_with(MESSAGES) {
        return None;
    }
    let dir = path.parent()?.file_name()?.to_str()?;
    (!dir.is_empty()).then(|| dir.to_string())
}

/// The session's manifest, beside its messages: `<sid>/<sid>.json`.
pub fn manifest_of(messages: &Path, session: &str) -> Option<PathBuf> {
    Some(messages.parent()?.join(format!("{session}.json")))
}

/// Every messages file, one folder down in `dir`.
pub fn messages_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(files) = std::fs::read_dir(e.path()) else { continue };
        for f in files.flatten() {
            let p = f.path();
            if f.file_type().is_ok_and(|t| t.is_file()) && session_of(&p).is_some() {
                out.push(p);
            }
        }
    }
    out
}

/// The editors whose user data holds VS Code extensions' storage.
const EDITORS: &[&str] = &["Code", "Code - Insiders", "Cursor", "Windsurf", "VSCodium"];

/// Every `User/globalStorage` folder an editor may keep, on this OS.
pub fn global_storage_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    let mut bases: Vec<PathBuf> = Vec::new();
    if cfg!(windows) {
        bases.extend(env.var("APPDATA").map(PathBuf::from));
    } else if cfg!(target_os = "macos") {
        bases.extend(env.home.as_ref().map(|h| h.join("Library/Application Support")));
    } else {
        bases.extend(
            env.var("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| env.home.as_ref().map(|h| h.join(".config"))),
        );
    }
    let mut out: Vec<PathBuf> =
        bases.iter().flat_map(|b| EDITORS.iter().map(move |e| b.join(e).join("User").join("globalStorage"))).collect();
    if let Some(h) = &env.home {
        out.push(h.join(".vscode-server/data/User/globalStorage"));
    }
    out
}

/// The `tasks` folders of the extension `ext` (`saoudrizwan.claude-dev`),
/// in every editor.
pub fn task_roots(env: &SourceEnv, ext: &str) -> Vec<PathBuf> {
    global_storage_dirs(env).into_iter().map(|g| g.join(ext).join("tasks")).collect()
}

/// A task's UI messages file.
pub const UI_MESSAGES: &str = "ui_messages.json";

/// The task a `ui_messages.json` belongs to: its folder's name.
pub fn task_of(path: &Path) -> Option<String> {
    if path.file_name()? != UI_MESSAGES {
        return None;
    }
    let dir = path.parent()?.file_name()?.to_str()?;
    (!dir.is_empty()).then(|| dir.to_string())
}

/// Every task's `ui_messages.json` in a `tasks` folder.
pub fn ui_messages_files(tasks: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(tasks) else { return out };
    for e in entries.flatten() {
        let p = e.path().join(UI_MESSAGES);
        if e.file_type().is_ok_and(|t| t.is_dir()) && std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file()) {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> SourceEnv {
        SourceEnv::of("/home/u", vars)
    }

    #[test]
    fn cline_4_folders_and_their_overrides() {
        assert_eq!(sessions_dir(&env(&[])), Some("/home/u/.cline/data/sessions".into()));
        assert_eq!(sessions_db(&env(&[])), Some("/home/u/.cline/data/db/sessions.db".into()));
        assert_eq!(sessions_dir(&env(&[("CLINE_DIR", "/c")])), Some("/c/data/sessions".into()));
        assert_eq!(sessions_dir(&env(&[("CLINE_DIR", "/c"), ("CLINE_DATA_DIR", "/d")])), Some("/d/sessions".into()));
        assert_eq!(sessions_db(&env(&[("CLINE_DATA_DIR", "/d")])), Some("/d/db/sessions.db".into()));
        assert_eq!(
            sessions_dir(&env(&[("CLINE_DATA_DIR", "/d"), ("CLINE_SESSION_DATA_DIR", "/s")])),
            Some("/s".into())
        );
        assert_eq!(sessions_db(&env(&[("CLINE_DB_DATA_DIR", "/b")])), Some("/b/sessions.db".into()));
        assert_eq!(legacy_cli_tasks(&env(&[])), Some("/home/u/.cline/data/tasks".into()));
        assert_eq!(legacy_cli_tasks(&env(&[("CLINE_DATA_DIR", "/d")])), Some("/d/tasks".into()));
    }

    #[test]
    fn which_files_and_whose() {
        let p = Path::new("/s/1784094124598_rruoq/1784094124598_rruoq.messages.json");
        assert_eq!(session_of(p).as_deref(), Some("1784094124598_rruoq"));
        assert_eq!(
            manifest_of(p, "1784094124598_rruoq"),
            Some("/s/1784094124598_rruoq/1784094124598_rruoq.json".into())
        );
        assert_eq!(
            session_of(Path::new("/s/1784094124598_rruoq/researcher.messages.json")).as_deref(),
            Some("1784094124598_rruoq")
        );
        assert_eq!(session_of(Path::new("/s/x/x.json")), None);
        assert_eq!(session_of(Path::new("/s/x/.messages.json")), None);
        assert_eq!(task_of(Path::new("/g/ext/tasks/1730000000000/ui_messages.json")).as_deref(), Some("1730000000000"));
        assert_eq!(task_of(Path::new("/g/ext/tasks/1730000000000/api_conversation_history.json")), None);
    }

    #[test]
    fn the_editors_global_storage() {
        let dirs = global_storage_dirs(&env(&[]));
        if cfg!(target_os = "linux") {
            assert_eq!(dirs[0], PathBuf::from("/home/u/.config/Code/User/globalStorage"));
            assert!(dirs.contains(&"/home/u/.config/Code - Insiders/User/globalStorage".into()));
            assert!(dirs.contains(&"/home/u/.config/VSCodium/User/globalStorage".into()));
            assert_eq!(
                global_storage_dirs(&env(&[("XDG_CONFIG_HOME", "/x")]))[2],
                PathBuf::from("/x/Cursor/User/globalStorage")
            );
        }
        assert_eq!(dirs.last(), Some(&PathBuf::from("/home/u/.vscode-server/data/User/globalStorage")));
        assert_eq!(
            task_roots(&env(&[]), "saoudrizwan.claude-dev").last(),
            Some(&PathBuf::from("/home/u/.vscode-server/data/User/globalStorage/saoudrizwan.claude-dev/tasks"))
        );
    }
}
