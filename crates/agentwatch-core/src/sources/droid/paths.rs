//! Where Factory's Droid keeps its sessions: `~/.factory/sessions/<cwd with
//! "/" as "-">/<session id>.settings.json` (the session's settings, with
//! its running token totals, rewritten in place) beside `<session
//! id>.jsonl` (its messages). `FACTORY_HOME` moves `~/.factory`.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// The `sessions` folder.
pub fn sessions_dir(env: &SourceEnv) -> Option<PathBuf> {
    env.var("FACTORY_HOME")
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".factory")))
        .map(|f| f.join("sessions"))
}

/// The suffix of a session's settings file.
pub const SETTINGS: &str = ".settings.json";

/// The session a settings file is of: its name without `.settings.json`.
pub fn session_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    name.strip_suffix(SETTINGS).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Every settings file under `dir` (links not followed).
pub fn settings_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    crate::sources::find_files(dir, &|name| name.len() > SETTINGS.len() && name.ends_with(SETTINGS), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_and_which() {
        let env = |vars: &[(&str, &str)]| SourceEnv::of("/home/u", vars);
        assert_eq!(sessions_dir(&env(&[])), Some("/home/u/.factory/sessions".into()));
        assert_eq!(sessions_dir(&env(&[("FACTORY_HOME", "/f")])), Some("/f/sessions".into()));
        assert_eq!(session_of(Path::new("/s/-home-u-app/0b6a.settings.json")).as_deref(), Some("0b6a"));
        assert_eq!(session_of(Path::new("/s/-home-u-app/0b6a.jsonl")), None);
        assert_eq!(session_of(Path::new("/s/.settings.json")), None);
    }
}
