//! 5-hour billing blocks, as Anthropic's plans meter usage and ccusage's
//! `blocks` shows them.
//!
//! Blocks are Claude's: without an agent named, only Claude Code's calls
//! count ([`BLOCKS_AGENT`]); another agent's (`--agent codex`) get blocks of
//! their own, by the same rules. A block starts at the hour of its first call
//! (UTC) and lasts 5 hours. A call starts a new block when it comes after the
//! current block's end (a call at its very end still belongs to it) or more
//! than 5 hours after the previous call. The idle time between two blocks is
//! a gap, from when the previous block would have expired (its last call + 5
//! hours) to the next call. A block that contains "now" and had a call within
//! the last 5 hours is active: it gets a burn rate and a projection to its
//! end. Claude Code's own `<synthetic>` messages are entries of a block (as
//! ccusage counts them), never a model of it.
//!
//! `since` and `until` keep the blocks that start on those days, whole: the
//! blocks are those of all the agent's history, as ccusage filters them.
//! Blocks are listed by their start, as ccusage lists them (so a gap that
//! starts after the next block's hour comes after that block).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use super::{ModelUsage, ReportOptions};
use crate::error::Result;
use crate::model::Tokens;
use crate::pricing::{PriceBook, TieredTokens};
#[cfg(test)]
use crate::store::EventRow;
use crate::store::{BUCKET_MS, RollupGroup, RollupRow, Store, UsageFilter, flags, rollup_hourly};
use crate::views::iso;

pub const BLOCK_HOURS: i64 = 5;
const BLOCK_MS: i64 = BLOCK_HOURS * 3600 * 1000;
const HOUR_MS: i64 = 3600 * 1000;
/// The agent whose blocks are reported when none is named: blocks are a
/// Claude billing concept.
pub const BLOCKS_AGENT: &str = "claude-code";
/// A block's projection above this share of the token limit is a warning.
pub const TOKEN_LIMIT_WARNING: f64 = 0.8;

#[derive(Debug, Clone, PartialEq)]
pub struct BurnRate {
    pub tokens_per_minute: f64,
    /// Input and output tokens only (no cache), per minute.
    pub tokens_per_minute_for_indicator: f64,
    pub cost_per_hour: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub total_tokens: u64,
    /// Rounded to cents, as ccusage does.
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
    /// Calls, and the agent's own messages (`<synthetic>`).
    pub entries: u64,
    pub tokens: Tokens,
    pub cost: f64,
    pub unpriced: BTreeSet<String>,
    /// In order of first use.
    pub models: Vec<String>,
    /// Usage per model, costliest first.
    pub breakdown: Vec<ModelUsage>,
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
            breakdown: Vec::new(),
            burn_rate: None,
            projection: None,
        }
    }

    /// The idle time from when a block whose last call was at `last` expired
    /// to the next call.
    fn gap(last: i64, next: i64) -> Block {
        let mut g = Block::new(last + BLOCK_MS);
        g.end = next;
        g.is_gap = true;
        g
    }

    /// Adds rows of usage; returns the models they use that the block did
    /// not, in the order of the rows.
    fn add(&mut self, rows: &[RollupRow], prices: &PriceBook) -> Vec<String> {
        let mut new_models: Vec<String> = Vec::new();
        for r in rows {
            self.entries += r.events;
            self.tokens.add(&r.tokens.tokens);
            if r.synthetic() {
                // Not a model call: no model, no price (a cost it wrote itself counts).
                if r.flags & flags::TRANSCRIPT_COST != 0 {
                    self.cost += r.transcript_cost;
                }
                continue;
            }
            let name = r.display_model();
            let c = r.cost(prices);
            match c.usd {
                Some(usd) => self.cost += usd,
                None => {
                    self.unpriced.insert(name.clone());
                }
            }
            let i = match self.breakdown.iter().position(|m| m.model == name) {
                Some(i) => i,
                None => {
                    self.breakdown.push(ModelUsage { model: name.clone(), ..Default::default() });
                    self.breakdown.len() - 1
                }
            };
            self.breakdown[i].summary.add_priced(r, &c);
            self.breakdown[i].fallback |= r.fallback();
            if !self.models.contains(&name) && !new_models.contains(&name) {
                new_models.push(name);
            }
        }
        new_models
    }

    /// Closes the block at its last call.
    fn close(mut self, last: i64) -> Block {
        self.actual_end = Some(last);
        self.breakdown.sort_by(|a, b| b.summary.cost.total_cmp(&a.summary.cost).then_with(|| a.model.cmp(&b.model)));
        self
    }
}

