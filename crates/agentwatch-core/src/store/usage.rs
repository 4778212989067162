//! Reading usage back: rollup sums for reports, single events for billing
//! blocks, and the cached per-session costs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

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
    /// Also the agents' own messages ([`flags::SYNTHETIC`]): only 5-hour
    /// blocks count them.
    pub synthetic: bool,
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
    /// The buckets the row covers from `bucket` on: 1, or 4 for an hour
    /// read whole ([`rollup_hourly`]); 0 with [`RollupGroup::Session`].
    pub span: i64,
    /// The session pk (with [`RollupGroup::Session`]) or 0.
    pub session: i64,
    pub agent: Arc<str>,
    pub model: Arc<str>,
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

    /// An agent's own message ([`flags::SYNTHETIC`]), not a model call.
    pub fn synthetic(&self) -> bool {
        self.flags & flags::SYNTHETIC != 0
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

/// Reads summed usage from the rollup.
///
/// The rows are read in key order (bucket, session, model, flags) and summed
/// here: an SQL `GROUP BY` sorted every row first (and joined the sessions
/// and models for each), which at a million usage events (tens of thousands
/// of rollup rows) took several times longer than the rest of a report.
pub fn rollup(store: &Store, filter: &UsageFilter, group: RollupGroup) -> Result<Vec<RollupRow>> {
    rollup_with(store, filter, group, None)
}

/// As [`rollup`], with every hour that `whole_hour` accepts read as one row
/// of the hourly rollup (schema 5), its bucket being the hour's first.
///
/// `whole_hour(start_ms)` says whether the caller would put the hour's four
/// buckets in one group anyway (a report by day: the hour holds no local
/// midnight). The hours it refuses, and the parts of hours at the edges of
/// the window, are read bucket by bucket. At a million calls, reading the
/// whole history this way takes about half the rows.
pub fn rollup_hourly(
    store: &Store,
    filter: &UsageFilter,
    group: RollupGroup,
    whole_hour: &dyn Fn(i64) -> bool,
) -> Result<Vec<RollupRow>> {
    rollup_with(store, filter, group, Some(whole_hour))
}

/// One row read from a rollup table, before grouping.
type RawRow = (RawKey, Sums);
/// Session, bucket, model, flags.
type RawKey = (i64, i64, i64, i64);

fn rollup_with(
    store: &Store,
    filter: &UsageFilter,
    group: RollupGroup,
    whole_hour: Option<&dyn Fn(i64) -> bool>,
) -> Result<Vec<RollupRow>> {
    // The agent of each session that passes the filter, as an index into
    // the agents' names.
    let (agents, agent_names): (PkMap, Vec<String>) = {
        // Without a project filter, the (agent, external_id) index holds
        // all that is read: a tenth of the table's pages.
        let (sql, arg) = match (filter.session, &filter.project) {
            (Some(pk), _) => ("SELECT pk, agent, project_path FROM sessions WHERE pk = ?1", Some(pk)),
            (None, Some(_)) => ("SELECT pk, agent, project_path FROM sessions", None),
            (None, None) => ("SELECT pk, agent, NULL FROM sessions", None),
        };
        let mut st = store.conn().prepare_cached(sql).map_err(|e| store.err(e))?;
        let rows = st
            .query_map(params_from_iter(arg), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?))
            })
            .map_err(|e| store.err(e))?;
        let mut names: Vec<String> = Vec::new();
        let mut m = PkMap::default();
        for row in rows {
            let (pk, agent, project) = row.map_err(|e| store.err(e))?;
            let wanted = filter.agent.as_ref().is_none_or(|a| *a == agent)
                && filter.project.as_ref().is_none_or(|p| project.as_deref().unwrap_or("").contains(p.as_str()));
            if wanted {
                let i = names.iter().position(|n| *n == agent).unwrap_or_else(|| {
                    names.push(agent);
                    names.len() - 1
                });
                m.insert(pk, i);
            }
        }
        // Indexes in name order, so that groups sort as a GROUP BY's did.
        let mut sorted = names.clone();
        sorted.sort();
        m.map(|i| sorted.binary_search(&names[i]).expect("a name of the list"));
        (m, sorted)
    };
    let agent_names: Vec<Arc<str>> = agent_names.into_iter().map(Arc::from).collect();
    let models: HashMap<i64, Arc<str>> = {
        let mut st = store.conn().prepare_cached("SELECT id, name FROM models").map_err(|e| store.err(e))?;
        let rows =
            st.query_map([], |r| Ok((r.get(0)?, Arc::from(r.get::<_, String>(1)?)))).map_err(|e| store.err(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| store.err(e))?
    };
    let no_model: Arc<str> = Arc::from("");
    let mut grouper = Grouper {
        group,
        agent_names: &agent_names,
        models: &models,
        no_model: &no_model,
        out: Vec::new(),
        bucket_now: None,
        in_bucket: Vec::new(),
        finish_unsorted: false,
        by_session: HashMap::default(),
    };
    let mut push = |((session, bucket, model, flags), sums): RawRow, span: i64| {
        if flags & super::flags::SYNTHETIC != 0 && !filter.synthetic {
            return;
        }
        if let Some(agent) = agents.get(session) {
            grouper.push(agent, (session, bucket, model, flags), span, sums);
        }
    };
    match whole_hour {
        Some(whole_hour) if filter.session.is_none() => {
            let mixed = read_hourly(store, filter, whole_hour, &|pk| agents.get(pk).is_some(), &mut push)?;
            if mixed {
                // The hours read bucket by bucket came last: put every
                // group back in bucket order (each bucket's own in key order).
                grouper.finish_unsorted = true;
            }
        }
        // Or one session: its few rows, from the session index.
        _ => {
            let (sql, args) = rollup_sql(filter);
            let mut st = store.conn().prepare_cached(&sql).map_err(|e| store.err(e))?;
            let mut rows = st.query(params_from_iter(args)).map_err(|e| store.err(e))?;
            while let Some(r) = rows.next().map_err(|e| store.err(e))? {
                push(read_raw(r).map_err(|e| store.err(e))?, 1);
            }
        }
    }
    Ok(grouper.finish())
}

