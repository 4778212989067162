//! What every command needs: directories, the store, prices, and an ingest
//! with a progress bar.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use agentwatch_core::config::Config;
use agentwatch_core::ingest::{IngestReport, Progress, default_sources, ingest};
use agentwatch_core::paths::Dirs;
use agentwatch_core::pricing::PriceBook;
use agentwatch_core::store::Store;
use agentwatch_core::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::{thousands, warn};

pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AGENTWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(crate::output::color_stderr())
        .without_time()
        .try_init();
}

/// Logs to daily files in `dir` (a week kept), for the daemon.
pub fn init_file_logging(dir: &std::path::Path, verbose: u8) -> Result<tracing_appender::non_blocking::WorkerGuard> {
    agentwatch_core::paths::create_private_dir(dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("agentwatch")
        .filename_suffix("log")
        .max_log_files(7)
        .build(dir)
        .map_err(|e| Error::Other(format!("cannot write logs in {}: {e}", dir.display())))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AGENTWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).try_init();
    Ok(guard)
}

/// One line per file that could not be read (five at most), naming it.
fn warn_unreadable(files: &[agentwatch_core::ingest::Unreadable]) {
    for u in files.iter().take(5) {
        warn(&format!("cannot read {} ({}); reports leave out its usage", u.path.display(), u.error));
    }
    if files.len() > 5 {
        warn(&format!(
            "… and {} more unreadable files (agentwatch ingest --format json lists them all)",
            files.len() - 5
        ));
    }
}

/// How long a command waits for the running monitor to catch up before
/// reading the agents' files itself (a monitor reading a whole new corpus
/// takes longer).
const SYNC_WAIT: Duration = Duration::from_secs(3);

pub struct Ctx {
    pub dirs: Dirs,
    /// The settings, read once; a file with a mistake was named on stderr
    /// and the defaults are used.
    pub config: Config,
    /// Transcript files the last ingest could not read: every report shown
    /// after it is marked incomplete.
    pub unreadable: Vec<String>,
    pub prices: PriceBook,
    pub store: Store,
}

impl Ctx {
    pub fn open(data_dir: Option<&std::path::Path>) -> Result<Ctx> {
        let dirs = Dirs::resolve(data_dir)?;
        if dirs.data.exists() && !dirs.data.is_dir() {
            return Err(Error::Other(format!("data dir {} is not a directory", dirs.data.display())));
        }
        let (config, problems) = Config::load_or_defaults(&dirs)?;
        for p in problems {
            warn(&p);
        }
        let prices = PriceBook::load(&dirs)?;
        let store = Store::open_in(&dirs)?;
        if let Some(aside) = &store.recovered {
            warn(&format!(
                "the database was damaged or not agentwatch's; it was moved to {} and a new one started \
                 (usage is rebuilt from the agents' files)",
                aside.display()
            ));
        }
        Ok(Ctx { dirs, config, unreadable: Vec::new(), prices, store })
    }

