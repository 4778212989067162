//! Claude Code 2.1.197, driven offline: its session registry, transcript and
//! hooks against what agentwatch shows.

use std::path::Path;

use serde_json::json;

use crate::harness::*;
use crate::support::*;

const AGENT: &str = "claude-code";
const KEY: &str = "sk-ant-api03-aw-stub-key-0123456789abcdefghijklmnopqrstuvwxyz-AAAAAAAA";
const TOOL: &str = "echo aw-tool-ran | tee aw-tool-ran.txt";

/// Claude Code in this test's home, talking to the stub.
pub struct Claude<'a> {
    env: &'a Env,
    stub: Stub,
    pub tmux: Tmux,
}

impl<'a> Claude<'a> {
    /// Onboarding done, the test's folders trusted, the stub's key approved:
    /// what a person has after their first start.
    pub fn new(env: &'a Env) -> Claude<'a> {
        let approved = &KEY[KEY.len() - 20..];
        let state = json!({
            "hasCompletedOnboarding": true,
            "lastOnboardingVersion": "2.1.197",
            "theme": "dark",
            "numStartups": 1,
            "autoUpdates": false,
            "customApiKeyResponses": {"approved": [approved], "rejected": []},
            "projects": {env.root.display().to_string(): {"hasTrustDialogAccepted": true, "hasCompletedProjectOnboarding": true}}
        });
        std::fs::write(env.home.join(".claude.json"), state.to_string()).unwrap();
        Claude { env, stub: Stub::start(env), tmux: Tmux::new() }
    }

    fn vars(&self) -> Vec<(String, String)> {
        let mut v = base_vars(self.env);
        for (k, val) in [
            ("ANTHROPIC_BASE_URL", self.stub.url()),
            ("ANTHROPIC_API_KEY", KEY.to_string()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
            ("DISABLE_ERROR_REPORTING", "1".into()),
        ] {
            v.push((k.into(), val));
        }
        v
    }

    /// Starts `claude` in terminal `name`, waits for its prompt; returns the
    /// terminal's pid (Claude Code's own, started directly).
    pub fn start(&self, name: &str, proj: &Path) -> u32 {
        self.start_with(name, proj, &[agent_bin("claude").display().to_string()])
    }

    fn start_with(&self, name: &str, proj: &Path, argv: &[String]) -> u32 {
        let pid = self.tmux.open(name, proj, &self.vars(), argv);
        self.tmux.wait_screen(name, "Claude Code's prompt", |s| s.contains('❯'));
        pid
    }

    pub fn prompt(&self, name: &str, text: &str) {
        self.tmux.type_line(name, text);
    }
}

fn watch(env: &Env) -> Watch<'_> {
    Watch { env, agent: AGENT }
}

#[test]
#[ignore = "drives the real Claude Code: make agents"]
fn claude_code_every_state_from_its_own_registry_on_a_fresh_install() {
    let env = Env::new();
    // A fresh install: no ~/.claude at all (the daemon waits for it to appear).
    std::fs::remove_dir_all(&env.claude).unwrap();
    quick_alerts(&env);
    let c = Claude::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/web-app");
    let pid = c.start("main", &proj);

    // Started, nothing sent: waiting for input, as its registry says; never working.
    w.fresh_at_the_prompt(pid);
    let d = wait_for(SETTLE, "the registry to be the signal", || {
        Some(w.show(pid)).filter(|d| d["session"]["stateSignal"] == "registry")
    });
    assert_eq!(d["session"]["pid"], pid);
    assert!(w.alerts(pid, "waiting").is_empty(), "a fresh prompt is no news");

    // A prompt: working, then its turn ends: waiting, and after the delay an alert.
    c.prompt("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    let waiting = w.wait_alert(pid, "waiting");
    assert_eq!(waiting["title"], "Claude Code in web-app is waiting for you");

    // A permission prompt: the tool is named, the alert comes at once.
    c.prompt("main", "run AW_TOOL please");
    let d = w.wait_state(pid, "waiting", Some("permission"));
    assert_eq!(d["session"]["pendingTool"], json!({"name": "Bash", "summary": TOOL}));
    let asks = w.wait_alert(pid, "permission");
    assert_eq!(asks["title"], format!("Claude Code in web-app asks permission: Bash({TOOL})"));
    assert!(asks["resolvedAt"].is_null());

    // Approved: working again, the alert withdrawn, the tool really ran.
    c.tmux.wait_screen("main", "the permission dialog", |s| s.contains("Do you want to proceed?"));
    c.tmux.keys("main", &["Enter"]);
    w.approved(pid);
    assert!(proj.join("aw-tool-ran.txt").exists(), "the approved tool ran");

    // Its question tool: a question, at once.
    c.prompt("main", "AW_ASK me");
    let d = w.wait_state(pid, "waiting", Some("question"));
    assert_eq!(d["session"]["pendingTool"]["summary"], "Which colour should the marker be?");
    assert_eq!(w.wait_alert(pid, "question")["body"], "Which colour should the marker be?");
    c.tmux.wait_screen("main", "the question", |s| s.contains("Blue"));
    c.tmux.keys("main", &["Enter"]);
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));

