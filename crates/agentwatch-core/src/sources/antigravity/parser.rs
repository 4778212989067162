//! An Antigravity conversation's database, read as records: the conversation
//! is a session, each model call's usage (in a step's metadata, in a
//! generation's metadata, or a retry of either) a call. The rows are what
//! [`storage::sqlite`](crate::sources::storage::sqlite) reads; this file
//! never opens one. Field numbers and where they were learnt: README.md.
//!
//! The same call is often written twice (a step's metadata and its
//! generation's): copies are one call when they share an id (the response's,
//! the provider's message id, or Antigravity's message id), and they are
//! merged as ccusage merges them: each count the largest of the copies, the
//! time the best known (a step's or generation's own time, then the
//! conversation's creation, then the file's modification).
//!
//! A conversation's database is small and its calls refer to each other (a
//! generation's model carries over to the next, copies merge), so it is read
//! whole at each change; a call read again has the same key and replaces.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};

use super::AGENT;
use super::wire::{Malformed, Message};
use crate::model::{EventKey, Tokens, UsageEvent};
use crate::sources::storage::sqlite::Db;
use crate::sources::{MAX_TOKENS, Record, SessionInfo, TableReader};

/// The model of a call whose files name none (ccusage's name for it).
pub const DEFAULT_MODEL: &str = "gemini-internal-model";

/// How much a call's time is to be trusted: a copy's better time wins.
const AT_OWN: u8 = 3;
const AT_CONVERSATION: u8 = 1;
const AT_FILE: u8 = 0;

/// What the reader keeps between reads: the rows seen, so that a malformed
/// row is counted once, not at every read of the whole database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct State {
    /// The highest `gen_metadata.idx` read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    g: Option<i64>,
    /// The highest `steps.idx` read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<i64>,
    /// The highest `trajectory_metadata_blob` rowid read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<i64>,
}

/// Reads one conversation's database.
pub struct AntigravityReader {
    /// The conversation: the database's file name without `.db`.
    conversation: String,
    /// The database's modification time (ms): the time of a call nothing
    /// else dates, as ccusage dates it.
    mtime_ms: Option<i64>,
    state: State,
}

impl AntigravityReader {
    pub fn new(conversation: &str, mtime_ms: Option<i64>, state: Option<&str>) -> AntigravityReader {
        AntigravityReader {
            conversation: conversation.to_string(),
            mtime_ms,
            state: state.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default(),
        }
    }
}

// ---------------------------------------------------------------------------
// The blobs.

/// A `ModelUsageStats`-like message: one model call's usage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// Field 1: the model, as Antigravity's model enum (0: none).
    pub model_id: Option<u64>,
    /// Field 2: input tokens, cache reads not included.
    pub input: u64,
    /// Field 3: output tokens, thinking included.
    pub output: u64,
    /// Field 4: cache writes.
    pub cache_write: u64,
    /// Field 5: cache reads.
    pub cache_read: u64,
    /// Field 9: thinking tokens.
    pub reasoning: u64,
    /// Field 10: the reply's own tokens.
    pub visible: u64,
    /// Field 7: Antigravity's message id.
    pub message_id: Option<String>,
    /// Field 11: the response's id.
    pub response_id: Option<String>,
    /// Field 12: the provider's message id.
    pub provider_message_id: Option<String>,
}

/// A count: at most [`MAX_TOKENS`], else the blob is garbage.
fn count(m: &Message<'_>, n: u32) -> Result<u64, Malformed> {
    let v = m.varint(n).unwrap_or(0);
    if v > MAX_TOKENS { Err(Malformed) } else { Ok(v) }
}

fn usage(b: &[u8]) -> Result<Usage, Malformed> {
    let m = Message::parse(b)?;
    let text = |n| m.text(n).map(str::to_string);
    Ok(Usage {
        model_id: m.varint(1).filter(|v| *v != 0),
        input: count(&m, 2)?,
        output: count(&m, 3)?,
        cache_write: count(&m, 4)?,
        cache_read: count(&m, 5)?,
        reasoning: count(&m, 9)?,
        visible: count(&m, 10)?,
        message_id: text(7),
        response_id: text(11),
        provider_message_id: text(12),
    })
}

/// A retry: a message whose field 2 is the failed attempt's usage.
fn retries(m: &Message<'_>, n: u32) -> Result<Vec<Usage>, Malformed> {
    let mut out = Vec::new();
    for b in m.all_bytes(n) {
        if let Some(u) = Message::parse(b)?.bytes(2) {
            out.push(usage(u)?);
        }
    }
    Ok(out)
}

/// A `google.protobuf.Timestamp` (seconds 1, nanos 2) in ms, if it is one.
fn timestamp(b: &[u8]) -> Result<Option<i64>, Malformed> {
    let m = Message::parse(b)?;
    let Some(secs) = m.varint(1).filter(|s| *s > 0 && *s <= i64::MAX as u64) else { return Ok(None) };
    let nanos = m.varint(2).unwrap_or(0).min(999_999_999);
    let ms = (secs as i64).checked_mul(1000).and_then(|ms| ms.checked_add((nanos / 1_000_000) as i64));
    Ok(ms.filter(|ms| chrono::DateTime::from_timestamp_millis(*ms).is_some()))
}

