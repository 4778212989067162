//! `agentwatch status`: is a monitor running, and what does the database hold.

use std::path::Path;

use agentwatch_core::Result;
use agentwatch_core::monitor;
use serde_json::{Value, json};

use crate::cli::Format;
use crate::context::Ctx;
use crate::output::{emit, emit_json, thousands};

pub fn run(data_dir: Option<&Path>, format: Format) -> Result<()> {
    let ctx = Ctx::open(data_dir)?;
    let pid = monitor::holder(&ctx.dirs);
    let answers = monitor::takes_questions(&ctx.dirs);
    let last_scan: Option<Value> = ctx.store.meta("last_scan")?.and_then(|s| serde_json::from_str(&s).ok());
    let (sessions, live, events) = ctx.store.counts()?;
    let db = ctx.store.path().to_path_buf();
    let bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let config = ctx.dirs.config_file();
    let otel = agentwatch_core::otel::Tally::load(&ctx.store)?;
    match format {
        Format::Json => emit_json(&json!({
            "monitor": { "running": pid.is_some(), "pid": pid, "lastScan": last_scan, "answersReports": answers },
            "database": { "path": db, "bytes": bytes, "sessions": sessions, "liveSessions": live, "usageEvents": events },
            "config": { "path": config, "exists": config.exists() },
            "telemetry": otel,
        })),
        Format::Table => {
            let scan = last_scan.as_ref().map(|s| {
                let ago = (chrono::Utc::now().timestamp_millis() - s["at"].as_i64().unwrap_or(0)) as f64 / 1000.0;
                format!(
                    "last scan {ago:.0} s ago (#{}, {:.1} ms, {} agents{})",
                    s["scan"],
                    s["ms"].as_f64().unwrap_or(0.0),
                    s["agents"],
                    match s["malformedRecords"].as_u64().unwrap_or(0) {
                        0 => String::new(),
                        n => format!(", {n} malformed agent records ignored"),
                    }
                )
            });
            let monitor = match pid {
                Some(p) => format!(
                    "running (pid {p}){}{}",
                    scan.map(|s| format!("; {s}")).unwrap_or_default(),
                    if answers { "; reports ask it what changed" } else { "" }
                ),
                None => {
                    "not running (start one with `agentwatch daemon`; `sessions` looks at processes itself meanwhile)"
                        .into()
                }
            };
            let telemetry = match &otel {
                Some(t) => format!(
                    "\nTelemetry {} events from the agents' OpenTelemetry ({} model calls), the last {} ago",
                    thousands(t.events),
                    thousands(t.calls),
                    agentwatch_core::limits::age(chrono::Utc::now().timestamp_millis() - t.last_at)
                ),
                None => String::new(),
            };
            emit(&format!(
                "Monitor   {monitor}\nDatabase  {} ({:.1} MB): {} sessions ({} live), {} usage events\nConfig    {}{}{telemetry}",
                db.display(),
                bytes as f64 / 1_048_576.0,
                thousands(sessions as u64),
                thousands(live as u64),
                thousands(events as u64),
                config.display(),
                if config.exists() { "" } else { " (not present: defaults)" },
            ));
        }
    }
    Ok(())
}
