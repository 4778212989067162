//! Cost summaries over a range of days: totals; by agent, model and project;
//! a point per day; provenance; budget progress. One shape for the HTTP API,
//! the MCP `get_cost_summary` tool and the desktop app.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use super::{ReportOptions, Summary, Zone};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::pricing::{PriceBook, PriceSource};
use crate::store::{BUCKET_MS, RollupGroup, Store, rollup_hourly};
use crate::views::TokenView;

/// A range of calendar days, in a timezone, ending today unless named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Today,
    Yesterday,
    /// The last 7 days, today included (also `week`).
    Days7,
    /// The last 30 days, today included (also `month`).
    Days30,
    ThisMonth,
    LastMonth,
    All,
}

impl Range {
    pub const NAMES: &'static str = "today, yesterday, 7d, week, 30d, month, thismonth, lastmonth, all";

    pub fn parse(s: &str) -> Result<Range> {
        Ok(match s {
            "today" => Range::Today,
            "yesterday" => Range::Yesterday,
            "7d" | "week" => Range::Days7,
            "30d" | "month" => Range::Days30,
            "thismonth" => Range::ThisMonth,
            "lastmonth" => Range::LastMonth,
            "all" => Range::All,
            _ => return Err(Error::Usage(format!("unknown range '{s}' (expected one of: {})", Range::NAMES))),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Range::Today => "today",
            Range::Yesterday => "yesterday",
            Range::Days7 => "7d",
            Range::Days30 => "30d",
            Range::ThisMonth => "thismonth",
            Range::LastMonth => "lastmonth",
            Range::All => "all",
        }
    }

    /// The first and last day, inclusive (`None`: unbounded).
    pub fn days(self, today: NaiveDate) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let first_of = |d: NaiveDate| d.with_day(1).expect("day 1 exists");
        match self {
            Range::Today => (Some(today), Some(today)),
            Range::Yesterday => {
                let y = today - Duration::days(1);
                (Some(y), Some(y))
            }
            Range::Days7 => (Some(today - Duration::days(6)), Some(today)),
            Range::Days30 => (Some(today - Duration::days(29)), Some(today)),
            Range::ThisMonth => (Some(first_of(today)), Some(today)),
            Range::LastMonth => {
                let last = first_of(today) - Duration::days(1);
                (Some(first_of(last)), Some(last))
            }
            Range::All => (None, None),
        }
    }