/// What one step's or generation's metadata says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    /// The model it names (normalized), by name or by Antigravity's id.
    pub model: Option<String>,
    /// Its time (ms).
    pub at: Option<i64>,
    pub usage: Option<Usage>,
    pub retries: Vec<Usage>,
}

fn named(text: Option<&str>, id: Option<u64>) -> Option<String> {
    text.and_then(normalize_model).or_else(|| id.and_then(|i| normalize_model(&model_of_id(i))))
}

/// A `gen_metadata.data` blob: its field 1 is the generation (a chat
/// model's request): usage 4, retries 17, time 9.4, model 19 (else 21; else
/// Antigravity's id, 3).
pub fn generation(b: &[u8]) -> Result<Meta, Malformed> {
    let root = Message::parse(b)?;
    let chat = root.message(1)?.ok_or(Malformed)?;
    let at = match chat.message(9)? {
        Some(info) => info.bytes(4).map(timestamp).transpose()?.flatten(),
        None => None,
    };
    Ok(Meta {
        model: named(chat.text(19).or_else(|| chat.text(21)), chat.varint(3).filter(|v| *v != 0)),
        at,
        usage: chat.bytes(4).map(usage).transpose()?,
        retries: retries(&chat, 17)?,
    })
}

/// A `steps.metadata` blob: usage 9, retries 28, time 8 (else 1), the model
/// in field 24 (its name 12, else 8; else Antigravity's id, 1).
pub fn step(b: &[u8]) -> Result<Meta, Malformed> {
    let m = Message::parse(b)?;
    let info = m.message(24)?;
    let model = info.as_ref().and_then(|i| named(i.text(12).or_else(|| i.text(8)), i.varint(1).filter(|v| *v != 0)));
    Ok(Meta {
        model,
        at: m.bytes(8).or_else(|| m.bytes(1)).map(timestamp).transpose()?.flatten(),
        usage: m.bytes(9).map(usage).transpose()?,
        retries: retries(&m, 28)?,
    })
}

/// A `trajectory_metadata_blob.data` blob: the conversation's creation
/// (field 2) and, when it is there, its workspace (`file://` URI, field 1.1).
pub fn trajectory(b: &[u8]) -> Result<(Option<i64>, Option<String>), Malformed> {
    let m = Message::parse(b)?;
    let created = m.bytes(2).map(timestamp).transpose()?.flatten();
    // The workspace is not ccusage's: a blob without it is no worse for it.
    let workspace = m.bytes(1).and_then(|w| Message::parse(w).ok()).and_then(|w| w.text(1).and_then(file_uri_path));
    Ok((created, workspace))
}

/// `file:///home/u/app` → `/home/u/app`; `file:///c%3A/src` → `c:/src`.
fn file_uri_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("file://")?;
    let mut out = Vec::with_capacity(rest.len());
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c)))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    let path = String::from_utf8(out).ok()?;
    // A Windows drive: `/c:/src` is `c:/src`.
    let path = match path.as_bytes() {
        [b'/', d, b':', ..] if d.is_ascii_alphabetic() => path[1..].to_string(),
        _ => path,
    };
    (!path.is_empty()).then_some(path)
}

// ---------------------------------------------------------------------------
// Models: Antigravity's names and ids, as ccusage 20.0.24 names them.

/// Antigravity's model enum: the values seen, by name.
fn model_of_id(id: u64) -> String {
    let known = match id {
        246 => "gemini-2.5-pro",
        312 => "gemini-2.5-flash",
        313 | 329 => "gemini-2.5-flash-thinking",
        330 => "gemini-2.5-flash-lite",
        281 | 282 => "claude-4-sonnet",
        290 | 291 => "claude-4-opus",
        333 | 334 => "claude-4.5-sonnet",
        340 | 341 => "claude-4.5-haiku",
        342 => "model_openai_gpt_oss_120b_medium",
        1318 => "gemini-3.8-flash-high",
        1319 => "gemini-3.8-flash-medium",
        1320 => "gemini-3.8-flash-low",
        1298 => "gemini-3.7-flash-high",
        1299 => "gemini-3.7-flash-medium",
        1300 => "gemini-3.7-flash-low",
        1071 => "gemini-3.6-flash-high",
        1072 => "gemini-3.6-flash-medium",
        1073 => "gemini-3.6-flash-low",
        // `MODEL_PLACEHOLDER_M<n>` is 1000 + n.
        n if n >= 1000 => return format!("model_placeholder_m{}", n - 1000),
        n => return format!("antigravity-model-{n}"),
    };
    known.to_string()
}

