//! The bodies of the fuzz targets, one public function per target, so that
//! the targets in `fuzz_targets/` stay one line each and the corpora can be
//! replayed without libFuzzer (see `fuzz/README.md`).
//!
//! Each function takes any bytes and either returns or panics; a panic is a
//! bug. Besides "no panic", each checks properties that are cheap to check:
//! - transcript parsers: a malformed line yields nothing; token counts stay
//!   within what a real call can have, so sums never overflow or go
//!   negative in the store (an `i64`); costs are finite and not negative; a
//!   session is announced once; the Codex, Gemini CLI and Qwen Code parsers resumed
//!   from their saved state after every line give exactly what one
//!   uninterrupted run gives; a document (Droid's settings, an Amp thread)
//!   gives the same records each time it is read;
//! - hook payloads: a payload is either recorded (and its session can be
//!   found) or refused with a usage error, never a database error;
//! - MCP proxy framing: the relay copies any byte stream exactly, whatever
//!   the read and write sizes, and shows each line once; the inspector never
//!   fails and counts exactly the tool calls it was shown;
//! - REST query parameters: a query is either a filter that the store runs
//!   without error and that respects its limit, or a 400.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};
use std::path::Path;

use agentwatch_core::Error;
use agentwatch_core::api::{cost_params, session_filter};
use agentwatch_core::config::Config;
use agentwatch_core::model::{SessionState, Tokens};
use agentwatch_core::paths::Dirs;
use agentwatch_core::reports::Range;
use agentwatch_core::sources::claude::parser::ClaudeParser;
use agentwatch_core::sources::codex::parser::CodexParser;
use agentwatch_core::sources::gemini::parser::GeminiParser;
use agentwatch_core::sources::qwen::parser::QwenParser;
use agentwatch_core::sources::{LineParser, MAX_TOKENS, Record};
use agentwatch_core::store::{Registration, Store, count_sessions, find_session, list_sessions};
use agentwatch_core::views::SessionView;
use serde_json::Value;

/// Splits fuzz input into transcript lines, as the reader hands them to a
/// parser: on `\n`, without it.
fn lines(data: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut offset = 0u64;
    data.split(|&b| b == b'\n').map(move |l| {
        let at = offset;
        offset += l.len() as u64 + 1;
        (at, l)
    })
}

/// What every record from any transcript parser must satisfy.
fn check_record(r: &Record, announced: &mut HashSet<String>) {
    match r {
        Record::Session(s) => {
            assert!(!s.external_id.is_empty(), "a session without an id");
            assert!(announced.insert(s.external_id.clone()), "session {} announced twice", s.external_id);
        }
        Record::Usage(u) => {
            assert!(!u.session_external_id.is_empty(), "usage without a session");
            assert!(!u.model.is_empty(), "usage without a model");
            assert!(u.key.id >= 0, "an event key must be a valid rowid");
            check_tokens(&u.tokens);
            if let Some(c) = u.cost_usd {
                assert!(c.is_finite() && c >= 0.0, "cost {c}");
            }
        }
        Record::Limit(l) => {
            // Whatever a rollout says, the check decides without panicking,
            // and what it passes is a real percentage of a real window.
            if l.check().is_ok() {
                assert!((0.0..=100.0).contains(&l.used_percent), "{l:?}");
                assert!(l.window_minutes > 0, "{l:?}");
                assert!(l.resets_at.is_none_or(|r| r >= l.observed_at - 5 * 60_000), "{l:?}");
            }
        }
    }
}

/// Each count is one a real call can have, so that any sum the store makes
/// of a million of them still fits its signed 64-bit columns.
fn check_tokens(t: &Tokens) {
    let fields = [t.input, t.output, t.cache_write_5m, t.cache_write_1h, t.cache_read, t.reasoning];
    for v in fields {
        assert!(v <= MAX_TOKENS, "token count {v} over {MAX_TOKENS}: {t:?}");
    }
    let sum = fields.iter().try_fold(0u64, |a, &v| a.checked_add(v)).expect("token sum overflows");
    assert!(i64::try_from(sum).is_ok(), "token sum {sum} does not fit an i64");
    assert!(t.total() <= sum);
}

