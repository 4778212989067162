//! The tools: CacheBash-compatible names, arguments and results, over the
//! store's push API and the shared views.
//!
//! Arguments are checked here, by hand, so that every mistake (a wrong type,
//! a value out of range, an unknown state) comes back as a tool error naming
//! the argument, never as a protocol error. The `JsonSchema` types only
//! describe the arguments to clients (`tools/list`); each is filled from the
//! checked values.

use std::borrow::Cow;
use std::sync::Arc;

use rmcp::handler::server::common::{schema_for_empty_input, schema_for_type};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde_json::{Map, Value, json};

use crate::liveness::Reported;
use crate::model::SessionState;
use crate::store::{SessionFilter, SessionRow, Store, list_sessions};
use crate::views::{SessionView, iso};

/// The longest strings accepted, per argument (CacheBash's limits; a project
/// may be a path, so it gets more room).
const MAX_NAME: usize = 200;
const MAX_ID: usize = 100;
const MAX_PROGRAM: usize = 50;
const MAX_STATUS: usize = 200;
const MAX_PROJECT: usize = 1000;
/// `list_sessions`' default and largest page.
const DEFAULT_LIMIT: i64 = 10;
const MAX_LIMIT: i64 = 50;

/// A state as CacheBash names it (what agents report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CbState {
    /// Busy with the task.
    Working,
    /// Waiting on the user or another agent.
    Blocked,
    /// Done.
    Complete,
    /// Kept on the board by the user; never reaped.
    Pinned,
}

impl CbState {
    const NAMES: &'static str = "working, blocked, complete, pinned";

    fn parse(s: &str) -> Option<CbState> {
        Some(match s {
            "working" => CbState::Working,
            "blocked" => CbState::Blocked,
            "complete" => CbState::Complete,
            "pinned" => CbState::Pinned,
            _ => return None,
        })
    }

    pub fn reported(self) -> Reported {
        match self {
            CbState::Working => Reported::Working,
            CbState::Blocked => Reported::Blocked,
            CbState::Complete => Reported::Complete,
            CbState::Pinned => Reported::Pinned,
        }
    }

    /// How one of our states reads in CacheBash's vocabulary.
    pub fn of(s: SessionState) -> CbState {
        match s {
            SessionState::Working | SessionState::Idle | SessionState::Stale => CbState::Working,
            SessionState::Waiting => CbState::Blocked,
            SessionState::Completed | SessionState::Dead => CbState::Complete,
            SessionState::Pinned => CbState::Pinned,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CbState::Working => "working",
            CbState::Blocked => "blocked",
            CbState::Complete => "complete",
            CbState::Pinned => "pinned",
        }
    }

    /// Our states that read as this one.
    fn ours(self) -> Vec<SessionState> {
        SessionState::ALL.into_iter().filter(|s| CbState::of(*s) == self).collect()
    }
}

/// `list_sessions`' state filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListState {
    Working,
    Blocked,
    Pinned,
    Complete,
    /// Every state (completed ones only with includeArchived).
    All,
}

/// Arguments of `create_session`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSession {
    /// What the session works on, in a few words (at most 200 characters).
    pub name: String,
    /// The program (agent role) it belongs to, e.g. "builder". Default: the
    /// part of sessionId before its first ".", if it has one.
    pub program_id: Option<String>,
    /// The state to start in (default working).
    pub state: Option<CbState>,
    /// Progress, 0 to 100.
    #[schemars(range(min = 0, max = 100))]
    pub progress: Option<f64>,
    /// Your own id for the session (at most 100 characters). A session with
    /// this id is updated instead (upsert). Default: a new UUID.
    pub session_id: Option<String>,
    /// The project: a name or a path.
    pub project_name: Option<String>,
    /// A status line: what it is doing right now.
    pub status: Option<String>,
}

