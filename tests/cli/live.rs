//! The live collector with real processes: fake agents that look like the
//! real ones from outside (name, argv, wrappers, working directory).

use std::path::Path;

use serde_json::{Value, json};

use crate::support::*;

const SONNET: &str = "claude-sonnet-4-5-20250929";

fn encode(cwd: &Path) -> String {
    cwd.display().to_string().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

fn sessions_of(env: &Env, agent: &str) -> Vec<Value> {
    let r = env.json(&["sessions", "--active"]);
    r["sessions"].as_array().unwrap().iter().filter(|s| s["agent"] == agent).cloned().collect()
}

#[test]
fn a_native_claude_is_detected_with_its_directory_and_command() {
    let env = Env::new();
    let bin = env.native_agent("claude");
    let proj = env.root.join("src/web-app");
    let p = env.spawn(&bin, &["600"], &proj);
    let s = env.session_with_pid(p.pid(), &["--active"]).expect("the fake claude is listed");
    assert_eq!(s["agent"], "claude-code");
    assert_eq!(s["projectPath"], proj.display().to_string());
    assert_eq!(s["source"], "process");
    assert!(s["command"].as_str().unwrap().ends_with("bin/claude 600"), "{s}");
    assert!(s["memoryBytes"].as_u64().unwrap() > 0);
    // Nothing sent yet: a fresh agent sits at its prompt.
    assert_eq!((s["state"].as_str(), s["waitingFor"].as_str()), (Some("waiting"), Some("input")), "{s}");
    let table = env.ok(&["sessions", "--active", "--no-ingest"]);
    assert!(
        table.contains(&p.pid().to_string()) && table.contains("web-app") && table.contains("Commands:"),
        "{table}"
    );
}

#[test]
fn a_process_seen_before_it_execs_the_agent_is_detected_after() {
    let env = Env::new();
    let bin = env.native_agent("claude");
    let proj = env.root.join("src/late-exec");
    std::fs::create_dir_all(&proj).unwrap();
    // A script that becomes `claude` only after a while: until its exec the
    // process reads as `sh <script>`, and the daemon scans it as that.
    let script = env.root.join("start-agent.sh");
    std::fs::write(&script, format!("sleep 1.5\nexec {} 600\n", bin.display())).unwrap();
    let _daemon = env.daemon(1, &[]);
    let p = env.spawn(Path::new("/bin/sh"), &[script.to_str().unwrap()], &proj);
    let first = env.last_scan();
    wait_for(10, "a scan before the exec", || (env.last_scan() > first).then_some(()));
    let s = wait_for(10, "the agent after its exec", || {
        env.session_with_pid(p.pid(), &["--active", "--no-ingest"])
            .filter(|s| s["command"].as_str().is_some_and(|c| c.ends_with("bin/claude 600")))
    });
    assert_eq!(s["agent"], "claude-code");
    assert_eq!(s["projectPath"], proj.display().to_string());
}

#[test]
fn a_wrapper_and_the_binary_it_starts_are_one_session() {
    let env = Env::new();
    let script = env.codex_package();
    let proj = env.root.join("src/api");
    // sh -c → node codex.js → vendored codex: three processes, one session.
    let cmd = format!("node {} --full-auto; true", script.display());
    let p = env.spawn(Path::new("/bin/sh"), &["-c", &cmd], &proj);
    let found = wait_for(10, "codex and its vendored binary", || {
        let s = sessions_of(&env, "codex");
        let procs = std::fs::read_dir("/proc").unwrap().count();
        (s.len() == 1 && procs > 0 && s[0]["command"].as_str().is_some_and(|c| c.contains("codex.js"))).then_some(s)
    });
    assert_eq!(found.len(), 1, "{found:?}");
    // The shell is a wrapper, not the agent: the session is `node codex.js`.
    let pid = found[0]["pid"].as_u64().unwrap() as u32;
    assert_ne!(pid, p.pid(), "not the shell's");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(String::from_utf8_lossy(&cmdline).contains("codex.js"), "the outermost agent process is the session's");
    assert_eq!(found[0]["projectPath"], proj.display().to_string());
}

#[test]
fn gemini_reexecuting_itself_is_one_session() {
    let env = Env::new();
    let pkg = env.root.join("lib/node_modules/@google/gemini-cli/dist");
    std::fs::create_dir_all(&pkg).unwrap();
    let script = pkg.join("index.js");
    std::fs::write(
        &script,
        r#"if (!process.execArgv.some(a => a.startsWith('--max-old-space-size'))) {
  const { spawn } = require('child_process');
  const c = spawn(process.execPath, ['--max-old-space-size=4096', __filename], { stdio: 'ignore' });
  c.on('exit', code => process.exit(code ?? 0));
} else { setInterval(() => {}, 1000); }
"#,
    )
    .unwrap();
    let _p = env.spawn(Path::new("node"), &[script.to_str().unwrap()], &env.root.join("src/docs"));
    let s = wait_for(10, "gemini's re-executed child", || {
        let procs = sessions_of(&env, "gemini-cli");
        // Wait until the child exists too (its CPU/memory are part of the tree).
        (procs.len() == 1 && procs[0]["memoryBytes"].as_u64().unwrap_or(0) > 50_000_000).then_some(procs)
    });
    assert_eq!(s.len(), 1);
}

