//! The session state machine: every state decision is made here, and
//! [`SessionState::is_live`] is the only answer to "is it live?".
//!
//! ```text
//!              prompt sent, tool approved          turn ended / asks permission / asks a question
//!   ┌────────► working ◄────────────────────────────────► waiting (input | permission | question)
//!   │            │  ▲                                         │
//!   │  no activity  │ activity                                 │ process gone while it waits for input
//!   │            ▼  │                                         ▼
//!   │           idle                                      completed ◄── /exit, SessionEnd, "complete"
//!   │
//!   │  heartbeats stop ──► stale
//!   └─ process gone mid-turn, or with a permission prompt or question open ──► dead
//!
//!   A running agent whose turns agentwatch can read and that has not been
//!   sent anything yet sits at its prompt: waiting for input.
//!   pinned: declared by the agent (MCP); no automatic transition leaves it,
//!           only the agent reporting another state.
//! ```
//!
//! Inputs are plain values gathered by the collector (process scan, the
//! agent's registry, the transcript's tail), the hooks and MCP; [`decide`]
//! turns them into a [`Verdict`]: the state, what a waiting agent waits for,
//! and which [`Signal`] decided it.

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

/// The earliest time an agent's transcript line can honestly carry:
/// 2020-01-01 UTC, before any of these agents existed. A line stamped
/// earlier (a zeroed clock: 1970) says nothing of when its session ran.
pub const EARLIEST_MS: i64 = 1_577_836_800_000;

/// Whether a transcript time may set a session's start or last activity: not
/// before [`EARLIEST_MS`], not implausibly far ahead of `now`. A line outside
/// still counts its usage (on its own date, as ccusage does); it only cannot
/// stretch the session's span or keep it alive.
pub fn in_span(at: i64, now: i64) -> bool {
    at >= EARLIEST_MS && plausible(at, now).is_some()
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

/// What an agent that waits for the person waits for, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitingFor {
    /// It asks permission to run a tool.
    Permission,
    /// It asked the person a question (Claude's question tool, a choice).
    Question,
    /// Its turn is over, or nothing was asked yet: it waits for a prompt.
    Input,
}

impl WaitingFor {
    pub const ALL: [WaitingFor; 3] = [WaitingFor::Permission, WaitingFor::Question, WaitingFor::Input];

    pub fn as_str(self) -> &'static str {
        match self {
            WaitingFor::Permission => "permission",
            WaitingFor::Question => "question",
            WaitingFor::Input => "input",
        }
    }

    pub fn parse(s: &str) -> Option<WaitingFor> {
        WaitingFor::ALL.into_iter().find(|w| w.as_str() == s)
    }

    /// Whether the person should hear of it at once (not after the waiting delay).
    pub fn is_urgent(self) -> bool {
        self != WaitingFor::Input
    }
}

/// Where the agent is in its conversation, from its registry, the
/// transcript's last lines, or hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Mid-turn: a prompt was sent, or an approved tool runs.
    Working,
    /// The agent waits for the person.
    Waiting(WaitingFor),
    /// The user ended the session (`/exit`, SessionEnd).
    Ended,
}

impl Turn {
    /// The turn ended: waiting for the next prompt.
    pub const IDLE: Turn = Turn::Waiting(WaitingFor::Input);

    /// As stored: `working`, `waiting` (for input), `permission`, `question`, `ended`.
    pub fn as_str(self) -> &'static str {
        match self {
            Turn::Working => "working",
            Turn::Waiting(WaitingFor::Input) => "waiting",
            Turn::Waiting(w) => w.as_str(),
            Turn::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Turn> {
        match s {
            "working" => Some(Turn::Working),
            "waiting" | "input" => Some(Turn::IDLE),
            "ended" => Some(Turn::Ended),
            other => WaitingFor::parse(other).map(Turn::Waiting),
        }
    }

    pub fn waiting_for(self) -> Option<WaitingFor> {
        match self {
            Turn::Waiting(w) => Some(w),
            _ => None,
        }
    }
}

/// Which signal told agentwatch what it shows, so a person can tell an
/// observed state from an inferred one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    /// The agent's own live-state file (Claude Code's `sessions/<pid>.json`).
    Registry,
    /// A hook or plugin the agent ran.
    Hook,
    /// The agent's transcript.
    Transcript,
    /// The process table: started, gone, CPU (inferred).
    Process,
    /// The agent reported it over MCP.
    Mcp,
    /// The agent's OpenTelemetry.
    Otel,
}

