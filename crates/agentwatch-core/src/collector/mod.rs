//! The live collector: which agents are running, which session each one is,
//! and what state every session is in.
//!
//! One [`Collector::scan`]:
//! 1. lists the user's processes and finds the agents among them
//!    ([`signatures`], [`detect`]);
//!    Sources whose agents keep no list of their files (Aider) are handed
//!    the processes found ([`crate::sources::Source::follow`]);
//! 2. links each new agent process to its session: Claude Code's own session
//!    registry first, then the transcript the process holds open, then the
//!    newest transcript written since it started in its directory; until one
//!    is found the process gets a session of its own, merged later;
//! 3. measures CPU and memory of each agent's process tree and reads where its
//!    conversation stands from the transcript's last lines;
//! 4. decides every live session's state ([`crate::liveness`]), recording each
//!    transition, including sessions whose process is gone;
//! 5. archives sessions inactive for longer than the configured time.

pub mod detect;
pub mod process;
pub mod signatures;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use detect::{AgentProcess, detect};
use process::{ProcKey, Scanner};
use signatures::Signatures;

use crate::config::Config;
use crate::error::Result;
use crate::liveness::{self, Inputs, Process, Reported, Signal, Thresholds, Turn, Verdict, WaitingFor};
use crate::model::{PendingTool, SessionState};
use crate::sources::{Leads, LiveProcess, RegistryError, Source, Storage, TranscriptLink, TurnInfo};
use crate::store::{ProcessFacts, SessionRow, Store, Transition};

/// CPU use of an agent's process tree above this (% of one core) counts as activity.
pub const BUSY_CPU: f64 = 3.0;

/// How long a live record's dialog without its call waits for the
/// transcript to show the call, ms. Claude Code marks its registry
/// "waiting" the moment it shows a dialog, and writes the tool call the
/// dialog is about to its transcript a moment later: announced before that,
/// a question would be taken for a permission prompt, and a permission
/// prompt would not name its tool. A dialog about no call (a sandbox
/// request) shows this much later.
pub const DIALOG_CALL_GRACE_MS: i64 = 3_000;

/// What one scan did.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// The scan's number, counting from 1 for this collector.
    pub scan: u64,
    /// Agent processes found.
    pub agents: usize,
    pub transitions: Vec<Transition>,
    /// Sessions created for new processes.
    pub created: Vec<i64>,
    pub elapsed: Duration,
    /// Agent records (registry entries) that were garbage, truncated or
    /// named another process: ignored.
    pub malformed_records: usize,
    /// A source learned of files from the running processes (Aider's
    /// history in a repository it did not know): worth an ingest, and a
    /// look at what to watch.
    pub found_files: bool,
}

/// A transcript, and the session whose turn was read from it (a database
/// holds many).
type TurnKey = (PathBuf, Option<String>);

/// What running processes already hold: transcripts, and sessions by
/// (agent, its id). A process is not linked to either by a guess.
struct Claimed {
    paths: HashSet<PathBuf>,
    sessions: HashSet<(String, String)>,
}

pub struct Collector {
    scanner: Scanner,
    sigs: Signatures,
    sources: Vec<Box<dyn Source>>,
    cfg: Config,
    scan_seq: u64,
    /// Turn per transcript and session, cached by (size, mtime in ns): a
    /// database's counts its WAL in.
    turns: HashMap<TurnKey, (u64, i64, Option<TurnInfo>)>,
    /// Malformed agent records already logged.
    bad_records: HashSet<String>,
    /// At the last scan, the agents' processes other than their roots (a
    /// re-executed child), and whose session each belongs to.
    members: HashMap<ProcKey, i64>,
}