/// The blocks of the report's agent (Claude Code unless named), oldest
/// first: those that start within `since`..`until`, whole.
///
/// Read from the rollup (usage per hour), not call by call: at a million
/// calls, reading each one took seconds. Block edges fall on whole hours, so
/// on the rollup's edges too; the exact times a block needs (its last call,
/// the calls either side of a pause of about 5 hours, the first call of the
/// active block, which model came first when two start in one hour) are read
/// for those few hours from an index of the calls' times. With `since`, the
/// history is read from the last pause of 5 hours or more before it (blocks
/// chain from one such pause to the next); with `until`, up to 5 hours after
/// it.
pub fn blocks(store: &Store, prices: &PriceBook, opts: &ReportOptions, now_ms: i64) -> Result<Vec<Block>> {
    store.snapshot(|| blocks_in(store, prices, opts, now_ms))
}

fn blocks_in(store: &Store, prices: &PriceBook, opts: &ReportOptions, now_ms: i64) -> Result<Vec<Block>> {
    let mut filter = opts.usage_filter();
    filter.agent = Some(opts.agent.clone().unwrap_or_else(|| BLOCKS_AGENT.to_string()));
    filter.synthetic = true;
    // Blocks are kept by the instant they start; the calls are read wider.
    let (keep_from, keep_to) = (filter.from_ms.take(), filter.to_ms.take());
    let wanted = Wanted::load(store, &filter)?;
    // The last call before the window, when a gap leads to its first block.
    let mut before = None;
    if let Some(from) = keep_from {
        match chain_start(store, &wanted, from)? {
            None => return Ok(Vec::new()),
            Some((hour, prev)) => {
                filter.from_ms = Some(hour * HOUR_MS);
                if let Some(p) = prev {
                    before = wanted.edge(store, p * HOUR_MS, (p + 1) * HOUR_MS, true)?;
                }
            }
        }
    }
    // The first call after the window, when a gap leads to it.
    let mut after = None;
    if let Some(to) = keep_to {
        // Every call of a block that starts before `to` (on whole hours).
        let end = (to + BLOCK_MS).div_euclid(HOUR_MS) * HOUR_MS + HOUR_MS;
        filter.to_ms = Some(end);
        after = wanted.edge(store, end, i64::MAX, false)?;
    }
    let mut out = walk(store, prices, &filter, &wanted, before, after, now_ms)?;
    out.retain(|b| keep_from.is_none_or(|f| b.start >= f) && keep_to.is_none_or(|t| b.start < t));
    by_start(&mut out);
    Ok(out)
}

/// Blocks in the order of their start, as ccusage lists them: a gap starts
/// when the block before it expired, which can be after the next block's
/// (whole) hour, so the next block comes first.
fn by_start(blocks: &mut [Block]) {
    blocks.sort_by_key(|b| b.start);
}

/// Where a block's first call is: the first of a bucket's, or known.
#[derive(Clone, Copy)]
enum First {
    Bucket(i64),
    At(i64),
}

/// The previous call: the last of a bucket (and its span), or known.
#[derive(Clone, Copy)]
enum Last {
    Bucket(i64, i64),
    At(i64),
}

