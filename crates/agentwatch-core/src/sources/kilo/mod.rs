//! Kilo CLI (`@kilocode/cli`), a fork of OpenCode that kept its database:
//! sessions and token usage from `kilo.db` in its data folder, read by
//! OpenCode's reader. See README.md.

use std::path::{Path, PathBuf};

use super::opencode::{parser::OpenCodeReader, paths::Databases};
use super::{AgentInfo, LiveProcess, Source, SourceEnv, Storage, TableReader, TranscriptLink};

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
};

pub const AGENT: &str = INFO.id;

pub struct KiloSource {
    databases: Databases,
}

impl KiloSource {
    pub fn new(env: &SourceEnv) -> KiloSource {
        KiloSource { databases: Databases::new(env, "kilo", "KILO_DB") }
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

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Sqlite
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.databases.folder().into_iter().filter(|d| d.is_dir()).collect()
    }

    /// Only the files directly in the data folder (its databases) are watched.
    fn watch_roots(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn live_dirs(&self) -> Vec<PathBuf> {
        self.databases.folder().into_iter().collect()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        self.databases.folder().into_iter().collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.databases.discover()
    }

    fn reads_file(&self, path: &Path) -> bool {
        self.databases.is_database(path)
    }

    fn table_reader(&self, _path: &Path, state: Option<&str>) -> Option<Box<dyn TableReader>> {
        Some(Box::new(OpenCodeReader::new(AGENT, "Kilo", state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Record;
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
    }
}
