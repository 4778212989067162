//! 5-hour billing blocks, as Anthropic's plans meter usage and ccusage shows
//! them.
//!
//! A block starts at the hour of its first call (UTC) and lasts 5 hours. A
//! call starts a new block when it falls after the current block's end or
//! more than 5 hours after the previous call; the idle time between two
//! blocks is reported as a gap. The block that contains "now" and had a call
//! within the last 5 hours is active: it gets a burn rate and a projection to
//! its end.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::ReportOptions;
use crate::error::Result;
use crate::model::Tokens;
#[cfg(test)]
use crate::pricing::TieredTokens;
use crate::pricing::{PriceBook, display_model};
#[cfg(test)]
use crate::store::EventRow;
use crate::store::{BUCKET_MS, RollupGroup, Store, UsageFilter, flags, rollup_hourly};
use crate::views::iso;

pub const BLOCK_HOURS: i64 = 5;
const BLOCK_MS: i64 = BLOCK_HOURS * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct BurnRate {
    pub tokens_per_minute: f64,
    pub cost_per_hour: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub total_tokens: u64,
    pub total_cost: f64,
    pub remaining_minutes: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub start: i64,
    pub end: i64,
    /// The last call's time (None for gaps).
    pub actual_end: Option<i64>,
    pub is_active: bool,
    pub is_gap: bool,
    pub entries: u64,
    pub tokens: Tokens,
    pub cost: f64,
    pub unpriced: BTreeSet<String>,
    /// In order of first use.
    pub models: Vec<String>,
    pub burn_rate: Option<BurnRate>,
    pub projection: Option<Projection>,
}

impl Block {
    fn new(start: i64) -> Block {
        Block {
            start,
            end: start + BLOCK_MS,
            actual_end: None,
            is_active: false,
            is_gap: false,
            entries: 0,
            tokens: Tokens::default(),
            cost: 0.0,
            unpriced: BTreeSet::new(),
            models: Vec::new(),
            burn_rate: None,
            projection: None,
        }
    }
}

/// The blocks of the calls in the report's window, oldest first.
///
/// Read from the rollup (usage per hour; per 15-minute bucket where the
/// window cuts an hour), not call by call: at a million calls, reading each
/// one took seconds. Block edges fall on whole hours, so on the rollup's
/// edges too; the exact times a block needs (its last call, the calls either
/// side of a pause of about 5 hours, the first call of the active block,
/// which model came first when two start in one hour) are read for those few
/// hours from an index of the calls' times.
pub fn blocks(store: &Store, prices: &PriceBook, opts: &ReportOptions, now_ms: i64) -> Result<Vec<Block>> {
    store.snapshot(|| blocks_in(store, prices, opts, now_ms))
}

