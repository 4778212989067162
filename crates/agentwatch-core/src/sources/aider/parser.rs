//! Aider's chat history (`.aider.chat.history.md`), the Markdown it appends
//! to as it goes (`InputOutput.append_chat_history` in `aider/io.py`).
//!
//! - `# aider chat started at 2026-05-01 09:15:02` opens each run: a session.
//!   The time is the machine's local time (`datetime.now()`), without a zone:
//!   it is read in the local zone of the machine agentwatch runs on.
//! - `> Aider v0.86.1` then `> Model: …` or `> Main model: … with … edit
//!   format` (`Coder.get_announcements`) name the version and the model;
//!   `/model` announces again.
//! - After each message sent, `> Tokens: 4.2k sent, 1.1k received. Cost:
//!   $0.02 message, $0.15 session.` (`calculate_and_show_tokens_and_cost` in
//!   `aider/coders/base_coder.py`), with `, 12k cache write` and `, 3.4k
//!   cache hit` after `sent` when the provider reports them. With both, the
//!   `Cost:` part goes on the next line, unquoted. Without a price for the
//!   model there is no `Cost:` part. Counts are rounded (`format_tokens`:
//!   `987`, `4.2k`, `12k`; before 0.50, `1,234`), costs too (two
//!   significant decimals): the figures are approximate. Older versions say
//!   `request` where newer ones say `message`.
//!
//! A report is one call, keyed by its place in the file (the file is only
//! appended to). `sent` includes the cache writes (Aider adds them to the
//! prompt tokens) and not the cache hits: input is `sent` less the writes.
//! The message's cost is the call's recorded cost. Aider writes no time per
//! message: every call of a session is dated at the session's start.
//!
//! When Aider's analytics log is read, the sessions it covers give no calls
//! here ([`AiderParser::covered_from`]): the log has them, exactly.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, LineParser, MAX_TOKENS, Record, SessionInfo, plausible_cost};

/// The model of a call whose session named none (not priced).
pub const FALLBACK_MODEL: &str = "unknown";

const HEADER: &str = "# aider chat started at ";
const TOKENS: &str = "> Tokens: ";
const COST: &str = "Cost: ";

/// Turns a session header's local time into UTC.
pub type LocalToUtc = fn(NaiveDateTime) -> Option<DateTime<Utc>>;

/// The local zone of this machine (ambiguous times: the earlier).
pub fn machine_local(t: NaiveDateTime) -> Option<DateTime<Utc>> {
    Local.from_local_datetime(&t).earliest().map(|d| d.with_timezone(&Utc))
}

/// A session's id: its file and its header's time, as written.
pub fn session_id(path: &str, started: NaiveDateTime) -> String {
    format!("{path}@{}", started.format("%Y-%m-%dT%H:%M:%S"))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct Session {
    id: String,
    started_ms: i64,
    version: Option<String>,
}

/// A report whose cost may follow on the next line.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
struct Pending {
    offset: u64,
    tokens: [u64; 4],
}

/// What the parser must remember between runs: where the file stands.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct State {
    session: Option<Session>,
    model: Option<String>,
    /// In architect mode, the model that edits (`> Editor model:`).
    editor: Option<String>,
    /// Reports since the user last wrote (`#### `).
    reports: u32,
    pending: Option<Pending>,
}

pub struct AiderParser {
    state: State,
    path: String,
    project: Option<String>,
    local: LocalToUtc,
    /// Sessions started from then on (ms) are the analytics log's to count.
    covered_from: Option<i64>,
}

impl AiderParser {
    pub fn new(path: &Path, state: Option<&str>, local: LocalToUtc) -> AiderParser {
        AiderParser {
            state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
            path: path.to_string_lossy().into_owned(),
            project: super::paths::project_of(path),
            local,
            covered_from: None,
        }
    }

    /// Counts no call of a session that started at `from` (ms) or later:
    /// the analytics log holds those, exactly (see `analytics.rs`). Its
    /// sessions are still written.
    pub fn covered_from(mut self, from: Option<i64>) -> AiderParser {
        self.covered_from = from;
        self
    }

    fn session_record(&self, s: &Session) -> Record {
        Record::Session(SessionInfo {
            external_id: s.id.clone(),
            project_path: self.project.clone(),
            agent_version: s.version.clone(),
            started_at: DateTime::from_timestamp_millis(s.started_ms),
        })
    }

