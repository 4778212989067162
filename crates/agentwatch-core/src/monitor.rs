//! The running monitor: one per data dir. The headless `agentwatch daemon`
//! and the tray app both run this loop.
//!
//! - A file watcher (`notify`) on the transcript roots and Claude's session
//!   registry: changed transcripts are ingested within a fraction of a second.
//! - A process scan every `scan_interval_secs` ([`crate::collector`]).
//! - After every scan, alerts ([`crate::alerts`]), delivered if asked.
//!
//! A lock file in the data dir makes sure only one monitor collects per data
//! dir; others can ask who holds it.
//!
//! A command that reports (`costs daily`) can ask the running monitor to
//! catch up ([`sync`]) instead of walking every agent's folders itself.
//! The question is a file created in the data dir's `sync/`, which the
//! monitor watches with the same watcher as the agents' files. On Linux
//! inotify queues a watcher's events in the order they happened, so when
//! the monitor sees the question it has been told of every change made
//! before it; it reads those, then answers in a file beside the question.
//! This is git's `fsmonitor--daemon` cookie, and watchman's.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use crate::alerts::{AlertEngine, Notifier, deliver};
use crate::collector::{Collector, ScanReport};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::ingest::{self, IngestReport};
use crate::paths::Dirs;
use crate::pricing::PriceBook;
use crate::sources::Source;
use crate::store::{Store, event};

const LOCK_FILE: &str = "monitor.lock";
/// Where clients ask the monitor to catch up ([`sync`]).
const SYNC_DIR: &str = "sync";
/// Changes arriving this close together are handled as one.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Held while a monitor runs; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the data dir's monitor lock, or says who has it.
pub fn acquire_lock(dirs: &Dirs) -> Result<Lock> {
    dirs.ensure_data_dir()?;
    let path = dirs.data.join(LOCK_FILE);
    let mut o = std::fs::OpenOptions::new();
    o.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut file = o.open(&path).map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let who = holder(dirs).map(|p| format!(" (pid {p})")).unwrap_or_default();
            return Err(Error::Other(format!(
                "another agentwatch monitor{who} is already running for {}",
                dirs.data.display()
            )));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
    }
    file.set_len(0).and_then(|_| writeln!(file, "{}", std::process::id())).map_err(|e| Error::io(&path, e))?;
    Ok(Lock { _file: file })
}

/// The pid of the monitor running for this data dir, if one runs.
pub fn holder(dirs: &Dirs) -> Option<u32> {
    let path = dirs.data.join(LOCK_FILE);
    let file = File::open(&path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None, // nobody holds it
        Err(_) => std::fs::read_to_string(&path).ok()?.trim().parse().ok(),
    }
}

/// A client's question: the transcript roots it would otherwise walk.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Question {
    roots: Vec<PathBuf>,
}

/// The running monitor's answer to [`sync`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Synced {
    /// The monitor's pid.
    pub pid: u32,
    /// The store holds every change made to the agents' files before the
    /// question. False when the monitor does not watch every root the
    /// client would read (other settings, a watch the system refused): the
    /// client reads for itself.
    pub complete: bool,
    /// Files the monitor could not read; it tries again at its next scan.
    pub unreadable: Vec<ingest::Unreadable>,
}

/// Whether the monitor running for this data dir takes [`sync`]'s questions
/// (it watches its `sync/`).
pub fn takes_questions(dirs: &Dirs) -> bool {
    dirs.data.join(SYNC_DIR).is_dir() && holder(dirs).is_some()
}

