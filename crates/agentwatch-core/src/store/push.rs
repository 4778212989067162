//! What agents tell agentwatch about themselves: registrations (MCP clients,
//! the MCP proxy, hooks), reported state, heartbeats, tool calls.
//!
//! The MCP server, `agentwatch mcp-proxy` and `agentwatch hook` all write
//! through here, from different processes at once; every call is one short
//! transaction.

use rusqlite::{OptionalExtension, params};

use super::Store;
use super::live::{event, push_event};
use super::sessions::{SessionRow, id_taken, usable_as_id};
use crate::error::{Error, Result};
use crate::liveness::{Reported, Signal, Turn};
use crate::model::PendingTool;

/// Who is registering a session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registration {
    /// Agent type id (`claude-code`, or the MCP client's name).
    pub agent: String,
    /// The agent's own session id (a hook's `session_id`): links to the
    /// session the transcripts describe.
    pub external_id: Option<String>,
    /// A public id asked for (MCP `create_session(sessionId)`): upsert.
    pub id: Option<String>,
    /// `mcp`, `proxy` or `hook`.
    pub source: String,
    pub name: Option<String>,
    pub agent_label: Option<String>,
    pub ide_type: Option<String>,
    pub program_id: Option<String>,
    pub project_path: Option<String>,
    pub transcript_path: Option<String>,
    /// The MCP session this registration came from.
    pub mcp_session: Option<String>,
    /// Whether the session reports heartbeats (so it can go stale).
    pub heartbeats: bool,
}

/// A self-reported update. `None` fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub state: Option<Reported>,
    pub turn: Option<Turn>,
    /// The tool the agent waits on (a permission prompt, a question). A
    /// reported turn without one clears it.
    pub tool: Option<PendingTool>,
    /// Who carries the state or turn: hook, mcp or otel (default mcp).
    pub by: Option<Signal>,
    pub progress: Option<i64>,
    pub status_text: Option<String>,
    pub heartbeat: bool,
    pub context_bytes: Option<i64>,
    pub handoff_required: Option<bool>,
}