#[test]
fn invocations_that_are_not_sessions_are_ignored() {
    let env = Env::new();
    // Python scripts named like agents, with the arguments of non-sessions.
    let bin = env.root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["claude", "codex"] {
        std::fs::write(bin.join(name), "import time\ntime.sleep(600)\n").unwrap();
    }
    let cwd = env.root.join("src/x");
    let _a = env.spawn(Path::new("python3"), &[bin.join("claude").to_str().unwrap(), "mcp", "serve"], &cwd);
    let _b = env.spawn(Path::new("python3"), &[bin.join("codex").to_str().unwrap(), "app-server"], &cwd);
    let _c = env.spawn(Path::new("python3"), &[bin.join("claude").to_str().unwrap(), "--version"], &cwd);
    let real = env.spawn(Path::new("python3"), &[bin.join("claude").to_str().unwrap(), "--continue"], &cwd);
    let r = wait_for(10, "the real session", || {
        let r = env.json(&["sessions", "--active"]);
        (!r["sessions"].as_array().unwrap().is_empty()).then_some(r)
    });
    let pids: Vec<u64> = r["sessions"].as_array().unwrap().iter().map(|s| s["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids, vec![real.pid() as u64]);
}

#[test]
fn a_new_transcript_in_the_project_folder_links_the_process() {
    let env = Env::new();
    let bin = env.native_agent("claude");
    let proj = env.root.join("src/web-app");
    let p = env.spawn(&bin, &["600"], &proj);
    let before = env.session_with_pid(p.pid(), &["--active"]).unwrap();
    assert!(before["externalId"].is_null(), "no transcript yet: {before}");
    // Claude Code writes its transcript after the process starts.
    let sid = "4d1c8a4e-0000-4000-8000-000000000001";
    let t = env.claude.join("projects").join(encode(&proj)).join(format!("{sid}.jsonl"));
    std::fs::create_dir_all(t.parent().unwrap()).unwrap();
    write_lines(
        &t,
        &lines(&[
            claude_user(&ago(2), sid, "refactor the parser"),
            claude(&ago(1), sid, "m1", "r1", SONNET, U(1000, 200, 0, 0)),
        ]),
    );
    let s = env.session_with_pid(p.pid(), &["--active"]).unwrap();
    assert_eq!(s["externalId"], sid);
    assert_eq!(s["tokens"]["input"], 1000, "the transcript's usage is the process's session's");
    assert_eq!(s["transcriptPath"], t.display().to_string());
    // The process-only placeholder was merged, not left behind.
    let all = env.json(&["sessions", "--no-ingest"]);
    assert_eq!(all["sessions"].as_array().unwrap().iter().filter(|x| x["pid"] == p.pid()).count(), 1);
}

#[test]
fn claudes_session_registry_links_exactly_and_ignores_stale_entries() {
    let env = Env::new();
    let bin = env.native_agent("claude");
    let proj = env.root.join("src/app");
    let dir = env.claude.join("projects").join(encode(&proj));
    std::fs::create_dir_all(&dir).unwrap();
    let a = env.spawn(&bin, &["600"], &proj);
    let b = env.spawn(&bin, &["601"], &proj);
    // Both processes' transcripts exist; a newer unrelated one too.
    for sid in ["sess-a", "sess-b", "newest"] {
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_lines(&dir.join(format!("{sid}.jsonl")), &lines(&[claude_user(&ago(1), sid, "hi")]));
    }
    let reg = env.claude.join("sessions");
    std::fs::create_dir_all(&reg).unwrap();
    let entry = |pid: u32, sid: &str, proc_start: u64| {
        json!({"pid": pid, "sessionId": sid, "cwd": proj.display().to_string(), "startedAt": 0, "procStart": proc_start,
               "version": "2.0.50", "kind": "interactive", "entrypoint": "cli", "name": "fix-auth", "status": "busy", "updatedAt": 0})
        .to_string()
    };
    std::fs::write(reg.join(format!("{}.json", a.pid())), entry(a.pid(), "sess-a", start_ticks(a.pid()))).unwrap();
    // Left over from an earlier process with the same pid: wrong start time.
    std::fs::write(reg.join(format!("{}.json", b.pid())), entry(b.pid(), "sess-b", start_ticks(b.pid()) + 7)).unwrap();
    let sa = env.session_with_pid(a.pid(), &["--active"]).unwrap();
    assert_eq!(sa["externalId"], "sess-a", "the registry is the exact link");
    assert_eq!(sa["name"], "fix-auth");
    let sb = env.session_with_pid(b.pid(), &["--active", "--no-ingest"]).unwrap();
    assert_ne!(sb["externalId"], "sess-b", "a stale registry entry is ignored");
    assert_eq!(sb["externalId"], "newest", "falls back to the newest transcript");
}

/// Claude Code marks its registry "waiting" as it shows a dialog and writes
/// the call the dialog is about to its transcript a moment later. In that
/// moment a question is no permission prompt: the transcript's word stands
/// until it has the call; a dialog whose call never comes shows once the
/// grace is over (DIALOG_CALL_GRACE_MS, 3 s).
#[test]
fn claudes_registry_at_a_dialog_waits_for_the_call_in_its_transcript() {
    let env = Env::new();
    let proj = env.root.join("src/app");
    let t = env.claude.join("projects").join(encode(&proj)).join("s-ask.jsonl");
    std::fs::create_dir_all(t.parent().unwrap()).unwrap();
    let p = env.spawn(&env.native_agent("claude"), &["600"], &proj);
    write_lines(&t, &lines(&[claude_user(&ago(1), "s-ask", "ask me")]));
    let ticks = start_ticks(p.pid());
    let reg = env.claude.join("sessions");
    std::fs::create_dir_all(&reg).unwrap();
    let dialog = |at: i64| {
        let e = json!({"pid": p.pid(), "sessionId": "s-ask", "cwd": proj.display().to_string(), "startedAt": 0,
            "procStart": ticks, "version": "2.1.197", "kind": "interactive", "status": "waiting",
            "waitingFor": "permission prompt", "statusUpdatedAt": at});
        std::fs::write(reg.join(format!("{}.json", p.pid())), e.to_string()).unwrap();
    };
    let now = chrono::Utc::now().timestamp_millis();
    dialog(now);
    let s = env.session_with_pid(p.pid(), &["--active"]).unwrap();
    assert_eq!((s["state"].as_str(), s["pendingTool"].as_object()), (Some("working"), None), "{s}");
    // The call is written: a question, asked before the dialog showed.
    let mut ask = claude(&ago(0), "s-ask", "m1", "r1", SONNET, U(10, 10, 0, 0));
    ask["message"]["content"] = json!([{"type": "tool_use", "id": "toolu_q", "name": "AskUserQuestion",
        "input": {"questions": [{"question": "Which colour?", "header": "Colour", "multiSelect": false,
            "options": [{"label": "Blue"}, {"label": "Red"}]}]}}]);
    ask["message"]["stop_reason"] = json!("tool_use");
    ask["timestamp"] = json!(chrono::DateTime::from_timestamp_millis(now - 50).unwrap().to_rfc3339());
    append(&t, &format!("{}\n", line(&ask)));
    let s = env.session_with_pid(p.pid(), &["--active"]).unwrap();
    assert_eq!((s["state"].as_str(), s["waitingFor"].as_str()), (Some("waiting"), Some("question")), "{s}");
    assert_eq!(s["pendingTool"]["summary"], "Which colour?", "{s}");
    let history = env.json(&["sessions", "show", s["sessionId"].as_str().unwrap(), "--no-ingest"]);
    let to: Vec<String> = history["stateHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}:{}", c["to"].as_str().unwrap(), c["waitingFor"].as_str().unwrap_or("")))
        .collect();
    assert!(!to.contains(&"waiting:permission".to_string()), "never a permission prompt: {to:?}");

    // Answered; then a dialog about no call in the transcript: shown once
    // the grace is over.
    let mut answer = claude_user(&ago(0), "s-ask", "");
    answer["message"]["content"] = json!([{"type": "tool_result", "tool_use_id": "toolu_q", "content": "Blue"}]);
    append(&t, &format!("{}\n", line(&answer)));
    let at = chrono::Utc::now().timestamp_millis();
    dialog(at);
    let s = env.session_with_pid(p.pid(), &["--active"]).unwrap();
    if chrono::Utc::now().timestamp_millis() - at < 3_000 {
        assert_eq!(s["state"], "working", "{s}");
    }
    let s = wait_for(10, "the dialog shown after the grace", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["waitingFor"] == "permission")
    });
    assert!(chrono::Utc::now().timestamp_millis() - at >= 3_000, "not before the grace is over: {s}");
    assert_eq!(s["pendingTool"], Value::Null, "{s}");
}

#[test]
fn a_finished_turn_is_waiting_and_a_new_prompt_is_working() {
    let env = Env::new();
    let bin = env.native_agent("claude");
    let proj = env.root.join("src/web-app");
    let p = env.spawn(&bin, &["600"], &proj);
    let t = env.claude.join("projects").join(encode(&proj)).join("s-wait.jsonl");
    std::fs::create_dir_all(t.parent().unwrap()).unwrap();
    let mut answer = claude(&ago(1), "s-wait", "m1", "r1", SONNET, U(10, 10, 0, 0));
    answer["message"]["stop_reason"] = json!("end_turn");
    write_lines(&t, &lines(&[claude_user(&ago(3), "s-wait", "what does this do?"), answer]));
    assert_eq!(env.session_with_pid(p.pid(), &["--active"]).unwrap()["state"], "waiting");
    append(&t, &format!("{}\n", line(&claude_user(&ago(0), "s-wait", "now fix it"))));
    assert_eq!(env.session_with_pid(p.pid(), &["--active"]).unwrap()["state"], "working");
}

