//! Live writes: processes attached to sessions, state transitions, the change
//! feed. Every function here is one short transaction, so the daemon, the
//! MCP proxy and hooks can write side by side.

use rusqlite::{OptionalExtension, params};

use super::Store;
use super::sessions::{SESSION_COLUMNS, SessionRow, id_taken, session_from_row, usable_as_id};
use crate::error::Result;
use crate::liveness::{Signal, Verdict, WaitingFor};
use crate::model::{PendingTool, SessionState};

/// What the collector knows about a running agent process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessFacts {
    pub agent: String,
    pub pid: u32,
    /// Seconds since the epoch.
    pub start: i64,
    pub command: String,
    /// The session's project: the link's, else the working directory.
    pub cwd: Option<String>,
    pub name: Option<String>,
    pub transcript: Option<String>,
}

/// One recorded state change.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub session: i64,
    pub session_id: String,
    pub from: Option<SessionState>,
    pub to: SessionState,
    pub at: i64,
    pub reason: String,
    pub scan: Option<u64>,
    /// What the session waits for, when `to` is waiting.
    pub waiting_for: Option<WaitingFor>,
    /// The signal that decided it (None: recorded before agentwatch kept it).
    pub signal: Option<Signal>,
}

/// A recorded tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallRecord {
    pub at: i64,
    pub tool: String,
    pub source: String,
    pub is_error: bool,
}

/// Kinds of change-feed events.
pub mod event {
    pub const SESSION_CREATED: &str = "session.created";
    pub const SESSION_UPDATED: &str = "session.updated";
    pub const SESSION_STATE: &str = "session.state";
    pub const TOOL_CALL: &str = "tool.call";
    /// A decision on a tool, from an agent's telemetry: `{at, tool, decision, source}`.
    pub const TOOL_DECISION: &str = "tool.decision";
    pub const USAGE: &str = "usage";
    pub const ALERT: &str = "alert";
    /// A permission or question alert was answered: withdraw its notification.
    pub const ALERT_RESOLVED: &str = "alert.resolved";
}

/// A change-feed event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub session: Option<String>,
    pub data: Option<String>,
}

/// The query of [`Store::state_history`].
pub(crate) const STATE_HISTORY_SQL: &str =
    "SELECT c.session, s.id, c.from_state, c.to_state, c.at, COALESCE(c.reason, ''), c.scan, c.waiting_for, c.signal
     FROM state_changes c JOIN sessions s ON s.pk = c.session WHERE c.session = ?1 ORDER BY c.at, c.id";

/// The query of [`Store::tool_calls`]: the last `?2` calls, oldest first.
pub(crate) const TOOL_CALLS_SQL: &str = "SELECT at, tool, source, is_error FROM
       (SELECT id, at, tool, source, is_error FROM tool_calls WHERE session = ?1 ORDER BY at DESC, id DESC LIMIT ?2)
     ORDER BY at, id";

impl Store {
    /// The key of the session with this public id.
    pub fn session_pk_by_id(&self, id: &str) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT pk FROM sessions WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The key of the session a process (pid and start time) is attached to.
    pub fn session_pk_of_process(&self, pid: u32, start: i64) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT pk FROM sessions WHERE pid = ?1 AND proc_start = ?2", params![pid, start], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Sessions whose process the collector follows: a pid and a live state.
    pub fn sessions_with_process(&self) -> Result<Vec<SessionRow>> {
        self.select_sessions(&format!("s.pid IS NOT NULL AND s.state IN {}", SessionState::live_sql()), &[])
    }

    /// Sessions without a followed process that may still change state:
    /// live ones, and transcript-only ones active since `since`.
    pub fn sessions_without_process(&self, since: i64) -> Result<Vec<SessionRow>> {
        let live = SessionState::live_sql();
        self.select_sessions(
            &format!(
                "s.archived = 0 AND (s.pid IS NULL OR s.state NOT IN {live})
                 AND (s.state IN {live} OR (s.last_activity >= ?1 AND s.state = 'completed'))"
            ),
            &[&since],
        )
    }

