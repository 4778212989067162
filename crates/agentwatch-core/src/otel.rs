//! The agents' own OpenTelemetry as a live signal: the log events Claude
//! Code, Codex and Gemini CLI export (`agentwatch telemetry install`),
//! received by the API's OTLP endpoint (`api/otlp.rs`).
//!
//! What each agent's events mean is read in its own folder
//! (`sources/<agent>/otel.rs`, [`Source::otel_event`]); this module applies
//! the result:
//! - a model call is kept as *live* usage of its session until the
//!   transcript has it ([`Store::pending_calls`]); the transcript stays the
//!   ledger, so no call is counted twice;
//! - a finished tool call joins the session's feed, unless the session's
//!   hooks already report its tool calls;
//! - every event is activity, and the session is judged again.
//!
//! Telemetry creates no session: events of a session agentwatch does not
//! know (yet) are dropped.
//!
//! Events are batched by the exporters, a second or more late, so they
//! never set the state of the turn. Prompt text, tool arguments and output
//! are never stored: only names, numbers and ids are read.

use std::collections::BTreeSet;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde_json::{Map, Value};

use crate::collector::judge_now;
use crate::config::Config;
use crate::error::Result;
use crate::sources::{Source, SourceEnv};
use crate::store::{Store, event};

/// What one export request did, for the response's log and for tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Received {
    /// Log records read.
    pub records: usize,
    /// Records of an agent agentwatch reads, naming a session.
    pub events: usize,
    /// New model calls (a retried export's repeats are not new).
    pub calls: usize,
    /// The agents' session ids the events named.
    pub sessions: BTreeSet<String>,
    /// Records applied before (an exporter's retry): ignored.
    pub repeated: usize,
    /// Events of sessions agentwatch does not know (side threads such as
    /// Codex's title generation): dropped.
    pub unmatched: usize,
}

/// Applies every log record of one OTLP logs export.
pub fn record_logs(
    store: &Store,
    cfg: &Config,
    env: &SourceEnv,
    req: &ExportLogsServiceRequest,
    now: i64,
) -> Result<Received> {
    let sources = crate::sources::all(env);
    let mut out = Received::default();
    let mut touched = BTreeSet::new();
    for rl in &req.resource_logs {
        let mut base = Map::new();
        if let Some(r) = &rl.resource {
            flatten(&r.attributes, &mut base);
        }
        for sl in &rl.scope_logs {
            for rec in &sl.log_records {
                out.records += 1;
                let mut attrs = base.clone();
                flatten(&rec.attributes, &mut attrs);
                // Where the name is depends on the agent: the record's event
                // name, its body (Claude Code), its `event.name` attribute.
                let body = rec.body.as_ref().and_then(|b| match &b.value {
                    Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
                    _ => None,
                });
                let attr = attrs.get("event.name").and_then(Value::as_str);
                let found = [Some(rec.event_name.as_str()), body, attr].into_iter().flatten().find_map(|name| {
                    let src = sources.iter().find(|s| s.otel_prefix().is_some_and(|p| name.starts_with(p)))?;
                    Some((name.to_string(), src))
                });
                let Some((name, src)) = found else { continue };
                let Some(mut ev) = src.otel_event(&name, &attrs) else { continue };
                // Codex reports each completed response twice, once with
                // no tokens: that one is no call.
                ev.call = ev.call.filter(|c| c.tokens.total() > 0);
                let ns = if rec.time_unix_nano > 0 { rec.time_unix_nano } else { rec.observed_time_unix_nano };
                // An event from the future (a skewed clock) happened now.
                let at = if ns == 0 { now } else { ((ns / 1_000_000) as i64).min(now) };
                // A batch the exporter sends again is applied once: the same
                // record, time and attributes (two records of one moment
                // differ in them: Codex's two `response.completed`).
                let all = serde_json::to_string(&attrs).expect("serializes");
                let key = crate::model::EventKey::of(&[src.agent(), &ev.session_id, &name, &ns.to_string(), &all]);
                if !store.first_sight_of_otel_record(key.id, at)? {
                    out.repeated += 1;
                    continue;
                }
                let Some(pk) = apply(store, src.as_ref(), &ev, at)? else {
                    out.unmatched += 1;
                    continue;
                };
                out.events += 1;
                if ev.call.is_some() && store.record_otel_call(pk, ev.call.as_ref().expect("checked"), at)? {
                    out.calls += 1;
                }
                out.sessions.insert(ev.session_id.clone());
                touched.insert(pk);
            }
        }
    }
    for pk in touched {
        judge_now(store, cfg, pk, "its telemetry")?;
    }
    if out.records > 0 {
        tally(store, &out, now)?;
    }
    Ok(out)
}

