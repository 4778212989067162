//! The session state machine: every state decision is made here.
//!
//! ```text
//!             activity / CPU            turn ended, or "blocked"
//!   ┌────────► working ◄─────────────────────► waiting ────┐
//!   │            │  ▲                                       │
//!   │  no activity  │ activity                               │
//!   │            ▼  │                                       │ process gone
//!   │           idle ──────────── process gone ──────────► completed
//!   │                                                       ▲
//!   │  heartbeats stop ──► stale        "complete", /exit, SessionEnd
//!   │                        │
//!   └─ (any live state) ─────┴── process gone mid-turn ───► dead
//!
//!   pinned: declared by the agent (MCP); no automatic transition leaves it,
//!           only the agent reporting another state.
//! ```
//!
//! Inputs are plain values gathered by the collector (process scan,
//! transcript tail), the hooks and MCP; [`decide`] turns them into a state.

use crate::model::SessionState;

/// Without any live signal, activity this recent counts as working.
pub const RECENT_MS: i64 = 5 * 60 * 1000;

/// Activity stamped further ahead of the clock than this is no sign of life:
/// a transcript line from the future (a skewed clock, a bad line) must not
/// keep a session working forever. Within it, clocks merely disagree.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// `at`, unless it lies implausibly far in the future of `now`.
pub fn plausible(at: i64, now: i64) -> Option<i64> {
    (at <= now.saturating_add(MAX_CLOCK_SKEW_MS)).then_some(at)
}

/// What the agent's process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// Running; `busy` when its process tree used CPU in the last scan.
    Alive { busy: bool },
    /// It was running and is gone.
    Gone,
    /// No process was ever linked (transcript-only, MCP or hook sessions).
    None,
}

/// Where the agent is in its conversation, from the transcript's last lines
/// or from hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Mid-turn: a prompt was sent, or a tool call is pending.
    Working,
    /// The turn ended; the agent waits for the user.
    Waiting,
    /// The user ended the session (`/exit`, SessionEnd).
    Ended,
}

impl Turn {
    pub fn as_str(self) -> &'static str {
        match self {
            Turn::Working => "working",
            Turn::Waiting => "waiting",
            Turn::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Turn> {
        match s {
            "working" => Some(Turn::Working),
            "waiting" => Some(Turn::Waiting),
            "ended" => Some(Turn::Ended),
            _ => None,
        }
    }
}

/// A state an agent declares itself (CacheBash-style MCP states, hooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    Working,
    /// Waiting on the user or another agent.
    Blocked,
    Complete,
    Pinned,
}

impl Reported {
    pub fn as_str(self) -> &'static str {
        match self {
            Reported::Working => "working",
            Reported::Blocked => "blocked",
            Reported::Complete => "complete",
            Reported::Pinned => "pinned",
        }
    }

    pub fn parse(s: &str) -> Option<Reported> {
        match s {
            "working" => Some(Reported::Working),
            "blocked" => Some(Reported::Blocked),
            "complete" | "completed" => Some(Reported::Complete),
            "pinned" => Some(Reported::Pinned),
            _ => None,
        }
    }
}

/// Everything known about a session at one moment. Times are ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inputs {
    pub now: i64,
    pub process: Process,
    /// The newest sign of activity: transcript growth, usage, tool call.
    pub activity: Option<i64>,
    pub turn: Option<Turn>,
    pub reported: Option<Reported>,
    /// The last heartbeat, for sessions that send them.
    pub heartbeat: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Alive without activity this long: idle.
    pub idle_after_ms: i64,
    /// No heartbeat this long: stale.
    pub stale_after_ms: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { idle_after_ms: 300_000, stale_after_ms: 900_000 }
    }
}