impl Signal {
    pub const ALL: [Signal; 6] =
        [Signal::Registry, Signal::Hook, Signal::Transcript, Signal::Process, Signal::Mcp, Signal::Otel];

    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Registry => "registry",
            Signal::Hook => "hook",
            Signal::Transcript => "transcript",
            Signal::Process => "process",
            Signal::Mcp => "mcp",
            Signal::Otel => "otel",
        }
    }

    pub fn parse(s: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Among signals that speak of the same moment, the first-party ones
    /// win: the agent's registry, then its hooks, then the transcript.
    pub fn rank(self) -> u8 {
        match self {
            Signal::Registry => 5,
            Signal::Hook => 4,
            Signal::Otel => 3,
            Signal::Mcp => 2,
            Signal::Transcript => 1,
            Signal::Process => 0,
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
    /// The newest sign of activity: transcript growth, usage, tool call,
    /// hooks. Never the process starting or the agent's bookkeeping files.
    pub activity: Option<i64>,
    /// Where the conversation stands, and which signal said so.
    pub turn: Option<(Turn, Signal)>,
    /// Whether this agent's turns can be read at all (it has a source or
    /// sends hooks): then a running agent with no turn known yet sits at its
    /// prompt. Otherwise CPU and activity are all there is.
    pub turns_readable: bool,
    /// What the agent declared (MCP, hooks), and who carried it.
    pub reported: Option<(Reported, Signal)>,
    /// The last heartbeat, for sessions that send them.
    pub heartbeat: Option<i64>,
}

impl Inputs {
    /// Inputs with nothing known but the time and the process.
    pub fn new(now: i64, process: Process) -> Inputs {
        Inputs { now, process, activity: None, turn: None, turns_readable: false, reported: None, heartbeat: None }
    }
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

/// What [`decide`] concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub state: SessionState,
    /// What a waiting session waits for; `None` in every other state.
    pub waiting_for: Option<WaitingFor>,
    /// The signal that decided it.
    pub signal: Signal,
}

impl Verdict {
    fn new(state: SessionState, signal: Signal) -> Verdict {
        Verdict { state, waiting_for: None, signal }
    }

    fn waiting(w: WaitingFor, signal: Signal) -> Verdict {
        Verdict { state: SessionState::Waiting, waiting_for: Some(w), signal }
    }
}

/// The state a session should be in now, given its current state.
pub fn decide(current: SessionState, i: &Inputs, t: &Thresholds) -> Verdict {
    use SessionState::*;
    let reported = |r: Reported| i.reported.filter(|(x, _)| *x == r).map(|(_, s)| s);
    if let Some(by) = reported(Reported::Pinned) {
        return Verdict::new(Pinned, by);
    }
    if let Some(by) = reported(Reported::Complete) {
        return Verdict::new(Completed, by);
    }
    if let Some((Turn::Ended, by)) = i.turn {
        return Verdict::new(Completed, by);
    }
    let recent = |window: i64| i.activity.and_then(|a| plausible(a, i.now)).is_some_and(|a| i.now - a < window);
    // What the session waits for, if it waits: the turn says, or the agent
    // reported itself blocked (on the person: input).
    let waiting: Option<(WaitingFor, Signal)> = match i.turn {
        Some((Turn::Waiting(w), by)) => Some((w, by)),
        _ => reported(Reported::Blocked).map(|by| (WaitingFor::Input, by)),
    };
    // A session waiting for the user is not expected to send heartbeats.
    let silent = waiting.is_none() && i.heartbeat.is_some_and(|h| i.now - h > t.stale_after_ms);
    let heuristic = |busy: bool| {
        if busy || recent(t.idle_after_ms) {
            Verdict::new(Working, Signal::Process)
        } else {
            Verdict::new(Idle, Signal::Process)
        }
    };
    match i.process {
        Process::Gone => {
            if current.is_ended() {
                return Verdict::new(current, Signal::Process);
            }
            // Gone while it waited at its prompt (or before anything was
            // sent): the person quit. Gone mid-turn, or with a permission
            // prompt or a question open: it died.
            let at_prompt = match waiting {
                Some((w, _)) => w == WaitingFor::Input,
                None => i.turn.is_none() && i.turns_readable && current != Working && current != Idle,
            };
            Verdict::new(if at_prompt { Completed } else { Dead }, Signal::Process)
        }
        Process::Alive { busy } => {
            if silent {
                return Verdict::new(Stale, Signal::Process);
            }
            match (waiting, i.turn) {
                (Some((w, by)), _) => Verdict::waiting(w, by),
                (None, Some((Turn::Working, by))) => {
                    if busy || recent(t.idle_after_ms) {
                        Verdict::new(Working, by)
                    } else {
                        Verdict::new(Idle, Signal::Process)
                    }
                }
                // Started, nothing sent yet: it sits at its prompt.
                (None, _) if i.turns_readable => Verdict::waiting(WaitingFor::Input, Signal::Process),
                (None, _) => heuristic(busy),
            }
        }
        Process::None => {
            // Self-reporting sessions (MCP, hooks) without a process.
            // (An explicit end was handled above: a closed session keeps its
            // reported `complete`; new reports revive an ended one.)
            if i.heartbeat.is_some() {
                return if silent {
                    Verdict::new(Stale, Signal::Process)
                } else if let Some((w, by)) = waiting {
                    Verdict::waiting(w, by)
                } else if recent(t.idle_after_ms) {
                    let by = i.turn.map(|(_, s)| s).or(i.reported.map(|(_, s)| s)).unwrap_or(Signal::Process);
                    Verdict::new(Working, by)
                } else {
                    Verdict::new(Idle, Signal::Process)
                };
            }
            // Transcript-only: recent activity or nothing.
            if current == Dead {
                Verdict::new(Dead, Signal::Process)
            } else if recent(RECENT_MS) {
                match waiting {
                    Some((w, by)) => Verdict::waiting(w, by),
                    None => Verdict::new(Working, i.turn.map_or(Signal::Transcript, |(_, s)| s)),
                }
            } else {
                Verdict::new(Completed, Signal::Transcript)
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
        Inputs::new(NOW, process)
    }

    fn t() -> Thresholds {
        Thresholds { idle_after_ms: 60_000, stale_after_ms: 900_000 }
    }

    fn state(current: SessionState, i: &Inputs) -> SessionState {
        decide(current, i, &t()).state
    }

    const WAIT: Turn = Turn::IDLE;
    const PERMISSION: Turn = Turn::Waiting(WaitingFor::Permission);

    #[test]
    fn an_agent_whose_turns_are_unknown_works_while_active_and_idles_after() {
        let mut i = inputs(Process::Alive { busy: false });
        i.activity = Some(NOW - 10_000);
        assert_eq!(state(Idle, &i), Working);
        i.activity = Some(NOW - 61_000);
        assert_eq!(state(Working, &i), Idle);
        // CPU alone is activity.
        i.process = Process::Alive { busy: true };
        let v = decide(Idle, &i, &t());
        assert_eq!((v.state, v.signal), (Working, Signal::Process));
    }

    #[test]
    fn a_fresh_agent_at_its_prompt_waits_for_input_however_busy_it_starts() {
        let mut i = inputs(Process::Alive { busy: true });
        i.turns_readable = true;
        i.activity = Some(NOW);
        let v = decide(Idle, &i, &t());
        assert_eq!((v.state, v.waiting_for, v.signal), (Waiting, Some(WaitingFor::Input), Signal::Process));
        // The registry says so too: observed, not inferred.
        i.turn = Some((WAIT, Signal::Registry));
        assert_eq!(decide(Waiting, &i, &t()).signal, Signal::Registry);
        // A prompt: working, and CPU no longer matters for the turn.
        i.turn = Some((Turn::Working, Signal::Registry));
        assert_eq!(state(Waiting, &i), Working);
        i.process = Process::Alive { busy: false };
        i.activity = Some(NOW - 61_000);
        assert_eq!(state(Working, &i), Idle, "mid-turn, silent for a while");
    }

    #[test]
    fn a_waiting_agent_says_what_it_waits_for() {
        let mut i = inputs(Process::Alive { busy: true });
        for w in WaitingFor::ALL {
            i.turn = Some((Turn::Waiting(w), Signal::Hook));
            let v = decide(Working, &i, &t());
            assert_eq!((v.state, v.waiting_for, v.signal), (Waiting, Some(w), Signal::Hook));
        }
        i.turn = None;
        i.reported = Some((Reported::Blocked, Signal::Mcp));
        let v = decide(Working, &i, &t());
        assert_eq!((v.state, v.waiting_for, v.signal), (Waiting, Some(WaitingFor::Input), Signal::Mcp));
        i.reported = None;
        i.turn = Some((Turn::Working, Signal::Transcript));
        assert_eq!(decide(Waiting, &i, &t()).waiting_for, None);
    }

    #[test]
    fn a_vanished_process_is_dead_mid_turn_or_mid_question_and_completed_at_the_prompt() {
        let mut i = inputs(Process::Gone);
        assert_eq!(state(Working, &i), Dead);
        assert_eq!(state(Idle, &i), Dead, "no sign it finished");
        i.turn = Some((Turn::Working, Signal::Transcript));
        assert_eq!(state(Working, &i), Dead);
        i.turn = Some((PERMISSION, Signal::Registry));
        assert_eq!(state(Waiting, &i), Dead, "killed while a permission prompt was open");
        i.turn = Some((Turn::Waiting(WaitingFor::Question), Signal::Hook));
        assert_eq!(state(Waiting, &i), Dead);
        i.turn = Some((WAIT, Signal::Transcript));
        assert_eq!(state(Waiting, &i), Completed);
        i.turn = Some((Turn::Ended, Signal::Transcript));
        assert_eq!(state(Working, &i), Completed);
        // Nothing was ever sent to an agent whose turns are readable: it sat at its prompt.
        let mut fresh = inputs(Process::Gone);
        fresh.turns_readable = true;
        assert_eq!(state(Waiting, &fresh), Completed);
        // Once ended, it stays ended.
        assert_eq!(state(Dead, &inputs(Process::Gone)), Dead);
        assert_eq!(state(Completed, &i), Completed);
    }

    #[test]
    fn missing_heartbeats_make_a_session_stale() {
        let mut i = inputs(Process::Alive { busy: true });
        i.heartbeat = Some(NOW - 901_000);
        assert_eq!(state(Working, &i), Stale);
        i.heartbeat = Some(NOW - 5_000);
        assert_eq!(state(Stale, &i), Working);
        // Without a process too (an MCP client that went silent).
        let mut j = inputs(Process::None);
        j.heartbeat = Some(NOW - 1_000_000);
        assert_eq!(state(Working, &j), Stale);
        j.heartbeat = Some(NOW - 1000);
        j.activity = Some(NOW - 1000);
        assert_eq!(state(Stale, &j), Working);
        j.reported = Some((Reported::Complete, Signal::Mcp));
        let v = decide(Working, &j, &t());
        assert_eq!((v.state, v.signal), (Completed, Signal::Mcp));
        assert_eq!(state(Completed, &j), Completed, "a closed MCP session stays closed");
        // A session that ended by default (history) comes back with new reports.
        j.reported = None;
        j.turn = Some((WAIT, Signal::Hook));
        assert_eq!(state(Completed, &j), Waiting);
    }

    #[test]
    fn a_session_waiting_for_the_user_does_not_go_stale() {
        let mut i = inputs(Process::None);
        i.heartbeat = Some(NOW - 2_000_000);
        i.turn = Some((WAIT, Signal::Hook));
        assert_eq!(state(Waiting, &i), Waiting);
        i.turn = None;
        i.reported = Some((Reported::Blocked, Signal::Mcp));
        assert_eq!(state(Waiting, &i), Waiting);
        i.reported = Some((Reported::Working, Signal::Mcp));
        assert_eq!(state(Waiting, &i), Stale);
    }

    #[test]
    fn transcript_only_sessions_follow_recent_activity() {
        let mut i = inputs(Process::None);
        i.activity = Some(NOW - 60_000);
        assert_eq!(state(Completed, &i), Working);
        i.turn = Some((WAIT, Signal::Transcript));
        assert_eq!(state(Working, &i), Waiting);
        i.activity = Some(NOW - RECENT_MS - 1);
        assert_eq!(state(Waiting, &i), Completed);
    }

    #[test]
    fn pinned_sessions_stay_pinned() {
        let mut i = inputs(Process::Alive { busy: true });
        i.reported = Some((Reported::Pinned, Signal::Mcp));
        assert_eq!(state(Working, &i), Pinned);
        i.process = Process::Gone;
        assert_eq!(state(Pinned, &i), Pinned, "not even a gone process unpins");
        // Only the agent unpins, by reporting another state.
        i.process = Process::None;
        i.heartbeat = Some(NOW);
        i.activity = Some(NOW);
        i.reported = Some((Reported::Working, Signal::Mcp));
        assert_eq!(state(Pinned, &i), Working);
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
        assert_eq!(state(Working, &i), Completed);
        i.process = Process::Alive { busy: false };
        assert_eq!(state(Working, &i), Idle);
        // Clocks a little apart still count.
        i.activity = Some(NOW + 60_000);
        assert_eq!(state(Idle, &i), Working);
        assert_eq!(effective_state(Completed, NOW + 60_000, false, NOW), Working);
    }

    #[test]
    fn names_round_trip() {
        for t in [Turn::Working, Turn::IDLE, PERMISSION, Turn::Waiting(WaitingFor::Question), Turn::Ended] {
            assert_eq!(Turn::parse(t.as_str()), Some(t));
        }
        assert_eq!(Turn::IDLE.as_str(), "waiting", "stored turns of older versions still read");
        for r in [Reported::Working, Reported::Blocked, Reported::Complete, Reported::Pinned] {
            assert_eq!(Reported::parse(r.as_str()), Some(r));
        }
        for s in Signal::ALL {
            assert_eq!(Signal::parse(s.as_str()), Some(s));
        }
        for w in WaitingFor::ALL {
            assert_eq!(WaitingFor::parse(w.as_str()), Some(w));
        }
        assert!(WaitingFor::Permission < WaitingFor::Question && WaitingFor::Question < WaitingFor::Input);
    }
}