fn blocks_in(store: &Store, prices: &PriceBook, opts: &ReportOptions, now_ms: i64) -> Result<Vec<Block>> {
    let filter = opts.usage_filter();
    // Blocks start on whole (UTC) hours: an hour read whole is never split.
    let rows = rollup_hourly(store, &filter, RollupGroup::BucketSession, &|_| true)?;
    let mut calls = BucketCalls::new(store, &filter)?;
    let mut out: Vec<Block> = Vec::new();
    // The first bucket of each block in `out` (gaps: none).
    let mut first_bucket: Vec<Option<i64>> = Vec::new();
    let mut cur: Option<(Block, i64)> = None;
    // The previous bucket with calls, and its span.
    let mut prev: Option<(i64, i64)> = None;
    let mut i = 0;
    while i < rows.len() {
        let bucket = rows[i].bucket;
        let n = rows[i..].iter().take_while(|r| r.bucket == bucket).count();
        let slice = &rows[i..i + n];
        i += n;
        let span = slice[0].span.max(1);
        calls.sessions.insert(bucket, slice.iter().map(|r| r.session).collect());
        calls.spans.insert(bucket, span);
        let start = bucket * BUCKET_MS;
        // Whether more than 5 hours passed since the previous call: plain
        // from the buckets (or hours), unless they are about 5 hours apart.
        let gap = match prev {
            None => false,
            Some((p, p_span)) => {
                let (p_start, p_end) = (p * BUCKET_MS, (p + p_span) * BUCKET_MS);
                if start - (p_end - 1) > BLOCK_MS {
                    true
                } else if (bucket + span) * BUCKET_MS - 1 - p_start <= BLOCK_MS {
                    false
                } else {
                    calls.first(bucket)? - calls.last(p)? > BLOCK_MS
                }
            }
        };
        let starts_new = cur.as_ref().is_none_or(|(b, _)| start >= b.end || gap);
        if starts_new {
            if let (Some((mut b, fb)), Some((p, _))) = (cur.take(), prev) {
                b.actual_end = Some(calls.last(p)?);
                out.push(b);
                first_bucket.push(Some(fb));
                if gap {
                    let mut g = Block::new(calls.last(p)?);
                    g.end = calls.first(bucket)?;
                    g.is_gap = true;
                    out.push(g);
                    first_bucket.push(None);
                }
            }
            cur = Some((Block::new(start - start.rem_euclid(HOUR_MS)), bucket));
        }
        let (b, _) = cur.as_mut().expect("a block is open");
        let mut new_models: Vec<String> = Vec::new();
        for r in slice {
            b.entries += r.events;
            b.tokens.add(&r.tokens.tokens);
            let name = r.display_model();
            match r.cost(prices).usd {
                Some(usd) => b.cost += usd,
                None => {
                    b.unpriced.insert(name.clone());
                }
            }
            if !b.models.contains(&name) && !new_models.contains(&name) {
                new_models.push(name);
            }
        }
        if new_models.len() > 1 {
            // Models first used in the same bucket: in the order of their
            // calls. In an hour read whole, the 15-minute bucket each first
            // appears in orders them; the exact first calls are looked up
            // only for models that first appear in the same one.
            let kinds: Vec<Vec<(&str, bool)>> = new_models
                .iter()
                .map(|m| {
                    // A row per session: the same kinds many times over.
                    let mut k: Vec<(&str, bool)> =
                        slice.iter().filter(|r| r.display_model() == *m).map(|r| (&*r.model, r.fast())).collect();
                    k.sort_unstable();
                    k.dedup();
                    k
                })
                .collect();
            let mut quarter = Vec::with_capacity(new_models.len());
            for k in &kinds {
                quarter.push(calls.first_quarter(bucket, k)?);
            }
            let mut firsts = Vec::with_capacity(new_models.len());
            for (i, m) in new_models.iter().enumerate() {
                let alone = quarter[i].is_some() && quarter.iter().filter(|q| **q == quarter[i]).count() == 1;
                let first = if alone { 0 } else { calls.first_use(bucket, m, &kinds[i])? };
                firsts.push((quarter[i], first));
            }
            let mut order: Vec<usize> = (0..new_models.len()).collect();
            order.sort_by_key(|&i| firsts[i]);
            new_models = order.into_iter().map(|i| new_models[i].clone()).collect();
        }
        b.models.extend(new_models);
        prev = Some((bucket, span));
    }
    if let (Some((mut b, fb)), Some((p, _))) = (cur, prev) {
        b.actual_end = Some(calls.last(p)?);
        out.push(b);
        first_bucket.push(Some(fb));
    }
    if let Some(i) = active_block(&out, now_ms) {
        let first = match first_bucket[i] {
            Some(fb) => calls.first(fb)?,
            None => out[i].start,
        };
        activate(&mut out[i], first, now_ms);
    }
    Ok(out)
}

/// The calls of one bucket, as far as blocks need them.
struct Calls {
    first: i64,
    last: i64,
    /// Display names and their first call.
    models: Vec<(String, i64)>,
}

/// Exact times of the calls in the buckets blocks ask about, from the index
/// on (ts, session, model, flags), never the calls' rows. Without a filter,
/// each answer is one seek (`MIN`/`MAX` over a bucket's range); with one,
/// the bucket's calls are read once and kept.
struct BucketCalls<'s> {
    store: &'s Store,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    /// Every session counts (no agent, project or session filter).
    everyone: bool,
    models: HashMap<i64, String>,
    /// The sessions (those that pass the report's filter) with usage in
    /// each bucket, from the rollup.
    sessions: HashMap<i64, HashSet<i64>>,
    /// Buckets read as a whole hour (span 4), from the rollup.
    spans: HashMap<i64, i64>,
    read: HashMap<i64, Calls>,
    edges: HashMap<(i64, bool), i64>,
    /// See [`BucketCalls::quarters`].
    quarters: HashMap<i64, Vec<(i64, bool, i64)>>,
}