/// Arguments of `update_session`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSession {
    /// The id create_session returned.
    pub session_id: String,
    /// A status line: what it is doing right now (at most 200 characters).
    pub status: Option<String>,
    /// Progress, 0 to 100.
    #[schemars(range(min = 0, max = 100))]
    pub progress: Option<f64>,
    /// The new state.
    pub state: Option<CbState>,
    /// true: this update is also a heartbeat. A session without a heartbeat
    /// for a while (15 minutes by default) shows as stale.
    pub last_heartbeat: Option<bool>,
    /// The size of the agent's context, in bytes.
    #[schemars(range(min = 0))]
    pub context_bytes: Option<i64>,
    /// true: the context is nearly full and the work should be handed off.
    pub handoff_required: Option<bool>,
    /// The project: a name or a path.
    pub project_name: Option<String>,
}

/// Arguments of `list_sessions`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListSessions {
    /// Only sessions in this state (default all).
    pub state: Option<ListState>,
    /// Only sessions of this program.
    pub program_id: Option<String>,
    /// Also archived and completed sessions (default false).
    pub include_archived: Option<bool>,
    /// How many sessions, most recently active first: 1 to 50 (default 10).
    #[schemars(range(min = 1, max = 50))]
    pub limit: Option<i64>,
}

/// Arguments of `get_cost_summary`.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetCostSummary {
    /// today (default), yesterday, 7d, week, 30d, month, thismonth, lastmonth
    /// or all; days are local days.
    pub range: Option<String>,
}

/// The tool list, as `tools/list` returns it.
pub fn definitions() -> Vec<Tool> {
    let schema = |s: Arc<JsonObject>| s;
    vec![
        Tool::new(
            "create_session",
            "Register a unit of work you are doing as a session that agentwatch shows live (state, progress, \
             status line, heartbeat). Returns its sessionId; keep it for update_session. With a sessionId \
             that exists, updates that session instead.",
            schema(schema_for_type::<CreateSession>()),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(false).idempotent(false).open_world(false)),
        Tool::new(
            "update_session",
            "Report progress on a session from create_session: status line, progress 0-100, state \
             (working, blocked, complete, pinned), heartbeat (lastHeartbeat: true), context size, hand-off flag.",
            schema(schema_for_type::<UpdateSession>()),
        )
        .annotate(ToolAnnotations::new().read_only(false).destructive(false).idempotent(true).open_world(false)),
        Tool::new(
            "list_sessions",
            "List the sessions agentwatch knows (every agent on this machine, not only MCP ones), most recently \
             active first. Without includeArchived, archived and completed sessions are left out.",
            schema(schema_for_type::<ListSessions>()),
        )
        .annotate(ToolAnnotations::new().read_only(true).open_world(false)),
        Tool::new(
            "get_fleet_health",
            "Heartbeat age and live/stale session counts per agent type and per program.",
            schema_for_empty_input(),
        )
        .annotate(ToolAnnotations::new().read_only(true).open_world(false)),
        Tool::new(
            "get_cost_summary",
            "Token cost on this machine for a range of days (default today): total, by agent, model and \
             project, per day, with budgets.",
            schema(schema_for_type::<GetCostSummary>()),
        )
        .annotate(ToolAnnotations::new().read_only(true).open_world(false)),
        Tool::new(
            "get_limits",
            "How much of the plan's 5-hour and weekly windows is used (Claude and Codex subscriptions), as the \
             agents reported it: percent used, when each resets, when it fills at the current rate. Empty for \
             API-key users.",
            schema_for_empty_input(),
        )
        .annotate(ToolAnnotations::new().read_only(true).open_world(false)),
    ]
}

/// A tool's arguments, read one by one with messages that name the argument.
pub struct Args {
    map: Map<String, Value>,
    seen: Vec<&'static str>,
}

type ArgResult<T> = std::result::Result<T, String>;

impl Args {
    pub fn new(map: Option<JsonObject>) -> Args {
        Args { map: map.unwrap_or_default(), seen: Vec::new() }
    }

