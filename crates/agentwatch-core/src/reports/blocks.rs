//! 5-hour billing blocks, as Anthropic's plans meter usage and ccusage shows
//! them.
//!
//! A block starts at the hour of its first call (UTC) and lasts 5 hours. A
//! call starts a new block when it falls after the current block's end or
//! more than 5 hours after the previous call; the idle time between two
//! blocks is reported as a gap. The block that contains "now" and had a call
//! within the last 5 hours is active: it gets a burn rate and a projection to
//! its end.

use std::collections::BTreeSet;

use super::ReportOptions;
use crate::error::Result;
use crate::model::Tokens;
use crate::pricing::{PriceBook, TieredTokens, display_model};
use crate::store::{EventRow, Store, events, flags};
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
pub fn blocks(store: &Store, prices: &PriceBook, opts: &ReportOptions, now_ms: i64) -> Result<Vec<Block>> {
    let evs = events(store, &opts.usage_filter())?;
    Ok(make_blocks(&evs, prices, now_ms))
}

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
    // The active block is the one that contains now: not one from the
    // future (stamped by a skewed clock), which would project its burn rate
    // over years, and whose calls must not hide the current block either.
    let active = out.iter_mut().find(|b| {
        !b.is_gap && b.start <= now_ms && now_ms < b.end && b.actual_end.is_some_and(|t| now_ms - t < BLOCK_MS)
    });
    if let Some(b) = active {
        b.is_active = true;
        let first = evs.get(evs.partition_point(|e| e.ts < b.start)).map_or(b.start, |e| e.ts);
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