/// Passes the rows of the window to `push`: first the whole hours from the
/// hourly rollup, in key order; then the rest (the window's partial hours at
/// either end, the hours `whole_hour` refuses) from the 15-minute one, in key
/// order. Returns whether there was any of the rest.
fn read_hourly(
    store: &Store,
    filter: &UsageFilter,
    whole_hour: &dyn Fn(i64) -> bool,
    wanted: &dyn Fn(i64) -> bool,
    push: &mut dyn FnMut(RawRow, i64),
) -> Result<bool> {
    const HOUR: i64 = 4; // buckets
    let (b0, b1) = bucket_window(filter);
    // The hours wholly inside [b0, b1).
    let h0 = b0.map(|b| b.div_euclid(HOUR) + i64::from(b.rem_euclid(HOUR) != 0));
    let h1 = b1.map(|b| b.div_euclid(HOUR));
    // Bucket ranges [from, to) to read from the 15-minute rollup.
    let mut fine: Vec<(Option<i64>, Option<i64>)> = Vec::new();
    match (h0, h1) {
        (Some(a), Some(b)) if a >= b => fine.push((b0, b1)),
        _ => {
            let (sql, args) = hourly_sql(h0, h1);
            let mut st = store.conn().prepare_cached(&sql).map_err(|e| store.err(e))?;
            let mut rows = st.query(params_from_iter(args)).map_err(|e| store.err(e))?;
            let mut hour: Option<(i64, bool)> = None;
            while let Some(r) = rows.next().map_err(|e| store.err(e))? {
                let session: i64 = r.get(0).map_err(|e| store.err(e))?;
                if !wanted(session) {
                    continue;
                }
                let h: i64 = r.get(1).map_err(|e| store.err(e))?;
                let whole = match hour {
                    Some((at, whole)) if at == h => whole,
                    _ => {
                        let whole = whole_hour(h * HOUR * super::BUCKET_MS);
                        if !whole {
                            fine.push((Some(h * HOUR), Some((h + 1) * HOUR)));
                        }
                        hour = Some((h, whole));
                        whole
                    }
                };
                if whole {
                    let ((s, _, m, f), sums) = read_raw(r).map_err(|e| store.err(e))?;
                    push(((s, h * HOUR, m, f), sums), HOUR);
                }
            }
            if let (Some(b0), Some(h0)) = (b0, h0)
                && b0 < h0 * HOUR
            {
                fine.push((Some(b0), Some(h0 * HOUR)));
            }
            if let (Some(b1), Some(h1)) = (b1, h1)
                && h1 * HOUR < b1
            {
                fine.push((Some(h1 * HOUR), Some(b1)));
            }
        }
    }
    if fine.is_empty() {
        return Ok(false);
    }
    let mut out: Vec<RawRow> = Vec::new();
    // One statement for every range: its two bounds are bound per range.
    let (sql, _) = rollup_table_sql("usage_rollup", "bucket", (Some(0), Some(0)), None);
    let mut st = store.conn().prepare_cached(&sql).map_err(|e| store.err(e))?;
    for (from, to) in fine {
        let range = [from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX)];
        let mut rows = st.query(range).map_err(|e| store.err(e))?;
        while let Some(r) = rows.next().map_err(|e| store.err(e))? {
            let row = read_raw(r).map_err(|e| store.err(e))?;
            if wanted(row.0.0) {
                out.push(row);
            }
        }
    }
    out.sort_by_key(|(k, _)| (k.1, k.0, k.2, k.3));
    let any = !out.is_empty();
    out.into_iter().for_each(|row| push(row, 1));
    Ok(any)
}

