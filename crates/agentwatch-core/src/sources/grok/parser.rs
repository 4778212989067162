//! Grok Build's update logs (`updates.jsonl`), and the `summary.json` beside
//! them.
//!
//! Every line of the log is an ACP notification as Grok sent it to its
//! screen: `{"timestamp": <unix s>, "method": "_x.ai/session/update" |
//! "session/update", "params": {"sessionId", "update": {"sessionUpdate":
//! <kind>, …}, "_meta": {"eventId": "<session>-<seq>", "agentTimestampMs":
//! <ms>}}}`. The one that bills is `turn_completed`: `update.usage` holds a
//! turn's sums over its model requests, `{"inputTokens", "outputTokens",
//! "totalTokens", "cachedReadTokens", "cacheCreationTokens",
//! "reasoningTokens", "costUsdTicks", "modelCalls", "modelUsage": {<model>:
//! {the same counts}}}`. `inputTokens` includes the cached reads (and the
//! cache writes, seen as zero so far); `outputTokens` includes reasoning
//! (`totalTokens` = input + output). `costUsdTicks` is what xAI billed, in
//! 1e-10 USD.
//!
//! One call per turn and model of its `modelUsage` (a turn without that map
//! is one call of the session's current model, from `summary.json`), keyed
//! by the line's `eventId` and the model: a copy of the line, in this log or
//! another, is the same call. Its cost is its own `costUsdTicks` when it has
//! any; else it is priced from its tokens.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use memchr::memmem;
use serde::{Deserialize, Serialize};

use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::{
    LineError, LineParser, MAX_TOKENS, Record, SessionInfo, looks_complete, parse_ts, plausible_cost,
};

/// One USD in `costUsdTicks`.
pub const TICKS_PER_USD: f64 = 1e10;

/// The model named when neither the line nor the summary names one (as
/// ccusage names it).
pub const UNKNOWN_MODEL: &str = "unknown";

/// What `summary.json` says that the log does not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// The session's work dir (`info.cwd`, else `git_root_dir`).
    pub cwd: Option<String>,
    /// The session's current model (`current_model_id`).
    pub model: Option<String>,
}

impl Summary {
    /// Reads a `summary.json` document; anything else says nothing.
    pub fn parse(bytes: &[u8]) -> Summary {
        #[derive(Deserialize, Default)]
        struct Doc {
            #[serde(default)]
            info: Info,
            git_root_dir: Option<String>,
            current_model_id: Option<String>,
        }
        #[derive(Deserialize, Default)]
        struct Info {
            cwd: Option<String>,
        }
        let Ok(d) = serde_json::from_slice::<Doc>(bytes) else { return Summary::default() };
        let text = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Summary { cwd: text(d.info.cwd).or(text(d.git_root_dir)), model: text(d.current_model_id) }
    }
}

#[derive(Deserialize)]
struct Line<'a> {
    timestamp: Option<Stamp<'a>>,
    #[serde(borrow)]
    params: Option<Params<'a>>,
}

/// The envelope's `timestamp`: unix seconds (a string is read as RFC 3339).
#[derive(Deserialize)]
#[serde(untagged)]
enum Stamp<'a> {
    Seconds(f64),
    #[serde(borrow)]
    Text(Cow<'a, str>),
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow)]
    update: Option<Update<'a>>,
    #[serde(rename = "_meta", borrow)]
    meta: Option<Meta<'a>>,
}

#[derive(Deserialize)]
struct Update<'a> {
    #[serde(rename = "sessionUpdate", borrow)]
    kind: Option<Cow<'a, str>>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(rename = "eventId", borrow)]
    event_id: Option<Cow<'a, str>>,
    #[serde(rename = "agentTimestampMs")]
    at_ms: Option<f64>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