/// The state a session should be in now, given its current state.
pub fn decide(current: SessionState, i: &Inputs, t: &Thresholds) -> SessionState {
    use SessionState::*;
    if i.reported == Some(Reported::Pinned) {
        return Pinned;
    }
    if i.reported == Some(Reported::Complete) || i.turn == Some(Turn::Ended) {
        return Completed;
    }
    let recent = |window: i64| i.activity.and_then(|a| plausible(a, i.now)).is_some_and(|a| i.now - a < window);
    let waiting = i.reported == Some(Reported::Blocked) || i.turn == Some(Turn::Waiting);
    // A session waiting for the user is not expected to send heartbeats.
    let silent = !waiting && i.heartbeat.is_some_and(|h| i.now - h > t.stale_after_ms);
    match i.process {
        Process::Gone => {
            if current.is_ended() {
                current
            } else if i.turn == Some(Turn::Waiting) {
                // It exited at the prompt: the user quit.
                Completed
            } else {
                Dead
            }
        }
        Process::Alive { busy } => {
            if silent {
                Stale
            } else if waiting {
                Waiting
            } else if busy || recent(t.idle_after_ms) {
                Working
            } else {
                Idle
            }
        }
        Process::None => {
            // Self-reporting sessions (MCP, hooks) without a process.
            // (An explicit end was handled above: a closed session keeps its
            // reported `complete`; new reports revive an ended one.)
            if i.heartbeat.is_some() {
                return if silent {
                    Stale
                } else if waiting {
                    Waiting
                } else if recent(t.idle_after_ms) {
                    Working
                } else {
                    Idle
                };
            }
            // Transcript-only: recent activity or nothing.
            if current == Dead {
                Dead
            } else if recent(RECENT_MS) {
                if i.turn == Some(Turn::Waiting) { Waiting } else { Working }
            } else {
                Completed
            }
        }
    }
}