    // /exit at the prompt: completed, and nobody died.
    c.prompt("main", "/exit");
    let d = w.wait_state(pid, "completed", None);
    assert!(w.alerts(pid, "died").is_empty(), "{d}");
    let history = w.history(pid);
    assert_eq!(history.first().map(String::as_str), Some("waiting:input"), "{history:?}");
    for s in ["waiting:permission", "waiting:question", "completed"] {
        assert!(history.contains(&s.to_string()), "{s} in {history:?}");
    }
    // Every change says which signal decided it.
    assert!(d["stateHistory"].as_array().unwrap().iter().all(|c| c["signal"].is_string()), "{d}");
}

#[test]
#[ignore = "drives the real Claude Code: make agents"]
fn claude_code_runs_the_agentwatch_status_line_and_keeps_the_persons_own() {
    let env = Env::new();
    let c = Claude::new(&env);
    // The person's own status line keeps what Claude Code hands it.
    let recorded = env.root.join("status.json");
    std::fs::create_dir_all(&env.claude).unwrap();
    let theirs = format!("cat > {}; echo my-own-line", recorded.display());
    let settings = json!({"statusLine": {"type": "command", "command": theirs}});
    std::fs::write(env.claude.join("settings.json"), settings.to_string()).unwrap();
    let out = env.ok(&["statusline", "install", "--agent", AGENT]);
    assert!(out.contains("Installed the agentwatch status line for claude-code"), "{out}");
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let pid = c.start("main", &env.root.join("src/status"));
    c.prompt("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    // agentwatch's line under the prompt, the person's after it.
    let screen = c.tmux.wait_screen("main", "agentwatch's status line after a reply", |s| {
        s.contains(" session · $") && s.contains(" today") && s.contains("ctx ") && s.contains("my-own-line")
    });
    let ours = screen.lines().find(|l| l.contains(" session · $")).unwrap();
    assert!(!ours.contains("5h "), "an API key has no plan windows: {ours}");

    // Recorded against the session: the agent's own cost and context use.
    let d = wait_for(SETTLE, "the status line's report", || {
        Some(w.show(pid)).filter(|d| d["contextPercent"].is_number() && d["agentCostUsd"].as_f64() > Some(0.0))
    });
    let ctx = d["contextPercent"].as_f64().unwrap();
    assert!(ours.contains(&format!("ctx {ctx:.0}%")), "{ours} vs {ctx}");
    assert!(env.json(&["limits", "--no-ingest"])["limits"].as_array().unwrap().is_empty(), "no guess for an API key");

    // The JSON the real CLI sent, with a subscription's rate_limits added.
    let mut real: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&recorded).unwrap()).unwrap();
    assert_eq!(real["session_id"], d["session"]["externalId"], "{real}");
    assert!(real["model"]["display_name"].is_string() && real["cost"]["total_cost_usd"].is_number(), "{real}");
    assert!(real["context_window"]["used_percentage"].is_number() && real.get("rate_limits").is_none(), "{real}");
    let now = chrono::Utc::now().timestamp();
    real["rate_limits"] = json!({"five_hour": {"used_percentage": 64.0, "resets_at": now + 7200 + 90},
                                 "seven_day": {"used_percentage": 12.5, "resets_at": now + 3 * 86_400}});
    let o = env.run_with_stdin(&["statusline"], real.to_string().as_bytes());
    let line = String::from_utf8(o.stdout).unwrap();
    assert!(line.contains(" · 5h 64% (resets in 2h 01m)") || line.contains(" · 5h 64% (resets in 2h 00m)"), "{line}");
    let limits = env.json(&["limits", "--no-ingest"])["limits"].as_array().unwrap().clone();
    assert_eq!((&limits[0]["window"], &limits[0]["usedPercent"]), (&json!("5h"), &json!(64.0)));
    assert_eq!((&limits[1]["window"], &limits[1]["usedPercent"]), (&json!("week"), &json!(12.5)));
    // The only Claude session with tokens in the window used all of it.
    let d = w.show(pid);
    assert_eq!(d["limitShare"], "about 64 % of your 5-hour window, 12 % of your weekly window", "{d}");
}

