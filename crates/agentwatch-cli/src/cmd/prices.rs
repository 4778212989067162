//! `agentwatch prices show|update`

use std::path::Path;

use agentwatch_core::paths::Dirs;
use agentwatch_core::pricing::{PriceBook, import_list};
use agentwatch_core::{Error, Result};
use serde_json::json;

use crate::cli::{Format, PricesCmd, PricesShowArgs, PricesUpdateArgs};
use crate::context::Ctx;
use crate::output::{Align, emit, emit_json, table, truncate};

pub fn run(data_dir: Option<&Path>, c: PricesCmd) -> Result<()> {
    match c {
        PricesCmd::Show(a) => show(data_dir, &a),
        PricesCmd::Update(a) => update(data_dir, &a),
    }
}

/// Dollars per million tokens: `$15.00`, `$3.00`, `$0.30`, `$0.075`.
fn per_m(p: f64) -> String {
    let v = p * 1e6;
    let s = if v >= 1.0 { format!("{v:.2}") } else { format!("{v:.3}") };
    let s = if v < 1.0 && s.ends_with('0') { s[..s.len() - 1].to_string() } else { s };
    format!("${s}")
}

fn show(data_dir: Option<&Path>, a: &PricesShowArgs) -> Result<()> {
    let ctx = Ctx::open(data_dir)?;
    let models: Vec<String> = if a.models.is_empty() { ctx.store.model_names()? } else { a.models.clone() };
    let lists: Vec<_> = ctx
        .prices
        .lists()
        .iter()
        .map(|l| json!({"source": l.source, "description": l.description, "models": l.models.len()}))
        .collect();
    let priced: Vec<_> = models
        .iter()
        .map(|m| match ctx.prices.lookup(m) {
            Some(p) => json!({
                "model": m,
                "source": p.source,
                "inputPerMTok": p.price.input * 1e6,
                "outputPerMTok": p.price.output * 1e6,
                "cacheWrite5mPerMTok": p.price.cache_write_5m * 1e6,
                "cacheWrite1hPerMTok": p.price.cache_write_1h * 1e6,
                "cacheReadPerMTok": p.price.cache_read * 1e6,
                "above200k": p.price.input_hi.is_some(),
                "fastMultiplier": p.price.fast_multiplier,
            }),
            None => json!({ "model": m, "source": "unknown" }),
        })
        .collect();
    match a.format {
        Format::Json => emit_json(&json!({ "lists": lists, "models": priced })),
        Format::Table => {
            let mut out = String::from("Price lists, first match wins:\n");
            for l in ctx.prices.lists() {
                out.push_str(&format!("  {:>4} models  {}\n", l.models.len(), l.description));
            }
            out.push_str(&format!("  override file: {}\n", ctx.dirs.price_override_file().display()));
            if models.is_empty() {
                out.push_str("\nNo models used yet. Name some: agentwatch prices show claude-sonnet-4-5 gpt-5");
            } else {
                out.push_str("\nPer million tokens:\n");
                let headers = [
                    ("Model", Align::Left),
                    ("Input", Align::Right),
                    ("Output", Align::Right),
                    ("Cache\nwrite", Align::Right),
                    ("Cache\nread", Align::Right),
                    ("Source", Align::Left),
                ];
                out.push_str(&table(&headers, &|f| {
                    models
                        .iter()
                        .map(|m| match ctx.prices.lookup(m) {
                            Some(p) => vec![
                                truncate(m, f.flex),
                                per_m(p.price.input),
                                per_m(p.price.output),
                                per_m(p.price.cache_write_5m),
                                per_m(p.price.cache_read),
                                p.source.to_string(),
                            ],
                            None => {
                                vec![
                                    truncate(m, f.flex),
                                    "—".into(),
                                    "—".into(),
                                    "—".into(),
                                    "—".into(),
                                    "unknown".into(),
                                ]
                            }
                        })
                        .collect()
                }));
            }
            emit(&out);
        }
    }
    Ok(())
}

fn update(data_dir: Option<&Path>, a: &PricesUpdateArgs) -> Result<()> {
    let dirs = Dirs::resolve(data_dir)?;
    if a.from.is_dir() {
        return Err(Error::Usage(format!("{}: is a directory, not a price list file", a.from.display())));
    }
    if !a.from.is_file() {
        return Err(Error::Usage(format!("{}: no such file", a.from.display())));
    }
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let n = import_list(&dirs, &a.from, &today)?;
    // Validate that the result loads before telling the user it worked.
    PriceBook::load(&dirs)?;
    emit(&format!(
        "Imported prices for {n} model{} from {}. They are used before the built-in snapshot; your override file still wins.",
        if n == 1 { "" } else { "s" },
        a.from.display()
    ));
    Ok(())
}