impl<'s> BucketCalls<'s> {
    fn new(store: &'s Store, filter: &UsageFilter) -> Result<BucketCalls<'s>> {
        let mut st = store.conn().prepare_cached("SELECT id, name FROM models").map_err(|e| store.err(e))?;
        let models = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| store.err(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| store.err(e))?;
        Ok(BucketCalls {
            store,
            from_ms: filter.from_ms,
            to_ms: filter.to_ms,
            everyone: filter.agent.is_none() && filter.project.is_none() && filter.session.is_none(),
            models,
            sessions: HashMap::new(),
            spans: HashMap::new(),
            read: HashMap::new(),
            edges: HashMap::new(),
            quarters: HashMap::new(),
        })
    }

    /// The time range of a bucket (or the hour read whole from it) within
    /// the report's window.
    fn range(&self, bucket: i64) -> (i64, i64) {
        let span = self.spans.get(&bucket).copied().unwrap_or(1);
        let lo = (bucket * BUCKET_MS).max(self.from_ms.unwrap_or(i64::MIN));
        let hi = ((bucket + span) * BUCKET_MS).min(self.to_ms.unwrap_or(i64::MAX));
        (lo, hi)
    }

    /// The time of the bucket's first call.
    fn first(&mut self, bucket: i64) -> Result<i64> {
        self.edge(bucket, false)
    }

    /// The time of the bucket's last call.
    fn last(&mut self, bucket: i64) -> Result<i64> {
        self.edge(bucket, true)
    }

    fn edge(&mut self, bucket: i64, last: bool) -> Result<i64> {
        if !self.everyone {
            let c = self.calls(bucket)?;
            return Ok(if last { c.last } else { c.first });
        }
        if let Some(t) = self.edges.get(&(bucket, last)) {
            return Ok(*t);
        }
        let (lo, hi) = self.range(bucket);
        let sql = if last {
            "SELECT MAX(ts) FROM usage_events INDEXED BY usage_events_time WHERE ts >= ?1 AND ts < ?2"
        } else {
            "SELECT MIN(ts) FROM usage_events INDEXED BY usage_events_time WHERE ts >= ?1 AND ts < ?2"
        };
        let store = self.store;
        let t: Option<i64> = store
            .conn()
            .prepare_cached(sql)
            .and_then(|mut st| st.query_row([lo, hi], |r| r.get(0)))
            .map_err(|e| store.err(e))?;
        // The rollup said there were calls: the bucket's edges, at worst.
        let t = t.unwrap_or(if last { hi - 1 } else { lo });
        self.edges.insert((bucket, last), t);
        Ok(t)
    }

    /// When the model shown as `name` (made of these model names and fast
    /// flags) was first used in the bucket.
    fn first_use(&mut self, bucket: i64, name: &str, kinds: &[(&str, bool)]) -> Result<i64> {
        if !self.everyone {
            let c = self.calls(bucket)?;
            return Ok(c.models.iter().find(|(n, _)| n == name).map_or(i64::MAX, |(_, t)| *t));
        }
        let (lo, hi) = self.range(bucket);
        // An hour read whole: the 15-minute rollup says in which of its
        // buckets each kind first appears, so that the search for its first
        // call starts there (not at the top of the hour).
        let quarters = self.quarters(bucket)?.to_vec();
        let store = self.store;
        let mut st = store
            .conn()
            .prepare_cached(
                "SELECT MIN(ts) FROM usage_events INDEXED BY usage_events_time
                 WHERE ts >= ?1 AND ts < ?2 AND model = ?3 AND (flags & 2 != 0) = ?4",
            )
            .map_err(|e| store.err(e))?;
        let mut first = i64::MAX;
        for (model, fast) in kinds {
            let Some(id) = self.models.iter().find(|(_, n)| n == model).map(|(id, _)| *id) else { continue };
            let from =
                quarters.iter().find(|(m, f, _)| *m == id && f == fast).map_or(lo, |(_, _, q)| (q * BUCKET_MS).max(lo));
            let t: Option<i64> =
                st.query_row(rusqlite::params![from, hi, id, fast], |r| r.get(0)).map_err(|e| store.err(e))?;
            first = first.min(t.unwrap_or(i64::MAX));
        }
        Ok(first)
    }

    /// The first 15-minute bucket of an hour read whole that holds a call of
    /// one of these kinds; `None` for a single bucket, or with a filter (the
    /// rollup counts everyone's calls).
    fn first_quarter(&mut self, bucket: i64, kinds: &[(&str, bool)]) -> Result<Option<i64>> {
        if !self.everyone {
            return Ok(None);
        }
        let ids: Vec<(i64, bool)> = kinds
            .iter()
            .filter_map(|(model, fast)| self.models.iter().find(|(_, n)| n == model).map(|(id, _)| (*id, *fast)))
            .collect();
        let quarters = self.quarters(bucket)?;
        Ok(quarters.iter().filter(|(m, f, _)| ids.contains(&(*m, *f))).map(|(_, _, q)| *q).min())
    }

    /// For a bucket that stands for a whole hour: each kind of call (model
    /// id, fast) and the first of the hour's 15-minute buckets holding one,
    /// from the 15-minute rollup; read once per hour. Empty for a bucket.
    fn quarters(&mut self, bucket: i64) -> Result<&[(i64, bool, i64)]> {
        let span = self.spans.get(&bucket).copied().unwrap_or(1);
        if span > 1 && !self.quarters.contains_key(&bucket) {
            let store = self.store;
            let mut st = store
                .conn()
                .prepare_cached(
                    "SELECT model, flags & 2 != 0, MIN(bucket) FROM usage_rollup
                     WHERE bucket >= ?1 AND bucket < ?2 AND events > 0 GROUP BY 1, 2",
                )
                .map_err(|e| store.err(e))?;
            let firsts = st
                .query_map([bucket, bucket + span], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| store.err(e))?;
            self.quarters.insert(bucket, firsts);
        }
        Ok(self.quarters.get(&bucket).map_or(&[], Vec::as_slice))
    }

    /// The calls of the bucket's sessions that pass the filter, read once.
    fn calls(&mut self, bucket: i64) -> Result<&Calls> {
        if !self.read.contains_key(&bucket) {
            let calls = self.load(bucket)?;
            self.read.insert(bucket, calls);
        }
        Ok(&self.read[&bucket])
    }

    fn load(&self, bucket: i64) -> Result<Calls> {
        let store = self.store;
        let (lo, hi) = self.range(bucket);
        let mut st = store
            .conn()
            .prepare_cached(
                "SELECT ts, session, model, flags FROM usage_events INDEXED BY usage_events_time
                 WHERE ts >= ?1 AND ts < ?2 ORDER BY ts",
            )
            .map_err(|e| store.err(e))?;
        let mut rows = st.query([lo, hi]).map_err(|e| store.err(e))?;
        let sessions = self.sessions.get(&bucket);
        let mut calls = Calls { first: i64::MAX, last: i64::MIN, models: Vec::new() };
        while let Some(r) = rows.next().map_err(|e| store.err(e))? {
            let get = || -> rusqlite::Result<(i64, i64, i64, i64)> { Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)) };
            let (ts, session, model, fl) = get().map_err(|e| store.err(e))?;
            if sessions.is_some_and(|s| !s.contains(&session)) {
                continue;
            }
            calls.first = calls.first.min(ts);
            calls.last = calls.last.max(ts);
            let name = display_model(self.models.get(&model).map_or("", String::as_str), fl & flags::FAST != 0);
            if !calls.models.iter().any(|(n, _)| *n == name) {
                calls.models.push((name, ts));
            }
        }
        if calls.first > calls.last {
            // The rollup said there were calls: the bucket's edges, at worst.
            calls.first = lo;
            calls.last = hi - 1;
        }
        Ok(calls)
    }
}

