//! Kilo CLI (`@kilocode/cli`), a fork of OpenCode that kept its database:
//! sessions and token usage from `kilo.db` in its data folder, read by
//! OpenCode's reader; and the tasks of the Kilo Code extension before it
//! used the CLI (a fork of Roo Code: `globalStorage/kilocode.kilo-code/
//! tasks/<id>/ui_messages.json`), read by Cline's task reader. See README.md.

use std::path::{Path, PathBuf};

use super::cline::extension::ExtensionTasks;
use super::cline::tasks::Input;
use super::opencode::{parser::OpenCodeReader, paths::Databases};
use super::{AgentInfo, LineError, LiveProcess, Record, Source, SourceEnv, Storage, TableReader, TranscriptLink};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "kilo",
    display: "Kilo CLI",
    short: "Kilo",
    aliases: &[],
    ccusage: Some("kilo"),
    client_needles: &["kilo"],
    open: Some(|env| Box::new(KiloSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

/// The Kilo Code extension's id, its folder in `globalStorage`.
pub const EXTENSION: &str = "kilocode.kilo-code";

pub struct KiloSource {
    databases: Databases,
    /// The extension's tasks (its Roo Code fork), in every editor.
    tasks: ExtensionTasks,
}

impl KiloSource {
    pub fn new(env: &SourceEnv) -> KiloSource {
        KiloSource {
            databases: Databases::new(env, "kilo", "KILO_DB"),
            tasks: ExtensionTasks::new(AGENT, Input::Roo, super::cline::paths::task_roots(env, EXTENSION)),
        }
    }
}

impl Source for KiloSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// Nothing of Kilo's says where a turn stands yet (no hooks, no plugin).
    fn reads_turns(&self) -> bool {
        false
    }

    /// The newest session created in the process's directory since it
    /// started, as for OpenCode.
    fn newest_link(&self, p: &LiveProcess, _claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        super::opencode::live::newest_session(&self.databases.discover(), p)
    }

    /// The extension's tasks are documents; everything else is a database.
    fn storage(&self, path: &Path) -> Storage {
        if self.tasks.reads_file(path) { Storage::Document } else { Storage::Sqlite }
    }

    fn roots(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.databases.folder().into_iter().filter(|d| d.is_dir()).collect();
        out.extend(self.tasks.roots());
        out
    }

    /// Of the data folder only the files directly in it (its databases) are
    /// watched (`live_dirs`); the extension's task folders, recursively.
    fn watch_roots(&self) -> Vec<PathBuf> {
        self.tasks.watch_roots()
    }

    fn live_dirs(&self) -> Vec<PathBuf> {
        self.databases.folder().into_iter().collect()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        self.databases.folder().into_iter().collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        let mut out = self.databases.discover();
        out.extend(self.tasks.discover());
        out
    }

    fn reads_file(&self, path: &Path) -> bool {
        self.databases.is_database(path) || self.tasks.reads_file(path)
    }

    fn parse_document(
        &self,
        path: &Path,
        bytes: &[u8],
        _mtime_ms: i64,
        out: &mut Vec<Record>,
    ) -> Result<(), LineError> {
        self.tasks.parse(path, bytes, out)
    }

    fn table_reader(&self, _path: &Path, state: Option<&str>) -> Option<Box<dyn TableReader>> {
        Some(Box::new(OpenCodeReader::new(AGENT, "Kilo", state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::storage::sqlite::Db;

    #[test]
    fn kilos_database_is_read_as_opencodes() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("kilo");
        std::fs::create_dir_all(&data).unwrap();
        let db = data.join("kilo.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!("fixtures/kilo-7.8.sql")).unwrap();
        let env =
            SourceEnv { home: None, vars: [("XDG_DATA_HOME".to_string(), dir.path().display().to_string())].into() };
        let src = KiloSource::new(&env);
        assert_eq!(src.discover(), vec![db.clone()]);
        assert!(src.reads_file(&db) && !src.reads_file(&data.join("opencode.db")));
        let mut out = Vec::new();
        let bad = src.table_reader(&db, None).unwrap().read(&Db::open(&db).unwrap(), &mut out).unwrap();
        assert_eq!(bad, 0);
        let calls = crate::sources::calls(&out);
        assert_eq!(calls.len(), 2, "{out:?}");
        assert_eq!(calls[0].cost_usd, Some(0.01845), "Kilo's own price");
        assert_eq!((calls[0].tokens.input, calls[0].tokens.output, calls[0].tokens.cache_read), (1200, 440, 13694));
        assert_eq!((&*calls[1].model, calls[1].cost_usd, calls[1].tokens.output), ("gpt-5", None, 1056));
        assert!(
            out.iter().any(|r| matches!(r, Record::Session(s) if s.project_path.as_deref() == Some("/home/u/proj")))
        );
        assert_eq!(src.storage(&db), Storage::Sqlite);
    }

    #[test]
    fn a_resumed_read_of_kilos_database_equals_a_fresh_full_one() {
        use crate::sources::storage::sqlite::check::{kept, read};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kilo.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!("fixtures/kilo-7.8.sql")).unwrap();
        let src = KiloSource::new(&SourceEnv { home: None, vars: Default::default() });
        let mut first = src.table_reader(&db, None).unwrap();
        let (a, _) = read(first.as_mut(), &db);
        // The last call streams on (its row rewritten later), and a broken row.
        c.execute_batch(
            "UPDATE message SET time_updated = 1767312099000, data = replace(data, '\"output\":800', '\"output\":3000')
               WHERE id = 'msg_01JZ8Q2M0A5V3X9K7T4N6B2C1E';
             INSERT INTO message VALUES ('msg_bad', 'ses_01JZ8Q1Y7F2H4K6M8P0R2T4V6X', 1767312100000, 1767312100000, '[');",
        )
        .unwrap();
        let (b, bad) = read(src.table_reader(&db, first.state().as_deref()).unwrap().as_mut(), &db);
        assert_eq!(bad, 1);
        let (whole, bad) = read(src.table_reader(&db, None).unwrap().as_mut(), &db);
        assert_eq!(bad, 1);
        let (calls, sessions) = kept(&[&whole]);
        assert_eq!(kept(&[&a, &b]), (calls.clone(), sessions.clone()), "read as it grew, as read whole");
        let mut outputs: Vec<u64> = calls.iter().map(|u| u.tokens.output).collect();
        outputs.sort();
        assert_eq!(outputs, [440, 3256], "340 and 3000, each with its reasoning");
        assert_eq!(sessions.len(), 1);
    }

    #[test]
    fn the_kilo_code_extension_s_tasks_are_read_as_roo_code_s() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let id = "0198f1d2-3c4b-7a5e-9f60-1a2b3c4d5e6f";
        let task = home.join(".vscode-server/data/User/globalStorage").join(EXTENSION).join("tasks").join(id);
        std::fs::create_dir_all(&task).unwrap();
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sources/kilo/fixtures/tasks").join(id);
        for f in ["ui_messages.json", "api_conversation_history.json"] {
            std::fs::copy(fixtures.join(f), task.join(f)).unwrap();
        }
        let src = KiloSource::new(&SourceEnv { home: Some(home.clone()), vars: Default::default() });
        let file = task.join("ui_messages.json");
        assert_eq!(src.discover(), vec![file.clone()], "no database, one task");
        assert!(src.reads_file(&file) && !src.reads_file(&task.join("api_conversation_history.json")));
        assert_eq!(src.storage(&file), Storage::Document);
        let mut out = Vec::new();
        src.parse_document(&file, &std::fs::read(&file).unwrap(), 0, &mut out).unwrap();
        let calls = crate::sources::calls(&out);
        assert_eq!(calls.len(), 2, "{out:?}");
        assert_eq!(
            (&*calls[0].model, calls[0].tokens.input, calls[0].tokens.cache_read, calls[0].cost_usd),
            ("anthropic/claude-sonnet-4.5", 2_310, 0, Some(0.0123)),
            "before Roo 3.29.5's rule, Anthropic's count leaves the cache out"
        );
        assert_eq!(
            (calls[1].tokens.input, calls[1].tokens.cache_read, calls[1].tokens.cache_write_5m),
            (150, 11_800, 400),
            "after it, the whole prompt"
        );
        assert!(calls.iter().all(|c| &*c.session_external_id == id && c.key.id >= 0));
    }
}
