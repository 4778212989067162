//! The queries of alerts (see [`crate::alerts`]): what may be alerted
//! about, the alerts raised, and snoozes.

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::Result;

/// A session something may be alerted about.
#[derive(Debug, Clone)]
pub struct AlertCandidate {
    pub pk: i64,
    pub id: String,
    pub agent: String,
    pub name: Option<String>,
    pub program: Option<String>,
    pub project: Option<String>,
    /// When the change to alert about happened (ms).
    pub changed_at: i64,
    /// The state change's row, for alerts raised once per change.
    pub change_id: Option<i64>,
    pub heartbeat_at: Option<i64>,
    pub waiting_for: Option<String>,
    /// The pending tool, as stored (JSON).
    pub pending_tool: Option<String>,
}

/// What an alert may be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertTrigger {
    /// Every change to dead, except the ones the person caused.
    Died,
    /// Sessions gone stale.
    Stale,
    /// A permission prompt or a question, while it still waits.
    Asks,
    /// A turn that ended (working, then waiting for input).
    TurnEnded,
}

impl AlertTrigger {
    fn sql(self) -> &'static str {
        match self {
            AlertTrigger::Died => {
                "SELECT s.pk, s.id, s.agent, s.name, s.program_id, s.project_path, c.at, c.id, s.heartbeat_at, NULL, NULL
                 FROM state_changes c JOIN sessions s ON s.pk = c.session
                 WHERE c.to_state = 'dead' AND c.at >= ?1 AND COALESCE(c.reason, '') NOT LIKE 'killed%'"
            }
            AlertTrigger::Stale => {
                "SELECT pk, id, agent, name, program_id, project_path, state_changed_at, NULL, heartbeat_at, NULL, NULL
                 FROM sessions WHERE state = 'stale' AND state_changed_at >= ?1"
            }
            AlertTrigger::Asks => {
                "SELECT s.pk, s.id, s.agent, s.name, s.program_id, s.project_path, c.at, c.id, s.heartbeat_at,
                        s.waiting_for, s.pending_tool
                 FROM state_changes c JOIN sessions s ON s.pk = c.session
                 WHERE c.to_state = 'waiting' AND c.waiting_for IN ('permission', 'question') AND c.at >= ?1
                   AND s.state = 'waiting' AND s.waiting_for = c.waiting_for AND s.state_changed_at = c.at"
            }
            AlertTrigger::TurnEnded => {
                "SELECT s.pk, s.id, s.agent, s.name, s.program_id, s.project_path, s.state_changed_at, NULL, s.heartbeat_at,
                        s.waiting_for, NULL
                 FROM sessions s JOIN state_changes c ON c.session = s.pk AND c.at = s.state_changed_at AND c.to_state = 'waiting'
                 WHERE s.state = 'waiting' AND COALESCE(s.waiting_for, 'input') = 'input' AND s.state_changed_at >= ?1
                   AND c.from_state IN ('working', 'idle')"
            }
        }
    }
}

/// A stored alert, as its row holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub session_id: Option<String>,
    pub title: String,
    pub body: String,
    pub delivered: bool,
    pub suppressed: Option<String>,
    pub resolved_at: Option<i64>,
}

/// The query of [`Store::session_alerts`] (query plans: store::plans).
pub(crate) const SESSION_ALERTS_SQL: &str =
    "SELECT a.id, a.at, a.kind, s.id, a.title, a.body, a.delivered, a.suppressed, a.resolved_at
     FROM alerts a JOIN sessions s ON s.pk = a.session WHERE a.session = ?1 ORDER BY a.at, a.id";

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        at: r.get(1)?,
        kind: r.get(2)?,
        session_id: r.get(3)?,
        title: r.get(4)?,
        body: r.get(5)?,
        delivered: r.get::<_, i64>(6)? != 0,
        suppressed: r.get(7)?,
        resolved_at: r.get(8)?,
    })
}