/// The model names Antigravity writes (labels, ids, placeholders) that name
/// a model otherwise: (lower-case name without its `(…)`, model).
const NAMED: &[(&str, &str)] = &[
    ("gemini 3.8 flash", "gemini-3.8-flash"),
    ("gemini 3.8 flash thinking", "gemini-3.8-flash"),
    ("gemini 3.7 flash", "gemini-3.7-flash"),
    ("gemini 3.7 flash thinking", "gemini-3.7-flash"),
    ("gemini 3.7 pro", "gemini-3.7-pro"),
    ("gemini 3.7 pro thinking", "gemini-3.7-pro"),
    ("gemini 3.6 flash", "gemini-3.6-flash"),
    ("gemini 3 flash", "gemini-3.6-flash"),
    ("gemini 3.6 pro", "gemini-3.6-pro"),
    ("gemini 3 pro", "gemini-3-pro"),
    ("gemini 3 pro thinking", "gemini-3-pro"),
    ("gemini 2.5 flash", "gemini-2.5-flash"),
    ("gemini 2.5 pro", "gemini-2.5-pro"),
    ("gemini 2.0 flash", "gemini-2.0-flash"),
    ("gemini 2 flash", "gemini-2.0-flash"),
    ("gemini 2.0 pro", "gemini-2.0-pro"),
    ("gemini 1.5 flash", "gemini-1.5-flash"),
    ("gemini 1.5 pro", "gemini-1.5-pro"),
    ("model_placeholder_m318", "gemini-3.8-flash-high"),
    ("model_placeholder_m319", "gemini-3.8-flash-medium"),
    ("model_placeholder_m320", "gemini-3.8-flash-low"),
    ("model_placeholder_m298", "gemini-3.7-flash-high"),
    ("model_placeholder_m299", "gemini-3.7-flash-medium"),
    ("model_placeholder_m300", "gemini-3.7-flash-low"),
    ("model_placeholder_m71", "gemini-3.6-flash-high"),
    ("model_placeholder_m72", "gemini-3.6-flash-medium"),
    ("model_placeholder_m73", "gemini-3.6-flash-low"),
    ("model_placeholder_m26", "claude-opus-4-6"),
    ("model_placeholder_m35", "claude-sonnet-4-6"),
    ("model_placeholder_m36", "gemini-3.1-pro"),
    ("model_placeholder_m37", "gemini-3.1-pro"),
    ("model_placeholder_m16", "gemini-3.1-pro"),
    ("model_placeholder_m18", "gemini-3-flash-preview"),
    ("model_placeholder_m84", "gemini-3-flash-preview"),
    ("model_placeholder_m47", "gemini-3-flash-preview"),
    ("model_placeholder_m132", "gemini-3.5-flash-high"),
    ("model_placeholder_m133", "gemini-3.5-flash-high"),
    ("model_placeholder_m187", "gemini-3.5-flash-extra-low"),
    ("model_placeholder_m20", "gemini-3.5-flash-medium"),
    ("model_openai_gpt_oss_120b_medium", "gpt-oss-120b-medium"),
    ("gemini-pro-default", "gemini-3.1-pro"),
    ("gemini-pro-agent", "gemini-3.1-pro"),
    ("gemini-3-flash-agent", "gemini-3.5-flash-high"),
    ("gemini-3-flash-agent-a", "gemini-3.5-flash-high"),
    ("gemini-3-flash-agent-b", "gemini-3.5-flash-high"),
    ("gemini-3-flash-a", "gemini-3.5-flash-high"),
    ("gemini-3-flash-b", "gemini-3.5-flash-high"),
    ("gemini-3-flash-c", "gemini-3-flash-preview"),
    ("gemini-3-flash", "gemini-3-flash-preview"),
    ("gemini-3.5-flash-low", "gemini-3.5-flash-medium"),
    ("gemini-3.1-pro-high", "gemini-3.1-pro"),
    ("gemini-3.1-pro-low", "gemini-3.1-pro"),
    ("gemini-3-pro-high", "gemini-3-pro"),
    ("gemini-3-pro-low", "gemini-3-pro"),
    ("claude 3.7 sonnet", "claude-3-7-sonnet"),
    ("claude 3.7 sonnet thinking", "claude-3-7-sonnet"),
    ("claude 3.5 sonnet", "claude-3-5-sonnet"),
    ("claude 3.5 haiku", "claude-3-5-haiku"),
    ("claude 3 opus", "claude-3-opus"),
];

/// A model as Antigravity names it (`gemini-3-flash-a`, `Gemini 3.6 Flash
/// (High)`, `model_placeholder_m26`), named as ccusage names it
/// (`gemini-3.5-flash-high`, `gemini-3.6-flash-high`, `claude-opus-4-6`).
pub fn normalize_model(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    let lower = trimmed.to_ascii_lowercase();
    // The flash models' thinking levels: `Gemini 3.6 Flash (High)`.
    for v in ["3.8", "3.7", "3.6"] {
        for level in ["high", "medium", "low"] {
            if lower == format!("gemini {v} flash ({level})") {
                return Some(format!("gemini-{v}-flash-{level}"));
            }
        }
    }
    let base = lower.split('(').next().unwrap_or("").trim();
    if let Some((_, m)) = NAMED.iter().find(|(k, _)| *k == base) {
        return Some(m.to_string());
    }
    let dashed = base.replace(' ', "-");
    if ["gemini-", "claude-", "gpt-"].iter().any(|p| dashed.starts_with(p)) {
        return Some(dashed);
    }
    Some(trimmed.to_string())
}

// ---------------------------------------------------------------------------
// Calls.

/// One call's usage as read, before copies merge.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    /// ms, and how much it is to be trusted.
    at: (i64, u8),
    model: String,
    input: u64,
    /// The reply's own output (ccusage's output column).
    output: u64,
    cache_write: u64,
    cache_read: u64,
    reasoning: u64,
    /// Everything billed as output.
    total_output: u64,
    /// Its ids, the best first: (kind, id).
    ids: Vec<(&'static str, String)>,
    /// Where it was read, for a call without ids (`g12`, `s3.r0`).
    origin: String,
}

