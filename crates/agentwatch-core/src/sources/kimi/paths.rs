//! Where Kimi keeps its wire logs.
//!
//! - Kimi CLI (Python, `kimi-cli`): `KIMI_SHARE_DIR`, else `~/.kimi`
//!   (`share.py`), `sessions/<md5 of the work dir>/<session>/wire.jsonl`; a
//!   subagent's own log is `…/<session>/subagents/<agent>/wire.jsonl`.
//! - Kimi Code (Node, `@moonshot-ai/kimi-code`): `KIMI_CODE_HOME`, else
//!   `~/.kimi-code` (`utils/paths.ts`),
//!   `sessions/wd_<slug>_<sha256[:12]>/<session>/agents/<agent>/wire.jsonl`.
//!
//! The same path on every platform, under the home directory.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::sources::{SourceEnv, find_files};

/// The two `sessions` folders, whether they exist yet or not.
pub fn sessions_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    let under = |var: &str, default: &str| {
        env.var(var)
            .map(PathBuf::from)
            .or_else(|| env.home.as_ref().map(|h| h.join(default)))
            .map(|d| d.join("sessions"))
    };
    under("KIMI_SHARE_DIR", ".kimi").into_iter().chain(under("KIMI_CODE_HOME", ".kimi-code")).collect()
}

/// The folders of `path` below `sessions`, if it is a wire log there:
/// `[work dir, session, wire.jsonl]` or `[work dir, session, agents |
/// subagents, agent, wire.jsonl]`.
fn parts<'a>(sessions: &Path, path: &'a Path) -> Option<Vec<&'a str>> {
    let rel = path.strip_prefix(sessions).ok()?;
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            _ => return None,
        }
    }
    (parts.last() == Some(&"wire.jsonl") && (parts.len() == 3 || parts.len() == 5)).then_some(parts)
}

/// The session a wire log belongs to: the folder it is in, or for an
/// agent's log (`agents/<agent>`, `subagents/<agent>`) the session above.
pub fn session_of(sessions: &[PathBuf], path: &Path) -> Option<String> {
    sessions.iter().find_map(|s| parts(s, path)).map(|p| p[1].to_string())
}

/// The work dirs Kimi lists, read once per change of its files: Kimi CLI's
/// `kimi.json` (`work_dirs[].path`, whose folder under `sessions/` is the
/// MD5 of the path, `<kaos>_<md5>` off the local machine: `metadata.py`)
/// and Kimi Code's `session_index.jsonl` (`{sessionId, sessionDir,
/// workDir}` a line: `session-index.ts`), else the session's `state.json`
/// (`cwd`).
#[derive(Default)]
pub struct WorkDirs {
    /// Per `sessions` folder: the fingerprint of its map file, and the map
    /// (a work dir folder's or a session's name → the work dir).
    maps: std::sync::Mutex<HashMap<PathBuf, Listed>>,
}

/// A map file's print (size and mtime in ms, if it exists) when it was
/// read, and what it maps.
type Listed = (Option<(u64, i64)>, HashMap<String, String>);

impl WorkDirs {
    /// The work dir of the session a wire log belongs to, if Kimi wrote it
    /// down.
    pub fn of(&self, sessions: &[PathBuf], path: &Path) -> Option<String> {
        let (root, p) = sessions.iter().find_map(|s| parts(s, path).map(|p| (s, p)))?;
        let (folder, session) = (p[0], p[1]);
        let cli = p.len() == 3 || p[2] == "subagents";
        let file = root.parent()?.join(if cli { "kimi.json" } else { "session_index.jsonl" });
        let print = std::fs::metadata(&file).ok().map(|m| (m.len(), crate::sources::mtime_ms(&file).unwrap_or(0)));
        let mut maps = self.maps.lock().expect("work dir cache poisoned");
        let entry = maps.entry(root.clone()).or_insert((None, HashMap::new()));
        if entry.0 != print || (print.is_some() && entry.1.is_empty()) {
            let text = print.and_then(|_| std::fs::read_to_string(&file).ok()).unwrap_or_default();
            *entry = (print, if cli { cli_map(&text) } else { code_map(&text) });
        }
        if let Some(w) = entry.1.get(if cli { folder } else { session }) {
            return Some(w.clone());
        }
        drop(maps);
        // Kimi Code keeps the work dir in the session's state too.
        let state = std::fs::read(root.join(folder).join(session).join("state.json")).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&state).ok()?;
        v.get("cwd").and_then(|c| c.as_str()).filter(|c| !c.is_empty()).map(str::to_string)
    }
}

/// Kimi CLI's `kimi.json`: each work dir's folder name → its path.
fn cli_map(text: &str) -> HashMap<String, String> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let mut out = HashMap::new();
    for w in v.get("work_dirs").and_then(|w| w.as_array()).into_iter().flatten() {
        let Some(path) = w.get("path").and_then(|p| p.as_str()).filter(|p| !p.is_empty()) else { continue };
        let md5 = super::live::cli_work_dir(path);
        match w.get("kaos").and_then(|k| k.as_str()).filter(|k| !k.is_empty() && *k != "local") {
            Some(kaos) => out.insert(format!("{kaos}_{md5}"), path.to_string()),
            None => out.insert(md5, path.to_string()),
        };
    }
    out
}

