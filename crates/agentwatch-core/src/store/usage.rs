//! Reading usage back: rollup sums for reports, single events for billing
//! blocks, and the cached per-session costs.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use super::{Store, flags};
use crate::error::Result;
use crate::model::Tokens;
use crate::pricing::{PriceBook, PriceSource, TieredTokens, display_model};

/// Which usage to read. Times are milliseconds, `to_ms` exclusive.
#[derive(Debug, Clone, Default)]
pub struct UsageFilter {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Agent type id.
    pub agent: Option<String>,
    /// Matches sessions whose project path contains this text.
    pub project: Option<String>,
    pub session: Option<i64>,
}

impl UsageFilter {
    /// SQL conditions on `s` (sessions) and a time column, with parameters.
    fn sql(&self, time_col: &str, time_div: i64) -> (String, Vec<Value>) {
        let mut conds = vec!["1 = 1".to_string()];
        let mut args: Vec<Value> = Vec::new();
        if let Some(f) = self.from_ms {
            args.push(Value::Integer(f.div_euclid(time_div)));
            conds.push(format!("{time_col} >= ?{}", args.len()));
        }
        if let Some(t) = self.to_ms {
            // Buckets that start before `to` may hold events before it.
            args.push(Value::Integer((t + time_div - 1).div_euclid(time_div)));
            conds.push(format!("{time_col} < ?{}", args.len()));
        }
        if let Some(a) = &self.agent {
            args.push(Value::Text(a.clone()));
            conds.push(format!("s.agent = ?{}", args.len()));
        }
        if let Some(p) = &self.project {
            args.push(Value::Text(p.clone()));
            conds.push(format!("instr(COALESCE(s.project_path, ''), ?{}) > 0", args.len()));
        }
        if let Some(pk) = self.session {
            args.push(Value::Integer(pk));
            conds.push(format!("s.pk = ?{}", args.len()));
        }
        (conds.join(" AND "), args)
    }
}

/// How to group rollup rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollupGroup {
    /// Per 15-minute bucket, agent, model and flags (for period reports).
    Bucket,
    /// Per session, model and flags (for session reports and costs).
    Session,
    /// Per bucket, session, model and flags (for summaries by project).
    BucketSession,
}

/// Summed usage of one model with one set of pricing flags.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRow {
    /// The bucket (with [`RollupGroup::Bucket`]) or 0.
    pub bucket: i64,
    /// The session pk (with [`RollupGroup::Session`]) or 0.
    pub session: i64,
    pub agent: String,
    pub model: String,
    pub flags: i64,
    pub events: u64,
    pub tokens: TieredTokens,
    /// Sum of the transcript's own costs (when flagged as such).
    pub transcript_cost: f64,
}

impl RollupRow {
    pub fn fast(&self) -> bool {
        self.flags & flags::FAST != 0
    }

    pub fn fallback(&self) -> bool {
        self.flags & flags::MODEL_FALLBACK != 0
    }

    /// The name the model is reported under (`-fast` for fast mode).
    pub fn display_model(&self) -> String {
        display_model(&self.model, self.fast())
    }

    /// This row's cost and where it comes from.
    pub fn cost(&self, prices: &PriceBook) -> crate::pricing::GroupCost {
        let transcript = (self.flags & flags::TRANSCRIPT_COST != 0).then_some(self.transcript_cost);
        prices.price_group(&self.model, self.fast(), transcript, &self.tokens)
    }
}

const SUMS: &str = "SUM(r.events), SUM(r.input), SUM(r.output), SUM(r.cw5m), SUM(r.cw1h), SUM(r.cr), SUM(r.reasoning),
    SUM(r.over_input), SUM(r.over_output), SUM(r.over_cw5m), SUM(r.over_cw1h), SUM(r.over_cr),
    SUM(r.n_over_input), SUM(r.n_over_output), SUM(r.n_over_cw5m), SUM(r.n_over_cw1h), SUM(r.n_over_cr), SUM(r.cost_usd)";