impl Call {
    /// A copy of the same call: each count the largest, the model named if
    /// one copy names it, the best time (the earliest of the best).
    fn merge(&mut self, o: Call) {
        self.input = self.input.max(o.input);
        self.output = self.output.max(o.output);
        self.cache_write = self.cache_write.max(o.cache_write);
        self.cache_read = self.cache_read.max(o.cache_read);
        self.reasoning = self.reasoning.max(o.reasoning);
        self.total_output = self.total_output.max(o.total_output).max(self.output + self.reasoning);
        if self.model == DEFAULT_MODEL && o.model != DEFAULT_MODEL {
            self.model = o.model;
        }
        if o.at.1 > self.at.1 || (o.at.1 == self.at.1 && o.at.0 < self.at.0) {
            self.at = o.at;
        }
        for id in o.ids {
            if !self.ids.contains(&id) {
                self.ids.push(id);
            }
        }
    }

    /// The id that names the call: its response's, else its provider
    /// message's, else its message's.
    fn key_id(&self) -> Option<&(&'static str, String)> {
        ["response", "provider", "message"].iter().find_map(|k| self.ids.iter().find(|(kind, _)| kind == k))
    }
}

/// Where a row's calls stand: their model when theirs names none, their time.
struct Context {
    model: Option<String>,
    at: (i64, u8),
}

fn call_of(u: &Usage, ctx: &Context, origin: String) -> Option<Call> {
    if [u.input, u.output, u.cache_write, u.cache_read, u.reasoning, u.visible].iter().all(|n| *n == 0) {
        return None;
    }
    let total_output = u.output.max(u.visible + u.reasoning);
    let model = u
        .model_id
        .and_then(|i| normalize_model(&model_of_id(i)))
        .or_else(|| ctx.model.clone())
        .unwrap_or_else(|| DEFAULT_MODEL.to_string());
    let ids = [("response", &u.response_id), ("provider", &u.provider_message_id), ("message", &u.message_id)]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect();
    Some(Call {
        at: ctx.at,
        model,
        input: u.input,
        output: total_output - u.reasoning,
        cache_write: u.cache_write,
        cache_read: u.cache_read,
        reasoning: u.reasoning,
        total_output,
        ids,
        origin,
    })
}

/// Merges the copies of each call (those sharing an id, transitively), in
/// the order read.
fn merge_copies(calls: Vec<Call>) -> Vec<Call> {
    let mut slots: Vec<Option<Call>> = Vec::new();
    let mut by_id: HashMap<(&'static str, String), usize> = HashMap::new();
    for c in calls {
        let mut matching: Vec<usize> = c.ids.iter().filter_map(|id| by_id.get(id).copied()).collect();
        matching.sort_unstable();
        matching.dedup();
        let Some((&target, others)) = matching.split_first() else {
            for id in &c.ids {
                by_id.insert(id.clone(), slots.len());
            }
            slots.push(Some(c));
            continue;
        };
        for &o in others {
            if let Some(taken) = slots[o].take() {
                slots[target].as_mut().expect("a live slot").merge(taken);
            }
        }
        let t = slots[target].as_mut().expect("a live slot");
        t.merge(c);
        for id in &t.ids {
            by_id.insert(id.clone(), target);
        }
    }
    slots.into_iter().flatten().collect()
}

/// A row's blob: bytes, or text (read as its bytes).
fn blob<'a>(v: ValueRef<'a>) -> Option<&'a [u8]> {
    match v {
        ValueRef::Blob(b) | ValueRef::Text(b) => Some(b),
        _ => None,
    }
}

impl AntigravityReader {
    fn usage_event(&self, c: &Call) -> Option<UsageEvent> {
        let timestamp = chrono::DateTime::from_timestamp_millis(c.at.0)?;
        let key = match c.key_id() {
            Some((kind, id)) => EventKey::of(&[AGENT, kind, id]),
            None => EventKey::of(&[AGENT, &self.conversation, &c.origin]),
        };
        Some(UsageEvent {
            key,
            session_external_id: Arc::from(self.conversation.as_str()),
            timestamp,
            model_fallback: c.model == DEFAULT_MODEL,
            model: Arc::from(c.model.as_str()),
            fast: false,
            sidechain: false,
            tokens: Tokens {
                input: c.input,
                // All that is billed as output; what ccusage leaves out of its
                // output column is the thinking.
                output: c.total_output,
                cache_write_5m: c.cache_write,
                cache_write_1h: 0,
                cache_read: c.cache_read,
                reasoning: c.total_output - c.output,
            },
            cost_usd: None,
        })
    }
}

/// A row read, and whether it is new since the last read.
struct Row<T> {
    idx: i64,
    new: bool,
    value: T,
}

/// The rows of one table seen so far, and the malformed among the new ones.
struct Tally<'a> {
    /// The highest index of the last read.
    before: Option<i64>,
    /// The highest index of this one.
    mark: &'a mut Option<i64>,
    malformed: &'a mut u64,
}

impl Tally<'_> {
    /// Notes row `idx`; true when it is new.
    fn seen(&mut self, idx: i64, ok: bool) -> bool {
        let new = self.before.is_none_or(|b| idx > b);
        if new && !ok {
            *self.malformed += 1;
        }
        *self.mark = Some(self.mark.map_or(idx, |m| m.max(idx)));
        new
    }
}

