//! `agentwatch costs daily|weekly|monthly|session|blocks`
//!
//! JSON output uses ccusage's field names, with their meaning (`agent` and
//! `metadata.agents` name agents as ccusage does: `claude`, `codex`), so
//! scripts written for ccusage keep working; agentwatch's additions
//! (`agents`, `agentType`, `priceSource`, `unpricedModels`, …) sit beside
//! them.

use std::collections::BTreeSet;
use std::path::Path;

use agentwatch_core::model::agent_display_name;
use agentwatch_core::reports::{
    Block, ModelUsage, Period, PeriodReport, ReportOptions, SessionUsage, Summary, Zone, block_json, blocks,
    period_report, session_report, token_limit_level, token_limit_status,
};
use agentwatch_core::views::iso;
use agentwatch_core::{Error, Result};
use serde_json::{Map, Value, json};

use crate::cli::{BlocksArgs, CostArgs, CostsCmd, Format, Order};
use crate::context::Ctx;
use crate::output::{Align, Fmt, emit, emit_json, project_name, short_model, table, truncate, usd, warn};

enum Kind {
    Period(Period),
    Session,
    Blocks(BlocksArgs),
}

/// `--recent`: the blocks that started within this many days.
const RECENT_DAYS: i64 = 3;

pub fn run(data_dir: Option<&Path>, c: CostsCmd) -> Result<()> {
    let (kind, a) = match c {
        CostsCmd::Daily(a) => (Kind::Period(Period::Day), a),
        CostsCmd::Weekly(a) => (Kind::Period(Period::Week), a),
        CostsCmd::Monthly(a) => (Kind::Period(Period::Month), a),
        CostsCmd::Session(a) => (Kind::Session, a),
        CostsCmd::Blocks(b) => (Kind::Blocks(b.clone()), b.common),
    };
    let zone = Zone::parse(&a.timezone)?;
    if let (Some(s), Some(u)) = (a.since, a.until)
        && s > u
    {
        return Err(Error::Usage(format!("--since {s} is after --until {u}")));
    }
    let opts =
        ReportOptions { since: a.since, until: a.until, agent: a.agent.clone(), project: a.project.clone(), zone };
    let mut ctx = Ctx::open(data_dir)?;
    ctx.refresh(a.no_ingest)?;
    ctx.check_agent_type(a.agent.as_deref())?;
    match kind {
        Kind::Period(p) => {
            let r = period_report(&ctx.store, &ctx.prices, &opts, p)?;
            warn_unpriced(&r.totals.unpriced);
            match a.format {
                Format::Json => emit_json(&ctx.mark_json(period_json(&r, &opts))),
                Format::Table if r.rows.is_empty() => emit(&nothing_found(&ctx)),
                Format::Table => emit(&(period_table(&r, &a) + &ctx.incomplete_note())),
            }
        }
        Kind::Session => {
            let rows = session_report(&ctx.store, &ctx.prices, &opts)?;
            let mut totals = Summary::default();
            rows.iter().for_each(|r| totals.add(&r.summary));
            warn_unpriced(&totals.unpriced);
            match a.format {
                Format::Json => emit_json(&ctx.mark_json(session_json(&rows, &totals))),
                Format::Table if rows.is_empty() => emit(&nothing_found(&ctx)),
                Format::Table => emit(&(session_table(&rows, &totals, &a) + &ctx.incomplete_note())),
            }
        }
        Kind::Blocks(b) => {
            let now = chrono::Utc::now().timestamp_millis();
            let recent_from = now - RECENT_DAYS * 86_400_000;
            let mut opts = opts;
            if b.recent {
                // Read no more than the days that hold the recent blocks.
                let day = opts.zone.date_of(recent_from);
                opts.since = Some(opts.since.map_or(day, |s| s.max(day)));
            }
            let mut bs = blocks(&ctx.store, &ctx.prices, &opts, now)?;
            if b.recent {
                bs.retain(|x| x.start >= recent_from || x.is_active);
            }
            if b.active {
                bs.retain(|x| x.is_active);
            }
            // `max`: of the blocks listed, as ccusage.
            let limit = b.token_limit.and_then(|l| l.resolve(&bs));
            if b.order == Order::Desc {
                bs.reverse();
            }
            let unpriced: BTreeSet<String> = bs.iter().flat_map(|b| b.unpriced.iter().cloned()).collect();
            warn_unpriced(&unpriced);
            match a.format {
                Format::Json => emit_json(&ctx.mark_json(blocks_json(&bs, limit))),
                Format::Table if bs.is_empty() && b.active => emit("No active block."),
                Format::Table if bs.is_empty() => emit(&nothing_found(&ctx)),
                Format::Table => {
                    emit(&(blocks_table(&bs, &opts.zone, now, a.breakdown, limit) + &ctx.incomplete_note()))
                }
            }
        }
    }
    Ok(())
}

