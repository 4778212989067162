//! OpenClaw's transcripts, line by line: pi's session files.
//!
//! OpenClaw runs pi's agent core and writes its transcripts with pi's
//! `SessionManager`, so a transcript is pi's format (`sources/pi`): a
//! `session` header, then entries, a model call being an assistant
//! `message` with pi-ai's `usage` (`cost.total` as OpenClaw priced it).
//! The same parser reads them ([`PiParser`]), with OpenClaw's key and its
//! session, named by the file (`paths::session_of_name`). OpenClaw adds:
//!
//! - `custom` entries, among them `model-snapshot` (`data.provider`,
//!   `data.modelId`): the model from then on, as a `model_change` is;
//! - the assistant messages it mirrors when it delivers a reply to a chat
//!   channel (`provider` `openclaw`, `model` `delivery-mirror`), with all
//!   usage zero: no call;
//! - a compaction's checkpoint copy of the whole transcript
//!   (`<id>.checkpoint.<uuid>.jsonl`, `fs.copyFileSync`): its calls are the
//!   transcript's, keyed alike, so they count once;
//! - the usage of calls that leave no assistant message: a `compaction`'s
//!   or `branch_summary`'s `usageAccounting` (`provider`, `model`, `usage`,
//!   `usageBudgetOperationId`), and `custom` entries
//!   `openclaw:compaction-usage` and `openclaw:model-call-usage` whose
//!   `data.message` is such a call's (`provider`, `model`, `usage`,
//!   `timestamp`); `data.usageBudgetBridge` marks the usage-budget ledger's
//!   row of a call, which OpenClaw leaves out when another row holds the
//!   same call ([`accounting`](super::accounting)).
//!
//! A call is dated by its entry's `timestamp` (when it was written), else
//! its message's, as OpenClaw's own usage report dates it
//! (`session-cost-usage.ts`, `parseTimestamp`).

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use chrono::DateTime;
use memchr::memmem;
use serde::Deserialize;

use super::accounting::{Ledger, Owner, Row};
use crate::model::{EventKey, UsageEvent};
use crate::sources::pi::parser::{CallFacts, UNKNOWN_MODEL, Usage};
use crate::sources::{LineError, LineParser, Record, parse_ts};

pub use crate::sources::pi::parser::PiParser;

/// OpenClaw's `custom` entry of a hidden compaction call's usage.
pub const COMPACTION_USAGE: &str = "openclaw:compaction-usage";
/// OpenClaw's `custom` entry of a hidden or ephemeral model call's usage.
pub const MODEL_CALL_USAGE: &str = "openclaw:model-call-usage";

/// The session of a transcript file.
pub fn session_of_path(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    super::paths::session_of_name(&name).unwrap_or(name)
}

/// A parser of an OpenClaw transcript.
pub fn parser(path: &Path, state: Option<&str>) -> OpenClawParser {
    OpenClawParser {
        pi: PiParser::for_agent("openclaw", session_of_path(path), state).with_facts(),
        ledger: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
        finders: [memmem::Finder::new(b"\"usageAccounting\""), memmem::Finder::new(b"\"openclaw:")],
    }
}

/// An accounting entry's line: what OpenClaw's report reads of it
/// (`resolveTranscriptEntryMessage`, `resolveUsageBudgetOperationId`).
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "customType", borrow)]
    custom_type: Option<Cow<'a, str>>,
    #[serde(rename = "usageAccounting", borrow)]
    usage_accounting: Option<Call<'a>>,
    #[serde(borrow)]
    data: Option<Data<'a>>,
    #[serde(rename = "usageBudgetOperationId", borrow)]
    operation: Option<Cow<'a, str>>,
}

/// A custom entry's `data`.
#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    message: Option<Call<'a>>,
    #[serde(rename = "usageBudgetBridge")]
    bridge: Option<bool>,
    #[serde(rename = "usageBudgetOperationId", borrow)]
    operation: Option<Cow<'a, str>>,
}