/// Every row of `sql` (an index and a blob), parsed by `parse`; a row that
/// is not one is counted (once) and skipped.
fn read_rows<T>(
    db: &Db,
    sql: &str,
    parse: fn(&[u8]) -> Result<T, Malformed>,
    t: &mut Tally<'_>,
) -> Result<Vec<Row<T>>, String> {
    let mut rows = Vec::new();
    db.each(sql, &[], &mut |r| {
        let Ok(ValueRef::Integer(idx)) = r.get_ref(0) else {
            t.seen(i64::MAX, false);
            return;
        };
        match r.get_ref(1).ok().and_then(blob).map(parse) {
            Some(Ok(value)) => {
                let new = t.seen(idx, true);
                rows.push(Row { idx, new, value });
            }
            _ => {
                t.seen(idx, false);
            }
        }
    })?;
    Ok(rows)
}

impl TableReader for AntigravityReader {
    fn read(&mut self, db: &Db, out: &mut Vec<Record>) -> Result<u64, String> {
        let schema = |e: String| format!("Antigravity database schema not understood: {e}");
        let gen_cols = db.columns("gen_metadata")?;
        let step_cols = db.columns("steps")?;
        if gen_cols.is_empty() && step_cols.is_empty() {
            // Not a conversation (yet): a database being created, or another
            // of Antigravity's (`conversation_summaries.db`).
            return Ok(0);
        }
        if !gen_cols.is_empty() {
            db.require("gen_metadata", &["idx", "data"]).map_err(schema)?;
        }
        if !step_cols.is_empty() {
            db.require("steps", &["idx", "metadata"]).map_err(schema)?;
        }
        let mut malformed = 0u64;
        let mut seen = State::default();

        // The conversation: its creation, its workspace.
        let mut created = None;
        let mut workspace = None;
        if db.columns("trajectory_metadata_blob")?.iter().any(|c| c == "data") {
            let mut t = Tally { before: self.state.t, mark: &mut seen.t, malformed: &mut malformed };
            let sql = "SELECT rowid, data FROM trajectory_metadata_blob WHERE data IS NOT NULL ORDER BY rowid";
            for r in read_rows(db, sql, trajectory, &mut t)? {
                created = created.or(r.value.0);
                workspace = workspace.or(r.value.1);
            }
        }
        let fallback = match (created, self.mtime_ms) {
            (Some(t), _) => Some((t, AT_CONVERSATION)),
            (None, Some(m)) => Some((m, AT_FILE)),
            (None, None) => None,
        };
        out.push(Record::Session(SessionInfo {
            external_id: self.conversation.clone(),
            project_path: workspace,
            agent_version: None,
            started_at: created.and_then(chrono::DateTime::from_timestamp_millis),
        }));

        let steps = if step_cols.is_empty() {
            Vec::new()
        } else {
            let mut t = Tally { before: self.state.s, mark: &mut seen.s, malformed: &mut malformed };
            read_rows(db, "SELECT idx, metadata FROM steps WHERE metadata IS NOT NULL ORDER BY idx", step, &mut t)?
        };
        let gens = if gen_cols.is_empty() {
            Vec::new()
        } else {
            let mut t = Tally { before: self.state.g, mark: &mut seen.g, malformed: &mut malformed };
            read_rows(db, "SELECT idx, data FROM gen_metadata ORDER BY idx", generation, &mut t)?
        };

        let mut calls = Vec::new();
        let mut push = |u: &Usage, model: &Option<String>, at: Option<i64>, origin: String, new: bool| {
            let Some(at) = at.map(|t| (t, AT_OWN)).or(fallback) else {
                // Nothing dates it (no time of its own, of the conversation
                // or of the file): it cannot be put on a day.
                malformed += u64::from(new);
                return;
            };
            if let Some(c) = call_of(u, &Context { model: model.clone(), at }, origin) {
                calls.push(c);
            }
        };
        // A step naming no model: the last model a generation names.
        let last_model = gens.iter().rev().find_map(|g| g.value.model.clone());
        for s in &steps {
            let model = s.value.model.clone().or_else(|| last_model.clone());
            if let Some(u) = &s.value.usage {
                push(u, &model, s.value.at, format!("s{}", s.idx), s.new);
            }
            for (i, u) in s.value.retries.iter().enumerate() {
                push(u, &model, s.value.at, format!("s{}.r{i}", s.idx), s.new);
            }
        }
        // A generation naming no model: the last one named before it.
        let mut current: Option<String> = None;
        for g in &gens {
            let own = g
                .value
                .model
                .clone()
                .or_else(|| g.value.usage.as_ref()?.model_id.and_then(|i| normalize_model(&model_of_id(i))));
            if own.is_some() {
                current = own;
            }
            if let Some(u) = &g.value.usage {
                push(u, &current, g.value.at, format!("g{}", g.idx), g.new);
            }
            for (i, u) in g.value.retries.iter().enumerate() {
                push(u, &current, g.value.at, format!("g{}.r{i}", g.idx), g.new);
            }
        }
        out.extend(merge_copies(calls).iter().filter_map(|c| self.usage_event(c)).map(Record::Usage));
        self.state = seen;
        Ok(malformed)
    }

