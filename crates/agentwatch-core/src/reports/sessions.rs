//! Usage per session.

use std::collections::BTreeMap;

use super::{ModelUsage, ReportOptions, Summary, models_of};
use crate::error::Result;
use crate::pricing::PriceBook;
use crate::store::{RollupGroup, RollupRow, SessionFilter, SessionRow, Store, list_sessions, rollup_hourly};

#[derive(Debug, Clone, PartialEq)]
pub struct SessionUsage {
    pub session: SessionRow,
    pub summary: Summary,
    pub models: Vec<ModelUsage>,
}

/// Usage per session within the report's window, least recently active first.
pub fn session_report(store: &Store, prices: &PriceBook, opts: &ReportOptions) -> Result<Vec<SessionUsage>> {
    let filter = opts.usage_filter();
    let mut per: BTreeMap<i64, Vec<RollupRow>> = BTreeMap::new();
    // Sums per session: any hour can be read whole.
    for r in rollup_hourly(store, &filter, RollupGroup::Session, &|_| true)? {
        per.entry(r.session).or_default().push(r);
    }
    let sessions = list_sessions(
        store,
        &SessionFilter {
            agent_type: opts.agent.clone(),
            project: opts.project.clone(),
            from_ms: filter.from_ms,
            to_ms: filter.to_ms,
            ..Default::default()
        },
    )?;
    let mut out: Vec<SessionUsage> = sessions
        .into_iter()
        .filter_map(|s| {
            let rows = per.get(&s.pk)?;
            let (summary, models) = models_of(rows, prices);
            Some(SessionUsage { session: s, summary, models })
        })
        .collect();
    out.sort_by_key(|s| (s.session.last_activity, s.session.pk));
    Ok(out)
}