/// The query of the hourly rollup's rows in hours [from, to).
pub(crate) fn hourly_sql(from: Option<i64>, to: Option<i64>) -> (String, Vec<Value>) {
    rollup_table_sql("usage_rollup_hour", "hour", (from, to), None)
}

/// The rows of a rollup table (`time_col`: its bucket or hour) in the time
/// range [from, to), of one session or all, as [`read_raw`] reads them.
fn rollup_table_sql(
    table: &str,
    time_col: &str,
    (from, to): (Option<i64>, Option<i64>),
    session: Option<i64>,
) -> (String, Vec<Value>) {
    let mut conds = vec!["1 = 1".to_string()];
    let mut args: Vec<Value> = Vec::new();
    for (col, op, v) in [(time_col, ">=", from), (time_col, "<", to), ("session", "=", session)] {
        if let Some(v) = v {
            args.push(Value::Integer(v));
            conds.push(format!("{col} {op} ?{}", args.len()));
        }
    }
    let sql = format!(
        "SELECT session, {time_col}, {ROLLUP_SUMS} FROM {table} WHERE {} ORDER BY {time_col}, session, model, flags",
        conds.join(" AND ")
    );
    (sql, args)
}

/// The filter's window as buckets [from, to): the buckets that may hold
/// events inside it.
fn bucket_window(filter: &UsageFilter) -> (Option<i64>, Option<i64>) {
    let from = filter.from_ms.map(|f| f.div_euclid(super::BUCKET_MS));
    // Buckets that start before `to` may hold events before it.
    let to = filter.to_ms.map(|t| (t + super::BUCKET_MS - 1).div_euclid(super::BUCKET_MS));
    (from, to)
}

/// The columns after the key that [`read_raw`] reads, in both rollup tables:
/// any over-the-tier sums last.
const ROLLUP_SUMS: &str = "model, flags, events, input, output, cw5m, cw1h, cr, reasoning, cost_usd,
    n_over_input + n_over_output + n_over_cw5m + n_over_cw1h + n_over_cr,
    over_input, over_output, over_cw5m, over_cw1h, over_cr,
    n_over_input, n_over_output, n_over_cw5m, n_over_cw1h, n_over_cr";

/// A row of `SELECT session, <time>, ROLLUP_SUMS`.
fn read_raw(r: &rusqlite::Row) -> rusqlite::Result<RawRow> {
    let mut s = Sums::default();
    for (i, x) in s.v.iter_mut().enumerate().take(7) {
        *x = r.get(4 + i)?;
    }
    // Calls above the 200k tier are rare: their ten columns are read only
    // when the row has some.
    if r.get::<_, i64>(12)? != 0 {
        for (i, x) in s.v.iter_mut().enumerate().skip(7) {
            *x = r.get(6 + i)?;
        }
    }
    s.cost.add(r.get(11)?);
    Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), s))
}

/// Sums rows read in key order into the groups of a [`RollupGroup`].
struct Grouper<'a> {
    group: RollupGroup,
    agent_names: &'a [Arc<str>],
    models: &'a HashMap<i64, Arc<str>>,
    no_model: &'a Arc<str>,
    out: Vec<RollupRow>,
    /// Group::Bucket: the bucket being read and its span, and its groups
    /// (a handful).
    bucket_now: Option<(i64, i64)>,
    in_bucket: Vec<((usize, i64, i64), Sums)>,
    /// Rows came in two runs, each in key order (see [`read_hourly`]).
    finish_unsorted: bool,
    /// Group::Session: (session, model, flags) → sums, with the agent.
    by_session: HashMap<(i64, i64, i64), (usize, Sums), BuildHasherDefault<KeyHasher>>,
}