    pub fn session_by_pk(&self, pk: i64) -> Result<Option<SessionRow>> {
        Ok(self.select_sessions("s.pk = ?1", &[&pk])?.into_iter().next())
    }

    fn select_sessions(&self, cond: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<SessionRow>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE {cond}");
        let mut st = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = st.query_map(args, session_from_row).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Attaches a running process to the session with this agent id,
    /// creating the session if there is none. Returns (pk, created).
    pub fn attach_process(&self, p: &ProcessFacts, external_id: Option<&str>, now: i64) -> Result<(i64, bool)> {
        let tx = self.write_tx()?;
        let existing: Option<i64> = match external_id {
            Some(ext) => tx
                .query_row(
                    "SELECT pk FROM sessions WHERE agent = ?1 AND external_id = ?2",
                    params![p.agent, ext],
                    |r| r.get(0),
                )
                .optional()?,
            None => None,
        };
        let (pk, created) = match existing {
            Some(pk) => {
                tx.execute(
                    "UPDATE sessions SET pid = ?2, proc_start = ?3, command = ?4, name = COALESCE(?5, name),
                       project_path = COALESCE(project_path, ?6), transcript_path = COALESCE(transcript_path, ?7),
                       archived = 0, ended_at = NULL, updated_at = ?8
                     WHERE pk = ?1",
                    params![pk, p.pid, p.start, p.command, p.name, p.cwd, p.transcript, now],
                )?;
                (pk, false)
            }
            None => {
                let id = match external_id {
                    Some(ext) if usable_as_id(ext) && !id_taken(&tx, ext)? => ext.to_string(),
                    _ => uuid::Uuid::new_v4().to_string(),
                };
                tx.execute(
                    "INSERT INTO sessions (id, agent, external_id, name, project_path, source, state, started_at,
                       last_activity, pid, proc_start, command, transcript_path, updated_at, cost_usd)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'process', 'idle', ?6, ?6, ?7, ?8, ?9, ?10, ?11, 0)",
                    params![
                        id,
                        p.agent,
                        external_id,
                        p.name,
                        p.cwd,
                        p.start * 1000,
                        p.pid,
                        p.start,
                        p.command,
                        p.transcript,
                        now
                    ],
                )?;
                let pk = tx.last_insert_rowid();
                push_event(&tx, now, super::live::event::SESSION_CREATED, Some(&id), None)?;
                (pk, true)
            }
        };
        tx.commit()?;
        Ok((pk, created))
    }

    /// Gives a process-only session the agent's id once its transcript is
    /// known. If a session with that id exists already (history, or ingest
    /// got there first), the process-only one is merged into it. Returns the
    /// pk that remains.
    pub fn link_external(
        &self,
        pk: i64,
        agent: &str,
        external_id: &str,
        transcript: Option<&str>,
        now: i64,
    ) -> Result<i64> {
        let tx = self.write_tx()?;
        let other: Option<i64> = tx
            .query_row(
                "SELECT pk FROM sessions WHERE agent = ?1 AND external_id = ?2 AND pk != ?3",
                params![agent, external_id, pk],
                |r| r.get(0),
            )
            .optional()?;
        let keep = match other {
            None => {
                tx.execute(
                    "UPDATE sessions SET external_id = ?2, transcript_path = COALESCE(transcript_path, ?3), updated_at = ?4
                     WHERE pk = ?1",
                    params![pk, external_id, transcript, now],
                )?;
                pk
            }
            Some(target) => {
                tx.execute(
                    "UPDATE sessions SET (pid, proc_start, command, cpu, memory, turn, state, state_changed_at,
                       waiting_for, pending_tool, state_signal) =
                       (SELECT pid, proc_start, command, cpu, memory, turn, state, state_changed_at,
                          waiting_for, pending_tool, state_signal FROM sessions WHERE pk = ?2),
                       name = COALESCE(name, (SELECT name FROM sessions WHERE pk = ?2)),
                       project_path = COALESCE(project_path, (SELECT project_path FROM sessions WHERE pk = ?2)),
                       transcript_path = COALESCE(transcript_path, ?3), archived = 0, updated_at = ?4
                     WHERE pk = ?1",
                    params![target, pk, transcript, now],
                )?;
                for table in ["state_changes", "alerts", "tool_calls"] {
                    tx.execute(&format!("UPDATE {table} SET session = ?1 WHERE session = ?2"), params![target, pk])?;
                }
                let old_id: String = tx.query_row("SELECT id FROM sessions WHERE pk = ?1", [pk], |r| r.get(0))?;
                tx.execute("DELETE FROM sessions WHERE pk = ?1", [pk])?;
                push_event(
                    &tx,
                    now,
                    super::live::event::SESSION_UPDATED,
                    Some(&old_id),
                    Some(r#"{"mergedInto":true}"#),
                )?;
                target
            }
        };
        tx.commit()?;
        Ok(keep)
    }

    /// Lets go of a session's process (it exited; the agent carries the
    /// session on elsewhere): the session is no longer followed by pid.
    pub fn release_process(&self, pk: i64) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE sessions SET pid = NULL, cpu = NULL, memory = NULL WHERE pk = ?1")?
            .execute([pk])?;
        Ok(())
    }

    /// Records what the last scan measured.
    pub fn set_process_metrics(
        &self,
        pk: i64,
        cpu: Option<f64>,
        memory: Option<u64>,
        turn: Option<&str>,
    ) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE sessions SET cpu = ?2, memory = ?3, turn = COALESCE(?4, turn) WHERE pk = ?1")?
            .execute(params![pk, cpu, memory.map(|m| m as i64), turn])?;
        Ok(())
    }

    /// Moves a session to a new state and records the transition (the
    /// signal is the process table: `kill`, tests).
    pub fn transition(
        &self,
        pk: i64,
        to: SessionState,
        now: i64,
        reason: &str,
        scan: Option<u64>,
    ) -> Result<Option<Transition>> {
        let waiting_for = (to == SessionState::Waiting).then_some(WaitingFor::Input);
        self.record_verdict(pk, &Verdict { state: to, waiting_for, signal: Signal::Process }, None, now, reason, scan)
    }

    /// Records what [`crate::liveness::decide`] concluded: a transition when
    /// the state or what the session waits for changed (with the signal that
    /// decided it, and the tool a permission prompt or question is about).
    /// Otherwise only the signal and tool are brought up to date.
    pub fn record_verdict(
        &self,
        pk: i64,
        v: &Verdict,
        tool: Option<&PendingTool>,
        now: i64,
        reason: &str,
        scan: Option<u64>,
    ) -> Result<Option<Transition>> {
        let to = v.state;
        let waiting_for = v.waiting_for.filter(|_| to == SessionState::Waiting);
        // Only a permission prompt or a question is about a tool.
        let tool = tool.filter(|_| waiting_for.is_some_and(WaitingFor::is_urgent)).map(PendingTool::to_json);
        let tx = self.write_tx()?;
        type Current = (String, String, Option<i64>, Option<String>, Option<String>, Option<String>);
        let (id, from, judged, was_waiting_for, was_tool, was_signal): Current = tx.query_row(
            "SELECT id, state, state_changed_at, waiting_for, pending_tool, state_signal FROM sessions WHERE pk = ?1",
            [pk],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )?;
        let from_state = SessionState::parse(&from);
        let was_waiting_for = was_waiting_for.as_deref().and_then(WaitingFor::parse);
        if from_state == Some(to) && was_waiting_for == waiting_for && judged.is_some() {
            if was_tool != tool || was_signal.as_deref() != Some(v.signal.as_str()) {
                tx.execute(
                    "UPDATE sessions SET pending_tool = ?2, state_signal = ?3 WHERE pk = ?1",
                    params![pk, tool, v.signal.as_str()],
                )?;
                if was_tool != tool {
                    push_event(&tx, now, event::SESSION_UPDATED, Some(&id), None)?;
                }
                tx.commit()?;
            }
            return Ok(None);
        }
        let ended = to.is_ended().then_some(now);
        tx.execute(
            "UPDATE sessions SET state = ?2, state_changed_at = ?3, updated_at = ?3,
               ended_at = CASE WHEN ?4 IS NOT NULL THEN COALESCE(ended_at, ?4) ELSE NULL END,
               waiting_for = ?5, pending_tool = ?6, state_signal = ?7
             WHERE pk = ?1",
            params![pk, to.as_str(), now, ended, waiting_for.map(WaitingFor::as_str), tool, v.signal.as_str()],
        )?;
        // A session the collector judges for the first time has no meaningful "from".
        let from_state = if judged.is_some() { from_state } else { None };
        tx.execute(
            "INSERT INTO state_changes (session, at, from_state, to_state, reason, scan, signal, waiting_for)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                pk,
                now,
                from_state.map(|s| s.as_str()),
                to.as_str(),
                reason,
                scan.map(|s| s as i64),
                v.signal.as_str(),
                waiting_for.map(WaitingFor::as_str)
            ],
        )?;
        let data = serde_json::json!({
            "from": from_state.map(|s| s.as_str()), "to": to.as_str(), "reason": reason,
            "waitingFor": waiting_for, "signal": v.signal,
        });
        push_event(&tx, now, event::SESSION_STATE, Some(&id), Some(&data.to_string()))?;
        tx.commit()?;
        Ok(Some(Transition {
            session: pk,
            session_id: id,
            from: from_state,
            to,
            at: now,
            reason: reason.to_string(),
            scan,
            waiting_for,
            signal: Some(v.signal),
        }))
    }

    /// Archives sessions inactive since `before` (never deletes; pinned ones
    /// are kept). Returns how many.
    pub fn archive_inactive(&self, before: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE sessions SET archived = 1 WHERE archived = 0 AND state != 'pinned'
               AND MAX(last_activity, COALESCE(heartbeat_at, 0), COALESCE(state_changed_at, 0)) < ?1",
            [before],
        )?)
    }

    /// Archives every completed or dead session ("Clear completed").
    pub fn archive_ended(&self) -> Result<usize> {
        Ok(self
            .conn
            .execute("UPDATE sessions SET archived = 1 WHERE archived = 0 AND state IN ('completed', 'dead')", [])?)
    }

    /// The state history of a session, oldest first.
    pub fn state_history(&self, pk: i64) -> Result<Vec<Transition>> {
        let mut st = self.conn.prepare_cached(STATE_HISTORY_SQL)?;
        let rows = st.query_map([pk], |r| {
            let from: Option<String> = r.get(2)?;
            let to: String = r.get(3)?;
            Ok(Transition {
                session: r.get(0)?,
                session_id: r.get(1)?,
                from: from.as_deref().and_then(SessionState::parse),
                to: SessionState::parse(&to).unwrap_or(SessionState::Completed),
                at: r.get(4)?,
                reason: r.get(5)?,
                scan: r.get::<_, Option<i64>>(6)?.map(|s| s as u64),
                waiting_for: r.get::<_, Option<String>>(7)?.as_deref().and_then(WaitingFor::parse),
                signal: r.get::<_, Option<String>>(8)?.as_deref().and_then(Signal::parse),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The last `limit` tool calls of a session, oldest first.
    pub fn tool_calls(&self, pk: i64, limit: usize) -> Result<Vec<ToolCallRecord>> {
        let mut st = self.conn.prepare_cached(TOOL_CALLS_SQL)?;
        let rows = st.query_map(params![pk, limit as i64], |r| {
            Ok(ToolCallRecord { at: r.get(0)?, tool: r.get(1)?, source: r.get(2)?, is_error: r.get::<_, i64>(3)? != 0 })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Appends to the change feed.
    pub fn push_event(&self, kind: &str, session: Option<&str>, data: Option<&str>) -> Result<()> {
        push_event(&self.conn, crate::util::now_ms(), kind, session, data)?;
        Ok(())
    }

    /// Change-feed events after `after`, oldest first.
    pub fn events_after(&self, after: i64, limit: usize) -> Result<Vec<EventRecord>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, at, kind, session, data FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")?;
        let rows = st.query_map(params![after, limit as i64], |r| {
            Ok(EventRecord { id: r.get(0)?, at: r.get(1)?, kind: r.get(2)?, session: r.get(3)?, data: r.get(4)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The newest change-feed id (0 when empty).
    pub fn last_event_id(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?)
    }

    /// Drops change-feed events older than `before`, keeping the last 1,000.
    pub fn prune_events(&self, before: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM events WHERE at < ?1 AND id <= (SELECT COALESCE(MAX(id), 0) - 1000 FROM events)",
            [before],
        )?)
    }
}

pub(crate) fn push_event(
    c: &rusqlite::Connection,
    at: i64,
    kind: &str,
    session: Option<&str>,
    data: Option<&str>,
) -> rusqlite::Result<()> {
    c.prepare_cached("INSERT INTO events (at, kind, session, data) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![at, kind, session, data])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Dirs;

    fn facts(pid: u32) -> ProcessFacts {
        ProcessFacts {
            agent: "claude-code".into(),
            pid,
            start: 1_700_000_000,
            command: "claude".into(),
            cwd: Some("/home/u/app".into()),
            name: None,
            transcript: None,
        }
    }

    #[test]
    fn a_process_only_session_merges_into_the_transcript_session() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let (placeholder, created) = store.attach_process(&facts(42), None, 1000).unwrap();
        assert!(created);
        store.transition(placeholder, SessionState::Working, 1000, "detected", Some(1)).unwrap();
        // Ingest meanwhile created the transcript's session.
        let ingested = super::super::ingest::ensure_session(&store.conn, "claude-code", "sess-1", 500).unwrap();
        let kept = store.link_external(placeholder, "claude-code", "sess-1", Some("/t/sess-1.jsonl"), 2000).unwrap();
        assert_eq!(kept, ingested);
        let s = store.session_by_pk(kept).unwrap().unwrap();
        assert_eq!(
            (s.live.pid, s.state, s.transcript_path.as_deref()),
            (Some(42), SessionState::Working, Some("/t/sess-1.jsonl"))
        );
        // The transcript did not say where it runs (yet): the process did.
        assert_eq!(s.project_path.as_deref(), Some("/home/u/app"));
        assert_eq!(store.state_history(kept).unwrap().len(), 1, "history moved along");
        assert!(store.session_by_pk(placeholder).unwrap().is_none());
        // Attaching the same process by id finds the same session.
        assert_eq!(store.attach_process(&facts(42), Some("sess-1"), 3000).unwrap(), (kept, false));
    }

    #[test]
    fn transitions_are_recorded_once_with_their_reason() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let (pk, _) = store.attach_process(&facts(7), Some("x"), 1000).unwrap();
        let first = store.transition(pk, SessionState::Idle, 1000, "detected", Some(1)).unwrap().unwrap();
        assert_eq!(first.from, None);
        assert!(store.transition(pk, SessionState::Idle, 1500, "again", Some(2)).unwrap().is_none());
        let t2 = store.transition(pk, SessionState::Dead, 2000, "process gone", Some(3)).unwrap().unwrap();
        assert_eq!((t2.from, t2.to), (Some(SessionState::Idle), SessionState::Dead));
        let s = store.session_by_pk(pk).unwrap().unwrap();
        assert_eq!(s.ended_at, Some(2000));
        let kinds: Vec<String> = store.events_after(0, 10).unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec!["session.created", "session.state", "session.state"]);
        assert_eq!(store.archive_inactive(2_000_000_000_000).unwrap(), 1);
    }
}
