//! Gemini CLI 0.61, driven offline: its chat file and hooks against what
//! agentwatch shows.
//!
//! Gemini CLI writes nothing while a permission prompt or a question is
//! open: those rows run with agentwatch's hooks installed.

use std::path::Path;

use serde_json::json;

use crate::harness::*;
use crate::support::*;

const AGENT: &str = "gemini-cli";
const TOOL: &str = "echo aw-tool-ran | tee aw-tool-ran.txt";

pub struct Gemini<'a> {
    env: &'a Env,
    pub tmux: Tmux,
    stub: Stub,
}

impl<'a> Gemini<'a> {
    /// An API key (no login), no update checks or usage statistics.
    pub fn new(env: &'a Env) -> Gemini<'a> {
        let dir = env.home.join(".gemini");
        std::fs::create_dir_all(&dir).unwrap();
        let settings = json!({
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false},
            "privacy": {"usageStatisticsEnabled": false},
            "ide": {"enabled": false, "hasSeenNudge": true}
        });
        std::fs::write(dir.join("settings.json"), serde_json::to_string_pretty(&settings).unwrap()).unwrap();
        Gemini { env, tmux: Tmux::new(), stub: Stub::start(env) }
    }

    /// Starts `gemini` in terminal `name` and waits for its prompt; returns
    /// the terminal's pid (the CLI's launcher, which starts the CLI proper).
    pub fn start(&self, name: &str, proj: &Path) -> u32 {
        self.start_with(name, proj, &[])
    }