    /// The value of `key`; null counts as absent.
    fn get(&mut self, key: &'static str) -> Option<&Value> {
        self.seen.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn string(&mut self, key: &'static str, max: usize) -> ArgResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Err(format!("{key} must not be empty")),
            Some(Value::String(s)) if s.chars().count() > max => {
                Err(format!("{key} is too long ({} characters; at most {max})", s.chars().count()))
            }
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(v) => Err(format!("{key} must be a string, not {}", describe(v))),
        }
    }

    fn required_string(&mut self, key: &'static str, max: usize) -> ArgResult<String> {
        self.string(key, max)?.ok_or_else(|| format!("{key} is required"))
    }

    fn bool(&mut self, key: &'static str) -> ArgResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(format!("{key} must be true or false, not {}", describe(v))),
        }
    }

    fn number(&mut self, key: &'static str, min: f64, max: f64) -> ArgResult<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if (min..=max).contains(&x) => Ok(Some(x)),
                _ => Err(format!("{key} must be a number from {min} to {max}, not {n}")),
            },
            Some(v) => Err(format!("{key} must be a number from {min} to {max}, not {}", describe(v))),
        }
    }

    fn integer(&mut self, key: &'static str, min: i64, max: i64) -> ArgResult<Option<i64>> {
        let range = if max == i64::MAX {
            format!("a whole number, {min} or more")
        } else {
            format!("a whole number from {min} to {max}")
        };
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                match n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64))
                {
                    Some(i) if (min..=max).contains(&i) => Ok(Some(i)),
                    _ => Err(format!("{key} must be {range}, not {n}")),
                }
            }
            Some(v) => Err(format!("{key} must be {range}, not {}", describe(v))),
        }
    }

    fn state(&mut self, key: &'static str) -> ArgResult<Option<CbState>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => CbState::parse(s.trim())
                .map(Some)
                .ok_or_else(|| format!("{key} must be one of {}, not \"{s}\"", CbState::NAMES)),
            Some(v) => Err(format!("{key} must be one of {}, not {}", CbState::NAMES, describe(v))),
        }
    }

    fn list_state(&mut self, key: &'static str) -> ArgResult<Option<ListState>> {
        const NAMES: &str = "working, blocked, pinned, complete, all";
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => match s.trim() {
                "all" => Ok(Some(ListState::All)),
                t => match CbState::parse(t) {
                    Some(CbState::Working) => Ok(Some(ListState::Working)),
                    Some(CbState::Blocked) => Ok(Some(ListState::Blocked)),
                    Some(CbState::Complete) => Ok(Some(ListState::Complete)),
                    Some(CbState::Pinned) => Ok(Some(ListState::Pinned)),
                    None => Err(format!("{key} must be one of {NAMES}, not \"{s}\"")),
                },
            },
            Some(v) => Err(format!("{key} must be one of {NAMES}, not {}", describe(v))),
        }
    }

    /// Arguments given that the tool does not know (ignored, as CacheBash does,
    /// but mentioned in the reply).
    pub fn unknown(&self) -> Vec<String> {
        let mut u: Vec<String> = self.map.keys().filter(|k| !self.seen.contains(&k.as_str())).cloned().collect();
        u.sort();
        u
    }

    pub fn create_session(&mut self) -> ArgResult<CreateSession> {
        Ok(CreateSession {
            name: self.required_string("name", MAX_NAME)?,
            program_id: self.string("programId", MAX_PROGRAM)?,
            state: self.state("state")?,
            progress: self.number("progress", 0.0, 100.0)?,
            session_id: self.string("sessionId", MAX_ID)?,
            project_name: self.string("projectName", MAX_PROJECT)?,
            status: self.string("status", MAX_STATUS)?,
        })
    }

    pub fn update_session(&mut self) -> ArgResult<UpdateSession> {
        Ok(UpdateSession {
            session_id: self.required_string("sessionId", MAX_ID)?,
            status: self.string("status", MAX_STATUS)?,
            progress: self.number("progress", 0.0, 100.0)?,
            state: self.state("state")?,
            last_heartbeat: self.bool("lastHeartbeat")?,
            context_bytes: self.integer("contextBytes", 0, i64::MAX)?,
            handoff_required: self.bool("handoffRequired")?,
            project_name: self.string("projectName", MAX_PROJECT)?,
        })
    }

    pub fn list_sessions(&mut self) -> ArgResult<ListSessions> {
        Ok(ListSessions {
            state: self.list_state("state")?,
            program_id: self.string("programId", MAX_PROGRAM)?,
            include_archived: self.bool("includeArchived")?,
            limit: self.integer("limit", 1, MAX_LIMIT)?,
        })
    }

    pub fn get_cost_summary(&mut self) -> ArgResult<GetCostSummary> {
        Ok(GetCostSummary { range: self.string("range", 20)? })
    }
}