/// The block that contains now: not one from the future (stamped by a
/// skewed clock), which would project its burn rate over years, and whose
/// calls must not hide the current block either.
fn active_block(blocks: &[Block], now_ms: i64) -> Option<usize> {
    blocks.iter().position(|b| {
        !b.is_gap && b.start <= now_ms && now_ms < b.end && b.actual_end.is_some_and(|t| now_ms - t < BLOCK_MS)
    })
}

/// Marks the block active, with its burn rate since its first call and a
/// projection to its end.
fn activate(b: &mut Block, first: i64, now_ms: i64) {
    b.is_active = true;
    let minutes = ((b.actual_end.unwrap_or(first) - first) as f64 / 60_000.0).max(1.0);
    let rate =
        BurnRate { tokens_per_minute: b.tokens.total() as f64 / minutes, cost_per_hour: b.cost / minutes * 60.0 };
    let remaining = ((b.end - now_ms) as f64 / 60_000.0).max(0.0);
    b.projection = Some(Projection {
        total_tokens: b.tokens.total() + (rate.tokens_per_minute * remaining).round() as u64,
        total_cost: b.cost + rate.cost_per_hour / 60.0 * remaining,
        remaining_minutes: remaining.round() as i64,
    });
    b.burn_rate = Some(rate);
}