    /// Reads new transcript data, with a progress bar on a terminal when it
    /// takes more than a second. Malformed lines are reported once, here.
    pub fn ingest(&mut self) -> Result<IngestReport> {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let tty = std::io::stderr().is_terminal();
        let started = Instant::now();
        let shown = AtomicBool::new(false);
        let on_progress = |p: Progress| {
            bar.set_length(p.bytes_total.max(1));
            bar.set_position(p.bytes_done);
            bar.set_message(format!("{}/{} files", thousands(p.files_done), thousands(p.files_total)));
            if tty && !shown.load(Ordering::Relaxed) && started.elapsed() > Duration::from_secs(1) {
                shown.store(true, Ordering::Relaxed);
                bar.set_style(
                    ProgressStyle::with_template("reading transcripts {bar:30} {bytes}/{total_bytes} {msg} {eta}")
                        .expect("valid template"),
                );
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        };
        let sources = default_sources();
        let report = ingest(&mut self.store, &self.prices, &sources, &on_progress);
        bar.finish_and_clear();
        let report = report?;
        tracing::info!(
            "checked {} files of the agents, read {}, {} new calls, in {:?}",
            report.files_scanned,
            report.files_read,
            report.new_events,
            report.elapsed
        );
        warn_unreadable(&report.unreadable);
        self.unreadable = report.unreadable.iter().map(|u| u.path.display().to_string()).collect();
        if report.malformed_lines > 0 {
            warn(&format!(
                "skipped {} malformed transcript line{} (they stay in the agents' files, untouched)",
                thousands(report.malformed_lines),
                if report.malformed_lines == 1 { "" } else { "s" }
            ));
        }
        Ok(report)
    }

    /// Under a report table: a line saying it is incomplete, when it is.
    pub fn incomplete_note(&self) -> String {
        match self.unreadable.len() {
            0 => String::new(),
            n => format!(
                "\nIncomplete: {n} transcript file{} could not be read (named above); their usage is not counted.",
                if n == 1 { "" } else { "s" }
            ),
        }
    }

    /// Marks a JSON report whose data left out unreadable files:
    /// `"unreadableFiles": [paths]`.
    pub fn mark_json(&self, mut v: serde_json::Value) -> serde_json::Value {
        if !self.unreadable.is_empty()
            && let Some(o) = v.as_object_mut()
        {
            o.insert("unreadableFiles".into(), serde_json::json!(self.unreadable));
        }
        v
    }

    /// Refuses an `--agent-type` nobody could have: not built in, not in
    /// the user's signatures and not seen in the store. The error lists
    /// the known ones.
    pub fn check_agent_type(&self, agent: Option<&str>) -> Result<()> {
        let Some(agent) = agent else { return Ok(()) };
        let mut known: Vec<String> = agentwatch_core::model::AGENTS.iter().map(|a| a.id.to_string()).collect();
        known.extend(self.config.signatures.iter().map(|s| s.agent.clone()));
        known.extend(agentwatch_core::store::agent_types(&self.store)?);
        if known.iter().any(|k| k == agent) {
            return Ok(());
        }
        known.sort();
        known.dedup();
        Err(Error::Usage(format!("unknown agent type '{agent}'; known types: {}", known.join(", "))))
    }

    /// Looks at running processes once, unless a monitor already does.
    pub fn collect_once(&mut self) -> Result<()> {
        if agentwatch_core::monitor::holder(&self.dirs).is_some() {
            return Ok(());
        }
        let mut c = agentwatch_core::collector::Collector::new(self.config.clone(), default_sources())?;
        let r = c.scan(&mut self.store, true)?;
        if r.found_files {
            // A running agent led a source to files (Aider's history in its
            // repository): read them now.
            let files: Vec<_> = c.sources().iter().filter(|s| s.follows_leads()).flat_map(|s| s.discover()).collect();
            agentwatch_core::ingest::ingest_paths(&mut self.store, &self.prices, c.sources(), &files)?;
        }
        Ok(())
    }

    /// Ingests unless told not to, or unless the running monitor has read
    /// every change already; reports always run on current data.
    pub fn refresh(&mut self, no_ingest: bool) -> Result<()> {
        if no_ingest || self.synced() {
            agentwatch_core::store::ensure_costs_current(&self.store, &self.prices, &[])?;
        } else {
            self.ingest()?;
        }
        Ok(())
    }

    /// Asks the monitor running for this data dir (the app, or
    /// `agentwatch daemon`) to read what changed, instead of walking every
    /// agent's folders here. True when it answered for every folder this
    /// command would read.
    fn synced(&mut self) -> bool {
        let roots = default_sources().iter().flat_map(|s| s.watch_roots()).collect();
        match agentwatch_core::monitor::sync(&self.dirs, roots, SYNC_WAIT) {
            Some(s) if s.complete => {
                tracing::info!("the running monitor (pid {}) has read every change", s.pid);
                warn_unreadable(&s.unreadable);
                self.unreadable = s.unreadable.iter().map(|u| u.path.display().to_string()).collect();
                true
            }
            Some(s) => {
                tracing::info!(
                    "the running monitor (pid {}) does not watch every folder read here; reading them",
                    s.pid
                );
                false
            }
            None => false,
        }
    }
}
