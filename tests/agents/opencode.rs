//! OpenCode 1.18, driven offline, with agentwatch's plugin installed (only
//! the plugin tells its turns: its database says nothing while a permission
//! waits, and nothing when it exits).

use std::path::Path;

use serde_json::json;

use crate::harness::*;
use crate::support::*;

const AGENT: &str = "opencode";
const TOOL: &str = "echo aw-tool-ran | tee aw-tool-ran.txt";

pub struct OpenCode<'a> {
    env: &'a Env,
    pub tmux: Tmux,
    _stub: Stub,
}

impl<'a> OpenCode<'a> {
    /// A custom openai-compatible provider pointing at the stub; bash asks.
    pub fn new(env: &'a Env) -> OpenCode<'a> {
        OpenCode::with_model(env, "stub-model")
    }

    /// The same, with the stub's model under another name (one that has a
    /// price, for the parity test: OpenCode has none for it, so it records
    /// a cost of 0 and the tools price the tokens).
    pub fn with_model(env: &'a Env, model: &str) -> OpenCode<'a> {
        let stub = Stub::start(env);
        let dir = env.home.join(".config/opencode");
        std::fs::create_dir_all(dir.join("node_modules")).unwrap();
        let config = json!({
            "provider": {"stub": {"npm": "@ai-sdk/openai-compatible", "name": "Stub",
                "options": {"baseURL": format!("{}/v1", stub.url()), "apiKey": "stub-key"},
                "models": {model: {"name": "Stub Model", "tool_call": true, "limit": {"context": 128000, "output": 4096}}}}},
            "model": format!("stub/{model}"), "small_model": format!("stub/{model}"),
            "autoupdate": false, "share": "disabled", "lsp": false, "formatter": false,
            "permission": {"bash": "ask"}
        });
        std::fs::write(dir.join("opencode.json"), config.to_string()).unwrap();
        // Offline, OpenCode would try to install @opencode-ai/plugin from
        // npm for the plugin folder for about 70 s: it is "installed" already.
        let lock = json!({"name": "x", "lockfileVersion": 3, "requires": true,
                          "packages": {"": {"dependencies": {"@opencode-ai/plugin": "*"}}}});
        std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();
        OpenCode { env, tmux: Tmux::new(), _stub: stub }
    }

    pub fn start(&self, name: &str, proj: &Path) -> u32 {
        let mut vars = base_vars(self.env);
        for k in [
            "OPENCODE_DISABLE_AUTOUPDATE",
            "OPENCODE_DISABLE_MODELS_FETCH",
            "OPENCODE_DISABLE_LSP_DOWNLOAD",
            "OPENCODE_DISABLE_SHARE",
        ] {
            vars.push((k.into(), "1".into()));
        }
        let pid = self.tmux.open(name, proj, &vars, &[agent_bin("opencode").display().to_string()]);
        self.tmux.wait_screen(name, "OpenCode's prompt", |s| s.contains("Ask anything"));
        pid
    }
}

fn watch(env: &Env) -> Watch<'_> {
    Watch { env, agent: AGENT }
}

#[test]
#[ignore = "drives the real OpenCode: make agents"]
fn opencode_every_state_with_agentwatchs_plugin() {
    let env = Env::new();
    quick_alerts(&env);
    let o = OpenCode::new(&env);
    let out = install_hooks(&env, AGENT);
    assert!(out.contains("plugin/agentwatch.js"), "{out}");
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/app");
    let pid = o.start("main", &proj);

    w.fresh_at_the_prompt(pid);

    o.tmux.type_line("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    assert_eq!(w.wait_alert(pid, "waiting")["title"], "OpenCode in app is waiting for you");
    // The plugin's session (OpenCode's own id) and the process are one.
    assert!(w.session_of(pid)["externalId"].as_str().is_some_and(|id| id.starts_with("ses_")));

    o.tmux.type_line("main", "run AW_TOOL please");
    let d = w.wait_state(pid, "waiting", Some("permission"));
    assert_eq!(d["session"]["pendingTool"], json!({"name": "bash", "summary": TOOL}));
    assert_eq!(w.wait_alert(pid, "permission")["title"], format!("OpenCode in app asks permission: bash({TOOL})"));
    o.tmux.wait_screen("main", "the permission prompt", |s| s.contains("Permission required"));
    o.tmux.keys("main", &["Enter"]);
    w.approved(pid);
    assert!(proj.join("aw-tool-ran.txt").exists(), "the approved command ran");

    // Rejected: the turn ends.
    o.tmux.type_line("main", "again AW_TOOL please");
    w.wait_state(pid, "waiting", Some("permission"));
    o.tmux.wait_screen("main", "the permission prompt", |s| s.contains("Permission required"));
    o.tmux.keys("main", &["Right", "Right", "Enter"]);
    w.wait_state(pid, "waiting", Some("input"));

    o.tmux.type_line("main", "/exit");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real OpenCode: make agents"]
fn opencode_closed_at_the_prompt_completed_killed_mid_turn_died() {
    let env = Env::new();
    let o = OpenCode::new(&env);
    install_hooks(&env, AGENT);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let a = o.start("a", &env.root.join("src/one"));
    w.wait_state(a, "waiting", Some("input"));
    let b = o.start("b", &env.root.join("src/two"));
    o.tmux.type_line("b", "AW_SLOW please");
    w.wait_state(b, "working", None);
    follow_tree(a);
    o.tmux.close("a");
    kill9(&[b]);
    ends_with_its_terminal(a);
    w.completed(a);
    w.died_once(b, "process exited mid-turn", "OpenCode in two died");
}
