//! Codex rollout lines: `{timestamp, type, payload}`.
//!
//! - `session_meta` gives the session id, cwd and CLI version.
//! - `turn_context` gives the model; the latest one applies. Without any,
//!   the model is `gpt-5`, flagged as a fallback.
//! - `event_msg` with `payload.type == "token_count"` carries usage. The
//!   event's usage is `info.last_token_usage`, or else `info.total_token_usage`
//!   minus the previous total (per field, never negative). `info: null` and
//!   usages with nothing to bill are skipped; counts over
//!   [`MAX_TOKENS`](crate::sources::MAX_TOKENS) make the line malformed.
//! - Codex counts cached input inside `input_tokens` and reasoning inside
//!   `output_tokens`: input is reported without the cached part, which is
//!   reported as cache reads; reasoning is shown, never billed twice.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::limits::LimitReading;
use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{LineError, LineParser, MAX_TOKENS, Record, SessionInfo, looks_complete, parse_ts};

pub const FALLBACK_MODEL: &str = "gpt-5";

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payload: Option<Payload<'a>>,
}

/// The fields of the payloads we read; each payload type has a few of them.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cwd: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cli_version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    info: Option<Info>,
    /// Read apart from the rest: a shape agentwatch does not know here
    /// must not cost the line's usage.
    #[serde(borrow)]
    rate_limits: Option<&'a serde_json::value::RawValue>,
}

/// The plan's windows, as Codex read them from its model's response
/// headers. Which slot holds which window has changed before: windows are
/// told apart by `window_minutes`.
#[derive(Deserialize)]
struct RateLimits {
    /// `codex` for the plan's own windows; other families (per-model
    /// limits) are not the plan's.
    limit_id: Option<String>,
    primary: Option<RateWindow>,
    secondary: Option<RateWindow>,
    plan_type: Option<String>,
}

#[derive(Deserialize)]
struct RateWindow {
    used_percent: Option<f64>,
    window_minutes: Option<f64>,
    /// Epoch seconds (0.171 copies `x-codex-*-reset-at`).
    resets_at: Option<f64>,
    /// Seconds from the event (older versions).
    resets_in_seconds: Option<f64>,
}

#[derive(Deserialize)]
struct Info {
    total_token_usage: Option<RawUsage>,
    last_token_usage: Option<RawUsage>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RawUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    cached_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    reasoning_output_tokens: u64,
}

impl RawUsage {
    fn minus(&self, o: &RawUsage) -> RawUsage {
        RawUsage {
            input_tokens: self.input_tokens.saturating_sub(o.input_tokens),
            cached_input_tokens: self.cached_input_tokens.saturating_sub(o.cached_input_tokens),
            output_tokens: self.output_tokens.saturating_sub(o.output_tokens),
            reasoning_output_tokens: self.reasoning_output_tokens.saturating_sub(o.reasoning_output_tokens),
        }
    }

    fn plus(&self, o: &RawUsage) -> RawUsage {
        RawUsage {
            input_tokens: self.input_tokens.saturating_add(o.input_tokens),
            cached_input_tokens: self.cached_input_tokens.saturating_add(o.cached_input_tokens),
            output_tokens: self.output_tokens.saturating_add(o.output_tokens),
            reasoning_output_tokens: self.reasoning_output_tokens.saturating_add(o.reasoning_output_tokens),
        }
    }

    /// Whether a count is more than any session reaches: damage, not usage.
    fn over_max(&self) -> bool {
        [self.input_tokens, self.cached_input_tokens, self.output_tokens, self.reasoning_output_tokens]
            .iter()
            .any(|&n| n > MAX_TOKENS)
    }

    fn tokens(&self) -> Tokens {
        let cached = self.cached_input_tokens.min(self.input_tokens);
        Tokens {
            input: self.input_tokens - cached,
            output: self.output_tokens,
            cache_write_5m: 0,
            cache_write_1h: 0,
            cache_read: cached,
            reasoning: self.reasoning_output_tokens,
        }
    }
}

/// What the parser must remember between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    session: Option<String>,
    model: Option<String>,
    prev_total: Option<RawUsage>,
    /// Usage events emitted so far: the event's position in the file keys it.
    n: u64,
}