/// The blocks of single calls, in time order: the definition, which
/// [`blocks`] must match (it is checked against this in the tests).
#[cfg(test)]
fn make_blocks(evs: &[EventRow], prices: &PriceBook, now_ms: i64) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut cur: Option<Block> = None;
    let mut last_ts = i64::MIN;
    for e in evs {
        let starts_new = match &cur {
            None => true,
            Some(b) => e.ts >= b.end || e.ts - last_ts > BLOCK_MS,
        };
        if starts_new {
            if let Some(b) = cur.take() {
                out.push(b);
                if e.ts - last_ts > BLOCK_MS {
                    let mut gap = Block::new(last_ts);
                    gap.end = e.ts;
                    gap.is_gap = true;
                    out.push(gap);
                }
            }
            cur = Some(Block::new(e.ts - e.ts.rem_euclid(HOUR_MS)));
        }
        let b = cur.as_mut().expect("a block is open");
        b.entries += 1;
        b.tokens.add(&e.tokens);
        b.actual_end = Some(e.ts);
        let fast = e.flags & flags::FAST != 0;
        let name = display_model(&e.model, fast);
        let c = prices.price_group(&e.model, fast, e.cost_usd, &TieredTokens::of_event(&e.tokens));
        match c.usd {
            Some(usd) => b.cost += usd,
            None => {
                b.unpriced.insert(name.clone());
            }
        }
        if !b.models.contains(&name) {
            b.models.push(name);
        }
        last_ts = e.ts;
    }
    out.extend(cur);
    if let Some(i) = active_block(&out, now_ms) {
        let start = out[i].start;
        let first = evs.get(evs.partition_point(|e| e.ts < start)).map_or(start, |e| e.ts);
        activate(&mut out[i], first, now_ms);
    }
    out
}

