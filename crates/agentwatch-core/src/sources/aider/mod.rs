//! Aider: token usage and cost from the chat history it appends to
//! (`<repo>/.aider.chat.history.md`, or `AIDER_CHAT_HISTORY_FILE`), one
//! session per `# aider chat started at` header, whose figures are rounded
//! (approximate); and, when the user keeps one (`AIDER_ANALYTICS_LOG`), from
//! its analytics log, exact, which then counts the calls of the sessions it
//! covers. See README.md.

pub mod analytics;
pub mod parser;
pub mod paths;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{AgentInfo, Leads, LineParser, LiveProcess, Source, SourceEnv, TranscriptLink, UsageKind};

/// Who the agent is (see [`AgentInfo`]).
pub const INFO: AgentInfo = AgentInfo {
    client_needles: &["aider"],
    open: Some(|env| Box::new(AiderSource::new(env))),
    // Rounded counts and costs (`4.2k sent`, `$0.02 message`).
    usage: UsageKind::Approximate,
    // The analytics log's sessions are exact.
    session_usage: Some(|id| if analytics::is_session(id) { UsageKind::Tokens } else { UsageKind::Approximate }),
    ..AgentInfo::named("aider", "Aider", "Aider")
};

pub const AGENT: &str = INFO.id;

/// How much of the analytics log's start is read for its first time.
const LOG_HEAD: u64 = 64 * 1024;
/// How much of its end is read for the run a process launched.
const LOG_TAIL: u64 = 256 * 1024;

pub struct AiderSource {
    /// `AIDER_CHAT_HISTORY_FILE`, when it names one file for every run.
    env_file: Option<PathBuf>,
    /// `AIDER_ANALYTICS_LOG`, when it names one file for every run.
    log: Option<PathBuf>,
    /// The history files of the repositories agentwatch saw Aider run in
    /// ([`Source::follow`]), kept.
    found: Mutex<BTreeSet<PathBuf>>,
}

impl AiderSource {
    pub fn new(env: &SourceEnv) -> AiderSource {
        AiderSource {
            env_file: paths::env_history_file(env),
            log: paths::env_analytics_log(env),
            found: Mutex::new(BTreeSet::new()),
        }
    }

    /// Every file known: the variables' and the ones found where Aider ran.
    fn files(&self) -> Vec<PathBuf> {
        let found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        let mut files: Vec<PathBuf> = self.env_file.iter().chain(&self.log).chain(found.iter()).cloned().collect();
        files.sort();
        files.dedup();
        files
    }

    /// From when (ms) the analytics log holds Aider's calls: its first
    /// event, less [`analytics::COVER_SLACK_SECS`]. None without one.
    fn covered_from(&self) -> Option<i64> {
        let first = analytics::first_time(&super::first_lines(self.log.as_ref()?, LOG_HEAD))?;
        Some((first - analytics::COVER_SLACK_SECS) * 1000)
    }

