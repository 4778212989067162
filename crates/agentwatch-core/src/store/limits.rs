//! Plan-limit samples and status-line reports (see [`crate::limits`]).

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::error::Result;
use crate::limits::LimitReading;

/// Samples older than this before a window's newest are dropped as new ones
/// arrive: what the forecast reads (the last 30 minutes, `limits.rs`), with
/// room to spare. A rollout has a reading per call; keeping days of them
/// made a Codex history's ingest write (and then delete) every one.
const KEEP_MS: i64 = 2 * 3_600_000;

/// One stored sample of a plan window.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitSample {
    pub agent: String,
    pub window_minutes: i64,
    pub observed_at: i64,
    pub used_percent: f64,
    pub resets_at: Option<i64>,
    pub source: String,
    pub plan: Option<String>,
}

/// What Claude Code's status line last said about one session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatuslineReport {
    pub observed_at: i64,
    pub model: Option<String>,
    pub cost_usd: Option<f64>,
    pub context_percent: Option<f64>,
}

/// The newest sample of each window (query plans: store::plans).
pub(super) fn latest_sql() -> String {
    format!(
        "SELECT {SAMPLE_COLUMNS} FROM limit_samples l
         WHERE observed_at = (SELECT MAX(observed_at) FROM limit_samples m
                              WHERE m.agent = l.agent AND m.window_minutes = l.window_minutes)
         ORDER BY agent, window_minutes"
    )
}

/// Each of an agent's sessions' tokens from a 15-minute bucket on.
pub(super) const WINDOW_TOKENS_SQL: &str = "SELECT r.session, SUM(r.input + r.output + r.cw5m + r.cw1h + r.cr)
     FROM usage_rollup r JOIN sessions s ON s.pk = r.session
     WHERE r.bucket >= ?2 AND s.agent = ?1
     GROUP BY r.session";

const SAMPLE_COLUMNS: &str = "agent, window_minutes, observed_at, used_percent, resets_at, source, plan";

fn sample(r: &rusqlite::Row) -> rusqlite::Result<LimitSample> {
    Ok(LimitSample {
        agent: r.get(0)?,
        window_minutes: r.get(1)?,
        observed_at: r.get(2)?,
        used_percent: r.get(3)?,
        resets_at: r.get(4)?,
        source: r.get(5)?,
        plan: r.get(6)?,
    })
}

impl Store {
    /// Stores a checked reading (a second reading of the same window at the
    /// same moment replaces the first), and drops that window's samples
    /// older than [`KEEP_MS`] before it.
    pub fn record_limit(&self, r: &LimitReading, session: Option<i64>) -> Result<()> {
        self.insert_limit(r, session)?;
        let mut prune = self
            .conn
            .prepare_cached("DELETE FROM limit_samples WHERE agent = ?1 AND window_minutes = ?2 AND observed_at < ?3")
            .map_err(|e| self.err(e))?;
        prune.execute(params![r.agent, r.window_minutes, r.observed_at - KEEP_MS]).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records one window's readings at once (an ingest's batch): those
    /// within [`KEEP_MS`] of the newest, then drops the older samples, as
    /// [`Store::record_limit`] would one by one had they come in order.
    pub fn record_limits(&self, readings: &[(LimitReading, Option<i64>)]) -> Result<()> {
        let Some(newest) = readings.iter().max_by_key(|(r, _)| r.observed_at) else { return Ok(()) };
        let cutoff = newest.0.observed_at - KEEP_MS;
        for (r, session) in
            readings.iter().filter(|(r, _)| r.observed_at >= cutoff && r.observed_at != newest.0.observed_at)
        {
            self.insert_limit(r, *session)?;
        }
        // The newest last, and the prune with it.
        self.record_limit(&newest.0, newest.1)
    }

    fn insert_limit(&self, r: &LimitReading, session: Option<i64>) -> Result<()> {
        let mut ins = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO limit_samples
                 (agent, window_minutes, observed_at, used_percent, resets_at, source, plan, session)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(|e| self.err(e))?;
        ins.execute(params![
            r.agent,
            r.window_minutes,
            r.observed_at,
            r.used_percent,
            r.resets_at,
            r.source,
            r.plan,
            session
        ])
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The newest sample of every window of every agent, by agent and window.
    pub fn latest_limits(&self) -> Result<Vec<LimitSample>> {
        let mut st = self.conn.prepare_cached(&latest_sql()).map_err(|e| self.err(e))?;
        let rows = st.query_map([], sample).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// One window's samples observed from `since` (ms) on, oldest first.
    pub fn limit_samples(&self, agent: &str, window_minutes: i64, since: i64) -> Result<Vec<LimitSample>> {
        let sql = format!(
            "SELECT {SAMPLE_COLUMNS} FROM limit_samples
             WHERE agent = ?1 AND window_minutes = ?2 AND observed_at >= ?3 ORDER BY observed_at"
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = st.query_map(params![agent, window_minutes, since], sample).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Every token (input, output, cache writes and reads) each of an
    /// agent's sessions used from `since` (ms, to the 15 minutes) on: the
    /// shares plan windows are attributed by.
    pub fn window_tokens(&self, agent: &str, since: i64) -> Result<Vec<(i64, u64)>> {
        let mut st = self.conn.prepare_cached(WINDOW_TOKENS_SQL).map_err(|e| self.err(e))?;
        let bucket = since.div_euclid(super::BUCKET_MS);
        let rows = st
            .query_map(params![agent, bucket], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// The session an agent knows by `external_id`, if agentwatch has it.
    pub fn session_by_external_id(&self, agent: &str, external_id: &str) -> Result<Option<i64>> {
        self.conn
            .prepare_cached("SELECT pk FROM sessions WHERE external_id = ?2 AND agent = ?1 ORDER BY pk LIMIT 1")
            .map_err(|e| self.err(e))?
            .query_row(params![agent, external_id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Keeps what a status line said about a session (the newest wins).
    pub fn record_statusline(&self, agent: &str, external_id: &str, r: &StatuslineReport) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO statusline_reports (agent, external_id, observed_at, model, cost_usd, context_percent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (agent, external_id) DO UPDATE SET
                   observed_at = excluded.observed_at, model = excluded.model,
                   cost_usd = excluded.cost_usd, context_percent = excluded.context_percent
                 WHERE excluded.observed_at >= statusline_reports.observed_at",
            )
            .map_err(|e| self.err(e))?
            .execute(params![agent, external_id, r.observed_at, r.model, r.cost_usd, r.context_percent])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// What the status line last said about a session.
    pub fn statusline_report(&self, agent: &str, external_id: &str) -> Result<Option<StatuslineReport>> {
        self.conn
            .prepare_cached(
                "SELECT observed_at, model, cost_usd, context_percent FROM statusline_reports
                 WHERE agent = ?1 AND external_id = ?2",
            )
            .map_err(|e| self.err(e))?
            .query_row(params![agent, external_id], |r| {
                Ok(StatuslineReport {
                    observed_at: r.get(0)?,
                    model: r.get(1)?,
                    cost_usd: r.get(2)?,
                    context_percent: r.get(3)?,
                })
            })
            .optional()
            .map_err(|e| self.err(e))
    }
}
