//! Factory's Droid: sessions and their running token totals from each
//! session's settings file (`~/.factory/sessions/<cwd>/<id>.settings.json`,
//! a document Droid rewrites in place). See README.md.

pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LineError, LiveProcess, Record, Source, SourceEnv, Storage, TranscriptLink};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "droid",
    display: "Droid",
    short: "Droid",
    aliases: &[],
    ccusage: Some("droid"),
    client_needles: &["droid"],
    open: Some(|env| Box::new(DroidSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct DroidSource {
    /// The `sessions` folder, whether it exists yet or not.
    sessions: Option<PathBuf>,
}

impl DroidSource {
    pub fn new(env: &SourceEnv) -> DroidSource {
        DroidSource { sessions: paths::sessions_dir(env) }
    }
}

impl Source for DroidSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// Nothing of Droid's read yet says where a turn stands.
    fn reads_turns(&self) -> bool {
        false
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Document
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.sessions.iter().filter(|d| d.is_dir()).cloned().collect()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.sessions.iter().cloned().collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.sessions.as_deref().map(paths::settings_files).unwrap_or_default()
    }

    fn reads_file(&self, path: &Path) -> bool {
        paths::session_of(path).is_some()
            && self.sessions.as_ref().is_some_and(|s| crate::sources::plainly_within(std::slice::from_ref(s), path))
    }

    /// The newest messages file (`<session>.jsonl`) in the folder of the
    /// process's directory, written since it started.
    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        let sessions = self.sessions.as_ref()?;
        let dir = sessions.join(p.cwd.as_ref()?.to_string_lossy().replace('/', "-"));
        let path = crate::sources::newest_jsonl(&[(sessions.clone(), dir)], (p.start - 2) * 1000, claimed)?;
        Some(TranscriptLink {
            external_id: path.file_stem()?.to_string_lossy().into_owned(),
            path: Some(path),
            ..Default::default()
        })
    }

    fn parse_document(&self, path: &Path, bytes: &[u8], mtime_ms: i64, out: &mut Vec<Record>) -> Result<(), LineError> {
        let session = paths::session_of(path).ok_or(LineError::Malformed)?;
        parser::settings(&session, bytes, mtime_ms, out)
    }
}
