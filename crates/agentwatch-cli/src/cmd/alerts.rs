//! `agentwatch alerts [snooze|resume]`

use std::path::Path;

use agentwatch_core::Result;
use agentwatch_core::alerts;
use agentwatch_core::store::find_session;

use crate::cli::{AlertsArgs, AlertsCmd, Format};
use crate::context::Ctx;
use crate::output::{Align, emit, emit_json, table, truncate};

pub fn run(data_dir: Option<&Path>, a: &AlertsArgs) -> Result<()> {
    let ctx = Ctx::open(data_dir)?;
    match &a.command {
        None => {
            let list = alerts::list(&ctx.store, a.limit)?;
            match a.format {
                Format::Json => emit_json(&serde_json::json!({ "alerts": list })),
                Format::Table if list.is_empty() => emit("No alerts yet."),
                Format::Table => {
                    let headers = [("When", Align::Left), ("Alert", Align::Left), ("Shown", Align::Left)];
                    emit(&table(&headers, &|f| {
                        list.iter()
                            .map(|x| {
                                let at = chrono::DateTime::parse_from_rfc3339(&x.at)
                                    .map(|t| t.with_timezone(&chrono::Local).format("%m-%d %H:%M").to_string())
                                    .unwrap_or_default();
                                let shown = match (&x.suppressed, x.delivered) {
                                    (Some(why), _) => why.clone(),
                                    (None, true) => "yes".into(),
                                    (None, false) => "no".into(),
                                };
                                vec![at, truncate(&x.title, f.flex + 40), shown]
                            })
                            .collect()
                    }));
                }
            }
        }
        Some(AlertsCmd::Snooze(s)) => {
            let until = chrono::Utc::now().timestamp_millis() + s.duration.as_millis() as i64;
            let (scope, what) = if s.target == "all" {
                ("all".to_string(), "All alerts".to_string())
            } else {
                let session = find_session(&ctx.store, &s.target)?;
                (session.id.clone(), format!("Alerts for {}", &session.id[..session.id.len().min(8)]))
            };
            alerts::snooze(&ctx.store, &scope, until)?;
            let local =
                chrono::DateTime::from_timestamp_millis(until).unwrap_or_default().with_timezone(&chrono::Local);
            emit(&format!("{what} are snoozed until {}.", local.format("%Y-%m-%d %H:%M")));
        }
        Some(AlertsCmd::Resume) => {
            let n = alerts::resume(&ctx.store)?;
            emit(if n == 0 { "Nothing was snoozed." } else { "Alerts resumed." });
        }
    }
    Ok(())
}
