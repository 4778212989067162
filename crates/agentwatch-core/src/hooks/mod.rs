//! Agent hooks: each agent runs `agentwatch hook --agent <id>` on its hook
//! events (Claude Code's and Gemini CLI's hooks, Codex's hooks and its
//! `notify`, OpenCode's plugin), or posts them to the API. Each call records
//! a heartbeat, where the turn stands (what a permission prompt or question
//! is about) and tool calls, then judges the session at once.
//!
//! What each agent's events mean is read in its own folder
//! (`sources/<agent>/hooks.rs`, [`crate::sources::Source::hook_event`]);
//! this module applies the result.

use serde_json::Value;

use crate::collector::judge_now;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::liveness::{Reported, Signal};
use crate::sources::{Source, SourceEnv};
use crate::store::{Registration, Report, Store};

pub mod spool;

/// The agent ids (and aliases) `agentwatch hook --agent` takes.
pub fn agents(sources: &[Box<dyn Source>]) -> Vec<&'static str> {
    sources
        .iter()
        .filter(|s| s.has_hooks())
        .flat_map(|s| std::iter::once(s.agent()).chain(s.info().aliases.iter().copied()))
        .collect()
}

/// The source whose hooks `agent` names.
fn source<'a>(sources: &'a [Box<dyn Source>], agent: &str) -> Result<&'a dyn Source> {
    sources
        .iter()
        .find(|s| s.info().is_named(agent))
        .map(|s| s.as_ref())
        .filter(|s| s.has_hooks())
        .ok_or_else(|| Error::Usage(format!("unknown agent '{agent}' (expected {})", agents(sources).join(", "))))
}

/// Records one hook event of `agent` at `now`.
pub fn record(
    store: &Store,
    cfg: &Config,
    env: &SourceEnv,
    agent: &str,
    payload: &Value,
    now: i64,
) -> Result<HookOutcome> {
    let sources = crate::sources::all(env);
    let src = source(&sources, agent)?;
    let ev = src.hook_event(payload).map_err(Error::Usage)?;
    if ev.ignore {
        return Ok(HookOutcome { session_id: String::new(), event: ev.event });
    }
    // Only the agent's own transcripts: a payload may name any file.
    let transcript =
        ev.transcript_path.as_deref().filter(|p| src.session_of(p).is_some()).map(|p| p.display().to_string());
    let agent = src.agent();
    let pk = if ev.session_id.is_empty() {
        // Codex's notify without a thread id: its session in that directory.
        let dir = ev.cwd.as_deref().unwrap_or("");
        store.live_session_in(agent, dir)?.ok_or_else(|| Error::NotFound(format!("no {agent} session in {dir}")))?
    } else {
        // The running process the event came from: its session is this one.
        if let Some(pid) = ev.pid
            && let Some(s) = store.session_by_pid(pid)?
            && s.agent == agent
            && s.external_id.is_none()
        {
            store.link_external(s.pk, agent, &ev.session_id, transcript.as_deref(), now)?;
        }
        let r = Registration {
            agent: agent.into(),
            external_id: Some(ev.session_id.clone()),
            source: "hook".into(),
            project_path: ev.cwd.clone(),
            transcript_path: transcript,
            heartbeats: true,
            ..Default::default()
        };
        store.register(&r, now)?.0.pk
    };
    let mut report =
        Report { heartbeat: true, by: Some(Signal::Hook), turn: ev.turn, tool: ev.tool, ..Default::default() };
    if ev.keep_tool
        && report.tool.is_none()
        && let Some(s) = store.session_by_pk(pk)?
        && s.live.reported_turn == ev.turn
    {
        report.tool = s.live.reported_tool;
    }
    if ev.ended {
        report.state = Some(Reported::Complete);
    } else if ev.started {
        // A session that starts again (resume) is no longer ended.
        report.state = Some(Reported::Working);
    }
    if let Some((tool, failed)) = &ev.tool_call {
        store.record_tool_call(pk, tool, "hook", *failed, now)?;
    }
    store.report(pk, &report, now)?;
    judge_now(store, cfg, pk, &format!("hook {}", ev.event))?;
    let id = store.session_by_pk(pk)?.map(|s| s.id).unwrap_or_default();
    Ok(HookOutcome { session_id: id, event: ev.event })
}

