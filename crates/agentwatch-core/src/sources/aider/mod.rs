//! Aider: token usage and cost from the chat history it appends to
//! (`<repo>/.aider.chat.history.md`, or `AIDER_CHAT_HISTORY_FILE`), one
//! session per `# aider chat started at` header. Its figures are rounded:
//! the usage is approximate. See README.md.

pub mod parser;
pub mod paths;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{AgentInfo, LineParser, LiveProcess, Source, SourceEnv, TranscriptLink, UsageKind};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    client_needles: &["aider"],
    open: Some(|env| Box::new(AiderSource::new(env))),
    // Rounded counts and costs (`4.2k sent`, `$0.02 message`).
    usage: UsageKind::Approximate,
    ..AgentInfo::named("aider", "Aider", "Aider")
};

pub const AGENT: &str = INFO.id;

/// How long a look at the running processes is reused.
const PROCESSES_FRESH: Duration = Duration::from_secs(5);

pub struct AiderSource {
    /// `AIDER_CHAT_HISTORY_FILE`, when it names one file for every run.
    env_file: Option<PathBuf>,
    /// The history files of the `aider` processes seen last, and when.
    running: Mutex<Option<(Instant, Vec<PathBuf>)>>,
}

impl AiderSource {
    pub fn new(env: &SourceEnv) -> AiderSource {
        AiderSource { env_file: paths::env_history_file(env), running: Mutex::new(None) }
    }

    /// The history files of the `aider` processes running now.
    fn running(&self) -> Vec<PathBuf> {
        let mut seen = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, files)) = seen.as_ref()
            && at.elapsed() < PROCESSES_FRESH
        {
            return files.clone();
        }
        let mut files: Vec<PathBuf> = paths::running_cwds().iter().map(|c| paths::history_of(c)).collect();
        files.sort();
        files.dedup();
        *seen = Some((Instant::now(), files.clone()));
        files
    }

    /// Every history file known: the variable's and the running processes'.
    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.env_file.iter().cloned().chain(self.running()).collect();
        files.dedup();
        files
    }
}

impl Source for AiderSource {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn reads_usage(&self) -> bool {
        true
    }

    /// Nothing in the history says when a turn starts or ends in time.
    fn reads_turns(&self) -> bool {
        false
    }

    /// The folders of the history files known now.
    fn roots(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self.files().iter().filter_map(|f| f.parent().map(Path::to_path_buf)).collect();
        dirs.retain(|d| d.is_dir());
        super::dedup_dirs(dirs)
    }

    /// Not the repositories, recursively: their folders only (`live_dirs`).
    fn watch_roots(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// The folders of the history files known now, watched for the files' changes.
    fn live_dirs(&self) -> Vec<PathBuf> {
        self.roots()
    }

    fn data_paths(&self) -> Vec<PathBuf> {
        self.roots()
    }

    fn discover(&self) -> Vec<PathBuf> {
        self.files().into_iter().filter(|f| std::fs::symlink_metadata(f).is_ok_and(|m| m.is_file())).collect()
    }

    fn reads_file(&self, path: &Path) -> bool {
        path.file_name() == Some(paths::HISTORY_FILE.as_ref()) || self.env_file.as_deref() == Some(path)
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        Box::new(parser::AiderParser::new(path, state, parser::machine_local))
    }

    /// The history of the process's repository: its newest session, if it
    /// started when the process did (or later).
    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        let file = p.cwd.as_deref().map(paths::history_of)?;
        if claimed(&file) {
            return None;
        }
        let lines = super::last_lines(&file, 256 * 1024);
        let header = lines.iter().rev().find_map(|l| l.strip_prefix("# aider chat started at "))?.trim();
        let t = chrono::NaiveDateTime::parse_from_str(header, "%Y-%m-%d %H:%M:%S").ok()?;
        let started = parser::machine_local(t)?.timestamp();
        // Aider writes its header as it starts: within a minute of the process.
        if started + 60 < p.start {
            return None;
        }
        Some(TranscriptLink {
            external_id: parser::session_id(&file.to_string_lossy(), t),
            path: Some(file),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_file_is_read_and_a_running_aider_is_linked_to_its_repos_newest_session() {
        let t = tempfile::tempdir().unwrap();
        let repo = t.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src")).unwrap();
        let file = repo.join(paths::HISTORY_FILE);
        std::fs::write(
            &file,
            "\n# aider chat started at 2026-05-01 09:15:02\n\n> Aider v0.86.1  \n\n# aider chat started at 2026-05-02 10:00:00\n\n",
        )
        .unwrap();
        let env = SourceEnv {
            home: Some("/home/u".into()),
            vars: [(paths::HISTORY_VAR.to_string(), file.to_string_lossy().into_owned())].into_iter().collect(),
        };
        let src = AiderSource::new(&env);
        assert!(src.discover().contains(&file));
        assert!(src.roots().contains(&repo));
        assert!(
            src.watch_roots().is_empty() && src.live_dirs() == [repo.clone()],
            "its folder, not the repository below"
        );
        assert!(src.reads_file(&file) && src.reads_file(Path::new("/x/.aider.chat.history.md")));
        assert!(!src.reads_file(Path::new("/x/notes.md")));

        let newest = chrono::NaiveDate::from_ymd_opt(2026, 5, 2).unwrap().and_hms_opt(10, 0, 0).unwrap();
        let start = parser::machine_local(newest).unwrap().timestamp();
        let p = LiveProcess { pids: vec![42], start, cwd: Some(repo.join("src")) };
        let link = src.newest_link(&p, &|_| false).unwrap();
        assert_eq!(link.external_id, parser::session_id(&file.to_string_lossy(), newest));
        assert_eq!(link.path.as_deref(), Some(file.as_path()));
        assert_eq!(src.newest_link(&p, &|f| f == file), None, "claimed by another process");
        let later = LiveProcess { start: start + 3600, ..p };
        assert_eq!(src.newest_link(&later, &|_| false), None, "started after its newest header: not written yet");
    }
}
