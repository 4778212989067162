//! Acting on sessions: stopping an agent, reading its transcript's tail.
//! Shared by the CLI and the desktop app.

use std::time::{Duration, Instant};

use crate::collector::detect::detect;
use crate::collector::process::{Ownership, ProcKey, Scanner};
use crate::collector::signatures::Signatures;
use crate::error::{Error, Result};
use crate::model::{SessionState, agent_display_name};
use crate::sources::{Source, TranscriptLine};
use crate::store::{SessionRow, Store};

/// Why a session's process may not be killed, or that it may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Killable {
    Yes {
        pid: u32,
        key: ProcKey,
    },
    /// No process is linked, or the session has ended.
    NoProcess(String),
    /// The process exited already.
    Gone(String),
    /// The pid now belongs to another process (same pid, other start time).
    Reused(String),
    /// The process belongs to another user.
    NotOurs(String),
}

/// "Claude Code in web-app".
pub fn describe(s: &SessionRow) -> String {
    let project =
        s.project_path.as_deref().map(|p| p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)).unwrap_or("—");
    format!("{} in {project}", agent_display_name(&s.agent))
}

/// Checks that a session's process is still the one it was, and ours.
pub fn check(scanner: &mut Scanner, s: &SessionRow) -> Killable {
    let what = describe(s);
    let (Some(pid), Some(start)) = (s.live.pid, s.live.proc_start) else {
        return Killable::NoProcess(format!("{what} has no running process to kill"));
    };
    if !s.state.is_live() {
        return Killable::NoProcess(format!("{what} is {}; its process is not running", s.state));
    }
    let key = ProcKey { pid, start };
    match scanner.check(key) {
        Ownership::Ours => Killable::Yes { pid, key },
        Ownership::Gone => Killable::Gone(format!("process {pid} of {what} has already exited")),
        Ownership::Reused => Killable::Reused(format!(
            "refusing: pid {pid} now belongs to a different process than {what} (it started at another time)"
        )),
        Ownership::NotOurs => Killable::NotOurs(format!("refusing: process {pid} belongs to another user")),
    }
}

/// How a kill went.
#[derive(Debug, Clone, PartialEq)]
pub struct Killed {
    pub pid: u32,
    /// "SIGTERM", or [`FORCED`] ("SIGKILL", "TerminateProcess").
    pub signal: &'static str,
    pub after: Duration,
    pub message: String,
}

/// How a process is stopped when it will not stop by itself: `SIGKILL` on
/// Unix, `TerminateProcess` on Windows (both through sysinfo).
pub const FORCED: &str = if cfg!(windows) { "TerminateProcess" } else { "SIGKILL" };

/// Stops a session's agent: SIGTERM to its own processes (a wrapper and its
/// binary), then [`FORCED`] after `grace` (at once on Windows). The owner
/// and start-time checks come first on every platform. Records the session
/// as dead, killed by the user (which raises no alert).
pub fn kill(store: &Store, s: &SessionRow, grace: Duration) -> Result<Killed> {
    let mut scanner = Scanner::new()?;
    let (pid, key) = match check(&mut scanner, s) {
        Killable::Yes { pid, key } => (pid, key),
        Killable::NoProcess(m) | Killable::Gone(m) | Killable::Reused(m) | Killable::NotOurs(m) => {
            return Err(Error::Other(m));
        }
    };
    let procs = scanner.scan();
    let members = detect(&procs, &Signatures::builtin())
        .into_iter()
        .find(|g| g.root == key)
        .map_or_else(|| vec![pid], |g| g.members);
    let started = Instant::now();
    // Windows has no SIGTERM a console program could handle (sysinfo
    // refuses it there): no grace period then, TerminateProcess at once.
    let mut asked = false;
    for m in members.iter().rev() {
        asked |= scanner.signal(*m, sysinfo::Signal::Term);
    }
    let mut signal = "SIGTERM";
    while scanner.check(key) == Ownership::Ours {
        if !asked || started.elapsed() >= grace {
            for m in &members {
                scanner.signal(*m, sysinfo::Signal::Kill);
            }
            signal = FORCED;
            std::thread::sleep(Duration::from_millis(200));
            if scanner.check(key) == Ownership::Ours {
                return Err(Error::Other(format!("process {pid} did not stop, even after {FORCED}")));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = started.elapsed();
    store.transition(s.pk, SessionState::Dead, crate::util::now_ms(), "killed by the user", None)?;
    store.set_process_metrics(s.pk, None, None, None)?;
    let message = format!("Stopped {} (pid {pid}) with {signal} after {:.1} s.", describe(s), after.as_secs_f64());
    Ok(Killed { pid, signal, after, message })
}

/// The last lines of a session's transcript, for display. Empty when the
/// session has no transcript agentwatch can read.
pub fn transcript_tail(sources: &[Box<dyn Source>], s: &SessionRow, max: usize) -> Vec<TranscriptLine> {
    let Some(path) = s.transcript_path.as_deref() else { return Vec::new() };
    match sources.iter().find(|src| src.agent() == s.agent) {
        Some(src) => src.tail(std::path::Path::new(path), max),
        None => Vec::new(),
    }
}