impl Grouper<'_> {
    fn push(&mut self, agent: usize, (session, bucket, model, flags): RawKey, span: i64, sums: Sums) {
        match self.group {
            // Rows are keyed by these already: one group each.
            RollupGroup::BucketSession => {
                if sums.v[0] > 0 {
                    let row = self.make((session, bucket, model, flags), span, agent, &sums);
                    self.out.push(row);
                }
            }
            RollupGroup::Bucket => {
                if self.bucket_now.map(|b| b.0) != Some(bucket) {
                    self.flush();
                    self.bucket_now = Some((bucket, span));
                }
                let key = (agent, model, flags);
                match self.in_bucket.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, acc)) => acc.add(&sums),
                    None => self.in_bucket.push((key, sums)),
                }
            }
            RollupGroup::Session => {
                self.by_session.entry((session, model, flags)).or_insert_with(|| (agent, Sums::default())).1.add(&sums)
            }
        }
    }

    /// Group::Bucket: the finished bucket's groups, in key order.
    fn flush(&mut self) {
        let Some((bucket, span)) = self.bucket_now else { return };
        let mut groups = std::mem::take(&mut self.in_bucket);
        groups.sort_unstable_by_key(|(k, _)| *k);
        for ((agent, model, flags), s) in groups.drain(..) {
            if s.v[0] > 0 {
                let row = self.make((0, bucket, model, flags), span, agent, &s);
                self.out.push(row);
            }
        }
        self.in_bucket = groups;
    }

    fn finish(mut self) -> Vec<RollupRow> {
        self.flush();
        if self.finish_unsorted {
            self.out.sort_by_key(|r| r.bucket);
        }
        let mut sessions: Vec<_> = std::mem::take(&mut self.by_session).into_iter().collect();
        sessions.sort_unstable_by_key(|(k, _)| *k);
        for ((session, model, flags), (agent, s)) in sessions {
            if s.v[0] > 0 {
                let row = self.make((session, 0, model, flags), 0, agent, &s);
                self.out.push(row);
            }
        }
        self.out
    }

    fn make(&self, (session, bucket, model, flags): RawKey, span: i64, agent: usize, s: &Sums) -> RollupRow {
        let g = |x: i64| x.max(0) as u64;
        let v = &s.v;
        RollupRow {
            bucket,
            span,
            session,
            agent: self.agent_names[agent].clone(),
            model: self.models.get(&model).unwrap_or(self.no_model).clone(),
            flags,
            events: g(v[0]),
            tokens: TieredTokens {
                tokens: Tokens {
                    input: g(v[1]),
                    output: g(v[2]),
                    cache_write_5m: g(v[3]),
                    cache_write_1h: g(v[4]),
                    cache_read: g(v[5]),
                    reasoning: g(v[6]),
                },
                over: [g(v[7]), g(v[8]), g(v[9]), g(v[10]), g(v[11])],
                over_n: [g(v[12]), g(v[13]), g(v[14]), g(v[15]), g(v[16])],
            },
            transcript_cost: s.cost.total(),
        }
    }
}

/// Session keys to small values: a vector indexed by the key (session keys
/// are row ids, dense from 1), a map for any key far beyond the rest.
#[derive(Default)]
struct PkMap {
    dense: Vec<u32>,
    sparse: HashMap<i64, usize>,
}

impl PkMap {
    const NONE: u32 = u32::MAX;
    const DENSE_MAX: i64 = 1 << 22;

    fn insert(&mut self, pk: i64, v: usize) {
        if (0..Self::DENSE_MAX).contains(&pk) && v < Self::NONE as usize {
            let i = pk as usize;
            if self.dense.len() <= i {
                self.dense.resize(i + 1, Self::NONE);
            }
            self.dense[i] = v as u32;
        } else {
            self.sparse.insert(pk, v);
        }
    }

    fn get(&self, pk: i64) -> Option<usize> {
        match self.dense.get(usize::try_from(pk).ok()?) {
            Some(&v) if v != Self::NONE => Some(v as usize),
            _ => self.sparse.get(&pk).copied(),
        }
    }