/// Asks the monitor running for this data dir to read every change made to
/// the agents' files so far, and waits (at most `wait`) for its answer.
/// `roots` are the transcript roots the caller would walk otherwise. None
/// when no monitor runs, it takes no questions, or it did not answer in
/// time: the caller reads for itself.
pub fn sync(dirs: &Dirs, roots: Vec<PathBuf>, wait: Duration) -> Option<Synced> {
    let started = Instant::now();
    if !takes_questions(dirs) {
        return None;
    }
    let dir = dirs.data.join(SYNC_DIR);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let name = format!("{}-{nanos}", std::process::id());
    let (part, question, answer) =
        (dir.join(format!("{name}.ask")), dir.join(format!("{name}.want")), dir.join(format!("{name}.done")));
    // A root that is not UTF-8 cannot be said in JSON: read for ourselves.
    let body = serde_json::to_vec(&Question { roots }).ok()?;
    // Whole when it appears: written aside, then renamed.
    if std::fs::write(&part, body).and_then(|_| std::fs::rename(&part, &question)).is_err() {
        let _ = std::fs::remove_file(&part);
        return None;
    }
    let mut nap = Duration::from_micros(100);
    let mut checked = Instant::now();
    loop {
        if let Ok(text) = std::fs::read(&answer) {
            let _ = std::fs::remove_file(&answer);
            return serde_json::from_slice(&text).ok();
        }
        let gone = checked.elapsed() > Duration::from_millis(250) && {
            checked = Instant::now();
            holder(dirs).is_none()
        };
        if gone || started.elapsed() > wait {
            tracing::info!("the running monitor did not answer in {:?}; reading for ourselves", started.elapsed());
            let _ = std::fs::remove_file(&question);
            // It may have answered just now.
            let text = std::fs::read(&answer).ok();
            let _ = std::fs::remove_file(&answer);
            return text.and_then(|t| serde_json::from_slice(&t).ok());
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(5));
    }
}

pub enum Msg {
    /// Paths the watcher saw change.
    Changed(Vec<PathBuf>),
    /// Read everything again (the watcher lost track, or a new folder appeared).
    Rescan,
    /// Settings changed: re-read config.toml.
    Reload,
    /// A client asks to be answered once every change before its question
    /// is read ([`sync`]): the question's path.
    Sync(PathBuf),
    Shutdown,
}

/// Sends messages to a running monitor.
#[derive(Clone)]
pub struct Handle {
    tx: Sender<Msg>,
}

impl Handle {
    pub fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown);
    }

    pub fn reload(&self) {
        let _ = self.tx.send(Msg::Reload);
    }

    pub fn rescan(&self) {
        let _ = self.tx.send(Msg::Rescan);
    }
}

/// What the loop reports after each round, for logs and embedding apps.
pub trait Observer: Send {
    fn ingested(&mut self, _r: &IngestReport) {}
    fn scanned(&mut self, _r: &ScanReport) {}
}

impl Observer for () {}

pub struct Monitor {
    dirs: Dirs,
    store: Store,
    prices: PriceBook,
    collector: Collector,
    alerts: AlertEngine,
    notifier: Option<Box<dyn Notifier>>,
    watcher: Option<notify::RecommendedWatcher>,
    watched: Vec<PathBuf>,
    /// Parents watched until a wanted dir appears in them.
    waiting_on: Vec<PathBuf>,
    /// A wanted dir could not be watched at the last try (the system's
    /// limit of watches, say): clients are told to read for themselves.
    watch_failed: bool,
    /// `sync/`, while it is watched: clients' questions arrive there.
    sync_dir: Option<PathBuf>,
    /// The watcher reported an error (the system's limit of watches
    /// reached in a new folder, an unreadable event queue): it may miss
    /// changes, so clients read for themselves from then on.
    watcher_erred: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Files the last ingest could not read (a database the agent held
    /// locked a moment too long, say): read again at the next scan, as no
    /// change may come to bring them back.
    retry: Vec<ingest::Unreadable>,
    /// A read was put off: another program held the store's write lock
    /// past the wait (see [`Monitor::put_off`]). The next scan reads
    /// everything new instead of the watcher's changes, which are gone.
    reread: bool,
    /// What the watcher's events are checked against.
    watch_spec: std::sync::Arc<std::sync::RwLock<WatchSpec>>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    interval: Duration,
    /// `--scan-interval`, which wins over the config file's.
    interval_override: Option<Duration>,
    /// Size and mtime of the settings files, to notice edits.
    settings_seen: Vec<Option<(u64, std::time::SystemTime)>>,
    /// `[export.otlp]`, while it is configured.
    export: Option<crate::export::Export>,
}

/// How often the monitor hands freed memory back to the system.
const TRIM_EVERY: Duration = Duration::from_secs(60);

/// Returns the heap's free memory to the system. glibc keeps what threads
/// freed in their arenas, so a process that runs for days creeps upward
/// (bench/soak) without it.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Size and mtime of config.toml and the price files: an edit by hand, by
/// the desktop app's Settings or by `prices update` changes them.
fn settings_stamp(dirs: &Dirs) -> Vec<Option<(u64, std::time::SystemTime)>> {
    [dirs.config_file(), dirs.price_override_file(), dirs.imported_prices_file()]
        .iter()
        .map(|p| std::fs::metadata(p).ok().and_then(|m| Some((m.len(), m.modified().ok()?))))
        .collect()
}

impl Monitor {
    /// A monitor over `sources`, writing to the data dir's store. Takes no
    /// lock: the caller holds it.
    pub fn new(
        dirs: &Dirs,
        sources: Vec<Box<dyn Source>>,
        notifier: Option<Box<dyn Notifier>>,
    ) -> Result<(Monitor, Handle)> {
        let cfg = Config::load_logged(dirs)?;
        let prices = PriceBook::load(dirs)?;
        let store = Store::open_in(dirs)?;
        let interval = Duration::from_secs(cfg.scan_interval_secs);
        let collector = Collector::new(cfg, sources)?;
        let (tx, rx) = mpsc::channel();
        let m = Monitor {
            dirs: dirs.clone(),
            store,
            prices,
            collector,
            alerts: AlertEngine::new(crate::util::now_ms()),
            notifier,
            watcher: None,
            watched: Vec::new(),
            waiting_on: Vec::new(),
            watch_failed: false,
            sync_dir: None,
            watcher_erred: Default::default(),
            retry: Vec::new(),
            reread: false,
            watch_spec: Default::default(),
            tx: tx.clone(),
            rx,
            interval,
            interval_override: None,
            settings_seen: settings_stamp(dirs),
            export: None,
        };
        Ok((m, Handle { tx }))
    }