/// The state to show for a stored session the collector has never judged
/// (no collector ran since it appeared): recent transcript activity counts
/// as working.
pub fn effective_state(stored: SessionState, last_activity: i64, judged: bool, now: i64) -> SessionState {
    if !judged
        && stored == SessionState::Completed
        && plausible(last_activity, now).is_some_and(|a| now - a < RECENT_MS)
    {
        SessionState::Working
    } else {
        stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionState::*;

    const NOW: i64 = 10_000_000_000;

    fn inputs(process: Process) -> Inputs {
        Inputs { now: NOW, process, activity: None, turn: None, reported: None, heartbeat: None }
    }

    fn t() -> Thresholds {
        Thresholds { idle_after_ms: 60_000, stale_after_ms: 900_000 }
    }

    #[test]
    fn a_running_agent_works_while_active_and_idles_after() {
        let mut i = inputs(Process::Alive { busy: false });
        i.activity = Some(NOW - 10_000);
        assert_eq!(decide(Idle, &i, &t()), Working);
        i.activity = Some(NOW - 61_000);
        assert_eq!(decide(Working, &i, &t()), Idle);
        // CPU alone is activity.
        i.process = Process::Alive { busy: true };
        assert_eq!(decide(Idle, &i, &t()), Working);
    }

    #[test]
    fn an_ended_turn_means_waiting_for_the_user() {
        let mut i = inputs(Process::Alive { busy: true });
        i.turn = Some(Turn::Waiting);
        assert_eq!(decide(Working, &i, &t()), Waiting);
        i.turn = None;
        i.reported = Some(Reported::Blocked);
        assert_eq!(decide(Working, &i, &t()), Waiting);
    }

    #[test]
    fn a_vanished_process_is_dead_mid_turn_and_completed_at_the_prompt() {
        let mut i = inputs(Process::Gone);
        assert_eq!(decide(Working, &i, &t()), Dead);
        assert_eq!(decide(Idle, &i, &t()), Dead, "no sign it finished");
        i.turn = Some(Turn::Waiting);
        assert_eq!(decide(Waiting, &i, &t()), Completed);
        i.turn = Some(Turn::Ended);
        assert_eq!(decide(Working, &i, &t()), Completed);
        // Once ended, it stays ended.
        assert_eq!(decide(Dead, &inputs(Process::Gone), &t()), Dead);
    }

    #[test]
    fn missing_heartbeats_make_a_session_stale() {
        let mut i = inputs(Process::Alive { busy: true });
        i.heartbeat = Some(NOW - 901_000);
        assert_eq!(decide(Working, &i, &t()), Stale);
        i.heartbeat = Some(NOW - 5_000);
        assert_eq!(decide(Stale, &i, &t()), Working);
        // Without a process too (an MCP client that went silent).
        let mut j = inputs(Process::None);
        j.heartbeat = Some(NOW - 1_000_000);
        assert_eq!(decide(Working, &j, &t()), Stale);
        j.heartbeat = Some(NOW - 1000);
        j.activity = Some(NOW - 1000);
        assert_eq!(decide(Stale, &j, &t()), Working);
        j.reported = Some(Reported::Complete);
        assert_eq!(decide(Working, &j, &t()), Completed);
        assert_eq!(decide(Completed, &j, &t()), Completed, "a closed MCP session stays closed");
        // A session that ended by default (history) comes back with new reports.
        j.reported = None;
        j.turn = Some(Turn::Waiting);
        assert_eq!(decide(Completed, &j, &t()), Waiting);
    }

    #[test]
    fn a_session_waiting_for_the_user_does_not_go_stale() {
        let mut i = inputs(Process::None);
        i.heartbeat = Some(NOW - 2_000_000);
        i.turn = Some(Turn::Waiting);
        assert_eq!(decide(Waiting, &i, &t()), Waiting);
        i.turn = None;
        i.reported = Some(Reported::Blocked);
        assert_eq!(decide(Waiting, &i, &t()), Waiting);
        i.reported = Some(Reported::Working);
        assert_eq!(decide(Waiting, &i, &t()), Stale);
    }

    #[test]
    fn transcript_only_sessions_follow_recent_activity() {
        let mut i = inputs(Process::None);
        i.activity = Some(NOW - 60_000);
        assert_eq!(decide(Completed, &i, &t()), Working);
        i.turn = Some(Turn::Waiting);
        assert_eq!(decide(Working, &i, &t()), Waiting);
        i.activity = Some(NOW - RECENT_MS - 1);
        assert_eq!(decide(Waiting, &i, &t()), Completed);
    }

    #[test]
    fn pinned_sessions_stay_pinned() {
        let mut i = inputs(Process::Alive { busy: true });
        i.reported = Some(Reported::Pinned);
        assert_eq!(decide(Working, &i, &t()), Pinned);
        i.process = Process::Gone;
        assert_eq!(decide(Pinned, &i, &t()), Pinned, "not even a gone process unpins");
        // Only the agent unpins, by reporting another state.
        i.process = Process::None;
        i.heartbeat = Some(NOW);
        i.activity = Some(NOW);
        i.reported = Some(Reported::Working);
        assert_eq!(decide(Pinned, &i, &t()), Working);
    }

    #[test]
    fn unjudged_sessions_fall_back_to_recent_activity() {
        assert_eq!(effective_state(Completed, NOW - 1000, false, NOW), Working);
        assert_eq!(effective_state(Completed, NOW - 1000, true, NOW), Completed);
        assert_eq!(effective_state(Completed, NOW - RECENT_MS, false, NOW), Completed);
        assert_eq!(effective_state(Dead, NOW, false, NOW), Dead);
    }

    #[test]
    fn activity_from_the_future_is_no_sign_of_life() {
        // A transcript line stamped 2100: the session is not working forever.
        let year_2100 = 4_102_444_800_000;
        assert_eq!(effective_state(Completed, year_2100, false, NOW), Completed);
        let mut i = inputs(Process::None);
        i.activity = Some(year_2100);
        assert_eq!(decide(Working, &i, &t()), Completed);
        i.process = Process::Alive { busy: false };
        assert_eq!(decide(Working, &i, &t()), Idle);
        // Clocks a little apart still count.
        i.activity = Some(NOW + 60_000);
        assert_eq!(decide(Idle, &i, &t()), Working);
        assert_eq!(effective_state(Completed, NOW + 60_000, false, NOW), Working);
    }

    #[test]
    fn names_round_trip() {
        for t in [Turn::Working, Turn::Waiting, Turn::Ended] {
            assert_eq!(Turn::parse(t.as_str()), Some(t));
        }
        for r in [Reported::Working, Reported::Blocked, Reported::Complete, Reported::Pinned] {
            assert_eq!(Reported::parse(r.as_str()), Some(r));
        }
    }
}
