//! Reading sessions.

use rusqlite::types::Value;
use rusqlite::{Row, params_from_iter};

use super::Store;
use crate::error::{Error, Result};
use crate::liveness::{Signal, Turn, WaitingFor};
use crate::model::{PendingTool, SessionState, Tokens};

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub pk: i64,
    pub id: String,
    pub agent: String,
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub agent_label: Option<String>,
    pub project_path: Option<String>,
    pub source: String,
    pub state: SessionState,
    pub started_at: i64,
    pub last_activity: i64,
    pub ended_at: Option<i64>,
    pub agent_version: Option<String>,
    pub transcript_path: Option<String>,
    pub events: u64,
    pub tokens: Tokens,
    pub models: Vec<String>,
    pub cost_usd: Option<f64>,
    pub cost_source: Option<String>,
    pub unpriced_models: Vec<String>,
    pub live: LiveColumns,
}

/// The live-monitoring columns of a session (collector, hooks, MCP).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveColumns {
    pub pid: Option<u32>,
    /// Process start, seconds since the epoch.
    pub proc_start: Option<i64>,
    pub command: Option<String>,
    pub cpu: Option<f64>,
    pub memory: Option<u64>,
    pub turn: Option<String>,
    pub heartbeat_at: Option<i64>,
    pub reported_state: Option<String>,
    pub reported_at: Option<i64>,
    pub ide_type: Option<String>,
    pub program_id: Option<String>,
    pub progress: Option<i64>,
    pub status_text: Option<String>,
    pub context_bytes: Option<i64>,
    pub handoff_required: Option<bool>,
    pub mcp_session: Option<String>,
    pub tool_calls: u64,
    pub last_tool: Option<String>,
    pub errors: u64,
    pub state_changed_at: Option<i64>,
    pub archived: bool,
    pub updated_at: i64,
    /// What a waiting session waits for.
    pub waiting_for: Option<WaitingFor>,
    /// The tool a permission prompt or question is about.
    pub pending_tool: Option<PendingTool>,
    /// The signal that decided the current state.
    pub state_signal: Option<Signal>,
    /// What a push signal (hook, plugin, MCP) last said about the turn, and
    /// the tool it said the agent waits on.
    pub reported_turn: Option<Turn>,
    pub reported_tool: Option<PendingTool>,
    /// Who carried `reported_state` / `reported_turn`.
    pub reported_by: Option<Signal>,
}

pub(crate) const SESSION_COLUMNS: &str = "s.pk, s.id, s.agent, s.external_id, s.name, s.agent_label, s.project_path,
    s.source, s.state, s.started_at, s.last_activity, s.ended_at, s.agent_version, s.transcript_path, s.events,
    s.input_tokens, s.output_tokens, s.cache_write_5m_tokens, s.cache_write_1h_tokens, s.cache_read_tokens,
    s.reasoning_tokens, s.models, s.cost_usd, s.cost_source, s.unpriced_models,
    s.pid, s.proc_start, s.command, s.cpu, s.memory, s.turn, s.heartbeat_at, s.reported_state, s.reported_at,
    s.ide_type, s.program_id, s.progress, s.status_text, s.context_bytes, s.handoff_required, s.mcp_session,
    s.tool_calls, s.last_tool, s.errors, s.state_changed_at, s.archived, s.updated_at,
    s.waiting_for, s.pending_tool, s.state_signal, s.reported_turn, s.reported_tool, s.reported_by";

fn split_list(v: Option<String>) -> Vec<String> {
    v.map(|s| s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect()).unwrap_or_default()
}