/// The blocks of the calls in `filter`'s window (on whole hours), with the
/// gaps from the call `before` it and to the call `after` it.
fn walk(
    store: &Store,
    prices: &PriceBook,
    filter: &UsageFilter,
    wanted: &Wanted,
    before: Option<i64>,
    after: Option<i64>,
    now_ms: i64,
) -> Result<Vec<Block>> {
    // Blocks start on whole (UTC) hours: an hour read whole is never split.
    let rows = rollup_hourly(store, filter, RollupGroup::BucketSession, &|_| true)?;
    let mut calls = BucketCalls::new(store, filter, wanted)?;
    let mut out: Vec<Block> = Vec::new();
    // Where the first call of each block in `out` is (gaps: none).
    let mut firsts: Vec<Option<First>> = Vec::new();
    let mut cur: Option<(Block, First)> = None;
    let mut prev: Option<Last> = before.map(Last::At);
    let mut i = 0;
    while i < rows.len() {
        let bucket = rows[i].bucket;
        let n = rows[i..].iter().take_while(|r| r.bucket == bucket).count();
        let slice = &rows[i..i + n];
        i += n;
        let span = slice[0].span.max(1);
        calls.spans.insert(bucket, span);
        let start = bucket * BUCKET_MS;
        // Whether more than 5 hours passed since the previous call: plain
        // from the buckets (or hours), unless they are about 5 hours apart.
        let gap = match prev {
            None => false,
            Some(Last::At(t)) => calls.first(bucket)? - t > BLOCK_MS,
            Some(Last::Bucket(p, p_span)) => {
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
        // Whether the bucket's calls come after the open block's end. Blocks
        // end on whole hours, so a bucket is wholly before or from the end;
        // one that starts at the end may hold calls at that very instant,
        // which still belong to the block.
        let mut split = false;
        let past_end = match &cur {
            None => true,
            Some(_) if gap => true,
            Some((b, _)) if start < b.end => {
                debug_assert!((bucket + span) * BUCKET_MS <= b.end, "a bucket across a block's end");
                false
            }
            Some((b, _)) if start > b.end => true,
            Some((b, _)) => {
                if calls.first(bucket)? > b.end {
                    true
                } else {
                    split = calls.last(bucket)? > b.end;
                    false
                }
            }
        };
        if split {
            // Calls at the block's end, then calls after it, in one bucket:
            // this bucket call by call.
            let (mut b, f) = cur.take().expect("a block is open");
            let evs = calls.event_rows(bucket)?;
            let at_end = evs.iter().take_while(|(ts, _)| *ts <= b.end).count();
            let (head, tail): (Vec<RollupRow>, Vec<RollupRow>) = (
                evs[..at_end].iter().map(|(_, r)| r.clone()).collect(),
                evs[at_end..].iter().map(|(_, r)| r.clone()).collect(),
            );
            let new = b.add(&head, prices);
            b.models.extend(new);
            let end = b.end;
            out.push(b.close(end));
            firsts.push(Some(f));
            let mut nb = Block::new(start);
            let new = nb.add(&tail, prices);
            nb.models.extend(new);
            cur = Some((nb, First::At(evs[at_end].0)));
            prev = Some(Last::Bucket(bucket, span));
            continue;
        }
        if past_end {
            if let Some((b, f)) = cur.take() {
                let last = last_call(&mut calls, prev)?;
                out.push(b.close(last));
                firsts.push(Some(f));
            }
            if gap {
                let last = last_call(&mut calls, prev)?;
                out.push(Block::gap(last, calls.first(bucket)?));
                firsts.push(None);
            }
            cur = Some((Block::new(start - start.rem_euclid(HOUR_MS)), First::Bucket(bucket)));
        }
        let (b, _) = cur.as_mut().expect("a block is open");
        let mut new_models = b.add(slice, prices);
        if new_models.len() > 1 {
            // Models first used in the same bucket: in the order of their
            // calls. In an hour read whole, the 15-minute bucket each first
            // appears in orders them; the exact first calls are looked up
            // only for models that first appear in the same one.
            let kinds: Vec<Vec<(&str, bool)>> = new_models
                .iter()
                .map(|m| {
                    // A row per session: the same kinds many times over.
                    let mut k: Vec<(&str, bool)> = slice
                        .iter()
                        .filter(|r| !r.synthetic() && r.display_model() == *m)
                        .map(|r| (&*r.model, r.fast()))
                        .collect();
                    k.sort_unstable();
                    k.dedup();
                    k
                })
                .collect();
            let mut quarter = Vec::with_capacity(new_models.len());
            for k in &kinds {
                quarter.push(calls.first_quarter(bucket, k)?);
            }
            let mut firsts_of = Vec::with_capacity(kinds.len());
            for (q, k) in quarter.iter().zip(&kinds) {
                let alone = q.is_some() && quarter.iter().filter(|x| *x == q).count() == 1;
                let first = if alone { 0 } else { calls.first_use(bucket, k)? };
                firsts_of.push((*q, first));
            }
            let mut order: Vec<usize> = (0..new_models.len()).collect();
            order.sort_by_key(|&i| firsts_of[i]);
            new_models = order.into_iter().map(|i| new_models[i].clone()).collect();
        }
        b.models.extend(new_models);
        prev = Some(Last::Bucket(bucket, span));
    }
    if let Some((b, f)) = cur {
        let last = last_call(&mut calls, prev)?;
        out.push(b.close(last));
        firsts.push(Some(f));
        if let Some(next) = after.filter(|next| next - last > BLOCK_MS) {
            out.push(Block::gap(last, next));
            firsts.push(None);
        }
    }
    if let Some(i) = active_block(&out, now_ms) {
        let first = match firsts[i] {
            Some(First::Bucket(fb)) => calls.first(fb)?,
            Some(First::At(t)) => t,
            None => out[i].start,
        };
        activate(&mut out[i], first, now_ms);
    }
    Ok(out)
}

/// The time of the previous call.
fn last_call(calls: &mut BucketCalls, prev: Option<Last>) -> Result<i64> {
    match prev.expect("a block has calls") {
        Last::Bucket(p, _) => calls.last(p),
        Last::At(t) => Ok(t),
    }
}

/// The sessions whose calls count.
struct Wanted {
    pks: HashSet<i64>,
    /// No session is left out.
    everyone: bool,
}

impl Wanted {
    fn load(store: &Store, filter: &UsageFilter) -> Result<Wanted> {
        let (mut pks, mut everyone) = (HashSet::new(), true);
        for (pk, agent, project) in store.session_owners()? {
            let ok = filter.agent.as_ref().is_none_or(|a| *a == agent)
                && filter.project.as_ref().is_none_or(|p| project.as_deref().unwrap_or("").contains(p.as_str()))
                && filter.session.is_none_or(|s| s == pk);
            if ok {
                pks.insert(pk);
            } else {
                everyone = false;
            }
        }
        Ok(Wanted { pks, everyone })
    }

    /// The first (or last) call of these sessions in [lo, hi).
    fn edge(&self, store: &Store, lo: i64, hi: i64, last: bool) -> Result<Option<i64>> {
        store.walk_calls(lo, hi, None, last, &|s| self.pks.contains(&s))
    }
}

/// Where the blocks that start at or after `from_ms` can be worked out
/// from: the first hour with a call after a pause of 5 hours or more (6
/// hours apart: more than 5 hours between any two calls of them), at or
/// before the first call from `from_ms` on; and the hour of the call before
/// that pause, if any. `None`: no call from `from_ms` on.
///
/// Read from the hourly rollup, newest first, until such a pause.
fn chain_start(store: &Store, wanted: &Wanted, from_ms: i64) -> Result<Option<(i64, Option<i64>)>> {
    // The hours with a call of a session that counts, while `f` says go on.
    let hours = |from: i64, back: bool, f: &mut dyn FnMut(i64) -> bool| -> Result<()> {
        store.each_call_hour(from, back, &mut |hour, session| !wanted.pks.contains(&session) || f(hour))
    };
    let mut next = None;
    hours(from_ms.div_euclid(HOUR_MS), false, &mut |h| {
        next = Some(h);
        false
    })?;
    let Some(mut next) = next else { return Ok(None) };
    let mut prev = None;
    hours(next, true, &mut |h| {
        // 6 hours apart: more than 5 hours between any of their calls.
        if next - h > BLOCK_HOURS {
            prev = Some(h);
            return false;
        }
        next = h;
        true
    })?;
    Ok(Some((next, prev)))
}

/// Exact times of the calls in the buckets blocks ask about, from the index
/// on (ts, session, model, flags), never the calls' rows: each answer is one
/// seek (`MIN`/`MAX` over a bucket's range) when every session counts, else
/// a walk along the index from the bucket's edge to the first call of a
/// session that does (the next entry or so: most calls are the agent's).
struct BucketCalls<'s> {
    store: &'s Store,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    /// The sessions whose calls count; `None`: every session.
    wanted: Option<&'s HashSet<i64>>,
    models: HashMap<i64, String>,
    /// Buckets read as a whole hour (span 4), from the rollup.
    spans: HashMap<i64, i64>,
    edges: HashMap<(i64, bool), i64>,
    /// See [`BucketCalls::quarters`].
    quarters: HashMap<i64, Vec<(i64, bool, i64)>>,
}

impl<'s> BucketCalls<'s> {
    fn new(store: &'s Store, filter: &UsageFilter, wanted: &'s Wanted) -> Result<BucketCalls<'s>> {
        let models = store.model_ids()?;
        Ok(BucketCalls {
            store,
            from_ms: filter.from_ms,
            to_ms: filter.to_ms,
            wanted: (!wanted.everyone).then_some(&wanted.pks),
            models,
            spans: HashMap::new(),
            edges: HashMap::new(),
            quarters: HashMap::new(),
        })
    }

    fn wants(&self, session: i64) -> bool {
        self.wanted.is_none_or(|w| w.contains(&session))
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
        if let Some(t) = self.edges.get(&(bucket, last)) {
            return Ok(*t);
        }
        let (lo, hi) = self.range(bucket);
        let t = match self.wanted {
            None => self.store.call_edge(lo, hi, None, last)?,
            Some(w) => self.store.walk_calls(lo, hi, None, last, &|s| w.contains(&s))?,
        };
        // The rollup said there were calls: the bucket's edges, at worst.
        let t = t.unwrap_or(if last { hi - 1 } else { lo });
        self.edges.insert((bucket, last), t);
        Ok(t)
    }

    /// When the model shown as `name` (made of these model names and fast
    /// flags) was first used in the bucket.
    fn first_use(&mut self, bucket: i64, kinds: &[(&str, bool)]) -> Result<i64> {
        let (lo, hi) = self.range(bucket);
        // An hour read whole: the 15-minute rollup says in which of its
        // buckets each kind first appears, so that the search for its first
        // call starts there (not at the top of the hour).
        let quarters = self.quarters(bucket)?.to_vec();
        let store = self.store;
        let mut first = i64::MAX;
        for (model, fast) in kinds {
            let Some(id) = self.models.iter().find(|(_, n)| n == model).map(|(id, _)| *id) else { continue };
            let from =
                quarters.iter().find(|(m, f, _)| *m == id && f == fast).map_or(lo, |(_, _, q)| (q * BUCKET_MS).max(lo));
            let t: Option<i64> = match self.wanted {
                None => store.call_edge(from, hi, Some((id, *fast)), false)?,
                Some(w) => store.walk_calls(from, hi, Some((id, *fast)), false, &|s| w.contains(&s))?,
            };
            first = first.min(t.unwrap_or(i64::MAX));
        }
        Ok(first)
    }

    /// The first 15-minute bucket of an hour read whole that holds a call of
    /// one of these kinds; `None` for a single bucket.
    fn first_quarter(&mut self, bucket: i64, kinds: &[(&str, bool)]) -> Result<Option<i64>> {
        let ids: Vec<(i64, bool)> = kinds
            .iter()
            .filter_map(|(model, fast)| self.models.iter().find(|(_, n)| n == model).map(|(id, _)| (*id, *fast)))
            .collect();
        let quarters = self.quarters(bucket)?;
        Ok(quarters.iter().filter(|(m, f, _)| ids.contains(&(*m, *f))).map(|(_, _, q)| *q).min())
    }

    /// For a bucket that stands for a whole hour: each kind of call (model
    /// id, fast) of the sessions that count and the first of the hour's
    /// 15-minute buckets holding one, from the 15-minute rollup; read once
    /// per hour. Empty for a bucket.
    fn quarters(&mut self, bucket: i64) -> Result<&[(i64, bool, i64)]> {
        let span = self.spans.get(&bucket).copied().unwrap_or(1);
        if span > 1 && !self.quarters.contains_key(&bucket) {
            let rows = self.store.first_buckets(bucket, span)?;
            let mut firsts: Vec<(i64, bool, i64)> = Vec::new();
            for (session, model, fast, q) in rows {
                if !self.wants(session) {
                    continue;
                }
                match firsts.iter_mut().find(|(m, f, _)| *m == model && *f == fast) {
                    Some(k) => k.2 = k.2.min(q),
                    None => firsts.push((model, fast, q)),
                }
            }
            self.quarters.insert(bucket, firsts);
        }
        Ok(self.quarters.get(&bucket).map_or(&[], Vec::as_slice))
    }

    /// The bucket's calls one by one, in time order, each as a row of its
    /// own (for a bucket that holds a block's last call and the next
    /// block's first).
    fn event_rows(&self, bucket: i64) -> Result<Vec<(i64, RollupRow)>> {
        let (lo, hi) = self.range(bucket);
        let rows = self.store.call_rows(lo, hi)?;
        let mut out = Vec::new();
        for (ts, session, model, fl, tokens, cost) in rows {
            if self.wants(session) {
                let name = self.models.get(&model).map_or("", String::as_str);
                out.push((ts, event_row(bucket, session, name, fl, &tokens, cost)));
            }
        }
        Ok(out)
    }
}

