//! Cursor's CLI agent (`cursor-agent`, also run as `agent`): its chats from
//! `~/.cursor/chats/<md5 of the work dir>/<chat id>/store.db` (read-only):
//! sessions only, since Cursor keeps no token counts or costs locally; its
//! turns and tail from `~/.cursor/projects/*/agent-transcripts/`. Also an MCP
//! client agentwatch's proxy can wrap. See README.md.

mod install;
pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{
    AgentInfo, LiveProcess, Source, SourceEnv, Storage, TableReader, TranscriptLine, TranscriptLink, TurnInfo,
    UsageKind,
};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    aliases: &["cursor"],
    client_needles: &["cursor"],
    open: Some(|env| Box::new(CursorSource::new(env))),
    installs: &[crate::install::Target::McpProxy],
    install_files: Some(install::files),
    // Cursor keeps no tokens or cost in its files: they are on its servers.
    usage: UsageKind::NotRecorded,
    ..AgentInfo::named("cursor-agent", "Cursor Agent", "Cursor")
};

pub struct CursorSource {
    /// The folders of `<bucket>/<chat id>/store.db`, whether they exist yet or not.
    chats: Vec<PathBuf>,
    /// The folder of `<slug>/agent-transcripts/`.
    projects: Option<PathBuf>,
}

impl CursorSource {
    pub fn new(env: &SourceEnv) -> CursorSource {
        CursorSource { chats: paths::chats_roots(env), projects: paths::projects_root(env) }
    }

    /// The chats root `path` (a `store.db`) is under, two folders down.
    fn chat_of<'a>(&self, path: &'a Path) -> Option<(&'a str, &'a str)> {
        if path.file_name()? != paths::DATABASE {
            return None;
        }
        let chat = path.parent()?;
        let bucket = chat.parent()?;
        if !self.chats.iter().any(|r| bucket.parent() == Some(r.as_path())) {
            return None;
        }
        Some((bucket.file_name()?.to_str()?, chat.file_name()?.to_str()?))
    }
}

impl Source for CursorSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Sqlite
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.chats.iter().filter(|d| d.is_dir()).cloned().collect()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.chats.clone()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        // The first is where the CLI writes; the others only if they exist.
        let chats = self.chats.iter().enumerate().filter(|(i, d)| *i == 0 || d.is_dir()).map(|(_, d)| d.clone());
        chats.chain(self.projects.iter().filter(|p| p.is_dir()).cloned()).collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for root in &self.chats {
            for bucket in std::fs::read_dir(root).into_iter().flatten().flatten() {
                for chat in std::fs::read_dir(bucket.path()).into_iter().flatten().flatten() {
                    let db = chat.path().join(paths::DATABASE);
                    if std::fs::symlink_metadata(&db).is_ok_and(|m| m.is_file())
                        && super::real_dir_within(root, &chat.path())
                    {
                        out.push(db);
                    }
                }
            }
        }
        out
    }

    fn reads_file(&self, path: &Path) -> bool {
        self.chat_of(path).is_some()
    }

    fn table_reader(&self, path: &Path, _state: Option<&str>) -> Option<Box<dyn TableReader>> {
        let (bucket, chat) = self.chat_of(path)?;
        let bucket = paths::is_bucket(bucket).then(|| bucket.to_string());
        Some(Box::new(parser::CursorReader { chat: chat.to_string(), bucket }))
    }

    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_link(&self.chats, self.projects.as_deref(), p, claimed)
    }

    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }

    fn tail(&self, path: &Path, max: usize) -> Vec<TranscriptLine> {
        live::tail(path, max)
    }
}