#[test]
fn the_daemon_marks_a_killed_agent_dead_within_two_scans_and_alerts_once() {
    let env = Env::new();
    let daemon = env.daemon(1, &[]);
    let bin = env.native_agent("codex");
    let proj = env.root.join("src/api-server");
    let mut p = env.spawn(&bin, &["600"], &proj);
    env.codex_mid_turn(&proj, "0199a0c0-0000-7000-8000-00000000dead");
    let s = wait_for(10, "the daemon to see the agent mid-turn", || {
        env.session_with_pid(p.pid(), &["--no-ingest"]).filter(|s| s["state"] == "working")
    });
    let id = s["sessionId"].as_str().unwrap().to_string();
    // Killed while working: mid-turn, it died.
    let at_kill = env.last_scan();
    p.kill();
    let dead = wait_for(10, "the agent to be marked dead", || {
        let d = env.json(&["sessions", "show", &id, "--no-ingest"]);
        (d["session"]["state"] == "dead").then_some(d)
    });
    let change = dead["stateHistory"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(change["to"], "dead");
    let scan = change["scan"].as_u64().unwrap();
    assert!(scan <= at_kill + 2, "seen in scan {scan}, killed after scan {at_kill}");
    // One alert, however many scans follow.
    let seen = env.last_scan();
    wait_for(10, "three more scans", || (env.last_scan() >= seen + 3).then_some(()));
    let alerts = env.json(&["alerts"]);
    let died: Vec<&Value> =
        alerts["alerts"].as_array().unwrap().iter().filter(|a| a["sessionId"] == id.as_str()).collect();
    assert_eq!(died.len(), 1, "{alerts}");
    assert_eq!(died[0]["kind"], "died");
    assert_eq!(died[0]["title"], "Codex in api-server died");
    // A second daemon for the same data dir refuses to start.
    let o = env.run(&["daemon"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already running"));
    // SIGTERM stops it cleanly, and it kept a log.
    let (code, _) = daemon.stop();
    assert_eq!(code, Some(0));
    let logs: Vec<_> = std::fs::read_dir(env.data.join("logs")).unwrap().collect();
    assert!(!logs.is_empty());
    assert!(!env.json(&["status"])["monitor"]["running"].as_bool().unwrap());
}

#[test]
fn the_daemon_picks_up_new_usage_from_the_file_watcher() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "live.jsonl");
    write_lines(&f, &lines(&[claude(&ago(30), "live", "m1", "r1", SONNET, U(100, 0, 0, 0))]));
    let _daemon = env.daemon(60, &[]);
    assert_eq!(input_tokens(&env), Some(100));
    append(&f, &format!("{}\n", line(&claude(&ago(0), "live", "m2", "r2", SONNET, U(50, 0, 0, 0)))));
    // With scans a minute apart, only the watcher can bring it in.
    wait_for(10, "the appended usage", || (input_tokens(&env) == Some(150)).then_some(()));
}

#[test]
fn a_report_has_the_running_daemon_catch_up_instead_of_reading_every_file() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "live.jsonl");
    write_lines(&f, &lines(&[claude(&ago(30), "live", "m1", "r1", SONNET, U(100, 0, 0, 0))]));
    // A file the daemon cannot read: the reports it answers for say so.
    let garbage = env.home.join(".local/share/opencode/opencode-beta.db");
    std::fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    std::fs::write(&garbage, "not a database, only some text that is long enough").unwrap();
    // Scans a minute apart, and the watcher waits 150 ms for more changes:
    // only the question can bring the changes in before the report.
    let daemon = env.daemon(60, &[]);
    let report = |c: &mut std::process::Command| {
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        (v["totals"]["inputTokens"].as_u64().unwrap(), String::from_utf8_lossy(&o.stderr).into_owned(), v)
    };
    let daily = ["-v", "costs", "daily", "--format", "json", "--timezone", "UTC"];
    // A line appended, and a new project's folder with its first transcript,
    // the moment before the report.
    append(&f, &format!("{}\n", line(&claude(&ago(0), "live", "m2", "r2", SONNET, U(50, 0, 0, 0)))));
    let g = env.claude_file("/home/u/api", "new.jsonl");
    write_lines(&g, &lines(&[claude(&ago(0), "new", "m3", "r3", SONNET, U(7, 0, 0, 0))]));
    let (total, err, v) = report(&mut env.command(&daily));
    assert_eq!(total, 157, "{err}");
    assert_eq!(v["unreadableFiles"], serde_json::json!([garbage.display().to_string()]), "{err}");
    assert!(err.contains("opencode-beta.db (file is not a database)"), "{err}");
    let pid = daemon.pid().to_string();
    assert_eq!(env.json(&["status"])["monitor"]["answersReports"], true);
    assert!(err.contains(&format!("the running monitor (pid {pid}) has read every change")), "{err}");
    assert!(!err.contains("files of the agents"), "the report read the files itself: {err}");
    // Where the daemon does not look (another CLAUDE_CONFIG_DIR), the
    // report reads for itself.
    let other = env.root.join("other-claude");
    let h = other.join("projects/-home-u-other/o.jsonl");
    std::fs::create_dir_all(h.parent().unwrap()).unwrap();
    write_lines(&h, &lines(&[claude(&ago(0), "other", "m4", "r4", SONNET, U(1000, 0, 0, 0))]));
    let (total, err, _) = report(env.command(&daily).env("CLAUDE_CONFIG_DIR", &other));
    assert_eq!(total, 1157, "{err}");
    assert!(err.contains("does not watch every folder read here"), "{err}");
    assert!(err.contains("files of the agents"), "{err}");
    // Stopped, the daemon takes no more questions: its folder for them is gone.
    let (code, _) = daemon.stop();
    assert_eq!(code, Some(0));
    assert!(!env.data.join("sync").exists());
    assert_eq!(env.json(&["status"])["monitor"]["answersReports"], false);
    append(&f, &format!("{}\n", line(&claude(&ago(0), "live", "m5", "r5", SONNET, U(3, 0, 0, 0)))));
    let (total, err, _) = report(&mut env.command(&daily));
    // The other folder's calls stay in the store.
    assert_eq!(total, 1160, "{err}");
    assert!(!err.contains("running monitor"), "{err}");
}

