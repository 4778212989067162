//! `agentwatch sessions` (alias `agents`): list, history, stats, show.

use std::path::Path;

use agentwatch_core::Result;
use agentwatch_core::liveness::{RECENT_MS, effective_state};
use agentwatch_core::model::{SessionState, agent_display_name, agent_short_name};
use agentwatch_core::reports::Zone;
use agentwatch_core::store::{SessionFilter, SessionRow, find_session, list_sessions, session_usage};
use agentwatch_core::views::{SessionDetail, SessionView};
use serde_json::json;

use crate::cli::{FilterArgs, Format, HistoryArgs, ListArgs, Range, SessionsArgs, SessionsCmd, ShowArgs, StatsArgs};
use crate::context::Ctx;
use crate::output::{
    Align, bytes_short, duration, emit, emit_json, printable, project_name, short_model, table, thousands, truncate,
    usd,
};

pub fn run(data_dir: Option<&Path>, a: SessionsArgs) -> Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    match a.command {
        None => list(data_dir, &a.list, now),
        Some(SessionsCmd::History(h)) => history(data_dir, &h, now),
        Some(SessionsCmd::Stats(s)) => stats(data_dir, &s, now),
        Some(SessionsCmd::Show(s)) => show(data_dir, &s, now),
    }
}

/// Opens the store with current data: new transcript lines read, running
/// processes looked at (unless a monitor is running, which does both).
fn open(data_dir: Option<&Path>, no_ingest: bool) -> Result<Ctx> {
    let mut ctx = Ctx::open(data_dir)?;
    ctx.refresh(no_ingest)?;
    if !no_ingest {
        ctx.collect_once()?;
    }
    Ok(ctx)
}

/// [`open`] for a listing, after checking its `--agent-type`.
fn open_filtered(data_dir: Option<&Path>, f: &FilterArgs) -> Result<Ctx> {
    let ctx = open(data_dir, f.no_ingest)?;
    ctx.check_agent_type(f.agent_type.as_deref())?;
    Ok(ctx)
}

fn base_filter(f: &FilterArgs) -> SessionFilter {
    SessionFilter {
        agent_type: f.agent_type.clone(),
        agent_name: f.agent.clone(),
        project: f.project.clone(),
        source: f.source.clone(),
        ..Default::default()
    }
}

fn list(data_dir: Option<&Path>, a: &ListArgs, now: i64) -> Result<()> {
    let ctx = open_filtered(data_dir, &a.filter)?;
    let mut filter = base_filter(&a.filter);
    if a.active {
        filter.active_since = Some(now - RECENT_MS);
    }
    let mut rows = list_sessions(&ctx.store, &filter)?;
    if a.active {
        rows.retain(|s| effective_state(s.state, s.last_activity, s.live.state_changed_at.is_some(), now).is_live());
    }
    let total = rows.len();
    rows.truncate(a.limit);
    match a.filter.format {
        Format::Json => emit_json(&ctx.mark_json(json!({ "sessions": views(&rows, now) }))),
        Format::Table if rows.is_empty() => {
            emit(if a.active { "No active sessions." } else { "No sessions found." });
        }
        Format::Table => {
            let remb = matches!(a.filter.source.as_deref(), Some("mcp" | "proxy" | "hook"));
            let mut out = if remb { remb_table(&rows, now) } else { sessions_table(&rows, now) };
            out.push_str(&more_note(rows.len(), total));
            out.push_str(&ctx.incomplete_note());
            emit(&out);
        }
    }
    Ok(())
}

/// Under a table cut by `--limit`: how many there are.
fn more_note(shown: usize, total: usize) -> String {
    match total > shown {
        true => format!("\nShowing {shown} of {} sessions (use --limit).", thousands(total as u64)),
        false => String::new(),
    }
}

fn views(rows: &[SessionRow], now: i64) -> Vec<SessionView> {
    rows.iter().map(|s| SessionView::new(s, now)).collect()
}