pub struct CodexParser {
    state: State,
    file_stem: String,
    finders: [memmem::Finder<'static>; 3],
}

impl CodexParser {
    pub fn new(path: &Path, state: Option<&str>) -> CodexParser {
        CodexParser {
            state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
            file_stem: path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            finders: [
                memmem::Finder::new(b"\"token_count\""),
                memmem::Finder::new(b"\"turn_context\""),
                memmem::Finder::new(b"\"session_meta\""),
            ],
        }
    }
}

impl CodexParser {
    /// A reading per window the event names. A window without its length or
    /// its use is left out, with a log line: guessing which window it is
    /// would show a wrong number.
    fn limits(&self, r: &RateLimits, at: i64, out: &mut Vec<Record>) {
        if r.limit_id.as_deref().is_some_and(|id| id != "codex") {
            return;
        }
        for (slot, w) in [("primary", &r.primary), ("secondary", &r.secondary)] {
            let Some(w) = w else { continue };
            let minutes = w.window_minutes.filter(|m| m.fract() == 0.0 && m.abs() < 1e9).map(|m| m as i64);
            let (Some(minutes), Some(used)) = (minutes, w.used_percent) else {
                tracing::warn!(file = %self.file_stem, "Codex rate_limits.{slot} lacks window_minutes or used_percent; not recorded");
                continue;
            };
            let resets_at = match (w.resets_at, w.resets_in_seconds) {
                (Some(s), _) if s.is_finite() && s.abs() < 1e13 => Some((s * 1000.0) as i64),
                (None, Some(s)) if s.is_finite() && s.abs() < 1e10 => Some(at + (s * 1000.0) as i64),
                (None, None) => None,
                _ => {
                    tracing::warn!(file = %self.file_stem, "Codex rate_limits.{slot} has a reset that is not a time; not recorded");
                    continue;
                }
            };
            out.push(Record::Limit(LimitReading {
                agent: "codex".into(),
                window_minutes: minutes,
                used_percent: used,
                resets_at,
                observed_at: at,
                source: "rollout",
                plan: r.plan_type.clone().filter(|p| !p.is_empty()),
                session: self.state.session.clone(),
            }));
        }
    }
}

impl LineParser for CodexParser {
    fn parse(&mut self, line: &[u8], _offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        if !self.finders.iter().any(|f| f.find(line).is_some()) {
            return if looks_complete(line) { Ok(()) } else { Err(LineError::Malformed) };
        }
        let l: Line = serde_json::from_slice(line).map_err(|_| LineError::Malformed)?;
        let Some(p) = l.payload else { return Ok(()) };
        let ts = l.timestamp.as_deref().and_then(parse_ts);
        match l.kind.as_deref() {
            Some("session_meta") => {
                let id = p.id.as_deref().filter(|s| !s.is_empty()).unwrap_or(&self.file_stem).to_string();
                self.state.session = Some(id.clone());
                out.push(Record::Session(SessionInfo {
                    external_id: id,
                    project_path: p.cwd.as_deref().map(str::to_string),
                    agent_version: p.cli_version.as_deref().map(str::to_string),
                    started_at: ts,
                }));
            }
            Some("turn_context") => {
                if let Some(m) = p.model.as_deref().filter(|m| !m.is_empty()) {
                    self.state.model = Some(m.to_string());
                }
            }
            Some("event_msg") if p.kind.as_deref() == Some("token_count") => {
                if let (Some(limits), Some(at)) = (p.rate_limits, ts) {
                    match serde_json::from_str::<Option<RateLimits>>(limits.get()) {
                        Ok(None) => {}
                        Ok(Some(limits)) => self.limits(&limits, at.timestamp_millis(), out),
                        Err(e) => {
                            tracing::warn!(file = %self.file_stem, "Codex rate_limits not understood ({e}); not recorded")
                        }
                    }
                }
                let Some(info) = p.info else { return Ok(()) };
                if [&info.total_token_usage, &info.last_token_usage].into_iter().flatten().any(RawUsage::over_max) {
                    return Err(LineError::Malformed);
                }
                // Codex repeats token_count events; unchanged totals mean nothing new.
                if info.total_token_usage.is_some() && info.total_token_usage == self.state.prev_total {
                    return Ok(());
                }
                let delta = match (&info.last_token_usage, &info.total_token_usage, &self.state.prev_total) {
                    (Some(last), _, _) => *last,
                    (None, Some(total), Some(prev)) => total.minus(prev),
                    (None, Some(total), None) => *total,
                    (None, None, _) => return Ok(()),
                };
                self.state.prev_total = match (info.total_token_usage, self.state.prev_total) {
                    (Some(total), _) => Some(total),
                    (None, prev) => Some(prev.unwrap_or_default().plus(&delta)),
                };
                // Nothing billable (cached input beyond the input is not).
                if delta.tokens().is_zero() {
                    return Ok(());
                }
                let Some(timestamp) = ts else {
                    // Usage at a time that cannot be read is reported, as Claude's is.
                    return if l.timestamp.is_some() { Err(LineError::Malformed) } else { Ok(()) };
                };
                self.state.n += 1;
                let (model, model_fallback) = match &self.state.model {
                    Some(m) => (Arc::from(m.as_str()), false),
                    None => (Arc::from(FALLBACK_MODEL), true),
                };
                out.push(Record::Usage(UsageEvent {
                    key: EventKey::of(&["codex", &self.file_stem, &self.state.n.to_string()]),
                    session_external_id: Arc::from(self.state.session.as_deref().unwrap_or(&self.file_stem)),
                    timestamp,
                    model,
                    model_fallback,
                    fast: false,
                    sidechain: false,
                    tokens: delta.tokens(),
                    cost_usd: None,
                }));
            }
            _ => {}
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

    const META: &str = r#"{"timestamp":"2026-11-20T10:00:00.000Z","type":"session_meta","payload":{"id":"abc","cwd":"/home/u/api","cli_version":"0.50.0","instructions":null}}"#;
    const TURN: &str = r#"{"timestamp":"2026-11-20T10:00:00.100Z","type":"turn_context","payload":{"model":"gpt-5-codex","cwd":"/home/u/api"}}"#;

    fn tc(ts: &str, total: Option<[u64; 4]>, last: Option<[u64; 4]>) -> String {
        let u = |v: [u64; 4]| {
            format!(
                r#"{{"input_tokens":{},"cached_input_tokens":{},"output_tokens":{},"reasoning_output_tokens":{},"total_tokens":0}}"#,
                v[0], v[1], v[2], v[3]
            )
        };
        let mut info = Vec::new();
        if let Some(t) = total {
            info.push(format!(r#""total_token_usage":{}"#, u(t)));
        }
        if let Some(l) = last {
            info.push(format!(r#""last_token_usage":{}"#, u(l)));
        }
        format!(
            r#"{{"timestamp":"{ts}","type":"event_msg","payload":{{"type":"token_count","info":{{{}}}}}}}"#,
            info.join(",")
        )
    }

    fn run(p: &mut CodexParser, lines: &[String]) -> (Vec<UsageEvent>, usize) {
        let mut out = Vec::new();
        let mut bad = 0;
        for l in lines {
            if p.parse(l.as_bytes(), 0, &mut out).is_err() {
                bad += 1;
            }
        }
        let usage = out
            .into_iter()
            .filter_map(|r| match r {
                Record::Usage(u) => Some(u),
                _ => None,
            })
            .collect();
        (usage, bad)
    }

    fn parser() -> CodexParser {
        CodexParser::new(Path::new("/c/sessions/2026/11/20/rollout-x.jsonl"), None)
    }

    #[test]
    fn last_usage_wins_and_cached_input_is_split_out() {
        let mut p = parser();
        let (u, _) = run(
            &mut p,
            &[
                META.into(),
                TURN.into(),
                tc("2026-11-20T10:00:01Z", Some([1000, 400, 200, 50]), Some([1000, 400, 200, 50])),
            ],
        );
        assert_eq!(u.len(), 1);
        assert_eq!(&*u[0].model, "gpt-5-codex");
        assert!(!u[0].model_fallback);
        assert_eq!(&*u[0].session_external_id, "abc");
        assert_eq!(u[0].key, EventKey::of(&["codex", "rollout-x", "1"]));
        assert_eq!(
            u[0].tokens,
            Tokens { input: 600, output: 200, cache_write_5m: 0, cache_write_1h: 0, cache_read: 400, reasoning: 50 }
        );
    }

    #[test]
    fn without_last_usage_the_delta_of_totals_is_used_never_negative() {
        let mut p = parser();
        let lines = [
            META.to_string(),
            tc("2026-11-20T10:00:01Z", Some([1000, 0, 100, 0]), None),
            r#"{"timestamp":"2026-11-20T10:00:02Z","type":"event_msg","payload":{"type":"token_count","info":null}}"#
                .into(),
            tc("2026-11-20T10:00:03Z", Some([1000, 0, 100, 0]), None), // no change: skipped
            tc("2026-11-20T10:00:04Z", Some([900, 0, 300, 0]), None),  // input went down: clamped
        ];
        let (u, bad) = run(&mut p, &lines);
        assert_eq!(bad, 0);
        assert_eq!(u.len(), 2);
        assert_eq!((u[0].tokens.input, u[0].tokens.output), (1000, 100));
        assert_eq!((u[1].tokens.input, u[1].tokens.output), (0, 200));
        assert!(u[0].model_fallback && &*u[0].model == FALLBACK_MODEL);
        assert_eq!(u[1].key, EventKey::of(&["codex", "rollout-x", "2"]));
    }

    #[test]
    fn a_repeated_event_with_unchanged_totals_counts_once() {
        let mut p = parser();
        let first = tc("2026-11-20T10:00:01Z", Some([1000, 400, 100, 20]), Some([1000, 400, 100, 20]));
        let again = tc("2026-11-20T10:00:02Z", Some([1000, 400, 100, 20]), Some([1000, 400, 100, 20]));
        let next = tc("2026-11-20T10:00:03Z", Some([3000, 1400, 300, 20]), Some([2000, 1000, 200, 0]));
        let (u, _) = run(&mut p, &[META.into(), first, again, next]);
        assert_eq!(u.len(), 2);
        let input: u64 = u.iter().map(|e| e.tokens.input).sum();
        let output: u64 = u.iter().map(|e| e.tokens.output).sum();
        assert_eq!((input, output), (1600, 300));
    }

    #[test]
    fn state_survives_between_runs() {
        let mut p = parser();
        run(&mut p, &[META.into(), TURN.into(), tc("2026-11-20T10:00:01Z", Some([1000, 0, 100, 0]), None)]);
        let saved = p.state().unwrap();
        let mut resumed = CodexParser::new(Path::new("/c/sessions/2026/11/20/rollout-x.jsonl"), Some(&saved));
        let (u, _) = run(&mut resumed, &[tc("2026-11-20T10:00:05Z", Some([1500, 200, 150, 0]), None)]);
        assert_eq!(u[0].tokens, Tokens { input: 300, output: 50, cache_read: 200, ..Default::default() });
        assert_eq!(&*u[0].model, "gpt-5-codex");
        assert_eq!(&*u[0].session_external_id, "abc");
        assert_eq!(u[0].key, EventKey::of(&["codex", "rollout-x", "2"]));
    }

    #[test]
    fn a_resumed_read_equals_a_full_one() {
        // Written by the real Codex 0.171.0 (tests/agents): read stopped at
        // any line and resumed from the parser's state, the same records.
        let text = include_str!("fixtures/turns-0.171.0.jsonl");
        let path = Path::new("/c/sessions/2026/12/05/rollout-2026-12-05T11-37-34-01a245fe.jsonl");
        let lines: Vec<&str> = text.lines().collect();
        let mut full = Vec::new();
        let mut p = CodexParser::new(path, None);
        for l in &lines {
            p.parse(l.as_bytes(), 0, &mut full).unwrap();
        }
        let calls: Vec<&UsageEvent> = full
            .iter()
            .filter_map(|r| match r {
                Record::Usage(u) => Some(u),
                _ => None,
            })
            .collect();
        assert_eq!(calls.len(), 9, "a call per token_count");
        for cut in 0..=lines.len() {
            let mut out = Vec::new();
            let mut a = CodexParser::new(path, None);
            for l in &lines[..cut] {
                a.parse(l.as_bytes(), 0, &mut out).unwrap();
            }
            let mut b = CodexParser::new(path, a.state().as_deref());
            for l in &lines[cut..] {
                b.parse(l.as_bytes(), 0, &mut out).unwrap();
            }
            assert_eq!(out, full, "cut at line {cut}");
        }
    }

    #[test]
    fn usage_at_an_unreadable_time_is_malformed_and_the_totals_move_on() {
        let mut p = parser();
        let lines = [
            tc("garbage", Some([1000, 0, 100, 0]), None),
            tc("2026-13-45T99:99:99Z", Some([1500, 0, 150, 0]), None),
            tc("1970-01-01T00:00:00Z", Some([1600, 0, 160, 0]), None),
            tc("2100-01-01T00:00:00Z", Some([1700, 0, 170, 0]), None),
        ];
        let (u, bad) = run(&mut p, &lines);
        assert_eq!(bad, 2);
        // Far past and future times are kept as written; the deltas after
        // the bad lines are still deltas.
        let times: Vec<i64> = u.iter().map(|e| e.timestamp.timestamp()).collect();
        assert_eq!(times, [0, 4_102_444_800]);
        assert!(u.iter().all(|e| e.tokens.input == 100 && e.tokens.output == 10));
    }

    #[test]
    fn impossible_counts_are_malformed_and_empty_usages_skipped() {
        // Found by the codex_line fuzz target: cached input beyond the input
        // made an event of zero tokens. And counts near u64::MAX overflowed
        // the running total (a panic in debug builds; seen writing the
        // target's checks).
        let mut p = parser();
        let max = u64::MAX;
        let lines = [
            tc("2026-11-20T10:00:01Z", None, Some([0, 5, 0, 0])), // only "cached" input: nothing
            tc("2026-11-20T10:00:02Z", Some([max, 0, 0, 0]), None),
            tc("2026-11-20T10:00:03Z", None, Some([MAX_TOKENS + 1, 0, 0, 0])),
            tc("2026-11-20T10:00:04Z", None, Some([MAX_TOKENS, 0, 0, 0])),
            tc("2026-11-20T10:00:05Z", None, Some([10, 0, 1, 0])),
        ];
        let (u, bad) = run(&mut p, &lines.map(String::from));
        assert_eq!(bad, 2);
        assert_eq!(u.iter().map(|e| e.tokens.input).collect::<Vec<_>>(), [MAX_TOKENS, 10]);
    }

    #[test]
    fn malformed_lines_are_counted_not_fatal() {
        let mut p = parser();
        let good = tc("2026-11-20T10:00:01Z", None, Some([10, 0, 1, 0]));
        let (u, bad) = run(&mut p, &[good[..good.len() - 10].to_string(), "garbage".into(), good.clone()]);
        assert_eq!((u.len(), bad), (1, 2));
    }

    fn limits_of(lines: &[&str]) -> Vec<LimitReading> {
        let mut p = parser();
        let mut out = Vec::new();
        p.parse(META.as_bytes(), 0, &mut out).unwrap();
        for l in lines {
            p.parse(l.as_bytes(), 0, &mut out).unwrap();
        }
        out.into_iter()
            .filter_map(|r| match r {
                Record::Limit(l) => Some(l),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn rate_limits_are_read_by_window_length_even_without_usage() {
        // As Codex 0.171.0 wrote them (primary and secondary swapped here:
        // the slot says nothing).
        let line = r#"{"timestamp":"2026-12-06T03:06:21.207Z","ordinal":12,"type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{"limit_id":"codex","limit_name":null,"primary":{"used_percent":40.0,"window_minutes":10080,"resets_at":1796785581},"secondary":{"used_percent":12.5,"window_minutes":300,"resets_at":1796529981},"credits":null,"individual_limit":null,"spend_control_reached":null,"plan_type":"plus","rate_limit_reached_type":null}}}"#;
        let l = limits_of(&[line]);
        assert_eq!(l.len(), 2);
        let at = 1_796_526_381_207; // 2026-12-06T03:06:21.207Z
        assert_eq!(
            (l[0].window_minutes, l[0].used_percent, l[0].resets_at, l[0].observed_at),
            (10_080, 40.0, Some(1_796_785_581_000), at)
        );
        assert_eq!((l[1].window_minutes, l[1].used_percent), (300, 12.5));
        assert_eq!(
            (l[1].plan.as_deref(), l[1].session.as_deref(), l[1].source),
            (Some("plus"), Some("abc"), "rollout")
        );
        assert!(l.iter().all(|r| r.check().is_ok()));
    }

    #[test]
    fn absent_or_foreign_windows_give_nothing() {
        // No headers: Codex still writes the object, with null windows.
        let none = r#"{"timestamp":"2026-12-06T03:06:21Z","type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{"limit_id":"codex","primary":null,"secondary":null}}}"#;
        // Another limit family is not the plan's.
        let other = r#"{"timestamp":"2026-12-06T03:06:21Z","type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{"limit_id":"gpt_5_pro","primary":{"used_percent":5.0,"window_minutes":300,"resets_at":1796529981}}}}"#;
        // A window without its length is not guessed.
        let no_len = r#"{"timestamp":"2026-12-06T03:06:21Z","type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{"primary":{"used_percent":5.0,"resets_at":1796529981}}}}"#;
        assert!(limits_of(&[none, other, no_len]).is_empty());
        // A shape it does not know costs the line nothing else.
        let odd = r#"{"timestamp":"2026-12-06T03:06:21Z","type":"event_msg","payload":{"type":"token_count","info":{"last_token_usage":{"input_tokens":10,"output_tokens":2}},"rate_limits":{"primary":{"used_percent":"lots","window_minutes":300}}}}"#;
        let mut p = parser();
        let mut out = Vec::new();
        assert!(p.parse(odd.as_bytes(), 0, &mut out).is_ok());
        assert!(matches!(out.as_slice(), [Record::Usage(u)] if u.tokens.input == 10), "{out:?}");
        // Older versions said seconds to the reset.
        let old = r#"{"timestamp":"2026-12-06T03:06:21Z","type":"event_msg","payload":{"type":"token_count","info":null,"rate_limits":{"primary":{"used_percent":5.0,"window_minutes":300,"resets_in_seconds":600}}}}"#;
        let l = limits_of(&[old]);
        assert_eq!(l[0].resets_at, Some(1_796_526_381_000 + 600_000));
    }
}