#[test]
fn kill_checks_identity_and_stops_the_agent() {
    let env = Env::new();
    let bin = env.native_agent("claude");
    let proj = env.root.join("src/web-app");
    let p = env.spawn(&bin, &["600"], &proj);
    env.claude_mid_turn(&proj, "4d1c8a4e-0000-4000-8000-00000000c111");
    let s = env.session_with_pid(p.pid(), &["--active"]).unwrap();
    assert_eq!(s["state"], "working", "{s}");
    let id = s["sessionId"].as_str().unwrap().to_string();
    // Not a terminal, no --yes: refused.
    let o = env.run(&["kill", &id]);
    assert_eq!(o.status.code(), Some(2));
    // The same pid with another start time is another process: refused.
    let db = rusqlite::Connection::open(env.data.join("agentwatch.db")).unwrap();
    db.execute("UPDATE sessions SET proc_start = proc_start - 100 WHERE id = ?1", [&id]).unwrap();
    let o = env.run(&["kill", &id, "--yes"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("different process"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::path::Path::new(&format!("/proc/{}", p.pid())).exists(), "still running");
    // The collector does not take the live process for the old session either.
    let now = env.json(&["sessions"]);
    let old = now["sessions"].as_array().unwrap().iter().find(|x| x["sessionId"] == id.as_str()).unwrap();
    assert_eq!(old["state"], "dead");
    let new = env.session_with_pid(p.pid(), &["--active", "--no-ingest"]).unwrap();
    assert_ne!(new["sessionId"], id.as_str());
    // The right session: killed.
    let out = env.ok(&["kill", new["sessionId"].as_str().unwrap(), "--yes", "--grace", "3"]);
    assert!(out.starts_with("Stopped Claude Code in web-app") && out.contains("SIGTERM"), "{out}");
    wait_for(5, "the process to exit", || {
        (!std::path::Path::new(&format!("/proc/{}/exe", p.pid())).exists()).then_some(())
    });
    let d = env.json(&["sessions", "show", new["sessionId"].as_str().unwrap(), "--no-ingest"]);
    assert_eq!(d["session"]["state"], "dead");
    assert_eq!(d["stateHistory"].as_array().unwrap().last().unwrap()["reason"], "killed by the user");
}

#[test]
fn notify_sends_a_desktop_notification_over_dbus() {
    // A private X display and session bus: dunst shows the notification,
    // dbus-monitor records the Notify call.
    let env = Env::new();
    let log = env.root.join("dbus.log");
    let bin = env.native_agent("claude");
    let proj = env.root.join("src/web-app");
    std::fs::create_dir_all(&proj).unwrap();
    let script = format!(
        r#"set -e
dbus-monitor --session "interface=org.freedesktop.Notifications,member=Notify" > {log} 2>/dev/null &
MON=$!
sleep 0.5
{aw} daemon --notify --no-api --scan-interval 1 2>{daemon_log} &
AW=$!
(cd {proj} && exec {bin} 600 </dev/null >/dev/null 2>&1) &
AGENT=$!
# The agent is in the middle of a turn (its transcript's last line is a prompt).
mkdir -p {transcript_dir} && printf '%s\n' '{prompt}' > {transcript_dir}/4d1c8a4e-0000-4000-8000-00000000d0b5.jsonl
# Whatever happens, no process outlives the script holding its output open.
trap 'kill $AGENT $AW $MON 2>/dev/null || true' EXIT
seen=no
for i in $(seq 1 300); do
  if {aw} sessions --no-ingest --format json | grep -q "\"pid\": $AGENT"; then seen=yes; break; fi
  sleep 0.1
done
[ $seen = yes ] || {{ echo "the daemon never saw the agent" >&2; {aw} status >&2 || true; cat {daemon_log} >&2; exit 3; }}
kill $AGENT
for i in $(seq 1 300); do grep -q "died" {log} && break; sleep 0.1; done
kill -TERM $AW; wait $AW || true
kill $MON || true
"#,
        log = log.display(),
        daemon_log = env.root.join("daemon.log").display(),
        aw = BIN,
        proj = proj.display(),
        bin = bin.display(),
        transcript_dir = env.claude.join("projects").join(encode(&proj)).display(),
        prompt = line(&claude_user(
            &chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "4d1c8a4e-0000-4000-8000-00000000d0b5",
            "fix the build"
        )),
    );
    env.run_on_private_desktop(&script);
    let recorded = std::fs::read_to_string(&log).unwrap();
    assert!(recorded.contains("member=Notify"), "no Notify call:\n{recorded}");
    assert!(recorded.contains("Claude Code in web-app died"), "{recorded}");
    assert!(recorded.contains("string \"agentwatch\""), "sent as agentwatch:\n{recorded}");
}

#[test]
fn a_daily_budget_alert_is_raised_once_the_budget_is_spent() {
    let env = Env::new();
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(env.config.join("config.toml"), "[budgets]\ndaily_usd = 0.5\n").unwrap();
    // $0.60 of Sonnet input today.
    let f = env.claude_file("/home/u/web-app", "spend.jsonl");
    write_lines(&f, &lines(&[claude(&ago(1), "spend", "m1", "r1", SONNET, U(200_000, 0, 0, 0))]));
    let _d = env.daemon(1, &[]);
    let alerts = wait_for(10, "the budget alert", || {
        let a = env.json(&["alerts"]);
        a["alerts"].as_array().unwrap().iter().find(|x| x["kind"] == "budget_daily").cloned()
    });
    assert_eq!(alerts["title"], "Daily budget $0.50 exceeded");
    assert_eq!(alerts["body"], "Today's usage has cost $0.60.");
    let seen = env.last_scan();
    wait_for(10, "two more scans", || (env.last_scan() >= seen + 2).then_some(()));
    let n = env.json(&["alerts"])["alerts"].as_array().unwrap().iter().filter(|x| x["kind"] == "budget_daily").count();
    assert_eq!(n, 1);
}

#[test]
fn reading_a_transcript_does_not_wake_the_daemon() {
    // The watcher also sees opens and reads; ingest itself opens files, so
    // reacting to them would make the daemon scan forever.
    let env = Env::new();
    let f = env.codex_file("2026/11/20", "rollout-2026-11-20T10-00-00-abc.jsonl");
    write_lines(&f, &lines(&[codex_meta(&ago(30), "abc", "/home/u/proj"), codex_turn(&ago(29), "gpt-5-codex")]));
    let _daemon = env.daemon(60, &[]);
    std::thread::sleep(std::time::Duration::from_millis(1500)); // let the first scan's own reads settle
    let before = env.last_scan();
    for _ in 0..5 {
        std::fs::read(&f).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(env.last_scan(), before, "reads woke the daemon");
    // A write does wake it (so the check above could fail).
    append(&f, &format!("{}\n", line(&codex_tokens(&ago(0), Some([100, 0, 10, 0]), Some([100, 0, 10, 0])))));
    wait_for(10, "a scan after the write", || (env.last_scan() > before).then_some(()));
}

#[test]
fn the_daemon_picks_up_edited_settings_and_survives_a_broken_file() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "spend.jsonl");
    write_lines(&f, &lines(&[claude(&ago(1), "spend", "m1", "r1", SONNET, U(200_000, 0, 0, 0))]));
    let d = env.daemon(1, &[]);
    let budget_alerts = |env: &Env| {
        env.json(&["alerts"])["alerts"].as_array().unwrap().iter().filter(|x| x["kind"] == "budget_daily").count()
    };
    // A broken edit first: the daemon keeps going with what it had.
    std::fs::create_dir_all(&env.config).unwrap();
    std::fs::write(env.config.join("config.toml"), "[budgets]\ndaily_usd = \"lots\"\n").unwrap();
    let seen = env.last_scan();
    wait_for(10, "three more scans", || (env.last_scan() >= seen + 3).then_some(()));
    assert_eq!(budget_alerts(&env), 0);
    // Then a budget, as the desktop app's Settings write it: no restart.
    std::fs::write(env.config.join("config.toml"), "[budgets]\ndaily_usd = 0.5\n").unwrap();
    wait_for(10, "the budget alert", || (budget_alerts(&env) == 1).then_some(()));
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn a_garbage_registry_entry_is_counted_and_never_kills_a_live_session() {
    // A fault a real agent cannot be made to show: its registry entry torn or
    // naming another process.
    let env = Env::new();
    let bin = env.native_agent("claude");
    let proj = env.root.join("src/torn");
    let p = env.spawn(&bin, &["600"], &proj);
    let sessions = env.claude.join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    let _daemon = env.daemon(1, &[]);
    let s = wait_for(10, "the agent", || env.session_with_pid(p.pid(), &["--no-ingest"]));
    for garbage in ["{\"pid\": ", "not json", &json!({"pid": 1, "sessionId": "x", "status": "busy"}).to_string()] {
        let before = env.last_scan();
        std::fs::write(sessions.join(format!("{}.json", p.pid())), garbage).unwrap();
        wait_for(10, "two scans", || (env.last_scan() > before + 1).then_some(()));
        let now = env.session_with_pid(p.pid(), &["--no-ingest"]).unwrap();
        assert_eq!(now["state"], "waiting", "{garbage}: {now}");
    }
    let now = env.session_with_pid(p.pid(), &["--no-ingest"]).unwrap();
    assert_eq!((now["sessionId"].as_str(), now["state"].as_str()), (s["sessionId"].as_str(), Some("waiting")), "{now}");
    let status = env.json(&["status"]);
    assert!(status["monitor"]["lastScan"]["malformedRecords"].as_u64().unwrap() >= 1, "{status}");
    assert!(env.ok(&["status"]).contains("malformed agent records ignored"));
}

#[test]
fn opencode_committing_fifty_times_a_second_never_waits_on_the_daemon_which_sees_every_change() {
    let env = Env::new();
    let dir = env.home.join(".local/share/opencode");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("opencode.db");
    {
        // The real OpenCode 1.18.33's database, in WAL mode as OpenCode keeps it.
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!(
            "../../crates/agentwatch-core/src/sources/opencode/fixtures/opencode-1.18.33.sql"
        ))
        .unwrap();
    }
    // Scans a minute apart: only the watcher can bring the changes in.
    let _daemon = env.daemon(60, &[]);
    let tokens = |env: &Env| {
        env.json(&["sessions", "--no-ingest", "--agent-type", "opencode"])["sessions"][0]["tokens"]["total"].as_u64()
    };
    wait_for(10, "the database's three calls", || (tokens(&env) == Some(3 * 160)).then_some(()));
    // A writer that never waits for a lock (timeout 0): any SQLITE_BUSY is an error it counts.
    let writer = r#"
import json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
busy = 0
for i in range(int(sys.argv[2])):
    t = int(time.time() * 1000)
    data = json.dumps({"role": "assistant", "modelID": "stub-model", "providerID": "stub", "cost": 0,
                       "tokens": {"input": 10, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}},
                       "time": {"created": t}})
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO message VALUES (?, 'ses_db288e317ffeILjZco4XWz5M0J', ?, ?, ?)", (f"msg_w{i}", t, t, data))
        db.execute("UPDATE session SET time_updated = ? WHERE id = 'ses_db288e317ffeILjZco4XWz5M0J'", (t,))
        db.execute("COMMIT")
    except sqlite3.OperationalError as e:
        busy += 1
        print(e, file=sys.stderr)
        if db.in_transaction:
            db.execute("ROLLBACK")
    time.sleep(0.02)
print(busy)
"#;
    let out = std::process::Command::new("python3").args(["-c", writer, db.to_str().unwrap(), "250"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0",
        "the agent waited on agentwatch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for(10, "every commit", || (tokens(&env) == Some(3 * 160 + 250 * 10)).then_some(()));
}

#[test]
fn a_database_locked_at_the_daemons_read_is_read_again_at_the_next_scan() {
    let env = Env::new();
    let dir = env.home.join(".local/share/opencode");
    std::fs::create_dir_all(&dir).unwrap();
    // A database in rollback-journal mode, held by an exclusive lock: no reader gets in.
    let agent = rusqlite::Connection::open(dir.join("opencode.db")).unwrap();
    agent
        .execute_batch(include_str!("../../crates/agentwatch-core/src/sources/opencode/fixtures/opencode-1.18.33.sql"))
        .unwrap();
    agent.execute_batch("PRAGMA journal_mode = DELETE; BEGIN EXCLUSIVE;").unwrap();
    let _daemon = env.daemon(1, &[]);
    let tokens = |env: &Env| {
        env.json(&["sessions", "--no-ingest", "--agent-type", "opencode"])["sessions"][0]["tokens"]["total"].as_u64()
    };
    assert_eq!(tokens(&env), None, "locked: not read yet");
    // The lock goes without a change to any file: only trying again reads it.
    agent.execute_batch("COMMIT").unwrap();
    wait_for(10, "the database read at a later scan", || (tokens(&env) == Some(3 * 160)).then_some(()));
}

#[test]
fn the_daemon_outlasts_another_program_holding_its_database_and_then_reads_what_came_meanwhile() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "live.jsonl");
    write_lines(&f, &lines(&[claude(&ago(30), "live", "m1", "r1", SONNET, U(100, 0, 0, 0))]));
    let daemon = env.daemon(1, &[]);
    assert_eq!(input_tokens(&env), Some(100));
    // A `sqlite3` shell left in a transaction: the write lock, held for
    // longer than the daemon waits for it (10 s).
    let shell = rusqlite::Connection::open(env.data.join("agentwatch.db")).unwrap();
    shell.execute_batch("BEGIN IMMEDIATE").unwrap();
    append(&f, &format!("{}\n", line(&claude(&ago(0), "live", "m2", "r2", SONNET, U(50, 0, 0, 0)))));
    std::thread::sleep(std::time::Duration::from_secs(12));
    assert_eq!(input_tokens(&env), Some(100), "nothing could be written meanwhile");
    shell.execute_batch("COMMIT").unwrap();
    // The watcher's change was put off, not lost, and the daemon scans on.
    wait_for(10, "the usage appended meanwhile", || (input_tokens(&env) == Some(150)).then_some(()));
    let scan = env.last_scan();
    wait_for(10, "a later scan", || (env.last_scan() > scan).then_some(()));
    let logs: String = std::fs::read_dir(env.data.join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(logs.contains("put off to the next scan: database"), "{logs}");
    assert!(logs.contains("stayed locked"), "{logs}");
    let (code, _) = daemon.stop();
    assert_eq!(code, Some(0));
}

/// Kimi cannot run here (Kimi CLI needs Python 3.12, Kimi Code Node 22.19):
/// a copy of `sleep` named `kimi` stands in for its process, and its wire
/// log is written as Kimi CLI writes it.
#[test]
fn a_running_kimi_is_linked_to_its_work_dirs_log_and_its_approval_is_a_permission_prompt() {
    let env = Env::new();
    let proj = env.root.join("src/kimi-app");
    let p = env.spawn(&env.native_agent("kimi"), &["600"], &proj);
    let md5 = std::process::Command::new("python3")
        .args(["-c", "import hashlib, sys; print(hashlib.md5(sys.argv[1].encode()).hexdigest())"])
        .arg(&proj)
        .output()
        .unwrap();
    let dir = env.home.join(".kimi/sessions").join(String::from_utf8_lossy(&md5.stdout).trim()).join("7d3e-run");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("wire.jsonl");
    let record = |t: f64, kind: &str, payload: Value| {
        format!("{}\n", json!({"timestamp": t, "message": {"type": kind, "payload": payload}}))
    };
    let now = chrono::Utc::now().timestamp() as f64;
    std::fs::write(
        &log,
        format!(
            "{}{}{}",
            "{\"type\": \"metadata\", \"protocol_version\": \"1.10\"}\n",
            record(now, "TurnBegin", json!({"user_input": "run the tests"})),
            record(
                now + 0.5,
                "ApprovalRequest",
                json!({"id": "apr_1", "tool_call_id": "t1", "sender": "Shell",
                "action": "run command", "description": "cargo test"})
            )
        ),
    )
    .unwrap();
    let s = wait_for(10, "the kimi process at its approval", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["waitingFor"] == "permission")
    });
    assert_eq!((s["agent"].as_str(), s["sessionId"].as_str()), (Some("kimi"), Some("7d3e-run")), "{s}");
    assert_eq!(s["pendingTool"], json!({"name": "Shell", "summary": "cargo test"}));
    assert_eq!(s["projectPath"], proj.display().to_string());
    append(&log, &record(now + 2.0, "ApprovalResponse", json!({"request_id": "apr_1", "response": "approve"})));
    let s = wait_for(10, "working once approved", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "working")
    });
    assert_eq!(s["sessionId"], "7d3e-run");
    append(&log, &record(now + 3.0, "TurnEnd", json!({})));
    wait_for(10, "waiting for input after its turn", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "waiting" && s["waitingFor"] == "input")
    });
}

