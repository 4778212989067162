//! Model calls from the agents' OpenTelemetry (see [`crate::otel`]): live
//! usage until the transcript has them.

use rusqlite::params;

use super::Store;
use crate::error::Result;
use crate::model::Tokens;
use crate::sources::OtelCall;

/// Calls older than this are dropped as new ones arrive.
const KEEP_MS: i64 = 2 * 86_400_000;
/// How far before a call's start the transcript's record of it may be
/// stamped (clocks, and the agent stamping the message as it starts).
const SLACK_MS: i64 = 2_000;

/// A reported call the session's transcript does not have yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCall {
    pub at: i64,
    pub model: String,
    pub tokens: Tokens,
    pub cost_usd: Option<f64>,
}

impl Store {
    /// Records a call the agent reported; a repeat (an exporter's retry) is
    /// ignored. Returns whether it was new.
    pub fn record_otel_call(&self, pk: i64, call: &OtelCall, at: i64) -> Result<bool> {
        let t = &call.tokens;
        let key = call
            .request_id
            .clone()
            .unwrap_or_else(|| format!("{at}:{}:{}:{}:{}", call.model, t.input, t.output, t.cache_read));
        let tx = self.write_tx()?;
        let n = tx.execute(
            "INSERT OR IGNORE INTO otel_calls
               (session, call_key, at, duration_ms, model, input, output, cache_read, cache_write, reasoning, cost_usd)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                pk,
                key,
                at,
                call.duration_ms,
                call.model,
                t.input as i64,
                t.output as i64,
                t.cache_read as i64,
                t.cache_creation() as i64,
                t.reasoning as i64,
                call.cost_usd
            ],
        )?;
        tx.execute("DELETE FROM otel_calls WHERE at < ?1", [at - KEEP_MS])?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// The session's reported calls its transcript has not reached: a call
    /// is in the transcript once the transcript has a call stamped at or
    /// after its start. Transcripts are written in order, so this never
    /// counts a call twice, whatever ids the agent's events carry.
    pub fn pending_calls(&self, pk: i64) -> Result<Vec<PendingCall>> {
        let mut st = self.conn.prepare_cached(
            "SELECT at, model, input, output, cache_read, cache_write, reasoning, cost_usd FROM otel_calls
             WHERE session = ?1
               AND at - duration_ms - ?2 > COALESCE(
                   (SELECT MAX(e.ts) FROM usage_events e
                    WHERE e.session = ?1
                      -- the session's last rollup bucket bounds the scan
                      AND e.ts >= (SELECT MAX(bucket) * ?3 FROM usage_rollup WHERE session = ?1)),
                   -1)
             ORDER BY at",
        )?;
        let rows = st.query_map(params![pk, SLACK_MS, super::BUCKET_MS], |r| {
            Ok(PendingCall {
                at: r.get(0)?,
                model: r.get(1)?,
                tokens: Tokens {
                    input: r.get::<_, i64>(2)?.max(0) as u64,
                    output: r.get::<_, i64>(3)?.max(0) as u64,
                    cache_read: r.get::<_, i64>(4)?.max(0) as u64,
                    cache_write_5m: r.get::<_, i64>(5)?.max(0) as u64,
                    cache_write_1h: 0,
                    reasoning: r.get::<_, i64>(6)?.max(0) as u64,
                },
                cost_usd: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks a log record as applied; `false` if it already was (a retried
    /// export).
    pub fn first_sight_of_otel_record(&self, key: i64, at: i64) -> Result<bool> {
        let tx = self.write_tx()?;
        let n = tx.execute("INSERT OR IGNORE INTO otel_seen (key, at) VALUES (?1, ?2)", params![key, at])?;
        tx.execute("DELETE FROM otel_seen WHERE at < ?1", [at - KEEP_MS])?;
        tx.commit()?;
        Ok(n == 1)
    }

    /// Records activity at `at` (a telemetry event), without claiming a
    /// heartbeat: an idle agent sends no events.
    pub fn touch_activity(&self, pk: i64, at: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE sessions SET last_activity = MAX(last_activity, ?2), updated_at = MAX(updated_at, ?2) WHERE pk = ?1",
            params![pk, at],
        )?;
        Ok(())
    }

    /// Whether the session's tool calls come from its hooks (then its
    /// telemetry's would count them twice).
    pub fn has_hook_tool_calls(&self, pk: i64) -> Result<bool> {
        let n: i64 = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM tool_calls WHERE session = ?1 AND source = 'hook')",
            [pk],
            |r| r.get(0),
        )?;
        Ok(n == 1)
    }
}