impl Collector {
    pub fn new(cfg: Config, sources: Vec<Box<dyn Source>>) -> Result<Collector> {
        Ok(Collector {
            scanner: Scanner::new()?,
            sigs: Signatures::with_user(&cfg.signatures),
            sources,
            cfg,
            scan_seq: 0,
            turns: HashMap::new(),
            members: HashMap::new(),
            bad_records: HashSet::new(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn set_config(&mut self, cfg: Config) {
        self.sigs = Signatures::with_user(&cfg.signatures);
        self.cfg = cfg;
    }

    pub fn sources(&self) -> &[Box<dyn Source>] {
        &self.sources
    }

    /// The directories worth watching, and whether recursively: transcript
    /// roots (recursive), registries and config dirs (not). They need not
    /// exist yet.
    pub fn watch_dirs(&self) -> Vec<(PathBuf, bool)> {
        self.sources
            .iter()
            .flat_map(|s| {
                s.watch_roots().into_iter().map(|d| (d, true)).chain(s.live_dirs().into_iter().map(|d| (d, false)))
            })
            .collect()
    }

    /// Scans once. `sample_cpu` waits briefly to measure CPU when this is
    /// the first scan (one-shot use from the CLI); a running collector
    /// measures since its previous scan.
    pub fn scan(&mut self, store: &mut Store, sample_cpu: bool) -> Result<ScanReport> {
        let started = Instant::now();
        self.scan_seq += 1;
        let mut report = ScanReport { scan: self.scan_seq, ..Default::default() };
        let procs = self.scanner.scan();
        let agents = detect(&procs, &self.sigs);
        report.agents = agents.len();
        // Sources whose agents keep no list of their files find them from
        // the processes found here: they never scan processes themselves.
        for src in self.sources.iter().filter(|s| s.follows_leads()) {
            let processes = agents
                .iter()
                .filter(|a| a.agent == src.agent())
                .map(|a| LiveProcess { pids: a.members.clone(), start: a.root.start, cwd: a.cwd.clone() })
                .collect();
            report.found_files |= src.follow(&Leads { processes, ..Leads::default() });
        }
        let tree_pids: Vec<u32> = agents.iter().flat_map(|a| a.tree.iter().copied()).collect();
        self.scanner.refresh_usage(&tree_pids);
        if sample_cpu && !agents.is_empty() {
            std::thread::sleep(Duration::from_millis(250));
            self.scanner.refresh_usage(&tree_pids);
        }
        let now = crate::util::now_ms();

        let attached = store.sessions_with_process()?;
        let by_key: HashMap<ProcKey, &SessionRow> = attached
            .iter()
            .filter_map(|s| Some((ProcKey { pid: s.live.pid?, start: s.live.proc_start? }, s)))
            .collect();
        let mut claimed = Claimed {
            paths: attached.iter().filter_map(|s| s.transcript_path.as_ref().map(PathBuf::from)).collect(),
            sessions: attached.iter().filter_map(|s| Some((s.agent.clone(), s.external_id.clone()?))).collect(),
        };
        let mut alive: HashSet<i64> = HashSet::new();
        // Agents whose terminal closed under them count as gone.
        let closed: HashSet<ProcKey> =
            agents.iter().filter(|a| a.members.iter().all(|p| process::terminal_closed(*p))).map(|a| a.root).collect();

        let mut members = HashMap::new();
        for a in agents.iter().filter(|a| !closed.contains(&a.root)) {
            let lp = LiveProcess { pids: a.members.clone(), start: a.root.start, cwd: a.cwd.clone() };
            // The agent's own record of this process, read at every scan: it
            // says which session the process runs now and where its turn is.
            let registry = self.registry(&a.agent, &lp, &mut report);
            let (pk, link) = match by_key.get(&a.root) {
                Some(s) => match (&s.external_id, &registry) {
                    // The same process went on to another session (/clear, /resume).
                    (Some(ext), Some(r)) if *ext != r.external_id => {
                        let v = Verdict { state: SessionState::Completed, waiting_for: None, signal: Signal::Registry };
                        let why = "the agent went on to another session (/clear or /resume)";
                        if let Some(tr) = store.record_verdict(s.pk, &v, None, now, why, Some(self.scan_seq))? {
                            report.transitions.push(tr);
                        }
                        self.attach(store, a, registry.clone(), now, &mut report)?
                    }
                    (Some(_), _) => (s.pk, registry.clone()),
                    // Known process whose transcript was not known yet: try again.
                    (None, _) => {
                        let link = registry.clone().or_else(|| self.link_files(a, &lp, &claimed));
                        let pk = match &link {
                            Some(l) => store.link_external(
                                s.pk,
                                &a.agent,
                                &l.external_id,
                                path_str(&l.path).as_deref(),
                                now,
                            )?,
                            None => s.pk,
                        };
                        (pk, link)
                    }
                },
                None => {
                    // A re-executed child that outlives its launcher by a
                    // moment (the two killed together): the session follows
                    // it, rather than die and come back as a new session.
                    let orphaned = self
                        .members
                        .get(&a.root)
                        .and_then(|pk| attached.iter().find(|s| s.pk == *pk))
                        .filter(|s| !agents.iter().any(|x| Some(x.root.pid) == s.live.pid))
                        .and_then(|s| {
                            let ext = s.external_id.clone()?;
                            Some(TranscriptLink {
                                external_id: ext,
                                path: s.transcript_path.as_ref().map(PathBuf::from),
                                ..Default::default()
                            })
                        });
                    let link = orphaned.or_else(|| registry.clone()).or_else(|| self.link_files(a, &lp, &claimed));
                    self.attach(store, a, link, now, &mut report)?
                }
            };
            if let Some(l) = &link {
                claimed.paths.extend(l.path.clone());
                claimed.sessions.insert((a.agent.clone(), l.external_id.clone()));
            }
            alive.insert(pk);
            let Some(s) = store.session_by_pk(pk)? else { continue };
            let usage = self.scanner.usage(&a.tree);
            let live_turn = registry.as_ref().and_then(|r| r.turn.clone());
            let (turn, activity) = self.turn_and_activity(&s, live_turn, link.as_ref().and_then(|l| l.path.clone()));
            let inputs = Inputs {
                now,
                process: Process::Alive { busy: usage.cpu > BUSY_CPU },
                activity,
                turn: turn.as_ref().map(|t| (t.turn, t.signal)),
                turns_readable: self.reads_turns(&s),
                reported: reported(&s),
                heartbeat: s.live.heartbeat_at,
            };
            store.set_process_metrics(
                pk,
                Some(usage.cpu),
                Some(usage.memory),
                turn.as_ref().map(|t| t.turn.as_str()),
            )?;
            self.apply(store, &s, &inputs, turn.as_ref(), "process running", &mut report)?;
            for m in a.members.iter().skip(1) {
                if let Some(key) = procs.iter().find(|p| p.key.pid == *m).map(|p| p.key) {
                    members.insert(key, pk);
                }
            }
        }
        self.members = members;

        // Followed processes that are gone.
        for s in attached.iter().filter(|s| !alive.contains(&s.pk)) {
            let Some(s) = store.session_by_pk(s.pk)? else {
                continue; // merged away this scan
            };
            let (turn, activity) = self.turn_and_activity(&s, last_observed(&s), None);
            // Mid-turn, the agent may carry the session on without this
            // process (Codex's background server after its terminal quit).
            let mid_turn = turn.as_ref().is_some_and(|t| t.turn != Turn::IDLE && t.turn != Turn::Ended);
            if mid_turn
                && let (Some(ext), Some(src)) = (&s.external_id, self.source(&s.agent))
                && src.continues_without_process(ext)
            {
                store.release_process(s.pk)?;
                let Some(s) = store.session_by_pk(s.pk)? else { continue };
                let (turn, activity) = self.turn_and_activity(&s, None, None);
                let inputs = Inputs {
                    now,
                    process: Process::None,
                    activity,
                    turn: turn.as_ref().map(|t| (t.turn, t.signal)),
                    turns_readable: self.reads_turns(&s),
                    reported: reported(&s),
                    heartbeat: s.live.heartbeat_at,
                };
                let why = "its terminal client quit; the agent's background server carries on";
                self.apply(store, &s, &inputs, turn.as_ref(), why, &mut report)?;
                continue;
            }
            let inputs = Inputs {
                now,
                process: Process::Gone,
                activity,
                turn: turn.as_ref().map(|t| (t.turn, t.signal)),
                turns_readable: self.reads_turns(&s),
                reported: reported(&s),
                heartbeat: s.live.heartbeat_at,
            };
            store.set_process_metrics(s.pk, None, None, turn.as_ref().map(|t| t.turn.as_str()))?;
            let key = s.live.pid.zip(s.live.proc_start).map(|(pid, start)| ProcKey { pid, start });
            let why =
                if key.is_some_and(|k| closed.contains(&k)) { "its terminal was closed" } else { "process exited" };
            self.apply(store, &s, &inputs, turn.as_ref(), why, &mut report)?;
        }

        // Sessions without a process: transcript-only, MCP and hook sessions.
        for s in store.sessions_without_process(now - liveness::RECENT_MS)? {
            if alive.contains(&s.pk) {
                continue;
            }
            let (turn, activity) = self.turn_and_activity(&s, None, None);
            let inputs = Inputs {
                now,
                process: if s.live.pid.is_some() { Process::Gone } else { Process::None },
                activity,
                turn: turn.as_ref().map(|t| (t.turn, t.signal)),
                turns_readable: self.reads_turns(&s),
                reported: reported(&s),
                heartbeat: s.live.heartbeat_at,
            };
            self.apply(store, &s, &inputs, turn.as_ref(), "activity", &mut report)?;
        }

        store.archive_inactive(now - (self.cfg.archive_after_hours as i64) * 3_600_000)?;
        store.prune_events(now - 86_400_000)?;
        report.elapsed = started.elapsed();
        store.set_meta(
            "last_scan",
            &serde_json::json!({"scan": report.scan, "at": now, "agents": report.agents,
                "ms": report.elapsed.as_secs_f64() * 1000.0, "malformedRecords": report.malformed_records})
            .to_string(),
        )?;
        Ok(report)
    }

    fn apply(
        &self,
        store: &Store,
        s: &SessionRow,
        i: &Inputs,
        turn: Option<&TurnInfo>,
        why: &str,
        report: &mut ScanReport,
    ) -> Result<()> {
        let tool = turn.and_then(|t| t.tool.as_ref());
        if let Some(tr) = judge(store, &self.cfg, s, i, tool, why, Some(self.scan_seq))? {
            report.transitions.push(tr);
        }
        Ok(())
    }

    fn source(&self, agent: &str) -> Option<&dyn Source> {
        self.sources.iter().find(|s| s.agent() == agent).map(|s| s.as_ref())
    }

    /// Whether the session's turns can be read: from its agent's files, or
    /// because its hooks report them.
    fn reads_turns(&self, s: &SessionRow) -> bool {
        self.source(&s.agent).is_some_and(|src| src.reads_turns()) || s.live.reported_turn.is_some()
    }

    /// The agent's live-state record of a process, if it keeps one. A
    /// malformed record is counted and logged (once), and otherwise ignored.
    fn registry(&mut self, agent: &str, lp: &LiveProcess, report: &mut ScanReport) -> Option<TranscriptLink> {
        match self.source(agent)?.registry_link(lp) {
            Ok(l) => Some(l),
            Err(RegistryError::Missing) => None,
            Err(RegistryError::Malformed(why)) => {
                report.malformed_records += 1;
                if self.bad_records.insert(why.clone()) {
                    tracing::warn!("ignored a malformed agent record: {why}");
                }
                None
            }
        }
    }

    /// Attaches a running agent to its session (by `link`), creating one.
    fn attach(
        &self,
        store: &Store,
        a: &AgentProcess,
        link: Option<TranscriptLink>,
        now: i64,
        report: &mut ScanReport,
    ) -> Result<(i64, Option<TranscriptLink>)> {
        let facts = ProcessFacts {
            agent: a.agent.clone(),
            pid: a.root.pid,
            start: a.root.start,
            command: a.command.clone(),
            // The session's project: as its files give it, else where it runs.
            cwd: link
                .as_ref()
                .and_then(|l| l.project.clone())
                .or_else(|| a.cwd.as_ref().map(|c| c.display().to_string())),
            name: link.as_ref().and_then(|l| l.name.clone()),
            transcript: link.as_ref().and_then(|l| path_str(&l.path)),
        };
        let (pk, created) = store.attach_process(&facts, link.as_ref().map(|l| l.external_id.as_str()), now)?;
        if created {
            report.created.push(pk);
        }
        Ok((pk, link))
    }

    /// Finds a running agent's session from its files: the transcript it
    /// holds open, else the newest one written since it started.
    fn link_files(&self, a: &AgentProcess, lp: &LiveProcess, claimed: &Claimed) -> Option<TranscriptLink> {
        let src = self.source(&a.agent)?;
        for pid in &a.members {
            for path in process::open_files(*pid) {
                if let Some(id) = src.session_of(&path) {
                    return Some(TranscriptLink { external_id: id, path: Some(path), ..Default::default() });
                }
            }
        }
        // A guess from names and times: never a session another process runs.
        src.newest_link(lp, &|p: &Path| claimed.paths.contains(p))
            .filter(|l| !claimed.sessions.contains(&(a.agent.clone(), l.external_id.clone())))
    }

    /// Where the conversation stands, and the latest sign of activity.
    ///
    /// Every signal that speaks of the turn is a candidate: the transcript's
    /// last decisive line, the agent's live record (`live`), and what hooks
    /// or MCP reported. The newest wins; at the same moment the first-party
    /// ones (registry, hooks) win over the transcript. A permission prompt
    /// without its tool borrows the pending call from the transcript, and
    /// waits a moment for the transcript to have it
    /// ([`DIALOG_CALL_GRACE_MS`]).
    fn turn_and_activity(
        &mut self,
        s: &SessionRow,
        live: Option<TurnInfo>,
        link_path: Option<PathBuf>,
    ) -> (Option<TurnInfo>, Option<i64>) {
        let path = s.transcript_path.as_ref().map(PathBuf::from).or(link_path);
        // Times from the future (clock skew, bad lines) say nothing about now.
        let now = crate::util::now_ms();
        let mut activity = liveness::plausible(s.last_activity, now);
        let mut transcript: Option<TurnInfo> = None;
        if let (Some(path), Some(src)) = (path, self.source(&s.agent))
            && let Ok(meta) = std::fs::metadata(&path)
        {
            // A database holds many sessions (Crush's `crush.db`): its own
            // changes are no sign of this session's activity, the time its
            // turn was decided at is; and a change lands in its WAL first.
            let shared = src.storage(&path) == Storage::Sqlite;
            // One stat: the cache's stamp in ns, activity in ms.
            let mut stamp = (meta.len(), mtime_ns(&meta));
            let m = stamp.1 / 1_000_000;
            if shared {
                let (size, ns) = crate::sources::storage::sqlite::wal_fingerprint(&path);
                stamp = (stamp.0 + size, stamp.1.max(ns));
            }
            let key = (path, s.external_id.clone());
            let cached = self.turns.get(&key).filter(|(size, ns, _)| (*size, *ns) == stamp).map(|c| c.2.clone());
            transcript = match cached {
                Some(t) => t,
                None => {
                    let t = match &s.external_id {
                        Some(id) => src.session_turn(&key.0, id),
                        None => src.turn(&key.0),
                    };
                    let t = t.map(|t| TurnInfo { at: t.at.or((!shared).then_some(m)), ..t });
                    self.turns.insert(key, (stamp.0, stamp.1, t.clone()));
                    t
                }
            };
            // A database whose source says when this session's turn was
            // decided: that time; any other file (or a database whose
            // source reads no turn from it): its own change.
            let decided = if shared { transcript.as_ref().and_then(|t| t.at) } else { None };
            activity = activity.max(liveness::plausible(decided.unwrap_or(m), now));
        }
        let reported = match (s.live.reported_turn, s.live.reported_at) {
            (Some(turn), Some(at)) => Some(TurnInfo {
                turn,
                at: Some(at),
                signal: s.live.reported_by.unwrap_or(Signal::Hook),
                tool: s.live.reported_tool.clone(),
            }),
            _ => None,
        };
        for t in [s.live.reported_at, s.live.heartbeat_at].into_iter().flatten() {
            activity = activity.max(liveness::plausible(t, now));
        }
        let newest = [transcript.as_ref(), live.as_ref(), reported.as_ref()]
            .into_iter()
            .flatten()
            .max_by_key(|t| (t.at.and_then(|a| liveness::plausible(a, now)).unwrap_or(0), t.signal.rank()))
            .cloned();
        // A dialog the live record shows, whose call the transcript does not
        // have yet: the transcript's word until it does (see
        // DIALOG_CALL_GRACE_MS).
        let early_dialog = |t: &TurnInfo| {
            t.signal == Signal::Registry
                && t.turn.waiting_for().is_some_and(WaitingFor::is_urgent)
                && t.tool.is_none()
                && transcript.as_ref().is_some_and(|x| x.turn == Turn::Working && x.tool.is_none())
                && t.at.is_some_and(|at| now - at < DIALOG_CALL_GRACE_MS)
        };
        let newest = match newest {
            Some(t) if early_dialog(&t) => transcript.clone(),
            n => n,
        };
        let turn = newest.map(|mut t| {
            if let Some(from_transcript) = transcript.as_ref().filter(|x| x.tool.is_some()) {
                // The registry shows a question like a permission prompt.
                if t.turn == Turn::Waiting(WaitingFor::Permission)
                    && from_transcript.turn == Turn::Waiting(WaitingFor::Question)
                {
                    t.turn = from_transcript.turn;
                    t.tool = from_transcript.tool.clone();
                }
                if t.turn.waiting_for().is_some_and(WaitingFor::is_urgent) && t.tool.is_none() {
                    t.tool = from_transcript.tool.clone();
                }
            }
            t
        });
        (turn, activity)
    }
}

/// A file's modification time, ns (0 when unknown).
fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i64)
}

/// What the agent declared about itself (MCP, hooks), and who carried it.
fn reported(s: &SessionRow) -> Option<(Reported, Signal)> {
    let r = s.live.reported_state.as_deref().and_then(Reported::parse)?;
    Some((r, s.live.reported_by.unwrap_or(Signal::Mcp)))
}

/// The last state the agent itself was observed in (its registry, hooks),
/// for a process that is gone: what it was doing when it went.
fn last_observed(s: &SessionRow) -> Option<TurnInfo> {
    let signal = s.live.state_signal.filter(|sig| matches!(sig, Signal::Registry | Signal::Hook))?;
    let turn = match s.state {
        SessionState::Waiting => Turn::Waiting(s.live.waiting_for.unwrap_or(WaitingFor::Input)),
        SessionState::Working => Turn::Working,
        _ => return None,
    };
    Some(TurnInfo { turn, at: s.live.state_changed_at, signal, tool: s.live.pending_tool.clone() })
}

/// Decides a session's state from `inputs` and records the transition, if
/// any, with the tool a permission prompt or question is about.
pub fn judge(
    store: &Store,
    cfg: &Config,
    s: &SessionRow,
    i: &Inputs,
    tool: Option<&PendingTool>,
    why: &str,
    scan: Option<u64>,
) -> Result<Option<Transition>> {
    let t =
        Thresholds { idle_after_ms: (cfg.idle_after_secs * 1000) as i64, stale_after_ms: cfg.stale_after_ms(&s.agent) };
    let v = liveness::decide(s.state, i, &t);
    let reason = reason(s.state, &v, i, tool, why);
    store.record_verdict(s.pk, &v, tool, i.now, &reason, scan)
}

/// Judges a session right after the agent reported something (a hook, an MCP
/// call), from what is stored: no need to wait for the next scan. What was
/// just reported is the newest word on the turn.
pub fn judge_now(store: &Store, cfg: &Config, pk: i64, why: &str) -> Result<Option<Transition>> {
    let Some(s) = store.session_by_pk(pk)? else { return Ok(None) };
    // A report from before the session ended (a hook event that waited in
    // the spool while the agent was killed) does not bring it back; one of
    // the same millisecond (a resume right after an end) does.
    let ended = s.ended_at.or(s.live.state_changed_at);
    if s.state.is_ended() && s.live.reported_at.zip(ended).is_some_and(|(r, e)| r < e) {
        return Ok(None);
    }
    let now = crate::util::now_ms();
    let followed = s.live.pid.is_some() && s.state.is_live();
    let reported_turn = s.live.reported_turn.map(|t| (t, s.live.reported_by.unwrap_or(Signal::Hook)));
    let stored_turn =
        s.live.turn.as_deref().and_then(Turn::parse).map(|t| (t, s.live.state_signal.unwrap_or(Signal::Transcript)));
    let inputs = Inputs {
        now,
        process: if followed {
            Process::Alive { busy: s.live.cpu.is_some_and(|c| c > BUSY_CPU) }
        } else {
            Process::None
        },
        activity: [Some(s.last_activity), s.live.reported_at, s.live.heartbeat_at]
            .into_iter()
            .flatten()
            .filter_map(|t| liveness::plausible(t, now))
            .max(),
        turn: reported_turn.or(stored_turn),
        turns_readable: reported_turn.is_some(),
        reported: reported(&s),
        heartbeat: s.live.heartbeat_at,
    };
    let tool = s.live.reported_tool.clone().or(s.live.pending_tool.clone());
    judge(store, cfg, &s, &inputs, tool.as_ref(), why, None)
}

fn path_str(p: &Option<PathBuf>) -> Option<String> {
    p.as_ref().map(|p| p.display().to_string())
}

/// A short, human reason for a transition.
fn reason(from: SessionState, v: &Verdict, i: &Inputs, tool: Option<&PendingTool>, why: &str) -> String {
    use SessionState::*;
    let turn = i.turn.map(|(t, _)| t);
    match v.state {
        // `why`: "process exited" or "its terminal was closed".
        Dead => match v.waiting_for.or(turn.and_then(Turn::waiting_for)) {
            Some(WaitingFor::Permission) => format!("{why} with a permission prompt open"),
            Some(WaitingFor::Question) => format!("{why} with a question open"),
            _ => format!("{why} mid-turn"),
        },
        Completed if i.process == Process::Gone => format!("{why} at the prompt"),
        Completed if turn == Some(Turn::Ended) => "session ended".into(),
        Completed if i.reported.is_some_and(|(r, _)| r == Reported::Complete) => "reported complete".into(),
        Completed if v.signal == Signal::Registry => why.to_string(),
        Completed => "no recent activity".into(),
        Waiting => match (v.waiting_for, tool) {
            (Some(WaitingFor::Permission), Some(t)) => format!("asks permission: {}", t.label()),
            (Some(WaitingFor::Permission), None) => "asks permission".into(),
            (Some(WaitingFor::Question), _) => "asks a question".into(),
            _ if turn.is_none() => "at its prompt; nothing sent yet".into(),
            _ => "turn ended; waiting for the user".into(),
        },
        Stale => "no heartbeat".into(),
        Idle => "no activity".into(),
        Working if from == Waiting && turn == Some(Turn::Working) => "working again".into(),
        Working if from == Idle || from == Waiting => "activity".into(),
        _ => why.to_string(),
    }
}
