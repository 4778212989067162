//! Wrong calls get one line and exit 2; failures get one line and exit 1;
//! never a panic or a backtrace.

use crate::support::*;

fn one_line_error(o: &std::process::Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(o.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    assert!(err.starts_with("agentwatch: "), "{err}");
    err
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let env = Env::new();
    for (args, want) in [
        (vec!["costs", "daily", "--bogus"], "--bogus"),
        (vec!["costs", "daily", "--since", "yesterday"], "not a date"),
        (vec!["costs", "daily", "--timezone", "Mars/Olympus"], "unknown timezone"),
        (vec!["costs", "daily", "--format", "xml"], "xml"),
        (vec!["costs", "daily", "--since", "2026-11-02", "--until", "2026-11-01"], "is after"),
        (vec!["costs", "daily", "--agent", "bad agent!"], "not an agent type"),
        (vec!["sessions", "history", "--range", "fortnight"], "fortnight"),
        (vec!["sessions", "--limit", "many"], "many"),
        (vec!["frobnicate"], "frobnicate"),
        (vec!["prices", "update", "--from", "/nonexistent/prices.json"], "no such file"),
    ] {
        let err = one_line_error(&env.run(&args), 2);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let env = Env::new();
    let o = env.run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8_lossy(&o.stdout);
    for cmd in ["ingest", "costs", "sessions", "prices"] {
        assert!(help.contains(cmd), "{help}");
    }
    let o = env.run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("agentwatch "));
    // A missing subcommand shows help, as a usage error.
    assert_eq!(env.run(&["costs"]).status.code(), Some(2));
}

#[test]
fn a_data_dir_that_is_a_file_exits_1() {
    let env = Env::new();
    let file = env.root.join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = one_line_error(&env.run(&["--data-dir", file.to_str().unwrap(), "costs", "daily"]), 1);
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn a_damaged_database_is_moved_aside_and_rebuilt_from_the_transcripts() {
    let env = Env::new();
    let f = env.claude_file("/home/u/web-app", "s1.jsonl");
    write_lines(&f, &lines(&[claude("2026-11-20T10:00:01.000Z", "s1", "msg_1", "req_1", SONNET, U(100, 50, 0, 0))]));
    let clean = env.json(&["costs", "daily"]);
    assert_eq!(clean["totals"]["outputTokens"], 50);
    let db = env.data.join("agentwatch.db");
    let _ = std::fs::remove_file(env.data.join("agentwatch.db-wal"));
    let _ = std::fs::remove_file(env.data.join("agentwatch.db-shm"));
    std::fs::write(&db, vec![b'x'; 4096]).unwrap();

    let o = env.run(&["costs", "daily", "--format", "json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("was damaged or not agentwatch's") && err.contains("agentwatch.db.damaged-"), "{err}");
    let again: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(again["totals"], clean["totals"], "usage rebuilt from the agents' files");
    // The damaged file is kept, byte for byte, next to the new database.
    let kept: Vec<_> = std::fs::read_dir(&env.data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("agentwatch.db.damaged-"))
        .filter(|p| !p.to_string_lossy().ends_with("-wal") && !p.to_string_lossy().ends_with("-shm"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), vec![b'x'; 4096]);
    // Only once: the next run is quiet.
    let o = env.run(&["costs", "daily"]);
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_database_from_a_newer_agentwatch_is_refused_and_kept() {
    let env = Env::new();
    env.ok(&["ingest"]);
    let db = env.data.join("agentwatch.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.pragma_update(None, "user_version", 999).unwrap();
    drop(c);
    let err = one_line_error(&env.run(&["costs", "daily"]), 1);
    assert!(err.contains("newer agentwatch"), "{err}");
    let c = rusqlite::Connection::open(&db).unwrap();
    let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(v, 999, "left as it was");
}

#[test]
fn an_unreadable_data_dir_exits_1() {
    // Root ignores permissions; a path under a file can never be created.
    let env = Env::new();
    let file = env.root.join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let bad = file.join("data");
    let err = one_line_error(&env.run(&["--data-dir", bad.to_str().unwrap(), "ingest"]), 1);
    assert!(err.contains("plain-file"), "{err}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::process::Stdio;
    let env = Env::new();
    let mut child = env
        .command(&["prices", "show", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

// --- every subcommand, systematically -------------------------------------------

/// Every command path (`[]`, `["costs"]`, `["costs", "daily"]`, …), read from
/// `--help`, so a new subcommand cannot be left out of the tests below.
fn command_paths(env: &Env) -> Vec<Vec<String>> {
    fn walk(env: &Env, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = env.ok(&args);
        out.push(path.clone());
        let mut in_commands = false;
        for line in help.lines() {
            if line == "Commands:" {
                in_commands = true;
            } else if !line.starts_with("  ") {
                in_commands = false;
            } else if in_commands && !line.starts_with("   ") {
                let mut sub = path.clone();
                sub.push(line.split_whitespace().next().unwrap().to_string());
                walk(env, sub, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(env, Vec::new(), &mut out);
    out
}

/// Commands that only group others: they get no values of their own.
fn is_group(path: &[String]) -> bool {
    matches!(
        path.iter().map(String::as_str).collect::<Vec<_>>()[..],
        [] | ["costs"] | ["prices"] | ["api"] | ["hooks"] | ["telemetry"] | ["export"]
    )
}

#[test]
fn every_command_refuses_an_unknown_flag_with_one_line() {
    let env = Env::new();
    let paths = command_paths(&env);
    assert!(paths.len() >= 25, "{paths:?}");
    // `hook` is the exception: see the_hook_never_fails_the_agent_and_logs_instead.
    for path in paths.iter().filter(|p| p.as_slice() != ["hook"]) {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--bogus");
        let err = one_line_error(&env.run(&args), 2);
        assert!(err.contains("'--bogus'"), "{args:?}: {err}");
        // A flag's value missing.
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--data-dir");
        let err = one_line_error(&env.run(&args), 2);
        assert!(err.contains("--data-dir <DIR>"), "{args:?}: {err}");
    }
}

/// One bad call: arguments, extra environment, the exit status, and a text
/// the one line must contain.
struct Case {
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    code: i32,
    says: String,
}

fn case(args: &[&str], code: i32, says: &str) -> Case {
    Case { args: args.iter().map(|a| a.to_string()).collect(), env: Vec::new(), code, says: says.to_string() }
}

impl Case {
    fn with(mut self, k: &'static str, v: &Path) -> Case {
        self.env.push((k, v.display().to_string()));
        self
    }
}

use std::path::Path;

#[test]
fn every_command_with_bad_values_unknown_or_ambiguous_ids_and_unwritable_paths() {
    let env = Env::new();
    // Two sessions whose ids share a prefix, neither with a process.
    for id in ["dup-1", "dup-2"] {
        let payload = format!(r#"{{"session_id":"{id}","cwd":"/home/u/app","hook_event_name":"Stop"}}"#);
        let mut c = env.command(&["hook"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
        std::io::Write::write_all(&mut c.stdin.take().unwrap(), payload.as_bytes()).unwrap();
        assert!(c.wait().unwrap().success());
    }
    let root = &env.root;
    // A regular file: nothing can be created under it, not even by root.
    let plain = root.join("plain");
    std::fs::write(&plain, "x").unwrap();
    let under_file = plain.join("data");
    let under = under_file.to_str().unwrap();
    let dir = root.join("a-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let list = root.join("prices.json");
    std::fs::write(&list, r#"{"claude-x-9": {"input_cost_per_token": 2e-6, "output_cost_per_token": 1e-5, "litellm_provider": "anthropic", "mode": "chat"}}"#).unwrap();
    let junk = root.join("junk.json");
    std::fs::write(&junk, "[1, 2, 3]").unwrap();
    let damaged_api = root.join("damaged-api");
    std::fs::create_dir_all(&damaged_api).unwrap();
    std::fs::write(damaged_api.join("api.json"), "{").unwrap();
    // A home whose agent settings cannot be read or written.
    let bad_home = root.join("bad-home");
    std::fs::create_dir_all(bad_home.join(".codex/config.toml")).unwrap();
    std::fs::write(bad_home.join(".claude"), "x").unwrap();
    std::fs::write(bad_home.join(".cursor"), "x").unwrap();
    std::fs::write(bad_home.join(".claude.json"), "{not json").unwrap();
    let (dir_s, list_s, junk_s) = (dir.to_str().unwrap(), list.to_str().unwrap(), junk.to_str().unwrap());
    let damaged_s = damaged_api.to_str().unwrap();

    let cases = vec![
        case(&["ingest", "--format", "xml"], 2, "'xml'"),
        case(&["--data-dir", under, "ingest"], 1, "Not a directory"),
        case(&["--data-dir", "/proc/agentwatch-test", "ingest"], 1, "/proc/agentwatch-test"),
        case(&["costs", "daily", "--since", "yesterday"], 2, "not a date"),
        case(&["costs", "daily", "--timezone", "Mars/Olympus"], 2, "unknown timezone"),
        case(&["--data-dir", under, "costs", "daily"], 1, "Not a directory"),
        case(&["costs", "weekly", "--until", "2026-02-30"], 2, "not a date"),
        case(&["costs", "monthly", "--agent", "bad agent!"], 2, "not an agent type"),
        case(&["costs", "session", "--since", "2026-11-02", "--until", "2026-11-01"], 2, "is after"),
        case(&["costs", "blocks", "--format", "csv"], 2, "'csv'"),
        case(&["--data-dir", under, "costs", "blocks"], 1, "Not a directory"),
        case(&["sessions", "--limit", "many"], 2, "'many'"),
        case(&["sessions", "--source", "martian"], 2, "'martian'"),
        case(&["sessions", "--agent-type", ""], 2, "not an agent type"),
        case(&["--data-dir", under, "sessions"], 1, "Not a directory"),
        case(&["sessions", "history", "--range", "fortnight"], 2, "unknown range"),
        case(&["sessions", "history", "--limit", "-3"], 2, "'-3'"),
        case(&["sessions", "stats", "--range", "x"], 2, "unknown range"),
        case(&["sessions", "show"], 2, "<ID>"),
        case(&["sessions", "show", "nope"], 1, "no session matches 'nope'"),
        case(&["sessions", "show", "dup"], 2, "matches 2 sessions"),
        case(&["sessions", "show", ""], 2, "session id"),
        case(&["sessions", "show", "%"], 1, "no session matches '%'"),
        case(&["prices", "show", "--format", "yaml"], 2, "'yaml'"),
        case(&["--data-dir", under, "prices", "show"], 1, "Not a directory"),
        case(&["prices", "update"], 2, "--from <FILE>"),
        case(&["prices", "update", "--from", "/nonexistent/prices.json"], 2, "no such file"),
        case(&["prices", "update", "--from", dir_s], 2, "is a directory"),
        case(&["prices", "update", "--from", junk_s], 2, "not a JSON price list"),
        case(&["--data-dir", under, "prices", "update", "--from", list_s], 1, "Not a directory"),
        case(&["daemon", "--port", "70000"], 2, "70000"),
        case(&["daemon", "--scan-interval", "0"], 2, "seconds from 0.01 to 60"),
        case(&["--data-dir", under, "daemon", "--no-api"], 1, "Not a directory"),
        case(&["daemon", "--no-api"], 1, "config.toml").with("AGENTWATCH_CONFIG_DIR", &plain),
        case(&["kill"], 2, "<SESSION>"),
        case(&["kill", "nope", "--yes"], 1, "no session matches 'nope'"),
        case(&["kill", "dup", "--yes"], 2, "matches 2 sessions"),
        case(&["kill", "dup-1", "--yes"], 1, "no running process"),
        case(&["kill", "dup-1", "--grace", "soon"], 2, "'soon'"),
        case(&["--data-dir", under, "kill", "dup-1", "--yes"], 1, "Not a directory"),
        case(&["alerts", "--limit", "x"], 2, "'x'"),
        case(&["--data-dir", under, "alerts"], 1, "Not a directory"),
        case(&["alerts", "snooze"], 2, "<TARGET>"),
        case(&["alerts", "snooze", "nope"], 1, "no session matches 'nope'"),
        case(&["alerts", "snooze", "dup"], 2, "matches 2 sessions"),
        case(&["alerts", "snooze", "all", "--for", "5x"], 2, "not a duration"),
        case(&["alerts", "snooze", "all", "--for", "999999999999999d"], 2, "too long"),
        case(&["--data-dir", under, "alerts", "resume"], 1, "Not a directory"),
        case(&["status", "--format", "x"], 2, "'x'"),
        case(&["--data-dir", under, "status"], 1, "Not a directory"),
        case(&["agents", "--format", "yaml"], 2, "'yaml'"),
        case(&["--data-dir", under, "agents"], 1, "Not a directory"),
        case(&["--data-dir", under, "api", "info"], 1, "Not a directory"),
        case(&["--data-dir", damaged_s, "api", "info"], 1, "damaged"),
        case(&["--data-dir", under, "api", "rotate-token"], 1, "Not a directory"),
        case(&["api", "bogus"], 2, "'bogus'"),
        case(&["limits", "--format", "csv"], 2, "'csv'"),
        case(&["--data-dir", under, "limits"], 1, "Not a directory"),
        case(&["statusline", "--then"], 2, "--then <COMMAND>"),
        case(&["statusline", "install"], 2, "--agent <AGENT>"),
        case(&["statusline", "install", "--agent", "codex"], 2, "only Claude Code has a status line command"),
        case(&["statusline", "install", "--agent", "claude-code"], 1, ".claude/settings.json").with("HOME", &bad_home),
        case(&["statusline", "uninstall", "--agent", "martian"], 2, "unknown agent 'martian'"),
        case(&["telemetry", "install"], 2, "--agent <AGENT>"),
        case(
            &["telemetry", "install", "--agent", "cursor"],
            2,
            "telemetry install knows claude-code, codex and gemini-cli",
        ),
        case(&["telemetry", "install", "--agent", "codex"], 1, "the API has not run yet"),
        case(&["telemetry", "uninstall", "--agent", "martian"], 2, "unknown agent 'martian'"),
        case(&["export", "status", "--format", "csv"], 2, "'csv'"),
        case(&["export", "status"], 1, "config.toml").with("AGENTWATCH_CONFIG_DIR", &plain),
        case(&["hooks", "install"], 2, "--agent <AGENT>"),
        case(&["hooks", "install", "--agent", "martian"], 2, "unknown agent 'martian'"),
        case(&["hooks", "install", "--agent", "cursor"], 2, "try `mcp-proxy install --agent cursor-agent`"),
        case(&["hooks", "install", "--agent", "kimi"], 2, "Kimi has no hooks, MCP proxy, status line or telemetry"),
        case(
            &["mcp-proxy", "install", "--agent", "qwen"],
            2,
            "mcp-proxy install knows claude-code, codex and cursor-agent",
        ),
        case(&["hooks", "install", "--agent", "claude-code"], 1, ".claude/settings.json").with("HOME", &bad_home),
        case(&["hooks", "uninstall", "--agent", "codex"], 1, "config.toml: Is a directory").with("HOME", &bad_home),
        case(&["hooks", "uninstall", "--agent", "martian"], 2, "unknown agent 'martian'"),
        case(&["mcp-proxy"], 2, "give the MCP server to run"),
        case(&["mcp-proxy", "--label"], 2, "--label <NAME>"),
        case(&["mcp-proxy", "--", "/nonexistent/server"], 1, "cannot start the MCP server"),
        case(&["mcp-proxy", "install", "--agent", "martian"], 2, "unknown agent 'martian'"),
        case(&["mcp-proxy", "install", "--agent", "claude-code"], 1, "not valid JSON").with("HOME", &bad_home),
        case(&["mcp-proxy", "uninstall"], 2, "--agent <AGENT>"),
        case(&["mcp-proxy", "uninstall", "--agent", "cursor"], 1, ".cursor/mcp.json").with("HOME", &bad_home),
    ];
    let paths = command_paths(&env);
    let mut covered: Vec<&Vec<String>> = Vec::new();
    for c in &cases {
        let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let mut cmd = env.command(&args);
        cmd.env("RUST_BACKTRACE", "1");
        for (k, v) in &c.env {
            cmd.env(k, v);
        }
        let err = one_line_error(&cmd.output().unwrap(), c.code);
        assert!(err.contains(&c.says), "{args:?}: {err}");
        // The command this case is about: the longest path its words start with.
        let words: Vec<&str> = match args.first() {
            Some(&"--data-dir") => args[2..].to_vec(),
            _ => args.clone(),
        };
        if let Some(p) = paths
            .iter()
            .filter(|p| p.len() <= words.len() && p.iter().zip(&words).all(|(a, b)| a == b))
            .max_by_key(|p| p.len())
        {
            covered.push(p);
        }
    }
    let missing: Vec<&Vec<String>> =
        paths.iter().filter(|p| !is_group(p) && p.as_slice() != ["hook"] && !covered.contains(p)).collect();
    assert!(missing.is_empty(), "commands without a bad-input case: {missing:?}");
}

#[test]
fn the_hook_never_fails_the_agent_and_logs_instead() {
    // Agents run `agentwatch hook` themselves; for Claude Code exit 2 would
    // block the tool call. Whatever is wrong, it exits 0 quietly and logs.
    let env = Env::new();
    let plain = env.root.join("plain");
    std::fs::write(&plain, "x").unwrap();
    let under = plain.join("data");
    for (args, stdin) in [
        (vec!["hook"], "not json"),
        (vec!["hook"], r#"{"hook_event_name":"Stop"}"#),
        (vec!["hook", "--agent", "martian"], "{}"),
        (vec!["hook", "--agent", "codex", "{oops"], ""),
        (vec!["--data-dir", under.to_str().unwrap(), "hook"], r#"{"session_id":"s","hook_event_name":"Stop"}"#),
        // A hook installed by another version, with a flag this one lacks.
        (vec!["hook", "--bogus"], "{}"),
        (vec!["-v", "hook", "--agent"], "{}"),
    ] {
        let mut c = env
            .command(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A hook that fails before reading its input closes the pipe early.
        let _ = std::io::Write::write_all(&mut c.stdin.take().unwrap(), stdin.as_bytes());
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let log = std::fs::read_to_string(env.data.join("logs/hooks.log")).unwrap();
    assert_eq!(log.lines().count(), 6, "{log}");
    assert!(
        log.contains("not JSON") && log.contains("no session_id") && log.contains("unknown agent 'martian'"),
        "{log}"
    );
    assert!(log.contains("hook called wrongly: unexpected argument '--bogus'"), "{log}");
    assert!(log.contains("hook called wrongly: a value is required for '--agent <AGENT>'"), "{log}");
    // Help is still help.
    let o = env.run(&["hook", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Usage"));
}