    fn map(&mut self, f: impl Fn(usize) -> usize) {
        for v in self.dense.iter_mut().filter(|v| **v != Self::NONE) {
            *v = f(*v as usize) as u32;
        }
        for v in self.sparse.values_mut() {
            *v = f(*v);
        }
    }
}

/// A quick hash for the integer keys of [`rollup`] (the default SipHash
/// showed in profiles).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_i64(&mut self, i: i64) {
        self.write_u64(i as u64);
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Summed rollup columns: events, the six token counts, the five sums and
/// five counts above the tier, and the transcript's cost.
#[derive(Default)]
struct Sums {
    v: [i64; 17],
    cost: Sum,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        for (a, x) in self.v.iter_mut().zip(o.v) {
            *a += x;
        }
        self.cost.add(o.cost.total());
    }
}

/// A sum of floats as SQLite's `SUM` makes it (Kahan-Babuska-Neumaier), so
/// that the order the rows come in does not change the result.
#[derive(Default)]
struct Sum {
    sum: f64,
    err: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() > x.abs() {
            self.err += (self.sum - t) + x;
        } else {
            self.err += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn total(&self) -> f64 {
        self.sum + self.err
    }
}

/// The query of [`rollup`]: the rows in the time window (or of one session),
/// as [`read_raw`] reads them.
pub(crate) fn rollup_sql(filter: &UsageFilter) -> (String, Vec<Value>) {
    rollup_table_sql("usage_rollup", "bucket", bucket_window(filter), filter.session)
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
    let (sql, args) = events_sql(filter);
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

/// The query of [`events`], with its parameters.
pub(crate) fn events_sql(filter: &UsageFilter) -> (String, Vec<Value>) {
    let (mut cond, args) = filter.sql("e.ts", 1);
    if !filter.synthetic {
        cond.push_str(&format!(" AND e.flags & {} = 0", flags::SYNTHETIC));
    }
    let sql = format!(
        "SELECT e.ts, e.session, m.name, e.flags, e.input, e.output, e.cw5m, e.cw1h, e.cr, e.reasoning, e.cost_usd
         FROM usage_events e JOIN sessions s ON s.pk = e.session JOIN models m ON m.id = e.model
         WHERE {cond} ORDER BY e.ts"
    );
    (sql, args)
}

/// Sessions whose cached cost is missing (see [`ensure_costs_current`]).
pub(crate) const STALE_COSTS_SQL: &str = "SELECT pk FROM sessions WHERE cost_version IS NULL AND events > 0";

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
        _ => rollup_hourly(store, &UsageFilter::default(), RollupGroup::Session, &|_| true)?,
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
        let mut st = store.conn().prepare_cached(STALE_COSTS_SQL).map_err(|e| store.err(e))?;
        let rows = st.query_map([], |r| r.get(0)).map_err(|e| store.err(e))?;
        rows.collect::<rusqlite::Result<Vec<i64>>>().map_err(|e| store.err(e))?
    };
    pks.extend_from_slice(changed);
    pks.sort_unstable();
    pks.dedup();
    refresh_session_costs(store, prices, Some(&pks))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{EventKey, UsageEvent};
    use crate::pricing::TIER_THRESHOLD;
    use crate::sources::{Record, SessionInfo};
    use crate::store::{FileCursor, IngestWriter};

