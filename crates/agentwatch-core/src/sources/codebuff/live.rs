//! Codebuff, live: which chat a running `codebuff` writes. The CLI keeps its
//! chats under `projects/<its project root's folder name>/chats/<chat id>/`
//! (`cli/src/project-files.ts`: the project root is the directory it runs
//! in) and rewrites `chat-messages.json` after every turn; a process is
//! linked to the chat of its directory's name written since it started (a
//! resumed chat too, as it is rewritten). Nothing of Codebuff's read says
//! where a turn stands.

use std::path::{Path, PathBuf};

use crate::sources::{LiveProcess, TranscriptLink, mtime_ms, real_dir_within};

use super::paths;

/// The newest chat of the process's project, in any of `projects`, written
/// at or after its start (2 s of slack) and not `claimed` by another process.
pub fn newest_chat(projects: &[PathBuf], p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
    let name = p.cwd.as_ref()?.file_name()?.to_owned();
    let since = (p.start - 2) * 1000;
    let mut best: Option<(i64, PathBuf)> = None;
    for root in projects {
        let chats = root.join(&name).join("chats");
        if !real_dir_within(root, &chats) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&chats) else { continue };
        for e in entries.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let f = e.path().join(paths::MESSAGES);
            if !std::fs::symlink_metadata(&f).is_ok_and(|m| m.is_file()) || claimed(&f) {
                continue;
            }
            let Some(m) = mtime_ms(&f).filter(|m| *m >= since) else { continue };
            if best.as_ref().is_none_or(|(b, _)| m > *b) {
                best = Some((m, f));
            }
        }
    }
    let (_, path) = best?;
    Some(TranscriptLink { external_id: paths::session_of(&path), path: Some(path), ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_the_chat_of_its_directory_written_since_it_started() {
        let t = tempfile::tempdir().unwrap();
        let projects = t.path().join("manicode/projects");
        let chat = |project: &str, id: &str| {
            let d = projects.join(project).join("chats").join(id);
            std::fs::create_dir_all(&d).unwrap();
            let f = d.join(paths::MESSAGES);
            std::fs::write(&f, "[]").unwrap();
            f
        };
        let old = chat("webapp", "2026-01-02T03-04-05.000Z");
        let older = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&old).unwrap().set_modified(older).unwrap();
        let new = chat("webapp", "2026-12-07T04-00-00.000Z");
        chat("api", "2026-12-07T04-00-01.000Z");
        let p = |cwd: &str, ago: i64| LiveProcess {
            pids: vec![1],
            start: chrono::Utc::now().timestamp() - ago,
            cwd: Some(cwd.into()),
        };
        let roots = [projects.clone()];
        let l = newest_chat(&roots, &p("/home/u/src/webapp", 60), &|_| false).unwrap();
        assert_eq!(l.external_id, "manicode/webapp/2026-12-07T04-00-00.000Z");
        assert_eq!(l.path.as_deref(), Some(new.as_path()));
        assert_eq!(newest_chat(&roots, &p("/home/u/src/webapp", 60), &|f| f == new), None, "claimed; the other is old");
        assert_eq!(newest_chat(&roots, &p("/home/u/src/webapp", -60), &|_| false), None, "started after both");
        assert_eq!(newest_chat(&roots, &p("/home/u/src/docs", 60), &|_| false), None);
    }
}