    /// Overrides the scan interval from the config file.
    pub fn set_interval(&mut self, d: Duration) {
        self.interval = d;
        self.interval_override = Some(d);
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The directories being watched.
    pub fn watched(&self) -> &[PathBuf] {
        &self.watched
    }

    /// Where a damaged database was moved when the monitor opened a new one.
    pub fn recovered(&self) -> Option<&Path> {
        self.store.recovered.as_deref()
    }

    /// Runs until told to shut down.
    pub fn run(mut self, observer: &mut dyn Observer) -> Result<()> {
        // A monitor that died left its questions' folder: nobody answers there.
        let _ = std::fs::remove_dir_all(self.dirs.data.join(SYNC_DIR));
        self.start_watching();
        self.export_as(&self.collector.config().clone());
        let r = self.read_everything(observer);
        self.put_off("the first read", r)?;
        // The ingest told the sources where the store knows their agents ran
        // (Aider's repositories): watch those folders too.
        self.start_watching();
        // Questions only now: while the first read of a large history runs,
        // a report reads for itself rather than wait for it. Changes made
        // meanwhile wait in the watcher's queue, ahead of any question.
        self.open_sync_dir();
        let mut next_scan = Instant::now();
        let mut rounds: u64 = 0;
        let mut last_trim = Instant::now();
        loop {
            if Instant::now() >= next_scan {
                if self.watcher.is_none() || std::mem::take(&mut self.reread) {
                    // No watcher: look for new transcript data on every scan instead.
                    let r = self.read_everything(observer);
                    self.put_off("reading", r)?;
                } else if !self.retry.is_empty() {
                    let paths: Vec<PathBuf> = std::mem::take(&mut self.retry).into_iter().map(|u| u.path).collect();
                    let r = ingest::ingest_paths(&mut self.store, &self.prices, self.collector.sources(), &paths)
                        .and_then(|r| self.after_ingest(&r, observer));
                    self.put_off("reading", r)?;
                }
                let r = self.scan(observer);
                self.put_off("a scan", r)?;
                next_scan = Instant::now() + self.interval;
                rounds += 1;
                let stamp = settings_stamp(&self.dirs);
                if stamp != self.settings_seen {
                    self.settings_seen = stamp;
                    let _ = self.tx.send(Msg::Reload);
                }
                if last_trim.elapsed() >= TRIM_EVERY {
                    release_free_memory();
                    last_trim = Instant::now();
                }
                if rounds.is_multiple_of(30) && self.start_watching() {
                    // A transcript root appeared since: read what it holds.
                    let _ = self.tx.send(Msg::Rescan);
                }
            }
            match self.rx.recv_timeout(next_scan.saturating_duration_since(Instant::now())) {
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) | Ok(Msg::Shutdown) => break,
                Ok(Msg::Reload) => {
                    // A settings file with a mistake keeps the settings in use.
                    match Config::load(&self.dirs) {
                        Ok(cfg) => {
                            self.interval =
                                self.interval_override.unwrap_or(Duration::from_secs(cfg.scan_interval_secs));
                            self.export_as(&cfg);
                            self.collector.set_config(cfg);
                            tracing::info!("settings reloaded");
                        }
                        Err(e) => tracing::warn!("settings not reloaded, the ones in use stay: {e}"),
                    }
                    match PriceBook::load(&self.dirs) {
                        Ok(prices) => {
                            self.prices = prices;
                            // Put off, the next scan's read of everything
                            // reprices (every ingest ends by doing so).
                            let r = crate::store::ensure_costs_current(&self.store, &self.prices, &[]);
                            self.put_off("repricing", r)?;
                        }
                        Err(e) => tracing::warn!("prices not reloaded, the ones in use stay: {e}"),
                    }
                    next_scan = Instant::now();
                }
                Ok(Msg::Rescan) => {
                    // A wanted dir may have appeared: watch it.
                    self.start_watching();
                    let r = self.read_everything(observer);
                    self.put_off("reading", r)?;
                    next_scan = Instant::now();
                }
                Ok(Msg::Sync(question)) => {
                    let (stop, scanned) = self.answer(vec![question], Vec::new(), observer)?;
                    if stop {
                        break;
                    }
                    if scanned {
                        next_scan = Instant::now() + self.interval;
                    }
                }
                Ok(Msg::Changed(mut paths)) => {
                    // Gather what else arrives in a moment, then ingest once;
                    // a client's question ends the wait.
                    let until = Instant::now() + DEBOUNCE;
                    let mut stop = false;
                    let mut questions = Vec::new();
                    while let Ok(m) = self.rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                        match m {
                            Msg::Changed(p) => paths.extend(p),
                            Msg::Sync(q) => {
                                questions.push(q);
                                break;
                            }
                            Msg::Shutdown => {
                                stop = true;
                                break;
                            }
                            other => {
                                let _ = self.tx.send(other);
                                break;
                            }
                        }
                    }
                    if stop {
                        break;
                    }
                    if !questions.is_empty() {
                        let (stop, scanned) = self.answer(questions, paths, observer)?;
                        if stop {
                            break;
                        }
                        if scanned {
                            next_scan = Instant::now() + self.interval;
                        }
                        continue;
                    }
                    let r = self.ingest_changed(paths, observer);
                    if self.put_off("reading", r)? == Some(true) {
                        // A transcript or registry changed: states may have too.
                        let r = self.scan(observer);
                        self.put_off("a scan", r)?;
                        next_scan = Instant::now() + self.interval;
                    }
                }
            }
        }
        tracing::info!("monitor stopped");
        Ok(())
    }