    /// The rollup as the SQL `GROUP BY` of schema 2 read it: the reference.
    fn by_sql(store: &Store, filter: &UsageFilter, group: RollupGroup) -> Vec<RollupRow> {
        let (cond, args) = filter.sql("r.bucket", super::super::BUCKET_MS);
        let (keys, group_by) = match group {
            RollupGroup::Bucket => ("r.bucket, 0, s.agent", "r.bucket, s.agent, r.model, r.flags"),
            RollupGroup::Session => ("0, r.session, s.agent", "r.session, r.model, r.flags"),
            RollupGroup::BucketSession => ("r.bucket, r.session, s.agent", "r.bucket, r.session, r.model, r.flags"),
        };
        let sql = format!(
            "SELECT {keys}, m.name, r.flags, SUM(r.events), SUM(r.input), SUM(r.output), SUM(r.cw5m), SUM(r.cw1h),
               SUM(r.cr), SUM(r.reasoning), SUM(r.over_input), SUM(r.over_output), SUM(r.over_cw5m), SUM(r.over_cw1h),
               SUM(r.over_cr), SUM(r.n_over_input), SUM(r.n_over_output), SUM(r.n_over_cw5m), SUM(r.n_over_cw1h),
               SUM(r.n_over_cr), SUM(r.cost_usd)
             FROM usage_rollup r JOIN sessions s ON s.pk = r.session JOIN models m ON m.id = r.model
             WHERE {cond} GROUP BY {group_by} HAVING SUM(r.events) > 0"
        );
        let mut st = store.conn().prepare(&sql).unwrap();
        let rows = st.query_map(params_from_iter(args), |r| {
            let g = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(RollupRow {
                bucket: r.get(0)?,
                span: if group == RollupGroup::Session { 0 } else { 1 },
                session: r.get(1)?,
                agent: Arc::from(r.get::<_, String>(2)?),
                model: Arc::from(r.get::<_, String>(3)?),
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
        });
        rows.unwrap().collect::<rusqlite::Result<Vec<_>>>().unwrap()
    }

    #[test]
    fn rollup_sums_what_a_group_by_summed() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("a.db")).unwrap();
        let prices = PriceBook::embedded();
        let rng = crate::util::TestRng::new(0x2545_f491_4f6c_dd1d_u64);
        let rnd = |n: u64| rng.below(n);
        let t0 = 1_790_000_000_000_i64;
        let models = ["claude-sonnet-4-5", "claude-opus-4-8", "gpt-5-codex", "my-local-model"];
        let mut w = IngestWriter::new(&store, &prices).unwrap();
        for (i, agent) in
            ["claude-code", "codex", "claude-code", "codex", "claude-code", "claude-code"].iter().enumerate()
        {
            let sid = format!("s{i}");
            let mut records = vec![Record::Session(SessionInfo {
                external_id: sid.clone(),
                project_path: Some(format!("/home/u/{}", ["web", "api", "web-app"][i % 3])),
                agent_version: None,
                started_at: None,
            })];
            for k in 0..400 {
                let big = rnd(20) == 0;
                let n = |m: u64| if big { TIER_THRESHOLD + 1 + rnd(m) } else { rnd(m) };
                records.push(Record::Usage(UsageEvent {
                    key: EventKey::of(&[&sid, &k.to_string()]),
                    session_external_id: Arc::from(sid.as_str()),
                    timestamp: chrono::DateTime::from_timestamp_millis(t0 + rnd(3 * 86_400_000) as i64).unwrap(),
                    model: Arc::from(models[rnd(4) as usize]),
                    model_fallback: rnd(10) == 0,
                    fast: rnd(3) == 0,
                    sidechain: rnd(5) == 0,
                    tokens: Tokens {
                        input: n(5000),
                        output: rnd(3000),
                        cache_write_5m: n(9000),
                        cache_write_1h: rnd(100),
                        cache_read: n(90_000),
                        reasoning: rnd(500),
                    },
                    cost_usd: (rnd(4) == 0).then(|| rnd(10_000) as f64 / 7919.0),
                }));
            }
            let cursor = FileCursor { path: sid.clone(), agent: agent.to_string(), ..Default::default() };
            w.apply(agent, &records, &cursor, None).unwrap();
        }
        w.finish().unwrap();
        let filters = [
            UsageFilter::default(),
            UsageFilter { from_ms: Some(t0 + 86_400_000), to_ms: Some(t0 + 2 * 86_400_000 + 1), ..Default::default() },
            UsageFilter { agent: Some("codex".into()), ..Default::default() },
            UsageFilter { project: Some("web".into()), from_ms: Some(t0 + 40_000_000), ..Default::default() },
            UsageFilter { session: Some(2), to_ms: Some(t0 + 100_000_000), ..Default::default() },
            UsageFilter { agent: Some("nobody".into()), ..Default::default() },
        ];
        for f in &filters {
            for g in [RollupGroup::Bucket, RollupGroup::Session, RollupGroup::BucketSession] {
                // The same groups; a GROUP BY's order was not promised.
                let key = |r: &RollupRow| (r.bucket, r.session, r.agent.clone(), r.model.clone(), r.flags);
                let mut want = by_sql(&store, f, g);
                want.sort_by_key(key);
                let mut got = rollup(&store, f, g).unwrap();
                got.sort_by_key(key);
                assert_eq!(got.len(), want.len(), "{f:?} {g:?}");
                for (a, b) in got.iter().zip(&want) {
                    assert!((a.transcript_cost - b.transcript_cost).abs() < 1e-9, "{a:?} {b:?}");
                    let a = RollupRow { transcript_cost: 0.0, ..a.clone() };
                    let b = RollupRow { transcript_cost: 0.0, ..b.clone() };
                    assert_eq!(a, b, "{f:?} {g:?}");
                }
            }
        }
        assert!(by_sql(&store, &filters[0], RollupGroup::Bucket).len() > 100, "enough to compare");
        hourly_reads_what_the_buckets_hold(&store, &filters, t0);
    }

