//! Which spooled hook events were applied (see [`crate::hooks::spool`]).

use rusqlite::params;

use super::Store;
use crate::error::Result;

impl Store {
    /// Whether the spooled event file `name` was applied already.
    pub fn spool_applied(&self, name: &str) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM hook_spool_applied WHERE name = ?1")
            .and_then(|mut st| st.exists([name]))
            .map_err(|e| self.err(e))
    }

    /// Records that `name` was applied at `now`.
    pub fn mark_spool_applied(&self, name: &str, now: i64) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO hook_spool_applied (name, at) VALUES (?1, ?2)")
            .and_then(|mut st| st.execute(params![name, now]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Forgets the names applied before `before` (their files are gone).
    pub fn forget_spool_names(&self, before: i64) -> Result<()> {
        self.conn.execute("DELETE FROM hook_spool_applied WHERE at < ?1", [before]).map_err(|e| self.err(e))?;
        Ok(())
    }
}