    fn state(&self) -> Option<String> {
        Some(serde_json::to_string(&self.state).expect("state serializes"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::wire::tests::{len, num};
    use super::*;
    use crate::sources::calls;

    const CONVERSATION: &str = "3f1c2a9e-6b7d-4e21-9a0c-5d8e7f6a4b31";

    fn database(sql: &str) -> (tempfile::TempDir, std::path::PathBuf, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{CONVERSATION}.db"));
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(sql).unwrap();
        (dir, path, c)
    }

    fn fixture() -> (tempfile::TempDir, std::path::PathBuf, rusqlite::Connection) {
        database(include_str!("fixtures/conversation.sql"))
    }

    fn read(path: &std::path::Path, state: Option<&str>) -> (Vec<Record>, u64, Option<String>) {
        let mut r = AntigravityReader::new(CONVERSATION, Some(1_790_000_000_000), state);
        let mut out = Vec::new();
        let bad = r.read(&Db::open(path).unwrap(), &mut out).unwrap();
        (out, bad, r.state())
    }

    fn by_key<'a>(out: &'a [Record], parts: &[&str]) -> &'a UsageEvent {
        let key = EventKey::of(parts);
        calls(out).into_iter().find(|c| c.key == key).unwrap_or_else(|| panic!("no call {parts:?}"))
    }

    fn tokens(input: u64, output: u64, cache_write: u64, cache_read: u64, reasoning: u64) -> Tokens {
        Tokens { input, output, cache_write_5m: cache_write, cache_write_1h: 0, cache_read, reasoning }
    }

    #[test]
    fn each_call_once_its_copies_merged_with_the_model_and_time_ccusage_gives_them() {
        let (_d, path, _c) = fixture();
        let (out, bad, _) = read(&path, None);
        assert_eq!(bad, 2, "the generation cut short and the one without field 1");
        assert_eq!(calls(&out).len(), 8, "{:#?}", calls(&out));
        let at = |c: &UsageEvent| c.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);

        // Step 1 and generation 0 are one call (resp-1): each count the
        // larger, the step's time (the earlier of the two).
        let c = by_key(&out, &[AGENT, "response", "resp-1"]);
        assert_eq!((c.model.as_ref(), at(c).as_str()), ("gemini-3.5-flash-high", "2026-11-03T09:15:07.400Z"));
        assert_eq!(c.tokens, tokens(5200, 310, 0, 11_800, 120), "thinking inside output, as billed");
        assert_eq!(c.session_external_id.as_ref(), CONVERSATION);
        assert!(!c.model_fallback && c.cost_usd.is_none());
        // Step 3 names no model and no time: the last model a generation
        // names (generation 5's), the conversation's creation.
        let c = by_key(&out, &[AGENT, "response", "resp-3"]);
        assert_eq!((c.model.as_ref(), at(c).as_str()), ("gemini-3.5-flash-high", "2026-11-03T09:14:20.250Z"));
        assert_eq!(c.tokens, tokens(800, 60, 0, 0, 0));
        // By its label; then the generation naming none takes it.
        assert_eq!(by_key(&out, &[AGENT, "response", "resp-2"]).model.as_ref(), "gemini-3.6-flash-high");
        assert_eq!(by_key(&out, &[AGENT, "response", "resp-4"]).model.as_ref(), "gemini-3.6-flash-high");
        // By Antigravity's id, with its retries (one without an id: keyed by its row).
        let c = by_key(&out, &[AGENT, "response", "resp-5"]);
        assert_eq!((c.model.as_ref(), at(c).as_str()), ("claude-opus-4-6", "2026-11-04T16:40:11.000Z"));
        assert_eq!(c.tokens, tokens(40, 700, 9000, 0, 0));
        assert_eq!(by_key(&out, &[AGENT, "response", "resp-5a"]).tokens, tokens(35, 0, 8000, 0, 0));
        assert_eq!(by_key(&out, &[AGENT, CONVERSATION, "g3.r1"]).tokens, tokens(1200, 0, 0, 0, 0));
        assert_eq!(by_key(&out, &[AGENT, "response", "resp-7"]).model.as_ref(), "gpt-oss-120b-medium");
        // The conversation: its workspace and creation.
        let Some(Record::Session(s)) = out.first() else { panic!("no session first: {out:?}") };
        assert_eq!(s.external_id, CONVERSATION);
        assert_eq!(s.project_path.as_deref(), Some("/home/u/my app"));
        assert_eq!(s.started_at.map(|t| t.timestamp_millis()), Some(1_793_697_260_250));
        // ccusage 20.0.24 on this database without its two broken rows
        // (which make it fail): 2026-11-03 gemini-3.5-flash-high in 6000,
        // out 250 (+120 thinking), cache reads 11800; gemini-3.6-flash-high
        // in 1200, out 60; 2026-11-04 claude-opus-4-6 in 1275, out 700,
        // cache writes 17000; gpt-oss-120b-medium in 1000, out 100.
        let sum = |model: &str| {
            calls(&out).into_iter().filter(|c| c.model.as_ref() == model).fold(Tokens::default(), |mut t, c| {
                t.input += c.tokens.input;
                t.output += c.tokens.output - c.tokens.reasoning;
                t.cache_write_5m += c.tokens.cache_write_5m;
                t.cache_read += c.tokens.cache_read;
                t
            })
        };
        assert_eq!(sum("gemini-3.5-flash-high"), tokens(6000, 250, 0, 11_800, 0));
        assert_eq!(sum("gemini-3.6-flash-high"), tokens(1200, 60, 0, 0, 0));
        assert_eq!(sum("claude-opus-4-6"), tokens(1275, 700, 17_000, 0, 0));
        assert_eq!(sum("gpt-oss-120b-medium"), tokens(1000, 100, 0, 0, 0));
    }

