//! Where OpenClaw keeps its session transcripts.
//!
//! OpenClaw (`src/config/paths.ts`, `src/infra/home-dir.ts`): the state dir
//! is `OPENCLAW_STATE_DIR` (or the older `CLAWDBOT_STATE_DIR`; `~` is the
//! home), else `~/.openclaw`, or the first of the older `~/.clawdbot`,
//! `~/.moldbot`, `~/.moltbot` that exists; the home is `OPENCLAW_HOME`
//! when set. Each agent's transcripts are in
//! `<state>/agents/<agent id>/sessions/` (`src/config/sessions/paths.ts`):
//! `<session id>.jsonl` (or `<id>-topic-<thread>.jsonl`), archived as
//! `<file>.reset.<time>` / `<file>.deleted.<time>`, and a compaction's
//! checkpoint copy `<id>.checkpoint.<uuid>.jsonl` (`artifacts.ts`). Every
//! state dir that exists is read (an older one keeps older sessions), and
//! those ccusage's `OPENCLAW_DIR` lists (comma-separated state dirs).

use std::path::{Component, Path, PathBuf};

use crate::sources::{SourceEnv, dedup_dirs, find_files};

/// `~`, `~/…` under `home`.
fn expand(v: &str, home: Option<&Path>) -> Option<PathBuf> {
    match v.strip_prefix("~/").or_else(|| v.strip_prefix("~\\")).or((v == "~").then_some("")) {
        Some(rest) => home.map(|h| if rest.is_empty() { h.to_path_buf() } else { h.join(rest) }),
        None => Some(PathBuf::from(v)),
    }
}

/// The state dirs, existing or not.
pub fn state_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    let home = match env.var("OPENCLAW_HOME").map(str::trim).filter(|v| !v.is_empty()) {
        Some(h) => expand(h, env.home.as_deref()),
        None => env.home.clone(),
    };
    let over = ["OPENCLAW_STATE_DIR", "CLAWDBOT_STATE_DIR"]
        .iter()
        .find_map(|k| env.var(k).map(str::trim).filter(|v| !v.is_empty()));
    let mut dirs: Vec<PathBuf> = match over {
        Some(v) => expand(v, home.as_deref()).into_iter().collect(),
        None => [".openclaw", ".clawdbot", ".moldbot", ".moltbot"]
            .iter()
            .filter_map(|d| home.as_ref().map(|h| h.join(d)))
            .collect(),
    };
    dirs.extend(env.path_list("OPENCLAW_DIR").unwrap_or_default());
    dedup_dirs(dirs)
}

/// Whether OpenClaw counts a file of this name in its usage
/// (`isUsageCountedSessionTranscriptFileName`), and its session
/// (`parseUsageCountedSessionIdFromFileName`): a transcript, a checkpoint
/// copy (its parent's session), a reset or deleted archive.
pub fn session_of_name(name: &str) -> Option<String> {
    if let Some(stem) = name.strip_suffix(".jsonl") {
        if stem.ends_with(".trajectory") || stem.is_empty() {
            return None; // OpenClaw's run traces, not transcripts
        }
        if let Some((parent, id)) = stem.rsplit_once(".checkpoint.")
            && is_uuid(id)
            && !parent.is_empty()
        {
            return Some(parent.to_string());
        }
        return Some(stem.to_string());
    }
    for reason in [".jsonl.reset.", ".jsonl.deleted."] {
        if let Some(i) = name.rfind(reason)
            && i > 0
            && is_archive_time(&name[i + reason.len()..])
        {
            return Some(name[..i].to_string());
        }
    }
    None
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `2026-03-20T06-34-44.520Z` (or without the milliseconds).
fn is_archive_time(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = b"dddd-dd-ddTdd-dd-dd";
    if b.len() < shape.len() || !b.iter().zip(shape).all(|(c, s)| if *s == b'd' { c.is_ascii_digit() } else { c == s })
    {
        return false;
    }
    let rest = &b[shape.len()..];
    rest == b"Z" || (rest.len() == 5 && rest[0] == b'.' && rest[1..4].iter().all(u8::is_ascii_digit) && rest[4] == b'Z')
}

/// The session of a transcript `<state>/agents/<agent>/sessions/<file>`.
pub fn session_of(states: &[PathBuf], path: &Path) -> Option<String> {
    let rel = states.iter().find_map(|s| path.strip_prefix(s).ok())?;
    let parts: Vec<&str> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        ["agents", _, "sessions", name] => session_of_name(name),
        _ => None,
    }
}