#[test]
#[ignore = "drives the real Claude Code: make agents"]
fn claude_code_closing_the_terminal_at_the_prompt_is_completed_not_dead() {
    let env = Env::new();
    let c = Claude::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let pid = c.start("main", &env.root.join("src/api"));
    w.wait_state(pid, "waiting", Some("input"));
    c.tmux.close("main");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real Claude Code: make agents"]
fn claude_code_killed_mid_turn_or_at_a_permission_prompt_died_once() {
    let env = Env::new();
    let c = Claude::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    // Mid-turn.
    let a = c.start("a", &env.root.join("src/one"));
    c.prompt("a", "AW_LONG please");
    w.wait_state(a, "working", None);
    // With a permission prompt open.
    let b = c.start("b", &env.root.join("src/two"));
    c.prompt("b", "run AW_TOOL please");
    w.wait_state(b, "waiting", Some("permission"));
    w.wait_alert(b, "permission");
    kill9(&[a, b]);
    w.died_once(a, "process exited mid-turn", "Claude Code in one died");
    w.died_once(b, "process exited with a permission prompt open", "Claude Code in two died");
    // The prompt nobody will answer now is withdrawn; a few scans later still one alert each.
    wait_for(SETTLE, "the permission alert to be withdrawn", || {
        w.alerts(b, "permission")[0]["resolvedAt"].as_str().map(|_| ())
    });
    let seen = env.last_scan();
    wait_for(SETTLE, "three more scans", || (env.last_scan() >= seen + 3).then_some(()));
    assert_eq!(w.alerts(a, "died").len() + w.alerts(b, "died").len(), 2);
}

#[test]
#[ignore = "drives the real Claude Code: make agents"]
fn claude_code_with_hooks_installed_denied_and_approved_tools_and_ctrl_d() {
    let env = Env::new();
    let c = Claude::new(&env);
    let out = install_hooks(&env, AGENT);
    assert!(out.contains("Installed agentwatch hooks for claude-code"), "{out}");
    let settings = std::fs::read_to_string(env.claude.join("settings.json")).unwrap();
    assert!(settings.contains("PermissionRequest") && settings.contains(&format!("--data-dir {}", env.data.display())));
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/hooked");
    let pid = c.start("main", &proj);
    w.wait_state(pid, "waiting", Some("input"));
    // The hooks registered the same session (not a second one).
    wait_for(SETTLE, "a hook's heartbeat", || w.show(pid)["session"]["heartbeatAgeSeconds"].as_i64().map(|_| ()));

    // Denied: no hook says so; the registry does.
    c.prompt("main", "run AW_TOOL please");
    w.wait_state(pid, "waiting", Some("permission"));
    c.tmux.wait_screen("main", "the permission dialog", |s| s.contains("Do you want to proceed?"));
    c.tmux.keys("main", &["Escape"]);
    w.wait_state(pid, "waiting", Some("input"));
    assert!(!proj.join("aw-tool-ran.txt").exists(), "denied");

    // Approved: the PostToolUse hook counts the call.
    c.prompt("main", "again AW_TOOL please");
    let d = w.wait_state(pid, "waiting", Some("permission"));
    assert_eq!(d["session"]["pendingTool"]["name"], "Bash");
    c.tmux.wait_screen("main", "the permission dialog", |s| s.contains("Do you want to proceed?"));
    c.tmux.keys("main", &["Enter"]);
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    let d = w.show(pid);
    assert_eq!(
        (d["session"]["toolCallCount"].as_u64(), d["session"]["lastToolName"].as_str()),
        (Some(1), Some("Bash"))
    );
    assert_eq!(d["toolCalls"][0]["source"], "hook");

    // Ctrl-D twice: completed (SessionEnd), nobody died.
    c.tmux.keys("main", &["C-d"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    c.tmux.keys("main", &["C-d"]);
    w.completed(pid);
    let only = env.json(&["sessions"])["sessions"].as_array().unwrap().iter().filter(|s| s["agent"] == AGENT).count();
    assert_eq!(only, 1, "one session for the process, the registry and the hooks");
}

#[test]
#[ignore = "drives the real Claude Code: make agents"]
fn claude_code_started_through_a_shell_is_the_agent_not_the_shell() {
    let env = Env::new();
    let c = Claude::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    // As tmux and launch scripts start it: the shell outlives the agent.
    let script = format!("{}; echo claude-exited; sleep 120", agent_bin("claude").display());
    let shell = c.start_with("main", &env.root.join("src/wrapped"), &["bash".into(), "-c".into(), script]);
    let agent = wait_for(SETTLE, "claude under the shell", || children(shell).into_iter().next());
    let s = w.session_of(agent);
    assert_eq!(s["pid"], agent, "keyed to claude, not to the shell {shell}");
    w.wait_state(agent, "waiting", Some("input"));
    c.prompt("main", "/exit");
    c.tmux.wait_screen("main", "the shell going on", |s| s.contains("claude-exited"));
    w.wait_state(agent, "completed", None);
    assert!(alive(shell), "the shell lives on");
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(env.session_with_pid(shell, &["--no-ingest", "--active"]).is_none(), "the shell is no session");
}

#[test]
#[ignore = "drives the real Claude Code: make agents"]
fn claude_code_http_hooks_post_to_the_api_with_a_hook_only_token() {
    let env = Env::new();
    let c = Claude::new(&env);
    let port = free_port();
    let _daemon = env.daemon(1, &["--port", &port.to_string()]);
    let out = env.ok(&["hooks", "install", "--agent", AGENT, "--http"]);
    assert!(out.contains("Installed agentwatch hooks"), "{out}");
    let settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.claude.join("settings.json")).unwrap()).unwrap();
    let hook = &settings["hooks"]["PermissionRequest"][0]["hooks"][0];
    assert_eq!(hook["url"], format!("http://127.0.0.1:{port}/api/hooks/claude-code"));
    let api: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.data.join("api.json")).unwrap()).unwrap();
    let token = api["hook_token"].as_str().unwrap();
    assert_eq!(hook["headers"]["Authorization"], format!("Bearer {token}"));
    assert_ne!(token, api["token"].as_str().unwrap(), "not the API's own token");
    // The hook token posts hook events and reads nothing.
    let denied = http(port, "GET", "/api/sessions", &[("Authorization", &format!("Bearer {token}"))], None);
    assert_eq!(denied.status, 401);

    let w = watch(&env);
    let proj = env.root.join("src/http");
    let pid = c.start("main", &proj);
    w.wait_state(pid, "waiting", Some("input"));
    c.prompt("main", "run AW_TOOL please");
    w.wait_state(pid, "waiting", Some("permission"));
    c.tmux.wait_screen("main", "the permission dialog", |s| s.contains("Do you want to proceed?"));
    c.tmux.keys("main", &["Enter"]);
    w.wait_state(pid, "waiting", Some("input"));
    // Only a hook counts tool calls: the PostToolUse event came over HTTP.
    let d = w.show(pid);
    assert_eq!(d["toolCalls"][0]["tool"], "Bash", "{d}");
    assert_eq!(d["toolCalls"][0]["source"], "hook");
    c.prompt("main", "/exit");
    w.wait_state(pid, "completed", None);
}

