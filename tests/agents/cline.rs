//! Cline's CLI 3.0.65 (npm `cline`: a Node launcher and the compiled CLI
//! from its platform package), driven offline against the model stub
//! through an OpenAI-compatible provider (`cline auth`), tools asked for
//! (`--auto-approve false`): its `sessions.db` tells the states, its session
//! files the usage.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::*;
use crate::support::*;

const AGENT: &str = "cline";

struct Cline<'a> {
    env: &'a Env,
    tmux: Tmux,
    _stub: Stub,
}

impl<'a> Cline<'a> {
    /// The stub as the provider, set as a person sets it (`cline auth`).
    fn new(env: &'a Env) -> Cline<'a> {
        let stub = Stub::start(env);
        let o = Command::new(agent_bin("cline"))
            .args(["auth", "-p", "openai", "-k", "stub-key", "-m", "stub-model", "-b"])
            .arg(format!("{}/v1", stub.url()))
            .env_clear()
            .envs(base_vars(env))
            .env("CLINE_NO_AUTO_UPDATE", "1")
            .current_dir(&env.root)
            .output()
            .unwrap();
        assert!(o.status.success(), "cline auth: {}", String::from_utf8_lossy(&o.stderr));
        // Its notices (ClinePass, Cline Desktop, Zen) seen already: one may
        // cover the prompt a moment after it shows and take the first key.
        let notices = r#"{"shown": {"cline-cli-cline-pass-intro": true, "cline-cli-desktop-launch": true, "cline-cli-zen": true}}"#;
        std::fs::write(env.home.join(".cline/data/settings/cli-notices.json"), notices).unwrap();
        Cline { env, tmux: Tmux::new(), _stub: stub }
    }

    fn start(&self, name: &str, proj: &Path) -> u32 {
        let mut vars = base_vars(self.env);
        vars.push(("CLINE_NO_AUTO_UPDATE".into(), "1".into()));
        let argv = [agent_bin("cline").display().to_string(), "--auto-approve".into(), "false".into()];
        let pid = self.tmux.open(name, proj, &vars, &argv);
        self.tmux.wait_screen(name, "Cline's prompt", |s| {
            s.contains("What can I do for you?") && s.contains("Auto-approve all disabled")
        });
        pid
    }

    /// The assistant messages that ended a model call, in every session file.
    /// The pid `sessions.db` says runs the session begun in `cwd`.
    fn runner(&self, cwd: &Path) -> Option<u32> {
        let db = self.env.home.join(".cline/data/db/sessions.db");
        let c = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        c.query_row("SELECT pid FROM sessions WHERE cwd = ?1", [cwd.to_str()?], |r| r.get(0)).ok()
    }

    fn calls(&self) -> u64 {
        let root = self.env.home.join(".cline/data/sessions");
        let mut n = 0;
        for d in std::fs::read_dir(root).into_iter().flatten().flatten() {
            for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
                let p: PathBuf = f.path();
                if !p.to_string_lossy().ends_with(".messages.json") {
                    continue;
                }
                let v: Value =
                    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_default()).unwrap_or_default();
                n += v["messages"].as_array().into_iter().flatten().filter(|m| m["metrics"].is_object()).count() as u64;
            }
        }
        n
    }
}

impl Cline<'_> {
    /// This test's hub daemons (named by the working directory they were
    /// started in).
    fn hubs(&self) -> Vec<u32> {
        let root = self.env.root.display().to_string();
        let mut out = Vec::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd);
            if cmd.contains("--cline-hub-daemon") && cmd.contains(&root) && alive(pid) {
                out.push(pid);
            }
        }
        out
    }
}

impl Drop for Cline<'_> {
    /// Cline's CLI starts its hub daemon detached (it outlives the
    /// terminal): end this test's.
    fn drop(&mut self) {
        kill9(&self.hubs());
    }
}

fn watch(env: &Env) -> Watch<'_> {
    Watch { env, agent: AGENT }
}