/// Parses `data` as a Claude Code transcript.
pub fn claude_line(data: &[u8]) {
    let path = Path::new("/home/u/.claude/projects/-home-u-app/7d1c6a1e-3f7a-4e55-9b0c-2a4c3f1d9e11.jsonl");
    let mut p = ClaudeParser::new(path);
    let mut out = Vec::new();
    let mut announced = HashSet::new();
    for (offset, line) in lines(data) {
        let before = out.len();
        let r = p.parse(line, offset, &mut out);
        if r.is_err() {
            assert_eq!(out.len(), before, "a malformed line yielded records");
        }
        assert!(out.len() - before <= 2, "one line, one call (and its session)");
        for rec in &out[before..] {
            check_record(rec, &mut announced);
        }
    }
    assert!(p.state().is_none());
}

/// Whether a parser announces a session once per file, or on every line
/// that states it (Codex's `session_meta`, Gemini CLI's header).
#[derive(Clone, Copy, PartialEq)]
enum Announces {
    Once,
    EveryTime,
}

/// Parses `data` with `make(None)` straight through, and line by line with a
/// parser made afresh from the state saved after the line before: both must
/// give the same records, the same state, and agree on which lines are
/// malformed. A malformed line yields nothing; a line yields at most
/// `per_line` records, each checked, and no all-zero usage. Returns the
/// records.
fn straight_and_resumed<P: LineParser>(
    data: &[u8],
    make: impl Fn(Option<&str>) -> P,
    per_line: usize,
    announces: Announces,
) -> Vec<Record> {
    let mut straight = make(None);
    let mut out = Vec::new();
    let mut resumed_out = Vec::new();
    let mut state: Option<String> = None;
    let mut announced = HashSet::new();
    for (offset, line) in lines(data) {
        let before = out.len();
        let r = straight.parse(line, offset, &mut out);
        if r.is_err() {
            assert_eq!(out.len(), before, "a malformed line yielded records");
        }
        assert!(out.len() - before <= per_line, "one line, {per_line} records at most");
        for rec in &out[before..] {
            match (rec, announces) {
                (Record::Session(s), Announces::EveryTime) => assert!(!s.external_id.is_empty()),
                (r, Announces::EveryTime) => check_record(r, &mut HashSet::new()),
                (r, Announces::Once) => check_record(r, &mut announced),
            }
            if let Record::Usage(u) = rec {
                assert!(!u.tokens.is_zero(), "an all-zero usage is not an event");
            }
        }

        let mut resumed = make(state.as_deref());
        let r2 = resumed.parse(line, offset, &mut resumed_out);
        assert_eq!(r.is_ok(), r2.is_ok(), "resuming changed whether a line is malformed");
        state = resumed.state();
        assert_eq!(state, straight.state(), "resuming changed the saved state");
    }
    assert_eq!(out, resumed_out, "resuming from the saved state changed the records");
    out
}

/// Parses `data` as a Codex rollout, straight and resumed
/// ([`straight_and_resumed`]).
pub fn codex_line(data: &[u8]) {
    let path = Path::new("/home/u/.codex/sessions/2026/11/20/rollout-2026-11-20T10-00-00-0199a213.jsonl");
    let out = straight_and_resumed(data, |state| CodexParser::new(path, state), 1, Announces::EveryTime);
    let (sessions, events) = (
        out.iter().filter(|r| matches!(r, Record::Session(_))).count(),
        out.iter().filter(|r| matches!(r, Record::Usage(_))).count(),
    );
    assert!(sessions + events == out.len());
}

/// Parses `data` as a Gemini CLI chat, straight and resumed.
pub fn gemini_line(data: &[u8]) {
    let path = Path::new("/home/u/.gemini/tmp/app/chats/session-2026-12-05T10-00-a1d62ca9.jsonl");
    let make = |state: Option<&str>| GeminiParser::new(path, Some("/home/u/app".to_string()), state);
    straight_and_resumed(data, make, 1, Announces::EveryTime);
}

