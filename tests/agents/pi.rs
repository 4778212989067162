//! pi 0.73.1 (`@mariozechner/pi-coding-agent`), driven offline against the
//! model stub through a custom provider in its `models.json`
//! (openai-completions). pi has no hooks and asks no permission before a
//! tool runs: its session file tells every state, and its usage with pi's
//! own price.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::harness::*;
use crate::support::*;

const AGENT: &str = "pi";

/// The price per million tokens the stub's model has in `models.json`:
/// pi prices each call with it (`calculateCost`) and writes the cost down.
const PRICE: [f64; 4] = [3.0, 15.0, 0.3, 3.75];

struct Pi<'a> {
    env: &'a Env,
    tmux: Tmux,
    /// Kept running while pi is.
    _stub: Stub,
}

impl<'a> Pi<'a> {
    /// The stub as a provider of pi's own (`~/.pi/agent/models.json`), its
    /// model the default one (`settings.json`).
    fn new(env: &'a Env) -> Pi<'a> {
        let stub = Stub::start(env);
        let dir = env.home.join(".pi/agent");
        std::fs::create_dir_all(&dir).unwrap();
        let [input, output, cache_read, cache_write] = PRICE;
        let models = json!({"providers": {"stub": {
            "baseUrl": format!("{}/v1", stub.url()),
            "api": "openai-completions",
            "apiKey": "stub-key",
            "models": [{"id": "stub-model",
                        "cost": {"input": input, "output": output, "cacheRead": cache_read, "cacheWrite": cache_write}}]
        }}});
        std::fs::write(dir.join("models.json"), serde_json::to_string_pretty(&models).unwrap()).unwrap();
        let settings = json!({"defaultProvider": "stub", "defaultModel": "stub-model"});
        std::fs::write(dir.join("settings.json"), serde_json::to_string_pretty(&settings).unwrap()).unwrap();
        Pi { env, tmux: Tmux::new(), _stub: stub }
    }

    fn start(&self, name: &str, proj: &Path) -> u32 {
        let mut vars = base_vars(self.env);
        // No update check, no install ping, and no download of fd and
        // ripgrep (pi fetches them from GitHub when they are not on PATH).
        vars.push(("PI_OFFLINE".into(), "1".into()));
        let pid = self.tmux.open(name, proj, &vars, &[agent_bin("pi").display().to_string()]);
        self.tmux.wait_screen(name, "pi's prompt", |s| s.contains("pi v") && s.contains("stub-model"));
        pid
    }

    /// The session files pi wrote.
    fn transcripts(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let root = self.env.home.join(".pi/agent/sessions");
        for d in std::fs::read_dir(root).into_iter().flatten().flatten() {
            for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
                files.push(f.path());
            }
        }
        files
    }
}

fn watch(env: &Env) -> Watch<'_> {
    Watch { env, agent: AGENT }
}

/// Waits until pi has written its session file (at its first reply's end)
/// and agentwatch reads it: the session's first call is counted.
fn first_reply_read(w: &Watch, pid: u32) {
    wait_for(SETTLE, "the first reply in pi's session file", || {
        let d = w.show(pid);
        (d["session"]["stateSignal"] == "transcript" && d["session"]["tokens"]["total"].as_u64() == Some(160))
            .then_some(())
    });
    w.wait_state(pid, "waiting", Some("input"));
}

#[test]
#[ignore = "drives the real pi: make agents"]
fn pi_every_state_from_its_session_file_and_its_usage_priced_by_pi() {
    let env = Env::new();
    quick_alerts(&env);
    let p = Pi::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/lib");
    let pid = p.start("main", &proj);

    w.fresh_at_the_prompt(pid);

    // pi writes nothing until its first reply ends: the first turn is the
    // process's alone, at its prompt.
    p.tmux.type_line("main", "hello");
    first_reply_read(&w, pid);

    p.tmux.type_line("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    assert_eq!(w.wait_alert(pid, "waiting")["title"], "pi in lib is waiting for you");

    // Its tool runs unasked: working until the reply after it ends.
    p.tmux.type_line("main", "run AW_TOOL please");
    w.wait_state(pid, "working", None);
    p.tmux.wait_screen("main", "the tool's output", |s| s.contains("Took "));
    w.wait_state(pid, "waiting", Some("input"));
    assert!(proj.join("aw-tool-ran.txt").exists(), "the command ran");

    // The person's own `!` command is no turn: still at the prompt three
    // scans after pi wrote it down.
    let before = w.history(pid);
    p.tmux.type_line("main", "!echo hi from the shell");
    p.tmux.wait_screen("main", "the shell command's output", |s| s.matches("hi from the shell").count() >= 2);
    let seen = env.last_scan();
    wait_for(SETTLE, "three more scans", || (env.last_scan() >= seen + 3).then_some(()));
    assert_eq!(w.history(pid), before);

    // Interrupted (Escape): pi ends the turn as aborted.
    p.tmux.type_line("main", "AW_SLOW again");
    w.wait_state(pid, "working", None);
    p.tmux.keys("main", &["Escape"]);
    p.tmux.wait_screen("main", "the turn aborted", |s| s.contains("Operation aborted"));
    w.wait_state(pid, "waiting", Some("input"));
    let history = w.history(pid);
    assert!(!history.iter().any(|s| s.contains("permission") || s.contains("question")), "{history:?}");

    // The calls as the stub counted them (120 prompt tokens, 64 of them
    // cached; 40 completion tokens): hello, the slow reply, the tool call
    // and the reply after it. The aborted one pi records as all zeros.
    // Each is priced by pi from models.json, and agentwatch takes pi's cost.
    let calls = 4;
    let d = wait_for(SETTLE, "the four calls' usage", || {
        let d = w.show(pid);
        (d["session"]["tokens"]["total"].as_u64() == Some(calls * 160)).then_some(d)
    });
    let t = &d["session"]["tokens"];
    assert_eq!(
        (t["input"].as_u64(), t["output"].as_u64(), t["cacheRead"].as_u64(), t["cacheCreation"].as_u64()),
        (Some(calls * 56), Some(calls * 40), Some(calls * 64), Some(0)),
        "{d}"
    );
    let [input, output, cache_read, _] = PRICE;
    let one = (56.0 * input + 40.0 * output + 64.0 * cache_read) / 1e6;
    let cost = d["session"]["costUsd"].as_f64().unwrap_or_else(|| panic!("no cost: {d}"));
    assert!((cost - calls as f64 * one).abs() < 1e-12, "{cost} != {} × {one}\n{d}", calls);
    assert_eq!(d["session"]["projectPath"], proj.display().to_string(), "{d}");
    assert_eq!(p.transcripts().len(), 1, "{:?}", p.transcripts());

    p.tmux.type_line("main", "/quit");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real pi: make agents"]
fn pi_closed_at_the_prompt_completed_killed_mid_turn_died() {
    let env = Env::new();
    let p = Pi::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let a = p.start("a", &env.root.join("src/one"));
    w.wait_state(a, "waiting", Some("input"));
    let b = p.start("b", &env.root.join("src/two"));
    p.tmux.type_line("b", "hello");
    first_reply_read(&w, b);
    p.tmux.type_line("b", "AW_SLOW please");
    w.wait_state(b, "working", None);
    follow_tree(a);
    p.tmux.close("a");
    let mut all = children(b);
    all.push(b);
    same_agent(b, &all);
    kill9(&all);
    w.completed(a);
    w.died_once(b, "process exited mid-turn", "pi in two died");
}