    /// The call of a report, in the session it belongs to.
    fn call(&self, p: Pending, cost: Option<f64>, out: &mut Vec<Record>) {
        let Some(s) = &self.state.session else { return };
        if self.covered_from.is_some_and(|from| s.started_ms >= from) {
            return;
        }
        let Some(timestamp) = DateTime::from_timestamp_millis(s.started_ms) else { return };
        let [sent, received, write, hit] = p.tokens;
        let tokens = Tokens {
            input: sent.saturating_sub(write),
            output: received,
            cache_write_5m: write,
            cache_write_1h: 0,
            cache_read: hit,
            reasoning: 0,
        };
        // In architect mode the first report after the user's message is the
        // architect's, the ones after it (edits, fixes) the editor's.
        let model = match &self.state.editor {
            Some(e) if self.state.reports > 0 => Some(e),
            _ => self.state.model.as_ref(),
        };
        let (model, model_fallback) = match model {
            Some(m) => (Arc::from(m.as_str()), false),
            None => (Arc::from(FALLBACK_MODEL), true),
        };
        out.push(Record::Usage(UsageEvent {
            key: EventKey::of(&["aider", &self.path, &p.offset.to_string()]),
            session_external_id: Arc::from(s.id.as_str()),
            timestamp,
            model,
            model_fallback,
            fast: false,
            sidechain: false,
            tokens,
            cost_usd: plausible_cost(cost),
        }));
    }

    fn flush(&mut self, out: &mut Vec<Record>) {
        if let Some(p) = self.state.pending.take() {
            self.call(p, None, out);
            self.state.reports += 1;
        }
    }
}

/// A rounded count as `format_tokens` writes it: `987`, `4.2k`, `12k`, or
/// (before 0.50) `1,234`.
fn count(s: &str) -> Option<u64> {
    let (num, unit) = match s.strip_suffix('k') {
        Some(n) => (n, 1000.0),
        None => (s, 1.0),
    };
    let num = num.replace(',', "");
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let n = (num.parse::<f64>().ok()? * unit).round();
    (n.is_finite() && (0.0..=MAX_TOKENS as f64).contains(&n)).then_some(n as u64)
}

/// `$0.02 message, $0.15 session.`: the message's cost.
fn message_cost(s: &str) -> Option<f64> {
    let (cost, rest) = s.trim().strip_prefix('$')?.split_once(' ')?;
    if !(rest.starts_with("message,") || rest.starts_with("request,")) {
        return None;
    }
    cost.parse::<f64>().ok().filter(|c| c.is_finite() && *c >= 0.0)
}

/// A report: [sent, received, cache write, cache hit], and its cost part.
fn report(s: &str) -> Option<([u64; 4], Option<&str>)> {
    let (toks, cost) = match s.split_once(" Cost: ") {
        Some((t, c)) => (t, Some(c)),
        None => (s, None),
    };
    let mut t = [None, None, Some(0), Some(0)];
    for part in toks.trim_end().strip_suffix('.')?.split(", ") {
        let (n, label) = part.trim().split_once(' ')?;
        let i = match label {
            "sent" => 0,
            "received" => 1,
            "cache write" => 2,
            "cache hit" => 3,
            _ => return None,
        };
        t[i] = Some(count(n)?);
    }
    Some(([t[0]?, t[1]?, t[2]?, t[3]?], cost))
}