/// Kimi Code's `session_index.jsonl`: each session → its work dir (a line
/// that cannot be read is skipped; a later line wins).
fn code_map(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).filter(|x| !x.is_empty());
        if let (Some(id), Some(dir)) = (text("sessionId"), text("workDir")) {
            out.insert(id.to_string(), dir.to_string());
        }
    }
    out
}

/// Every wire log under a `sessions` folder.
pub fn wires(sessions: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    find_files(sessions, &|name| name == "wire.jsonl", &mut out);
    out.retain(|p| parts(sessions, p).is_some());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_kimis_and_their_variables() {
        let env = |vars: &[(&str, &str)]| SourceEnv::of("/home/u", vars);
        assert_eq!(
            sessions_dirs(&env(&[])),
            vec![PathBuf::from("/home/u/.kimi/sessions"), PathBuf::from("/home/u/.kimi-code/sessions")]
        );
        assert_eq!(
            sessions_dirs(&env(&[("KIMI_SHARE_DIR", "/srv/k"), ("KIMI_CODE_HOME", "/srv/kc")])),
            vec![PathBuf::from("/srv/k/sessions"), PathBuf::from("/srv/kc/sessions")]
        );
    }

    #[test]
    fn work_dirs_from_kimi_json_the_session_index_and_state() {
        let t = tempfile::tempdir().unwrap();
        let (cli, code) = (t.path().join(".kimi"), t.path().join(".kimi-code"));
        let s = vec![cli.join("sessions"), code.join("sessions")];
        let md5 = super::super::live::cli_work_dir("/home/u/app");
        let wire = |root: &Path, rel: &str| {
            let p = root.join("sessions").join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
            p
        };
        let w = WorkDirs::default();
        let a = wire(&cli, &format!("{md5}/s-1/wire.jsonl"));
        let sub = wire(&cli, &format!("{md5}/s-1/subagents/x/wire.jsonl"));
        assert_eq!(w.of(&s, &a), None, "no kimi.json yet");
        // kimi-cli's `metadata.py` shape; written after the first look, as Kimi does.
        std::fs::write(
            cli.join("kimi.json"),
            r#"{"work_dirs": [{"path": "/home/u/app", "kaos": "local", "last_session_id": "s-1"},
                              {"path": "/srv/b", "kaos": "ssh", "last_session_id": null}]}"#,
        )
        .unwrap();
        assert_eq!(w.of(&s, &a).as_deref(), Some("/home/u/app"));
        assert_eq!(w.of(&s, &sub).as_deref(), Some("/home/u/app"));
        let remote = wire(&cli, &format!("ssh_{}/s-2/wire.jsonl", super::super::live::cli_work_dir("/srv/b")));
        assert_eq!(w.of(&s, &remote).as_deref(), Some("/srv/b"));
        let c = wire(&code, "wd_app_0123456789ab/c-1/agents/main/wire.jsonl");
        let d = wire(&code, "wd_lib_0123456789ab/c-2/agents/agent-0/wire.jsonl");
        std::fs::write(
            code.join("session_index.jsonl"),
            "{\"sessionId\":\"c-1\",\"sessionDir\":\"x\",\"workDir\":\"/home/u/app\"}\nnot json\n",
        )
        .unwrap();
        assert_eq!(w.of(&s, &c).as_deref(), Some("/home/u/app"));
        assert_eq!(w.of(&s, &d), None);
        std::fs::write(code.join("sessions/wd_lib_0123456789ab/c-2/state.json"), r#"{"id":"c-2","cwd":"/home/u/lib"}"#)
            .unwrap();
        assert_eq!(w.of(&s, &d).as_deref(), Some("/home/u/lib"), "from the session's state.json");
    }

    #[test]
    fn sessions_of_the_logs_of_sessions_agents_and_subagents() {
        let s = vec![PathBuf::from("/h/.kimi/sessions"), PathBuf::from("/h/.kimi-code/sessions")];
        let of = |p: &str| session_of(&s, Path::new(p));
        assert_eq!(of("/h/.kimi/sessions/0f3a/5b1c-11/wire.jsonl").as_deref(), Some("5b1c-11"));
        assert_eq!(of("/h/.kimi/sessions/0f3a/5b1c-11/subagents/a1/wire.jsonl").as_deref(), Some("5b1c-11"));
        assert_eq!(of("/h/.kimi-code/sessions/wd_app_1a2b/s-9/agents/main/wire.jsonl").as_deref(), Some("s-9"));
        assert_eq!(of("/h/.kimi/sessions/0f3a/wire.jsonl"), None, "too shallow");
        assert_eq!(of("/h/.kimi/sessions/0f3a/5b1c-11/context.jsonl"), None);
        assert_eq!(of("/h/.kimi/sessions/0f3a/../../x/y/wire.jsonl"), None);
    }
}