/// A JSON value as a message shows it: `the string "50"`, `an array`.
fn describe(v: &Value) -> Cow<'static, str> {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string().into(),
        Value::Number(n) => format!("the number {n}").into(),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            let more = if short.len() < s.len() { "…" } else { "" };
            format!("the string \"{short}{more}\"").into()
        }
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Progress as stored: a whole percentage.
pub fn percent(p: f64) -> i64 {
    p.round() as i64
}

/// The program of a session id like `builder.task-7`.
pub fn program_of(session_id: &str) -> Option<String> {
    session_id.split_once('.').map(|(p, _)| p.trim()).filter(|p| !p.is_empty()).map(str::to_string)
}

/// The store filter for `list_sessions`; `program_id` is applied afterwards.
pub fn filter(a: &ListSessions) -> SessionFilter {
    let archived = a.include_archived.unwrap_or(false);
    let states = match a.state.unwrap_or(ListState::All) {
        ListState::Working => CbState::Working.ours(),
        ListState::Blocked => CbState::Blocked.ours(),
        ListState::Pinned => CbState::Pinned.ours(),
        ListState::Complete => CbState::Complete.ours(),
        ListState::All if archived => Vec::new(),
        ListState::All => SessionState::ALL.into_iter().filter(|s| !s.is_ended()).collect(),
    };
    SessionFilter {
        states,
        not_archived: !archived,
        limit: a.program_id.is_none().then_some(a.limit.unwrap_or(DEFAULT_LIMIT) as usize),
        ..Default::default()
    }
}

/// Sessions for `list_sessions`.
pub fn sessions(store: &Store, a: &ListSessions) -> crate::Result<Vec<SessionRow>> {
    let rows = list_sessions(store, &filter(a))?;
    let limit = a.limit.unwrap_or(DEFAULT_LIMIT) as usize;
    Ok(match &a.program_id {
        Some(p) => rows.into_iter().filter(|r| r.live.program_id.as_deref() == Some(p.as_str())).take(limit).collect(),
        None => rows,
    })
}