/// pi cannot run here (no model): a copy of `sleep` named `pi` stands in
/// for its process, and its session file is written as pi's
/// `SessionManager` writes it (at the first reply, then entry by entry).
#[test]
fn a_running_pi_is_linked_to_the_session_file_of_its_directory_and_follows_its_turns() {
    let env = Env::new();
    let proj = env.root.join("src/pi-app");
    let p = env.spawn(&env.native_agent("pi"), &["600"], &proj);
    let folder = format!("--{}--", proj.display().to_string().trim_start_matches('/').replace('/', "-"));
    let dir = env.home.join(".pi/agent/sessions").join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("2026-12-01T10-00-00-000Z_5c6d7e8f-0000-4000-8000-00000000abcd.jsonl");
    let now = chrono::Utc::now();
    let at = |s: i64| (now + chrono::Duration::seconds(s)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let msg = |id: &str, s: i64, m: Value| {
        format!("{}\n", json!({"type": "message", "id": id, "parentId": null, "timestamp": at(s), "message": m}))
    };
    let usage = json!({"input": 3, "output": 20, "cacheRead": 0, "cacheWrite": 900, "totalTokens": 923,
                       "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0.0037}});
    std::fs::write(
        &file,
        format!(
            "{}\n{}{}",
            json!({"type": "session", "version": 3, "id": "5c6d7e8f-0000-4000-8000-00000000abcd", "timestamp": at(0), "cwd": proj.display().to_string()}),
            msg("a1", 0, json!({"role": "user", "content": [{"type": "text", "text": "fix it"}], "timestamp": 0})),
            msg("a2", 1, json!({"role": "assistant", "content": [{"type": "toolCall", "id": "c1", "name": "bash", "arguments": {"command": "cargo test"}}],
                "provider": "anthropic", "model": "claude-sonnet-4-5", "usage": usage, "stopReason": "toolUse", "timestamp": 0})),
        ),
    )
    .unwrap();
    let s = wait_for(10, "the pi process working", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "working")
    });
    assert_eq!(
        (s["agent"].as_str(), s["sessionId"].as_str()),
        (Some("pi"), Some("5c6d7e8f-0000-4000-8000-00000000abcd")),
        "{s}"
    );
    assert_eq!(s["projectPath"], proj.display().to_string());
    append(
        &file,
        &msg(
            "a3",
            2,
            json!({"role": "toolResult", "toolCallId": "c1", "toolName": "bash", "content": [], "isError": false, "timestamp": 0}),
        ),
    );
    append(
        &file,
        &msg(
            "a4",
            3,
            json!({"role": "assistant", "content": [{"type": "text", "text": "done"}],
        "provider": "anthropic", "model": "claude-sonnet-4-5", "usage": usage, "stopReason": "stop", "timestamp": 1}),
        ),
    );
    wait_for(10, "waiting for input after its reply", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "waiting" && s["waitingFor"] == "input")
    });
}