impl LineParser for AiderParser {
    fn parse(&mut self, line: &[u8], offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        let text = String::from_utf8_lossy(line);
        let l = text.trim_end();
        if let Some(p) = self.state.pending
            && let Some(rest) = l.strip_prefix(COST)
        {
            // The cost of the report on the line before.
            self.state.pending = None;
            let cost = message_cost(rest);
            self.call(p, cost, out);
            self.state.reports += 1;
            return if cost.is_some() { Ok(()) } else { Err(LineError::Malformed) };
        }
        self.flush(out);
        if let Some(rest) = l.strip_prefix(HEADER) {
            let t =
                NaiveDateTime::parse_from_str(rest.trim(), "%Y-%m-%d %H:%M:%S").map_err(|_| LineError::Malformed)?;
            let started = (self.local)(t).ok_or(LineError::Malformed)?;
            let s = Session { id: session_id(&self.path, t), started_ms: started.timestamp_millis(), version: None };
            out.push(self.session_record(&s));
            self.state = State { session: Some(s), ..State::default() };
        } else if let Some(v) = l.strip_prefix("> Aider v") {
            if let Some(mut s) = self.state.session.take() {
                s.version = Some(v.trim().to_string()).filter(|v| !v.is_empty());
                out.push(self.session_record(&s));
                self.state.session = Some(s);
            }
        } else if let Some(m) = l.strip_prefix("> Main model: ").or_else(|| l.strip_prefix("> Model: ")) {
            let name = m.split_once(" with ").map_or(m, |(n, _)| n).trim();
            self.state.model = Some(name.to_string()).filter(|n| !n.is_empty());
            self.state.editor = None;
        } else if let Some(m) = l.strip_prefix("> Editor model: ") {
            let name = m.split_once(" with ").map_or(m, |(n, _)| n).trim();
            self.state.editor = Some(name.to_string()).filter(|n| !n.is_empty());
        } else if l.starts_with("#### ") {
            self.state.reports = 0;
        } else if let Some(rest) = l.strip_prefix(TOKENS) {
            if self.state.session.is_none() {
                return Err(LineError::Malformed);
            }
            let (tokens, cost) = report(rest).ok_or(LineError::Malformed)?;
            let p = Pending { offset, tokens };
            match cost {
                Some(c) => {
                    let cost = message_cost(c).ok_or(LineError::Malformed)?;
                    self.call(p, Some(cost), out);
                    self.state.reports += 1;
                }
                // Both cache parts: the cost is on the next line.
                None if tokens[2] > 0 && tokens[3] > 0 => self.state.pending = Some(p),
                // A model without a price: tokens only.
                None => {
                    self.call(p, None, out);
                    self.state.reports += 1;
                }
            }
        }
        Ok(())
    }