/// One session as `list_sessions` shows it: CacheBash's fields (`state` in
/// its vocabulary, `status` the status line, `lastHeartbeat`) over the
/// session's usual shape, whose own `state` and `status` move to
/// `agentwatchState` and `agentwatchStatus`.
pub fn item(r: &SessionRow, now: i64) -> Value {
    let view = SessionView::new(r, now);
    let (state, status) = (view.state, view.status);
    let mut v = serde_json::to_value(&view).expect("serializes");
    let o = v.as_object_mut().expect("an object");
    o.insert("state".into(), json!(CbState::of(state).as_str()));
    o.insert("status".into(), json!(r.live.status_text.clone().or_else(|| r.name.clone())));
    o.insert("lastHeartbeat".into(), json!(r.live.heartbeat_at.map(iso)));
    o.insert("projectName".into(), json!(r.project_path));
    o.insert("lastUpdate".into(), json!(iso(r.live.updated_at.max(r.last_activity))));
    o.insert("agentwatchState".into(), json!(state));
    o.insert("agentwatchStatus".into(), json!(status));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Args {
        Args::new(v.as_object().cloned())
    }

    #[test]
    fn arguments_are_checked_with_messages_that_name_them() {
        let c =
            args(json!({"name": "build", "progress": 40, "state": "blocked", "sessionId": "builder.7", "extra": 1}))
                .create_session()
                .unwrap();
        assert_eq!((c.name.as_str(), c.progress, c.state), ("build", Some(40.0), Some(CbState::Blocked)));
        let mut a = args(json!({"name": "x", "extra": 1}));
        a.create_session().unwrap();
        assert_eq!(a.unknown(), vec!["extra"]);

        let err = |v: Value, f: fn(&mut Args) -> ArgResult<()>| f(&mut args(v)).unwrap_err();
        let create = |a: &mut Args| a.create_session().map(drop);
        let update = |a: &mut Args| a.update_session().map(drop);
        let list = |a: &mut Args| a.list_sessions().map(drop);
        assert_eq!(err(json!({}), create), "name is required");
        assert_eq!(err(json!({"name": "  "}), create), "name must not be empty");
        assert_eq!(err(json!({"name": 5}), create), "name must be a string, not the number 5");
        assert_eq!(
            err(json!({"name": "a", "state": "sleeping"}), create),
            "state must be one of working, blocked, complete, pinned, not \"sleeping\""
        );
        assert_eq!(
            err(json!({"name": "a", "progress": 101}), create),
            "progress must be a number from 0 to 100, not 101"
        );
        assert_eq!(
            err(json!({"name": "a", "progress": "50"}), create),
            "progress must be a number from 0 to 100, not the string \"50\""
        );
        assert_eq!(err(json!({"status": "x"}), update), "sessionId is required");
        assert_eq!(
            err(json!({"sessionId": "s", "lastHeartbeat": "yes"}), update),
            "lastHeartbeat must be true or false, not the string \"yes\""
        );
        assert_eq!(
            err(json!({"sessionId": "s", "contextBytes": -1}), update),
            "contextBytes must be a whole number, 0 or more, not -1"
        );
        assert_eq!(err(json!({"limit": 0}), list), "limit must be a whole number from 1 to 50, not 0");
        assert_eq!(err(json!({"limit": 51}), list), "limit must be a whole number from 1 to 50, not 51");
        assert_eq!(err(json!({"limit": 2.5}), list), "limit must be a whole number from 1 to 50, not 2.5");
        assert_eq!(
            err(json!({"state": "idle"}), list),
            "state must be one of working, blocked, pinned, complete, all, not \"idle\""
        );
        assert_eq!(args(json!({"limit": 5.0})).list_sessions().unwrap().limit, Some(5));
        // Null is absent.
        assert_eq!(args(json!({"sessionId": "s", "state": null})).update_session().unwrap().state, None);
    }

    #[test]
    fn states_map_both_ways() {
        assert_eq!(CbState::of(SessionState::Stale), CbState::Working);
        assert_eq!(CbState::of(SessionState::Waiting), CbState::Blocked);
        assert_eq!(CbState::of(SessionState::Dead), CbState::Complete);
        assert_eq!(CbState::Working.ours(), vec![SessionState::Working, SessionState::Idle, SessionState::Stale]);
        assert_eq!(CbState::Complete.ours(), vec![SessionState::Completed, SessionState::Dead]);
        let all =
            |archived| ListSessions { state: None, program_id: None, include_archived: Some(archived), limit: None };
        let f = filter(&all(false));
        assert!(f.not_archived && !f.states.contains(&SessionState::Completed) && f.limit == Some(10));
        assert!(filter(&all(true)).states.is_empty());
        assert_eq!(program_of("builder.task-1").as_deref(), Some("builder"));
        assert_eq!(program_of("plain"), None);
    }

    #[test]
    fn every_tool_has_an_object_schema() {
        let tools = definitions();
        assert_eq!(tools.len(), 6);
        for t in &tools {
            assert_eq!(t.input_schema.get("type"), Some(&json!("object")), "{}", t.name);
        }
        let update = &tools[1].input_schema;
        assert_eq!(update["required"], json!(["sessionId"]));
        assert!(update["properties"]["lastHeartbeat"].is_object());
    }
}
