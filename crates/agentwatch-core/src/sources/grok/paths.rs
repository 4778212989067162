//! Where Grok Build keeps its sessions.
//!
//! `GROK_HOME`, else `~/.grok` (the same on Linux, macOS and Windows: the
//! home folder's `.grok`), then `sessions/<cwd, URL-encoded>/<session
//! id>/`, a folder per session holding `updates.jsonl` (the ACP update log,
//! appended), `summary.json` (rewritten: id, cwd, model) and sidecars not
//! read here (`chat_history.jsonl`, `events.jsonl`, `signals.json`).

use std::path::{Component, Path, PathBuf};

use crate::sources::{SourceEnv, find_files};

/// The log of a session that holds its usage.
pub const UPDATES: &str = "updates.jsonl";

/// The session's metadata beside it.
pub const SUMMARY: &str = "summary.json";

/// Grok's home: `GROK_HOME`, else `~/.grok`.
pub fn home(env: &SourceEnv) -> Option<PathBuf> {
    env.var("GROK_HOME")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".grok")))
}

/// The `sessions` folder, whether it exists yet or not.
pub fn sessions_dir(env: &SourceEnv) -> Option<PathBuf> {
    home(env).map(|h| h.join("sessions"))
}

/// The folders of `path` below `sessions`, if it is an update log there in a
/// session's folder: `[…, session, updates.jsonl]`, at least a cwd folder
/// above the session's (ccusage reads every `updates.jsonl` below
/// `sessions/`).
fn parts<'a>(sessions: &Path, path: &'a Path) -> Option<Vec<&'a str>> {
    let rel = path.strip_prefix(sessions).ok()?;
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            _ => return None,
        }
    }
    (parts.last() == Some(&UPDATES) && parts.len() >= 3).then_some(parts)
}

/// The session an update log belongs to: the folder it is in.
pub fn session_of(sessions: &Path, path: &Path) -> Option<String> {
    parts(sessions, path).map(|p| p[p.len() - 2].to_string())
}

/// Every update log under `sessions`.
pub fn updates(sessions: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    find_files(sessions, &|name| name == UPDATES, &mut out);
    out.retain(|p| parts(sessions, p).is_some());
    out
}

/// A folder name Grok URL-encoded (`%2Fhome%2Fu%2Fapp`), decoded byte by
/// byte; a `%` not followed by two hex digits stays as it is.
pub fn url_decode(name: &str) -> String {
    let b = name.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(hi), Some(lo)) = (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex))
        {
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The work dir a session's folder is under, from its encoded name.
pub fn cwd_of(path: &Path) -> Option<String> {
    let cwd = path.parent()?.parent()?.file_name()?.to_str()?;
    Some(url_decode(cwd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grok_home_or_the_home_folder() {
        let env = |vars: &[(&str, &str)]| SourceEnv::of("/home/u", vars);
        assert_eq!(sessions_dir(&env(&[])), Some(PathBuf::from("/home/u/.grok/sessions")));
        assert_eq!(sessions_dir(&env(&[("GROK_HOME", "/srv/g")])), Some(PathBuf::from("/srv/g/sessions")));
        assert_eq!(sessions_dir(&env(&[("GROK_HOME", "  ")])), Some(PathBuf::from("/home/u/.grok/sessions")));
        assert_eq!(sessions_dir(&SourceEnv::default()), None);
    }

    #[test]
    fn sessions_of_update_logs() {
        let s = Path::new("/h/.grok/sessions");
        let of = |p: &str| session_of(s, Path::new(p));
        assert_eq!(of("/h/.grok/sessions/%2Fw%2Fapp/019fa7cc-a6a2/updates.jsonl").as_deref(), Some("019fa7cc-a6a2"));
        assert_eq!(of("/h/.grok/sessions/%2Fw/updates.jsonl"), None, "no session folder");
        assert_eq!(of("/h/.grok/sessions/%2Fw/s/events.jsonl"), None);
        assert_eq!(of("/h/.grok/sessions/%2Fw/../x/s/updates.jsonl"), None);
        assert_eq!(of("/elsewhere/%2Fw/s/updates.jsonl"), None);
    }

    #[test]
    fn encoded_work_dirs_decode() {
        assert_eq!(url_decode("%2Fhome%2Fu%2Fmy-app"), "/home/u/my-app");
        assert_eq!(url_decode("D%3A%5Cwork%5Cproj"), "D:\\work\\proj");
        assert_eq!(url_decode("caf%C3%A9"), "café");
        assert_eq!(url_decode("100%"), "100%");
        assert_eq!(url_decode("%zz"), "%zz");
        assert_eq!(cwd_of(Path::new("/h/.grok/sessions/%2Fw%2Fapp/s1/updates.jsonl")).as_deref(), Some("/w/app"));
    }
}