fn warn_unpriced(models: &BTreeSet<String>) {
    if !models.is_empty() {
        let list: Vec<&str> = models.iter().map(String::as_str).collect();
        warn(&format!(
            "no price known for {}: tokens are counted, cost is shown as unknown (add it to {})",
            list.join(", "),
            "prices.json in the config dir"
        ));
    }
}

fn nothing_found(ctx: &Ctx) -> String {
    let roots: Vec<String> = agentwatch_core::ingest::default_sources()
        .iter()
        .flat_map(|s| s.roots())
        .map(|p| p.display().to_string())
        .collect();
    if roots.is_empty() {
        format!(
            "No usage found. No Claude Code, Codex, Gemini CLI or Qwen Code transcripts were found (set CLAUDE_CONFIG_DIR, CODEX_HOME, GEMINI_CLI_HOME or QWEN_RUNTIME_DIR if they live elsewhere). Database: {}",
            ctx.store.path().display()
        )
    } else {
        format!("No usage found in the selected range. Transcripts read from: {}", roots.join(", "))
    }
}

// ---- JSON ----

/// An agent as ccusage names it: `claude`, `codex`, …
fn ccusage_agent(id: &str) -> &str {
    agentwatch_core::sources::agent_info(id).and_then(|a| a.ccusage).unwrap_or(id)
}

fn usage_fields(m: &mut Map<String, Value>, s: &Summary) {
    let t = &s.tokens;
    m.insert("inputTokens".into(), json!(t.input));
    m.insert("outputTokens".into(), json!(t.output));
    m.insert("cacheCreationTokens".into(), json!(t.cache_creation()));
    m.insert("cacheReadTokens".into(), json!(t.cache_read));
    m.insert("totalTokens".into(), json!(t.total()));
    m.insert("totalCost".into(), json!(s.cost()));
    // Codex's and Gemini CLI's thinking: part of the output tokens, as
    // ccusage's Codex reports show it.
    m.insert("reasoningOutputTokens".into(), json!(t.reasoning));
}

fn provenance_fields(m: &mut Map<String, Value>, s: &Summary) {
    m.insert("priceSource".into(), json!(s.source_text()));
    m.insert("unpricedModels".into(), json!(s.unpriced));
}

fn models_json(models: &[ModelUsage]) -> (Value, Value) {
    let mut used: Vec<&str> = models.iter().map(|m| m.model.as_str()).collect();
    used.sort_unstable();
    let breakdowns: Vec<Value> = models.iter().map(ModelUsage::breakdown_json).collect();
    (json!(used), json!(breakdowns))
}

fn totals_json(s: &Summary) -> Value {
    let mut m = Map::new();
    usage_fields(&mut m, s);
    provenance_fields(&mut m, s);
    Value::Object(m)
}

fn period_json(r: &PeriodReport, opts: &ReportOptions) -> Value {
    let (list_key, label_key) = match r.period {
        Period::Day => ("daily", "date"),
        Period::Week => ("weekly", "week"),
        Period::Month => ("monthly", "month"),
    };
    let rows: Vec<Value> = r
        .rows
        .iter()
        .map(|row| {
            let mut m = Map::new();
            m.insert(label_key.into(), json!(row.period));
            m.insert("period".into(), json!(row.period));
            m.insert("agent".into(), json!(opts.agent.as_deref().map_or("all", ccusage_agent)));
            m.insert("agents".into(), json!(row.agents));
            let names: Vec<&str> = row.agents.iter().map(|a| ccusage_agent(a)).collect();
            m.insert("metadata".into(), json!({ "agents": names }));
            usage_fields(&mut m, &row.summary);
            let (used, breakdowns) = models_json(&row.models);
            m.insert("modelsUsed".into(), used);
            m.insert("modelBreakdowns".into(), breakdowns);
            provenance_fields(&mut m, &row.summary);
            Value::Object(m)
        })
        .collect();
    json!({ list_key: rows, "totals": totals_json(&r.totals), "timezone": opts.zone.name() })
}