#[test]
#[ignore = "drives the real Cline CLI: make agents"]
fn cline_every_state_from_its_sessions_db_and_its_usage_from_its_files() {
    let env = Env::new();
    quick_alerts(&env);
    let c = Cline::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/lib");
    let pid = c.start("main", &proj);

    w.fresh_at_the_prompt(pid);

    c.tmux.type_line("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    assert_eq!(w.wait_alert(pid, "waiting")["title"], "Cline in lib is waiting for you");
    assert_eq!(w.show(pid)["session"]["stateSignal"], "registry");

    // Denied: the turn goes on with the refusal, then ends.
    c.tmux.type_line("main", "run AW_TOOL please");
    w.wait_state(pid, "waiting", Some("permission"));
    w.wait_alert(pid, "permission");
    c.tmux.wait_screen("main", "the permission prompt", |s| s.contains("Approve tool call?"));
    c.tmux.keys("main", &["n"]);
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    assert!(!proj.join("aw-tool-ran.txt").exists(), "the denied command did not run");

    c.tmux.type_line("main", "run AW_TOOL again");
    w.wait_state(pid, "waiting", Some("permission"));
    c.tmux.wait_screen("main", "the permission prompt", |s| s.contains("Approve tool call?"));
    c.tmux.keys("main", &["y"]);
    wait_for(SETTLE, "the second permission alert", || (w.alerts(pid, "permission").len() == 2).then_some(()));
    w.wait_state(pid, "working", None);
    wait_for(SETTLE, "the permission alert to be withdrawn", || {
        w.alerts(pid, "permission")[1]["resolvedAt"].as_str().map(|_| ())
    });
    w.wait_state(pid, "waiting", Some("input"));
    assert!(proj.join("aw-tool-ran.txt").exists(), "the approved command ran");

    // Its session file's calls, as the API counted them: the stub sends 120
    // prompt tokens (64 of them cached) and 40 completion tokens; Cline
    // records the whole prompt as `inputTokens`.
    let d = wait_for(SETTLE, "the calls' usage", || {
        let d = w.show(pid);
        let n = c.calls();
        (n >= 5 && d["session"]["tokens"]["total"].as_u64() == Some(160 * n)).then_some(d)
    });
    let (n, t) = (c.calls(), &d["session"]["tokens"]);
    assert_eq!(
        (t["input"].as_u64(), t["output"].as_u64(), t["cacheRead"].as_u64(), t["cacheCreation"].as_u64()),
        (Some(56 * n), Some(40 * n), Some(64 * n), Some(0)),
        "{d}"
    );
    assert_eq!(d["session"]["projectPath"], proj.display().to_string(), "{d}");
    // Cline has no price for the stub's model (no `cost` in its metrics),
    // nor has agentwatch: no cost, never $0.
    assert_eq!(
        (&d["session"]["costUsd"], &d["session"]["unpricedModels"]),
        (&Value::Null, &serde_json::json!(["stub-model"])),
        "{d}"
    );

    c.tmux.type_line("main", "/exit");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real Cline CLI: make agents"]
fn cline_closed_at_the_prompt_completed_killed_mid_turn_or_at_a_permission_prompt_died() {
    let env = Env::new();
    let c = Cline::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let one = env.root.join("src/one");
    let a = c.start("a", &one);
    c.tmux.type_line("a", "hello");
    w.wait_state(a, "waiting", Some("input"));
    wait_for(SETTLE, "its session", || (w.show(a)["session"]["stateSignal"] == "registry").then_some(()));
    // Started while the first one's hub runs: the hub runs their sessions.
    wait_for(SETTLE, "Cline's hub", || c.hubs().first().copied());
    let two = env.root.join("src/two");
    let b = c.start("b", &two);
    c.tmux.type_line("b", "AW_LONG please");
    w.wait_state(b, "working", None);
    // The hub runs the session (`sessions.pid`); a CLI that could not reach
    // it in time (a loaded CI machine) runs it in its own process. Either
    // way the runner is known, and killing the CLI below must read as a
    // death.
    let runner = |cli: u32, cwd: &Path| {
        wait_for(SETTLE, "the session's runner", || {
            let r = c.runner(cwd)?;
            let mut tree = children(cli);
            tree.push(cli);
            (c.hubs().contains(&r) || tree.contains(&r)).then_some(r)
        })
    };
    let runs_b = runner(b, &two);
    println!("cline: b's session runs in pid {runs_b} (hubs {:?}, b {b})", c.hubs());
    let d = c.start("d", &env.root.join("src/three"));
    c.tmux.type_line("d", "run AW_TOOL please");
    w.wait_state(d, "waiting", Some("permission"));
    let runs_d = runner(d, &env.root.join("src/three"));
    println!("cline: d's session runs in pid {runs_d}");
    c.tmux.close("a");
    for pid in [b, d] {
        let mut all = children(pid);
        all.push(pid);
        same_agent(pid, &all);
        kill9(&all);
    }
    w.completed(a);
    w.died_once(b, "process exited mid-turn", "Cline in two died");
    w.died_once(d, "process exited with a permission prompt open", "Cline in three died");
}
