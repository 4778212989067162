//! Usage per day, week (starting Monday) or month, in a timezone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::{ModelUsage, ReportOptions, Summary, models_of, week_start};
use crate::error::Result;
use crate::pricing::PriceBook;
use crate::store::{BUCKET_MS, RollupGroup, RollupRow, Store, rollup_hourly};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    /// The period's label: `2026-11-20`, the week's Monday, or `2026-11`.
    pub fn key(self, d: NaiveDate) -> String {
        match self {
            Period::Day => d.format("%Y-%m-%d").to_string(),
            Period::Week => week_start(d).format("%Y-%m-%d").to_string(),
            Period::Month => d.format("%Y-%m").to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PeriodRow {
    pub period: String,
    pub agents: BTreeSet<String>,
    pub summary: Summary,
    pub models: Vec<ModelUsage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PeriodReport {
    pub period: Period,
    /// Oldest first.
    pub rows: Vec<PeriodRow>,
    pub totals: Summary,
}

pub fn period_report(store: &Store, prices: &PriceBook, opts: &ReportOptions, period: Period) -> Result<PeriodReport> {
    let rows = rollup_hourly(store, &opts.usage_filter(), RollupGroup::Bucket, &|h| opts.zone.whole_hour(h))?;
    let mut groups: BTreeMap<String, Vec<RollupRow>> = BTreeMap::new();
    // Rows come by bucket: each bucket's period is worked out once.
    let mut last: Option<(i64, Option<String>)> = None;
    for r in rows {
        if last.as_ref().is_none_or(|(b, _)| *b != r.bucket) {
            let date = opts.zone.date_of(r.bucket * BUCKET_MS);
            last = Some((r.bucket, opts.contains(date).then(|| period.key(date))));
        }
        if let Some((_, Some(key))) = &last {
            match groups.get_mut(key) {
                Some(v) => v.push(r),
                None => {
                    groups.insert(key.clone(), vec![r]);
                }
            }
        }
    }
    let mut out = PeriodReport { period, rows: Vec::new(), totals: Summary::default() };
    for (key, rows) in groups {
        let (summary, models) = models_of(&rows, prices);
        out.totals.add(&summary);
        out.rows.push(PeriodRow {
            period: key,
            agents: rows.iter().map(|r| &*r.agent).collect::<BTreeSet<&str>>().into_iter().map(String::from).collect(),
            summary,
            models,
        });
    }
    Ok(out)
}
