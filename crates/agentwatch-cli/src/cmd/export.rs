//! `agentwatch export status`: what `[export.otlp]` sends, exactly, with the
//! values of now (or that nothing leaves the machine).

use std::path::Path;

use agentwatch_core::Result;
use agentwatch_core::config::Config;
use agentwatch_core::export;

use crate::cli::Format;
use crate::context::Ctx;
use crate::output::{emit, emit_json, printable};

pub fn status(data_dir: Option<&Path>, format: Format) -> Result<()> {
    // Strict: a mistake in the settings is said, not defaulted away.
    let cfg = Config::load(&agentwatch_core::paths::Dirs::resolve(data_dir)?)?;
    let ctx = Ctx::open(data_dir)?;
    let p = export::preview(&ctx.dirs, &cfg, &ctx.store, &ctx.prices, agentwatch_core::util::now_ms())?;
    if format == Format::Json {
        emit_json(&p);
        return Ok(());
    }
    if !p.enabled {
        emit(&format!(
            "OTLP export is off: nothing leaves this machine.\nTo send these figures to an OpenTelemetry Collector, add to {}:\n\n  [export.otlp]\n  endpoint = \"http://collector:4318\"",
            ctx.dirs.config_file().display()
        ));
        return Ok(());
    }
    let mut out = String::from("OTLP export is on (sent by `agentwatch daemon` or the desktop app).\n");
    out.push_str(&format!(
        "  Metrics     POST {} every {} s (OTLP/HTTP, protobuf)\n",
        p.metrics_url.as_deref().unwrap_or(""),
        p.interval_secs.unwrap_or(0)
    ));
    match &p.logs_url {
        Some(u) => out
            .push_str(&format!("  Logs        POST {u}: one {} event per session state change\n", export::STATE_EVENT)),
        None => out.push_str("  Logs        none (state_changes = false)\n"),
    }
    if !p.headers.is_empty() {
        let names: Vec<&str> = p.headers.iter().map(|(k, _)| k.as_str()).collect();
        out.push_str(&format!("  Headers     {} (values not shown)\n", names.join(", ")));
    }
    out.push_str("\nResource\n");
    for (k, v) in &p.resource {
        out.push_str(&format!("  {k} = {}\n", printable(v)));
    }
    out.push_str("\nMetrics, as they would be sent now\n");
    for pt in &p.points {
        let labels: Vec<String> = pt.labels.iter().map(|(k, v)| format!("{k}=\"{}\"", printable(v))).collect();
        let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
        out.push_str(&format!("  {}{labels} {} ({})\n", pt.name, fmt_value(pt.value), pt.kind));
    }
    emit(out.trim_end());
    Ok(())
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v:.6}") }
}
