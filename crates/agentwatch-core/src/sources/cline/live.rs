//! Cline 4, live. `@cline/core` keeps a row per session in
//! `data/db/sessions.db` (`sessions`, cline/cline
//! `sdk/packages/shared/src/db/sqlite-db.ts`): its `pid` is the process
//! that runs it (`process.pid`, `sdk/packages/core/src/runtime/host/
//! local/session-record.ts`), and a sub-agent's row has `is_subagent` 1.
//! Its `status` (`sdk/packages/shared/src/session/records.ts`) is where the
//! turn stands, kept current by `runtime/host/local-runtime-host.ts`:
//! `running` while a turn runs (`markTurnRunning`), `pending` while a tool
//! waits for approval (`markTurnPending`, around `requestToolApproval`),
//! `idle` at the prompt (`markTurnIdle`); `completed`, `failed` and
//! `cancelled` once it ended. Its `updated_at` is when it changed. So a
//! running process is linked exactly to the newest top-level session not
//! ended that names one of its pids, with its turn.
//!
//! Unless its session runs in Cline's hub daemon (seen with CLI 3.0.65: the
//! first CLI started in a home starts the hub, detached, and runs its own
//! sessions itself until the hub is up; a CLI started while a hub runs has
//! the hub run its sessions): then the row names the hub's pid, and nothing
//! in Cline's databases names the CLI that asked for it. Such a process is
//! linked to the newest session not ended in its working directory begun
//! since it started (two CLIs in one folder at once may be taken for each
//! other). The database is opened read-only (`storage::sqlite`), never
//! written.

use std::path::{Path, PathBuf};

use crate::liveness::{Signal, Turn, WaitingFor};
use crate::sources::storage::sqlite::Db;
use crate::sources::{LiveProcess, RegistryError, TranscriptLink, TurnInfo, parse_ts};

/// Where a turn stands, by a session's `status`; `None` once it ended.
fn status_turn(status: &str) -> Option<Turn> {
    match status {
        "running" => Some(Turn::Working),
        "pending" => Some(Turn::Waiting(WaitingFor::Permission)),
        "idle" => Some(Turn::IDLE),
        _ => None,
    }
}