/// One call as a row of the rollup.
fn event_row(bucket: i64, session: i64, model: &str, fl: i64, tokens: &Tokens, cost: Option<f64>) -> RollupRow {
    RollupRow {
        bucket,
        span: 1,
        session,
        agent: Arc::from(""),
        model: Arc::from(model),
        flags: (fl & (flags::FAST | flags::MODEL_FALLBACK | flags::SYNTHETIC))
            | if cost.is_some() { flags::TRANSCRIPT_COST } else { 0 },
        events: 1,
        tokens: TieredTokens::of_event(tokens),
        transcript_cost: cost.unwrap_or(0.0),
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

/// Marks the block active, with its burn rate from its first to its last
/// call and a projection to its end (as ccusage: none while all its calls
/// are at one instant).
fn activate(b: &mut Block, first: i64, now_ms: i64) {
    b.is_active = true;
    let minutes = (b.actual_end.unwrap_or(first) - first) as f64 / 60_000.0;
    if minutes <= 0.0 {
        return;
    }
    let rate = BurnRate {
        tokens_per_minute: b.tokens.total() as f64 / minutes,
        tokens_per_minute_for_indicator: (b.tokens.input + b.tokens.output) as f64 / minutes,
        cost_per_hour: b.cost / minutes * 60.0,
    };
    let remaining = ((b.end - now_ms) as f64 / 60_000.0).round();
    b.projection = Some(Projection {
        total_tokens: (b.tokens.total() as f64 + rate.tokens_per_minute * remaining).round().max(0.0) as u64,
        total_cost: ((b.cost + rate.cost_per_hour / 60.0 * remaining) * 100.0).round() / 100.0,
        remaining_minutes: remaining.max(0.0) as i64,
    });
    b.burn_rate = Some(rate);
}

/// The blocks of single calls (of all history), in time order, kept by
/// their start as [`blocks`] keeps them: the definition, which [`blocks`]
/// must match (it is checked against this in the tests).
#[cfg(test)]
fn make_blocks(evs: &[EventRow], prices: &PriceBook, now_ms: i64, keep: (Option<i64>, Option<i64>)) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut cur: Option<Block> = None;
    let mut last_ts = i64::MIN;
    let mut first_of: Vec<i64> = Vec::new();
    for e in evs {
        let starts_new = match &cur {
            None => true,
            Some(b) => e.ts > b.end || e.ts - last_ts > BLOCK_MS,
        };
        if starts_new {
            if let Some(b) = cur.take() {
                out.push(b.close(last_ts));
                if e.ts - last_ts > BLOCK_MS {
                    out.push(Block::gap(last_ts, e.ts));
                    first_of.push(0);
                }
            }
            cur = Some(Block::new(e.ts - e.ts.rem_euclid(HOUR_MS)));
            first_of.push(e.ts);
        }
        let b = cur.as_mut().expect("a block is open");
        let new = b.add(&[event_row(0, e.session, &e.model, e.flags, &e.tokens, e.cost_usd)], prices);
        b.models.extend(new);
        last_ts = e.ts;
    }
    if let Some(b) = cur {
        out.push(b.close(last_ts));
    }
    if let Some(i) = active_block(&out, now_ms) {
        activate(&mut out[i], first_of[i], now_ms);
    }
    out.retain(|b| keep.0.is_none_or(|f| b.start >= f) && keep.1.is_none_or(|t| b.start < t));
    by_start(&mut out);
    out
}

/// A block as ccusage's `blocks --json` writes it, plus `modelBreakdowns`
/// (the daily report's fields) and `unpricedModels`.
pub fn block_json(b: &Block) -> serde_json::Value {
    let id = if b.is_gap { format!("gap-{}", iso(b.start)) } else { iso(b.start) };
    let breakdowns: Vec<serde_json::Value> = b.breakdown.iter().map(ModelUsage::breakdown_json).collect();
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
            "tokensPerMinuteForIndicator": r.tokens_per_minute_for_indicator,
            "costPerHour": r.cost_per_hour,
        })),
        "projection": b.projection.as_ref().map(|p| serde_json::json!({
            "totalTokens": p.total_tokens,
            "totalCost": p.total_cost,
            "remainingMinutes": p.remaining_minutes,
        })),
        "modelBreakdowns": breakdowns,
        "unpricedModels": b.unpriced,
    })
}

