//! Where Codex keeps its rollouts: each path in `CODEX_HOME`
//! (comma-separated), or `~/.codex`.
//!
//! Files are `sessions/**/rollout-*.jsonl` and `archived_sessions/**/rollout-*.jsonl`.
//! Codex moves a rollout to `archived_sessions/` when it archives a session;
//! when both copies exist the one in `sessions/` wins. Rollout names carry a
//! timestamp and a UUID, so copies are matched by file name.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::sources::{SourceEnv, dedup_dirs, find_jsonl};

pub fn homes(env: &SourceEnv) -> Vec<PathBuf> {
    match env.path_list("CODEX_HOME") {
        Some(list) => dedup_dirs(list),
        None => env.home.iter().map(|h| h.join(".codex")).collect(),
    }
}

/// The `sessions/` and `archived_sessions/` dirs that exist.
pub fn session_dirs(homes: &[PathBuf]) -> Vec<PathBuf> {
    homes.iter().flat_map(|h| [h.join("sessions"), h.join("archived_sessions")]).filter(|d| d.is_dir()).collect()
}

pub fn transcripts(homes: &[PathBuf]) -> Vec<PathBuf> {
    let is_rollout = |name: &str| name.starts_with("rollout-");
    let mut out = Vec::new();
    for home in homes {
        let mut live = Vec::new();
        find_jsonl(&home.join("sessions"), &is_rollout, &mut live);
        let names: HashSet<_> = live.iter().filter_map(|p| p.file_name().map(|n| n.to_os_string())).collect();
        let mut archived = Vec::new();
        find_jsonl(&home.join("archived_sessions"), &is_rollout, &mut archived);
        archived.retain(|p| p.file_name().is_none_or(|n| !names.contains(n)));
        out.extend(live);
        out.extend(archived);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_copy_wins_over_the_archived_one() {
        let t = tempfile::tempdir().unwrap();
        let h = t.path().join(".codex");
        std::fs::create_dir_all(h.join("sessions/2026/11/20")).unwrap();
        std::fs::create_dir_all(h.join("archived_sessions")).unwrap();
        std::fs::write(h.join("sessions/2026/11/20/rollout-a.jsonl"), "").unwrap();
        std::fs::write(h.join("archived_sessions/rollout-a.jsonl"), "").unwrap();
        std::fs::write(h.join("archived_sessions/rollout-b.jsonl"), "").unwrap();
        std::fs::write(h.join("sessions/2026/11/20/other.jsonl"), "").unwrap();
        let env = SourceEnv { home: Some(t.path().to_path_buf()), ..Default::default() };
        let mut found = transcripts(&homes(&env));
        found.sort();
        assert_eq!(
            found,
            vec![h.join("archived_sessions/rollout-b.jsonl"), h.join("sessions/2026/11/20/rollout-a.jsonl")]
        );
    }

    #[test]
    fn codex_home_is_a_comma_separated_list() {
        let env = SourceEnv {
            home: Some(PathBuf::from("/home/u")),
            vars: [("CODEX_HOME".to_string(), "/a,/b".to_string())].into(),
        };
        assert_eq!(homes(&env), vec![PathBuf::from("/a"), PathBuf::from("/b")]);
    }
}