impl Store {
    /// The sessions `trigger` may alert about, from changes at or after `since` (ms).
    pub fn alert_candidates(&self, trigger: AlertTrigger, since: i64) -> Result<Vec<AlertCandidate>> {
        let mut st = self.conn.prepare_cached(trigger.sql()).map_err(|e| self.err(e))?;
        let rows = st
            .query_map([since], |r| {
                Ok(AlertCandidate {
                    pk: r.get(0)?,
                    id: r.get(1)?,
                    agent: r.get(2)?,
                    name: r.get(3)?,
                    program: r.get(4)?,
                    project: r.get(5)?,
                    changed_at: r.get::<_, Option<i64>>(6)?.unwrap_or(0),
                    change_id: r.get(7)?,
                    heartbeat_at: r.get(8)?,
                    waiting_for: r.get(9)?,
                    pending_tool: r.get(10)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// The keys of the plan-limit alerts raised since `since` that start with `prefix`.
    pub fn limit_alert_keys(&self, prefix: &str, since: i64) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT key FROM alerts WHERE kind = 'limit' AND at >= ?1 AND substr(key, 1, length(?2)) = ?2",
            )
            .map_err(|e| self.err(e))?;
        let keys = st.query_map(params![since, prefix], |r| r.get::<_, String>(0)).map_err(|e| self.err(e))?;
        keys.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Until when alerts of `scope` (a session id, or `all`) are snoozed, if they are at `now`.
    pub fn snoozed_until(&self, scope: &str, now: i64) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT until FROM snoozes WHERE scope = ?1 AND until > ?2", params![scope, now], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Stores an alert, unless one with its key exists. Returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_alert(
        &self,
        at: i64,
        session: Option<i64>,
        kind: &str,
        key: &str,
        title: &str,
        body: &str,
        suppressed: Option<&str>,
    ) -> Result<Option<i64>> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO alerts (at, session, kind, key, title, body, delivered, suppressed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
                params![at, session, kind, key, title, body, suppressed],
            )
            .map_err(|e| self.err(e))?;
        Ok((n == 1).then(|| self.conn.last_insert_rowid()))
    }

    /// The unresolved permission and question alerts whose session no
    /// longer waits for that answer: (alert id, session id).
    pub fn answered_alerts(&self) -> Result<Vec<(i64, String)>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT a.id, s.id FROM alerts a JOIN sessions s ON s.pk = a.session
                 WHERE a.resolved_at IS NULL AND a.kind IN ('permission', 'question')
                   AND (s.state != 'waiting' OR COALESCE(s.state_changed_at, 0) > a.at
                        OR COALESCE(s.waiting_for, '') != a.kind)",
            )
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Marks an alert resolved at `now`; false if it already was.
    pub fn resolve_alert(&self, id: i64, now: i64) -> Result<bool> {
        let n = self
            .conn
            .execute("UPDATE alerts SET resolved_at = ?2 WHERE id = ?1 AND resolved_at IS NULL", params![id, now])
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    pub fn mark_alert_delivered(&self, id: i64) -> Result<()> {
        self.conn.execute("UPDATE alerts SET delivered = 1 WHERE id = ?1", [id]).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Stored alerts, newest first.
    pub fn alerts(&self, limit: usize) -> Result<Vec<AlertRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT a.id, a.at, a.kind, s.id, a.title, a.body, a.delivered, a.suppressed, a.resolved_at
                 FROM alerts a LEFT JOIN sessions s ON s.pk = a.session ORDER BY a.at DESC, a.id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([limit as i64], alert_row).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// The alerts about one session, oldest first.
    pub fn session_alerts(&self, pk: i64) -> Result<Vec<AlertRow>> {
        let mut st = self.conn.prepare_cached(SESSION_ALERTS_SQL).map_err(|e| self.err(e))?;
        let rows = st.query_map([pk], alert_row).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Snoozes alerts of `scope` (a session id, or `all`) until `until` (ms).
    pub fn snooze(&self, scope: &str, until: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO snoozes (scope, until) VALUES (?1, ?2)
                 ON CONFLICT (scope) DO UPDATE SET until = excluded.until",
                params![scope, until],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Ends every snooze and pause; returns how many there were.
    pub fn end_snoozes(&self) -> Result<usize> {
        self.conn.execute("DELETE FROM snoozes", []).map_err(|e| self.err(e))
    }
}