/// A token limit for blocks: a number, or `max`, the most tokens a finished
/// block used (of those listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLimit {
    Tokens(u64),
    Max,
}

impl TokenLimit {
    pub fn parse(s: &str) -> std::result::Result<TokenLimit, String> {
        match s {
            "max" => Ok(TokenLimit::Max),
            _ => s
                .parse::<u64>()
                .map(TokenLimit::Tokens)
                .map_err(|_| format!("'{s}' is not a token limit (a number of tokens, or max)")),
        }
    }

    /// The limit in tokens, given the blocks listed; none for `max` without
    /// a finished block.
    pub fn resolve(self, blocks: &[Block]) -> Option<u64> {
        match self {
            TokenLimit::Tokens(n) => Some(n),
            TokenLimit::Max => {
                blocks.iter().filter(|b| !b.is_gap && !b.is_active).map(|b| b.tokens.total()).max().filter(|n| *n > 0)
            }
        }
    }
}

/// How a block's projection compares with a token limit, as ccusage's
/// `tokenLimitStatus`: for a block with a projection (the active one).
pub fn token_limit_status(b: &Block, limit: u64) -> Option<serde_json::Value> {
    let p = b.projection.as_ref()?;
    Some(serde_json::json!({
        "limit": limit,
        "projectedUsage": p.total_tokens,
        "percentUsed": p.total_tokens as f64 / limit as f64 * 100.0,
        "status": token_limit_level(p.total_tokens, limit),
    }))
}