/// The meta key of what telemetry has arrived: [`Tally`] as JSON.
pub const RECEIVED: &str = "otel_received";

/// Telemetry received so far, for `agentwatch status`: is it arriving?
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub records: u64,
    pub events: u64,
    pub calls: u64,
    /// When the last export arrived (ms).
    pub last_at: i64,
}

impl Tally {
    pub fn load(store: &Store) -> Result<Option<Tally>> {
        Ok(store.meta(RECEIVED)?.and_then(|s| serde_json::from_str(&s).ok()))
    }
}

fn tally(store: &Store, r: &Received, now: i64) -> Result<()> {
    let mut t = Tally::load(store)?.unwrap_or_default();
    t.records += r.records as u64;
    t.events += r.events as u64;
    t.calls += r.calls as u64;
    t.last_at = now;
    store.set_meta(RECEIVED, &serde_json::to_string(&t).expect("serializes"))
}

/// Records the event's activity, tool call and decision on its session.
/// Telemetry creates no session: one the agent's process, files or hooks
/// did not show (a side thread, such as Codex's title generation) is none
/// the person runs. Returns the session's key, if it is known.
fn apply(store: &Store, src: &dyn Source, ev: &crate::sources::OtelEvent, at: i64) -> Result<Option<i64>> {
    let Some(pk) = store.session_by_external_id(src.agent(), &ev.session_id)? else { return Ok(None) };
    let Some(row) = store.session_by_pk(pk)? else { return Ok(None) };
    store.touch_activity(row.pk, at)?;
    if let Some((tool, failed)) = &ev.tool_call
        && !store.has_hook_tool_calls(row.pk)?
    {
        store.record_tool_call(row.pk, tool, "otel", *failed, at)?;
    }
    if let Some((tool, decision)) = &ev.decision {
        let data =
            serde_json::json!({"at": crate::views::iso(at), "tool": tool, "decision": decision, "source": "otel"});
        store.push_event(event::TOOL_DECISION, Some(&row.id), Some(&data.to_string()))?;
    }
    Ok(Some(row.pk))
}

/// OTLP attributes as JSON: strings, numbers, booleans; arrays and maps as
/// JSON too. Later keys replace earlier ones (a record's own attributes
/// over its resource's).
pub fn flatten(kvs: &[KeyValue], into: &mut Map<String, Value>) {
    for kv in kvs {
        if let Some(v) = kv.value.as_ref().and_then(any) {
            into.insert(kv.key.clone(), v);
        }
    }
}

fn any(v: &AnyValue) -> Option<Value> {
    Some(match v.value.as_ref()? {
        any_value::Value::StringValue(s) => Value::String(s.clone()),
        any_value::Value::BoolValue(b) => Value::Bool(*b),
        any_value::Value::IntValue(i) => Value::from(*i),
        any_value::Value::DoubleValue(d) => serde_json::Number::from_f64(*d).map(Value::Number)?,
        any_value::Value::ArrayValue(a) => Value::Array(a.values.iter().filter_map(any).collect()),
        any_value::Value::KvlistValue(l) => {
            let mut m = Map::new();
            flatten(&l.values, &mut m);
            Value::Object(m)
        }
        // Bytes are nothing agentwatch reads.
        any_value::Value::BytesValue(_) => return None,
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}
