//! Roo Code (the VS Code extension, a fork of Cline, and its CLI): sessions
//! and model calls from its tasks (`globalStorage/rooveterinaryinc.roo-cline/
//! tasks/<id>/ui_messages.json` in each editor, the CLI's in
//! `~/.vscode-mock`), read as Cline 3's are (`../cline/tasks.rs`) with Roo's
//! meaning of `tokensIn`; a running `roo` linked to its task, and a task's
//! turn from its newest message (`live.rs`). See README.md.

pub mod live;
pub mod paths;

use std::path::{Path, PathBuf};

use super::cline::extension::ExtensionTasks;
use super::cline::tasks::Input;
use super::{AgentInfo, LineError, LiveProcess, Record, Source, SourceEnv, Storage, TranscriptLink, TurnInfo};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    id: "roo-code",
    display: "Roo Code",
    short: "Roo",
    aliases: &["roo"],
    ccusage: None,
    // Its MCP client is "Roo Code", whose slug is this id already.
    client_needles: &[],
    open: Some(|env| Box::new(RooSource::new(env))),
    installs: &[],
    install_files: None,
    usage: super::UsageKind::Tokens,
    session_usage: None,
};

pub const AGENT: &str = INFO.id;

pub struct RooSource {
    tasks: ExtensionTasks,
    /// Its CLI's `tasks` folder.
    cli_tasks: Option<PathBuf>,
}

impl RooSource {
    pub fn new(env: &SourceEnv) -> RooSource {
        RooSource {
            tasks: ExtensionTasks::new(AGENT, Input::Roo, paths::task_roots(env)),
            cli_tasks: paths::cli_tasks(env),
        }
    }
}

impl Source for RooSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// A running `roo`: the task of its working directory written since it
    /// started.
    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        live::newest_task(self.cli_tasks.as_deref()?, p, claimed)
    }

    /// Where a task stands, from its newest message.
    fn turn(&self, path: &Path) -> Option<TurnInfo> {
        live::turn(path)
    }

    fn storage(&self, _path: &Path) -> Storage {
        Storage::Document
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.tasks.roots()
    }

    fn watch_roots(&self) -> Vec<PathBuf> {
        self.tasks.watch_roots()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.tasks.discover()
    }

    fn reads_file(&self, path: &Path) -> bool {
        self.tasks.reads_file(path)
    }

    fn session_of(&self, path: &Path) -> Option<String> {
        self.tasks.reads_file(path).then(|| super::cline::paths::task_of(path)).flatten()
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tokens;
    use crate::sources::calls;

    const TASK: &str = "019a7c2e-5b41-7d0a-8f3e-2c6b9d1a4e70";

    #[test]
    fn a_roo_task_as_the_extension_writes_it() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        let dir = home.join(".config/Cursor/User/globalStorage").join(paths::EXTENSION).join("tasks").join(TASK);
        std::fs::create_dir_all(&dir).unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sources/roo/fixtures/tasks").join(TASK);
        for f in ["ui_messages.json", "api_conversation_history.json", "history_item.json"] {
            std::fs::copy(fixtures.join(f), dir.join(f)).unwrap();
        }
        let src = RooSource::new(&SourceEnv { home: Some(home.clone()), vars: Default::default() });
        let file = dir.join("ui_messages.json");
        if cfg!(target_os = "linux") {
            assert_eq!(src.discover(), vec![file.clone()]);
        }
        assert!(src.reads_file(&file) && !src.reads_file(&dir.join("history_item.json")));
        assert_eq!(src.session_of(&file).as_deref(), Some(TASK));
        let mut out = Vec::new();
        src.parse_document(&file, &std::fs::read(&file).unwrap(), 0, &mut out).unwrap();
        let Record::Session(s) = &out[0] else { panic!() };
        assert_eq!(s.project_path.as_deref(), Some("/home/bob/src/dates"), "history_item.json's workspace");
        let c = calls(&out);
        assert_eq!(c.len(), 3, "the filled-in requests; the condensing and the unfinished one are not calls");
        assert_eq!(
            c[0].tokens,
            Tokens { input: 12, output: 310, cache_write_5m: 14_230, ..Default::default() },
            "tokensIn is the whole prompt: the cache is taken out"
        );
        assert_eq!((&*c[0].model, c[0].model_fallback, c[0].cost_usd), ("claude-sonnet-4-5", false, Some(0.0580485)));
        assert_eq!(c[1].tokens.input, 5);
        assert_eq!((&*c[2].model, c[2].tokens.input, c[2].tokens.cache_read), ("claude-haiku-4-5", 0, 12_000));
        assert!(c.iter().all(|u| &*u.session_external_id == TASK));
    }

    #[test]
    fn its_mcp_client_names_it() {
        assert_eq!(crate::model::agent_id_for_client("Roo Code"), AGENT);
        assert_eq!(crate::model::agent_id_for_client("Cline"), "cline");
        assert_eq!(crate::model::agent_id_for_client("@cline/core"), "cline");
    }
}
