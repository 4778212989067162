//! Cost and usage reports over the store: per day, week, month, session,
//! 5-hour billing block, and agent. Reports read the rollup (never the raw events,
//! except blocks, which need exact times), so they cost the same however much
//! history there is.

mod agents;
mod blocks;
mod periods;
mod sessions;
mod summary;

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Local, NaiveDate, Offset, TimeZone, Utc};

pub use agents::{AgentUsage, CostProvenance, usage_per_agent};
pub use blocks::{
    BLOCK_HOURS, BLOCKS_AGENT, Block, BurnRate, Projection, TOKEN_LIMIT_WARNING, TokenLimit, block_json, blocks,
    token_limit_level, token_limit_status,
};
pub use periods::{Period, PeriodReport, PeriodRow, period_report};
pub use sessions::{SessionUsage, session_report};
pub use summary::{Budget, Budgets, CostGroup, CostSummary, DayPoint, Range, cost_summary};

use crate::error::{Error, Result};
use crate::model::Tokens;
use crate::pricing::PriceSource;
use crate::store::{RollupRow, UsageFilter};

/// The timezone dates are grouped in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// The system's zone (`TZ`, or `/etc/localtime`).
    Local,
    Named(chrono_tz::Tz),
}

impl Zone {
    /// `local`, `UTC`, or an IANA name such as `Europe/Berlin`.
    pub fn parse(s: &str) -> Result<Zone> {
        if s.eq_ignore_ascii_case("local") {
            return Ok(Zone::Local);
        }
        // IANA names in any case (`utc`, `europe/berlin`), as people type them.
        let exact = s.parse::<chrono_tz::Tz>().ok();
        let any_case = || chrono_tz::TZ_VARIANTS.iter().copied().find(|tz| tz.name().eq_ignore_ascii_case(s));
        exact.or_else(any_case).map(Zone::Named).ok_or_else(|| {
            Error::Usage(format!("unknown timezone '{s}' (use an IANA name such as Europe/Berlin, or UTC)"))
        })
    }

    pub fn name(&self) -> String {
        match self {
            Zone::Local => "local".into(),
            Zone::Named(tz) => tz.name().into(),
        }
    }

    /// The calendar date of an instant.
    pub fn date_of(&self, ms: i64) -> NaiveDate {
        let utc = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
        match self {
            Zone::Local => utc.with_timezone(&Local).date_naive(),
            Zone::Named(tz) => utc.with_timezone(tz).date_naive(),
        }
    }

    /// The instant a calendar date starts (its first valid local time).
    pub fn start_of(&self, d: NaiveDate) -> i64 {
        fn first<Tz: TimeZone>(tz: &Tz, d: NaiveDate) -> i64 {
            // Midnight may not exist (DST jumps); take the first instant of the day.
            for minutes in (0..=180).step_by(15) {
                let t = d.and_hms_opt(0, 0, 0).expect("midnight") + chrono::Duration::minutes(minutes);
                if let Some(dt) = tz.from_local_datetime(&t).earliest() {
                    return dt.timestamp_millis();
                }
            }
            let fixed = tz.offset_from_utc_date(&d).fix();
            d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis()
                - i64::from(fixed.local_minus_utc()) * 1000
        }
        match self {
            Zone::Local => first(&Local, d),
            Zone::Named(tz) => first(tz, d),
        }
    }

    /// Whether the hour starting at `start_ms` lies within one calendar day
    /// (no midnight at :15, :30 or :45, as in a zone offset by whole hours):
    /// a report by day can read it as one row of the hourly rollup.
    pub fn whole_hour(&self, start_ms: i64) -> bool {
        let d = self.date_of(start_ms);
        (1..4).all(|q| self.date_of(start_ms + q * crate::store::BUCKET_MS) == d)
    }

    /// Today's date in this zone.
    pub fn today(&self) -> NaiveDate {
        self.date_of(Utc::now().timestamp_millis())
    }

    /// An instant formatted in this zone.
    pub fn format(&self, ms: i64, fmt: &str) -> String {
        let utc = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
        match self {
            Zone::Local => utc.with_timezone(&Local).format(fmt).to_string(),
            Zone::Named(tz) => utc.with_timezone(tz).format(fmt).to_string(),
        }
    }
}

/// What a report covers.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Agent type id.
    pub agent: Option<String>,
    /// Project path text to match.
    pub project: Option<String>,
    pub zone: Zone,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { since: None, until: None, agent: None, project: None, zone: Zone::Local }
    }
}

impl ReportOptions {
    /// The store filter for these options (the time window is in UTC ms).
    pub fn usage_filter(&self) -> UsageFilter {
        UsageFilter {
            from_ms: self.since.map(|d| self.zone.start_of(d)),
            to_ms: self.until.and_then(|d| d.succ_opt()).map(|d| self.zone.start_of(d)),
            agent: self.agent.clone(),
            project: self.project.clone(),
            session: None,
            synthetic: false,
        }
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.since.is_none_or(|s| d >= s) && self.until.is_none_or(|u| d <= u)
    }
}