/// A call's usage: a `usageAccounting`, or a custom entry's `data.message`.
#[derive(Deserialize)]
struct Call<'a> {
    #[serde(borrow)]
    provider: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    usage: Option<Usage>,
    /// ms (a `data.message`'s).
    timestamp: Option<f64>,
    #[serde(rename = "usageBudgetOperationId", borrow)]
    operation: Option<Cow<'a, str>>,
}

/// What an accounting entry is to OpenClaw's report
/// (`resolveUsageAccountingSource`).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A compaction's, a branch summary's, an `openclaw:compaction-usage`.
    Aggregate,
    /// An `openclaw:model-call-usage` that is no bridge: a call of its own.
    Call,
    /// An `openclaw:model-call-usage` with `usageBudgetBridge`.
    Bridge,
}

/// Parses OpenClaw's transcripts: pi's lines ([`PiParser`]) and OpenClaw's
/// accounting entries, a call counted once whichever rows hold it.
pub struct OpenClawParser {
    pi: PiParser,
    ledger: Ledger,
    finders: [memmem::Finder<'static>; 2],
}

fn text(v: &Option<Cow<'_, str>>) -> Option<String> {
    v.as_deref().map(str::to_string)
}

/// The first operation id named, in the order OpenClaw looks
/// (`resolveUsageBudgetOperationId`).
fn operation<const N: usize>(ids: [Option<&str>; N]) -> Option<String> {
    ids.into_iter().flatten().find(|o| !o.trim().is_empty()).map(str::to_string)
}

impl OpenClawParser {
    /// An accounting entry's line; `Ok(false)` when it is none (or not
    /// one OpenClaw reads: a `usageAccounting` that is no object), pi's then.
    fn accounting(&mut self, line: &[u8], out: &mut Vec<Record>) -> Result<bool, LineError> {
        let Ok(l) = serde_json::from_slice::<Line>(line) else { return Ok(false) };
        let data_op = l.data.as_ref().and_then(|d| d.operation.as_deref());
        let (kind, call, op) = match (l.kind.as_deref(), l.custom_type.as_deref()) {
            (Some("compaction" | "branch_summary"), _) => match &l.usage_accounting {
                Some(a) => (Kind::Aggregate, a, operation([a.operation.as_deref(), data_op, l.operation.as_deref()])),
                None => return Ok(false),
            },
            (Some("custom"), Some(t @ (COMPACTION_USAGE | MODEL_CALL_USAGE))) => {
                let Some(d) = &l.data else { return Ok(true) };
                let Some(m) = &d.message else { return Ok(true) };
                let kind = match (t, d.bridge) {
                    (COMPACTION_USAGE, _) => Kind::Aggregate,
                    (_, Some(true)) => Kind::Bridge,
                    _ => Kind::Call,
                };
                // Not the message's own id: the report looks at the entry's
                // `message`, which a custom entry has not.
                (kind, m, operation([data_op, l.operation.as_deref()]))
            }
            _ => return Ok(false),
        };
        let Some(u) = call.usage else { return Ok(true) };
        let tokens = u.tokens()?;
        let ts = l.timestamp.as_deref().map(|t| parse_ts(t).ok_or(LineError::Malformed)).transpose()?;
        let started = call.timestamp.filter(|t| t.is_finite() && *t >= 0.0).map(|t| t as i64);
        let at = ts.or_else(|| started.and_then(DateTime::from_timestamp_millis)).ok_or(LineError::Malformed)?;
        self.pi.announce_at(at, out);
        if tokens.is_zero() {
            return Ok(true);
        }
        let row = Row {
            provider: text(&call.provider),
            model: text(&call.model),
            counts: u.counts(),
            operation: op,
            at: at.timestamp_millis(),
        };
        let named = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let (assumed_model, assumed_provider) = self.pi.assumed();
        let name = named(&row.model);
        let model = name.clone().or_else(|| assumed_model.map(str::to_string)).unwrap_or_else(|| UNKNOWN_MODEL.into());
        let provider = named(&row.provider).or_else(|| assumed_provider.map(str::to_string)).unwrap_or_default();
        let n = row.counts.map(|n| n.to_string());
        let key = EventKey::of(&[
            "openclaw",
            "usage-entry",
            l.id.as_deref().unwrap_or(""),
            &at.timestamp_millis().to_string(),
            &provider,
            &model,
            &n[0],
            &n[1],
            &n[2],
            &n[3],
        ]);
        let mut event = UsageEvent {
            key,
            session_external_id: Arc::from(self.pi.session()),
            timestamp: at,
            model: Arc::from(model.as_str()),
            model_fallback: name.is_none(),
            fast: false,
            sidechain: false,
            tokens,
            cost_usd: u.cost(),
        };
        match kind {
            Kind::Bridge => {
                if self.ledger.bridge(row, key, event.cost_usd) {
                    out.push(Record::Usage(event));
                }
            }
            Kind::Aggregate | Kind::Call => {
                let owner = self.ledger.owner(row, kind == Kind::Aggregate, event.cost_usd);
                if settle(&mut event, owner) {
                    out.push(Record::Usage(event));
                }
            }
        }
        Ok(true)
    }
}

/// Applies what the ledger says of an owner's event; whether to count it.
fn settle(event: &mut UsageEvent, owner: Owner) -> bool {
    match owner {
        Owner::Count => true,
        Owner::Replace { key, cost } => {
            event.key = key;
            event.cost_usd = cost.or(event.cost_usd);
            true
        }
        Owner::Covered => false,
        Owner::Rest { counts, cost } => {
            let rest = Usage {
                input: counts[0],
                output: counts[1],
                cache_read: counts[2],
                cache_write: counts[3],
                total_tokens: counts[4],
                ..Usage::default()
            };
            event.tokens = rest.tokens().unwrap_or_default();
            event.cost_usd = cost;
            !event.tokens.is_zero()
        }
    }
}

impl LineParser for OpenClawParser {
    fn parse(&mut self, line: &[u8], _offset: u64, out: &mut Vec<Record>) -> Result<(), LineError> {
        if self.finders.iter().any(|f| f.find(line).is_some()) && self.accounting(line, out)? {
            return Ok(());
        }
        let Some(CallFacts { provider, model, counts, operation }) = self.pi.parse_call(line, out)? else {
            return Ok(());
        };
        // The call pi's parser just gave: an owner.
        let Some(Record::Usage(event)) = out.last_mut() else { return Ok(()) };
        let row = Row { provider, model, counts, operation, at: event.timestamp.timestamp_millis() };
        let owner = self.ledger.owner(row, false, event.cost_usd);
        if !settle(event, owner) {
            out.pop();
        }
        Ok(())
    }