#[test]
#[ignore = "drives the real Claude Code: make agents"]
fn claude_code_telemetry_reaches_agentwatch_and_no_call_counts_twice() {
    let env = Env::new();
    let c = Claude::new(&env);
    let port = free_port();
    let _daemon = env.daemon(1, &["--port", &port.to_string()]);
    let out = env.ok(&["telemetry", "install", "--agent", AGENT]);
    assert!(out.contains("Installed telemetry to agentwatch for claude-code"), "{out}");
    let settings_file = env.claude.join("settings.json");
    let settings: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&settings_file).unwrap()).unwrap();
    let api: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.data.join("api.json")).unwrap()).unwrap();
    let token = api["hook_token"].as_str().unwrap();
    assert_eq!(settings["env"]["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"], format!("http://127.0.0.1:{port}/v1/logs"));
    assert_eq!(settings["env"]["OTEL_EXPORTER_OTLP_HEADERS"], format!("Authorization=Bearer {token}"));
    assert!(env.ok(&["telemetry", "install", "--agent", AGENT]).contains("already installed"));

    let w = watch(&env);
    let pid = c.start("main", &env.root.join("src/otel"));
    w.wait_state(pid, "waiting", Some("input"));
    c.prompt("main", "run AW_TOOL please");
    w.wait_state(pid, "waiting", Some("permission"));
    c.tmux.wait_screen("main", "the permission dialog", |s| s.contains("Do you want to proceed?"));
    c.tmux.keys("main", &["Enter"]);
    w.wait_state(pid, "waiting", Some("input"));
    // No hooks are installed: the tool call came by telemetry (batched
    // every 2 s), and so did every model call of the transcript (the same
    // request ids). Claude Code also reports a side call to a small model
    // that its transcript never has.
    let transcript_ids = |d: &serde_json::Value| -> Vec<String> {
        let path = d["session"]["transcriptPath"].as_str().unwrap_or("/nonexistent");
        let mut ids: Vec<String> = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["requestId"].as_str().map(str::to_string))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let reported = || -> Vec<(String, String)> {
        let db = rusqlite::Connection::open(env.data.join("agentwatch.db")).unwrap();
        let mut st = db.prepare("SELECT call_key, model FROM otel_calls ORDER BY call_key").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect()
    };
    let d = wait_for(30, "the tool result and every call by telemetry", || {
        let d = w.show(pid);
        let by_otel = d["toolCalls"].as_array()?.iter().any(|t| t["source"] == "otel" && t["tool"] == "Bash");
        let ids = transcript_ids(&d);
        let got = reported();
        let all = ids.len() == 2 && ids.iter().all(|id| got.iter().any(|(k, _)| k == id));
        (by_otel && all).then_some(d)
    });
    let ids = transcript_ids(&d);
    let side: Vec<String> = reported().into_iter().filter(|(k, _)| !ids.contains(k)).map(|(_, m)| m).collect();
    assert!(side.iter().all(|m| m.contains("haiku")), "{side:?}");
    let status = env.json(&["status"]);
    assert!(status["telemetry"]["calls"].as_u64().unwrap() >= 2, "{status}");
    // The transcript has every main call, so nothing is live any more and
    // nothing is counted twice.
    assert_eq!(d["liveUsage"], serde_json::Value::Null, "{d}");
    let tokens = &d["session"]["tokens"];
    assert!(tokens["output"].as_u64().unwrap() > 0, "{d}");
    c.prompt("main", "/exit");
    w.wait_state(pid, "completed", None);

    // Uninstalling takes out exactly what installing put in.
    let out = env.ok(&["telemetry", "uninstall", "--agent", AGENT]);
    assert!(out.contains("Removed telemetry to agentwatch"), "{out}");
    let after: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&settings_file).unwrap()).unwrap();
    let left: Vec<&String> = after["env"].as_object().map(|e| e.keys().collect()).unwrap_or_default();
    assert!(left.iter().all(|k| !k.starts_with("OTEL_") && *k != "CLAUDE_CODE_ENABLE_TELEMETRY"), "{after}");
    // What Claude Code itself put there stays.
    assert_eq!(after["env"]["DISABLE_AUTOUPDATER"], "1", "{after}");
}