    /// Rows summed per (day in `zone`, session, agent, model, flags):
    /// events and the 16 token sums, and the transcript's cost.
    type Days = BTreeMap<(Option<chrono::NaiveDate>, i64, String, String, i64), ([u64; 17], f64)>;

    fn by_day(rows: &[RollupRow], zone: Option<&crate::reports::Zone>) -> Days {
        let mut m = Days::new();
        for r in rows {
            let day = zone.map(|z| z.date_of(r.bucket * super::super::BUCKET_MS));
            let e = m.entry((day, r.session, r.agent.to_string(), r.model.to_string(), r.flags)).or_default();
            let t = &r.tokens;
            let tk = &t.tokens;
            let v = [tk.input, tk.output, tk.cache_write_5m, tk.cache_write_1h, tk.cache_read, tk.reasoning];
            for (a, x) in e.0.iter_mut().zip(std::iter::once(r.events).chain(v).chain(t.over).chain(t.over_n)) {
                *a += x;
            }
            e.1 += r.transcript_cost;
        }
        m
    }

    /// The hourly rollup gives every report by day what the 15-minute one
    /// gives, in zones offset by whole hours, half hours (India), 45 minutes
    /// (Nepal) and a half-hour DST (Lord Howe), over windows whose edges cut
    /// through hours and buckets.
    fn hourly_reads_what_the_buckets_hold(store: &Store, filters: &[UsageFilter], t0: i64) {
        use crate::reports::Zone;
        let mut filters = filters.to_vec();
        filters.push(UsageFilter {
            from_ms: Some(t0 + 1_800_000),
            to_ms: Some(t0 + 200_000_000),
            ..Default::default()
        });
        filters.push(UsageFilter { to_ms: Some(t0 + 30 * 60_000), ..Default::default() });
        let zones = ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"];
        let mut fewer = false;
        for f in &filters {
            for name in zones {
                let zone = Zone::parse(name).unwrap();
                for g in [RollupGroup::Bucket, RollupGroup::BucketSession, RollupGroup::Session] {
                    let fine = rollup(store, f, g).unwrap();
                    let hourly = match g {
                        RollupGroup::Session => rollup_hourly(store, f, g, &|_| true).unwrap(),
                        _ => rollup_hourly(store, f, g, &|h| zone.whole_hour(h)).unwrap(),
                    };
                    fewer |= hourly.len() < fine.len();
                    assert!(hourly.windows(2).all(|w| w[0].bucket <= w[1].bucket), "in bucket order");
                    let z = (g != RollupGroup::Session).then_some(&zone);
                    let (a, b) = (by_day(&fine, z), by_day(&hourly, z));
                    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "{f:?} {name} {g:?}");
                    for ((k, x), (_, y)) in a.iter().zip(&b) {
                        assert_eq!(x.0, y.0, "{k:?} {f:?} {name} {g:?}");
                        assert!((x.1 - y.1).abs() < 1e-9, "{k:?} {f:?} {name} {g:?}");
                    }
                }
            }
        }
        assert!(fewer, "the hourly rollup was read");
    }

    #[test]
    fn a_zone_offset_by_whole_hours_reads_every_hour_whole() {
        use crate::reports::Zone;
        let h = 3_600_000;
        let t = 1_790_000_000_000 / h * h;
        let la = Zone::parse("America/Los_Angeles").unwrap();
        assert!((0..24 * 400).all(|i| la.whole_hour(t + i * h)), "every hour of 400 days, DST changes included");
        let india = Zone::parse("Asia/Kolkata").unwrap();
        let split = (0..48).filter(|i| !india.whole_hour(t + i * h)).count();
        assert_eq!(split, 2, "one hour a day holds India's midnight");
    }
}