pub(crate) fn session_from_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
    let state: String = r.get(8)?;
    Ok(SessionRow {
        pk: r.get(0)?,
        id: r.get(1)?,
        agent: r.get(2)?,
        external_id: r.get(3)?,
        name: r.get(4)?,
        agent_label: r.get(5)?,
        project_path: r.get(6)?,
        source: r.get(7)?,
        state: SessionState::parse(&state).unwrap_or(SessionState::Completed),
        started_at: r.get(9)?,
        last_activity: r.get(10)?,
        ended_at: r.get(11)?,
        agent_version: r.get(12)?,
        transcript_path: r.get(13)?,
        events: n(14)?,
        tokens: Tokens {
            input: n(15)?,
            output: n(16)?,
            cache_write_5m: n(17)?,
            cache_write_1h: n(18)?,
            cache_read: n(19)?,
            reasoning: n(20)?,
        },
        models: split_list(r.get(21)?),
        cost_usd: r.get(22)?,
        cost_source: r.get::<_, Option<String>>(23)?.filter(|s| !s.is_empty()),
        unpriced_models: split_list(r.get(24)?),
        live: LiveColumns {
            pid: r.get::<_, Option<i64>>(25)?.map(|p| p as u32),
            proc_start: r.get(26)?,
            command: r.get(27)?,
            cpu: r.get(28)?,
            memory: r.get::<_, Option<i64>>(29)?.map(|m| m.max(0) as u64),
            turn: r.get(30)?,
            heartbeat_at: r.get(31)?,
            reported_state: r.get(32)?,
            reported_at: r.get(33)?,
            ide_type: r.get(34)?,
            program_id: r.get(35)?,
            progress: r.get(36)?,
            status_text: r.get(37)?,
            context_bytes: r.get(38)?,
            handoff_required: r.get::<_, Option<i64>>(39)?.map(|v| v != 0),
            mcp_session: r.get(40)?,
            tool_calls: n(41)?,
            last_tool: r.get(42)?,
            errors: n(43)?,
            state_changed_at: r.get(44)?,
            archived: r.get::<_, i64>(45)? != 0,
            updated_at: r.get(46)?,
            waiting_for: r.get::<_, Option<String>>(47)?.as_deref().and_then(WaitingFor::parse),
            pending_tool: r.get::<_, Option<String>>(48)?.as_deref().and_then(PendingTool::from_json),
            state_signal: r.get::<_, Option<String>>(49)?.as_deref().and_then(Signal::parse),
            reported_turn: r.get::<_, Option<String>>(50)?.as_deref().and_then(Turn::parse),
            reported_tool: r.get::<_, Option<String>>(51)?.as_deref().and_then(PendingTool::from_json),
            reported_by: r.get::<_, Option<String>>(52)?.as_deref().and_then(Signal::parse),
        },
    })
}

/// Which sessions to list. Times are milliseconds.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Agent type id.
    pub agent_type: Option<String>,
    /// Agent label, type id or session name, case-insensitive.
    pub agent_name: Option<String>,
    /// Sessions with activity at or after this time, or in a live state.
    pub active_since: Option<i64>,
    /// Only sessions in these states.
    pub states: Vec<SessionState>,
    /// Sessions that were active in [from, to): started before `to` and last
    /// active at or after `from`.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub project: Option<String>,
    pub source: Option<String>,
    /// Leave out archived sessions.
    pub not_archived: bool,
    /// Text in the id, name, agent, label, project or command (case-insensitive).
    pub search: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// How many sessions match (ignoring limit and offset).
pub fn count_sessions(store: &Store, f: &SessionFilter) -> Result<u64> {
    let (sql, args) = count_sql(f);
    let n: i64 = store.conn().query_row(&sql, params_from_iter(args), |r| r.get(0)).map_err(|e| store.err(e))?;
    Ok(n as u64)
}

/// The agent type of the session with this exact public id.
pub fn agent_of(store: &Store, id: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    let mut st = store.conn().prepare_cached("SELECT agent FROM sessions WHERE id = ?1").map_err(|e| store.err(e))?;
    st.query_row([id], |r| r.get(0)).optional().map_err(|e| store.err(e))
}

/// Every agent type with a session in the store.
pub fn agent_types(store: &Store) -> Result<Vec<String>> {
    let mut st =
        store.conn().prepare_cached("SELECT DISTINCT agent FROM sessions ORDER BY agent").map_err(|e| store.err(e))?;
    let rows = st.query_map([], |r| r.get(0)).map_err(|e| store.err(e))?;
    rows.collect::<rusqlite::Result<Vec<String>>>().map_err(|e| store.err(e))
}

/// Sessions, most recently active first.
pub fn list_sessions(store: &Store, f: &SessionFilter) -> Result<Vec<SessionRow>> {
    let (sql, args) = list_sql(f);
    let mut st = store.conn().prepare_cached(&sql).map_err(|e| store.err(e))?;
    let rows = st.query_map(params_from_iter(args), session_from_row).map_err(|e| store.err(e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| store.err(e))
}

/// The query of [`count_sessions`], with its parameters.
pub(crate) fn count_sql(f: &SessionFilter) -> (String, Vec<Value>) {
    let (cond, args) = filter_sql(f);
    (format!("SELECT COUNT(*) FROM sessions s WHERE {cond}"), args)
}

/// The query of [`list_sessions`], with its parameters.
pub(crate) fn list_sql(f: &SessionFilter) -> (String, Vec<Value>) {
    let (cond, args) = filter_sql(f);
    let limit = f
        .limit
        .map(|l| format!(" LIMIT {l}"))
        .unwrap_or_else(|| if f.offset.is_some() { " LIMIT -1".into() } else { String::new() });
    let offset = f.offset.map(|o| format!(" OFFSET {o}")).unwrap_or_default();
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s WHERE {cond} ORDER BY s.last_activity DESC, s.pk DESC{limit}{offset}"
    );
    (sql, args)
}