    /// [`Self::start`] with more environment variables.
    fn start_with(&self, name: &str, proj: &Path, extra: &[(&str, String)]) -> u32 {
        let mut vars = base_vars(self.env);
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        vars.push(("GEMINI_API_KEY".into(), "stub-key".into()));
        vars.push(("GOOGLE_GEMINI_BASE_URL".into(), self.stub.url()));
        vars.push(("GEMINI_CLI_TRUST_WORKSPACE".into(), "true".into()));
        let pid = self.tmux.open(name, proj, &vars, &[agent_bin("gemini").display().to_string()]);
        self.tmux.wait_screen(name, "Gemini CLI's prompt", |s| s.contains("Type your message"));
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
#[ignore = "drives the real Gemini CLI: make agents"]
fn gemini_cli_every_state_with_its_hooks() {
    let env = Env::new();
    quick_alerts(&env);
    let g = Gemini::new(&env);
    install_hooks(&env, AGENT);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/docs");
    let pid = g.start("main", &proj);

    w.fresh_at_the_prompt(pid);
    // The chat file it writes at start is linked, and the hooks' session is the same one.
    wait_for(SETTLE, "the chat linked", || {
        let s = w.session_of(pid);
        s["transcriptPath"].as_str().is_some_and(|p| p.contains("/chats/session-")).then_some(())
    });

    g.prompt("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    assert_eq!(w.wait_alert(pid, "waiting")["title"], "Gemini CLI in docs is waiting for you");

    g.prompt("main", "run AW_TOOL please");
    let d = w.wait_state(pid, "waiting", Some("permission"));
    assert_eq!(d["session"]["pendingTool"], json!({"name": "Shell", "summary": TOOL}));
    assert_eq!(w.wait_alert(pid, "permission")["title"], format!("Gemini CLI in docs asks permission: Shell({TOOL})"));
    g.tmux.wait_screen("main", "the permission prompt", |s| s.contains("Allow once"));
    g.tmux.answer("main", &["Enter"], |s| s.contains("Allow once"));
    w.approved(pid);
    assert!(proj.join("aw-tool-ran.txt").exists(), "the approved command ran");

    g.prompt("main", "AW_ASK me");
    w.wait_state(pid, "waiting", Some("question"));
    w.wait_alert(pid, "question");
    g.tmux.wait_screen("main", "the question", |s| s.contains("Blue"));
    g.tmux.keys("main", &["Enter"]);
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));

    g.prompt("main", "/quit");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real Gemini CLI: make agents"]
fn gemini_cli_closing_the_terminal_at_the_prompt_is_completed() {
    let env = Env::new();
    let g = Gemini::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let pid = g.start("main", &env.root.join("src/site"));
    w.wait_state(pid, "waiting", Some("input"));
    // Without hooks, its chat file says where the turn is.
    g.prompt("main", "hello there");
    wait_for(SETTLE, "the reply in the chat", || (w.show(pid)["session"]["stateSignal"] == "transcript").then_some(()));
    w.wait_state(pid, "waiting", Some("input"));
    follow_tree(pid);
    g.tmux.close("main");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real Gemini CLI: make agents"]
fn gemini_cli_killed_mid_turn_or_at_a_permission_prompt_died_once() {
    let env = Env::new();
    let g = Gemini::new(&env);
    install_hooks(&env, AGENT);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let a = g.start("a", &env.root.join("src/one"));
    g.prompt("a", "AW_LONG please");
    w.wait_state(a, "working", None);
    let b = g.start("b", &env.root.join("src/two"));
    g.prompt("b", "run AW_TOOL please");
    w.wait_state(b, "waiting", Some("permission"));
    // kill -9 the CLI: the process doing the work, then its launcher.
    for pid in [a, b] {
        let mut all = children(pid);
        all.push(pid);
        same_agent(pid, &all);
        kill9(&all);
    }
    w.died_once(a, "process exited mid-turn", "Gemini CLI in one died");
    w.died_once(b, "process exited with a permission prompt open", "Gemini CLI in two died");
}

#[test]
#[ignore = "drives the real Gemini CLI: make agents"]
fn gemini_cli_telemetry_reaches_agentwatch_with_the_token_from_the_environment() {
    let env = Env::new();
    let g = Gemini::new(&env);
    let port = free_port();
    let _daemon = env.daemon(1, &["--port", &port.to_string()]);
    let out = env.ok(&["telemetry", "install", "--agent", AGENT]);
    assert!(out.contains("Installed telemetry to agentwatch for gemini-cli"), "{out}");
    let settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.home.join(".gemini/settings.json")).unwrap()).unwrap();
    assert_eq!(settings["telemetry"]["otlpEndpoint"], format!("http://127.0.0.1:{port}"));
    assert_eq!(settings["telemetry"]["logPrompts"], false);
    assert_eq!(settings["privacy"]["usageStatisticsEnabled"], false, "the rest is kept");
    // Its settings cannot carry the token: the note says what to export.
    let api: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.data.join("api.json")).unwrap()).unwrap();
    let header = format!("Authorization=Bearer {}", api["hook_token"].as_str().unwrap());
    assert!(out.contains(&format!("export OTEL_EXPORTER_OTLP_HEADERS='{header}'")), "{out}");

    let w = watch(&env);
    let proj = env.root.join("src/otel");
    let pid = g.start_with("main", &proj, &[("OTEL_EXPORTER_OTLP_HEADERS", header)]);
    w.wait_state(pid, "waiting", Some("input"));
    g.prompt("main", "run AW_TOOL please");
    g.tmux.wait_screen("main", "the permission prompt", |s| s.contains("Allow once"));
    g.tmux.answer("main", &["Enter"], |s| s.contains("Allow once"));
    wait_for(SETTLE, "the approved command", || proj.join("aw-tool-ran.txt").exists().then_some(()));
    // `/quit` typed while the turn still ends is lost: at the prompt first.
    w.wait_state(pid, "waiting", Some("input"));
    // The chat's calls (each reply once, however often it was appended):
    // (count, the sum of their totals).
    let chat = |d: &serde_json::Value| -> (usize, u64) {
        let path = d["session"]["transcriptPath"].as_str().unwrap_or("/nonexistent");
        let mut calls: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        for v in std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "gemini" && v["tokens"].is_object())
        {
            calls.insert(v["id"].as_str().unwrap().to_string(), v["tokens"]["total"].as_u64().unwrap());
        }
        (calls.len(), calls.values().sum())
    };
    let reported = || -> usize {
        let db = rusqlite::Connection::open(env.data.join("agentwatch.db")).unwrap();
        db.query_row("SELECT count(*) FROM otel_calls", [], |r| r.get::<_, i64>(0)).unwrap() as usize
    };
    // The tool call came by telemetry (no hooks), and so did every model
    // call of the chat; the chat is the ledger, so nothing is left live and
    // nothing counts twice.
    let d = wait_for(30, "the tool call and every model call by telemetry", || {
        let d = w.show(pid);
        let tool = d["toolCalls"].as_array()?.iter().any(|t| t["source"] == "otel" && t["tool"] == "run_shell_command");
        let (n, _) = chat(&d);
        (tool && n >= 2 && reported() >= n && d["liveUsage"].is_null()).then_some(d)
    });
    let (_, total) = chat(&d);
    assert_eq!(d["session"]["tokens"]["total"].as_u64(), Some(total), "{d}");
    assert!(env.json(&["status"])["telemetry"]["calls"].as_u64().unwrap() >= 2);
    g.prompt("main", "/quit");
    w.wait_state(pid, "completed", None);

    env.ok(&["telemetry", "uninstall", "--agent", AGENT]);
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.home.join(".gemini/settings.json")).unwrap()).unwrap();
    assert_eq!(after.get("telemetry"), None, "{after}");
}
