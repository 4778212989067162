//! GitHub Copilot CLI 1.0.102, driven offline against the model stub through
//! its own provider settings (`COPILOT_PROVIDER_BASE_URL`, `COPILOT_OFFLINE`),
//! without hooks: its event log tells the states (a permission prompt
//! included), its session store the usage.

use std::path::Path;

use serde_json::json;

use crate::harness::*;
use crate::support::*;

const AGENT: &str = "copilot";
const TOOL: &str = "echo aw-tool-ran | tee aw-tool-ran.txt";

struct Copilot<'a> {
    env: &'a Env,
    tmux: Tmux,
    stub: Stub,
}

impl<'a> Copilot<'a> {
    fn new(env: &'a Env) -> Copilot<'a> {
        Copilot { env, tmux: Tmux::new(), stub: Stub::start(env) }
    }

    /// Starts `copilot` in `proj` and trusts the folder.
    fn start(&self, name: &str, proj: &Path) -> u32 {
        let mut vars = base_vars(self.env);
        // The CLI unpacks itself once into its package cache: one for all tests.
        let cache = repo_root().join("tests/agents/node_modules/.copilot-cache");
        for (k, v) in [
            ("COPILOT_OFFLINE", "1".to_string()),
            ("COPILOT_AUTO_UPDATE", "false".into()),
            ("COPILOT_PROVIDER_TYPE", "openai".into()),
            ("COPILOT_PROVIDER_BASE_URL", format!("{}/v1", self.stub.url())),
            ("COPILOT_PROVIDER_API_KEY", "stub-key".into()),
            ("COPILOT_MODEL", "stub-model".into()),
            ("COPILOT_PKG_CACHE_HOME", cache.display().to_string()),
        ] {
            vars.push((k.into(), v));
        }
        let pid = self.tmux.open(name, proj, &vars, &[agent_bin("copilot").display().to_string()]);
        self.tmux
            .wait_screen(name, "the folder trust question", |s| s.contains("Do you trust the files in this folder?"));
        self.tmux.keys(name, &["Enter"]);
        self.tmux
            .wait_screen(name, "Copilot's prompt", |s| s.contains("? help") && !s.contains("Confirm folder trust"));
        pid
    }
}

fn watch(env: &Env) -> Watch<'_> {
    Watch { env, agent: AGENT }
}

#[test]
#[ignore = "drives the real Copilot CLI: make agents"]
fn copilot_cli_every_state_from_its_event_log_and_its_usage_from_its_store() {
    let env = Env::new();
    quick_alerts(&env);
    let c = Copilot::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/lib");
    let pid = c.start("main", &proj);

    w.fresh_at_the_prompt(pid);

    c.tmux.type_line("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    assert_eq!(w.wait_alert(pid, "waiting")["title"], "Copilot in lib is waiting for you");

    c.tmux.type_line("main", "run AW_TOOL please");
    let d = w.wait_state(pid, "waiting", Some("permission"));
    assert_eq!(d["session"]["pendingTool"], json!({"name": "bash", "summary": TOOL}));
    assert_eq!(d["session"]["stateSignal"], "transcript", "{d}");
    w.wait_alert(pid, "permission");
    c.tmux.wait_screen("main", "the permission prompt", |s| s.contains("Do you want to run this command?"));
    c.tmux.keys("main", &["Enter"]);
    w.approved(pid);
    assert!(proj.join("aw-tool-ran.txt").exists(), "the approved command ran");

    // The session store's calls, as the API counted them: the stub sends
    // 120 prompt tokens (64 cached) and 40 completion tokens (8 reasoning).
    let d = wait_for(SETTLE, "the three calls' usage", || {
        let d = w.show(pid);
        (d["session"]["tokens"]["total"].as_u64() == Some(3 * 160)).then_some(d)
    });
    let t = &d["session"]["tokens"];
    assert_eq!(
        (t["input"].as_u64(), t["output"].as_u64(), t["cacheRead"].as_u64()),
        (Some(3 * 56), Some(3 * 40), Some(3 * 64)),
        "{d}"
    );
    assert_eq!(d["session"]["projectPath"], proj.display().to_string(), "{d}");

    c.tmux.type_line("main", "/exit");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real Copilot CLI: make agents"]
fn copilot_cli_closed_at_the_prompt_completed_killed_at_a_permission_prompt_died() {
    let env = Env::new();
    let c = Copilot::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let a = c.start("a", &env.root.join("src/one"));
    w.wait_state(a, "waiting", Some("input"));
    let b = c.start("b", &env.root.join("src/two"));
    c.tmux.type_line("b", "run AW_TOOL please");
    w.wait_state(b, "waiting", Some("permission"));
    follow_tree(a);
    c.tmux.close("a");
    // The launcher (node) and its native CLI, killed together.
    let mut all = children(b);
    all.push(b);
    same_agent(b, &all);
    kill9(&all);
    w.completed(a);
    w.died_once(b, "process exited with a permission prompt open", "Copilot in two died");
}