struct Counts {
    input_tokens: f64,
    output_tokens: f64,
    cached_read_tokens: f64,
    cache_creation_tokens: f64,
    reasoning_tokens: f64,
    cost_usd_ticks: f64,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Usage {
    #[serde(flatten)]
    total: Counts,
    model_usage: Option<BTreeMap<String, Counts>>,
}

/// A count as written: a whole number of tokens, not negative, not absurd.
fn count(n: f64) -> Result<u64, LineError> {
    if n.is_finite() && (0.0..=MAX_TOKENS as f64).contains(&n) { Ok(n as u64) } else { Err(LineError::Malformed) }
}

/// A model's counts as billed: cached reads, then cache writes, taken out
/// of the input that includes them; reasoning stays inside output.
fn tokens(c: &Counts) -> Result<Tokens, LineError> {
    let input = count(c.input_tokens)?;
    let cache_read = count(c.cached_read_tokens)?.min(input);
    let cache_write = count(c.cache_creation_tokens)?.min(input - cache_read);
    let output = count(c.output_tokens)?;
    Ok(Tokens {
        input: input - cache_read - cache_write,
        output,
        cache_write_5m: cache_write,
        cache_write_1h: 0,
        cache_read,
        reasoning: count(c.reasoning_tokens)?.min(output),
    })
}

/// When a line was written: its `_meta.agentTimestampMs`, else the
/// envelope's seconds.
fn time(l: &Line) -> Option<DateTime<Utc>> {
    let ms = l.params.as_ref().and_then(|p| p.meta.as_ref()).and_then(|m| m.at_ms).filter(|ms| *ms > 0.0);
    if let Some(ms) = ms {
        return ms.is_finite().then(|| DateTime::from_timestamp_millis(ms as i64)).flatten();
    }
    match l.timestamp.as_ref()? {
        Stamp::Seconds(s) if s.is_finite() && *s > 0.0 => DateTime::from_timestamp_millis((s * 1000.0) as i64),
        Stamp::Seconds(_) => None,
        Stamp::Text(t) => parse_ts(t),
    }
}

/// What the parser remembers between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    announced: bool,
}

pub struct GrokParser {
    state: State,
    session: String,
    summary: Summary,
    /// The work dir the session's folder names, when the summary has none.
    folder_cwd: Option<String>,
    finder: memmem::Finder<'static>,
}

impl GrokParser {
    /// A parser of session `session`'s log, with what its summary says and
    /// the work dir its folder names.
    pub fn new(session: &str, summary: Summary, folder_cwd: Option<String>, state: Option<&str>) -> GrokParser {
        GrokParser {
            state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
            session: session.to_string(),
            summary,
            folder_cwd,
            finder: memmem::Finder::new(b"\"turn_completed\""),
        }
    }

    fn announce(&mut self, at: Option<DateTime<Utc>>, out: &mut Vec<Record>) {
        if !self.state.announced {
            self.state.announced = true;
            out.push(Record::Session(SessionInfo {
                external_id: self.session.clone(),
                project_path: self.summary.cwd.clone().or_else(|| self.folder_cwd.clone()),
                agent_version: None,
                started_at: at,
            }));
        }
    }
}