fn sessions_table(rows: &[SessionRow], now: i64) -> String {
    let headers = [
        ("ID", Align::Left),
        ("Agent", Align::Left),
        ("Project", Align::Left),
        ("State", Align::Left),
        ("PID", Align::Right),
        ("Runtime", Align::Right),
        ("CPU", Align::Right),
        ("Mem", Align::Right),
        ("Cost", Align::Right),
    ];
    let dash = || "—".to_string();
    let mut out = table(&headers, &|f| {
        rows.iter()
            .map(|s| {
                let v = SessionView::new(s, now);
                let live = v.state.is_live();
                vec![
                    s.id.chars().take(8).collect(),
                    agent_short_name(&s.agent).to_string(),
                    truncate(&project_name(s.project_path.as_deref()), f.flex.min(16)),
                    // A session that needs the person says for what.
                    match v.waiting_for {
                        Some(w) if w.is_urgent() => w.as_str().to_string(),
                        _ => v.state.to_string(),
                    },
                    v.pid.filter(|_| live).map_or_else(dash, |p| p.to_string()),
                    duration(v.duration_seconds),
                    v.cpu.filter(|_| live).map_or_else(dash, |c| format!("{c:.0}%")),
                    v.memory_bytes.filter(|_| live).map_or_else(dash, bytes_short),
                    usd(s.cost_usd),
                ]
            })
            .collect()
    });
    let commands: Vec<String> = rows
        .iter()
        .filter(|s| s.state.is_live())
        .filter_map(|s| {
            s.live.command.as_ref().map(|c| format!("  {}  {}", &s.id[..s.id.len().min(8)], truncate(c, 68)))
        })
        .collect();
    if !commands.is_empty() {
        out.push_str("\nCommands:\n");
        out.push_str(&commands.join("\n"));
    }
    out
}

/// Remb's view of MCP sessions: Agent | Session ID | Tools | Last Active |
/// Started | Last Tool | Errors.
fn remb_table(rows: &[SessionRow], now: i64) -> String {
    let headers = [
        ("Agent", Align::Left),
        ("Session ID", Align::Left),
        ("Tools", Align::Right),
        ("Last Active", Align::Left),
        ("Started", Align::Left),
        ("Last Tool", Align::Left),
        ("Errors", Align::Right),
    ];
    let ago = |ms: i64| {
        let s = ((now - ms) / 1000).max(0);
        match s {
            0..=59 => format!("{s}s ago"),
            60..=3599 => format!("{}m ago", s / 60),
            3600..=86_399 => format!("{}h ago", s / 3600),
            _ => format!("{}d ago", s / 86_400),
        }
    };
    table(&headers, &|f| {
        rows.iter()
            .map(|s| {
                let v = SessionView::new(s, now);
                vec![
                    truncate(&v.ide_type.clone().unwrap_or(v.agent_label.clone()), 14),
                    s.id.chars().take(8).collect(),
                    f.num(v.tool_call_count),
                    ago(s.last_activity),
                    Zone::Local.format(s.started_at, "%m-%d %H:%M"),
                    truncate(v.last_tool_name.as_deref().unwrap_or("—"), f.flex.min(20)),
                    f.num(v.error_count),
                ]
            })
            .collect()
    })
}

fn in_range(f: &FilterArgs, r: Range, now: i64) -> SessionFilter {
    let (from_ms, to_ms) = r.window(Zone::Local, now);
    SessionFilter { from_ms, to_ms, ..base_filter(f) }
}

fn history(data_dir: Option<&Path>, a: &HistoryArgs, now: i64) -> Result<()> {
    let ctx = open_filtered(data_dir, &a.filter)?;
    let filter = SessionFilter {
        states: vec![SessionState::Completed, SessionState::Dead],
        ..in_range(&a.filter, a.range, now)
    };
    let mut rows = list_sessions(&ctx.store, &filter)?;
    rows.retain(|s| effective_state(s.state, s.last_activity, s.live.state_changed_at.is_some(), now).is_ended());
    let total = rows.len();
    rows.truncate(a.limit);
    match a.filter.format {
        Format::Json => emit_json(&ctx.mark_json(json!({ "sessions": views(&rows, now) }))),
        Format::Table if rows.is_empty() => emit("No completed sessions in this range."),
        Format::Table => {
            let headers = [
                ("ID", Align::Left),
                ("Agent", Align::Left),
                ("Project", Align::Left),
                ("Ended", Align::Left),
                ("Duration", Align::Right),
                ("Tokens", Align::Right),
                ("Cost", Align::Right),
            ];
            let mut out = table(&headers, &|f| {
                rows.iter()
                    .map(|s| {
                        let v = SessionView::new(s, now);
                        vec![
                            s.id.chars().take(8).collect(),
                            truncate(&v.agent_label, 12),
                            truncate(&project_name(s.project_path.as_deref()), f.flex.min(16)),
                            Zone::Local.format(s.ended_at.unwrap_or(s.last_activity), "%m-%d %H:%M"),
                            duration(v.duration_seconds),
                            f.num(s.tokens.total()),
                            usd(s.cost_usd),
                        ]
                    })
                    .collect()
            });
            out.push_str(&more_note(rows.len(), total));
            out.push_str(&ctx.incomplete_note());
            emit(&out);
        }
    }
    Ok(())
}

