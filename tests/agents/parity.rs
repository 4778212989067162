//! The transcripts the real agents write, read by agentwatch and by ccusage:
//! the same tokens, the same cost (bench/parity compares them). Claude Code,
//! Codex, Gemini CLI and OpenCode, side by side.

use crate::claude::Claude;
use crate::codex::Codex;
use crate::gemini::Gemini;
use crate::harness::*;
use crate::opencode::OpenCode;
use crate::support::*;

/// Copies a directory tree.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else if e.file_type().unwrap().is_file() {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[test]
#[ignore = "drives the real Claude Code, Codex, Gemini CLI and OpenCode: make agents"]
fn what_the_real_agents_wrote_costs_the_same_in_agentwatch_and_ccusage() {
    let env = Env::new();
    let _daemon = env.daemon(1, &[]);
    let claude = Claude::new(&env);
    let codex = Codex::new(&env);
    let gemini = Gemini::new(&env);
    // OpenCode has no price for the stub: under a priced name both tools price it.
    let opencode = OpenCode::with_model(&env, "claude-sonnet-4-5");
    install_hooks(&env, "opencode");
    let (cw, xw) = (Watch { env: &env, agent: "claude-code" }, Watch { env: &env, agent: "codex" });
    let (gw, ow) = (Watch { env: &env, agent: "gemini-cli" }, Watch { env: &env, agent: "opencode" });
    let c = claude.start("claude", &env.root.join("src/a"));
    let x = codex.start("codex", &env.root.join("src/b"), &["--no-daemon"], false);
    let g = gemini.start("gemini", &env.root.join("src/c"));
    let o = opencode.start("opencode", &env.root.join("src/d"));
    // Plain turns, a streamed one, an approved tool call (two model calls).
    let tokens = |w: &Watch, pid: u32| w.show(pid)["session"]["tokens"]["total"].as_u64().unwrap_or(0);
    for (text, approve) in [("hello there", false), ("AW_SLOW please", false), ("run AW_TOOL please", true)] {
        let before = [tokens(&cw, c), tokens(&xw, x), tokens(&gw, g), tokens(&ow, o)];
        claude.prompt("claude", text);
        codex.tmux.type_line("codex", text);
        gemini.prompt("gemini", text);
        opencode.tmux.type_line("opencode", text);
        if approve {
            claude.tmux.wait_screen("claude", "the permission dialog", |s| s.contains("Do you want to proceed?"));
            claude.tmux.keys("claude", &["Enter"]);
            codex.approve("codex");
            gemini.tmux.wait_screen("gemini", "the permission prompt", |s| s.contains("Allow once"));
            gemini.tmux.keys("gemini", &["Enter"]);
            opencode.tmux.wait_screen("opencode", "the permission prompt", |s| s.contains("Permission required"));
            opencode.tmux.keys("opencode", &["Enter"]);
        }
        // The turn's usage is read, and the turn is over.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(SETTLE);
        loop {
            let now = [tokens(&cw, c), tokens(&xw, x), tokens(&gw, g), tokens(&ow, o)];
            if now.iter().zip(before).all(|(n, b)| *n > b) {
                break;
            }
            if std::time::Instant::now() > until {
                let logs = std::fs::read_dir(env.data.join("logs"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect::<String>();
                let tail: Vec<&str> = logs.lines().rev().take(60).collect();
                panic!(
                    "{text:?}: the turns' usage (Claude Code, Codex, Gemini CLI, OpenCode) went from {before:?} \
                     to {now:?} in {SETTLE} s; the daemon's log, newest first:\n{}",
                    tail.join("\n")
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        cw.wait_state(c, "waiting", Some("input"));
        xw.wait_state(x, "waiting", Some("input"));
        gw.wait_state(g, "waiting", Some("input"));
        ow.wait_state(o, "waiting", Some("input"));
    }
    // OpenCode's session: its database's usage, in its project, priced by agentwatch.
    let s = &ow.show(o)["session"];
    assert_eq!(s["projectPath"], env.root.join("src/d").display().to_string(), "{s}");
    assert!(s["costUsd"].as_f64().is_some_and(|c| c > 0.0), "{s}");
    // Gemini CLI's session: its chat's usage, priced, in its project.
    let s = &gw.show(g)["session"];
    assert_eq!(s["projectPath"], env.root.join("src/c").display().to_string(), "{s}");
    assert!(s["costUsd"].as_f64().is_some_and(|c| c > 0.0), "{s}");
    claude.prompt("claude", "/exit");
    codex.tmux.type_line("codex", "/exit");
    gemini.prompt("gemini", "/quit");
    opencode.tmux.type_line("opencode", "/exit");
    cw.wait_state(c, "completed", None);
    xw.wait_state(x, "completed", None);
    gw.wait_state(g, "completed", None);
    ow.wait_state(o, "completed", None);

    let corpus = env.root.join("corpus");
    copy_tree(&env.claude.join("projects"), &corpus.join("claude/projects"));
    copy_tree(&env.codex.join("sessions"), &corpus.join("codex/sessions"));
    copy_tree(&env.home.join(".gemini/tmp"), &corpus.join("gemini/.gemini/tmp"));
    // OpenCode's database, with its WAL if it has not been checkpointed.
    let oc = corpus.join("share/opencode");
    std::fs::create_dir_all(&oc).unwrap();
    for name in ["opencode.db", "opencode.db-wal"] {
        let from = env.home.join(".local/share/opencode").join(name);
        if from.exists() {
            std::fs::copy(&from, oc.join(name)).unwrap();
        }
    }
    let out = std::process::Command::new(repo_root().join("bench/parity"))
        .args(["--corpus", corpus.to_str().unwrap(), "--agentwatch", BIN])
        .args(["--timezones", "UTC,Asia/Kolkata", "--no-incremental", "-v"])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "bench/parity on the real transcripts:\n{text}");
    // Both agents were counted: agentwatch's report names both.
    let report = env.json(&["costs", "daily", "--breakdown"]);
    let models: Vec<String> = report["daily"][0]["modelBreakdowns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["modelName"].as_str().unwrap().to_string())
        .collect();
    assert!(
        models.iter().any(|m| m.starts_with("claude-"))
            && models.contains(&"gpt-5-codex".to_string())
            && models.contains(&"gemini-3.8-flash".to_string())
            && models.contains(&"claude-sonnet-4-5".to_string()),
        "{models:?}"
    );
    eprintln!("{text}");
}