fn filter_sql(f: &SessionFilter) -> (String, Vec<Value>) {
    let mut conds = vec!["1 = 1".to_string()];
    let mut args: Vec<Value> = Vec::new();
    let arg = |v: Value, args: &mut Vec<Value>| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(a) = &f.agent_type {
        conds.push(format!("s.agent = {}", arg(Value::Text(a.clone()), &mut args)));
    }
    if let Some(n) = &f.agent_name {
        let p = arg(Value::Text(n.to_lowercase()), &mut args);
        conds.push(format!(
            "(lower(COALESCE(s.agent_label, '')) = {p} OR s.agent = {p} OR lower(COALESCE(s.name, '')) = {p}
              OR lower(REPLACE(s.agent, '-', ' ')) = {p})"
        ));
    }
    if let Some(t) = f.active_since {
        let p = arg(Value::Integer(t), &mut args);
        conds.push(format!("(s.state IN {} OR s.last_activity >= {p})", SessionState::live_sql()));
    }
    if !f.states.is_empty() {
        let list: Vec<String> = f.states.iter().map(|s| format!("'{}'", s.as_str())).collect();
        conds.push(format!("s.state IN ({})", list.join(", ")));
    }
    if let Some(t) = f.from_ms {
        conds.push(format!("s.last_activity >= {}", arg(Value::Integer(t), &mut args)));
    }
    if let Some(t) = f.to_ms {
        conds.push(format!("s.started_at < {}", arg(Value::Integer(t), &mut args)));
    }
    if let Some(p) = &f.project {
        conds.push(format!("instr(COALESCE(s.project_path, ''), {}) > 0", arg(Value::Text(p.clone()), &mut args)));
    }
    if f.not_archived {
        conds.push("s.archived = 0".to_string());
    }
    if let Some(q) = f.search.as_ref().filter(|q| !q.trim().is_empty()) {
        let p = arg(Value::Text(q.trim().to_lowercase()), &mut args);
        conds.push(format!(
            "instr(lower(s.id || ' ' || s.agent || ' ' || COALESCE(s.name, '') || ' ' || COALESCE(s.agent_label, '') || ' '
               || COALESCE(s.project_path, '') || ' ' || COALESCE(s.command, '') || ' ' || COALESCE(s.models, '')), {p}) > 0"
        ));
    }
    if let Some(src) = &f.source {
        conds.push(format!("s.source = {}", arg(Value::Text(src.clone()), &mut args)));
    }
    (conds.join(" AND "), args)
}

/// A session by its full id, its agent's own id, or a unique prefix of either.
pub fn find_session(store: &Store, id: &str) -> Result<SessionRow> {
    let id = id.trim();
    if id.is_empty() {
        return Err(Error::Usage("a session id (or a unique prefix of one) is required".into()));
    }
    // No id holds a NUL, and SQLite's LIKE stops at one: "abc\0xyz" would
    // otherwise match as the prefix "abc".
    if id.contains('\0') {
        return Err(Error::NotFound(format!("no session matches '{}'", id.escape_debug())));
    }
    let (exact, prefix) = find_sql();
    let mut st = store.conn().prepare_cached(&exact).map_err(|e| store.err(e))?;
    let found: Vec<SessionRow> = st
        .query_map([id], session_from_row)
        .map_err(|e| store.err(e))?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| store.err(e))?;
    // A full id is unique; an agent's own id may be shared by sessions of
    // two agents.
    if found.len() == 1 || found.first().is_some_and(|s| s.id == id) {
        return Ok(found.into_iter().next().expect("one"));
    }
    if !found.is_empty() {
        return Err(ambiguous(id, &found, found.len()));
    }
    let escaped = id.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let mut st = store.conn().prepare_cached(&prefix).map_err(|e| store.err(e))?;
    let found: Vec<SessionRow> = st
        .query_map([escaped], session_from_row)
        .map_err(|e| store.err(e))?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| store.err(e))?;
    match found.len() {
        0 => Err(Error::NotFound(format!("no session matches '{id}'"))),
        1 => Ok(found.into_iter().next().expect("one")),
        n => Err(ambiguous(id, &found, n)),
    }
}