/// Token and cost sums with their provenance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub events: u64,
    pub tokens: Tokens,
    /// The cost of everything priced.
    pub cost: f64,
    /// Whether anything at all was priced.
    pub priced: bool,
    /// Models counted in tokens but without a price.
    pub unpriced: BTreeSet<String>,
    pub sources: BTreeSet<PriceSource>,
}

impl Summary {
    /// The cost, or `None` when nothing was priced but something was used.
    pub fn cost(&self) -> Option<f64> {
        (self.priced || self.unpriced.is_empty()).then_some(self.cost)
    }

    /// Where the figures come from, e.g. `snapshot 2026-09-20 + transcript`.
    pub fn source_text(&self) -> String {
        let mut v: Vec<String> = self.sources.iter().map(|s| s.to_string()).collect();
        if !self.unpriced.is_empty() {
            v.push(PriceSource::Unknown.to_string());
        }
        v.join(" + ")
    }

    pub fn add(&mut self, o: &Summary) {
        self.events += o.events;
        self.tokens.add(&o.tokens);
        self.cost += o.cost;
        self.priced |= o.priced;
        self.unpriced.extend(o.unpriced.iter().cloned());
        self.sources.extend(o.sources.iter().cloned());
    }

    /// Adds a row whose cost is already worked out (one price lookup for
    /// every summary the row counts in).
    fn add_priced(&mut self, r: &RollupRow, c: &crate::pricing::GroupCost) {
        self.events += r.events;
        self.tokens.add(&r.tokens.tokens);
        match c.usd {
            Some(usd) => {
                self.cost += usd;
                self.priced = true;
                if !self.sources.contains(&c.source) {
                    self.sources.insert(c.source.clone());
                }
            }
            None => {
                self.unpriced.insert(r.display_model());
            }
        }
    }
}

/// Usage of one model within a report row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelUsage {
    /// As reported: with `-fast` for fast-mode calls.
    pub model: String,
    pub summary: Summary,
    /// The model name was not in the log; a default was assumed.
    pub fallback: bool,
}

impl ModelUsage {
    /// One entry of a report's `modelBreakdowns`, with ccusage's field names
    /// (plus `priceSource`, and `isFallback` when the model was assumed).
    pub fn breakdown_json(&self) -> serde_json::Value {
        let t = &self.summary.tokens;
        let mut o = serde_json::json!({
            "modelName": self.model,
            "inputTokens": t.input,
            "outputTokens": t.output,
            "cacheCreationTokens": t.cache_creation(),
            "cacheReadTokens": t.cache_read,
            "reasoningOutputTokens": t.reasoning,
            "cost": self.summary.cost(),
            "priceSource": self.summary.source_text(),
        });
        if self.fallback {
            o["isFallback"] = serde_json::json!(true);
        }
        o
    }
}

/// Groups rollup rows by model, costliest first, with their total.
pub fn models_of(rows: &[RollupRow], prices: &crate::pricing::PriceBook) -> (Summary, Vec<ModelUsage>) {
    let mut total = Summary::default();
    let mut models: Vec<ModelUsage> = Vec::new();
    for r in rows {
        let name = r.display_model();
        let i = match models.iter().position(|m| m.model == name) {
            Some(i) => i,
            None => {
                models.push(ModelUsage { model: name, ..Default::default() });
                models.len() - 1
            }
        };
        let c = r.cost(prices);
        models[i].summary.add_priced(r, &c);
        models[i].fallback |= r.fallback();
        total.add_priced(r, &c);
    }
    models.sort_by(|a, b| b.summary.cost.total_cmp(&a.summary.cost).then_with(|| a.model.cmp(&b.model)));
    (total, models)
}

/// The Monday that starts the week of `d`.
pub fn week_start(d: NaiveDate) -> NaiveDate {
    d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_group_by_their_own_calendar() {
        let z = Zone::parse("Asia/Kolkata").unwrap(); // +05:30
        let ms = DateTime::parse_from_rfc3339("2026-11-20T19:00:00Z").unwrap().timestamp_millis();
        assert_eq!(z.date_of(ms), NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        assert_eq!(Zone::parse("UTC").unwrap().date_of(ms), NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
        let start = z.start_of(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        assert_eq!(start, DateTime::parse_from_rfc3339("2026-11-20T18:30:00Z").unwrap().timestamp_millis());
        assert!(Zone::parse("Mars/Olympus").unwrap_err().is_usage());
    }

    #[test]
    fn start_of_day_survives_a_dst_gap_at_midnight() {
        // Chile skipped from 00:00 to 01:00 on 2026-09-06.
        let z = Zone::parse("America/Santiago").unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let s = z.start_of(d);
        assert_eq!(z.date_of(s), d);
        assert_eq!(z.date_of(s - 1), d.pred_opt().unwrap());
    }

    #[test]
    fn weeks_start_on_monday() {
        let fri = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        assert_eq!(week_start(fri), NaiveDate::from_ymd_opt(2026, 11, 16).unwrap());
        assert_eq!(
            week_start(NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()),
            NaiveDate::from_ymd_opt(2026, 11, 16).unwrap()
        );
    }
}
