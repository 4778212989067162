//! Crush (Charm): sessions and their running cost from each project's SQLite
//! database (`<data dir>/crush.db`, read-only), the projects listed in its
//! `projects.json`. Cost only: Crush keeps no token totals. A running
//! `crush` is linked to its session, whose messages say where its turn
//! stands. See README.md.

pub mod live;
pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};

use super::{AgentInfo, LiveProcess, Source, SourceEnv, Storage, TableReader, TranscriptLink, TurnInfo, UsageKind};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "crush",
    display: "Crush",
    short: "Crush",
    aliases: &[],
    ccusage: None,
    client_needles: &["crush"],
    open: Some(|env| Box::new(CrushSource::new(env))),
    installs: &[],
    install_files: None,
    // Each session's own running cost; Crush keeps only the last step's tokens.
    usage: UsageKind::CostOnly,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct CrushSource {
    env: SourceEnv,
    /// Where `projects.json` is, whether it exists yet or not.
    global: Option<PathBuf>,
}

impl CrushSource {
    pub fn new(env: &SourceEnv) -> CrushSource {
        CrushSource { env: env.clone(), global: paths::global_dir(env) }
    }

    fn projects(&self) -> Vec<paths::Project> {
        paths::projects(&self.env)
    }
}

impl Source for CrushSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    fn newest_link(&self, p: &LiveProcess, _claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_session(&self.projects(), p)
    }

    /// The turn of a session of a project's database (its transcript).
    fn session_turn(&self, path: &Path, external_id: &str) -> Option<TurnInfo> {
        live::turn(path, external_id)
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Sqlite
    }

    /// The data directories of the projects Crush lists that exist.
    fn roots(&self) -> Vec<PathBuf> {
        self.projects().into_iter().map(|p| p.data_dir).filter(|d| d.is_dir()).collect()
    }

    /// `projects.json`'s folder, watched for new projects.
    fn live_dirs(&self) -> Vec<PathBuf> {
        self.global.iter().cloned().collect()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        self.global.iter().cloned().chain(self.roots()).collect()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.projects()
            .into_iter()
            .map(|p| p.data_dir.join(paths::DATABASE))
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
            .collect()
    }

    fn reads_file(&self, path: &Path) -> bool {
        path.file_name() == Some(paths::DATABASE.as_ref())
            && path.parent().is_some_and(|d| self.projects().iter().any(|p| p.data_dir == d))
    }

    fn table_reader(&self, path: &Path, _state: Option<&str>) -> Option<Box<dyn TableReader>> {
        let dir = path.parent()?;
        let project =
            self.projects().into_iter().find(|p| p.data_dir == dir).map(|p| p.path.to_string_lossy().into_owned());
        Some(Box::new(parser::CrushReader { project }))
    }
}