    /// The run of the analytics log a process launched: the last `launched`
    /// within two minutes of its start (Aider logs it as it starts).
    fn log_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        let log = self.log.as_ref().filter(|l| !claimed(l))?;
        let launched = super::last_lines(log, LOG_TAIL)
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == "launched")
            .filter_map(|v| v["time"].as_i64())
            .rfind(|t| (p.start - 1..=p.start + 120).contains(t))?;
        Some(TranscriptLink {
            external_id: analytics::session_id(&log.to_string_lossy(), launched),
            path: Some(log.clone()),
            ..Default::default()
        })
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
        path.file_name() == Some(paths::HISTORY_FILE.as_ref())
            || self.env_file.as_deref() == Some(path)
            || self.log.as_deref() == Some(path)
    }

    fn parser(&self, path: &Path, state: Option<&str>) -> Box<dyn LineParser> {
        if self.log.as_deref() == Some(path) {
            return Box::new(analytics::AnalyticsParser::new(path, state));
        }
        Box::new(parser::AiderParser::new(path, state, parser::machine_local).covered_from(self.covered_from()))
    }

    fn follows_leads(&self) -> bool {
        true
    }

    /// The history file of every folder Aider ran in: a running process's
    /// working directory, a session's project; the history files read before.
    fn follow(&self, leads: &Leads) -> bool {
        let dirs =
            leads.processes.iter().filter_map(|p| p.cwd.as_deref()).chain(leads.dirs.iter().map(PathBuf::as_path));
        let files = leads.files.iter().filter(|f| f.file_name() == Some(paths::HISTORY_FILE.as_ref())).cloned();
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        let mut learned = false;
        for f in dirs.map(paths::history_of).chain(files) {
            learned |= found.insert(f);
        }
        learned
    }

    /// With an analytics log, the run the process launched there (its calls
    /// are counted there); else the history of the process's repository:
    /// its newest session, if it started when the process did (or later).
    fn newest_link(&self, p: &LiveProcess, claimed: &dyn Fn(&Path) -> bool) -> Option<TranscriptLink> {
        if let Some(link) = self.log_link(p, claimed) {
            return Some(link);
        }
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
            project: paths::project_of(&file),
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
        let env = SourceEnv::of("/home/u", &[(paths::HISTORY_VAR, &file.to_string_lossy())]);
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
        assert_eq!(link.project, Some(repo.to_string_lossy().into_owned()), "the repository, not src/");
        assert_eq!(src.newest_link(&p, &|f| f == file), None, "claimed by another process");
        let later = LiveProcess { start: start + 3600, ..p };
        assert_eq!(src.newest_link(&later, &|_| false), None, "started after its newest header: not written yet");
    }

    #[test]
    fn a_history_file_is_found_from_where_aider_ran_as_handed_in_never_by_a_scan() {
        let t = tempfile::tempdir().unwrap();
        let (repo, other) = (t.path().join("repo"), t.path().join("other"));
        for r in [&repo, &other] {
            std::fs::create_dir_all(r.join(".git")).unwrap();
            std::fs::create_dir_all(r.join("src")).unwrap();
            std::fs::write(r.join(paths::HISTORY_FILE), "\n# aider chat started at 2026-05-01 09:15:02\n").unwrap();
        }
        let src = AiderSource::new(&SourceEnv::of("/home/u", &[]));
        assert!(src.follows_leads());
        assert_eq!(src.discover(), Vec::<PathBuf>::new(), "nothing until told where Aider ran");

        // The collector's process, running in a folder of the repository.
        let p = LiveProcess { pids: vec![42], start: 0, cwd: Some(repo.join("src")) };
        assert!(src.follow(&Leads { processes: vec![p.clone()], ..Leads::default() }));
        assert_eq!(src.discover(), [repo.join(paths::HISTORY_FILE)]);
        assert_eq!((src.roots(), src.live_dirs()), (vec![repo.clone()], vec![repo.clone()]));
        assert!(!src.follow(&Leads { processes: vec![p], ..Leads::default() }), "known already");

        // The store's: a session's project, a file read before (kept when
        // its process is gone).
        let store =
            Leads { dirs: vec![other.clone()], files: vec![repo.join(paths::HISTORY_FILE)], ..Leads::default() };
        assert!(src.follow(&store));
        assert_eq!(src.discover(), [other.join(paths::HISTORY_FILE), repo.join(paths::HISTORY_FILE)]);
        let gone = Leads { files: vec![t.path().join("gone/.aider.chat.history.md")], ..Leads::default() };
        assert!(src.follow(&gone));
        assert_eq!(src.discover().len(), 2, "a file that is not there is not read");
    }

    #[test]
    fn the_analytics_log_is_read_and_counts_the_history_sessions_it_covers() {
        let t = tempfile::tempdir().unwrap();
        let log = t.path().join("aider.jsonl");
        std::fs::write(&log, include_str!("fixtures/aider.analytics.jsonl")).unwrap();
        let history = t.path().join("app").join(paths::HISTORY_FILE);
        let env = SourceEnv::of("/home/u", &[(paths::ANALYTICS_VAR, &log.to_string_lossy())]);
        let src = AiderSource::new(&env);
        assert_eq!(src.discover(), std::slice::from_ref(&log));
        assert!(src.reads_file(&log) && src.reads_file(&history));
        assert!(!src.reads_file(&t.path().join("other.jsonl")));

        let parse = |path: &Path, lines: &[&str]| {
            let mut p = src.parser(path, None);
            let mut out = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                let _ = p.parse(l.as_bytes(), i as u64 * 100, &mut out);
            }
            out
        };
        let sends: Vec<&str> = include_str!("fixtures/aider.analytics.jsonl").lines().collect();
        let from_log = parse(&log, &sends);
        assert_eq!(super::super::calls(&from_log).len(), 7, "the log's own parser");

        // The log began at 2026-05-02 23:40:01 UTC: history sessions from ten
        // minutes before on are its to count.
        let header = |ms: i64| {
            let t = chrono::DateTime::from_timestamp_millis(ms).unwrap().with_timezone(&chrono::Local);
            format!("# aider chat started at {}", t.format("%Y-%m-%d %H:%M:%S"))
        };
        let report = "> Tokens: 1.0k sent, 20 received. Cost: $0.01 message, $0.01 session.";
        let utc_ms = |h: u32, m: u32, s: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 5, 2)
                .unwrap()
                .and_hms_opt(h, m, s)
                .unwrap()
                .and_utc()
                .timestamp_millis()
        };
        let before = header(utc_ms(23, 30, 0));
        let within = header(utc_ms(23, 30, 1));
        let out = parse(&history, &[&before, report, &within, report]);
        let c = super::super::calls(&out);
        assert_eq!(c.len(), 1, "only the session begun before the log's cover");
        assert_eq!(c[0].timestamp.timestamp_millis(), utc_ms(23, 30, 0));
        assert_eq!(INFO.usage_of(Some(&c[0].session_external_id)), UsageKind::Approximate);
        let logged = super::super::calls(&from_log)[0].session_external_id.to_string();
        assert_eq!(logged, format!("{}@2026-05-02T23:40:01Z", log.display()));
        assert_eq!(INFO.usage_of(Some(&logged)), UsageKind::Tokens);
        assert_eq!(INFO.usage_of(None), UsageKind::Approximate);

        // A process started as the third run was launched (08:00:01) is
        // linked to that run of the log, unless another holds the log.
        let start = utc_ms(0, 0, 0) / 1000 + 86_400 + 8 * 3600;
        let p = LiveProcess { pids: vec![7], start, cwd: None };
        let link = src.newest_link(&p, &|_| false).unwrap();
        assert_eq!(link.external_id, format!("{}@2026-05-03T08:00:01Z", log.display()));
        assert_eq!(link.path.as_deref(), Some(log.as_path()));
        assert_eq!(src.newest_link(&p, &|f| f == log), None, "claimed; and no history in its folder");
        let late = LiveProcess { start: start + 3 * 3600, ..p };
        assert_eq!(src.newest_link(&late, &|_| false), None, "launched nothing then");
    }
}
