//! The query plans of the reads behind what users look at (session list,
//! search and paging, session detail, cost reports, fleet health), from
//! `EXPLAIN QUERY PLAN`. A test checks that none of them scans a big table
//! whole where an index would do; `bench/scale` prints them next to its
//! timings.

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use super::Store;
use super::sessions::{SessionFilter, count_sql, find_sql, list_sql};
use super::usage::{STALE_COSTS_SQL, UsageFilter, events_sql, hourly_sql, rollup_sql};
use crate::error::Result;
use crate::model::SessionState;

/// One query and its plan, a line per step (nested steps indented).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    pub name: String,
    pub sql: String,
    pub plan: Vec<String>,
}

/// The plans of the key queries, with representative parameters.
pub fn query_plans(store: &Store) -> Result<Vec<QueryPlan>> {
    const DAY: i64 = 86_400_000;
    let now = crate::util::now_ms();
    let live: Vec<SessionState> = SessionState::ALL.into_iter().filter(|s| s.is_live()).collect();
    let page = |f: SessionFilter| SessionFilter { limit: Some(100), ..f };
    let week = SessionFilter { from_ms: Some(now - 7 * DAY), to_ms: Some(now), ..Default::default() };
    let live_f = SessionFilter { states: live, not_archived: true, ..Default::default() };
    let since = UsageFilter { from_ms: Some(now - 7 * DAY), to_ms: Some(now + DAY), ..Default::default() };
    let (find_exact, find_prefix) = find_sql();
    let text = |s: &str| vec![Value::Text(s.into())];
    let int = |i: i64| vec![Value::Integer(i)];
    let queries: Vec<(&str, (String, Vec<Value>))> = vec![
        ("session list", list_sql(&SessionFilter::default())),
        ("session list, a page", list_sql(&page(SessionFilter { offset: Some(900), ..Default::default() }))),
        ("session count", count_sql(&SessionFilter::default())),
        ("session list, a range", list_sql(&page(week.clone()))),
        ("session count, a range", count_sql(&week)),
        ("session list, live", list_sql(&page(live_f.clone()))),
        ("session count, live", count_sql(&live_f)),
        ("session list, active since", list_sql(&SessionFilter { active_since: Some(now), ..Default::default() })),
        ("session list, search", list_sql(&page(SessionFilter { search: Some("web".into()), ..Default::default() }))),
        ("find session", (find_exact, text("a3f9"))),
        ("find session by prefix", (find_prefix, text("a3f9"))),
        ("session usage", rollup_sql(&UsageFilter { session: Some(1), ..Default::default() })),
        ("usage, a range", rollup_sql(&since)),
        ("usage by hour, a range", hourly_sql(Some(1), None)),
        ("usage events, a range", events_sql(&since)),
        ("state history", (super::live::STATE_HISTORY_SQL.into(), int(1))),
        ("tool calls", (super::live::TOOL_CALLS_SQL.into(), vec![Value::Integer(1), Value::Integer(200)])),
        ("session alerts", (super::SESSION_ALERTS_SQL.into(), int(1))),
        ("sessions without a cost", (STALE_COSTS_SQL.into(), vec![])),
        ("plan windows", (super::limits::latest_sql(), vec![])),
        (
            "a plan window's tokens by session",
            (
                super::limits::WINDOW_TOKENS_SQL.into(),
                vec![Value::Text("claude-code".into()), Value::Integer((now - 5 * 3_600_000) / super::BUCKET_MS)],
            ),
        ),
    ];
    queries.into_iter().map(|(name, (sql, args))| plan(store, name, &sql, args)).collect()
}

fn plan(store: &Store, name: &str, sql: &str, args: Vec<Value>) -> Result<QueryPlan> {
    let mut st = store.conn().prepare(&format!("EXPLAIN QUERY PLAN {sql}")).map_err(|e| store.err(e))?;
    let rows = st
        .query_map(params_from_iter(args), |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(3)?)))
        .map_err(|e| store.err(e))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| store.err(e))?;
    // Indent each step under its parent.
    let mut depth: Vec<(i64, usize)> = Vec::new();
    let mut plan = Vec::new();
    for (id, parent, detail) in rows {
        let d = depth.iter().find(|(i, _)| *i == parent).map_or(0, |(_, d)| d + 1);
        depth.push((id, d));
        plan.push(format!("{}{detail}", "  ".repeat(d)));
    }
    Ok(QueryPlan { name: name.into(), sql: sql.split_whitespace().collect::<Vec<_>>().join(" "), plan })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables that grow with use: reading one of them whole where an index
    /// would do makes a query slow at scale (1,000,000 usage events).
    const BIG: &[&str] =
        &["usage_events", "usage_rollup", "usage_rollup_hour", "state_changes", "tool_calls", "alerts", "events"];

    /// The steps that read a big table (or all of one of its indexes)
    /// from end to end: `SCAN <table or its alias>`, with or without an index.
    fn full_scans(p: &QueryPlan) -> Vec<String> {
        const ALIASES: &[&str] = &["e", "r", "c", "a"];
        p.plan
            .iter()
            .map(|l| l.trim())
            .filter(|l| {
                let what = l.strip_prefix("SCAN ").and_then(|r| r.split_whitespace().next()).unwrap_or("");
                BIG.contains(&what) || ALIASES.contains(&what)
            })
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_key_queries_use_indexes() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open(&t.path().join("a.db")).unwrap();
        let plans = query_plans(&store).unwrap();
        let show = |p: &QueryPlan| format!("{}: {}\n  {}", p.name, p.sql, p.plan.join("\n  "));
        for p in &plans {
            assert!(full_scans(p).is_empty(), "a full scan of a big table:\n{}", show(p));
            // Every query finds its rows through an index.
            assert!(
                p.plan.iter().any(|l| l.contains("USING INDEX")
                    || l.contains("USING COVERING INDEX")
                    || l.contains("USING INTEGER PRIMARY KEY")
                    || l.contains("USING PRIMARY KEY")),
                "no index used:\n{}",
                show(p)
            );
            // Sorting in a temp B-tree means reading every match first. Live
            // sessions are few; a text search reads every session anyway; an
            // exact id matches one session per agent at most.
            let few = [
                "session list, live",
                "session list, search",
                "tool calls",
                "find session",
                "a plan window's tokens by session",
            ];
            if !few.contains(&p.name.as_str()) {
                assert!(!p.plan.iter().any(|l| l.contains("TEMP B-TREE")), "sorts:\n{}", show(p));
            }
        }
        // What a scan looks like, so that the checks above are not vacuous.
        for sql in [
            "SELECT * FROM usage_events WHERE input > 5",
            "SELECT * FROM usage_events e ORDER BY ts",
            "SELECT * FROM alerts a WHERE a.title = 'x'",
        ] {
            let scan = plan(&store, "x", sql, vec![]).unwrap();
            assert!(!full_scans(&scan).is_empty(), "{scan:?}");
        }
    }
}