/// What a hook call did, for logs and tests. `session_id` is empty for an
/// event that concerns no session (Codex's title thread).
#[derive(Debug, Clone, PartialEq)]
pub struct HookOutcome {
    pub session_id: String,
    pub event: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SessionState;
    use crate::paths::Dirs;
    use serde_json::json;

    fn env(home: &std::path::Path) -> SourceEnv {
        SourceEnv { home: Some(home.to_path_buf()), ..Default::default() }
    }

    fn hook(store: &Store, home: &std::path::Path, event: &str, extra: Value) -> SessionState {
        let mut p = json!({"session_id": "s-1", "transcript_path": "/t/s-1.jsonl", "cwd": "/home/u/app", "hook_event_name": event});
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let out = record(store, &Config::default(), &env(home), "claude-code", &p, crate::util::now_ms()).unwrap();
        crate::store::find_session(store, &out.session_id).unwrap().state
    }

    #[test]
    fn claude_events_drive_the_state() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let h = t.path();
        assert_eq!(hook(&store, h, "SessionStart", json!({"source": "startup"})), SessionState::Waiting);
        assert_eq!(hook(&store, h, "UserPromptSubmit", json!({"prompt": "fix it"})), SessionState::Working);
        assert_eq!(hook(&store, h, "PreToolUse", json!({"tool_name": "Bash"})), SessionState::Working);
        let bash = json!({"tool_name": "Bash", "tool_input": {"command": "rm -rf build"}});
        assert_eq!(hook(&store, h, "PermissionRequest", bash), SessionState::Waiting);
        let s = crate::store::find_session(&store, "s-1").unwrap();
        assert_eq!(s.live.waiting_for, Some(crate::liveness::WaitingFor::Permission));
        assert_eq!(s.live.pending_tool.as_ref().map(|t| t.label()).as_deref(), Some("Bash(rm -rf build)"));
        // The reminder 6 s later keeps the tool.
        hook(&store, h, "Notification", json!({"notification_type": "permission_prompt"}));
        let s = crate::store::find_session(&store, "s-1").unwrap();
        assert_eq!(s.live.pending_tool.map(|t| t.name).as_deref(), Some("Bash"));
        hook(&store, h, "PostToolUse", json!({"tool_name": "Bash", "tool_response": {"stdout": "ok"}}));
        let s = crate::store::find_session(&store, "s-1").unwrap();
        assert_eq!((s.state, s.live.waiting_for, s.live.pending_tool.as_ref()), (SessionState::Working, None, None));
        hook(&store, h, "PostToolUse", json!({"tool_name": "Edit", "tool_response": {"success": false}}));
        assert_eq!(hook(&store, h, "Stop", json!({})), SessionState::Waiting);
        let s = crate::store::find_session(&store, "s-1").unwrap();
        assert_eq!((s.live.tool_calls, s.live.errors, s.live.last_tool.as_deref()), (2, 1, Some("Edit")));
        assert_eq!((s.source.as_str(), s.project_path.as_deref()), ("hook", Some("/home/u/app")));
        assert_eq!(
            (s.live.waiting_for, s.live.state_signal),
            (Some(crate::liveness::WaitingFor::Input), Some(Signal::Hook))
        );
        assert!(s.live.heartbeat_at.is_some());
        assert_eq!(hook(&store, h, "SessionEnd", json!({"reason": "prompt_input_exit"})), SessionState::Completed);
        // `claude --resume` starts it again.
        assert_eq!(hook(&store, h, "SessionStart", json!({"source": "resume"})), SessionState::Waiting);
    }

    #[test]
    fn a_hook_event_from_before_a_death_does_not_bring_the_session_back() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let (cfg, env) = (Config::default(), env(t.path()));
        let p = |event: &str| json!({"session_id": "s-1", "cwd": "/w", "hook_event_name": event, "notification_type": "permission_prompt"});
        let out = record(&store, &cfg, &env, "claude-code", &p("Notification"), 1_000).unwrap();
        let pk = crate::store::find_session(&store, &out.session_id).unwrap().pk;
        // The agent was killed at 2 s: dead.
        let dead = crate::liveness::Verdict {
            state: SessionState::Dead,
            waiting_for: None,
            signal: crate::liveness::Signal::Process,
        };
        store.record_verdict(pk, &dead, None, 2_000, "process exited", None).unwrap();
        // Its last hook event, applied late (it waited in the spool), happened at 1.5 s.
        record(&store, &cfg, &env, "claude-code", &p("Notification"), 1_500).unwrap();
        assert_eq!(crate::store::find_session(&store, "s-1").unwrap().state, SessionState::Dead);
        // A resume, after the death, does.
        let resume = json!({"session_id": "s-1", "cwd": "/w", "hook_event_name": "SessionStart", "source": "resume"});
        record(&store, &cfg, &env, "claude-code", &resume, crate::util::now_ms()).unwrap();
        assert_eq!(crate::store::find_session(&store, "s-1").unwrap().state, SessionState::Waiting);
    }

    #[test]
    fn a_transcript_path_outside_the_agents_folders_is_ignored() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path().join("data").as_path())).unwrap();
        let projects = t.path().join(".claude/projects");
        std::fs::create_dir_all(projects.join("-w")).unwrap();
        let own = projects.join("-w/s-1.jsonl");
        for (path, kept) in [
            ("/etc/passwd".to_string(), false),
            (format!("{}/../../../etc/passwd.jsonl", projects.join("-w").display()), false),
            (own.display().to_string(), true),
        ] {
            let sid = format!("s-{}", kept as u8);
            let p = json!({"session_id": sid, "transcript_path": path, "cwd": "/w", "hook_event_name": "Stop"});
            record(&store, &Config::default(), &env(t.path()), "claude", &p, 1000).unwrap();
            let s = crate::store::find_session(&store, &sid).unwrap();
            assert_eq!(s.transcript_path.is_some(), kept, "{path}");
        }
    }

    #[test]
    fn codex_turn_complete_means_waiting() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::open_in(&Dirs::under(t.path())).unwrap();
        let (cfg, env) = (Config::default(), env(t.path()));
        let now = crate::util::now_ms();
        let p = json!({"type": "agent-turn-complete", "thread-id": "th-1", "turn-id": "1", "cwd": "/home/u/api",
                       "input-messages": ["fix"], "last-assistant-message": "done"});
        let out = record(&store, &cfg, &env, "codex", &p, now).unwrap();
        assert_eq!(crate::store::find_session(&store, &out.session_id).unwrap().state, SessionState::Waiting);
        // Without a thread id, the session working in that directory.
        let q = json!({"type": "agent-turn-complete", "cwd": "/home/u/api"});
        assert_eq!(record(&store, &cfg, &env, "codex", &q, now).unwrap().session_id, out.session_id);
        // Codex's title thread is no session.
        let title = json!({"type": "agent-turn-complete", "thread-id": "th-9", "input-messages": ["Generate a concise, single-line task title …"]});
        assert_eq!(record(&store, &cfg, &env, "codex", &title, now).unwrap().session_id, "");
        assert!(crate::store::find_session(&store, "th-9").is_err());
        assert!(record(&store, &cfg, &env, "codex", &json!({"type": "x"}), 0).unwrap_err().is_usage());
        assert!(
            record(&store, &cfg, &env, "claude-code", &json!({"hook_event_name": "Stop"}), 0).unwrap_err().is_usage()
        );
        let e = record(&store, &cfg, &env, "aider", &json!({}), 0).unwrap_err();
        assert!(e.is_usage() && e.to_string().contains("claude-code"), "{e}");
    }
}