/// Parses `data` as a Qwen Code chat, straight and resumed; a session is
/// announced once (a line gives a call and, first, its session).
pub fn qwen_line(data: &[u8]) {
    let path = Path::new("/home/u/.qwen/projects/-home-u-lib/chats/0ea65665-1b2c-4d5e-8f90-a1b2c3d4e5f6.jsonl");
    straight_and_resumed(data, |state| QwenParser::new(path, state), 2, Announces::Once);
}

/// A document an agent rewrites in place (the first byte picks whose: 0 a
/// Droid session's settings, 1 an Amp thread, 2 a legacy Gemini CLI chat):
/// parsed whole, it gives valid records or an error, and the same on a
/// second read.
pub fn document(data: &[u8]) {
    let Some((&which, doc)) = data.split_first() else { return };
    let chat = Path::new("/home/u/.gemini/tmp/app/chats/session-2025-09-18T14-03-5b7e2c1a.json");
    let parse = |out: &mut Vec<Record>| match which % 3 {
        0 => agentwatch_core::sources::droid::parser::settings("0b6a3c1e", doc, 1_777_600_000_000, out),
        1 => agentwatch_core::sources::amp::parser::thread(doc, out),
        _ => agentwatch_core::sources::gemini::parser::document(chat, None, doc, out),
    };
    let mut first = Vec::new();
    if parse(&mut first).is_err() {
        return;
    }
    for r in &first {
        check_record(r, &mut HashSet::new());
    }
    let mut second = Vec::new();
    assert!(parse(&mut second).is_ok(), "a document that parsed once parses again");
    assert_eq!(first, second, "the same document says the same");
}

/// A store in a private temporary directory, shared by the runs of one
/// target and started afresh now and then so that it stays small.
struct Scratch {
    dir: tempfile::TempDir,
    /// Always there between runs; taken while the MCP inspector holds it.
    store: Option<Store>,
    runs: u32,
}

impl Scratch {
    fn new() -> Scratch {
        // Memory-backed where the machine has it: the targets write a lot.
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("a temp dir");
        let store = Store::open_in(&Dirs::under(dir.path())).expect("a fresh store opens");
        Scratch { dir, store: Some(store), runs: 0 }
    }

    fn dirs(&self) -> Dirs {
        Dirs::under(self.dir.path())
    }

    fn store(&self) -> &Store {
        self.store.as_ref().expect("the store is back")
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Runs `f` with the shared store, renewing it every few thousand runs.
fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|s| s.runs >= 5_000) {
            *slot = None; // drop the old store before its directory goes
            *slot = Some(Scratch::new());
        }
        let s = slot.as_mut().expect("just made");
        s.runs += 1;
        f(s)
    })
}

/// The first byte picks the agent (0: Claude Code's hook, 1: Codex's hook or
/// `notify`, 2: Gemini CLI's hook, 3: OpenCode's plugin event, by the byte
/// mod 4; the corpus's older inputs, picked by parity, keep their agents
/// where they were 0 or 1); the rest is the payload, read as the CLI reads it.
pub fn hook_payload(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else { return };
    // `agentwatch hook` reads its payload into a String, then parses it.
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(payload) = serde_json::from_str::<Value>(text) else { return };
    with_scratch(|s| {
        let cfg = Config::default();
        let now = agentwatch_core::util::now_ms();
        let text = |k: &str| payload.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
        let env = agentwatch_core::sources::SourceEnv::default();
        if which % 4 >= 2 {
            let agent = if which % 4 == 2 { "gemini-cli" } else { "opencode" };
            match agentwatch_core::hooks::record(s.store(), &cfg, &env, agent, &payload, now) {
                Ok(out) => {
                    let row = find_session(s.store(), &out.session_id).expect("the hook's session is stored");
                    assert_eq!(row.agent, agent);
                }
                Err(e) => assert!(e.is_usage(), "{agent} payload {payload} gave {e}"),
            }
        } else if which % 2 == 0 {
            match agentwatch_core::hooks::record(s.store(), &cfg, &env, "claude-code", &payload, now) {
                Ok(out) => {
                    assert!(text("session_id").is_some() && text("hook_event_name") == Some(out.event.as_str()));
                    let row = find_session(s.store(), &out.session_id).expect("the hook's session is stored");
                    assert_eq!(row.external_id.as_deref(), text("session_id"));
                }
                Err(e) => {
                    assert!(e.is_usage(), "hook payload {payload} gave {e}");
                    assert!(text("session_id").is_none() || text("hook_event_name").is_none());
                }
            }
        } else {
            match agentwatch_core::hooks::record(s.store(), &cfg, &env, "codex", &payload, now) {
                Ok(out) if out.session_id.is_empty() => {} // Codex's title thread: no session
                Ok(out) => {
                    find_session(s.store(), &out.session_id).expect("the notify's session is stored");
                }
                Err(e) => assert!(e.is_usage() || matches!(e, Error::NotFound(_)), "notify payload {payload} gave {e}"),
            }
        }
    });
}

