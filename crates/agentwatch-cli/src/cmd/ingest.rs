//! `agentwatch ingest`

use agentwatch_core::Result;
use serde_json::json;

use crate::cli::{Format, IngestArgs};
use crate::context::Ctx;
use crate::output::{emit, emit_json, thousands};

pub fn run(ctx: &mut Ctx, a: &IngestArgs) -> Result<()> {
    let r = ctx.ingest()?;
    match a.format {
        Format::Json => emit_json(&json!({
            "filesScanned": r.files_scanned,
            "filesRead": r.files_read,
            "filesReset": r.files_reset,
            "filesFailed": r.files_failed,
            "unreadableFiles": r.unreadable.iter().map(|u| json!({"path": u.path, "error": u.error})).collect::<Vec<_>>(),
            "bytesRead": r.bytes_read,
            "newEvents": r.new_events,
            "duplicateEvents": r.duplicate_events,
            "replacedEvents": r.replaced_events,
            "removedEvents": r.removed_events,
            "malformedLines": r.malformed_lines,
            "sessionsUpdated": r.sessions_updated,
            "elapsedMs": r.elapsed.as_millis() as u64,
            "database": ctx.store.path(),
        })),
        Format::Table => {
            let mut s = format!(
                "Scanned {} files, read {} ({}): {} new events, {} malformed lines skipped, in {:.2} s.",
                thousands(r.files_scanned),
                thousands(r.files_read),
                bytes(r.bytes_read),
                thousands(r.new_events),
                thousands(r.malformed_lines),
                r.elapsed.as_secs_f64()
            );
            if r.removed_events > 0 {
                s.push_str(&format!(
                    "\n{} calls left the totals: the documents that held them were rewritten without them.",
                    thousands(r.removed_events)
                ));
            }
            if r.files_reset > 0 {
                s.push_str(&format!("\n{} changed files were read again from the start.", thousands(r.files_reset)));
            }
            if r.files_failed > 0 {
                s.push_str(&format!(
                    "\n{} file{} could not be read and {} skipped (named above).",
                    thousands(r.files_failed),
                    if r.files_failed == 1 { "" } else { "s" },
                    if r.files_failed == 1 { "was" } else { "were" }
                ));
            }
            emit(&s);
        }
    }
    Ok(())
}

pub fn bytes(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KB", n as f64 / 1024.0),
        1_048_576..=1_073_741_823 => format!("{:.1} MB", n as f64 / 1_048_576.0),
        _ => format!("{:.2} GB", n as f64 / 1_073_741_824.0),
    }
}