    /// Reads everything new from every source (the first read, a rescan,
    /// or every scan without a watcher).
    fn read_everything(&mut self, observer: &mut dyn Observer) -> Result<()> {
        let r = ingest::ingest(&mut self.store, &self.prices, self.collector.sources(), &|_| {})?;
        self.after_ingest(&r, observer)
    }

    /// Reads the changed files a source reads (whatever their names:
    /// ZCode's `db.sqlite`, OpenClaw's `….jsonl.reset.<time>`), and
    /// transcripts and registries by their kind. True if any was.
    fn ingest_changed(&mut self, mut paths: Vec<PathBuf>, observer: &mut dyn Observer) -> Result<bool> {
        let sources = self.collector.sources();
        let spec = self.watch_spec.read().expect("watch spec lock");
        paths.retain(|p| spec.wants_file(p) || ingest::source_of(sources, p).is_some());
        drop(spec);
        if paths.is_empty() {
            return Ok(false);
        }
        let r = ingest::ingest_paths(&mut self.store, &self.prices, self.collector.sources(), &paths)?;
        self.after_ingest(&r, observer)?;
        Ok(true)
    }

    /// Answers clients' questions ([`sync`]): first reads every change
    /// the watcher has passed on so far (`changed`, and whatever waits in
    /// the queue), then writes each answer, then looks at the processes if
    /// anything was read. Says whether a shutdown came meanwhile, and
    /// whether it scanned.
    fn answer(
        &mut self,
        mut questions: Vec<PathBuf>,
        mut changed: Vec<PathBuf>,
        observer: &mut dyn Observer,
    ) -> Result<(bool, bool)> {
        let (mut rescan, mut later) = (false, Vec::new());
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Msg::Changed(p) => changed.extend(p),
                Msg::Sync(q) => questions.push(q),
                Msg::Rescan => rescan = true,
                other @ (Msg::Reload | Msg::Shutdown) => later.push(other),
            }
        }
        let read = if rescan {
            self.start_watching();
            self.read_everything(observer).map(|_| true)
        } else {
            self.ingest_changed(changed, observer)
        };
        let Some(read) = self.put_off("reading", read)? else {
            // Not caught up: the clients, unanswered, read for themselves.
            for m in later {
                let _ = self.tx.send(m);
            }
            return Ok((false, false));
        };
        for q in &questions {
            self.reply(q);
        }
        let stop = later.iter().any(|m| matches!(m, Msg::Shutdown));
        for m in later {
            let _ = self.tx.send(m);
        }
        if read && !stop {
            let r = self.scan(observer);
            self.put_off("a scan", r)?;
        }
        Ok((stop, read && !stop))
    }

    /// Another program holding the store's write lock for longer than the
    /// monitor waits (a `sqlite3` shell left in a transaction, say) stops
    /// nothing: the work is said to be put off, and done at the next scan,
    /// which then reads everything new from the files again (what could not
    /// be written was rolled back, cursors included). `None` if put off;
    /// any other error stops the monitor.
    fn put_off<T>(&mut self, what: &str, r: Result<T>) -> Result<Option<T>> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_busy() => {
                tracing::warn!("{what} put off to the next scan: {e}");
                self.reread = true;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes the answer to one question, unless the client gave up (or
    /// this is a second event about a question answered already).
    fn reply(&self, question: &Path) {
        let Ok(text) = std::fs::read(question) else { return };
        let wanted = self.collector.watch_dirs();
        // Every root the client would walk is one this monitor watches (or
        // waits for): the same settings and the same agents' variables.
        let covers = serde_json::from_slice::<Question>(&text)
            .is_ok_and(|q| q.roots.iter().all(|r| wanted.iter().any(|(d, recursive)| *recursive && d == r)));
        // Paths go into JSON as text: one that is not UTF-8 is shown lossily.
        let unreadable = self
            .retry
            .iter()
            .map(|u| ingest::Unreadable { path: u.path.to_string_lossy().into_owned().into(), error: u.error.clone() })
            .collect();
        let answer = Synced {
            pid: std::process::id(),
            complete: self.watcher.is_some()
                && !self.watch_failed
                && !self.watcher_erred.load(std::sync::atomic::Ordering::Relaxed)
                && covers,
            unreadable,
        };
        let done = question.with_extension("done");
        let part = question.with_extension("part");
        let body = serde_json::to_vec(&answer).expect("an answer serializes");
        if let Err(e) = std::fs::write(&part, body).and_then(|_| std::fs::rename(&part, &done)) {
            tracing::warn!("cannot answer {}: {e}", question.display());
        }
        let _ = std::fs::remove_file(question);
    }

    /// Empties and watches `sync/`, where clients ask to be answered once
    /// the store holds every change made before they asked. Only where the
    /// watcher keeps its events in order (inotify); elsewhere there is no
    /// `sync/` and clients read for themselves.
    fn open_sync_dir(&mut self) {
        let dir = self.dirs.data.join(SYNC_DIR);
        let _ = std::fs::remove_dir_all(&dir);
        if !cfg!(target_os = "linux") {
            return;
        }
        let Some(w) = self.watcher.as_mut() else { return };
        if let Err(e) = crate::paths::create_private_dir(&dir) {
            tracing::warn!("clients read for themselves: {e}");
            return;
        }
        match w.watch(&dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.watch_spec.write().expect("watch spec lock").sync = Some(dir.clone());
                self.sync_dir = Some(dir);
            }
            Err(e) => {
                tracing::warn!("clients read for themselves: cannot watch {}: {e}", dir.display());
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }

    /// Starts, restarts or stops the OTLP export as `cfg` says. A mistake
    /// in it is logged; the monitor goes on without the export.
    fn export_as(&mut self, cfg: &Config) {
        let wanted = cfg.export.otlp.clone().map(|o| (o, cfg.metrics.project_label));
        if self.export.as_ref().map(|e| &e.config) == wanted.as_ref() {
            return;
        }
        // The old one flushes as it goes.
        self.export = None;
        match crate::export::start(&self.dirs, cfg) {
            Ok(e) => self.export = e,
            Err(e) => tracing::warn!("OTLP export off: {e}"),
        }
    }

    fn scan(&mut self, observer: &mut dyn Observer) -> Result<()> {
        // Hook events that found the database busy wait in the spool.
        match crate::hooks::spool::drain(&self.store, self.collector.config(), &self.dirs) {
            Ok(a) if a.recorded > 0 || !a.refused.is_empty() => {
                tracing::info!(recorded = a.recorded, refused = ?a.refused, "applied spooled hook events")
            }
            Ok(_) => {}
            Err(e) if e.is_busy() => tracing::debug!("spooled hook events wait: {e}"),
            Err(e) => tracing::warn!("spooled hook events not applied: {e}"),
        }
        let r = self.collector.scan(&mut self.store, false)?;
        if r.found_files {
            // A running agent showed a source files it did not know (Aider
            // in another repository): watch and read them now.
            let _ = self.tx.send(Msg::Rescan);
        }
        let now = crate::util::now_ms();
        let new = self.alerts.evaluate(&self.store, self.collector.config(), &self.prices, now)?;
        let answered = crate::alerts::resolve_answered(&self.store, now)?;
        if let Some(n) = &self.notifier {
            deliver(&self.store, n.as_ref(), &new)?;
            crate::alerts::withdraw(n.as_ref(), &answered);
        }
        for a in &new {
            tracing::info!(kind = a.kind.as_str(), suppressed = ?a.suppressed, "alert: {}", a.title);
        }
        observer.scanned(&r);
        Ok(())
    }

    fn after_ingest(&mut self, r: &IngestReport, observer: &mut dyn Observer) -> Result<()> {
        for u in &r.unreadable {
            if !self.retry.iter().any(|r| r.path == u.path) {
                tracing::debug!(path = %u.path.display(), error = %u.error, "not read; tried again at the next scan");
                self.retry.push(u.clone());
            }
        }
        if r.files_read > 0 {
            let last = serde_json::json!({"seconds": r.elapsed.as_secs_f64(), "at": crate::util::now_ms()});
            self.store.set_meta(crate::store::LAST_INGEST, &last.to_string())?;
        }
        if r.new_events > 0 || r.replaced_events > 0 || r.removed_events > 0 {
            tracing::info!(files = r.files_read, events = r.new_events, malformed = r.malformed_lines, "ingested");
            // Live views care about recent sessions, not a backfill of history.
            let recent = crate::util::now_ms() - (self.collector.config().archive_after_hours as i64) * 3_600_000;
            for pk in &r.sessions {
                if let Some(s) = self.store.session_by_pk(*pk)?
                    && s.last_activity >= recent
                {
                    self.store.push_event(event::USAGE, Some(&s.id), None)?;
                }
            }
        }
        observer.ingested(r);
        Ok(())
    }

    /// Watches the transcript roots and registries not watched yet; true
    /// if it added any. One that does not exist yet (a fresh install) is
    /// waited for: its nearest existing parent is watched, not recursively,
    /// and its creation brings a rescan, which watches it.
    fn start_watching(&mut self) -> bool {
        if self.watcher.is_none() {
            let tx = self.tx.clone();
            let spec = self.watch_spec.clone();
            let erred = self.watcher_erred.clone();
            match notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
                Ok(ev) if ev.need_rescan() => {
                    let _ = tx.send(Msg::Rescan);
                }
                // Opening or reading a file changes nothing, and ingest
                // itself opens files: reacting would loop forever.
                Ok(ev) if matches!(ev.kind, notify::EventKind::Access(_)) => {}
                Ok(ev) => {
                    let spec = spec.read().expect("watch spec lock");
                    if let Some(sync) = &spec.sync
                        && ev.paths.iter().any(|p| p.parent() == Some(sync))
                    {
                        if !matches!(ev.kind, notify::EventKind::Remove(_)) {
                            for q in ev.paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "want")) {
                                let _ = tx.send(Msg::Sync(q));
                            }
                        }
                        return;
                    }
                    if matches!(ev.kind, notify::EventKind::Create(notify::event::CreateKind::Folder)) {
                        if ev.paths.iter().any(|p| spec.wants_folder(p)) {
                            let _ = tx.send(Msg::Rescan);
                        }
                        return;
                    }
                    let paths: Vec<PathBuf> = ev.paths.into_iter().filter(|p| spec.may_want(p)).collect();
                    if !paths.is_empty() {
                        let _ = tx.send(Msg::Changed(paths));
                    }
                }
                Err(e) => {
                    tracing::warn!("file watcher: {e}");
                    erred.store(true, std::sync::atomic::Ordering::Relaxed);
                    let _ = tx.send(Msg::Rescan);
                }
            }) {
                Ok(w) => self.watcher = Some(w),
                Err(e) => {
                    tracing::warn!("no file watcher ({e}); changes are picked up by rescans only");
                    return false;
                }
            }
        }
        let wanted = self.collector.watch_dirs();
        {
            let mut spec = self.watch_spec.write().expect("watch spec lock");
            let sync = spec.sync.take();
            *spec = WatchSpec { sync, ..WatchSpec::new(&wanted) };
        }
        let Some(w) = self.watcher.as_mut() else { return false };
        let mut added = false;
        self.watch_failed = false;
        for (dir, recursive) in wanted {
            if self.watched.contains(&dir) {
                continue;
            }
            // The dir itself, or (until it exists) its nearest existing parent.
            let (target, mode) = if dir.is_dir() {
                (dir.clone(), if recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive })
            } else {
                let Some(parent) = dir.ancestors().skip(1).find(|a| a.is_dir()) else { continue };
                (parent.to_path_buf(), RecursiveMode::NonRecursive)
            };
            if target != dir && self.waiting_on.contains(&target) {
                continue;
            }
            match w.watch(&target, mode) {
                Ok(()) if target == dir => {
                    tracing::info!("watching {}", dir.display());
                    self.watched.push(dir);
                    added = true;
                }
                Ok(()) => {
                    tracing::info!("waiting for {} to appear (watching {})", dir.display(), target.display());
                    self.waiting_on.push(target);
                }
                Err(e) => {
                    tracing::warn!("cannot watch {}: {e}", target.display());
                    self.watch_failed = true;
                }
            }
        }
        added
    }
}