/// A reader that hands out the stream in the sizes the schedule says, and
/// is sometimes interrupted.
struct Chunky<'a> {
    data: &'a [u8],
    sched: &'a [u8],
    i: usize,
    interrupted: bool,
}

impl Read for Chunky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let step = self.sched.get(self.i % self.sched.len().max(1)).copied().unwrap_or(255);
        self.i += 1;
        // Interrupted, but never twice in a row: a reader makes progress.
        if step == 0 && !std::mem::replace(&mut self.interrupted, true) {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        self.interrupted = false;
        let step = step.max(1);
        let n = (step as usize).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A writer that takes fewer bytes than offered, as a pipe may.
struct Short<'a> {
    out: Vec<u8>,
    sched: &'a [u8],
    i: usize,
    flushes: usize,
}

impl Write for Short<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let step = self.sched.get(self.i % self.sched.len().max(1)).copied().unwrap_or(255);
        self.i += 1;
        let n = (step as usize).max(1).min(buf.len());
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        Ok(())
    }
}

/// The messages of a JSON-RPC message or batch.
fn batch(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    }
}

/// The first 8 bytes are the schedule: read sizes, write sizes, and which
/// way each line goes; the rest is the byte stream the proxy relays.
pub fn mcp_framing(data: &[u8]) {
    let (sched, stream) = data.split_at(data.len().min(8));
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut to = Short { out: Vec::new(), sched: sched.get(4..).unwrap_or(&[]), i: 0, flushes: 0 };
    let from = Chunky { data: stream, sched: sched.get(..4).unwrap_or(&[]), i: 0, interrupted: false };
    agentwatch_core::proxy::relay(from, &mut to, |l| seen.push(l.to_vec()));

    // The round trip: out is in, byte for byte; the lines are in, in order.
    assert_eq!(to.out, stream, "the relay changed the stream");
    assert_eq!(seen.concat(), stream, "the lines shown are not the stream");
    assert_eq!(to.flushes, seen.len(), "one flush per line");
    for (i, l) in seen.iter().enumerate() {
        let last = i + 1 == seen.len();
        let body = l.strip_suffix(b"\n");
        assert!(body.is_some() || last, "only the last line may lack its newline");
        assert!(!body.unwrap_or(l).contains(&b'\n'), "a line holds one message");
        assert!(!l.is_empty());
    }

    // What the inspector makes of the lines.
    let bits = sched.iter().fold(0u64, |a, &b| a << 8 | u64::from(b));
    let msgs: Vec<(bool, &[u8])> =
        seen.iter().enumerate().map(|(i, l)| (bits >> (i % 64) & 1 == 0, l.as_slice())).collect();
    // The tool calls the session must count: those after its initialize.
    let mut expect_calls: Option<u64> = None;
    for (from_client, l) in &msgs {
        let Ok(v) = serde_json::from_slice::<Value>(l) else { continue };
        if !from_client {
            continue;
        }
        for m in batch(&v) {
            match m.get("method").and_then(Value::as_str) {
                Some("initialize") => expect_calls = Some(0),
                Some("tools/call") => {
                    if let Some(n) = expect_calls.as_mut() {
                        *n += 1;
                    }
                }
                _ => {}
            }
        }
    }
    with_scratch(|s| {
        let opts = agentwatch_core::proxy::ProxyOptions { label: Some("fuzz".into()) };
        let store = s.store.take().expect("the store is there");
        let (store, r) = agentwatch_core::proxy::inspect_messages(&s.dirs(), store, &opts, &msgs);
        s.store = Some(store);
        let session = r.expect("the inspector never fails on a healthy store");
        assert_eq!(session.is_some(), expect_calls.is_some(), "a session exactly when initialized");
        if let (Some(pk), Some(n)) = (session, expect_calls) {
            let row = s.store().session_by_pk(pk).expect("reads").expect("the session exists");
            assert_eq!(row.live.tool_calls, n, "tool calls counted");
            assert_eq!(row.state, SessionState::Completed, "a closed client's session is completed");
        }
    });
}