/// Reads summed usage from the rollup.
pub fn rollup(store: &Store, filter: &UsageFilter, group: RollupGroup) -> Result<Vec<RollupRow>> {
    let (cond, args) = filter.sql("r.bucket", super::BUCKET_MS);
    let (keys, group_by) = match group {
        RollupGroup::Bucket => ("r.bucket, 0, s.agent", "r.bucket, s.agent, r.model, r.flags"),
        RollupGroup::Session => ("0, r.session, s.agent", "r.session, r.model, r.flags"),
        RollupGroup::BucketSession => ("r.bucket, r.session, s.agent", "r.bucket, r.session, r.model, r.flags"),
    };
    let sql = format!(
        "SELECT {keys}, m.name, r.flags, {SUMS}
         FROM usage_rollup r JOIN sessions s ON s.pk = r.session JOIN models m ON m.id = r.model
         WHERE {cond} GROUP BY {group_by}"
    );
    let mut st = store.conn().prepare_cached(&sql).map_err(|e| store.err(e))?;
    let rows = st
        .query_map(params_from_iter(args), |r| {
            let g = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(RollupRow {
                bucket: r.get(0)?,
                session: r.get(1)?,
                agent: r.get(2)?,
                model: r.get(3)?,
                flags: r.get(4)?,
                events: g(5)?,
                tokens: TieredTokens {
                    tokens: Tokens {
                        input: g(6)?,
                        output: g(7)?,
                        cache_write_5m: g(8)?,
                        cache_write_1h: g(9)?,
                        cache_read: g(10)?,
                        reasoning: g(11)?,
                    },
                    over: [g(12)?, g(13)?, g(14)?, g(15)?, g(16)?],
                    over_n: [g(17)?, g(18)?, g(19)?, g(20)?, g(21)?],
                },
                transcript_cost: r.get(22)?,
            })
        })
        .map_err(|e| store.err(e))?;
    let mut out = Vec::new();
    for row in rows {
        let row = row.map_err(|e| store.err(e))?;
        if row.events > 0 {
            out.push(row);
        }
    }
    Ok(out)
}

/// One stored usage event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub ts: i64,
    pub session: i64,
    pub model: String,
    pub flags: i64,
    pub tokens: Tokens,
    pub cost_usd: Option<f64>,
}

