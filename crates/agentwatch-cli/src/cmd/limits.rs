//! `agentwatch limits`: the plan windows the agents reported.

use std::path::Path;

use agentwatch_core::Result;
use agentwatch_core::limits::{self, age, local_time, percent};
use agentwatch_core::model::agent_short_name;

use crate::cli::{Format, LimitsArgs};
use crate::context::Ctx;
use crate::output::{Align, emit, emit_json, table};

pub fn run(data_dir: Option<&Path>, a: &LimitsArgs) -> Result<()> {
    let mut ctx = Ctx::open(data_dir)?;
    ctx.refresh(a.no_ingest)?;
    let now = agentwatch_core::util::now_ms();
    let report = limits::report(&ctx.store, now)?;
    let list = &report.limits;
    match a.format {
        Format::Json => emit_json(&report),
        Format::Table if list.is_empty() => emit(
            "No plan limits seen yet. Codex reports them in its rollouts as you use it; Claude Code hands them to \
             its status line (`agentwatch statusline install --agent claude-code`). API-key users have none.",
        ),
        Format::Table => {
            let headers = [
                ("Plan", Align::Left),
                ("Window", Align::Left),
                ("Used", Align::Right),
                ("Resets", Align::Left),
                ("Full at", Align::Left),
                ("As of", Align::Left),
            ];
            emit(&table(&headers, &|_| {
                list.iter()
                    .map(|l| {
                        let resets = match (l.reset_passed, l.resets_at_ms) {
                            (true, _) => "reset".into(),
                            (false, Some(r)) => local_time(r, now),
                            (false, None) => "—".into(),
                        };
                        let full = l.full_at_ms.map_or("—".into(), |f| local_time(f, now));
                        let as_of =
                            format!("{} ago{}", age(now - l.observed_at_ms), if l.stale { " (stale)" } else { "" });
                        vec![
                            agent_short_name(&l.agent).to_string(),
                            l.window.clone(),
                            format!("{}%", percent(l.used_percent)),
                            resets,
                            full,
                            as_of,
                        ]
                    })
                    .collect()
            }));
        }
    }
    Ok(())
}
