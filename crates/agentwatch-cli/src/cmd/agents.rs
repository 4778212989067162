//! `agentwatch agents`: every agent agentwatch knows, what it reads of it,
//! and what each cost, with where the cost comes from.

use std::path::Path;

use agentwatch_core::Result;
use agentwatch_core::reports::{AgentUsage, CostProvenance, Zone};
use agentwatch_core::sources::UsageKind;
use agentwatch_core::views::{AgentView, agents};
use serde_json::json;

use crate::cli::{AgentsArgs, Format};
use crate::context::Ctx;
use crate::output::{Align, Fmt, emit, emit_json, printable, table, thousands, truncate_path, usd};

pub fn run(data_dir: Option<&Path>, a: &AgentsArgs) -> Result<()> {
    let zone = Zone::parse(&a.timezone)?;
    let mut ctx = Ctx::open(data_dir)?;
    ctx.refresh(a.no_ingest)?;
    let list = agents(
        &ctx.store,
        &ctx.prices,
        &agentwatch_core::ingest::default_sources(),
        zone,
        agentwatch_core::util::now_ms(),
    )?;
    match a.format {
        Format::Json => emit_json(&ctx.mark_json(json!({ "agents": list }))),
        Format::Table => {
            let headers = [
                ("Agent", Align::Left),
                ("Found", Align::Left),
                ("Reads", Align::Left),
                ("Sessions", Align::Right),
                ("Live", Align::Right),
                ("Files", Align::Left),
            ];
            let home = agentwatch_core::paths::home_dir();
            let mut out = table(&headers, &|f| {
                list.iter()
                    .map(|a| {
                        vec![
                            a.name.clone(),
                            if a.found { "yes" } else { "no" }.into(),
                            reads(a),
                            thousands(a.sessions.max(0) as u64),
                            thousands(a.live.max(0) as u64),
                            files_cell(&files(a, home.as_deref()), f.flex),
                        ]
                    })
                    .collect()
            });
            // What a usage read is when it is not tokens per call.
            for note in list.iter().filter_map(|a| a.usage_note.as_deref()) {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&format!("{note}\n"));
            }
            out.push_str(&costs_table(&list));
            out.push_str(&ctx.incomplete_note());
            emit(&out);
        }
    }
    Ok(())
}

/// What each agent found here used, over the last 30 days and all time, and
/// where its cost comes from: a cost is shown only where one was recorded or
/// priced ("—" otherwise, never $0), "≈" where the agent rounded it.
fn costs_table(list: &[AgentView]) -> String {
    let found: Vec<&AgentView> = list.iter().filter(|a| a.found).collect();
    if found.is_empty() {
        return String::new();
    }
    let headers = [
        ("Agent", Align::Left),
        ("Tokens\n30 days", Align::Right),
        ("Cost\n30 days", Align::Right),
        ("Tokens\nall time", Align::Right),
        ("Cost\nall time", Align::Right),
        ("Cost from", Align::Left),
    ];
    let out = table(&headers, &|f| {
        found
            .iter()
            .map(|a| {
                vec![
                    a.name.clone(),
                    tokens(&a.last_30_days, f),
                    cost(&a.last_30_days),
                    tokens(&a.all_time, f),
                    cost(&a.all_time),
                    a.all_time.provenance_text.clone(),
                ]
            })
            .collect()
    });
    format!("\n{out}")
}

fn tokens(u: &AgentUsage, f: &Fmt) -> String {
    u.tokens.as_ref().map_or_else(|| "—".into(), |t| f.num(t.total))
}

/// A cost below half a cent reads `<$0.01`, not `$0.00`: something was spent.
fn cost(u: &AgentUsage) -> String {
    let approx = if u.provenance == CostProvenance::Approximate { "≈" } else { "" };
    match u.cost_usd {
        None => "—".into(),
        Some(c) if c > 0.0 && c < 0.005 => format!("{approx}<$0.01"),
        Some(c) => format!("{approx}{}", usd(Some(c))),
    }
}

/// What agentwatch reads of an agent besides its processes ("—": only them).
fn reads(a: &AgentView) -> String {
    let usage = match a.usage_kind {
        Some(UsageKind::CostOnly) => "cost",
        _ => "usage",
    };
    // Cursor's files give sessions and turns, never usage.
    let sessions_only = a.usage_kind == Some(UsageKind::NotRecorded);
    let r: Vec<&str> = [(a.usage, usage), (sessions_only, "sessions"), (a.hooks, "hooks"), (a.telemetry, "telemetry")]
        .into_iter()
        .filter_map(|(on, what)| on.then_some(what))
        .collect();
    if r.is_empty() { "—".into() } else { r.join(" ") }
}

/// The folders it reads (those that exist, else where the first would be),
/// the home shown as `~`.
fn files(a: &AgentView, home: Option<&Path>) -> Vec<String> {
    let there: Vec<&str> = a.paths.iter().filter(|p| p.exists).map(|p| p.path.as_str()).collect();
    let shown: Vec<&str> =
        if there.is_empty() { a.paths.iter().take(1).map(|p| p.path.as_str()).collect() } else { there };
    let tilde = |p: &str| match home.and_then(|h| Path::new(p).strip_prefix(h).ok()) {
        Some(rest) => format!("~/{}", rest.display()),
        None => p.to_string(),
    };
    shown.iter().map(|p| tilde(p)).collect()
}

/// The first folder, shortened to `width`, and how many more (`+1`); "—"
/// when none is read. JSON lists them all.
fn files_cell(files: &[String], width: usize) -> String {
    let Some(first) = files.first() else { return "—".into() };
    let more = if files.len() > 1 { format!(" +{}", files.len() - 1) } else { String::new() };
    format!("{}{more}", truncate_path(&printable(first), width.saturating_sub(more.chars().count())))
}
