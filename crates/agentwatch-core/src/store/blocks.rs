//! The queries of 5-hour blocks (see [`crate::reports::blocks`]): which
//! hours and buckets hold calls, and the exact times of calls, read from
//! the rollups and the index on (ts, session, model, flags), never from
//! the calls' rows except in the one bucket that needs them.

use std::collections::HashMap;

use super::Store;
use crate::error::Result;
use crate::model::Tokens;

/// The condition on a call's kind: its model id and fast flag.
const OF_KIND: &str = " AND model = ?3 AND (flags & 2 != 0) = ?4";

/// One call, as blocks read it: (ts, session, model id, flags, tokens,
/// recorded cost).
pub type CallRow = (i64, i64, i64, i64, Tokens, Option<f64>);

impl Store {
    /// Every session's (pk, agent, project).
    pub fn session_owners(&self) -> Result<Vec<(i64, String, Option<String>)>> {
        let mut st =
            self.conn.prepare_cached("SELECT pk, agent, project_path FROM sessions").map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Every model's id and name.
    pub fn model_ids(&self) -> Result<HashMap<i64, String>> {
        let mut st = self.conn.prepare_cached("SELECT id, name FROM models").map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<HashMap<_, _>>>().map_err(|e| self.err(e))
    }

    /// The hours with calls and each such (hour, session), from the hourly
    /// rollup: from `hour` on, oldest first, or before it, newest first
    /// (`back`), for as long as `f` returns true.
    pub fn each_call_hour(&self, hour: i64, back: bool, f: &mut dyn FnMut(i64, i64) -> bool) -> Result<()> {
        let sql = if back {
            "SELECT hour, session FROM usage_rollup_hour WHERE hour < ?1 AND events > 0 ORDER BY hour DESC"
        } else {
            "SELECT hour, session FROM usage_rollup_hour WHERE hour >= ?1 AND events > 0 ORDER BY hour"
        };
        let mut st = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut rows = st.query([hour]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let (hour, session) = (r.get(0).map_err(|e| self.err(e))?, r.get(1).map_err(|e| self.err(e))?);
            if !f(hour, session) {
                break;
            }
        }
        Ok(())
    }

    /// The first (or `last`) call's time in [lo, hi), of one model id and
    /// fast flag if `kind` says: one seek along the index.
    pub fn call_edge(&self, lo: i64, hi: i64, kind: Option<(i64, bool)>, last: bool) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT {}(ts) FROM usage_events INDEXED BY usage_events_time WHERE ts >= ?1 AND ts < ?2{}",
            if last { "MAX" } else { "MIN" },
            if kind.is_some() { OF_KIND } else { "" }
        );
        self.query_calls(&sql, lo, hi, kind, |rows| Ok(rows.next()?.map(|r| r.get(0)).transpose()?.flatten()))
    }

    /// The first (or `last`) call in [lo, hi) of a session `wants` takes
    /// (and of this model id and fast flag): along the index from that
    /// edge, to the first that counts.
    pub fn walk_calls(
        &self,
        lo: i64,
        hi: i64,
        kind: Option<(i64, bool)>,
        last: bool,
        wants: &dyn Fn(i64) -> bool,
    ) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT ts, session FROM usage_events INDEXED BY usage_events_time WHERE ts >= ?1 AND ts < ?2{} ORDER BY ts{}",
            if kind.is_some() { OF_KIND } else { "" },
            if last { " DESC" } else { "" }
        );
        self.query_calls(&sql, lo, hi, kind, |rows| {
            while let Some(r) = rows.next()? {
                if wants(r.get(1)?) {
                    return Ok(Some(r.get(0)?));
                }
            }
            Ok(None)
        })
    }

    /// Runs a query over the calls in [lo, hi) (and of one kind), handing its rows to `f`.
    fn query_calls<T>(
        &self,
        sql: &str,
        lo: i64,
        hi: i64,
        kind: Option<(i64, bool)>,
        f: impl FnOnce(&mut rusqlite::Rows<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut st = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut rows = match kind {
            None => st.query([lo, hi]),
            Some((model, fast)) => st.query(rusqlite::params![lo, hi, model, fast]),
        }
        .map_err(|e| self.err(e))?;
        f(&mut rows).map_err(|e| self.err(e))
    }

    /// For the 15-minute buckets [bucket, bucket + span): each (session,
    /// model id, fast, first bucket holding such a call), from the rollup.
    pub fn first_buckets(&self, bucket: i64, span: i64) -> Result<Vec<(i64, i64, bool, i64)>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT session, model, flags & 2 != 0, MIN(bucket) FROM usage_rollup
                 WHERE bucket >= ?1 AND bucket < ?2 AND events > 0 GROUP BY 1, 2, 3",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([bucket, bucket + span], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// The calls in [lo, hi), in time order.
    pub fn call_rows(&self, lo: i64, hi: i64) -> Result<Vec<CallRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT ts, session, model, flags, input, output, cw5m, cw1h, cr, reasoning, cost_usd
                 FROM usage_events INDEXED BY usage_events_time WHERE ts >= ?1 AND ts < ?2 ORDER BY ts",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([lo, hi], |r| {
                let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                let tokens = Tokens {
                    input: n(4)?,
                    output: n(5)?,
                    cache_write_5m: n(6)?,
                    cache_write_1h: n(7)?,
                    cache_read: n(8)?,
                    reasoning: n(9)?,
                };
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, tokens, r.get(10)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }
}