impl Store {
    /// Creates the session, or updates it if it exists (by public id, then
    /// by the agent's own id). Returns the row and whether it was created.
    pub fn register(&self, r: &Registration, now: i64) -> Result<(SessionRow, bool)> {
        let tx = self.write_tx()?;
        let existing: Option<i64> = match (&r.id, &r.external_id) {
            (Some(id), _) => tx.query_row("SELECT pk FROM sessions WHERE id = ?1", [id], |x| x.get(0)).optional()?,
            (None, Some(ext)) => tx
                .query_row(
                    "SELECT pk FROM sessions WHERE agent = ?1 AND external_id = ?2",
                    params![r.agent, ext],
                    |x| x.get(0),
                )
                .optional()?,
            (None, None) => None,
        };
        let heartbeat = r.heartbeats.then_some(now);
        let (pk, created) = match existing {
            Some(pk) => {
                tx.execute(
                    "UPDATE sessions SET name = COALESCE(?2, name), agent_label = COALESCE(?3, agent_label),
                       ide_type = COALESCE(?4, ide_type), program_id = COALESCE(?5, program_id),
                       project_path = COALESCE(?6, project_path), transcript_path = COALESCE(transcript_path, ?7),
                       mcp_session = COALESCE(?8, mcp_session), heartbeat_at = COALESCE(?9, heartbeat_at),
                       last_activity = MAX(last_activity, ?10), archived = 0, updated_at = ?10
                     WHERE pk = ?1",
                    params![
                        pk,
                        r.name,
                        r.agent_label,
                        r.ide_type,
                        r.program_id,
                        r.project_path,
                        r.transcript_path,
                        r.mcp_session,
                        heartbeat,
                        now
                    ],
                )?;
                (pk, false)
            }
            None => {
                let id = match (&r.id, &r.external_id) {
                    (Some(id), _) => id.clone(),
                    (None, Some(ext)) if usable_as_id(ext) && !id_taken(&tx, ext)? => ext.clone(),
                    _ => uuid::Uuid::new_v4().to_string(),
                };
                tx.execute(
                    "INSERT INTO sessions (id, agent, external_id, name, agent_label, ide_type, program_id, project_path,
                       transcript_path, mcp_session, source, state, started_at, last_activity, heartbeat_at, updated_at,
                       cost_usd)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'working', ?12, ?12, ?13, ?12, 0)",
                    params![
                        id,
                        r.agent,
                        r.external_id,
                        r.name,
                        r.agent_label,
                        r.ide_type,
                        r.program_id,
                        r.project_path,
                        r.transcript_path,
                        r.mcp_session,
                        r.source,
                        now,
                        heartbeat
                    ],
                )?;
                let pk = tx.last_insert_rowid();
                push_event(&tx, now, event::SESSION_CREATED, Some(&id), None)?;
                (pk, true)
            }
        };
        tx.commit()?;
        let row = self.session_by_pk(pk)?.ok_or_else(|| Error::Other("session vanished".into()))?;
        Ok((row, created))
    }

    /// Applies a self-reported update.
    pub fn report(&self, pk: i64, r: &Report, now: i64) -> Result<()> {
        let tx = self.write_tx()?;
        let reported_at = (r.state.is_some() || r.turn.is_some()).then_some(now);
        let n = tx.execute(
            "UPDATE sessions SET reported_state = COALESCE(?2, reported_state),
               reported_turn = COALESCE(?3, reported_turn),
               reported_tool = CASE WHEN ?3 IS NOT NULL THEN ?11 ELSE reported_tool END,
               reported_by = CASE WHEN ?4 IS NOT NULL THEN ?12 ELSE reported_by END,
               reported_at = COALESCE(?4, reported_at), progress = COALESCE(?5, progress),
               status_text = COALESCE(?6, status_text), heartbeat_at = CASE WHEN ?7 THEN ?8 ELSE heartbeat_at END,
               context_bytes = COALESCE(?9, context_bytes), handoff_required = COALESCE(?10, handoff_required),
               last_activity = MAX(last_activity, ?8), archived = 0, updated_at = ?8
             WHERE pk = ?1",
            params![
                pk,
                r.state.map(Reported::as_str),
                r.turn.map(Turn::as_str),
                reported_at,
                r.progress,
                r.status_text,
                r.heartbeat,
                now,
                r.context_bytes,
                r.handoff_required,
                r.tool.as_ref().map(PendingTool::to_json),
                r.by.unwrap_or(Signal::Mcp).as_str(),
            ],
        )?;
        if n == 0 {
            return Err(Error::NotFound(format!("no session with key {pk}")));
        }
        let id: String = tx.query_row("SELECT id FROM sessions WHERE pk = ?1", [pk], |x| x.get(0))?;
        push_event(&tx, now, event::SESSION_UPDATED, Some(&id), None)?;
        tx.commit()?;
        Ok(())
    }

    /// Counts a tool call (and its error) for a session.
    pub fn record_tool_call(&self, pk: i64, tool: &str, source: &str, is_error: bool, now: i64) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO tool_calls (session, at, tool, source, is_error) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![pk, now, tool, source, is_error],
        )?;
        tx.execute(
            "UPDATE sessions SET tool_calls = tool_calls + 1, last_tool = ?2, errors = errors + ?3,
               last_activity = MAX(last_activity, ?4), updated_at = ?4
             WHERE pk = ?1",
            params![pk, tool, is_error as i64, now],
        )?;
        let id: String = tx.query_row("SELECT id FROM sessions WHERE pk = ?1", [pk], |x| x.get(0))?;
        let data =
            serde_json::json!({"at": crate::views::iso(now), "tool": tool, "source": source, "isError": is_error});
        push_event(&tx, now, event::TOOL_CALL, Some(&id), Some(&data.to_string()))?;
        tx.commit()?;
        Ok(())
    }

    /// Counts an error that is not a tool call's (a failed JSON-RPC request).
    pub fn record_error(&self, pk: i64, now: i64) -> Result<()> {
        self.conn
            .execute("UPDATE sessions SET errors = errors + 1, updated_at = ?2 WHERE pk = ?1", params![pk, now])?;
        Ok(())
    }

    /// The session registered by an MCP session.
    pub fn session_by_mcp(&self, mcp_session: &str) -> Result<Option<SessionRow>> {
        let pk: Option<i64> = self
            .conn
            .query_row("SELECT pk FROM sessions WHERE mcp_session = ?1 ORDER BY pk DESC LIMIT 1", [mcp_session], |r| {
                r.get(0)
            })
            .optional()?;
        match pk {
            Some(pk) => self.session_by_pk(pk),
            None => Ok(None),
        }
    }

    /// The session of `agent` in directory `dir` most likely meant by an
    /// event that names no session: one with a running process first, then
    /// the most recently active.
    pub fn live_session_in(&self, agent: &str, dir: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT pk FROM sessions WHERE agent = ?1 AND project_path = ?2 AND archived = 0
                 ORDER BY (pid IS NOT NULL) DESC, last_activity DESC LIMIT 1",
                params![agent, dir],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The live session whose process is `pid`, if the collector follows one.
    pub fn session_by_pid(&self, pid: u32) -> Result<Option<SessionRow>> {
        let pk: Option<i64> = self
            .conn
            .query_row(
                &format!(
                    "SELECT pk FROM sessions WHERE pid = ?1 AND state IN {} ORDER BY updated_at DESC LIMIT 1",
                    crate::model::SessionState::live_sql()
                ),
                [pid],
                |r| r.get(0),
            )
            .optional()?;
        match pk {
            Some(pk) => self.session_by_pk(pk),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Dirs;

    #[test]
    fn register_upserts_by_id_and_by_the_agents_own_id() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let r = Registration {
            agent: "claude-code".into(),
            external_id: Some("sess-9".into()),
            source: "hook".into(),
            project_path: Some("/home/u/app".into()),
            ..Default::default()
        };
        let (a, created) = store.register(&r, 1000).unwrap();
        assert!(created);
        assert_eq!(a.id, "sess-9", "the agent's id is the public id");
        let (b, created) = store.register(&Registration { name: Some("x".into()), ..r.clone() }, 2000).unwrap();
        assert!(!created);
        assert_eq!((b.pk, b.name.as_deref(), b.last_activity), (a.pk, Some("x"), 2000));
        let mcp = Registration {
            agent: "cursor".into(),
            id: Some("builder-1".into()),
            source: "mcp".into(),
            heartbeats: true,
            ..Default::default()
        };
        let (c, _) = store.register(&mcp, 3000).unwrap();
        assert_eq!((c.id.as_str(), c.live.heartbeat_at), ("builder-1", Some(3000)));
        let (d, created) = store.register(&mcp, 4000).unwrap();
        assert!(!created && d.pk == c.pk && d.live.heartbeat_at == Some(4000));
    }

    #[test]
    fn an_agent_id_with_spaces_is_not_a_public_id() {
        // Found by the hook_payload fuzz target: a session " s-1" took the
        // public id " s-1", and looking it up (trimmed) found "s-1" instead.
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let reg = |ext: &str| Registration {
            agent: "claude-code".into(),
            external_id: Some(ext.into()),
            source: "hook".into(),
            ..Default::default()
        };
        let (plain, _) = store.register(&reg("s-1"), 1).unwrap();
        assert_eq!(plain.id, "s-1");
        for odd in [" s-1", "s-1\n", "s\u{0}1", &"x".repeat(129)] {
            let (row, created) = store.register(&reg(odd), 2).unwrap();
            assert!(created && row.id != odd && row.external_id.as_deref() == Some(odd));
            assert_eq!(crate::store::find_session(&store, &row.id).unwrap().pk, row.pk, "{odd:?}");
        }
        assert_eq!(crate::store::find_session(&store, "s-1").unwrap().pk, plain.pk);
        // The same for sessions first seen in a transcript.
        let pk = crate::store::ingest::ensure_session(store.conn(), "codex", " s-2", 3).unwrap();
        let row = store.session_by_pk(pk).unwrap().unwrap();
        assert_ne!(row.id, " s-2");
        assert_eq!(crate::store::find_session(&store, &row.id).unwrap().pk, pk);
    }

    #[test]
    fn reports_and_tool_calls_update_the_counters_and_the_feed() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let (s, _) = store
            .register(&Registration { agent: "codex".into(), source: "proxy".into(), ..Default::default() }, 1000)
            .unwrap();
        store.record_tool_call(s.pk, "read_file", "proxy", false, 1100).unwrap();
        store.record_tool_call(s.pk, "write_file", "proxy", true, 1200).unwrap();
        store
            .report(
                s.pk,
                &Report {
                    state: Some(Reported::Blocked),
                    progress: Some(65),
                    status_text: Some("tests".into()),
                    heartbeat: true,
                    ..Default::default()
                },
                1300,
            )
            .unwrap();
        let s = store.session_by_pk(s.pk).unwrap().unwrap();
        assert_eq!((s.live.tool_calls, s.live.errors, s.live.last_tool.as_deref()), (2, 1, Some("write_file")));
        assert_eq!(
            (s.live.reported_state.as_deref(), s.live.progress, s.live.heartbeat_at),
            (Some("blocked"), Some(65), Some(1300))
        );
        let calls = store.tool_calls(s.pk, 10).unwrap();
        assert_eq!(calls.iter().map(|c| c.tool.as_str()).collect::<Vec<_>>(), vec!["read_file", "write_file"]);
        let kinds: Vec<String> = store.events_after(0, 10).unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec!["session.created", "tool.call", "tool.call", "session.updated"]);
        assert!(store.report(999, &Report::default(), 1).is_err());
    }
}