impl Drop for Monitor {
    /// However the loop ended: clients stop asking (they read for
    /// themselves), even while whoever ran it still holds the lock.
    fn drop(&mut self) {
        if let Some(dir) = self.sync_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// What the file watcher reacts to.
#[derive(Debug, Default)]
struct WatchSpec {
    /// Transcript roots: files anywhere below.
    recursive: Vec<PathBuf>,
    /// Registries: files directly inside.
    flat: Vec<PathBuf>,
    /// `sync/` in the data dir: clients' questions.
    sync: Option<PathBuf>,
}

impl WatchSpec {
    fn new(wanted: &[(PathBuf, bool)]) -> WatchSpec {
        let mut s = WatchSpec::default();
        for (d, recursive) in wanted {
            if *recursive { s.recursive.push(d.clone()) } else { s.flat.push(d.clone()) }
        }
        s
    }

    /// What the watcher passes on, for the monitor to ask the sources about:
    /// any file below a transcript root, and what [`WatchSpec::wants_file`]
    /// takes in a registry folder; never a database's `-shm` or `-journal`,
    /// which readers write to, agentwatch too.
    fn may_want(&self, p: &Path) -> bool {
        let name = p.to_string_lossy();
        !name.ends_with("-shm")
            && !name.ends_with("-journal")
            && (self.recursive.iter().any(|r| p.starts_with(r)) || self.wants_file(p))
    }

    /// A transcript (Aider's is Markdown), a registry entry, or a database
    /// (`.db`, ZCode's `.sqlite`) or its WAL, by its kind; not its `-shm`.
    /// Files of other names count when a source reads them
    /// (`ingest::source_of`).
    fn wants_file(&self, p: &Path) -> bool {
        (matches!(p.extension().and_then(|e| e.to_str()), Some("jsonl" | "json" | "db" | "sqlite" | "md"))
            || p.to_string_lossy().ends_with(".db-wal")
            || p.to_string_lossy().ends_with(".sqlite-wal"))
            && (self.recursive.iter().any(|r| p.starts_with(r))
                || p.parent().is_some_and(|parent| self.flat.iter().any(|f| f == parent)))
    }

    /// A new folder inside a root (a new project), or one on the way to a
    /// watched dir that did not exist yet.
    fn wants_folder(&self, p: &Path) -> bool {
        self.recursive.iter().chain(&self.flat).any(|d| p.starts_with(d) || d.starts_with(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watcher_passes_transcripts_and_databases_with_their_logs_not_their_shared_memory() {
        let spec = WatchSpec::new(&[("/h/.zcode/cli/db".into(), true), ("/h/.claude/sessions".into(), false)]);
        for (p, wanted) in [
            ("/h/.zcode/cli/db/db.sqlite", true),
            ("/h/.zcode/cli/db/db.sqlite-wal", true),
            ("/h/.zcode/cli/db/db.sqlite-shm", false),
            ("/h/.zcode/cli/db/x/state.db-wal", true),
            ("/h/.zcode/cli/db/x/chat.jsonl", true),
            ("/h/.zcode/cli/db/x/notes.txt", false),
            ("/h/.claude/sessions/123.json", true),
            ("/h/.claude/sessions/deeper/123.json", false),
            ("/h/elsewhere/db.sqlite", false),
        ] {
            assert_eq!(spec.wants_file(Path::new(p)), wanted, "{p}");
        }
        // Passed on for the sources to say: any name below a root
        // (OpenClaw's archives), not a database's shared memory or journal.
        for (p, passed) in [
            ("/h/.zcode/cli/db/x/s.jsonl.reset.2026-12-01T10-00-00.000Z", true),
            ("/h/.zcode/cli/db/x/notes.txt", true),
            ("/h/.zcode/cli/db/db.sqlite-shm", false),
            ("/h/.zcode/cli/db/db.sqlite-journal", false),
            ("/h/.claude/sessions/123.json", true),
            ("/h/.claude/sessions/123.lock", false),
            ("/h/elsewhere/a.jsonl", false),
        ] {
            assert_eq!(spec.may_want(Path::new(p)), passed, "{p}");
        }
    }

    #[test]
    fn a_question_is_asked_only_of_a_running_monitor_and_withdrawn_when_unanswered() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        let questions = dirs.data.join(SYNC_DIR);
        // Left by a monitor that died: nobody holds the lock, nobody is asked.
        std::fs::create_dir_all(&questions).unwrap();
        let started = Instant::now();
        assert_eq!(sync(&dirs, vec![PathBuf::from("/h/.claude/projects")], Duration::from_secs(5)), None);
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        assert_eq!(std::fs::read_dir(&questions).unwrap().count(), 0);
        // Held by a monitor that does not answer (busy reading a new
        // corpus): the client waits as long as it said, then takes its
        // question back and reads for itself.
        let _lock = acquire_lock(&dirs).unwrap();
        let started = Instant::now();
        assert_eq!(sync(&dirs, Vec::new(), Duration::from_millis(300)), None);
        assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
        assert_eq!(std::fs::read_dir(&questions).unwrap().count(), 0);
    }

    #[test]
    fn only_one_monitor_per_data_dir() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        assert_eq!(holder(&dirs), None);
        let lock = acquire_lock(&dirs).unwrap();
        assert_eq!(holder(&dirs), Some(std::process::id()));
        let e = acquire_lock(&dirs).unwrap_err().to_string();
        assert!(e.contains("already running") && e.contains(&std::process::id().to_string()), "{e}");
        drop(lock);
        assert_eq!(holder(&dirs), None);
        drop(acquire_lock(&dirs).unwrap());
    }
}