/// The session `sessions.db` says one of the process's pids runs, and
/// where its turn stands.
pub fn registry_link(db: &Path, sessions: Option<&Path>, p: &LiveProcess) -> Result<TranscriptLink, RegistryError> {
    if !db.is_file() {
        return Err(RegistryError::Missing);
    }
    let db = Db::open(db).map_err(RegistryError::Malformed)?;
    // (session, started, turn, status changed)
    let mut best: Option<(String, String, Turn, String)> = None;
    for pid in &p.pids {
        let pid = i64::from(*pid);
        db.each(
            "SELECT session_id, started_at, status, updated_at FROM sessions
              WHERE pid = ?1 AND status IN ('running', 'pending', 'idle') AND COALESCE(is_subagent, 0) = 0",
            &[&pid],
            &mut |r| {
                let (Ok(id), Ok(at), Ok(status)) =
                    (r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2))
                else {
                    return;
                };
                let Some(turn) = status_turn(&status) else { return };
                let changed = r.get::<_, String>(3).unwrap_or_default();
                if !id.is_empty() && best.as_ref().is_none_or(|(_, b, _, _)| at > *b) {
                    best = Some((id, at, turn, changed));
                }
            },
        )
        .map_err(RegistryError::Malformed)?;
    }
    if best.is_none()
        && let Some(cwd) = p.cwd.as_ref().and_then(|c| c.to_str())
    {
        // Run by the hub: in its folder, begun since the process started.
        let since = p.start.saturating_sub(2) * 1000;
        db.each(
            "SELECT session_id, started_at, status, updated_at FROM sessions
              WHERE cwd = ?1 AND status IN ('running', 'pending', 'idle') AND COALESCE(is_subagent, 0) = 0",
            &[&cwd],
            &mut |r| {
                let (Ok(id), Ok(at), Ok(status)) =
                    (r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2))
                else {
                    return;
                };
                let begun = parse_ts(&at).map(|t| t.timestamp_millis());
                let Some(turn) = status_turn(&status).filter(|_| begun.is_some_and(|b| b >= since)) else { return };
                let changed = r.get::<_, String>(3).unwrap_or_default();
                if !id.is_empty() && best.as_ref().is_none_or(|(_, b, _, _)| at > *b) {
                    best = Some((id, at, turn, changed));
                }
            },
        )
        .map_err(RegistryError::Malformed)?;
    }
    let (id, _, turn, changed) = best.ok_or(RegistryError::Missing)?;
    // Its messages file, where Cline keeps it (a session id is a plain name).
    let path: Option<PathBuf> = sessions
        .filter(|_| !id.contains(['/', '\\']) && id != "." && id != "..")
        .map(|s| s.join(&id).join(format!("{id}{}", super::paths::MESSAGES)));
    let now = crate::util::now_ms();
    let at = parse_ts(&changed).and_then(|t| crate::liveness::plausible(t.timestamp_millis(), now));
    Ok(TranscriptLink {
        external_id: id,
        path,
        turn: Some(TurnInfo::new(turn, at, Signal::Registry)),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_linked_to_the_session_that_names_its_pid_with_its_turn() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("sessions.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(include_str!("fixtures/sessions-db.sql")).unwrap();
        let p = |pids: Vec<u32>| LiveProcess { pids, start: 0, cwd: None };
        let sessions = Path::new("/home/u/.cline/data/sessions");
        let l = registry_link(&db, Some(sessions), &p(vec![4100, 85916])).unwrap();
        assert_eq!(l.external_id, "1784094124598_rruoq", "the newest top-level session of its pids not ended");
        assert_eq!(l.path, Some(sessions.join("1784094124598_rruoq/1784094124598_rruoq.messages.json")));
        let changed = parse_ts("2026-07-16T01:00:00.412Z").map(|t| t.timestamp_millis());
        assert_eq!(l.turn, Some(TurnInfo::new(Turn::Working, changed, Signal::Registry)), "running: a turn runs");
        // Its status as Cline 3.0.65 keeps it between turns and at an approval.
        let turn_when = |status: &str| {
            let other = rusqlite::Connection::open(&db).unwrap();
            other
                .execute("UPDATE sessions SET status = ?1 WHERE session_id = '1784094124598_rruoq'", [status])
                .unwrap();
            registry_link(&db, None, &p(vec![85916])).map(|l| (l.external_id, l.turn.map(|t| t.turn)))
        };
        let rruoq = || "1784094124598_rruoq".to_string();
        assert_eq!(turn_when("idle"), Ok((rruoq(), Some(Turn::IDLE))));
        assert_eq!(turn_when("pending"), Ok((rruoq(), Some(Turn::Waiting(WaitingFor::Permission)))));
        assert_eq!(turn_when("cancelled"), Err(RegistryError::Missing), "ended: no session of a live process");
        turn_when("running").unwrap();
        // Run by the hub daemon (pid 7000) for a CLI in /home/alice/src/api.
        let hub = rusqlite::Connection::open(&db).unwrap();
        hub.execute(
            "INSERT INTO sessions SELECT '1784100000000_hubrn', source, 7000, '2026-07-15T07:20:00.000Z', NULL, NULL,
               'pending', status_lock, interactive, provider, model, '/home/alice/src/api', '/home/alice/src/api',
               team_name, enable_tools, enable_spawn, enable_teams, NULL, NULL, NULL, NULL, 0, prompt, metadata_json,
               transcript_path, hook_path, NULL, '2026-07-15T07:20:05.000Z'
               FROM sessions WHERE session_id = '1784000000000_abcde'",
            [],
        )
        .unwrap();
        let started = |at: &str| parse_ts(at).unwrap().timestamp();
        let cli = |start: i64, cwd: &str| LiveProcess { pids: vec![9100, 9101], start, cwd: Some(cwd.into()) };
        let l = registry_link(&db, None, &cli(started("2026-07-15T07:19:30Z"), "/home/alice/src/api")).unwrap();
        assert_eq!(
            (l.external_id.as_str(), l.turn.map(|t| t.turn)),
            ("1784100000000_hubrn", Some(Turn::Waiting(WaitingFor::Permission)))
        );
        let late = cli(started("2026-07-15T07:25:00Z"), "/home/alice/src/api");
        assert_eq!(registry_link(&db, None, &late), Err(RegistryError::Missing), "begun before the process");
        let elsewhere = cli(started("2026-07-15T07:19:30Z"), "/home/alice/src/web");
        assert_eq!(registry_link(&db, None, &elsewhere), Err(RegistryError::Missing));
        hub.execute("DELETE FROM sessions WHERE session_id = '1784100000000_hubrn'", []).unwrap();
        assert_eq!(registry_link(&db, None, &p(vec![4242])), Err(RegistryError::Missing), "its session ended");
        assert_eq!(registry_link(&db, None, &p(vec![1])), Err(RegistryError::Missing));
        assert_eq!(registry_link(&t.path().join("none.db"), None, &p(vec![85916])), Err(RegistryError::Missing));
        // Read only: the database is as it was.
        let n: i64 = c.query_row("SELECT count(*) FROM sessions", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 4);
    }

    #[test]
    fn a_row_that_cannot_be_read_is_skipped_and_a_garbage_database_is_said() {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("sessions.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(include_str!("fixtures/sessions-db.sql")).unwrap();
        // Newer rows of the same process whose id or start is not text (a
        // blob keeps its type in a TEXT column): skipped, not fatal.
        c.execute_batch(
            "INSERT INTO sessions SELECT X'ff00', source, pid, '2026-07-30T00:00:00.000Z', ended_at, exit_code, status,
               status_lock, interactive, provider, model, cwd, workspace_root, team_name, enable_tools, enable_spawn,
               enable_teams, parent_session_id, parent_agent_id, agent_id, conversation_id, is_subagent, prompt,
               metadata_json, transcript_path, hook_path, messages_path, updated_at
               FROM sessions WHERE session_id = '1784094124598_rruoq';
             INSERT INTO sessions SELECT 'zz_blob_start', source, pid, X'32303236', ended_at, exit_code, status,
               status_lock, interactive, provider, model, cwd, workspace_root, team_name, enable_tools, enable_spawn,
               enable_teams, parent_session_id, parent_agent_id, agent_id, conversation_id, is_subagent, prompt,
               metadata_json, transcript_path, hook_path, messages_path, updated_at
               FROM sessions WHERE session_id = '1784094124598_rruoq';",
        )
        .unwrap();
        let p = LiveProcess { pids: vec![85916], start: 0, cwd: None };
        assert_eq!(registry_link(&db, None, &p).map(|l| l.external_id), Ok("1784094124598_rruoq".to_string()));
        let garbage = t.path().join("garbage.db");
        std::fs::write(&garbage, b"this is not a database, just text that goes on for a while").unwrap();
        assert!(
            matches!(registry_link(&garbage, None, &p), Err(RegistryError::Malformed(e)) if e.contains("not a database"))
        );
    }
}