fn stats(data_dir: Option<&Path>, a: &StatsArgs, now: i64) -> Result<()> {
    let ctx = open_filtered(data_dir, &a.filter)?;
    let rows = list_sessions(&ctx.store, &in_range(&a.filter, a.range, now))?;
    let views = views(&rows, now);
    let n = views.len() as u64;
    let active = views.iter().filter(|v| v.state.is_live()).count() as u64;
    let completed = views.iter().filter(|v| v.state.is_ended()).count() as u64;
    let dur: i64 = views.iter().map(|v| v.duration_seconds).sum();
    let tokens: u64 = views.iter().map(|v| v.tokens.total).sum();
    // `+ 0.0`: an empty f64 sum is -0.0, which would print as `$-0.00`.
    let cost: f64 = views.iter().filter_map(|v| v.cost_usd).sum::<f64>() + 0.0;
    let avg = |x: f64| if n == 0 { 0.0 } else { x / n as f64 };
    let range = a.range.name();
    match a.filter.format {
        Format::Json => emit_json(&json!({
            "range": range,
            "totalSessions": n,
            "activeSessions": active,
            "completedSessions": completed,
            "totalDurationSeconds": dur,
            "averageDurationSeconds": avg(dur as f64).round() as i64,
            "totalTokens": tokens,
            "averageTokens": avg(tokens as f64).round() as u64,
            "totalCostUsd": cost,
            "averageCostUsd": avg(cost),
        })),
        Format::Table => emit(&format!(
            "Sessions ({range})\n  Total        {}\n  Active       {}\n  Completed    {}\n\nDuration\n  Total        {}\n  Average      {}\n\nTokens\n  Total        {}\n  Average      {}\n\nCost\n  Total        {}\n  Average      {}",
            thousands(n),
            thousands(active),
            thousands(completed),
            duration(dur),
            duration(avg(dur as f64).round() as i64),
            thousands(tokens),
            thousands(avg(tokens as f64).round() as u64),
            usd(Some(cost)),
            usd(Some(avg(cost))),
        )),
    }
    Ok(())
}