/// OpenCode without agentwatch's plugin, and Droid: a running process is
/// linked to the session created in its directory since it started (a copy
/// of `sleep` stands in for the process; the database and files are the
/// agents' formats). A second process there never takes the first's.
#[test]
fn opencode_and_droid_processes_are_linked_to_the_session_they_started_and_never_to_anothers() {
    let env = Env::new();
    let proj = env.root.join("src/oc-app");
    std::fs::create_dir_all(&proj).unwrap();
    let dir = env.home.join(".local/share/opencode");
    std::fs::create_dir_all(&dir).unwrap();
    let db = rusqlite::Connection::open(dir.join("opencode.db")).unwrap();
    db.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/opencode/fixtures/opencode-1.18.33.sql"))
        .unwrap();
    let opencode = env.native_agent("opencode");
    let first = env.spawn(&opencode, &["600"], &proj);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let now = chrono::Utc::now().timestamp_millis();
    db.execute(
        "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated)
         SELECT 'ses_live1', project_id, NULL, 'live', ?1, 'live', version, ?2, ?2 FROM session LIMIT 1",
        rusqlite::params![proj.display().to_string(), now],
    )
    .unwrap();
    let s = wait_for(10, "the opencode process linked", || {
        env.session_with_pid(first.pid(), &["--active"]).filter(|s| s["sessionId"] == "ses_live1")
    });
    assert_eq!(s["agent"], "opencode", "{s}");
    // Another OpenCode in the same directory, with no session of its own yet.
    let second = env.spawn(&opencode, &["600"], &proj);
    let other = wait_for(10, "the second process listed", || env.session_with_pid(second.pid(), &["--active"]));
    assert_ne!(other["sessionId"], "ses_live1", "{other}");
    let s = env.session_with_pid(first.pid(), &["--active"]).unwrap();
    assert_eq!(s["sessionId"], "ses_live1", "the first keeps its session: {s}");

    // Droid: its messages file, `<session>.jsonl`, in the folder of its directory.
    let droid_proj = env.root.join("src/droid-app");
    let p = env.spawn(&env.native_agent("droid"), &["600"], &droid_proj);
    let folder = env.home.join(".factory/sessions").join(droid_proj.display().to_string().replace('/', "-"));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("0b6a3c1e-8f2d-4c7a-9e51-3d2f6a7b9c10.jsonl"), "{\"type\":\"session_start\"}\n")
        .unwrap();
    let s = wait_for(10, "the droid process linked", || {
        env.session_with_pid(p.pid(), &["--active"])
            .filter(|s| s["sessionId"].as_str().is_some_and(|i| i.starts_with("0b6a3c1e")))
    });
    assert_eq!((s["agent"].as_str(), s["projectPath"].as_str()), (Some("droid"), droid_proj.to_str()), "{s}");
}

/// Grok Build cannot run here (a native binary behind an xAI login): a copy
/// of `sleep` named `grok` stands in for its process, and its update log is
/// written as Grok writes it.
#[test]
fn a_running_grok_is_linked_to_its_work_dirs_update_log_and_waits_after_its_turn() {
    let env = Env::new();
    let proj = env.root.join("src/grok-app");
    let p = env.spawn(&env.native_agent("grok"), &["600"], &proj);
    let folder = proj.display().to_string().replace('%', "%25").replace('/', "%2F");
    let dir = env.home.join(".grok/sessions").join(folder).join("019fa7cc-run");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("updates.jsonl");
    let now = chrono::Utc::now().timestamp_millis();
    let update = |ms: i64, kind: &str| {
        format!(
            "{}\n",
            json!({"timestamp": ms / 1000, "method": "session/update", "params": {"sessionId": "019fa7cc-run",
                "update": {"sessionUpdate": kind, "content": {"type": "text", "text": "run the tests"}},
                "_meta": {"eventId": format!("019fa7cc-run-{ms}"), "agentTimestampMs": ms}}})
        )
    };
    std::fs::write(&log, update(now, "user_message_chunk")).unwrap();
    let s = wait_for(10, "the grok process at work", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "working")
    });
    assert_eq!((s["agent"].as_str(), s["sessionId"].as_str()), (Some("grok"), Some("019fa7cc-run")), "{s}");
    append(&log, &update(now + 2000, "turn_completed"));
    wait_for(10, "waiting for input after its turn", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "waiting" && s["waitingFor"] == "input")
    });
}

