//! Cline: sessions and model calls from Cline 4's session files
//! (`~/.cline/data/sessions/<sid>/<sid>.messages.json`, CLI and
//! extension), and from the tasks of the extension before it (Cline 3:
//! `globalStorage/saoudrizwan.claude-dev/tasks/<id>/ui_messages.json` in
//! each editor, `~/.cline/data/tasks` for its CLI); a running process is
//! linked to its session by `sessions.db`. See README.md.

pub mod extension;
pub mod live;
pub mod parser;
pub mod paths;
pub mod tasks;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LineError, LiveProcess, Record, RegistryError, Source, SourceEnv, Storage, TranscriptLink};
use extension::ExtensionTasks;

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "cline",
    display: "Cline",
    short: "Cline",
    aliases: &[],
    ccusage: None,
    client_needles: &["cline"],
    open: Some(|env| Box::new(ClineSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

/// The Cline 3 extension's id, its folder in `globalStorage`.
pub const EXTENSION: &str = "saoudrizwan.claude-dev";

pub struct ClineSource {
    /// Cline 4's sessions folder, whether it exists yet or not.
    sessions: Option<PathBuf>,
    /// Its sessions database.
    db: Option<PathBuf>,
    /// Cline 3's tasks.
    legacy: ExtensionTasks,
}

impl ClineSource {
    pub fn new(env: &SourceEnv) -> ClineSource {
        let mut roots = paths::task_roots(env, EXTENSION);
        // Cline 3's CLI kept the extension's storage in `~/.cline/data`.
        roots.extend(paths::legacy_cli_tasks(env));
        ClineSource {
            sessions: paths::sessions_dir(env),
            db: paths::sessions_db(env),
            legacy: ExtensionTasks::new(AGENT, tasks::Input::Uncached, roots),
        }
    }

    fn is_messages_file(&self, path: &Path) -> bool {
        // `<sessions>/<sid>/<file>.messages.json`, exactly one folder down.
        paths::session_of(path).is_some()
            && self.sessions.as_ref().is_some_and(|s| {
                path.parent().and_then(Path::parent) == Some(s.as_path())
                    && crate::sources::plainly_within(std::slice::from_ref(s), path)
            })
    }
}

impl Source for ClineSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// Cline 4's `sessions.db` says where a running CLI's turn stands
    /// (`live.rs`).
    fn reads_turns(&self) -> bool {
        true
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Document
    }

    fn roots(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.sessions.iter().filter(|d| d.is_dir()).cloned().collect();
        out.extend(self.legacy.roots());
        out
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.sessions.iter().cloned().collect();
        out.extend(self.legacy.watch_roots());
        out
    }

    fn discover(&self) -> Vec<PathBuf> {
        let mut out = self.sessions.as_deref().map(paths::messages_files).unwrap_or_default();
        out.extend(self.legacy.discover());
        out
    }

    fn reads_file(&self, path: &Path) -> bool {
        self.is_messages_file(path) || self.legacy.reads_file(path)
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        if self.is_messages_file(path) {
            paths::session_of(path)
        } else if self.legacy.reads_file(path) {
            paths::task_of(path)
        } else {
            None
        }
    }

    fn registry_link(&self, p: &LiveProcess) -> Result<TranscriptLink, RegistryError> {
        live::registry_link(self.db.as_deref().ok_or(RegistryError::Missing)?, self.sessions.as_deref(), p)
    }

    fn parse_document(
        &self,
        path: &Path,
        bytes: &[u8],
        _mtime_ms: i64,
        out: &mut Vec<Record>,
    ) -> Result<(), LineError> {
        if self.is_messages_file(path) {
            let session = paths::session_of(path).ok_or(LineError::Malformed)?;
            // The session's manifest, beside it (written when it began).
            let manifest = paths::manifest_of(path, &session).and_then(|m| std::fs::read(m).ok());
            return parser::messages(&session, bytes, manifest.as_deref(), out);
        }
        self.legacy.parse(path, bytes, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let t = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_dir(&e.path(), &t);
            } else {
                std::fs::copy(e.path(), t).unwrap();
            }
        }
    }

    #[test]
    fn both_cline_4_sessions_and_cline_3_tasks_are_read() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sources/cline/fixtures");
        copy_dir(&fixtures.join("v4"), &home.join(".cline/data/sessions"));
        let ext = home.join(".config/Code/User/globalStorage").join(EXTENSION);
        copy_dir(&fixtures.join("legacy"), &ext);
        let src = ClineSource::new(&SourceEnv { home: Some(home.clone()), vars: Default::default() });
        let mut found = src.discover();
        found.sort();
        let sid = "1784094124598_rruoq";
        let task = ext.join("tasks/1765432100000/ui_messages.json");
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.contains(&task));
        assert!(found.iter().all(|p| src.reads_file(p)));
        assert!(!src.reads_file(&home.join(".cline/data/sessions").join(sid).join(format!("{sid}.json"))));
        assert!(!src.reads_file(&ext.join("tasks/1765432100000/task_metadata.json")));
        assert_eq!(src.session_of(&task).as_deref(), Some("1765432100000"));
        assert!(src.watch_roots().contains(&ext.join("tasks")));

        let mut out = Vec::new();
        src.parse_document(&task, &std::fs::read(&task).unwrap(), 0, &mut out).unwrap();
        let Record::Session(s) = &out[0] else { panic!() };
        assert_eq!(s.project_path.as_deref(), Some("/home/alice/src/shop"), "from the extension's task list");
        assert_eq!(s.agent_version.as_deref(), Some("3.38.3"));
        assert_eq!(calls(&out).len(), 3);

        let lead = found.iter().find(|p| p.ends_with(format!("{sid}.messages.json"))).unwrap();
        let mut out = Vec::new();
        src.parse_document(lead, &std::fs::read(lead).unwrap(), 0, &mut out).unwrap();
        let Record::Session(s) = &out[0] else { panic!() };
        assert_eq!(s.project_path.as_deref(), Some("/home/alice/src/webapp"), "from its manifest");
        assert_eq!(calls(&out).len(), 3);
    }
}