    /// The range as instants: [from, to) in ms.
    pub fn window(self, zone: Zone, now_ms: i64) -> (Option<i64>, Option<i64>) {
        let (a, b) = self.days(zone.date_of(now_ms));
        (a.map(|d| zone.start_of(d)), b.and_then(|d| d.succ_opt()).map(|d| zone.start_of(d)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostGroup {
    pub key: String,
    pub label: String,
    pub cost: Option<f64>,
    pub tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayPoint {
    pub date: String,
    pub cost: f64,
    pub tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    pub limit_usd: Option<f64>,
    pub spent_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Budgets {
    pub daily: Budget,
    pub monthly: Budget,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostSummary {
    pub range: String,
    /// First and last day (YYYY-MM-DD, local), inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub total_cost: f64,
    pub tokens: TokenView,
    pub by_agent: Vec<CostGroup>,
    pub by_model: Vec<CostGroup>,
    pub by_project: Vec<CostGroup>,
    /// Every day of the range, oldest first; for a range longer than
    /// [`MAX_SERIES_DAYS`], only the days with usage.
    pub daily: Vec<DayPoint>,
    pub price_sources: Vec<String>,
    pub unpriced_models: Vec<String>,
    pub budgets: Budgets,
}

/// The most days a summary lists one by one. All-time usage stamped
/// centuries apart (a skewed clock, a bad line) would otherwise list millions
/// of empty days; past this, only the days with usage are listed.
pub const MAX_SERIES_DAYS: i64 = 3660;

/// The cost summary of a range, in `zone`.
pub fn cost_summary(
    store: &Store,
    prices: &PriceBook,
    cfg: &Config,
    range: Range,
    zone: Zone,
    now_ms: i64,
) -> Result<CostSummary> {
    let today = zone.date_of(now_ms);
    let (first, last) = range.days(today);
    let opts = ReportOptions { since: first, until: last, zone, ..Default::default() };
    let rows = rollup_hourly(store, &opts.usage_filter(), RollupGroup::BucketSession, &|h| zone.whole_hour(h))?;
    // Every session's project, in one query (not one per session).
    let projects: HashMap<i64, String> = store.session_projects()?;
    let mut total = Summary::default();
    let mut by_agent: BTreeMap<String, Summary> = BTreeMap::new();
    let mut by_model: BTreeMap<String, Summary> = BTreeMap::new();
    let mut by_project: BTreeMap<String, Summary> = BTreeMap::new();
    let mut by_day: BTreeMap<NaiveDate, Summary> = BTreeMap::new();
    let mut day_of: Option<(i64, NaiveDate)> = None;
    for r in &rows {
        // Rows come by bucket: each bucket's date is worked out once.
        let day = match day_of {
            Some((b, d)) if b == r.bucket => d,
            _ => {
                let d = zone.date_of(r.bucket * BUCKET_MS);
                day_of = Some((r.bucket, d));
                d
            }
        };
        let project = projects.get(&r.session).map_or("", String::as_str);
        let c = r.cost(prices);
        total.add_priced(r, &c);
        by_day.entry(day).or_default().add_priced(r, &c);
        for (m, key) in [(&mut by_agent, &*r.agent), (&mut by_project, project)] {
            match m.get_mut(key) {
                Some(s) => s.add_priced(r, &c),
                None => m.entry(key.to_string()).or_default().add_priced(r, &c),
            }
        }
        by_model.entry(r.display_model()).or_default().add_priced(r, &c);
    }
    let groups = |m: BTreeMap<String, Summary>, label: &dyn Fn(&str) -> String| {
        let mut v: Vec<CostGroup> = m
            .into_iter()
            .map(|(k, s)| CostGroup { label: label(&k), cost: s.cost(), tokens: s.tokens.total(), key: k })
            .collect();
        v.sort_by(|a, b| b.cost.unwrap_or(0.0).total_cmp(&a.cost.unwrap_or(0.0)).then(b.tokens.cmp(&a.tokens)));
        v
    };
    let first = first.or_else(|| by_day.keys().next().copied());
    let last = last.or_else(|| by_day.keys().next_back().copied());
    let point = |d: NaiveDate, s: Option<&Summary>| DayPoint {
        date: d.format("%Y-%m-%d").to_string(),
        cost: s.map_or(0.0, |s| s.cost),
        tokens: s.map_or(0, |s| s.tokens.total()),
    };
    let mut daily = Vec::new();
    match (first, last) {
        (Some(a), Some(b)) if (b - a).num_days() < MAX_SERIES_DAYS => {
            let mut d = a;
            while d <= b {
                daily.push(point(d, by_day.get(&d)));
                d += Duration::days(1);
            }
        }
        (Some(_), Some(_)) => daily.extend(by_day.iter().map(|(d, s)| point(*d, Some(s)))),
        _ => {}
    }
    let (spent_today, spent_month) = spent(store, prices, zone, today)?;
    let project_label =
        |p: &str| if p.is_empty() { "(no project)".to_string() } else { p.rsplit('/').next().unwrap_or(p).to_string() };
    Ok(CostSummary {
        range: range.name().to_string(),
        from: first.map(|d| d.format("%Y-%m-%d").to_string()),
        to: last.map(|d| d.format("%Y-%m-%d").to_string()),
        total_cost: total.cost,
        tokens: TokenView::from(&total.tokens),
        by_agent: groups(by_agent, &|a| crate::model::agent_display_name(a).to_string()),
        by_model: groups(by_model, &|m| m.to_string()),
        by_project: groups(by_project, &project_label),
        daily,
        price_sources: total.sources.iter().map(PriceSource::to_string).collect(),
        unpriced_models: total.unpriced.iter().cloned().collect(),
        budgets: Budgets {
            daily: Budget { limit_usd: cfg.budgets.daily_usd, spent_usd: spent_today },
            monthly: Budget { limit_usd: cfg.budgets.monthly_usd, spent_usd: spent_month },
        },
    })
}

/// What today and this month cost, counted as the budget alerts count it
/// (`period_report` by month).
fn spent(store: &Store, prices: &PriceBook, zone: Zone, today: NaiveDate) -> Result<(f64, f64)> {
    let (first, last) = Range::ThisMonth.days(today);
    let opts = ReportOptions { since: first, until: last, zone, ..Default::default() };
    let month = super::period_report(store, prices, &opts, super::Period::Month)?.totals.cost;
    let (a, b) = Range::Today.days(today);
    let opts = ReportOptions { since: a, until: b, zone, ..Default::default() };
    let day = super::period_report(store, prices, &opts, super::Period::Month)?.totals.cost;
    Ok((day, month))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventKey, Tokens, UsageEvent};
    use crate::sources::Record;
    use crate::store::{FileCursor, IngestWriter};

    #[test]
    fn an_all_time_summary_stays_small_when_usage_is_centuries_apart() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("a.db")).unwrap();
        let prices = PriceBook::embedded();
        let ev = |key: &str, ts: &str| {
            Record::Usage(UsageEvent {
                key: EventKey::of(&[key]),
                session_external_id: "s".into(),
                timestamp: crate::sources::parse_ts(ts).unwrap(),
                model: "claude-sonnet-4-5".into(),
                model_fallback: false,
                fast: false,
                sidechain: false,
                tokens: Tokens { input: 1000, ..Default::default() },
                cost_usd: None,
            })
        };
        let cursor = FileCursor { path: "x".into(), agent: "claude-code".into(), ..Default::default() };
        let mut w = IngestWriter::new(&store, &prices).unwrap();
        let records =
            [ev("a", "0001-01-01T00:00:00Z"), ev("b", "2026-11-20T10:00:00Z"), ev("c", "9999-12-31T00:00:00Z")];
        w.apply("claude-code", &records, &cursor, None).unwrap();
        w.finish().unwrap();
        let utc = Zone::parse("UTC").unwrap();
        let now = crate::sources::parse_ts("2026-11-21T00:00:00Z").unwrap().timestamp_millis();
        let s = cost_summary(&store, &prices, &Config::default(), Range::All, utc, now).unwrap();
        let days: Vec<&str> = s.daily.iter().map(|d| d.date.as_str()).collect();
        assert_eq!(days, ["0001-01-01", "2026-11-20", "9999-12-31"], "only the days with usage");
        assert_eq!(s.tokens.input, 3000, "all of it counted");
        assert_eq!((s.from.as_deref(), s.to.as_deref()), (Some("0001-01-01"), Some("9999-12-31")));
        // A range of ordinary length still lists every day.
        let s = cost_summary(&store, &prices, &Config::default(), Range::Days7, utc, now).unwrap();
        assert_eq!(s.daily.len(), 7);
    }

    #[test]
    fn ranges_are_calendar_days() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(Range::Today.days(today), (Some(today), Some(today)));
        assert_eq!(Range::parse("week").unwrap().days(today), (Some(d(3, 9)), Some(today)));
        assert_eq!(Range::Days30.days(today).0, Some(d(2, 14)));
        assert_eq!(Range::ThisMonth.days(today), (Some(d(3, 1)), Some(today)));
        assert_eq!(Range::LastMonth.days(today), (Some(d(2, 1)), Some(d(2, 28))));
        assert_eq!(Range::All.days(today), (None, None));
        assert!(Range::parse("fortnight").unwrap_err().is_usage());
    }
}
