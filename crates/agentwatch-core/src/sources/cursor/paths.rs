//! Where cursor-agent keeps its files. Cursor's CLI is closed source; this
//! follows Cursor's CLI configuration reference and the public readers
//! named in README.md.
//!
//! - Its config folder: `$CURSOR_CONFIG_DIR`, else on Linux/BSD
//!   `$XDG_CONFIG_HOME/cursor` when that is set, else `~/.cursor`
//!   (`%USERPROFILE%\.cursor` on Windows). Chats are `chats/<md5 of the work
//!   dir>/<chat id>/store.db` in it. `~/.cursor/chats` is read too when
//!   `XDG_CONFIG_HOME` is set (readers disagree on whether the CLI moves
//!   its chats there).
//! - Its transcripts: `$CURSOR_DATA_DIR`, else `~/.cursor`, then
//!   `projects/<work dir as a slug>/agent-transcripts/<chat id>.jsonl` (or
//!   `<chat id>/<chat id>.jsonl`).

use std::path::{Path, PathBuf};

use md5::Digest;

use crate::sources::SourceEnv;

/// A chat's database, in its own folder.
pub const DATABASE: &str = "store.db";

/// The folders holding `<bucket>/<chat id>/store.db`, the one the CLI uses first.
pub fn chats_roots(env: &SourceEnv) -> Vec<PathBuf> {
    if let Some(d) = env.var("CURSOR_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return vec![Path::new(d).join("chats")];
    }
    let mut out = Vec::new();
    if !cfg!(windows)
        && let Some(x) = env.var("XDG_CONFIG_HOME").filter(|d| !d.is_empty())
    {
        out.push(Path::new(x).join("cursor").join("chats"));
    }
    out.extend(env.home.as_ref().map(|h| h.join(".cursor").join("chats")));
    out
}

/// The folder of `<slug>/agent-transcripts/`.
pub fn projects_root(env: &SourceEnv) -> Option<PathBuf> {
    match env.var("CURSOR_DATA_DIR").filter(|d| !d.is_empty()) {
        Some(d) => Some(Path::new(d).join("projects")),
        None => env.home.as_ref().map(|h| h.join(".cursor").join("projects")),
    }
}

/// The folder name of a work dir's chats: the MD5 of its path, in hex.
pub fn bucket(cwd: &str) -> String {
    md5::Md5::digest(cwd.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `name` looks like a bucket (32 lowercase hex digits).
pub fn is_bucket(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The transcript of chat `id`, in any project's `agent-transcripts/`.
pub fn transcript_of(projects: &Path, id: &str) -> Option<PathBuf> {
    if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
        return None;
    }
    let file = format!("{id}.jsonl");
    for p in std::fs::read_dir(projects).ok()?.flatten() {
        let dir = p.path().join("agent-transcripts");
        for candidate in [dir.join(&file), dir.join(id).join(&file)] {
            if std::fs::symlink_metadata(&candidate).is_ok_and(|m| m.is_file()) {
                return Some(candidate);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> SourceEnv {
        SourceEnv::of("/home/u", vars)
    }

    #[test]
    fn where_the_cli_keeps_its_chats() {
        assert_eq!(
            chats_roots(&env(&[("CURSOR_CONFIG_DIR", "/c"), ("XDG_CONFIG_HOME", "/x")])),
            vec![PathBuf::from("/c/chats")]
        );
        if !cfg!(windows) {
            assert_eq!(
                chats_roots(&env(&[("XDG_CONFIG_HOME", "/x")])),
                vec![PathBuf::from("/x/cursor/chats"), PathBuf::from("/home/u/.cursor/chats")]
            );
        }
        assert_eq!(chats_roots(&env(&[])), vec![PathBuf::from("/home/u/.cursor/chats")]);
        assert_eq!(projects_root(&env(&[("CURSOR_DATA_DIR", "/d")])), Some("/d/projects".into()));
        assert_eq!(projects_root(&env(&[])), Some("/home/u/.cursor/projects".into()));
    }

    #[test]
    fn a_work_dirs_bucket_is_the_md5_of_its_path() {
        assert_eq!(bucket("/home/u/proj"), "4fafce67053eea06f159a78f7ef15755");
        assert!(is_bucket(&bucket("/x")) && !is_bucket("not-a-bucket"));
    }

    #[test]
    fn a_transcript_is_found_by_its_chat_id() {
        let t = tempfile::tempdir().unwrap();
        let flat = t.path().join("home-u-proj/agent-transcripts");
        let nested = t.path().join("home-u-app/agent-transcripts/c2");
        std::fs::create_dir_all(&flat).unwrap();
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(flat.join("c1.jsonl"), "").unwrap();
        std::fs::write(nested.join("c2.jsonl"), "").unwrap();
        assert_eq!(transcript_of(t.path(), "c1"), Some(flat.join("c1.jsonl")));
        assert_eq!(transcript_of(t.path(), "c2"), Some(nested.join("c2.jsonl")));
        assert_eq!(transcript_of(t.path(), "c3"), None);
        assert_eq!(transcript_of(t.path(), "../c1"), None);
    }
}