/// `exceeds`, `warning` (over [`TOKEN_LIMIT_WARNING`] of it) or `ok`: a
/// projection against a token limit, in ccusage's words.
pub fn token_limit_level(projected: u64, limit: u64) -> &'static str {
    if projected > limit {
        "exceeds"
    } else if projected as f64 > limit as f64 * TOKEN_LIMIT_WARNING {
        "warning"
    } else {
        "ok"
    }
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
        let b = make_blocks(&evs, &p, i64::MAX, (None, None));
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].entries, 3);
        assert_eq!(b[0].start, ev(0, 0).ts, "a block starts at the hour");
        assert_eq!(b[1].start, ev(300, 0).ts);
        assert!((b[0].cost - 0.009).abs() < 1e-12);
        assert!(!b[0].is_active && !b[1].is_active);
    }

    #[test]
    fn a_call_at_the_very_end_of_a_block_belongs_to_it() {
        // As ccusage: a new block once a call is more than 5 hours after the
        // block's start.
        let p = PriceBook::embedded();
        let mut after = ev(300, 1000);
        after.ts += 1;
        let b = make_blocks(&[ev(10, 1000), ev(300, 1000), after], &p, i64::MAX, (None, None));
        assert_eq!(b.iter().map(|b| b.entries).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(b[0].actual_end, Some(b[0].end));
        assert_eq!(b[1].start, ev(300, 0).ts);
    }

    #[test]
    fn a_long_pause_leaves_a_gap_from_when_the_block_expired() {
        let p = PriceBook::embedded();
        let b = make_blocks(&[ev(10, 10), ev(60 * 12, 10)], &p, i64::MAX, (None, None));
        assert_eq!(b.len(), 3);
        assert!(b[1].is_gap && b[1].entries == 0);
        // From the last call + 5 hours (ccusage), not from the last call.
        assert_eq!((b[1].start, b[1].end), (ev(10 + 300, 0).ts, ev(60 * 12, 0).ts));
        assert_eq!(b[1].actual_end, None);
    }

    #[test]
    fn blocks_are_listed_by_their_start() {
        // The gap starts at 5:10, when the first block expired; the next
        // block at 5:00, the hour of its first call: it is listed first (as
        // ccusage sorts blocks by their start).
        let p = PriceBook::embedded();
        let b = make_blocks(&[ev(10, 10), ev(330, 10)], &p, i64::MAX, (None, None));
        let kinds: Vec<(bool, i64)> = b.iter().map(|b| (b.is_gap, b.start)).collect();
        assert_eq!(kinds, [(false, ev(0, 0).ts), (false, ev(300, 0).ts), (true, ev(310, 0).ts)]);
        assert_eq!(b[2].end, ev(330, 0).ts);
    }

    #[test]
    fn synthetic_messages_are_entries_without_a_model_or_price() {
        let p = PriceBook::embedded();
        let mut syn = ev(20, 0);
        syn.model = crate::model::SYNTHETIC_MODEL.into();
        syn.flags = flags::SYNTHETIC;
        let b = make_blocks(&[ev(10, 1000), syn], &p, i64::MAX, (None, None));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].entries, 2);
        assert_eq!(b[0].actual_end, Some(ev(20, 0).ts));
        assert_eq!(b[0].models, ["claude-sonnet-4-5"]);
        assert!(b[0].unpriced.is_empty());
        assert_eq!(b[0].breakdown.len(), 1);
    }

    #[test]
    fn one_instant_gives_no_burn_rate() {
        // ccusage: a rate needs two instants.
        let p = PriceBook::embedded();
        let b = make_blocks(&[ev(0, 6000)], &p, ev(30, 0).ts, (None, None));
        assert!(b[0].is_active);
        assert!(b[0].burn_rate.is_none() && b[0].projection.is_none());
    }

    #[test]
    fn a_block_from_the_future_is_not_active() {
        let p = PriceBook::embedded();
        let now = ev(0, 0).ts;
        let b = make_blocks(&[ev(-360, 1000), ev(60 * 24 * 365 * 70, 1000)], &p, now, (None, None));
        assert_eq!(b.len(), 3);
        assert!(b.iter().all(|b| !b.is_active && b.projection.is_none()), "{b:?}");
        // Nor does it hide the block of now.
        let b = make_blocks(&[ev(-60, 6000), ev(-30, 6000), ev(60 * 24 * 365 * 70, 1000)], &p, now, (None, None));
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
                    _ => 1 + rnd(240_000) as i64,
                };
                if rnd(8) == 0 {
                    // On a whole hour (+0 to 3 ms by session): at a block's
                    // end, or just after it.
                    ts = ts - ts.rem_euclid(HOUR_MS) + HOUR_MS + s as i64 / 2;
                }
                last_ts = last_ts.max(ts);
                let synthetic = agent == "claude-code" && rnd(20) == 0;
                let model = if synthetic { crate::model::SYNTHETIC_MODEL } else { models[rnd(4) as usize] };
                records.push(Record::Usage(UsageEvent {
                    key: EventKey::of(&[&sid, &k.to_string()]),
                    session_external_id: Arc::from(sid.as_str()),
                    timestamp: chrono::DateTime::from_timestamp_millis(ts).unwrap(),
                    model: Arc::from(model),
                    model_fallback: false,
                    fast: rnd(4) == 0,
                    sidechain: false,
                    tokens: if synthetic {
                        Tokens::default()
                    } else {
                        Tokens { input: rnd(5000), output: rnd(3000), cache_read: rnd(300_000), ..Default::default() }
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
            ReportOptions { since: day(5), zone: utc, ..Default::default() },
            ReportOptions { until: day(3), agent: Some("codex".into()), zone: utc, ..Default::default() },
            ReportOptions { since: day(400), zone: utc, ..Default::default() },
            // Days that start at half past an hour: the window cuts hours.
            ReportOptions {
                since: day(1),
                until: day(10),
                zone: super::super::Zone::parse("Asia/Kolkata").unwrap(),
                ..Default::default()
            },
        ];
        let mut compared = 0;
        let (mut at_end, mut synthetic) = (0, 0);
        for opts in &optss {
            // The definition: every call of the agent (Claude Code unless
            // named), blocks kept by their start.
            let window = opts.usage_filter();
            let f = UsageFilter {
                agent: Some(opts.agent.clone().unwrap_or_else(|| BLOCKS_AGENT.into())),
                project: opts.project.clone(),
                synthetic: true,
                ..Default::default()
            };
            let evs = events(&store, &f).unwrap();
            let nows = [t0 - HOUR_MS, t0 + 3 * HOUR_MS, last_ts + 60_000, last_ts + 6 * HOUR_MS, t0 + 86_400_000 * 5];
            for now in nows {
                let want = make_blocks(&evs, &prices, now, (window.from_ms, window.to_ms));
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
                    for (a, b) in g.breakdown.iter().zip(&w.breakdown) {
                        assert!(close(a.summary.cost, b.summary.cost), "{a:?}\n{b:?}");
                    }
                    let strip = |b: &Block| Block {
                        cost: 0.0,
                        burn_rate: None,
                        projection: None,
                        breakdown: b
                            .breakdown
                            .iter()
                            .map(|m| {
                                let mut m = m.clone();
                                m.summary.cost = 0.0;
                                m
                            })
                            .collect(),
                        ..b.clone()
                    };
                    assert_eq!(strip(g), strip(w), "{opts:?} at {now}");
                    at_end += usize::from(w.actual_end == Some(w.end));
                }
                compared += want.len();
            }
            synthetic += evs.iter().filter(|e| e.flags & flags::SYNTHETIC != 0).count();
        }
        assert!(compared > 100, "enough blocks to compare: {compared}");
        assert!(at_end > 0 && synthetic > 0, "calls at a block's very end ({at_end}), synthetic ones ({synthetic})");
    }

    #[test]
    fn the_current_block_gets_a_burn_rate_and_projection() {
        let p = PriceBook::embedded();
        let evs = [ev(0, 6000), ev(60, 6000)];
        let now = ev(120, 0).ts;
        let b = make_blocks(&evs, &p, now, (None, None));
        let blk = &b[0];
        assert!(blk.is_active);
        let r = blk.burn_rate.as_ref().unwrap();
        assert!((r.tokens_per_minute - 200.0).abs() < 1e-9);
        let proj = blk.projection.as_ref().unwrap();
        assert_eq!(proj.remaining_minutes, 180);
        assert_eq!(proj.total_tokens, 12_000 + 200 * 180);
    }
}