fn session_json(rows: &[SessionUsage], totals: &Summary) -> Value {
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("sessionId".into(), json!(r.session.id));
            m.insert("period".into(), json!(r.period()));
            m.insert("agent".into(), json!(ccusage_agent(&r.session.agent)));
            m.insert("agentType".into(), json!(r.session.agent));
            m.insert("projectPath".into(), json!(r.session.project_path));
            m.insert("lastActivity".into(), json!(iso(r.session.last_activity)));
            let mut meta = json!({ "lastActivity": iso(r.session.last_activity) });
            if r.session.agent == "codex" {
                meta["reasoningOutputTokens"] = json!(r.summary.tokens.reasoning);
            }
            m.insert("metadata".into(), meta);
            usage_fields(&mut m, &r.summary);
            let (used, breakdowns) = models_json(&r.models);
            m.insert("modelsUsed".into(), used);
            m.insert("modelBreakdowns".into(), breakdowns);
            provenance_fields(&mut m, &r.summary);
            Value::Object(m)
        })
        .collect();
    json!({ "session": list, "totals": totals_json(totals) })
}

fn blocks_json(bs: &[Block], limit: Option<u64>) -> Value {
    let list: Vec<Value> = bs
        .iter()
        .map(|b| {
            let mut v = block_json(b);
            if let Some(status) = limit.and_then(|l| token_limit_status(b, l)) {
                v["tokenLimitStatus"] = status;
            }
            v
        })
        .collect();
    json!({ "blocks": list })
}

// ---- tables ----

const USAGE_HEADERS: [(&str, Align); 6] = [
    ("Input", Align::Right),
    ("Output", Align::Right),
    ("Cache\nWrite", Align::Right),
    ("Cache\nRead", Align::Right),
    ("Total\nTokens", Align::Right),
    ("Cost\n(USD)", Align::Right),
];

fn usage_cells(s: &Summary, f: &Fmt) -> Vec<String> {
    let t = &s.tokens;
    vec![
        f.num(t.input),
        f.num(t.output),
        f.num(t.cache_creation()),
        f.num(t.cache_read),
        f.num(t.total()),
        usd(s.cost()),
    ]
}

fn model_rows(models: &[ModelUsage], f: &Fmt, first: usize) -> Vec<Vec<String>> {
    models
        .iter()
        .map(|m| {
            let mut row = vec![String::new(); first];
            row[first - 1] = format!("  {}", truncate(&short_model(&m.model), 14));
            row.extend(usage_cells(&m.summary, f));
            row
        })
        .collect()
}

fn footer(totals: &Summary) -> String {
    let sources: Vec<String> = totals.sources.iter().map(|s| s.to_string()).collect();
    let mut out = if sources.is_empty() { String::new() } else { format!("Prices: {}.", sources.join(" + ")) };
    if !totals.unpriced.is_empty() {
        let list: Vec<&str> = totals.unpriced.iter().map(String::as_str).collect();
        out.push_str(&format!(" No price known for {} (cost shown as —).", list.join(", ")));
    }
    out.trim_start().to_string()
}

fn period_table(r: &PeriodReport, a: &CostArgs) -> String {
    let label = match r.period {
        Period::Day => "Date",
        Period::Week => "Week of",
        Period::Month => "Month",
    };
    let mut headers = vec![(label, Align::Left)];
    headers.extend(USAGE_HEADERS);
    let t = table(&headers, &|f| {
        let mut rows = Vec::new();
        for row in &r.rows {
            let mut cells = vec![row.period.clone()];
            cells.extend(usage_cells(&row.summary, f));
            rows.push(cells);
            if a.breakdown {
                rows.extend(model_rows(&row.models, f, 1));
            }
        }
        let mut total = vec!["Total".to_string()];
        total.extend(usage_cells(&r.totals, f));
        rows.push(total);
        rows
    });
    format!("{t}\n{}", footer(&r.totals))
}