/// Every transcript under a state dir.
pub fn transcripts(state: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(agents) = std::fs::read_dir(state.join("agents")) else { return out };
    for a in agents.flatten() {
        if a.file_type().is_ok_and(|t| t.is_dir()) {
            let mut found = Vec::new();
            find_files(&a.path().join("sessions"), &|name| session_of_name(name).is_some(), &mut found);
            out.extend(found.into_iter().filter(|p| p.parent().and_then(Path::file_name) == Some("sessions".as_ref())));
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
    fn the_state_dirs_and_their_variables() {
        assert_eq!(
            state_dirs(&env(&[])),
            ["/home/u/.openclaw", "/home/u/.clawdbot", "/home/u/.moldbot", "/home/u/.moltbot"]
                .map(PathBuf::from)
                .to_vec()
        );
        assert_eq!(state_dirs(&env(&[("OPENCLAW_STATE_DIR", "/srv/oc")])), vec![PathBuf::from("/srv/oc")]);
        assert_eq!(state_dirs(&env(&[("CLAWDBOT_STATE_DIR", "~/bot")])), vec![PathBuf::from("/home/u/bot")]);
        assert_eq!(
            state_dirs(&env(&[("OPENCLAW_HOME", "/data/me"), ("OPENCLAW_STATE_DIR", "~/oc")])),
            vec![PathBuf::from("/data/me/oc")],
            "OPENCLAW_HOME is the home `~` names"
        );
        assert_eq!(state_dirs(&env(&[("OPENCLAW_HOME", "~/alt")]))[0], PathBuf::from("/home/u/alt/.openclaw"));
        assert_eq!(
            state_dirs(&env(&[("OPENCLAW_STATE_DIR", "/srv/oc"), ("OPENCLAW_DIR", "/a,/srv/oc")])),
            ["/srv/oc", "/a"].map(PathBuf::from).to_vec(),
            "ccusage's list too"
        );
    }

    #[test]
    fn transcripts_their_archives_and_checkpoint_copies() {
        let of = |n: &str| session_of_name(n);
        assert_eq!(of("4f1c2a.jsonl").as_deref(), Some("4f1c2a"));
        assert_eq!(of("4f1c2a-topic-17.jsonl").as_deref(), Some("4f1c2a-topic-17"));
        assert_eq!(of("4f1c2a.checkpoint.0b9e8f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b.jsonl").as_deref(), Some("4f1c2a"));
        assert_eq!(of("4f1c2a.jsonl.reset.2026-03-20T06-34-44.520Z").as_deref(), Some("4f1c2a"));
        assert_eq!(of("4f1c2a.jsonl.deleted.2026-03-20T06-34-44Z").as_deref(), Some("4f1c2a"));
        assert_eq!(of("4f1c2a.jsonl.bak.2026-03-20T06-34-44Z"), None);
        assert_eq!(of("4f1c2a.jsonl.deleted.1700000000000"), None);
        assert_eq!(of("4f1c2a.trajectory.jsonl"), None);
        assert_eq!(of("sessions.json"), None);
        let s = vec![PathBuf::from("/h/.openclaw")];
        assert_eq!(
            session_of(&s, Path::new("/h/.openclaw/agents/main/sessions/4f1c2a.jsonl")).as_deref(),
            Some("4f1c2a")
        );
        assert_eq!(session_of(&s, Path::new("/h/.openclaw/workspace/notes.jsonl")), None);
        assert_eq!(session_of(&s, Path::new("/h/.openclaw/agents/main/sessions/../../x/sessions/a.jsonl")), None);
    }
}