    fn state(&self) -> Option<String> {
        let mut state: serde_json::Map<String, serde_json::Value> =
            self.pi.state().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
        if let Ok(serde_json::Value::Object(ledger)) = serde_json::to_value(&self.ledger) {
            state.extend(ledger);
        }
        Some(serde_json::Value::Object(state).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Tokens, UsageEvent};
    use crate::sources::{LineParser, Record, calls};

    const SESSION: &str = "4f1c2a9e-7b3d-4e21-9c5a-1d2e3f4a5b6c";
    const TEXT: &str = include_str!("fixtures/4f1c2a9e-7b3d-4e21-9c5a-1d2e3f4a5b6c.jsonl");

    fn parse_all(path: &str, text: &str) -> (Vec<Record>, usize) {
        let mut p = parser(Path::new(path), None);
        let mut out = Vec::new();
        let mut bad = 0;
        for l in text.lines() {
            if p.parse(l.as_bytes(), 0, &mut out).is_err() {
                bad += 1;
            }
        }
        (out, bad)
    }

    fn path(name: &str) -> String {
        format!("/h/.openclaw/agents/main/sessions/{name}")
    }

    #[test]
    fn assistant_messages_are_calls_and_delivery_mirrors_are_not() {
        // The transcript up to its first compaction, which recorded no usage.
        let text: Vec<&str> = TEXT.lines().take(12).collect();
        let (out, bad) = parse_all(&path(&format!("{SESSION}.jsonl")), &text.join("\n"));
        assert_eq!(bad, 0);
        let Record::Session(s) = &out[0] else { panic!("{:?}", out[0]) };
        assert_eq!((s.external_id.as_str(), s.project_path.as_deref()), (SESSION, Some("/home/u/.openclaw/workspace")));
        let c = calls(&out);
        assert_eq!(c.len(), 3, "the delivery mirror has no usage");
        assert_eq!(
            c[0].tokens,
            Tokens { input: 4, output: 96, cache_read: 0, cache_write_5m: 9210, cache_write_1h: 0, reasoning: 0 }
        );
        assert_eq!(
            (c[0].model.as_ref(), c[0].model_fallback, c[0].cost_usd),
            ("claude-opus-4-5", false, Some(0.0599825))
        );
        assert_eq!(
            c[1].timestamp.to_rfc3339(),
            "2026-05-03T00:00:03.250+00:00",
            "when it was written, as OpenClaw dates it (begun the day before)"
        );
        assert_eq!((c[2].model.as_ref(), c[2].model_fallback), ("claude-opus-4-5", true), "from the model snapshot");
        assert!(c.iter().all(|e| e.session_external_id.as_ref() == SESSION));
    }

    fn tokens(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Tokens {
        Tokens { input, output, cache_read, cache_write_5m: cache_write, cache_write_1h: 0, reasoning: 0 }
    }

    /// The calls of 2026-05-04, when a usage budget made OpenClaw write a
    /// bridge for each call (fixture lines 13–29): each counted once.
    #[test]
    fn accounting_entries_count_each_call_once_as_openclaws_report_does() {
        let (out, bad) = parse_all(&path(&format!("{SESSION}.jsonl")), TEXT);
        assert_eq!(bad, 0);
        let day: Vec<&UsageEvent> =
            calls(&out).into_iter().filter(|e| e.timestamp.date_naive().to_string() == "2026-05-04").collect();
        let got: Vec<(&str, Tokens, Option<f64>, String)> = day
            .iter()
            .map(|e| (e.model.as_ref(), e.tokens, e.cost_usd, e.timestamp.format("%H:%M:%S%.3f").to_string()))
            .collect();
        let opus = "claude-opus-4-5";
        let at = |t: &str| t.to_string();
        assert_eq!(
            got,
            [
                // The budget's bridge, then the assistant message of the same
                // call (the same operation id, which OpenClaw's observer puts on both).
                (opus, tokens(10, 50, 9000, 100), Some(0.006425), at("09:00:01.000")),
                (opus, tokens(10, 50, 9000, 100), Some(0.006425), at("09:00:05.200")),
                // The assistant message, then its bridge (nothing): no
                // operation ids, written within five minutes.
                (opus, tokens(3, 20, 9160, 0), Some(0.005095), at("09:10:04.000")),
                // An ephemeral call's own entry, no bridge.
                ("gpt-5-mini", tokens(800, 120, 0, 0), Some(0.00044), at("09:20:00.000")),
                // A bridge no other row holds: a hidden call.
                ("claude-haiku-4-5", tokens(1200, 30, 0, 0), Some(0.00135), at("09:30:00.000")),
                // A compaction's two summarization calls; its usageAccounting adds nothing.
                (opus, tokens(6000, 400, 0, 0), Some(0.04), at("10:00:00.000")),
                (opus, tokens(2500, 300, 0, 0), Some(0.02), at("10:00:20.000")),
                // A branch summary's one call: its bridge, then its usageAccounting.
                (opus, tokens(1500, 200, 0, 0), Some(0.0125), at("11:00:00.000")),
                (opus, tokens(1500, 200, 0, 0), Some(0.0125), at("11:00:05.000")),
                // openclaw:compaction-usage; its two bridges after it add nothing.
                (opus, tokens(900, 150, 0, 0), Some(0.00825), at("12:00:00.000")),
            ]
        );
        // The second row of a call takes the first's key: counted once.
        assert_eq!((day[0].key, day[7].key), (day[1].key, day[8].key));
        let mut keys: Vec<_> = day.iter().map(|e| e.key).collect();
        keys.dedup();
        assert_eq!(keys.len(), 8);
        // Per call, as OpenClaw's report adds them up: input 10913 + 800 +
        // 1200, output 1120 + 120 + 30, cache read 18160, write 100.
        let (mut sum, mut cost) = (Tokens::default(), 0.0);
        for (i, e) in day.iter().enumerate() {
            if i != 1 && i != 8 {
                sum.add(&e.tokens);
                cost += e.cost_usd.unwrap();
            }
        }
        assert_eq!(sum, tokens(12913, 1270, 18160, 100));
        assert!((cost - (0.09227 + 0.00044 + 0.00135)).abs() < 1e-12, "{cost}");
        assert!(day.iter().all(|e| e.session_external_id.as_ref() == SESSION && !e.model_fallback));
        // pi's parser reads the messages alone.
        let mut pi = PiParser::new(Path::new("/h/.pi/agent/sessions/--x--/2026-05-02T23-50-00-120Z_a.jsonl"), None);
        let mut out = Vec::new();
        for l in TEXT.lines() {
            pi.parse(l.as_bytes(), 0, &mut out).unwrap();
        }
        assert_eq!(calls(&out).len(), 5);
    }

    #[test]
    fn odd_accounting_lines() {
        let p = path(&format!("{SESSION}.jsonl"));
        let one = |line: &str| {
            let (out, bad) = parse_all(&p, line);
            (
                calls(&out).into_iter().map(|e| (e.model.to_string(), e.tokens, e.model_fallback)).collect::<Vec<_>>(),
                bad,
            )
        };
        // A message about usageAccounting is a message.
        let (c, bad) = one(
            r#"{"type":"message","timestamp":"2026-05-04T00:00:00Z","message":{"role":"assistant","content":[{"type":"text","text":"\"usageAccounting\" and \"openclaw:model-call-usage\""}],"model":"m","usage":{"input":1,"output":2}}}"#,
        );
        assert_eq!((c, bad), (vec![("m".into(), tokens(1, 2, 0, 0), false)], 0));
        // No model named: the last model change's; only the message's time.
        let lines = [
            r#"{"type":"model_change","timestamp":"2026-05-04T00:00:00Z","provider":"anthropic","modelId":"claude-sonnet-4-5"}"#,
            r#"{"type":"custom","customType":"openclaw:model-call-usage","data":{"message":{"usage":{"input":5,"output":6},"timestamp":1777852800000}}}"#,
        ];
        let (c, bad) = one(&lines.join("\n"));
        assert_eq!((c, bad), (vec![("claude-sonnet-4-5".into(), tokens(5, 6, 0, 0), true)], 0));
        // Not counted: no usage, all zeros (a failed call), a usageAccounting
        // that is no object, another custom entry.
        for line in [
            r#"{"type":"custom","customType":"openclaw:model-call-usage","timestamp":"2026-05-04T00:00:00Z","data":{"usageBudgetBridge":true,"message":{"model":"m","stopReason":"error"}}}"#,
            r#"{"type":"custom","customType":"openclaw:compaction-usage","timestamp":"2026-05-04T00:00:00Z","data":{"message":{"model":"m","usage":{"input":0,"output":0}}}}"#,
            r#"{"type":"compaction","timestamp":"2026-05-04T00:00:00Z","summary":"s","usageAccounting":"none"}"#,
            r#"{"type":"custom","customType":"openclaw:something","timestamp":"2026-05-04T00:00:00Z","data":"x"}"#,
        ] {
            assert_eq!(one(line), (vec![], 0), "{line}");
        }
        // Malformed: no time at all, a bad time, cut off.
        for line in [
            r#"{"type":"custom","customType":"openclaw:model-call-usage","data":{"message":{"model":"m","usage":{"input":5}}}}"#,
            r#"{"type":"branch_summary","timestamp":"soon","usageAccounting":{"model":"m","usage":{"input":5}}}"#,
            r#"{"type":"custom","customType":"openclaw:model-call-usage","timestamp":"2026-05-04T00:00:00Z","data":{"message":{"model":"m","usage":{"in"#,
        ] {
            assert_eq!(one(line), (vec![], 1), "{line}");
        }
    }

    #[test]
    fn bad_lines_are_counted_and_the_rest_is_read() {
        let p = path(&format!("{SESSION}.jsonl"));
        let (full, _) = parse_all(&p, TEXT);
        // Garbage between the lines OpenClaw wrote: a cut line, text, a
        // call at no time, one with an impossible count.
        let bad = [
            r#"{"type":"message","timestamp":"2026-05-03T08:15:04.000Z","message":{"role":"assi"#,
            "not json",
            r#"{"type":"message","timestamp":"yesterday","message":{"role":"assistant","model":"m","usage":{"output":2}}}"#,
            r#"{"type":"message","timestamp":"2026-05-03T08:15:04.000Z","message":{"role":"assistant","model":"m","usage":{"output":1099511627777}}}"#,
        ];
        let mut text = String::new();
        for (i, l) in TEXT.lines().enumerate() {
            text.push_str(l);
            text.push('\n');
            if let Some(b) = bad.get(i) {
                text.push_str(b);
                text.push('\n');
            }
        }
        let (out, n) = parse_all(&p, &text);
        assert_eq!(n, 4);
        assert_eq!(calls(&out).len(), 13, "the fixture's calls, accounting entries included");
        assert_eq!(out, full, "the rest as without them");
    }

    #[test]
    fn a_checkpoint_copy_and_an_archive_are_the_sessions_own_calls() {
        let (a, _) = parse_all(&path(&format!("{SESSION}.jsonl")), TEXT);
        let (b, _) =
            parse_all(&path(&format!("{SESSION}.checkpoint.0b9e8f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b.jsonl")), TEXT);
        let (r, _) = parse_all(&path(&format!("{SESSION}.jsonl.reset.2026-05-04T07-00-00.000Z")), TEXT);
        assert_eq!(a, b, "same session, same keys");
        assert_eq!(a, r);
        let (pi, _) = {
            let mut p = PiParser::new(Path::new(&path(&format!("{SESSION}.jsonl"))), None);
            let mut out = Vec::new();
            for l in TEXT.lines() {
                let _ = p.parse(l.as_bytes(), 0, &mut out);
            }
            (out, 0)
        };
        assert_ne!(calls(&pi)[0].key, calls(&a)[0].key, "an OpenClaw call is not a pi call");
    }

    #[test]
    fn a_resumed_read_equals_a_full_one() {
        let p = path(&format!("{SESSION}.jsonl"));
        let (full, _) = parse_all(&p, TEXT);
        let lines: Vec<&str> = TEXT.lines().collect();
        for cut in 0..lines.len() {
            let mut a = parser(Path::new(&p), None);
            let mut out = Vec::new();
            for l in &lines[..cut] {
                let _ = a.parse(l.as_bytes(), 0, &mut out);
            }
            let mut b = parser(Path::new(&p), a.state().as_deref());
            for l in &lines[cut..] {
                let _ = b.parse(l.as_bytes(), 0, &mut out);
            }
            assert_eq!(out, full, "cut at {cut}");
        }
        let (out, bad) = parse_all(
            &p,
            "{\"type\":\"message\",\"timestamp\":\"2026-05-03T08:15:04.000Z\",\"message\":{\"role\":\"assi",
        );
        assert_eq!((calls(&out).len(), bad), (0, 1));
    }
}