/// "'ab' matches 3 sessions (ab12… claude-code, ab9f… codex, …)": short ids
/// where they differ, whole ones where they do not.
fn ambiguous(id: &str, found: &[SessionRow], n: usize) -> Error {
    let short = |s: &SessionRow| s.id.chars().take(12).collect::<String>();
    let distinct = found.iter().map(short).collect::<std::collections::HashSet<_>>().len() == found.len();
    let ids: Vec<String> = found
        .iter()
        .take(3)
        .map(|s| format!("{} {}", if distinct { short(s) } else { s.id.clone() }, s.agent))
        .collect();
    let more = if n > 5 { "more than 5".to_string() } else { n.to_string() };
    let tail = if n > ids.len() { ", …" } else { "" };
    Error::Usage(format!("'{id}' matches {more} sessions ({}{tail}); give more of the id", ids.join(", ")))
}

/// The queries of [`find_session`]: by exact id, then by prefix.
pub(crate) fn find_sql() -> (String, String) {
    let exact = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.id = ?1 OR s.external_id = ?1
         ORDER BY s.id = ?1 DESC, s.last_activity DESC LIMIT 6"
    );
    let prefix = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s
         WHERE s.id LIKE ?1 || '%' ESCAPE '\\' OR s.external_id LIKE ?1 || '%' ESCAPE '\\'
         ORDER BY s.last_activity DESC LIMIT 6"
    );
    (exact, prefix)
}

/// Per-model usage of one session, costliest first.
pub fn session_usage(store: &Store, pk: i64) -> Result<Vec<super::RollupRow>> {
    let f = super::UsageFilter { session: Some(pk), ..Default::default() };
    super::rollup(store, &f, super::RollupGroup::Session)
}

pub(super) fn id_taken(c: &rusqlite::Connection, id: &str) -> rusqlite::Result<bool> {
    c.query_row("SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1)", [id], |r| r.get(0))
}

/// Whether an agent's own session id can also be the public id. The public
/// id must come back unchanged from what people type and what
/// [`super::find_session`] looks up (trimmed), so no spaces or control
/// characters, and it must fit in a table. Other ids get a fresh UUID.
pub(crate) fn usable_as_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Dirs;
    use crate::store::Registration;

    #[test]
    fn an_id_with_a_nul_matches_nothing() {
        // Found by the rest_query fuzz target: GET /api/sessions/<id>%00junk
        // found the session <id>, as SQLite's LIKE ignores what follows a NUL.
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let reg = Registration {
            agent: "claude-code".into(),
            external_id: Some("c580ff25".into()),
            source: "hook".into(),
            ..Default::default()
        };
        store.register(&reg, 1).unwrap();
        assert_eq!(find_session(&store, "c580").unwrap().id, "c580ff25");
        for id in ["c580ff25\0junk", "c580\0", "\0"] {
            assert!(matches!(find_session(&store, id), Err(Error::NotFound(_))), "{id:?}");
        }
    }

    #[test]
    fn a_full_id_wins_and_an_agent_id_two_agents_share_is_ambiguous() {
        // Found by the hook_payload fuzz target: a Claude Code hook and a
        // Codex notify naming the same id made two sessions, and neither
        // could then be found by it.
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let shared = "0199a213-81c0-7800-8aa1-bbab2a035a53";
        let mut ids = Vec::new();
        for agent in ["claude-code", "codex"] {
            let reg = Registration {
                agent: agent.into(),
                external_id: Some(shared.into()),
                source: "hook".into(),
                ..Default::default()
            };
            let (row, _) = store.register(&reg, 1).unwrap();
            ids.push(row.id);
        }
        assert_ne!(ids[0], ids[1]);
        for id in &ids {
            assert_eq!(&find_session(&store, id).unwrap().id, id, "a full id finds its session");
        }
        if !ids.iter().any(|i| i == shared) {
            let e = find_session(&store, shared).unwrap_err().to_string();
            assert!(e.contains("matches 2 sessions") && e.contains("codex") && e.contains("claude-code"), "{e}");
        }
    }
}