/// Seeds a fresh store with a few sessions for the queries to find.
fn seed(store: &Store) {
    let now = agentwatch_core::util::now_ms();
    for (agent, ext, project) in [
        ("claude-code", "c580ff25-cc99-4c2b-bc05-f158ca374d7f", "/home/u/src/web-app"),
        ("claude-code", "c580aa00-0000-4000-8000-000000000001", "/home/u/src/api"),
        ("codex", "0199a213-81c0-7800-8aa1-bbab2a035a53", "/home/u/src/billing_100%"),
    ] {
        let r = Registration {
            agent: agent.into(),
            external_id: Some(ext.into()),
            source: "hook".into(),
            project_path: Some(project.into()),
            ..Default::default()
        };
        store.register(&r, now).expect("registers");
    }
}

/// `data` is a query string as it comes in a request's URI (percent-encoded);
/// it is decoded by axum's `Query` extractor, as the server does, then given
/// to the parameter parsers of `/api/sessions` and `/api/costs`; a valid
/// sessions filter is run against a small store; each value is also tried
/// as a session id (`/api/sessions/{id}`).
pub fn rest_query(data: &[u8]) {
    // What is not a valid URI never reaches a handler.
    let Ok(s) = std::str::from_utf8(data) else { return };
    let Ok(uri) = format!("/api/sessions?{s}").parse::<axum::http::Uri>() else { return };
    let Ok(axum::extract::Query(q)) = axum::extract::Query::<HashMap<String, String>>::try_from_uri(&uri) else {
        return;
    };

    match cost_params(&q) {
        Ok((range, group_by)) => {
            assert_eq!(Range::parse(range.name()).expect("a range's name parses"), range);
            assert!(["day", "model", "agent", "project"].contains(&group_by.as_str()));
        }
        Err(e) => assert_eq!(e.0, axum::http::StatusCode::BAD_REQUEST, "{}", e.1),
    }

    with_scratch(|s| {
        if s.runs == 1 {
            seed(s.store());
        }
        match session_filter(&q) {
            Ok(f) => {
                let limit = f.limit.expect("always a limit");
                assert!((1..=1000).contains(&limit));
                if let (Some(a), Some(b)) = (f.from_ms, f.to_ms) {
                    assert!(a < b, "an empty time window");
                }
                let list = list_sessions(s.store(), &f).expect("a valid filter runs");
                let total = count_sessions(s.store(), &f).expect("a valid filter counts");
                assert!(list.len() <= limit && list.len() as u64 <= total);
                let now = agentwatch_core::util::now_ms();
                for r in &list {
                    serde_json::to_value(SessionView::new(r, now)).expect("a view serializes");
                }
            }
            Err(e) => {
                assert_eq!(e.0, axum::http::StatusCode::BAD_REQUEST, "{}", e.1);
                assert!(!e.1.is_empty());
            }
        }
        // `GET /api/sessions/{id}`: any text is an id, a prefix, or not found.
        for v in q.values().take(4) {
            match find_session(s.store(), v) {
                // Prefixes match as SQLite's LIKE does: ASCII case aside.
                Ok(row) => {
                    let v = v.trim().to_ascii_lowercase();
                    let starts = |s: &str| s.to_ascii_lowercase().starts_with(&v);
                    assert!(starts(&row.id) || row.external_id.as_deref().is_some_and(starts), "{v:?} found {row:?}");
                }
                Err(e) => assert!(e.is_usage() || matches!(e, Error::NotFound(_)), "id {v:?} gave {e}"),
            }
        }
    });
}
