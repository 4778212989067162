//! Qwen Code, live: which chat a running `qwen` writes. Its chat files are
//! `~/.qwen/projects/<cwd, every character but letters and digits as
//! "-">/chats/<session id>.jsonl`, created at the first prompt.

use std::path::{Path, PathBuf};

use crate::sources::claude::paths::encode_project_dir;
use crate::sources::{LiveProcess, TranscriptLink, newest_jsonl, plainly_within};

/// The session of a chat file under one of the `projects` dirs.
pub fn session_of(projects: &[PathBuf], path: &Path) -> Option<String> {
    if path.extension()? != "jsonl" || path.parent()?.file_name()? != "chats" || !plainly_within(projects, path) {
        return None;
    }
    Some(path.file_stem()?.to_string_lossy().into_owned())
}

/// The newest chat in the process's project folder written since it started.
pub fn newest_link(projects: &[PathBuf], p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let cwd = p.cwd.as_ref()?.to_string_lossy().into_owned();
    let dirs: Vec<(PathBuf, PathBuf)> =
        projects.iter().map(|r| (r.clone(), r.join(encode_project_dir(&cwd)).join("chats"))).collect();
    let path = newest_jsonl(&dirs, (p.start - 2) * 1000, claimed)?;
    Some(TranscriptLink {
        external_id: path.file_stem()?.to_string_lossy().into_owned(),
        path: Some(path),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_the_chat_written_since_the_process_started() {
        let t = tempfile::tempdir().unwrap();
        let projects = t.path().join(".qwen/projects");
        let chats = projects.join("-home-u-app/chats");
        std::fs::create_dir_all(&chats).unwrap();
        std::fs::write(chats.join("0ea65665-aaaa.jsonl"), "{}\n").unwrap();
        let p =
            LiveProcess { pids: vec![1], start: chrono::Utc::now().timestamp() - 5, cwd: Some("/home/u/app".into()) };
        let pr = std::slice::from_ref(&projects);
        let l = newest_link(pr, &p, &|_| false).unwrap();
        assert_eq!(l.external_id, "0ea65665-aaaa");
        assert_eq!(session_of(pr, l.path.as_deref().unwrap()), Some("0ea65665-aaaa".into()));
        assert_eq!(session_of(pr, &projects.join("-home-u-app/chats/../../../etc/x.jsonl")), None);
        let later = LiveProcess { start: chrono::Utc::now().timestamp() + 60, ..p };
        assert_eq!(newest_link(pr, &later, &|_| false), None);
    }
}