    fn state(&self) -> Option<String> {
        Some(serde_json::to_string(&self.state).expect("state serializes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::calls;

    fn utc(t: NaiveDateTime) -> Option<DateTime<Utc>> {
        Some(t.and_utc())
    }

    const PATH: &str = "/home/u/app/.aider.chat.history.md";
    const FIXTURE: &str = include_str!("fixtures/aider.chat.history.md");

    fn read(text: &str, path: &str) -> (Vec<Record>, usize) {
        let mut p = AiderParser::new(Path::new(path), None, utc);
        let (mut out, mut bad, mut off) = (Vec::new(), 0, 0u64);
        for l in text.split_inclusive('\n') {
            if l.ends_with('\n') && p.parse(l.trim_end_matches('\n').as_bytes(), off, &mut out).is_err() {
                bad += 1;
            }
            off += l.len() as u64;
        }
        (out, bad)
    }

    #[test]
    fn counts_and_costs_are_read_as_aider_rounds_them() {
        assert_eq!(count("987"), Some(987));
        assert_eq!(count("4.2k"), Some(4200));
        assert_eq!(count("12k"), Some(12_000));
        assert_eq!(count("1,234"), Some(1234));
        assert_eq!(count("k"), None);
        assert_eq!(count("-3"), None);
        assert_eq!(message_cost("$0.02 message, $0.15 session."), Some(0.02));
        assert_eq!(message_cost("$0.0034 request, $0.01 session."), Some(0.0034));
        assert_eq!(message_cost("$x message, $0.15 session."), None);
        assert_eq!(report("2.5k sent, 13k cache write, 220 received."), Some(([2500, 220, 13_000, 0], None)));
        assert_eq!(report("2.5k sent, 13k cache lost, 220 received."), None);
    }

    #[test]
    fn the_fixture_gives_each_report_once_in_its_session_with_its_model() {
        let (out, bad) = read(FIXTURE, PATH);
        // The model's own `> Tokens:` line in a fence, a garbled report, a
        // header without a time.
        assert_eq!(bad, 3);
        let sessions: Vec<&SessionInfo> = out
            .iter()
            .filter_map(|r| match r {
                Record::Session(s) => Some(s),
                _ => None,
            })
            .collect();
        let first = format!("{PATH}@2026-05-01T09:15:02");
        let second = format!("{PATH}@2026-05-02T23:40:00");
        let third = format!("{PATH}@2026-05-03T08:00:00");
        assert_eq!(sessions.last().unwrap().external_id, third);
        assert_eq!(sessions[1].agent_version.as_deref(), Some("0.86.1"));
        assert_eq!(sessions[0].project_path.as_deref(), Some("/home/u/app"));
        assert_eq!(sessions[0].started_at, Some(Utc.with_ymd_and_hms(2026, 5, 1, 9, 15, 2).unwrap()));
        let c = calls(&out);
        let got: Vec<(&str, &str, [u64; 5], Option<f64>)> = c
            .iter()
            .map(|u| {
                let t = u.tokens;
                (
                    &*u.session_external_id,
                    &*u.model,
                    [t.input, t.output, t.cache_write_5m, t.cache_read, t.reasoning],
                    u.cost_usd,
                )
            })
            .collect();
        let (f, s, a) = (first.as_str(), second.as_str(), third.as_str());
        let sonnet = "anthropic/claude-sonnet-4-20250514";
        assert_eq!(
            got,
            [
                (f, sonnet, [4200, 1100, 0, 0, 0], Some(0.03)),
                (f, sonnet, [3000, 220, 13_000, 0, 0], Some(0.05)),
                (f, sonnet, [1800, 310, 1200, 14_000, 0], Some(0.01)),
                (f, "gpt-4o", [987, 45, 0, 0, 0], Some(0.0029)),
                (s, "deepseek/deepseek-chat", [23_000, 2100, 0, 0, 0], None),
                (s, "deepseek/deepseek-chat", [1234, 56, 0, 0, 0], Some(0.0004)),
                // Architect mode: the architect's report, then the editor's.
                (a, "o3", [8100, 2400, 0, 0, 0], Some(0.04)),
                (a, "gpt-4.1", [5600, 900, 0, 0, 0], Some(0.02)),
                (a, "o3", [9000, 1000, 0, 0, 0], Some(0.03)),
            ]
        );
        assert!(c.iter().all(|u| u.timestamp == u.timestamp.with_timezone(&Utc)));
        assert_eq!(c[0].timestamp, Utc.with_ymd_and_hms(2026, 5, 1, 9, 15, 2).unwrap());
        assert_eq!(c[4].timestamp, Utc.with_ymd_and_hms(2026, 5, 2, 23, 40, 0).unwrap());
        // Read again: the same calls.
        assert_eq!(calls(&read(FIXTURE, PATH).0), c);
    }

    #[test]
    fn a_resumed_read_equals_one_full_read_wherever_it_stops() {
        let full = read(FIXTURE, PATH).0;
        let lines: Vec<&str> = FIXTURE.split_inclusive('\n').collect();
        for cut in 0..=lines.len() {
            let (mut out, mut off, mut state) = (Vec::new(), 0u64, None::<String>);
            for part in [&lines[..cut], &lines[cut..]] {
                let mut p = AiderParser::new(Path::new(PATH), state.as_deref(), utc);
                for l in part {
                    let _ = p.parse(l.trim_end_matches('\n').as_bytes(), off, &mut out);
                    off += l.len() as u64;
                }
                state = p.state();
            }
            assert_eq!(calls(&out), calls(&full), "cut at line {cut}");
        }
    }

    #[test]
    fn sessions_the_analytics_log_covers_give_no_calls_but_still_their_session() {
        let from = Utc.with_ymd_and_hms(2026, 5, 2, 23, 30, 1).unwrap().timestamp_millis();
        let mut p = AiderParser::new(Path::new(PATH), None, utc).covered_from(Some(from));
        let (mut out, mut off) = (Vec::new(), 0u64);
        for l in FIXTURE.split_inclusive('\n') {
            let _ = p.parse(l.trim_end_matches('\n').as_bytes(), off, &mut out);
            off += l.len() as u64;
        }
        let all = read(FIXTURE, PATH).0;
        let first = format!("{PATH}@2026-05-01T09:15:02");
        // Only the first session's four calls, the ones before the log began.
        let before: Vec<&UsageEvent> = calls(&all).into_iter().filter(|u| *u.session_external_id == *first).collect();
        assert_eq!(before.len(), 4);
        assert_eq!(calls(&out), before);
        let ids = |o: &[Record]| {
            o.iter()
                .filter_map(|r| match r {
                    Record::Session(s) => Some(s.external_id.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&out), ids(&all), "every session is still written");
    }

    #[test]
    fn a_report_before_any_header_or_garbled_is_counted_malformed() {
        let (out, bad) = read("> Tokens: 1k sent, 2 received.\n", PATH);
        assert_eq!((out.len(), bad), (0, 1));
        let (out, bad) = read(
            "# aider chat started at 2026-01-01 00:00:00\n> Tokens: many sent, 2 received.\n> Tokens: 1k sent, 3k cache write, 2k cache hit, 9 received.\nCost: $what message, $1 session.\n",
            PATH,
        );
        assert_eq!((calls(&out).len(), bad), (1, 2), "the report whose cost is garbled still counts its tokens");
        assert_eq!(calls(&out)[0].cost_usd, None);
    }
}