    #[test]
    fn a_resumed_read_equals_a_whole_one_and_counts_a_broken_row_once() {
        let (_d, path, c) = fixture();
        let (whole, _, _) = read(&path, None);
        // The same conversation, read as it grew: its first rows, then the rest.
        let (_d2, grown, g) = database(include_str!("fixtures/conversation.sql"));
        g.execute_batch("DELETE FROM gen_metadata WHERE idx >= 3; DELETE FROM steps WHERE idx >= 2;").unwrap();
        let (first, bad, state) = read(&grown, None);
        assert_eq!(bad, 0);
        assert_eq!(calls(&first).len(), 3, "resp-1 (a step and a generation), resp-2, resp-4");
        assert_eq!(state.as_deref(), Some(r#"{"g":2,"s":1,"t":1}"#));
        let rows = c
            .prepare("SELECT idx, data FROM gen_metadata WHERE idx >= 3")
            .unwrap()
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        for (idx, data) in rows {
            g.execute("INSERT INTO gen_metadata (idx, data) VALUES (?1, ?2)", rusqlite::params![idx, data]).unwrap();
        }
        let steps = c
            .prepare("SELECT idx, step_type, status, metadata FROM steps WHERE idx >= 2")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, Option<Vec<u8>>>(3)?))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        for (idx, t, s, m) in steps {
            g.execute(
                "INSERT INTO steps (idx, step_type, status, metadata) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![idx, t, s, m],
            )
            .unwrap();
        }
        let (resumed, bad, state) = read(&grown, state.as_deref());
        assert_eq!(bad, 2, "the two broken generations, new in this read");
        assert_eq!(state.as_deref(), Some(r#"{"g":8,"s":3,"t":1}"#));
        let key = |r: &Record| match r {
            Record::Usage(u) => Some((u.key, u.model.clone(), u.tokens, u.timestamp)),
            _ => None,
        };
        let mut a: Vec<_> = whole.iter().filter_map(key).collect();
        let mut b: Vec<_> = resumed.iter().filter_map(key).collect();
        a.sort_by_key(|k| k.0.id);
        b.sort_by_key(|k| k.0.id);
        assert_eq!(a, b, "read as it grew, the same calls as read whole");
        // Read again: the broken rows are not counted again.
        let (again, bad, _) = read(&grown, state.as_deref());
        assert_eq!((bad, calls(&again).len()), (0, 8));
    }

    #[test]
    fn copies_sharing_any_id_are_one_call() {
        let u = |input, ids: &[(&'static str, &str)]| Call {
            at: (1000, AT_OWN),
            model: DEFAULT_MODEL.into(),
            input,
            output: 1,
            cache_write: 0,
            cache_read: 0,
            reasoning: 0,
            total_output: 1,
            ids: ids.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            origin: String::new(),
        };
        // a ~ b by the message id, b ~ c by the response id: one call.
        let merged = merge_copies(vec![
            u(10, &[("message", "m")]),
            u(20, &[("response", "r")]),
            u(30, &[("response", "r"), ("message", "m")]),
            u(5, &[]),
            u(6, &[]),
        ]);
        assert_eq!(merged.iter().map(|c| c.input).collect::<Vec<_>>(), [30, 5, 6]);
        assert_eq!(merged[0].key_id(), Some(&("response", "r".to_string())), "the response's id names it");
    }

    #[test]
    fn antigravitys_names_as_ccusage_names_them() {
        // Each checked against `ccusage antigravity daily` 20.0.24.
        for (raw, want) in [
            ("gemini-3-flash-a", "gemini-3.5-flash-high"),
            ("gemini-3-flash-c", "gemini-3-flash-preview"),
            ("gemini-pro-default", "gemini-3.1-pro"),
            ("gemini-3.5-flash-low", "gemini-3.5-flash-medium"),
            ("Gemini 3.6 Flash (High)", "gemini-3.6-flash-high"),
            ("Gemini 3.8 Flash Thinking", "gemini-3.8-flash"),
            ("Gemini 3 Flash", "gemini-3.6-flash"),
            ("Gemini 3.5 Flash (High)", "gemini-3.5-flash"),
            ("Gemini 3.1 Pro (High)", "gemini-3.1-pro"),
            ("Claude 3.7 Sonnet Thinking", "claude-3-7-sonnet"),
            ("model_placeholder_m26", "claude-opus-4-6"),
            ("model_openai_gpt_oss_120b_medium", "gpt-oss-120b-medium"),
            ("My Model X", "My Model X"),
        ] {
            assert_eq!(normalize_model(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(normalize_model("  "), None);
        for (id, want) in [
            (246, "gemini-2.5-pro"),
            (329, "gemini-2.5-flash-thinking"),
            (334, "claude-4.5-sonnet"),
            (1071, "gemini-3.6-flash-high"),
            (1132, "gemini-3.5-flash-high"),
            (1035, "claude-sonnet-4-6"),
            (1016, "gemini-3.1-pro"),
            (1999, "model_placeholder_m999"),
            (5, "antigravity-model-5"),
        ] {
            assert_eq!(normalize_model(&model_of_id(id)).as_deref(), Some(want), "{id}");
        }
    }

    #[test]
    fn thinking_is_output_however_the_counts_are_written() {
        let ctx = Context { model: None, at: (1, AT_OWN) };
        let call = |output, reasoning, visible| {
            let u = Usage { output, reasoning, visible, ..Default::default() };
            let c = call_of(&u, &ctx, String::new()).unwrap();
            (c.total_output, c.output, c.model)
        };
        let m = || DEFAULT_MODEL.to_string();
        assert_eq!(call(20, 5, 5), (20, 15, m()), "output 3 holds the thinking");
        assert_eq!(call(10, 5, 8), (13, 8, m()), "the parts are more than the whole: the parts");
        assert_eq!(call(0, 4, 8), (12, 8, m()));
        assert_eq!(call(7, 0, 0), (7, 7, m()));
        assert!(call_of(&Usage::default(), &ctx, String::new()).is_none(), "no tokens, no call");
    }

    #[test]
    fn a_database_of_another_shape() {
        // Not a conversation (yet): nothing, no error.
        let (_d, path, c) = database("CREATE TABLE summaries (id TEXT)");
        let (out, bad, _) = read(&path, None);
        assert_eq!((out.len(), bad), (0, 0));
        c.execute_batch("CREATE TABLE gen_metadata (idx INTEGER, blob BLOB)").unwrap();
        let err = AntigravityReader::new(CONVERSATION, None, None)
            .read(&Db::open(&path).unwrap(), &mut Vec::new())
            .unwrap_err();
        assert!(err.contains("not understood") && err.contains("data"), "{err}");
        // Steps only, no time anywhere and no file time: undated, malformed.
        let (_d, path, c) = database("CREATE TABLE steps (idx INTEGER PRIMARY KEY, metadata BLOB)");
        let usage = [num(2, 10), num(3, 1)].concat();
        c.execute("INSERT INTO steps VALUES (0, ?1)", [len(9, &usage)]).unwrap();
        let mut out = Vec::new();
        let bad = AntigravityReader::new(CONVERSATION, None, None).read(&Db::open(&path).unwrap(), &mut out).unwrap();
        assert_eq!((calls(&out).len(), bad), (0, 1));
        // With the file's time, the call is on that day, of no known model.
        let (out, bad, _) = read(&path, None);
        assert_eq!(bad, 0);
        let c = by_key(&out, &[AGENT, CONVERSATION, "s0"]);
        assert_eq!(
            (c.timestamp.timestamp_millis(), c.model.as_ref(), c.model_fallback),
            (1_790_000_000_000, DEFAULT_MODEL, true)
        );
        // An absurd count is garbage.
        c_insert_absurd(&path);
        let (_, bad, _) = read(&path, None);
        assert_eq!(bad, 1);
    }

    fn c_insert_absurd(path: &std::path::Path) {
        let c = rusqlite::Connection::open(path).unwrap();
        let usage = [num(2, MAX_TOKENS + 1), num(3, 1)].concat();
        c.execute("INSERT INTO steps VALUES (1, ?1)", [len(9, &usage)]).unwrap();
    }

    #[test]
    fn any_bytes_are_a_blob_or_malformed_never_a_panic() {
        // The fixture's blobs with bytes changed, cut short or repeated, and noise.
        let (_d, path, c) = fixture();
        let mut blobs: Vec<Vec<u8>> = Vec::new();
        for sql in ["SELECT data FROM gen_metadata", "SELECT metadata FROM steps WHERE metadata IS NOT NULL"] {
            let mut st = c.prepare(sql).unwrap();
            blobs.extend(st.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap().map(Result::unwrap));
        }
        drop(path);
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..4000 {
            let mut b = blobs[round % blobs.len()].clone();
            match next() % 4 {
                0 => {
                    let i = next() as usize % b.len();
                    b[i] = next() as u8;
                }
                1 => b.truncate(next() as usize % b.len()),
                2 => b = b.repeat(2),
                _ => b = (0..next() % 64).map(|_| next() as u8).collect(),
            }
            for parse in [generation, step] {
                if let Ok(m) = parse(&b) {
                    for u in m.usage.iter().chain(&m.retries) {
                        assert!(u.input <= MAX_TOKENS && u.output <= MAX_TOKENS && u.reasoning <= MAX_TOKENS);
                    }
                }
            }
            let _ = trajectory(&b);
        }
    }

    #[test]
    fn workspace_uris_are_paths() {
        assert_eq!(file_uri_path("file:///home/u/my%20app").as_deref(), Some("/home/u/my app"));
        assert_eq!(file_uri_path("file:///c%3A/src/app").as_deref(), Some("c:/src/app"));
        assert_eq!(file_uri_path("file:///D:/Documents").as_deref(), Some("D:/Documents"));
        assert_eq!(file_uri_path("https://example.com/x"), None);
        assert_eq!(file_uri_path("file://%ff"), None, "not UTF-8");
    }
}