/// Usage events in time order.
pub fn events(store: &Store, filter: &UsageFilter) -> Result<Vec<EventRow>> {
    let (cond, args) = filter.sql("e.ts", 1);
    let sql = format!(
        "SELECT e.ts, e.session, m.name, e.flags, e.input, e.output, e.cw5m, e.cw1h, e.cr, e.reasoning, e.cost_usd
         FROM usage_events e JOIN sessions s ON s.pk = e.session JOIN models m ON m.id = e.model
         WHERE {cond} ORDER BY e.ts"
    );
    let mut st = store.conn().prepare_cached(&sql).map_err(|e| store.err(e))?;
    let rows = st
        .query_map(params_from_iter(args), |r| {
            let g = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(EventRow {
                ts: r.get(0)?,
                session: r.get(1)?,
                model: r.get(2)?,
                flags: r.get(3)?,
                tokens: Tokens {
                    input: g(4)?,
                    output: g(5)?,
                    cache_write_5m: g(6)?,
                    cache_write_1h: g(7)?,
                    cache_read: g(8)?,
                    reasoning: g(9)?,
                },
                cost_usd: r.get(10)?,
            })
        })
        .map_err(|e| store.err(e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| store.err(e))
}

const PRICE_FINGERPRINT: &str = "price_fingerprint";

/// Recomputes the cached cost and models of the given sessions (all when
/// `None`).
pub fn refresh_session_costs(store: &Store, prices: &PriceBook, only: Option<&[i64]>) -> Result<()> {
    if only == Some(&[]) {
        return Ok(());
    }
    // Read the usage inside the write transaction: usage another process
    // commits between the read and the write would otherwise be stamped
    // current with this older cost.
    let tx = store.write_tx()?;
    let rows = match only {
        Some([]) => Vec::new(),
        Some(pks) if pks.len() <= 256 => {
            let mut rows = Vec::new();
            for pk in pks {
                let f = UsageFilter { session: Some(*pk), ..Default::default() };
                rows.extend(rollup(store, &f, RollupGroup::Session)?);
            }
            rows
        }
        _ => rollup(store, &UsageFilter::default(), RollupGroup::Session)?,
    };
    #[derive(Default)]
    struct Acc {
        cost: f64,
        priced: bool,
        sources: BTreeSet<PriceSource>,
        unpriced: BTreeSet<String>,
        models: BTreeMap<String, f64>,
    }
    let mut per: BTreeMap<i64, Acc> = BTreeMap::new();
    for r in &rows {
        let c = r.cost(prices);
        let a = per.entry(r.session).or_default();
        *a.models.entry(r.display_model()).or_default() += c.usd.unwrap_or(0.0);
        match c.usd {
            Some(usd) => {
                a.cost += usd;
                a.priced = true;
                a.sources.insert(c.source);
            }
            None => {
                a.unpriced.insert(r.display_model());
            }
        }
    }
    let version = prices.fingerprint();
    {
        let mut up = tx
            .prepare_cached(
                "UPDATE sessions SET cost_usd = ?2, cost_source = ?3, unpriced_models = ?4, models = ?5, cost_version = ?6
                 WHERE pk = ?1",
            )
            .map_err(|e| store.err(e))?;
        for (pk, a) in &per {
            let mut models: Vec<(&String, &f64)> = a.models.iter().collect();
            models.sort_by(|x, y| y.1.total_cmp(x.1).then(x.0.cmp(y.0)));
            let models: Vec<&str> = models.into_iter().map(|(m, _)| m.as_str()).collect();
            let join = |s: &BTreeSet<String>| (!s.is_empty()).then(|| s.iter().cloned().collect::<Vec<_>>().join(","));
            let sources: BTreeSet<String> = a.sources.iter().map(|s| s.to_string()).collect();
            up.execute(rusqlite::params![
                pk,
                (a.priced || a.unpriced.is_empty()).then_some(a.cost),
                sources.into_iter().collect::<Vec<_>>().join(" + "),
                join(&a.unpriced),
                models.join(","),
                version,
            ])
            .map_err(|e| store.err(e))?;
        }
    }
    if only.is_none() {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [PRICE_FINGERPRINT, &version],
        )
        .map_err(|e| store.err(e))?;
    }
    tx.commit().map_err(|e| store.err(e))?;
    Ok(())
}

/// Brings cached session costs up to date: all of them if the prices
/// changed since they were computed, else those of the `changed` sessions and
/// any whose usage changed without a refresh (ingest marks them in the same
/// transaction as the usage, so an interrupted run is caught up here).
pub fn ensure_costs_current(store: &Store, prices: &PriceBook, changed: &[i64]) -> Result<()> {
    if store.meta(PRICE_FINGERPRINT)?.as_deref() != Some(prices.fingerprint().as_str()) {
        return refresh_session_costs(store, prices, None);
    }
    let mut pks: Vec<i64> = {
        let mut st = store
            .conn()
            .prepare_cached("SELECT pk FROM sessions WHERE cost_version IS NULL AND events > 0")
            .map_err(|e| store.err(e))?;
        let rows = st.query_map([], |r| r.get(0)).map_err(|e| store.err(e))?;
        rows.collect::<rusqlite::Result<Vec<i64>>>().map_err(|e| store.err(e))?
    };
    pks.extend_from_slice(changed);
    pks.sort_unstable();
    pks.dedup();
    refresh_session_costs(store, prices, Some(&pks))
}