impl LineParser for GrokParser {
    fn parse(&mut self, line: &[u8], _offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        let billing = self.finder.find(line).is_some();
        if !billing && self.state.announced {
            return if looks_complete(line) { Ok(()) } else { Err(LineError::Malformed) };
        }
        let l: Line = serde_json::from_slice(line).map_err(|_| LineError::Malformed)?;
        let at = time(&l);
        self.announce(at, out);
        let Some(params) = &l.params else { return Ok(()) };
        let Some(Update { kind: Some(kind), usage: Some(usage) }) = &params.update else { return Ok(()) };
        if kind != "turn_completed" {
            return Ok(());
        }
        let at = at.ok_or(LineError::Malformed)?;
        let event_id = params.meta.as_ref().and_then(|m| m.event_id.as_deref()).filter(|e| !e.is_empty());
        let rows: Vec<(&str, &Counts, bool)> = match &usage.model_usage {
            Some(m) if !m.is_empty() => m.iter().map(|(k, c)| (k.as_str(), c, false)).collect(),
            _ => vec![(self.summary.model.as_deref().unwrap_or(UNKNOWN_MODEL), &usage.total, true)],
        };
        let mut calls = Vec::with_capacity(rows.len());
        for (model, c, assumed) in rows {
            let t = tokens(c)?;
            if t.is_zero() {
                continue;
            }
            let ticks = c.cost_usd_ticks;
            if !(ticks.is_finite() && ticks >= 0.0) {
                return Err(LineError::Malformed);
            }
            let key = match event_id {
                Some(id) => EventKey::of(&["grok", id, model]),
                None => {
                    let ms = at.timestamp_millis().to_string();
                    let n = [t.input, t.output, t.cache_read, t.cache_write_5m].map(|n| n.to_string());
                    EventKey::of(&["grok", &self.session, &ms, model, &n[0], &n[1], &n[2], &n[3]])
                }
            };
            calls.push(Record::Usage(UsageEvent {
                key,
                session_external_id: Arc::from(self.session.as_str()),
                timestamp: at,
                model: Arc::from(model),
                model_fallback: assumed,
                fast: false,
                sidechain: false,
                tokens: t,
                cost_usd: plausible_cost(Some(ticks / TICKS_PER_USD)).filter(|c| *c > 0.0),
            }));
        }
        out.extend(calls);
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

    const SESSION: &str = "019fa7cc-a6a2-7bb0-99c4-5a235935acaa";

    fn parser(summary: Summary, state: Option<&str>) -> GrokParser {
        GrokParser::new(SESSION, summary, Some("/home/u/app".into()), state)
    }

    fn parse_with(summary: Summary, text: &str) -> (Vec<Record>, usize) {
        let mut p = parser(summary, None);
        let mut out = Vec::new();
        let mut bad = 0;
        for l in text.lines() {
            if p.parse(l.as_bytes(), 0, &mut out).is_err() {
                bad += 1;
            }
        }
        (out, bad)
    }

    fn fixture_summary() -> Summary {
        Summary::parse(include_bytes!("fixtures/summary.json"))
    }

    #[test]
    fn the_summary_names_the_work_dir_and_the_current_model() {
        assert_eq!(
            fixture_summary(),
            Summary { cwd: Some("/home/u/app".into()), model: Some("grok-4.5-build".into()) }
        );
        assert_eq!(
            Summary::parse(br#"{"info":{"id":"x"},"git_root_dir":"/w/repo"}"#),
            Summary { cwd: Some("/w/repo".into()), model: None }
        );
        assert_eq!(Summary::parse(b"{\"info\":"), Summary::default());
    }

    #[test]
    fn turns_are_calls_per_model_with_their_own_cost() {
        let (out, bad) = parse_with(fixture_summary(), include_str!("fixtures/updates.jsonl"));
        assert_eq!(bad, 1, "the cut-off last line");
        let Record::Session(s) = &out[0] else { panic!("{:?}", out[0]) };
        assert_eq!(s.external_id, SESSION);
        assert_eq!(s.project_path.as_deref(), Some("/home/u/app"));
        assert_eq!(s.started_at.map(|t| t.timestamp_millis()), Some(1_785_225_590_120), "the first line's time");
        let c = calls(&out);
        assert_eq!(c.len(), 4, "a turn of one model, a turn of two, a turn without modelUsage; no usage, no call");
        assert_eq!((c[0].model.as_ref(), c[0].model_fallback), ("grok-4.5-build", false));
        assert_eq!(c[0].timestamp.timestamp_millis(), 1_785_225_600_500, "agentTimestampMs");
        assert_eq!(
            c[0].tokens,
            Tokens { input: 800, output: 50, cache_read: 200, cache_write_5m: 0, cache_write_1h: 0, reasoning: 12 }
        );
        assert_eq!(c[0].cost_usd, Some(0.002_843));
        // The two-model turn: models in name order, each with its ticks.
        assert_eq!(c[1].model.as_ref(), "grok-4.3-build");
        assert_eq!(
            c[1].tokens,
            Tokens { input: 2100, output: 90, cache_read: 6000, cache_write_5m: 400, cache_write_1h: 0, reasoning: 0 }
        );
        assert_eq!(c[1].cost_usd, None, "no ticks: priced from tokens");
        assert_eq!((c[2].model.as_ref(), c[2].cost_usd), ("grok-4.5-build", Some(0.25)));
        assert_eq!(c[2].tokens.input, 30_000 - 24_000);
        assert_ne!(c[1].key, c[2].key, "one event, two models, two calls");
        // No modelUsage: the summary's current model, flagged as assumed.
        assert_eq!((c[3].model.as_ref(), c[3].model_fallback), ("grok-4.5-build", true));
        assert_eq!(c[3].timestamp.timestamp_millis(), 1_785_226_000_000, "the envelope's seconds");
        assert_eq!((c[3].tokens.input, c[3].tokens.cache_read, c[3].tokens.output), (700, 300, 20));
    }

    #[test]
    fn a_build_model_is_priced_as_the_model_it_names() {
        let book = crate::pricing::PriceBook::embedded();
        let m = book.lookup("grok-4.3-build").expect("priced");
        assert_eq!(Some(m.price), book.lookup("xai/grok-4.3").map(|m| m.price));
    }

    #[test]
    fn without_a_summary_a_turn_without_models_is_of_an_unknown_model() {
        let (out, bad) = parse_with(Summary::default(), include_str!("fixtures/updates.jsonl"));
        assert_eq!(bad, 1);
        let c = calls(&out);
        assert_eq!(c[3].model.as_ref(), UNKNOWN_MODEL);
        let Record::Session(s) = &out[0] else { panic!() };
        assert_eq!(s.project_path.as_deref(), Some("/home/u/app"), "from the folder's name");
    }

    #[test]
    fn a_resumed_read_equals_a_full_one() {
        let text = include_str!("fixtures/updates.jsonl");
        let (full, _) = parse_with(fixture_summary(), text);
        let lines: Vec<&str> = text.lines().collect();
        for cut in 0..lines.len() {
            let mut p = parser(fixture_summary(), None);
            let mut out = Vec::new();
            for l in &lines[..cut] {
                let _ = p.parse(l.as_bytes(), 0, &mut out);
            }
            let mut q = parser(fixture_summary(), p.state().as_deref());
            for l in &lines[cut..] {
                let _ = q.parse(l.as_bytes(), 0, &mut out);
            }
            assert_eq!(out, full, "cut at {cut}");
        }
    }

    #[test]
    fn a_copy_of_a_turn_is_the_same_call_and_garbage_is_counted() {
        let line = r#"{"timestamp":1785225600,"method":"_x.ai/session/update","params":{"sessionId":"s","update":{"sessionUpdate":"turn_completed","usage":{"modelUsage":{"grok-4.5-build":{"inputTokens":10,"outputTokens":1}}}},"_meta":{"eventId":"s-3"}}}"#;
        let mut a = GrokParser::new("s", Summary::default(), None, None);
        let mut b = GrokParser::new("s-fork", Summary::default(), None, None);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a.parse(line.as_bytes(), 0, &mut x).unwrap();
        b.parse(line.as_bytes(), 0, &mut y).unwrap();
        assert_eq!(calls(&x)[0].key, calls(&y)[0].key, "keyed by its event");
        for bad in [
            // No time at all.
            r#"{"params":{"update":{"sessionUpdate":"turn_completed","usage":{"inputTokens":5}}}}"#,
            r#"{"timestamp":1785225600,"params":{"update":{"sessionUpdate":"turn_completed","usage":{"inputTokens":-5}}}}"#,
            r#"{"timestamp":1785225600,"params":{"update":{"sessionUpdate":"turn_completed","usage":{"outputTokens":1099511627777}}}}"#,
            r#"{"timestamp":1785225600,"params":{"update":{"sessionUpdate":"turn_completed","usage":"#,
            r#"{"timestamp":"soon","params":{"update":{"sessionUpdate":"turn_completed","usage":{"inputTokens":5}}}}"#,
        ] {
            let mut p = GrokParser::new("s", Summary::default(), None, Some(r#"{"announced":true}"#));
            let mut out = Vec::new();
            assert_eq!(p.parse(bad.as_bytes(), 0, &mut out), Err(LineError::Malformed), "{bad}");
            assert!(calls(&out).is_empty());
        }
    }
}
