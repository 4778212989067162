//! Codex 0.171, driven offline: its rollout, hooks and background server
//! against what agentwatch shows.
//!
//! Codex records nothing while an approval waits, so the permission rows run
//! with agentwatch's hooks installed (Codex asks to trust them at start, and
//! the test answers as a person would).

use std::path::Path;

use serde_json::json;

use crate::harness::*;
use crate::support::*;

const AGENT: &str = "codex";
const TOOL: &str = "echo aw-tool-ran | tee aw-tool-ran.txt";

pub struct Codex<'a> {
    env: &'a Env,
    pub tmux: Tmux,
    _stub: Stub,
}

impl<'a> Codex<'a> {
    /// A custom provider pointing at the stub, the test's folders trusted.
    pub fn new(env: &'a Env) -> Codex<'a> {
        let stub = Stub::start(env);
        let config = format!(
            r#"model = "gpt-5-codex"
model_provider = "awstub"
approval_policy = "on-request"
sandbox_mode = "workspace-write"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

[model_providers.awstub]
name = "agentwatch stub"
base_url = "{url}/v1"
wire_api = "responses"
env_key = "AW_STUB_KEY"
request_max_retries = 0
stream_max_retries = 0
"#,
            url = stub.url()
        );
        std::fs::create_dir_all(&env.codex).unwrap();
        std::fs::write(env.codex.join("config.toml"), config).unwrap();
        Codex { env, tmux: Tmux::new(), _stub: stub }
    }

    fn trust(&self, proj: &Path) {
        let mut f = std::fs::OpenOptions::new().append(true).open(self.env.codex.join("config.toml")).unwrap();
        std::io::Write::write_all(
            &mut f,
            format!("\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n", proj.display()).as_bytes(),
        )
        .unwrap();
    }

    /// Starts `codex` (with `args`) in terminal `name` and waits for its
    /// prompt; with `review`, Codex first asks to review agentwatch's new
    /// hooks, and they are trusted as a person would. Returns the terminal's
    /// pid (Codex's node launcher).
    pub fn start(&self, name: &str, proj: &Path, args: &[&str], review: bool) -> u32 {
        self.trust(proj);
        let mut vars = base_vars(self.env);
        vars.push(("AW_STUB_KEY".into(), "stub-key".into()));
        let mut argv = vec![agent_bin("codex").display().to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        let pid = self.tmux.open(name, proj, &vars, &argv);
        // Codex asks to review new hooks about a second after its prompt shows.
        if review {
            self.tmux.wait_screen(name, "Codex asking to review the hooks", |s| s.contains("Hooks need review"));
            // Enter only once "Trust all" is the chosen option: a "2" that
            // came before the dialog listened would leave Enter to open the
            // review list. Press it again until it takes.
            let chosen = |s: &str| s.lines().any(|l| l.contains('›') && l.contains("Trust all"));
            for _ in 0..20 {
                self.tmux.keys(name, &["2"]);
                std::thread::sleep(std::time::Duration::from_millis(300));
                if chosen(&self.tmux.screen(name)) {
                    break;
                }
            }
            self.tmux.wait_screen(name, "\"Trust all\" chosen", chosen);
            self.tmux.keys(name, &["Enter"]);
            self.tmux.wait_screen(name, "the review closed", |s| !s.contains("Hooks need review"));
        }
        self.tmux.wait_screen(name, "Codex's prompt", |s| s.contains("Ask Codex") || s.contains('›'));
        std::thread::sleep(std::time::Duration::from_millis(500));
        pid
    }

    pub fn approve(&self, name: &str) {
        self.tmux.wait_screen(name, "the approval prompt", |s| s.contains("Would you like to run"));
        self.tmux.keys(name, &["y"]);
    }
}

impl Drop for Codex<'_> {
    /// Codex's background server outlives its terminal: stop it.
    fn drop(&mut self) {
        let home = self.env.codex.display().to_string();
        let _ = std::process::Command::new("pkill").args(["-KILL", "-f", &home]).status();
    }
}

fn watch(env: &Env) -> Watch<'_> {
    Watch { env, agent: AGENT }
}