#[test]
fn a_running_cline_is_linked_to_the_session_its_database_names_with_its_pid() {
    let env = Env::new();
    let proj = env.root.join("src/cline-app");
    let p = env.spawn(&env.native_agent("cline"), &["600"], &proj);
    let data = env.home.join(".cline/data");
    std::fs::create_dir_all(data.join("db")).unwrap();
    let db = data.join("db/sessions.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/cline/fixtures/sessions-db.sql")).unwrap();
    let sid = "1785000000000_live1";
    c.execute(
        "INSERT INTO sessions (session_id, source, pid, started_at, status, interactive, provider, model, cwd,
           workspace_root, enable_tools, enable_spawn, enable_teams, hook_path, updated_at)
         VALUES (?1, 'cli', ?2, ?3, 'running', 1, 'anthropic', 'claude-sonnet-4-5', ?4, ?4, 1, 1, 0, '', ?3)",
        rusqlite::params![sid, p.pid(), chrono::Utc::now().to_rfc3339(), proj.display().to_string()],
    )
    .unwrap();
    let dir = data.join("sessions").join(sid);
    std::fs::create_dir_all(&dir).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    std::fs::write(
        dir.join(format!("{sid}.json")),
        json!({"version": 1, "session_id": sid, "source": "cli", "pid": p.pid(), "started_at": chrono::Utc::now().to_rfc3339(),
               "status": "running", "interactive": true, "provider": "anthropic", "model": "claude-sonnet-4-5",
               "cwd": proj.display().to_string(), "workspace_root": proj.display().to_string(),
               "enable_tools": true, "enable_spawn": true, "enable_teams": false})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("{sid}.messages.json")),
        json!({"version": 1, "updated_at": chrono::Utc::now().to_rfc3339(), "agent": "lead", "sessionId": sid,
               "messages": [{"id": "msg_u1", "role": "user", "content": [{"type": "text", "text": "hi"}], "ts": now},
                            {"id": "msg_a1", "role": "assistant", "content": [{"type": "text", "text": "hello"}], "ts": now + 1,
                             "modelInfo": {"id": "claude-sonnet-4-5", "provider": "anthropic"},
                             "metrics": {"inputTokens": 120, "outputTokens": 8, "cacheReadTokens": 100, "cacheWriteTokens": 0, "cost": 0.0004}}]})
        .to_string(),
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    let s = wait_for(10, "the cline process linked to its session", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["sessionId"] == sid)
    });
    assert_eq!((s["agent"].as_str(), s["projectPath"].as_str()), (Some("cline"), Some(proj.to_str().unwrap())), "{s}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database is only read");
}

#[test]
fn a_running_crush_is_linked_to_the_session_its_project_database_updates_and_its_messages_give_the_turn() {
    let env = Env::new();
    let proj = env.root.join("src/crush-app");
    std::fs::create_dir_all(proj.join(".crush")).unwrap();
    let db = rusqlite::Connection::open(proj.join(".crush/crush.db")).unwrap();
    db.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/crush/fixtures/crush.sql")).unwrap();
    let p = env.spawn(&env.native_agent("crush"), &["600"], &proj);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let now = chrono::Utc::now().timestamp();
    db.execute(
        "INSERT INTO sessions (id, parent_session_id, title, cost, updated_at, created_at) VALUES \
         ('9a1b-live', NULL, 'live', 0.02, ?1, ?1), ('msg$$sub', '9a1b-live', 'sub', 0.01, ?1, ?1)",
        [now],
    )
    .unwrap();
    let s = wait_for(10, "the crush process linked", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["sessionId"].is_string())
    });
    assert_eq!((s["agent"].as_str(), s["sessionId"].as_str()), (Some("crush"), Some("9a1b-live")), "{s}");
    // Its database is its transcript: a prompt, then a step that ends the turn.
    let now = chrono::Utc::now().timestamp();
    db.execute(
        "INSERT INTO messages (id, session_id, role, parts, created_at, updated_at) VALUES \
         ('m-1', '9a1b-live', 'user', '[{\"type\":\"text\",\"data\":{\"text\":\"hi\"}},{\"type\":\"finish\",\"data\":{\"reason\":\"stop\",\"time\":0}}]', ?1, ?1), \
         ('m-2', '9a1b-live', 'assistant', '[]', ?1, ?1)",
        [now],
    )
    .unwrap();
    wait_for(10, "the crush process working", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "working")
    });
    db.execute(
        "UPDATE messages SET parts = '[{\"type\":\"text\",\"data\":{\"text\":\"Hello.\"}},{\"type\":\"finish\",\"data\":{\"reason\":\"end_turn\",\"time\":1}}]' WHERE id = 'm-2'",
        [],
    )
    .unwrap();
    let s = wait_for(10, "waiting for input after its turn", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "waiting")
    });
    assert_eq!(s["waitingFor"], "input", "{s}");
}

/// Codebuff's CLI cannot run here (its launcher downloads a binary): a copy
/// of `sleep` named `codebuff` stands in for it, and its chat is written as
/// the CLI saves it at each stage of a turn (the fixtures of
/// `sources/codebuff/fixtures/turns/`, written from its source).
#[test]
fn a_running_codebuff_is_linked_to_its_projects_chat_whose_newest_response_gives_the_turn() {
    let env = Env::new();
    let proj = env.root.join("src/cb-app");
    std::fs::create_dir_all(&proj).unwrap();
    let p = env.spawn(&env.native_agent("codebuff"), &["600"], &proj);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let chat = env.home.join(".config/manicode/projects/cb-app/chats/2026-01-03T00-26-40.000Z");
    std::fs::create_dir_all(&chat).unwrap();
    let stages = Path::new(env!("CARGO_MANIFEST_DIR")).join("../agentwatch-core/src/sources/codebuff/fixtures/turns");
    let save = |stage: &str| {
        for f in ["run-state.json", "chat-messages.json"] {
            std::fs::copy(stages.join(stage).join(f), chat.join(f)).unwrap();
        }
    };
    save("started");
    let s = wait_for(10, "the codebuff process working", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "working")
    });
    assert_eq!(
        (s["agent"].as_str(), s["sessionId"].as_str()),
        (Some("codebuff"), Some("manicode/cb-app/2026-01-03T00-26-40.000Z")),
        "{s}"
    );
    save("asking");
    let s = wait_for(10, "a question asked", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["waitingFor"] == "question")
    });
    assert_eq!(s["pendingTool"]["summary"], "Should /healthz check the database too?", "{s}");
    save("finished");
    wait_for(10, "waiting for input after its turn", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "waiting" && s["waitingFor"] == "input")
    });
}

/// Roo Code's CLI needs the extension and a provider: a copy of `sleep`
/// named `roo` stands in for it, and its task is written as Roo saves one
/// (`ui_messages.json` and `history_item.json` in the CLI's storage).
#[test]
fn a_running_roo_is_linked_to_its_workspaces_task_whose_newest_message_gives_the_turn() {
    let env = Env::new();
    let proj = env.root.join("src/roo-app");
    std::fs::create_dir_all(&proj).unwrap();
    let p = env.spawn(&env.native_agent("roo"), &["600"], &proj);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let task = env.home.join(".vscode-mock/global-storage/tasks/019b0000-0000-7000-8000-00000000roo1");
    std::fs::create_dir_all(&task).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let save = |messages: Value| {
        std::fs::write(task.join("ui_messages.json"), messages.to_string()).unwrap();
        std::fs::write(
            task.join("history_item.json"),
            json!({"id": "019b0000-0000-7000-8000-00000000roo1", "number": 1, "ts": now, "task": "add a test",
                   "workspace": proj, "mode": "code", "status": "active"})
            .to_string(),
        )
        .unwrap();
    };
    let mut messages = vec![
        json!({"ts": now, "type": "say", "say": "text", "text": "add a test"}),
        json!({"ts": now + 1, "type": "say", "say": "api_req_started", "text": "{\"apiProtocol\":\"anthropic\"}"}),
    ];
    save(json!(messages));
    let s = wait_for(10, "the roo process working", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "working")
    });
    assert_eq!(
        (s["agent"].as_str(), s["sessionId"].as_str(), s["projectPath"].as_str()),
        (Some("roo-code"), Some("019b0000-0000-7000-8000-00000000roo1"), proj.to_str()),
        "{s}"
    );
    messages.push(json!({"ts": now + 2, "type": "ask", "ask": "followup",
        "text": "{\"question\":\"Which test runner?\",\"suggest\":[{\"answer\":\"vitest\"}]}"}));
    save(json!(messages));
    let s = wait_for(10, "a question asked", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["waitingFor"] == "question")
    });
    assert_eq!(s["pendingTool"]["summary"], "Which test runner?", "{s}");
    messages[2]["isAnswered"] = json!(true);
    messages.push(json!({"ts": now + 3, "type": "say", "say": "user_feedback", "text": "vitest"}));
    messages.push(json!({"ts": now + 4, "type": "say", "say": "completion_result", "text": "Added."}));
    messages.push(json!({"ts": now + 5, "type": "ask", "ask": "completion_result", "text": ""}));
    save(json!(messages));
    wait_for(10, "waiting for input after its task is done", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "waiting" && s["waitingFor"] == "input")
    });
}

