//! The live collector: which agents are running, which session each one is,
//! and what state every session is in.
//!
//! One [`Collector::scan`]:
//! 1. lists the user's processes and finds the agents among them
//!    ([`signatures`], [`detect`]);
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
use crate::liveness::{self, Inputs, Process, Reported, Thresholds, Turn};
use crate::model::SessionState;
use crate::sources::{LiveProcess, Source, TranscriptLink, TurnInfo, mtime_ms};
use crate::store::{ProcessFacts, SessionRow, Store, Transition};

/// CPU use of an agent's process tree above this (% of one core) counts as activity.
pub const BUSY_CPU: f64 = 3.0;

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
}

pub struct Collector {
    scanner: Scanner,
    sigs: Signatures,
    sources: Vec<Box<dyn Source>>,
    cfg: Config,
    scan_seq: u64,
    /// Turn per transcript, cached by (size, mtime).
    turns: HashMap<PathBuf, (u64, i64, Option<TurnInfo>)>,
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

    /// The directories worth watching: transcript roots and registries.
    pub fn watch_dirs(&self) -> Vec<PathBuf> {
        self.sources.iter().flat_map(|s| s.roots().into_iter().chain(s.live_dirs())).collect()
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
        let mut claimed: HashSet<PathBuf> =
            attached.iter().filter_map(|s| s.transcript_path.as_ref().map(PathBuf::from)).collect();
        let mut alive: HashSet<i64> = HashSet::new();

        for a in &agents {
            let (pk, link) = match by_key.get(&a.root) {
                Some(s) if s.external_id.is_some() => (s.pk, None),
                Some(s) => {
                    // Known process whose transcript was not known yet: try again.
                    let link = self.link(a, &claimed);
                    let pk = match &link {
                        Some(l) => {
                            store.link_external(s.pk, &a.agent, &l.external_id, path_str(&l.path).as_deref(), now)?
                        }
                        None => s.pk,
                    };
                    (pk, link)
                }
                None => {
                    let link = self.link(a, &claimed);
                    let facts = ProcessFacts {
                        agent: a.agent.clone(),
                        pid: a.root.pid,
                        start: a.root.start,
                        command: a.command.clone(),
                        cwd: a.cwd.as_ref().map(|c| c.display().to_string()),
                        name: link.as_ref().and_then(|l| l.name.clone()),
                        transcript: link.as_ref().and_then(|l| path_str(&l.path)),
                    };
                    let (pk, created) =
                        store.attach_process(&facts, link.as_ref().map(|l| l.external_id.as_str()), now)?;
                    if created {
                        report.created.push(pk);
                    }
                    (pk, link)
                }
            };
            if let Some(p) = link.as_ref().and_then(|l| l.path.clone()) {
                claimed.insert(p);
            }
            alive.insert(pk);
            let Some(s) = store.session_by_pk(pk)? else { continue };
            let usage = self.scanner.usage(&a.tree);
            let (turn, activity) = self.turn_and_activity(&s, link.as_ref());
            let inputs = Inputs {
                now,
                process: Process::Alive { busy: usage.cpu > BUSY_CPU },
                activity,
                turn: turn.map(|t| t.turn),
                reported: s.live.reported_state.as_deref().and_then(Reported::parse),
                heartbeat: s.live.heartbeat_at,
            };
            store.set_process_metrics(pk, Some(usage.cpu), Some(usage.memory), turn.map(|t| t.turn.as_str()))?;
            self.apply(store, &s, &inputs, "process running", &mut report)?;
        }

        // Followed processes that are gone.
        for s in attached.iter().filter(|s| !alive.contains(&s.pk)) {
            if store.session_by_pk(s.pk)?.is_none() {
                continue; // merged away this scan
            }
            let (turn, activity) = self.turn_and_activity(s, None);
            let inputs = Inputs {
                now,
                process: Process::Gone,
                activity,
                turn: turn.map(|t| t.turn),
                reported: s.live.reported_state.as_deref().and_then(Reported::parse),
                heartbeat: s.live.heartbeat_at,
            };
            store.set_process_metrics(s.pk, None, None, turn.map(|t| t.turn.as_str()))?;
            self.apply(store, s, &inputs, "process exited", &mut report)?;
        }

        // Sessions without a process: transcript-only, MCP and hook sessions.
        for s in store.sessions_without_process(now - liveness::RECENT_MS)? {
            if alive.contains(&s.pk) {
                continue;
            }
            let (turn, activity) = self.turn_and_activity(&s, None);
            let inputs = Inputs {
                now,
                process: if s.live.pid.is_some() { Process::Gone } else { Process::None },
                activity,
                turn: turn.map(|t| t.turn),
                reported: s.live.reported_state.as_deref().and_then(Reported::parse),
                heartbeat: s.live.heartbeat_at,
            };
            self.apply(store, &s, &inputs, "activity", &mut report)?;
        }

        store.archive_inactive(now - (self.cfg.archive_after_hours as i64) * 3_600_000)?;
        store.prune_events(now - 86_400_000)?;
        report.elapsed = started.elapsed();
        store.set_meta(
            "last_scan",
            &serde_json::json!({"scan": report.scan, "at": now, "agents": report.agents, "ms": report.elapsed.as_secs_f64() * 1000.0})
                .to_string(),
        )?;
        Ok(report)
    }