#[test]
#[ignore = "drives the real Codex: make agents"]
fn codex_every_state_with_its_hooks_and_background_server() {
    let env = Env::new();
    quick_alerts(&env);
    let c = Codex::new(&env);
    let out = install_hooks(&env, AGENT);
    assert!(out.contains("Trust all and continue"), "the installer says Codex will ask: {out}");
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/api");
    // As a person starts it: plain `codex`, which runs a background server.
    let pid = c.start("main", &proj, &[], true);

    // Nothing sent yet (no rollout either): waiting for input, never working.
    w.fresh_at_the_prompt(pid);

    c.tmux.type_line("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    assert_eq!(w.wait_alert(pid, "waiting")["title"], "Codex in api is waiting for you");
    // The process, its rollout and its hooks are one session.
    let s = w.session_of(pid);
    assert!(s["externalId"].is_string() && s["transcriptPath"].as_str().is_some_and(|p| p.contains("rollout-")), "{s}");
    // The plan windows the stub's headers carried, as Codex wrote them into
    // its rollout: told apart by length (the week came first).
    let limits = wait_for(SETTLE, "Codex's plan windows", || {
        let l = env.json(&["limits", "--no-ingest"])["limits"].as_array().unwrap().clone();
        (l.len() == 2).then_some(l)
    });
    assert_eq!(
        (&limits[0]["agent"], &limits[0]["window"], &limits[0]["usedPercent"]),
        (&json!("codex"), &json!("5h"), &json!(42.4))
    );
    assert_eq!(
        (&limits[1]["window"], &limits[1]["usedPercent"], &limits[1]["source"]),
        (&json!("week"), &json!(17.0), &json!("rollout"))
    );
    let reset = chrono::DateTime::parse_from_rfc3339(limits[0]["resetsAt"].as_str().unwrap()).unwrap();
    let in_secs = reset.timestamp() - chrono::Utc::now().timestamp();
    assert!((3 * 3600 - 300..=3 * 3600).contains(&in_secs), "resets in {in_secs} s");
    let table = env.ok(&["limits", "--no-ingest"]);
    let row = table.lines().find(|l| l.starts_with("Codex") && l.contains(" 5h ")).unwrap_or_default();
    assert!(row.contains(" 42% "), "{table}");

    c.tmux.type_line("main", "run AW_TOOL please");
    let d = w.wait_state(pid, "waiting", Some("permission"));
    assert_eq!(d["session"]["pendingTool"], json!({"name": "Bash", "summary": TOOL}));
    assert_eq!(d["session"]["stateSignal"], "hook");
    assert_eq!(w.wait_alert(pid, "permission")["title"], format!("Codex in api asks permission: Bash({TOOL})"));
    c.approve("main");
    w.approved(pid);
    assert!(proj.join("aw-tool-ran.txt").exists(), "the approved command ran");

    // Codex asks questions in Plan mode.
    c.tmux.keys("main", &["BTab"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    c.tmux.type_line("main", "AW_ASK me");
    let d = w.wait_state(pid, "waiting", Some("question"));
    assert_eq!(d["session"]["pendingTool"]["summary"], "Which colour should the marker be?");
    w.wait_alert(pid, "question");
    c.tmux.wait_screen("main", "the question", |s| s.contains("Blue"));
    c.tmux.keys("main", &["Enter"]);
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));

    // /exit: the terminal client quits at the prompt; completed, nobody died
    // (the background server keeps the idle thread a minute longer).
    c.tmux.type_line("main", "/exit");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real Codex: make agents"]
fn codex_closing_the_terminal_at_the_prompt_is_completed() {
    let env = Env::new();
    let c = Codex::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let pid = c.start("main", &env.root.join("src/web"), &["--no-daemon"], false);
    w.wait_state(pid, "waiting", Some("input"));
    follow_tree(pid);
    c.tmux.close("main");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real Codex: make agents"]
fn codex_killed_mid_turn_or_at_an_approval_died_once() {
    let env = Env::new();
    let c = Codex::new(&env);
    install_hooks(&env, AGENT);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    // Without its background server, the terminal's process is the agent.
    let a = c.start("a", &env.root.join("src/one"), &["--no-daemon"], true);
    c.tmux.type_line("a", "AW_LONG please");
    w.wait_state(a, "working", None);
    // The hooks are trusted now: no second review.
    let b = c.start("b", &env.root.join("src/two"), &["--no-daemon"], false);
    c.tmux.type_line("b", "run AW_TOOL please");
    w.wait_state(b, "waiting", Some("permission"));
    // kill -9 the agent: the native codex, then the node launcher above it.
    for pid in [a, b] {
        let mut all = children(pid);
        all.push(pid);
        same_agent(pid, &all);
        kill9(&all);
    }
    w.died_once(a, "process exited mid-turn", "Codex in one died");
    w.died_once(b, "process exited with a permission prompt open", "Codex in two died");
}

#[test]
#[ignore = "drives the real Codex: make agents"]
fn codex_telemetry_reaches_agentwatch_and_no_call_counts_twice() {
    let env = Env::new();
    let c = Codex::new(&env);
    let port = free_port();
    let _daemon = env.daemon(1, &["--port", &port.to_string()]);
    let out = env.ok(&["telemetry", "install", "--agent", AGENT]);
    assert!(out.contains("Installed telemetry to agentwatch for codex"), "{out}");
    let config = std::fs::read_to_string(env.codex.join("config.toml")).unwrap();
    assert!(config.contains(&format!("endpoint = \"http://127.0.0.1:{port}/v1/logs\"")), "{config}");
    assert!(config.contains("[model_providers.awstub]"), "the rest is kept: {config}");

    let w = watch(&env);
    let proj = env.root.join("src/otel");
    let pid = c.start("main", &proj, &["--no-daemon"], false);
    w.wait_state(pid, "waiting", Some("input"));
    c.tmux.type_line("main", "run AW_TOOL please");
    c.approve("main");
    wait_for(SETTLE, "the approved command", || proj.join("aw-tool-ran.txt").exists().then_some(()));
    w.wait_state(pid, "waiting", Some("input"));
    // No hooks: the tool call and the model calls came by telemetry; they
    // are the rollout's calls, token for token.
    let reported = |thread: &str| -> (u64, u64) {
        let db = rusqlite::Connection::open(env.data.join("agentwatch.db")).unwrap();
        db.query_row(
            "SELECT COALESCE(SUM(input + cache_read), 0), COALESCE(SUM(output), 0) FROM otel_calls
             WHERE session = (SELECT pk FROM sessions WHERE external_id = ?1)",
            [thread],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )
        .unwrap()
    };
    let d = wait_for(30, "the tool result and every call by telemetry", || {
        let d = w.show(pid);
        let by_otel = d["toolCalls"].as_array()?.iter().any(|t| t["source"] == "otel");
        let t = &d["session"]["tokens"];
        let ledger = (t["input"].as_u64()? + t["cacheRead"].as_u64()?, t["output"].as_u64()?);
        (by_otel && ledger.1 > 0 && reported(d["session"]["externalId"].as_str()?) == ledger).then_some(d)
    });
    // Codex's title thread reports its own call: no session of its own.
    let all = env.json(&["sessions", "--no-ingest"]);
    assert_eq!(all["sessions"].as_array().unwrap().len(), 1, "{all}");
    // The rollout has them: none is live, none counted twice.
    assert_eq!(d["liveUsage"], serde_json::Value::Null, "{d}");
    assert!(env.json(&["status"])["telemetry"]["calls"].as_u64().unwrap() >= 2);
    c.tmux.type_line("main", "/exit");
    w.completed(pid);

    env.ok(&["telemetry", "uninstall", "--agent", AGENT]);
    let after = std::fs::read_to_string(env.codex.join("config.toml")).unwrap();
    assert!(!after.contains("[otel"), "{after}");
    assert!(after.contains("[model_providers.awstub]"), "{after}");
}
