//! `agentwatch hook` with real-shaped payloads, and the installers.

use std::io::Write;
use std::process::Stdio;
use std::time::Instant;

use serde_json::{Value, json};

use crate::support::*;

/// Pipes a Claude Code hook payload into `agentwatch hook`; returns how long it took.
fn hook(env: &Env, payload: &Value) -> std::time::Duration {
    let started = Instant::now();
    let mut c =
        env.command(&["hook"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(payload.to_string().as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "a hook prints nothing");
    took
}

fn payload(event: &str, extra: Value) -> Value {
    let mut p = json!({
        "session_id": "9f1c2d3e-0000-4000-8000-00000000abcd",
        "transcript_path": "/home/u/.claude/projects/-home-u-web-app/9f1c2d3e-0000-4000-8000-00000000abcd.jsonl",
        "cwd": "/home/u/web-app",
        "permission_mode": "default",
        "hook_event_name": event,
    });
    p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    p
}

fn session(env: &Env) -> Value {
    env.json(&["sessions", "show", "9f1c2d3e", "--no-ingest"])
}

#[test]
fn claude_hook_events_set_the_state_and_count_tools() {
    let env = Env::new();
    let mut times = Vec::new();
    times.push(hook(&env, &payload("SessionStart", json!({"source": "startup"}))));
    assert_eq!(session(&env)["session"]["state"], "waiting");
    times.push(hook(&env, &payload("UserPromptSubmit", json!({"prompt": "add a test"}))));
    assert_eq!(session(&env)["session"]["state"], "working");
    times.push(hook(
        &env,
        &payload("PreToolUse", json!({"tool_name": "Bash", "tool_input": {"command": "cargo test"}})),
    ));
    times.push(hook(
        &env,
        &payload("PostToolUse", json!({"tool_name": "Bash", "tool_input": {"command": "cargo test"}, "tool_response": {"stdout": "ok", "stderr": "", "interrupted": false}})),
    ));
    times.push(hook(
        &env,
        &payload(
            "PostToolUse",
            json!({"tool_name": "Edit", "tool_input": {}, "tool_response": {"success": false, "error": "no match"}}),
        ),
    ));
    times.push(hook(
        &env,
        &payload("PermissionRequest", json!({"tool_name": "Bash", "tool_input": {"command": "rm -rf target"}})),
    ));
    let s = session(&env);
    assert_eq!(
        (&s["session"]["state"], &s["session"]["waitingFor"], &s["session"]["pendingTool"]),
        (&json!("waiting"), &json!("permission"), &json!({"name": "Bash", "summary": "rm -rf target"}))
    );
    times.push(hook(
        &env,
        &payload(
            "Notification",
            json!({"message": "Claude needs your permission", "notification_type": "permission_prompt"}),
        ),
    ));
    assert_eq!(session(&env)["session"]["waitingFor"], "permission");
    times.push(hook(&env, &payload("Stop", json!({"stop_hook_active": false}))));
    let d = session(&env);
    let s = &d["session"];
    assert_eq!(s["state"], "waiting");
    assert_eq!((s["toolCallCount"].as_u64(), s["errorCount"].as_u64()), (Some(2), Some(1)));
    assert_eq!(s["lastToolName"], "Edit");
    assert_eq!(s["source"], "hook");
    assert_eq!(s["projectPath"], "/home/u/web-app");
    assert!(s["heartbeatAgeSeconds"].as_i64().unwrap() < 60);
    let tools: Vec<&str> = d["toolCalls"].as_array().unwrap().iter().map(|t| t["tool"].as_str().unwrap()).collect();
    assert_eq!(tools, vec!["Bash", "Edit"]);
    times.push(hook(&env, &payload("SessionEnd", json!({"reason": "exit"}))));
    assert_eq!(session(&env)["session"]["state"], "completed");
    // Recorded for the record; the < 50 ms goal is measured in bench/.
    eprintln!("hook run times: {times:?}");
}

#[test]
fn the_hook_links_to_the_transcript_session() {
    let env = Env::new();
    let sid = "9f1c2d3e-0000-4000-8000-00000000abcd";
    write_lines(
        &env.claude_file("/home/u/web-app", &format!("{sid}.jsonl")),
        &lines(&[claude(&ago(10), sid, "m1", "r1", "claude-sonnet-4-5-20250929", U(100, 10, 0, 0))]),
    );
    env.ok(&["ingest"]);
    hook(&env, &payload("Stop", json!({})));
    let all = env.json(&["sessions", "--no-ingest"]);
    assert_eq!(all["sessions"].as_array().unwrap().len(), 1, "one session, not two: {all}");
    let s = &all["sessions"][0];
    assert_eq!((s["tokens"]["input"].as_u64(), s["state"].as_str()), (Some(100), Some("waiting")));
}

#[test]
fn codex_notify_marks_the_session_waiting() {
    let env = Env::new();
    let p = json!({"type": "agent-turn-complete", "thread-id": "0199a213-81c0-7800-8aa1-bbab2a035a53", "turn-id": "12345",
                   "cwd": "/home/u/api", "input-messages": ["Rename `foo` to `bar`"], "last-assistant-message": "Rename complete."});
    let o = env.run(&["hook", "--agent", "codex", &p.to_string()]);
    assert_eq!(o.status.code(), Some(0));
    let s = env.json(&["sessions", "show", "0199a213", "--no-ingest"]);
    assert_eq!(s["session"]["agent"], "codex");
    assert_eq!(s["session"]["state"], "waiting");
}

/// The files waiting in the hook spool.
fn spooled(env: &Env) -> usize {
    std::fs::read_dir(env.data.join("spool/hooks")).map_or(0, |d| d.count())
}

#[test]
fn events_that_find_the_database_locked_wait_in_the_spool_and_land_in_order() {
    let env = Env::new();
    hook(&env, &payload("SessionStart", json!({"source": "startup"})));
    let hold = || {
        let c = rusqlite::Connection::open(env.data.join("agentwatch.db")).unwrap();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        c
    };
    // Another writer holds the write lock: the hooks neither wait for it
    // (250 ms at most) nor lose their events.
    let lock = hold();
    let bash = json!({"tool_name": "Bash", "tool_input": {}, "tool_response": {"stdout": "ok"}});
    let edit = json!({"tool_name": "Edit", "tool_input": {}, "tool_response": {"success": false}});
    let took = [hook(&env, &payload("PostToolUse", bash)), hook(&env, &payload("PostToolUse", edit))];
    assert!(took.iter().all(|t| t.as_secs() < 5), "{took:?}");
    assert_eq!(spooled(&env), 2);
    drop(lock);
    assert_eq!(session(&env)["session"]["toolCallCount"], 0, "not applied yet");
    // The next hook applies them first, then its own event.
    hook(&env, &payload("Stop", json!({})));
    assert_eq!(spooled(&env), 0);
    let d = session(&env);
    assert_eq!((d["session"]["toolCallCount"].as_u64(), d["session"]["errorCount"].as_u64()), (Some(2), Some(1)));
    assert_eq!(d["session"]["state"], "waiting", "the Stop came last");
    let tools: Vec<&str> = d["toolCalls"].as_array().unwrap().iter().map(|t| t["tool"].as_str().unwrap()).collect();
    assert_eq!(tools, vec!["Bash", "Edit"]);

    // Without another hook, the daemon applies them at its next scan.
    let lock = hold();
    hook(&env, &payload("UserPromptSubmit", json!({"prompt": "go on"})));
    assert_eq!(spooled(&env), 1);
    drop(lock);
    let _daemon = env.daemon(1, &[]);
    wait_for(20, "the daemon to apply the spool", || (spooled(&env) == 0).then_some(()));
    assert_eq!(session(&env)["session"]["state"], "working");
    let log = std::fs::read_to_string(env.data.join("logs/hooks.log")).unwrap_or_default();
    assert!(!log.contains("failed"), "{log}");
}

#[test]
fn a_broken_agentwatch_never_breaks_the_agent() {
    let env = Env::new();
    // The database path is a directory: nothing can be recorded.
    std::fs::create_dir_all(env.data.join("agentwatch.db")).unwrap();
    hook(&env, &payload("Stop", json!({})));
    let log = std::fs::read_to_string(env.data.join("logs/hooks.log")).unwrap();
    assert!(log.contains("hook failed"), "{log}");
    // Garbage on stdin: also exit 0, also logged.
    let mut c = env.command(&["hook"]).stdin(Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(b"{not json").unwrap();
    assert_eq!(c.wait().unwrap().code(), Some(0));
    assert!(std::fs::read_to_string(env.data.join("logs/hooks.log")).unwrap().contains("not JSON"));
}

#[test]
fn hooks_install_shows_a_diff_backs_up_and_uninstalls_cleanly() {
    let env = Env::new();
    let settings = env.claude.join("settings.json");
    let original = "{\n  \"model\": \"sonnet\"\n}\n";
    std::fs::write(&settings, original).unwrap();
    let dry = env.ok(&["hooks", "install", "--agent", "claude-code", "--dry-run"]);
    assert!(dry.contains("+    \"SessionStart\"") && dry.contains("dry run"), "{dry}");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), original, "a dry run changes nothing");
    let out = env.ok(&["hooks", "install", "--agent", "claude-code"]);
    assert!(out.contains("Backed up") && out.contains("Installed agentwatch hooks"), "{out}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(v["model"], "sonnet");
    let cmd = v["hooks"]["Stop"][0]["hooks"][0]["command"].as_str().unwrap().to_string();
    // The data dir this test chose (AGENTWATCH_DATA_DIR) is in the command.
    assert!(cmd.ends_with(&format!("agentwatch --data-dir {} hook --agent claude-code", env.data.display())), "{cmd}");
    let again = env.ok(&["hooks", "install", "--agent", "claude-code"]);
    assert!(again.contains("already installed"), "{again}");
    let backups = std::fs::read_dir(&env.claude)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains("agentwatch-backup"))
        .count();
    assert_eq!(backups, 1, "no second backup when nothing changes");
    env.ok(&["hooks", "uninstall", "--agent", "claude-code"]);
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), original);
    // The installed command really works as a hook, in the agent's
    // environment, which knows nothing of AGENTWATCH_DATA_DIR.
    let o = std::process::Command::new("sh")
        .args(["-c", &format!("echo '{}' | {cmd}", payload("Stop", json!({})))])
        .env_clear()
        .envs(env.vars().into_iter().filter(|(k, _)| k != "AGENTWATCH_DATA_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(session(&env)["session"]["state"], "waiting");
}

#[test]
fn mcp_proxy_install_wraps_each_agents_servers() {
    let env = Env::new();
    let claude_json = env.home.join(".claude.json");
    std::fs::write(&claude_json, r#"{"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}}}"#).unwrap();
    let cursor = env.home.join(".cursor/mcp.json");
    std::fs::create_dir_all(cursor.parent().unwrap()).unwrap();
    std::fs::write(&cursor, r#"{"mcpServers": {"gh": {"command": "docker", "args": ["run", "ghcr.io/github/github-mcp-server"]}, "web": {"url": "https://x.example/mcp"}}}"#).unwrap();
    let codex = env.codex.join("config.toml");
    std::fs::write(&codex, "[mcp_servers.docs]\ncommand = \"node\"\nargs = [\"docs.js\"]\n").unwrap();
    for agent in ["claude-code", "cursor", "codex"] {
        let out = env.ok(&["mcp-proxy", "install", "--agent", agent]);
        assert!(out.contains("Installed the agentwatch MCP proxy"), "{agent}: {out}");
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&claude_json).unwrap()).unwrap();
    let data = env.data.display().to_string();
    assert_eq!(
        v["mcpServers"]["fs"]["args"].as_array().unwrap()[..3],
        json!(["--data-dir", data, "mcp-proxy"]).as_array().unwrap()[..]
    );
    assert!(v["mcpServers"]["fs"]["command"].as_str().unwrap().ends_with("agentwatch"));
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&cursor).unwrap()).unwrap();
    assert_eq!(
        c["mcpServers"]["gh"]["args"],
        json!([
            "--data-dir",
            data,
            "mcp-proxy",
            "--label",
            "gh",
            "--",
            "docker",
            "run",
            "ghcr.io/github/github-mcp-server"
        ])
    );
    assert!(
        std::fs::read_to_string(&codex).unwrap().contains("\"mcp-proxy\", \"--label\", \"docs\", \"--\", \"node\"")
    );
    let out = env.ok(&["mcp-proxy", "install", "--agent", "cursor"]);
    assert!(out.contains("already installed") && out.contains("web: not a stdio server"), "{out}");
    for agent in ["claude-code", "cursor", "codex"] {
        env.ok(&["mcp-proxy", "uninstall", "--agent", agent]);
    }
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&cursor).unwrap()).unwrap();
    assert_eq!(c["mcpServers"]["gh"]["command"], "docker");
    assert!(std::fs::read_to_string(&codex).unwrap().contains("command = \"node\""));
    let o = env.run(&["hooks", "install", "--agent", "vim"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_permission_prompt_shows_its_tool_escaped_and_the_signal_in_sessions_show() {
    let env = Env::new();
    hook(&env, &payload("UserPromptSubmit", json!({"prompt": "clean up"})));
    // A command from a transcript that would set the terminal's title.
    let evil = "rm -rf build \u{1b}]0;pwned\u{7}";
    hook(&env, &payload("PermissionRequest", json!({"tool_name": "Bash", "tool_input": {"command": evil}})));
    let out = env.ok(&["sessions", "show", "9f1c2d3e", "--no-ingest"]);
    assert!(out.contains(r"waiting for permission · Bash(rm -rf build \u{1b}]0;pwned\u{7})  (from its hook)"), "{out}");
    assert!(!out.contains('\u{1b}'), "no escape reaches the terminal");
    assert!(out.contains("State history") && out.contains("waiting (permission)"), "{out}");
    let table = env.ok(&["sessions", "--no-ingest"]);
    assert!(table.contains("permission"), "{table}");
}
