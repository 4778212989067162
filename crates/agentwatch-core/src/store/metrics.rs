//! The counts `GET /metrics` reports (see [`crate::api::metrics`]).

use super::Store;
use crate::error::Result;

/// The meta key of the last ingest that read new bytes: `{"seconds", "at"}`.
pub const LAST_INGEST: &str = "last_ingest";

impl Store {
    /// Every session's project path (sessions without one are left out).
    pub fn session_projects(&self) -> Result<std::collections::HashMap<i64, String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT pk, project_path FROM sessions WHERE project_path IS NOT NULL")
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }

    /// Every session, by agent and state.
    pub fn session_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT agent, state, COUNT(*) FROM sessions GROUP BY agent, state")
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Every alert raised so far, by kind.
    pub fn alert_counts(&self) -> Result<Vec<(String, i64)>> {
        let mut st =
            self.conn.prepare_cached("SELECT kind, COUNT(*) FROM alerts GROUP BY kind").map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}
