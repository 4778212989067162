//! Qwen Code 0.15.10 (the newest that runs on Node 20), driven offline with
//! agentwatch's hooks installed (it writes nothing while a permission
//! prompt waits); its chats' usage against what the stub sent.

use std::path::Path;

use serde_json::json;

use crate::harness::*;
use crate::support::*;

const AGENT: &str = "qwen-code";
const TOOL: &str = "echo aw-tool-ran | tee aw-tool-ran.txt";

struct Qwen<'a> {
    env: &'a Env,
    tmux: Tmux,
    stub: Stub,
}

impl<'a> Qwen<'a> {
    /// An OpenAI-compatible key (no login), no update check, no telemetry.
    fn new(env: &'a Env) -> Qwen<'a> {
        let dir = env.home.join(".qwen");
        std::fs::create_dir_all(&dir).unwrap();
        let settings = json!({
            "security": {"auth": {"selectedType": "openai"}, "folderTrust": {"enabled": false}},
            "model": {"name": "stub-model"},
            "privacy": {"usageStatisticsEnabled": false},
            "telemetry": {"enabled": false},
            "general": {"enableAutoUpdate": false},
            "ide": {"enabled": false}
        });
        std::fs::write(dir.join("settings.json"), serde_json::to_string_pretty(&settings).unwrap()).unwrap();
        Qwen { env, tmux: Tmux::new(), stub: Stub::start(env) }
    }

    fn start(&self, name: &str, proj: &Path) -> u32 {
        let mut vars = base_vars(self.env);
        for (k, v) in [
            ("OPENAI_API_KEY", "stub-key".to_string()),
            ("OPENAI_BASE_URL", format!("{}/v1", self.stub.url())),
            ("OPENAI_MODEL", "stub-model".into()),
            ("QWEN_CODE_DISABLE_PRECONNECT", "1".into()),
        ] {
            vars.push((k.into(), v));
        }
        let pid = self.tmux.open(name, proj, &vars, &[agent_bin("qwen").display().to_string()]);
        self.tmux.wait_screen(name, "Qwen Code's prompt", |s| s.contains("Type your message"));
        pid
    }
}

fn watch(env: &Env) -> Watch<'_> {
    Watch { env, agent: AGENT }
}

#[test]
#[ignore = "drives the real Qwen Code: make agents"]
fn qwen_code_every_state_with_its_hooks() {
    let env = Env::new();
    quick_alerts(&env);
    let q = Qwen::new(&env);
    install_hooks(&env, AGENT);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/lib");
    let pid = q.start("main", &proj);

    w.fresh_at_the_prompt(pid);

    q.tmux.type_line("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    assert_eq!(w.wait_alert(pid, "waiting")["title"], "Qwen Code in lib is waiting for you");

    q.tmux.type_line("main", "run AW_TOOL please");
    let d = w.wait_state(pid, "waiting", Some("permission"));
    assert_eq!(d["session"]["pendingTool"], json!({"name": "run_shell_command", "summary": TOOL}));
    w.wait_alert(pid, "permission");
    q.tmux.wait_screen("main", "the permission prompt", |s| s.contains("Yes, allow once"));
    q.tmux.answer("main", &["Enter"], |s| s.contains("Yes, allow once"));
    w.approved(pid);
    assert!(proj.join("aw-tool-ran.txt").exists(), "the approved command ran");
    w.wait_state(pid, "waiting", Some("input"));

    // Its chat gives the usage, each call as the API counted it: the stub
    // sends 120 prompt tokens (64 of them cached) and 40 completion tokens
    // (8 of them reasoning), and Qwen Code records them in Gemini's shape.
    let calls = || -> u64 {
        let mut files = Vec::new();
        let mut dirs = vec![env.home.join(".qwen/projects")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().is_dir() { dirs.push(e.path()) } else { files.push(e.path()) }
            }
        }
        files
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(f).unwrap_or_default().lines().map(str::to_string).collect::<Vec<_>>()
            })
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
            .filter(|v| v["type"] == "assistant" && v["usageMetadata"].is_object())
            .count() as u64
    };
    let d = wait_for(SETTLE, "the chat's usage", || {
        let d = w.show(pid);
        let n = calls();
        (n >= 2 && d["session"]["tokens"]["input"].as_u64() == Some(56 * n)).then_some(d)
    });
    let (n, t) = (calls(), &d["session"]["tokens"]);
    assert_eq!(
        (t["output"].as_u64(), t["cacheRead"].as_u64(), t["total"].as_u64()),
        (Some(40 * n), Some(64 * n), Some(160 * n)),
        "{d}"
    );
    assert_eq!(d["session"]["projectPath"], proj.display().to_string(), "{d}");

    q.tmux.type_line("main", "/quit");
    w.completed(pid);
}

#[test]
#[ignore = "drives the real Qwen Code: make agents"]
fn qwen_code_closed_at_the_prompt_completed_killed_at_a_permission_prompt_died() {
    let env = Env::new();
    let q = Qwen::new(&env);
    install_hooks(&env, AGENT);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let a = q.start("a", &env.root.join("src/one"));
    w.wait_state(a, "waiting", Some("input"));
    let b = q.start("b", &env.root.join("src/two"));
    q.tmux.type_line("b", "run AW_TOOL please");
    w.wait_state(b, "waiting", Some("permission"));
    follow_tree(a);
    q.tmux.close("a");
    let mut all = children(b);
    all.push(b);
    // Qwen Code's CLI is a child of its launcher; killed together, the child
    // may outlive the launcher by a scan, and the session follows it.
    same_agent(b, &all);
    kill9(&all);
    w.completed(a);
    w.died_once(b, "process exited with a permission prompt open", "Qwen Code in two died");
}

#[test]
#[ignore = "drives the real Qwen Code: make agents"]
fn qwen_code_without_hooks_its_chat_tells_working_from_waiting() {
    let env = Env::new();
    let q = Qwen::new(&env);
    let _daemon = env.daemon(1, &[]);
    let w = watch(&env);
    let proj = env.root.join("src/plain");
    let pid = q.start("main", &proj);
    w.wait_state(pid, "waiting", Some("input"));
    q.tmux.type_line("main", "AW_SLOW please");
    w.wait_state(pid, "working", None);
    w.wait_state(pid, "waiting", Some("input"));
    // A permission prompt shows as working (nothing is written while it
    // waits); denying it ends the turn.
    q.tmux.type_line("main", "run AW_TOOL please");
    w.wait_state(pid, "working", None);
    q.tmux.wait_screen("main", "the permission prompt", |s| s.contains("Yes, allow once"));
    q.tmux.keys("main", &["Escape"]);
    let d = w.wait_state(pid, "waiting", Some("input"));
    assert_eq!(d["session"]["stateSignal"], "transcript", "{d}");
    assert!(!proj.join("aw-tool-ran.txt").exists(), "the denied command did not run");
    q.tmux.type_line("main", "/quit");
    w.completed(pid);
}
