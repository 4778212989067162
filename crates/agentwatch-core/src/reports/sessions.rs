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

impl SessionUsage {
    /// The session as ccusage names it (its `period`): a Codex rollout's path
    /// under `sessions/` (or `archived_sessions/`) without `.jsonl`, such as
    /// `2026/11/20/rollout-2026-11-20T11-00-00-<id>`; else the session id.
    pub fn period(&self) -> String {
        let s = &self.session;
        if s.agent == "codex"
            && let Some(path) = s.transcript_path.as_deref()
        {
            // Below the last of either folder in the path.
            let below = |dir: &str| path.rfind(dir).map(|i| i + dir.len());
            if let Some(i) = below("/sessions/").max(below("/archived_sessions/")) {
                let rest = &path[i..];
                return rest.strip_suffix(".jsonl").unwrap_or(rest).to_string();
            }
        }
        s.id.clone()
    }
}

/// Usage per session within the report's window, costliest first (an
/// unknown cost counts as 0), then by [`SessionUsage::period`]: ccusage's
/// order.
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
    let out: Vec<SessionUsage> = sessions
        .into_iter()
        .filter_map(|s| {
            let rows = per.get(&s.pk)?;
            let (summary, models) = models_of(rows, prices);
            Some(SessionUsage { session: s, summary, models })
        })
        .collect();
    let mut keyed: Vec<(String, SessionUsage)> = out.into_iter().map(|s| (s.period(), s)).collect();
    keyed.sort_by(|(pa, a), (pb, b)| {
        let cost = |s: &SessionUsage| s.summary.cost().unwrap_or(0.0);
        cost(b).total_cmp(&cost(a)).then_with(|| pa.cmp(pb)).then_with(|| a.session.pk.cmp(&b.session.pk))
    });
    Ok(keyed.into_iter().map(|(_, s)| s).collect())
}
