//! Times the store queries behind what users look at, in process (no CLI
//! start-up, no HTTP): the session list, search and paging, the cost
//! summary, period, session and block reports, session detail and fleet
//! health. Run by `bench/scale` on a data dir with 1,000 sessions and
//! 1,000,000 usage events; prints one JSON object.
//!
//! ```sh
//! cargo build --release -p agentwatch-core --example scale_queries
//! target/release/examples/scale_queries --data-dir DIR --config-dir DIR [--reps 20]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use agentwatch_core::config::Config;
use agentwatch_core::model::SessionState;
use agentwatch_core::paths::Dirs;
use agentwatch_core::pricing::PriceBook;
use agentwatch_core::reports::{
    Period, Range, ReportOptions, Zone, blocks, cost_summary, period_report, session_report,
};
use agentwatch_core::store::{SessionFilter, Store, count_sessions, ensure_costs_current, find_session, list_sessions};
use agentwatch_core::views::{FleetHealth, SessionDetail, SessionView};
use serde_json::{Value, json};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// CPU time (user + system) of this process so far, from /proc (10 ms
/// ticks: meaningful as an average over many runs). Wall time on a busy
/// machine measures the other processes too; this does not.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
    let f: Vec<f64> = after.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    // Fields 14 and 15 (utime, stime), counted from the state (field 3).
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) * 10.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data = PathBuf::from(arg(&args, "--data-dir").ok_or("--data-dir DIR is required")?);
    let config = PathBuf::from(arg(&args, "--config-dir").ok_or("--config-dir DIR is required")?);
    let reps: usize = arg(&args, "--reps").map_or(Ok(20), |r| r.parse())?;
    // Only the queries whose name contains this text (for profiling one).
    let only = arg(&args, "--only").unwrap_or_default();
    let dirs = Dirs { data, config };
    let opened = Instant::now();
    let store = Store::open_in(&dirs)?;
    let prices = PriceBook::load(&dirs)?;
    let cfg = Config::load(&dirs)?;
    let open_ms = opened.elapsed().as_secs_f64() * 1000.0;
    let now = agentwatch_core::util::now_ms();
    let zone = Zone::Local;

    // Sessions to look at: the one with the most events, a median one, and
    // a search word that matches some but not all.
    let all = list_sessions(&store, &SessionFilter::default())?;
    let mut by_events: Vec<_> = all.iter().collect();
    by_events.sort_by_key(|s| std::cmp::Reverse(s.events));
    let biggest = by_events.first().ok_or("no sessions")?.id.clone();
    let median = by_events[by_events.len() / 2].id.clone();
    let prefix: String = median.chars().take(8).collect();

    let mut results: Vec<Value> = Vec::new();
    let mut time = |name: &str, what: &str, f: &mut dyn FnMut() -> agentwatch_core::Result<usize>| {
        if !name.contains(only.as_str()) {
            return;
        }
        let mut ms = Vec::with_capacity(reps);
        let mut rows = 0;
        rows = rows.max(f().expect(name)); // warm-up: statement cache, page cache
        let cpu0 = cpu_ms();
        for _ in 0..reps {
            let t = Instant::now();
            rows = f().expect(name);
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let cpu = (cpu_ms() - cpu0) / reps as f64;
        ms.sort_by(f64::total_cmp);
        let pct = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
        results.push(json!({
            "name": name, "what": what, "rows": rows,
            "median_ms": pct(0.5), "p95_ms": pct(0.95), "max_ms": ms[ms.len() - 1], "cpu_ms": cpu,
        }));
    };

    let api_filter = |f: SessionFilter| SessionFilter { limit: f.limit.or(Some(100)), ..f };
    let api_list = |f: &SessionFilter| -> agentwatch_core::Result<usize> {
        let list: Vec<SessionView> = list_sessions(&store, f)?.iter().map(|r| SessionView::new(r, now)).collect();
        let total = count_sessions(&store, f)?;
        Ok(list.len().max(total as usize))
    };

    time("sessions", "`agentwatch sessions`: list_sessions (all), as the CLI reads it", &mut || {
        Ok(list_sessions(&store, &SessionFilter::default())?.len())
    });
    time("sessions --active", "`agentwatch sessions --active`", &mut || {
        let f = SessionFilter { active_since: Some(now - agentwatch_core::liveness::RECENT_MS), ..Default::default() };
        Ok(list_sessions(&store, &f)?.len())
    });
    let f = api_filter(SessionFilter::default());
    time("GET /api/sessions", "list (limit 100) + count", &mut || api_list(&f));
    let f = api_filter(SessionFilter { search: Some("web-app".into()), ..Default::default() });
    time("GET /api/sessions?search=web-app", "text search + count", &mut || api_list(&f));
    let f = api_filter(SessionFilter { search: Some("zzz-no-match".into()), ..Default::default() });
    time("GET /api/sessions?search=<no match>", "text search, nothing found", &mut || api_list(&f));
    let f = api_filter(SessionFilter { offset: Some(900), ..Default::default() });
    time("GET /api/sessions?offset=900", "the last page + count", &mut || api_list(&f));
    let (from_ms, to_ms) = Range::Days7.window(zone, now);
    let f = api_filter(SessionFilter { from_ms, to_ms, ..Default::default() });
    time("GET /api/sessions?range=7d", "sessions active in the last 7 days + count", &mut || api_list(&f));
    let (from_ms, to_ms) = Range::Today.window(zone, now);
    let f = api_filter(SessionFilter { from_ms, to_ms, ..Default::default() });
    time("GET /api/sessions?range=today", "sessions active today + count", &mut || api_list(&f));
    let f = api_filter(SessionFilter {
        states: SessionState::ALL.into_iter().filter(|s| s.is_live()).collect(),
        not_archived: true,
        ..Default::default()
    });
    time("GET /api/sessions?active=true", "live sessions + count", &mut || api_list(&f));
    let f = api_filter(SessionFilter { agent_name: Some("codex".into()), ..Default::default() });
    time("GET /api/sessions?agent=codex", "by agent + count", &mut || api_list(&f));

    for (name, id) in [("biggest", &biggest), ("median", &median), ("prefix", &prefix)] {
        time(
            &format!("sessions show <{name}>"),
            "find_session + SessionDetail::load (GET /api/sessions/{id})",
            &mut || {
                let row = find_session(&store, id)?;
                let d = SessionDetail::load(&store, &prices, &row, now)?;
                Ok(d.models.len())
            },
        );
    }

    for range in [Range::Today, Range::Days7, Range::Days30, Range::All] {
        time(
            &format!("GET /api/costs?range={}", range.name()),
            "cost_summary (also MCP get_cost_summary)",
            &mut || Ok(cost_summary(&store, &prices, &cfg, range, zone, now)?.daily.len()),
        );
    }
    let all_time = ReportOptions { zone, ..Default::default() };
    for (name, p) in [("daily", Period::Day), ("weekly", Period::Week), ("monthly", Period::Month)] {
        time(&format!("costs {name}"), "period_report, all history", &mut || {
            Ok(period_report(&store, &prices, &all_time, p)?.rows.len())
        });
    }
    let last_week = ReportOptions { since: Some(zone.today() - chrono::Duration::days(6)), zone, ..Default::default() };
    time("costs daily --since <7 days ago>", "period_report, a week", &mut || {
        Ok(period_report(&store, &prices, &last_week, Period::Day)?.rows.len())
    });
    time("costs session", "session_report, all history", &mut || Ok(session_report(&store, &prices, &all_time)?.len()));
    for (name, g) in [
        ("rollup by bucket", agentwatch_core::store::RollupGroup::Bucket),
        ("rollup by session", agentwatch_core::store::RollupGroup::Session),
        ("rollup by bucket and session", agentwatch_core::store::RollupGroup::BucketSession),
    ] {
        time(name, "store::rollup, all history (part of the reports above)", &mut || {
            Ok(agentwatch_core::store::rollup(&store, &all_time.usage_filter(), g)?.len())
        });
    }
    for (name, g) in [
        ("hourly rollup by bucket", agentwatch_core::store::RollupGroup::Bucket),
        ("hourly rollup by session", agentwatch_core::store::RollupGroup::Session),
        ("hourly rollup by bucket and session", agentwatch_core::store::RollupGroup::BucketSession),
    ] {
        time(name, "store::rollup_hourly in this zone, all history (the reports above read this)", &mut || {
            Ok(agentwatch_core::store::rollup_hourly(&store, &all_time.usage_filter(), g, &|h| zone.whole_hour(h))?
                .len())
        });
    }
    time("costs blocks", "blocks, all history", &mut || Ok(blocks(&store, &prices, &all_time, now)?.len()));
    let recent =
        ReportOptions { since: Some(zone.date_of(now) - chrono::Duration::days(2)), zone, ..Default::default() };
    time("GET /api/blocks", "blocks, the last 3 days", &mut || Ok(blocks(&store, &prices, &recent, now)?.len()));
    time("GET /api/fleet-health", "FleetHealth::load", &mut || Ok(FleetHealth::load(&store, &cfg, now)?.agents.len()));
    time("--no-ingest cost check", "ensure_costs_current with nothing changed", &mut || {
        ensure_costs_current(&store, &prices, &[])?;
        Ok(0)
    });

    let (sessions, usage_events, rollup_rows) = store.row_counts()?;
    let out = json!({
        "reps": reps,
        "open_ms": open_ms,
        "sessions": sessions,
        "usage_events": usage_events,
        "rollup_rows": rollup_rows,
        "biggest_session": { "id": biggest, "events": by_events[0].events },
        "median_session": { "id": median, "events": by_events[by_events.len() / 2].events },
        "queries": results,
        "plans": agentwatch_core::store::query_plans(&store)?
            .into_iter()
            .map(|p| json!({ "name": p.name, "plan": p.plan }))
            .collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