fn show(data_dir: Option<&Path>, a: &ShowArgs, now: i64) -> Result<()> {
    let ctx = open(data_dir, a.no_ingest)?;
    let s = find_session(&ctx.store, &a.id)?;
    let v = SessionView::new(&s, now);
    let usage = session_usage(&ctx.store, s.pk)?;
    let (_, models) = agentwatch_core::reports::models_of(&usage, &ctx.prices);
    match a.format {
        Format::Json => emit_json(&SessionDetail::load(&ctx.store, &ctx.prices, &s, now)?),
        Format::Table => {
            let z = Zone::Local;
            let when = |ms: i64| z.format(ms, "%Y-%m-%d %H:%M:%S");
            let t = &s.tokens;
            let mut out = String::new();
            let mut line = |k: &str, v: String| out.push_str(&format!("{k:<11}{v}\n"));
            line("Session", s.id.clone());
            if let Some(ext) = s.external_id.as_ref().filter(|e| **e != s.id) {
                line("Agent id", ext.clone());
            }
            let version = s.agent_version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
            line("Agent", format!("{} ({}){version}", agent_display_name(&s.agent), s.agent));
            let status = match (&v.waiting_for, &v.pending_tool) {
                (Some(w), Some(t)) if w.is_urgent() => {
                    format!("waiting for {} · {}", w.as_str(), printable(&truncate(&t.label(), 60)))
                }
                (Some(w), _) => format!("waiting for {}", w.as_str()),
                (None, _) => v.state.to_string(),
            };
            let signal = v.state_signal.map(|s| format!("  (from its {})", s.as_str())).unwrap_or_default();
            line("Status", format!("{status}{signal}"));
            line("Project", s.project_path.clone().unwrap_or_else(|| "—".into()));
            line("Started", when(s.started_at));
            match s.ended_at {
                Some(e) => line("Ended", when(e)),
                None if v.state.is_ended() => line("Last seen", when(s.last_activity)),
                None => line("Active", when(s.last_activity)),
            }
            line("Duration", duration(v.duration_seconds));
            let short: Vec<String> = s.models.iter().map(|m| short_model(m)).collect();
            line("Models", if short.is_empty() { "—".into() } else { short.join(", ") });
            if let Some(p) = &s.transcript_path {
                line("File", p.clone());
            }
            let shares = agentwatch_core::limits::session_shares(&ctx.store, &s.agent, s.pk, now)?;
            if let Some(share) = agentwatch_core::limits::shares_sentence(&shares) {
                line("Plan", format!("this session: {share}"));
            }
            let pending = ctx.store.pending_calls(s.pk)?;
            if let Some(l) = agentwatch_core::views::LiveUsage::of(&pending, &ctx.prices) {
                let calls = if l.calls == 1 { "1 call".to_string() } else { format!("{} calls", l.calls) };
                line(
                    "Live",
                    format!(
                        "+{calls}, {} tokens, {} (from its telemetry; not yet in the transcript or the totals)",
                        thousands(l.tokens.total()),
                        usd(l.cost_usd)
                    ),
                );
            }
            out.push_str(&format!(
                "\nTokens\n  Input        {:>14}\n  Output       {:>14}{}\n  Cache write  {:>14}  (5m {} · 1h {})\n  Cache read   {:>14}\n  Total        {:>14}\n",
                thousands(t.input),
                thousands(t.output),
                if t.reasoning > 0 { format!("  (reasoning {})", thousands(t.reasoning)) } else { String::new() },
                thousands(t.cache_creation()),
                thousands(t.cache_write_5m),
                thousands(t.cache_write_1h),
                thousands(t.cache_read),
                thousands(t.total()),
            ));
            if !models.is_empty() {
                let headers = [
                    ("Model", Align::Left),
                    ("Tokens", Align::Right),
                    ("Cost", Align::Right),
                    ("Price source", Align::Left),
                ];
                out.push_str("\nCost by model\n");
                out.push_str(&table(&headers, &|f| {
                    let mut rows: Vec<Vec<String>> = models
                        .iter()
                        .map(|m| {
                            vec![
                                truncate(&m.model, 30),
                                f.num(m.summary.tokens.total()),
                                usd(m.summary.cost()),
                                m.summary.source_text(),
                            ]
                        })
                        .collect();
                    rows.push(vec!["Total".into(), f.num(t.total()), usd(s.cost_usd), String::new()]);
                    rows
                }));
            }
            let history = ctx.store.state_history(s.pk)?;
            if !history.is_empty() {
                let headers =
                    [("Time", Align::Left), ("State", Align::Left), ("Why", Align::Left), ("Signal", Align::Left)];
                out.push_str("\nState history (newest last)\n");
                out.push_str(&table(&headers, &|f| {
                    history
                        .iter()
                        .skip(history.len().saturating_sub(10))
                        .map(|c| {
                            let to = match c.waiting_for {
                                Some(w) => format!("{} ({})", c.to, w.as_str()),
                                None => c.to.to_string(),
                            };
                            vec![
                                z.format(c.at, "%H:%M:%S"),
                                to,
                                printable(&truncate(&c.reason, f.flex.min(50))),
                                c.signal.map_or("—", |s| s.as_str()).to_string(),
                            ]
                        })
                        .collect()
                }));
            }
            emit(&out);
        }
    }
    Ok(())
}