/// A block as ccusage's `blocks --json` writes it.
pub fn block_json(b: &Block) -> serde_json::Value {
    let id = if b.is_gap { format!("gap-{}", iso(b.start)) } else { iso(b.start) };
    serde_json::json!({
        "id": id,
        "startTime": iso(b.start),
        "endTime": iso(b.end),
        "actualEndTime": b.actual_end.map(iso),
        "isActive": b.is_active,
        "isGap": b.is_gap,
        "entries": b.entries,
        "tokenCounts": {
            "inputTokens": b.tokens.input,
            "outputTokens": b.tokens.output,
            "cacheCreationInputTokens": b.tokens.cache_creation(),
            "cacheReadInputTokens": b.tokens.cache_read,
        },
        "totalTokens": b.tokens.total(),
        "costUSD": b.cost,
        "models": b.models,
        "burnRate": b.burn_rate.as_ref().map(|r| serde_json::json!({
            "tokensPerMinute": r.tokens_per_minute,
            "costPerHour": r.cost_per_hour,
        })),
        "projection": b.projection.as_ref().map(|p| serde_json::json!({
            "totalTokens": p.total_tokens,
            "totalCost": p.total_cost,
            "remainingMinutes": p.remaining_minutes,
        })),
        "unpricedModels": b.unpriced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts_min: i64, input: u64) -> EventRow {
        EventRow {
            ts: 1_700_000_000_000 - 1_700_000_000_000 % HOUR_MS + ts_min * 60_000,
            session: 1,
            model: "claude-sonnet-4-5".into(),
            flags: 0,
            tokens: Tokens { input, ..Default::default() },
            cost_usd: None,
        }
    }

    #[test]
    fn calls_within_five_hours_of_the_block_start_share_a_block() {
        let p = PriceBook::embedded();
        let evs = [ev(10, 1000), ev(200, 1000), ev(299, 1000), ev(301, 1000)];
        let b = make_blocks(&evs, &p, i64::MAX);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].entries, 3);
        assert_eq!(b[0].start, ev(0, 0).ts, "a block starts at the hour");
        assert_eq!(b[1].start, ev(300, 0).ts);
        assert!((b[0].cost - 0.009).abs() < 1e-12);
        assert!(!b[0].is_active && !b[1].is_active);
    }

    #[test]
    fn a_long_pause_leaves_a_gap_block() {
        let p = PriceBook::embedded();
        let b = make_blocks(&[ev(0, 10), ev(60 * 12, 10)], &p, i64::MAX);
        assert_eq!(b.len(), 3);
        assert!(b[1].is_gap && b[1].entries == 0);
    }

    #[test]
    fn a_block_from_the_future_is_not_active() {
        let p = PriceBook::embedded();
        let now = ev(0, 0).ts;
        let b = make_blocks(&[ev(-360, 1000), ev(60 * 24 * 365 * 70, 1000)], &p, now);
        assert_eq!(b.len(), 3);
        assert!(b.iter().all(|b| !b.is_active && b.projection.is_none()), "{b:?}");
        // Nor does it hide the block of now.
        let b = make_blocks(&[ev(-60, 6000), ev(-30, 6000), ev(60 * 24 * 365 * 70, 1000)], &p, now);
        let active: Vec<&Block> = b.iter().filter(|b| b.is_active).collect();
        assert_eq!(active.len(), 1, "{b:?}");
        assert_eq!(active[0].start, ev(-60, 0).ts);
        assert!((active[0].burn_rate.as_ref().unwrap().tokens_per_minute - 400.0).abs() < 1e-9);
    }

    /// `blocks` (from the rollup and a few buckets' calls) against the
    /// definition (call by call), on calls spread to hit every edge: pauses
    /// of about 5 hours either side, models first used in the same bucket,
    /// several sessions and agents, filters, and now in and out of a block.
    #[test]
    fn blocks_from_the_rollup_match_blocks_from_every_call() {
        use std::sync::Arc;

        use crate::model::{EventKey, UsageEvent};
        use crate::sources::{Record, SessionInfo};
        use crate::store::{FileCursor, IngestWriter, UsageFilter, events};

        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("a.db")).unwrap();
        let prices = PriceBook::embedded();
        let rng = crate::util::TestRng::new(0x9e37_79b9_7f4a_7c15_u64);
        let rnd = |n: u64| rng.below(n);
        let t0 = 1_790_000_000_000_i64 - 1_790_000_000_000_i64 % HOUR_MS;
        let models = ["claude-sonnet-4-5", "claude-opus-4-8", "gpt-5-codex", "my-local-model"];
        let mut w = IngestWriter::new(&store, &prices).unwrap();
        let mut last_ts = 0;
        for s in 0..8 {
            let agent = ["claude-code", "codex"][s % 2];
            let sid = format!("s{s}");
            let mut records = vec![Record::Session(SessionInfo {
                external_id: sid.clone(),
                project_path: Some(format!("/p/{}", ["web", "api"][s / 4])),
                agent_version: None,
                started_at: None,
            })];
            // Two sessions (a Claude and a Codex one) at a time, a few days
            // per pair: pauses of the one an agent filter keeps show.
            let mut ts = t0 + (s as i64 / 2) * 4 * 86_400_000 + rnd(3 * 3_600_000) as i64;
            for k in 0..300 {
                ts += match rnd(25) {
                    // About 5 hours, give or take a bucket.
                    0..=2 => 5 * HOUR_MS - 20 * 60_000 + rnd(40 * 60_000) as i64,
                    3 => rnd(20 * HOUR_MS as u64) as i64,
                    _ => rnd(240_000) as i64,
                };
                last_ts = last_ts.max(ts);
                records.push(Record::Usage(UsageEvent {
                    key: EventKey::of(&[&sid, &k.to_string()]),
                    session_external_id: Arc::from(sid.as_str()),
                    timestamp: chrono::DateTime::from_timestamp_millis(ts).unwrap(),
                    model: Arc::from(models[rnd(4) as usize]),
                    model_fallback: false,
                    fast: rnd(4) == 0,
                    sidechain: false,
                    tokens: Tokens {
                        input: rnd(5000),
                        output: rnd(3000),
                        cache_read: rnd(300_000),
                        ..Default::default()
                    },
                    cost_usd: (rnd(6) == 0).then(|| rnd(10_000) as f64 / 7919.0),
                }));
            }
            let cursor = FileCursor { path: sid.clone(), agent: agent.into(), ..Default::default() };
            w.apply(agent, &records, &cursor, None).unwrap();
        }
        w.finish().unwrap();
        let utc = super::super::Zone::parse("UTC").unwrap();
        let day = |d: i64| Some(utc.date_of(t0 + d * 86_400_000));
        let optss = [
            ReportOptions { zone: utc, ..Default::default() },
            ReportOptions { agent: Some("codex".into()), zone: utc, ..Default::default() },
            ReportOptions { project: Some("web".into()), zone: utc, ..Default::default() },
            ReportOptions { since: day(2), until: day(9), zone: utc, ..Default::default() },
            // Days that start at half past an hour: the window cuts hours.
            ReportOptions {
                since: day(1),
                until: day(10),
                zone: super::super::Zone::parse("Asia/Kolkata").unwrap(),
                ..Default::default()
            },
        ];
        let mut compared = 0;
        for opts in &optss {
            let f: UsageFilter = opts.usage_filter();
            let evs = events(&store, &f).unwrap();
            let nows = [t0 - HOUR_MS, t0 + 3 * HOUR_MS, last_ts + 60_000, last_ts + 6 * HOUR_MS, t0 + 86_400_000 * 5];
            for now in nows {
                let want = make_blocks(&evs, &prices, now);
                let got = blocks(&store, &prices, opts, now).unwrap();
                assert_eq!(got.len(), want.len(), "{opts:?} at {now}");
                for (g, w) in got.iter().zip(&want) {
                    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
                    assert!(close(g.cost, w.cost), "{g:?}\n{w:?}");
                    assert_eq!(g.burn_rate.is_some(), w.burn_rate.is_some());
                    if let (Some(a), Some(b)) = (&g.burn_rate, &w.burn_rate) {
                        assert!(
                            close(a.tokens_per_minute, b.tokens_per_minute) && close(a.cost_per_hour, b.cost_per_hour)
                        );
                    }
                    let strip = |b: &Block| Block { cost: 0.0, burn_rate: None, projection: None, ..b.clone() };
                    assert_eq!(strip(g), strip(w), "{opts:?} at {now}");
                }
                compared += want.len();
            }
        }
        assert!(compared > 100, "enough blocks to compare: {compared}");
    }

    #[test]
    fn the_current_block_gets_a_burn_rate_and_projection() {
        let p = PriceBook::embedded();
        let evs = [ev(0, 6000), ev(60, 6000)];
        let now = ev(120, 0).ts;
        let b = make_blocks(&evs, &p, now);
        let blk = &b[0];
        assert!(blk.is_active);
        let r = blk.burn_rate.as_ref().unwrap();
        assert!((r.tokens_per_minute - 200.0).abs() < 1e-9);
        let proj = blk.projection.as_ref().unwrap();
        assert_eq!(proj.remaining_minutes, 180);
        assert_eq!(proj.total_tokens, 12_000 + 200 * 180);
    }
}
