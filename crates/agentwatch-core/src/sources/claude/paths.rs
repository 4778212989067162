//! Where Claude Code keeps its transcripts.
//!
//! Each path in `CLAUDE_CONFIG_DIR` (comma-separated) is a config dir or its
//! `projects/` dir. Without it: `~/.claude`, and
//! `${XDG_CONFIG_HOME:-~/.config}/claude` when it has a `projects/` dir.

use std::path::{Path, PathBuf};

use crate::sources::{SourceEnv, dedup_dirs, find_jsonl};

/// The Claude config dirs (the parents of `projects/`, `sessions/`, ...).
pub fn config_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    if let Some(list) = env.path_list("CLAUDE_CONFIG_DIR") {
        let dirs = list
            .into_iter()
            .map(|p| {
                if p.file_name().is_some_and(|n| n == "projects") {
                    p.parent().map(Path::to_path_buf).unwrap_or(p)
                } else {
                    p
                }
            })
            .collect();
        return dedup_dirs(dirs);
    }
    let mut dirs = Vec::new();
    let xdg = env.var("XDG_CONFIG_HOME").map(PathBuf::from).or_else(|| env.home.as_ref().map(|h| h.join(".config")));
    // The XDG dir of older versions when it is in use; `~/.claude` always,
    // even before a fresh install creates it.
    if let Some(x) = xdg.map(|x| x.join("claude")).filter(|d| d.join("projects").is_dir()) {
        dirs.push(x);
    }
    if let Some(h) = &env.home {
        dirs.push(h.join(".claude"));
    }
    dedup_dirs(dirs)
}

/// The `projects/` dirs that exist.
pub fn projects_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    config_dirs(env).into_iter().map(|d| d.join("projects")).filter(|p| p.is_dir()).collect()
}

/// Every transcript under the given `projects/` dirs, sub-agents included.
pub fn transcripts(projects: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in projects {
        find_jsonl(p, &|_| true, &mut out);
    }
    out
}

/// The folder name Claude Code uses for a working directory: every
/// character that is not an ASCII letter or digit becomes `-`.
pub fn encode_project_dir(cwd: &str) -> String {
    cwd.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(home: &Path, vars: &[(&str, String)]) -> SourceEnv {
        SourceEnv {
            home: Some(home.to_path_buf()),
            vars: vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        }
    }

    #[test]
    fn defaults_take_both_dirs_that_have_projects() {
        let t = tempfile::tempdir().unwrap();
        let h = t.path();
        std::fs::create_dir_all(h.join(".claude/projects")).unwrap();
        std::fs::create_dir_all(h.join(".config/claude/projects")).unwrap();
        std::fs::create_dir_all(h.join("xdg/claude")).unwrap(); // no projects/
        assert_eq!(projects_dirs(&env(h, &[])), vec![h.join(".config/claude/projects"), h.join(".claude/projects")]);
        let with_xdg = env(h, &[("XDG_CONFIG_HOME", h.join("xdg").display().to_string())]);
        assert_eq!(projects_dirs(&with_xdg), vec![h.join(".claude/projects")]);
    }

    #[test]
    fn claude_config_dir_accepts_config_or_projects_dirs() {
        let t = tempfile::tempdir().unwrap();
        let h = t.path();
        std::fs::create_dir_all(h.join("a/projects")).unwrap();
        std::fs::create_dir_all(h.join("b/projects")).unwrap();
        std::fs::create_dir_all(h.join(".claude/projects")).unwrap();
        let v = format!("{}, {}", h.join("a").display(), h.join("b/projects").display());
        assert_eq!(
            projects_dirs(&env(h, &[("CLAUDE_CONFIG_DIR", v)])),
            vec![h.join("a/projects"), h.join("b/projects")]
        );
    }

    #[test]
    fn finds_subagent_transcripts_and_skips_symlinks() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("projects");
        std::fs::create_dir_all(p.join("-home-u-app/s1/subagents")).unwrap();
        std::fs::write(p.join("-home-u-app/s1.jsonl"), "").unwrap();
        std::fs::write(p.join("-home-u-app/s1/subagents/agent-1.jsonl"), "").unwrap();
        std::fs::write(p.join("-home-u-app/notes.txt"), "").unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.jsonl"), "").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, p.join("linked")).unwrap();
        let mut found = transcripts(std::slice::from_ref(&p));
        found.sort();
        let mut want = vec![p.join("-home-u-app/s1.jsonl"), p.join("-home-u-app/s1/subagents/agent-1.jsonl")];
        want.sort();
        assert_eq!(found, want);
    }

    #[test]
    fn project_dirs_are_encoded_like_claude_code_does() {
        assert_eq!(encode_project_dir("/home/u/my_app.v2"), "-home-u-my-app-v2");
    }
}