fn session_table(rows: &[SessionUsage], totals: &Summary, a: &CostArgs) -> String {
    let headers = [
        ("Session", Align::Left),
        ("Agent", Align::Left),
        ("Project", Align::Left),
        ("Last\nactive", Align::Left),
        ("Tokens", Align::Right),
        ("Cost\n(USD)", Align::Right),
    ];
    let zone = Zone::parse(&a.timezone).unwrap_or(Zone::Local);
    let t = table(&headers, &|f| {
        let mut out = Vec::new();
        for r in rows {
            out.push(vec![
                r.session.id.chars().take(8).collect(),
                agent_display_name(&r.session.agent).to_string(),
                truncate(&project_name(r.session.project_path.as_deref()), f.flex.min(18)),
                zone.format(r.session.last_activity, "%Y-%m-%d"),
                f.num(r.summary.tokens.total()),
                usd(r.summary.cost()),
            ]);
            if a.breakdown {
                for m in &r.models {
                    out.push(vec![
                        String::new(),
                        String::new(),
                        format!("  {}", truncate(&short_model(&m.model), 16)),
                        String::new(),
                        f.num(m.summary.tokens.total()),
                        usd(m.summary.cost()),
                    ]);
                }
            }
        }
        out.push(vec![
            "Total".into(),
            String::new(),
            String::new(),
            String::new(),
            f.num(totals.tokens.total()),
            usd(totals.cost()),
        ]);
        out
    });
    format!("{t}\n{}", footer(totals))
}

fn blocks_table(bs: &[Block], zone: &Zone, now: i64, breakdown: bool, limit: Option<u64>) -> String {
    let mut headers = vec![
        ("Block start", Align::Left),
        ("Status", Align::Left),
        ("Entries", Align::Right),
        ("Tokens", Align::Right),
    ];
    if limit.is_some() {
        headers.push(("% of\nlimit", Align::Right));
    }
    headers.extend([("Cost\n(USD)", Align::Right), ("Models", Align::Left)]);
    // The "% of limit" cell of a row, when there is a limit.
    let pct = |tokens: Option<u64>| {
        limit.map(|l| match tokens {
            Some(t) if l > 0 => format!("{:.1}%", t as f64 / l as f64 * 100.0),
            _ => String::new(),
        })
    };
    let t = table(&headers, &|f| {
        let mut rows = Vec::new();
        for b in bs {
            if b.is_gap {
                let mut row = vec![
                    zone.format(b.start, "%Y-%m-%d %H:%M"),
                    format!("gap {}", crate::output::duration((b.end - b.start) / 1000)),
                    String::new(),
                    String::new(),
                ];
                row.extend(pct(None));
                row.extend([String::new(), String::new()]);
                rows.push(row);
                continue;
            }
            let models: Vec<String> = b.models.iter().map(|m| short_model(m)).collect();
            let mut row = vec![
                zone.format(b.start, "%Y-%m-%d %H:%M"),
                if b.is_active { "active".into() } else { "done".into() },
                f.num(b.entries),
                f.num(b.tokens.total()),
            ];
            row.extend(pct(Some(b.tokens.total())));
            row.extend([usd(Some(b.cost)), truncate(&models.join(", "), f.flex + 4)]);
            rows.push(row);
            if breakdown {
                for m in &b.breakdown {
                    let mut row = vec![
                        format!("  {}", truncate(&short_model(&m.model), 14)),
                        String::new(),
                        f.num(m.summary.events),
                        f.num(m.summary.tokens.total()),
                    ];
                    row.extend(pct(None));
                    row.extend([usd(m.summary.cost()), String::new()]);
                    rows.push(row);
                }
            }
        }
        rows
    });
    let mut out = t;
    if let Some(b) = bs.iter().find(|b| b.is_active) {
        let left = crate::output::duration((b.end - now) / 1000);
        if let (Some(r), Some(p)) = (&b.burn_rate, &b.projection) {
            out.push_str(&format!(
                "\nActive block ends {} ({left} left). Burn rate: {} tokens/min, {}/hour.\nProjected by its end: {} tokens, {}.",
                zone.format(b.end, "%H:%M"),
                crate::output::thousands(r.tokens_per_minute.round() as u64),
                usd(Some(r.cost_per_hour)),
                crate::output::thousands(p.total_tokens),
                usd(Some(p.total_cost)),
            ));
        }
        if let Some(l) = limit.filter(|l| *l > 0) {
            let used = b.tokens.total();
            out.push_str(&format!(
                "\nToken limit {}: {} used ({:.1}%), {} left.",
                crate::output::thousands(l),
                crate::output::thousands(used),
                used as f64 / l as f64 * 100.0,
                crate::output::thousands(l.saturating_sub(used)),
            ));
            if let Some(p) = &b.projection {
                let status = match token_limit_level(p.total_tokens, l) {
                    "exceeds" => "exceeds the limit",
                    "warning" => "over 80%",
                    s => s,
                };
                out.push_str(&format!(" Projected: {:.1}% ({status}).", p.total_tokens as f64 / l as f64 * 100.0));
            }
        }
    }
    out
}
