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
        let env = |vars: &[(&str, &str)]| SourceEnv {
            home: Some("/home/u".into()),
            vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
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