/// Cursor's CLI cannot run here: a copy of `sleep` named `cursor-agent`
/// stands in for it. Its chat store is in its work dir's bucket (the MD5 of
/// the path) and its transcript says where the turn stands.

#[test]
fn a_running_cursor_agent_is_linked_to_its_work_dirs_chat_and_its_transcript_gives_the_turn() {
    let env = Env::new();
    let proj = env.root.join("src/cursor-app");
    let p = env.spawn(&env.native_agent("cursor-agent"), &["600"], &proj);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let bucket = agentwatch_core::sources::cursor::paths::bucket(&proj.display().to_string());
    let chat = env.home.join(".cursor/chats").join(bucket).join("c0ffee-live");
    std::fs::create_dir_all(&chat).unwrap();
    std::fs::write(chat.join("store.db"), "").unwrap();
    let transcripts = env.home.join(".cursor/projects/src-cursor-app/agent-transcripts");
    std::fs::create_dir_all(&transcripts).unwrap();
    let log = transcripts.join("c0ffee-live.jsonl");
    std::fs::write(&log, "{\"role\":\"user\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"fix it\"}]}}\n")
        .unwrap();
    let s = wait_for(10, "the cursor-agent process working", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "working")
    });
    assert_eq!((s["agent"].as_str(), s["sessionId"].as_str()), (Some("cursor-agent"), Some("c0ffee-live")), "{s}");
    append(&log, "{\"type\":\"turn_ended\",\"status\":\"success\"}\n");
    wait_for(10, "waiting for input after its turn", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["state"] == "waiting")
    });
}

/// Aider cannot run here: a copy of `sleep` named `aider` stands in for it,
/// in a folder below its repository's root. Its history file is found from
/// the process alone (Aider keeps no list of its repositories).
#[test]
fn a_running_aider_is_found_by_its_work_dir_and_linked_to_its_histories_newest_session() {
    let env = Env::new();
    let repo = env.root.join("src/aider-app");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let hist = repo.join(".aider.chat.history.md");
    std::fs::write(
        &hist,
        "\n# aider chat started at 2026-05-01 09:15:02\n\n> Model: gpt-4o with diff edit format  \n> Tokens: 1.5k sent, 200 received. Cost: $0.01 message, $0.01 session.  \n",
    )
    .unwrap();
    let p = env.spawn(&env.native_agent("aider"), &["600"], &repo.join("lib"));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // Aider writes its header as it starts (local time: UTC here).
    let started = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    append(
        &hist,
        &format!(
            "\n# aider chat started at {started}\n\n> Model: gpt-4o with diff edit format  \n\n#### hi  \n\nHello.\n\n> Tokens: 2.0k sent, 30 received. Cost: $0.0053 message, $0.0053 session.  \n"
        ),
    );
    let s = wait_for(10, "the aider process linked", || {
        env.session_with_pid(p.pid(), &["--active"]).filter(|s| s["sessionId"].is_string())
    });
    let id = format!("{}@{}", hist.display(), started.replace(' ', "T"));
    assert_eq!((s["agent"].as_str(), s["sessionId"].as_str()), (Some("aider"), Some(id.as_str())), "{s}");
    assert_eq!(s["tokens"]["input"], 2000, "its usage read from the history the process led to: {s}");
    assert_eq!(s["projectPath"], json!(repo));
    // The earlier session of the same file was read too.
    let all = env.json(&["sessions", "--no-ingest", "--agent-type", "aider"]);
    assert_eq!(all["sessions"].as_array().unwrap().len(), 2, "{all}");
}

#[test]
fn the_daemon_reads_a_running_aiders_new_reports_from_the_file_watcher() {
    let env = Env::new();
    let repo = env.root.join("src/aider-watched");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let hist = repo.join(".aider.chat.history.md");
    let started = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    std::fs::write(
        &hist,
        format!(
            "\n# aider chat started at {started}\n\n> Model: gpt-4o with diff edit format  \n> Tokens: 1.5k sent, 200 received. Cost: $0.01 message, $0.01 session.  \n"
        ),
    )
    .unwrap();
    let _p = env.spawn(&env.native_agent("aider"), &["600"], &repo);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let _daemon = env.daemon(60, &[]);
    let total = |env: &Env| {
        env.json(&["costs", "daily", "--no-ingest", "--agent", "aider", "--timezone", "UTC"])["totals"]["inputTokens"]
            .as_u64()
    };
    wait_for(10, "the history of the running aider", || (total(&env) == Some(1500)).then_some(()));
    append(
        &hist,
        "\n#### more  \n\nDone.\n\n> Tokens: 2.0k sent, 30 received. Cost: $0.0053 message, $0.02 session.  \n",
    );
    // With scans a minute apart, only the watcher of its folder can bring it in.
    wait_for(10, "the appended report", || (total(&env) == Some(3500)).then_some(()));
}

/// Files a source reads whatever their names: ZCode's `db.sqlite` (and its
/// WAL), OpenClaw's `<session>.jsonl.reset.<time>` archive. The daemon's
/// watcher once passed on only `.db`, `.json`, `.jsonl` and `.md` files,
/// and a running daemon never saw these (bench/change-latency found it).
#[test]
fn the_daemon_sees_every_file_a_source_reads_whatever_its_name() {
    let env = Env::new();
    let zcode = env.home.join(".zcode/cli/db");
    let openclaw = env.home.join(".openclaw/agents/main/sessions");
    std::fs::create_dir_all(&zcode).unwrap();
    std::fs::create_dir_all(&openclaw).unwrap();
    let _daemon = env.daemon(1, &[]);
    let sessions = |agent: &str| {
        env.json(&["sessions", "--no-ingest", "--agent-type", agent])["sessions"].as_array().map_or(0, |a| a.len())
    };
    // Its first ingest and scan find nothing of either.
    wait_for(10, "the daemon's first scan", || (env.last_scan() > 0).then_some(()));
    assert_eq!((sessions("zcode"), sessions("openclaw")), (0, 0));

    let c = rusqlite::Connection::open(zcode.join("db.sqlite")).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    c.execute_batch(include_str!("../../crates/agentwatch-core/src/sources/zcode/fixtures/zcode.sql")).unwrap();
    wait_for(10, "ZCode's sessions", || (sessions("zcode") == 2).then_some(()));

    std::fs::write(
        openclaw.join("4f1c2a9e-7b3d-4e21-9c5a-1d2e3f4a5b6c.jsonl.reset.2026-12-01T10-00-00.000Z"),
        include_bytes!(
            "../../crates/agentwatch-core/src/sources/openclaw/fixtures/4f1c2a9e-7b3d-4e21-9c5a-1d2e3f4a5b6c.jsonl"
        ),
    )
    .unwrap();
    wait_for(10, "OpenClaw's archived session", || (sessions("openclaw") >= 1).then_some(()));
}

/// The input tokens of every day, as the store has them.
fn input_tokens(env: &Env) -> Option<u64> {
    env.json(&["costs", "daily", "--no-ingest", "--timezone", "UTC"])["totals"]["inputTokens"].as_u64()
}

/// A process's start time in clock ticks since boot, as `/proc` says and
/// Claude Code records it in its registry (`procStart`).
fn start_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat[stat.rfind(')').unwrap() + 2..].split(' ').nth(19).unwrap().parse().unwrap()
}