    fn apply(&self, store: &Store, s: &SessionRow, i: &Inputs, why: &str, report: &mut ScanReport) -> Result<()> {
        let t = Thresholds {
            idle_after_ms: (self.cfg.idle_after_secs * 1000) as i64,
            stale_after_ms: self.cfg.stale_after_ms(&s.agent),
        };
        let next = liveness::decide(s.state, i, &t);
        let judged = s.live.state_changed_at.is_some();
        if next != s.state || !judged {
            let reason = reason(s.state, next, i, why);
            if let Some(tr) = store.transition(s.pk, next, i.now, &reason, Some(self.scan_seq))? {
                report.transitions.push(tr);
            }
        }
        Ok(())
    }

    fn source(&self, agent: &str) -> Option<&dyn Source> {
        self.sources.iter().find(|s| s.agent() == agent).map(|s| s.as_ref())
    }

    /// Finds a running agent's session: registry, open transcript, newest transcript.
    fn link(&self, a: &AgentProcess, claimed: &HashSet<PathBuf>) -> Option<TranscriptLink> {
        let src = self.source(&a.agent)?;
        let lp = LiveProcess { pids: a.members.clone(), start: a.root.start, cwd: a.cwd.clone() };
        if let Some(l) = src.registry_link(&lp) {
            return Some(l);
        }
        for pid in &a.members {
            for path in process::open_files(*pid) {
                if let Some(id) = src.session_of(&path) {
                    return Some(TranscriptLink { external_id: id, path: Some(path), ..Default::default() });
                }
            }
        }
        src.newest_link(&lp, &|p: &Path| claimed.contains(p))
    }

    /// Where the conversation stands and the latest sign of activity. The
    /// newest of the transcript's last lines, hooks, and the agent's registry wins.
    fn turn_and_activity(&mut self, s: &SessionRow, link: Option<&TranscriptLink>) -> (Option<TurnInfo>, Option<i64>) {
        let path = s.transcript_path.as_ref().map(PathBuf::from).or_else(|| link.and_then(|l| l.path.clone()));
        // Times from the future (clock skew, bad lines) say nothing about now.
        let now = crate::util::now_ms();
        let mut activity = liveness::plausible(s.last_activity, now);
        let mut turn: Option<TurnInfo> = None;
        if let (Some(path), Some(src)) = (path, self.source(&s.agent))
            && let Ok(meta) = std::fs::metadata(&path)
        {
            let m = mtime_ms(&path).unwrap_or(0);
            activity = activity.max(liveness::plausible(m, now));
            let cached = self.turns.get(&path).filter(|(size, mt, _)| *size == meta.len() && *mt == m).map(|c| c.2);
            turn = match cached {
                Some(t) => t,
                None => {
                    let t = src.turn(&path).map(|t| TurnInfo { at: t.at.or(Some(m)), ..t });
                    self.turns.insert(path, (meta.len(), m, t));
                    t
                }
            };
        }
        // What hooks reported, if newer than the transcript.
        if let (Some(reported), Some(at)) = (s.live.turn.as_deref().and_then(Turn::parse), s.live.reported_at)
            && turn.is_none_or(|t| t.at.unwrap_or(0) < at)
        {
            turn = Some(TurnInfo { turn: reported, at: Some(at) });
        }
        if turn.is_none() {
            turn = link.and_then(|l| l.turn).map(|t| TurnInfo { turn: t, at: None });
        }
        for t in [s.live.reported_at, s.live.heartbeat_at].into_iter().flatten() {
            activity = activity.max(liveness::plausible(t, now));
        }
        (turn, activity)
    }
}

/// Decides a session's state from `inputs` and records the transition, if any.
pub fn judge(
    store: &Store,
    cfg: &Config,
    s: &SessionRow,
    i: &Inputs,
    why: &str,
    scan: Option<u64>,
) -> Result<Option<Transition>> {
    let t =
        Thresholds { idle_after_ms: (cfg.idle_after_secs * 1000) as i64, stale_after_ms: cfg.stale_after_ms(&s.agent) };
    let next = liveness::decide(s.state, i, &t);
    if next == s.state && s.live.state_changed_at.is_some() {
        return Ok(None);
    }
    store.transition(s.pk, next, i.now, &reason(s.state, next, i, why), scan)
}

/// Judges a session right after the agent reported something (a hook, an MCP
/// call), from what is stored: no need to wait for the next scan.
pub fn judge_now(store: &Store, cfg: &Config, pk: i64, why: &str) -> Result<Option<Transition>> {
    let Some(s) = store.session_by_pk(pk)? else { return Ok(None) };
    let now = crate::util::now_ms();
    let followed = s.live.pid.is_some() && s.state.is_live();
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
        turn: s.live.turn.as_deref().and_then(Turn::parse),
        reported: s.live.reported_state.as_deref().and_then(Reported::parse),
        heartbeat: s.live.heartbeat_at,
    };
    judge(store, cfg, &s, &inputs, why, None)
}

fn path_str(p: &Option<PathBuf>) -> Option<String> {
    p.as_ref().map(|p| p.display().to_string())
}

/// A short, human reason for a transition.
fn reason(from: SessionState, to: SessionState, i: &Inputs, why: &str) -> String {
    use SessionState::*;
    match to {
        Dead => "process exited mid-turn".into(),
        Completed if i.process == Process::Gone => "process exited at the prompt".into(),
        Completed if i.turn == Some(Turn::Ended) => "session ended".into(),
        Completed if i.reported == Some(Reported::Complete) => "reported complete".into(),
        Completed => "no recent activity".into(),
        Waiting => "turn ended; waiting for the user".into(),
        Stale => "no heartbeat".into(),
        Idle => "no activity".into(),
        Working if from == Idle || from == Waiting => "activity".into(),
        _ => why.to_string(),
    }
}
